"""Solver checkpoints: everything a run needs to carry on as if it had never stopped.

A checkpoint is one `.npz` file written by `tinygrad_edu.save` (every array a member, the
structure JSON), read back with `allow_pickle=False`: loading it never runs code. It holds

- `params`: the weights training had reached (a Module's state_dict, buffers included; a
  course model's `params` and its batchnorm running statistics `bn_params`) -- not the best
  ones `train()` restores at its end, which are `best_params` beside `best_val_acc`;
- `optimizer`: the optimizer's class and `state_dict()` (momentum buffers, Adam's moments
  and step counts, each group's current lr), or a course model's per-parameter configs
  (velocity, cache, m, v, t, learning_rate);
- `scheduler`: the learning-rate scheduler's class and `state_dict()`, or None;
- `counters`: iterations and epochs done, the early-stopping count, the first loss (the
  divergence test's yardstick), training time, whether the run diverged or stopped early;
- `history`: loss, accuracy and loss-per-check histories;
- `rng`: the states of the Solver's generator (minibatches, accuracy subsamples), of the
  library's default generator (dropout masks without a generator of their own) and of
  every generator a layer holds (`module.generator`);
- `setup`: batch size, training-set size and update rule, checked on loading: with other
  values the iteration and epoch counters would not mean the same thing;
- `meta`: whatever the caller attached (the CLI: the model's constructor and the
  preprocessing, so that `tinygrad-edu predict` can use the file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.creation import default_generator, numpy_generator
from tinygrad_edu.errors import DataFormatError
from tinygrad_edu.serialization import load, save

FORMAT = "tinygrad_edu Solver checkpoint"
VERSION = 1
_COUNTERS = ("iteration", "epoch", "_since_best", "_loss_mark", "_first_loss", "train_time",
             "diverged", "stopped_early", "best_val_acc")


def _copy(value: Any) -> Any:
    """A deep copy of dicts, lists and arrays: a checkpoint never shares live memory."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copy(v) for v in value)
    return value


def _rule_name(rule: Any) -> str:
    if isinstance(rule, str):
        return rule
    if hasattr(rule, "param_groups"):  # an optimizer object
        return type(rule).__name__
    return getattr(rule, "__name__", type(rule).__name__)  # a course model's rule function


def _layer_generators(model: Any) -> dict[str, np.random.Generator]:
    """Generators that layers hold (Dropout(generator=...)), by module name."""
    found: dict[str, np.random.Generator] = {}
    for name, module in getattr(model, "named_modules", lambda: [])():
        generator = getattr(module, "generator", None)
        if generator is not None:
            found[name] = numpy_generator(generator)
    return found


def solver_state(solver: Any) -> dict[str, Any]:
    """The Solver's whole training state as a dict of arrays, numbers and strings."""
    if solver.autograd_model:
        optimizer = {"class": type(solver.optimizer).__name__,
                     "state": solver.optimizer.state_dict()}
    else:
        optimizer = {"class": _rule_name(solver.update_rule),
                     "configs": _copy(solver.optim_configs)}
    scheduler = None if solver.scheduler is None else {
        "class": type(solver.scheduler).__name__, "state": solver.scheduler.state_dict()}
    params = solver.last_params if solver.last_params is not None else solver._params_snapshot()
    rng = {"solver": solver.rng.bit_generator.state,
           "default": default_generator().bit_generator.state,
           "layers": {k: g.bit_generator.state
                      for k, g in _layer_generators(solver.model).items()}}
    return {"format": FORMAT, "version": VERSION,
            "setup": {"batch_size": solver.batch_size, "num_train": len(solver.X_train),
                      "update_rule": _rule_name(solver.update_rule),
                      "num_epochs": solver.num_epochs},
            "params": params, "bn_params": _copy(getattr(solver.model, "bn_params", None)),
            "best_params": solver.best_params, "optimizer": optimizer, "scheduler": scheduler,
            "counters": {k: getattr(solver, k) for k in _COUNTERS},
            "history": solver.history, "rng": rng, "meta": solver.checkpoint_meta}


def write(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write `state` to `path` through a temporary file in the same directory: a run
    interrupted while writing leaves the previous checkpoint whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        save(state, partial)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return path


def read(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by `Solver.save_checkpoint`, checked to be one."""
    state = load(path)
    if isinstance(state, dict) and state.get("format") == FORMAT:
        if state.get("version") != VERSION:
            raise DataFormatError(f"Solver.load_checkpoint: '{path}' is a version "
                                  f"{state.get('version')} checkpoint; this library reads "
                                  f"version {VERSION}")
        return state
    if isinstance(state, dict) and "epoch" in state and any(k.startswith("param/")
                                                            for k in state):
        raise DataFormatError(
            f"Solver.load_checkpoint: '{path}' is an old checkpoint (weights and histories "
            "only: no optimizer state, counters or generator state), so training cannot "
            "resume from it exactly; read its weights with numpy.load (keys 'param/...') "
            "and start a new run from them")
    raise DataFormatError(f"Solver.load_checkpoint: '{path}' is not a Solver checkpoint "
                          "(expected a file written by Solver.save_checkpoint)")


def check_setup(solver: Any, state: dict[str, Any], where: str) -> None:
    """Refuse a checkpoint whose run was set up differently, before anything changes."""
    setup = state["setup"]
    now = {"batch_size": solver.batch_size, "num_train": len(solver.X_train),
           "update_rule": _rule_name(solver.update_rule)}
    differ = [f"{k} {setup[k]!r} there, {now[k]!r} here" for k in now if setup[k] != now[k]]
    scheduler = state["scheduler"]
    has = None if solver.scheduler is None else type(solver.scheduler).__name__
    if (scheduler and scheduler["class"]) != has:
        differ.append(f"scheduler {scheduler and scheduler['class']} there, {has} here")
    if solver.autograd_model and state["optimizer"]["class"] != type(solver.optimizer).__name__:
        differ.append(f"optimizer {state['optimizer']['class']} there, "
                      f"{type(solver.optimizer).__name__} here")
    if differ:
        raise ValueError(f"{where}: the checkpoint's run was set up differently ("
                         f"{'; '.join(differ)}); resuming needs the same setup. To start a "
                         "new run from its weights, load them into the model instead")


def restore(solver: Any, state: dict[str, Any]) -> None:
    """Put a checked checkpoint's state into `solver` (and the generators)."""
    solver._restore(state["params"])
    if state["bn_params"] is not None:
        solver.model.bn_params[:] = _copy(state["bn_params"])
    solver.best_params = state["best_params"]
    solver.last_params = None
    if solver.autograd_model:
        solver.optimizer.load_state_dict(state["optimizer"]["state"])
    else:
        solver.optim_configs = _copy(state["optimizer"]["configs"])
    if solver.scheduler is not None:
        solver.scheduler.load_state_dict(state["scheduler"]["state"])
    if solver.checkpoint_meta is None:
        solver.checkpoint_meta = state["meta"]
    for key, value in state["counters"].items():
        setattr(solver, key, value)
    for key, values in state["history"].items():
        setattr(solver, key, list(values))
    solver.rng.bit_generator.state = state["rng"]["solver"]
    default_generator().bit_generator.state = state["rng"]["default"]
    layers = _layer_generators(solver.model)
    for name, generator_state in state["rng"]["layers"].items():
        if name in layers:
            layers[name].bit_generator.state = generator_state
