"""Hyperparameter sweeps, the courses' way: train every combination, keep the best.

    grid = parse_grid("lr=1e-3,1e-2 hidden=100,300 reg=0,1e-3")
    result = grid_search(None, grid, splits, epochs=3, out_dir="out/sweep")
    print(result.table())            # sorted by validation accuracy
    model = result.best_model

`build(**kwargs) -> model` makes a fresh model (an nn.Module, or a course model with a
`params` dict) from one combination. The grid keys the Solver understands go to the Solver
and never to build: `lr`/`learning_rate`, `momentum`, `beta1`, `beta2`, `decay_rate`,
`epsilon`, `weight_decay` (optim_config), `lr_decay`, `batch_size`, `epochs`/`num_epochs`,
`update_rule`/`optimizer`. Every other key is a keyword argument of build, e.g. `hidden` and
`reg` for `lambda hidden, reg: TwoLayerNet(D, hidden, C, reg=reg)`. With `build=None` an
MLP is built from the data's sizes: keys `hidden` (an int, or `256x128` for two layers;
default 100), `activation`, `dropout` and `reg` (as the optimizer's weight_decay, the
gradient of 0.5 reg ||W||^2).

Every key and value is checked before the first run (`check_grid`). A run is 'diverged'
when its loss becomes NaN/Inf or explodes (the Solver's check, which stops it) or when its
final training loss (the mean since the last accuracy check) is above its starting loss (the
first batch's, before any step): a run stuck at chance, e.g. Adam at lr=1, has learnt
nothing whatever its best validation accuracy says. Runs not started because the time
budget ran out are 'skipped'. `time_s` is each run's wall time (building, training,
evaluating); with a test split (`Splits`, or X_test/y_test in the dict) `test_acc` is the
accuracy of the parameters kept (the best validation check's) on it.
Each run starts from `manual_seed(seed)` and the Solver's `seed`, so runs differ only in
their hyperparameters. With `out_dir`, the runs go to `sweep.json` and a heatmap of best
validation accuracy over two grid axes to `heatmap.png`.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.creation import manual_seed
from tinygrad_edu.sweep._checks import OPTIM_KEYS as _OPTIM_KEYS
from tinygrad_edu.sweep._checks import SOLVER_KEYS as _SOLVER_KEYS
from tinygrad_edu.sweep._checks import check_values
from tinygrad_edu.sweep._result import SweepResult, SweepRun, params_text, write_outputs
from tinygrad_edu.train import Solver
from tinygrad_edu.train.rules import rule_name

__all__ = ["parse_grid", "check_grid", "heatmap_axes", "grid_search", "SweepResult",
           "SweepRun"]
_TUPLE = re.compile(r"^\d+(x\d+)+$")


def _value(token: str) -> Any:
    if _TUPLE.match(token):
        return tuple(int(t) for t in token.split("x"))
    try:
        return int(token)
    except ValueError:
        pass
    try:
        value = float(token)
    except ValueError:
        return token
    if math.isnan(value):
        raise ValueError(f"parse_grid: nan is not a hyperparameter value (in {token!r})")
    return value


def parse_grid(text: str) -> dict[str, list[Any]]:
    """'lr=1e-3,1e-2 hidden=100,300 reg=0,1e-3' -> {'lr': [0.001, 0.01], 'hidden': [100,
    300], 'reg': [0, 0.001]}: space-separated `key=v1,v2,...` terms; each value becomes an
    int, a float, a tuple of ints ('256x128') or else stays a string ('adam')."""
    grid: dict[str, list[Any]] = {}
    terms = text.split()
    if not terms:
        raise ValueError("parse_grid: the grid is empty; write terms like "
                         "'lr=1e-3,1e-2 hidden=100,300'")
    for term in terms:
        key, sep, values = term.partition("=")
        if not sep or not key or not values:
            raise ValueError(f"parse_grid: term {term!r} must look like key=v1,v2,... "
                             "(e.g. 'lr=1e-3,1e-2'; no spaces inside a term)")
        if key in grid:
            raise ValueError(f"parse_grid: key {key!r} appears twice in {text!r}")
        tokens = values.split(",")
        if any(not t for t in tokens):
            raise ValueError(f"parse_grid: term {term!r} has an empty value")
        grid[key] = [_value(t) for t in tokens]
    return grid

# ----------------------------------------------------------------------------- one run


def _data_dict(data: Any) -> dict[str, np.ndarray]:
    if hasattr(data, "as_dict"):
        data = data.as_dict()
    if not isinstance(data, Mapping):
        raise TypeError(f"grid_search: data must be Splits or a dict with X_train, y_train, "
                        f"X_val, y_val; got {type(data).__name__}")
    missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
    if missing:
        raise KeyError(f"grid_search: data is missing {', '.join(missing)}")
    return {k: np.asarray(v) for k, v in data.items()}


def _default_build(data: dict[str, np.ndarray], seed: int) -> Callable[..., Any]:
    from tinygrad_edu.models import MLP

    in_dim = int(np.prod(data["X_train"].shape[1:]))
    classes = int(max(data["y_train"].max(), data["y_val"].max())) + 1

    def build(hidden: Any = 100, activation: str = "relu", dropout: float = 0.0) -> Any:
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        return MLP([in_dim, *sizes, classes], activation=activation, dropout=dropout,
                   seed=seed)

    return build


def _route(params: Mapping[str, Any], default_model: bool
           ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split one combination into build kwargs, Solver kwargs and optim_config."""
    model: dict[str, Any] = {}
    solver: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for key, value in params.items():
        if key in _OPTIM_KEYS:
            config[_OPTIM_KEYS[key]] = value
        elif key in _SOLVER_KEYS:
            name = _SOLVER_KEYS[key]
            solver[name] = rule_name(value) if name == "update_rule" else value
        elif default_model and key == "reg":
            config["weight_decay"] = value
        else:
            model[key] = value
    return model, solver, config


def _run(build: Callable[..., Any], params: dict[str, Any], data: dict[str, np.ndarray],
         settings: dict[str, Any], base_config: dict[str, Any], default_model: bool,
         seed: int) -> tuple[SweepRun, Any]:
    model_kwargs, solver_kwargs, config = _route(params, default_model)
    options = {**settings, **solver_kwargs}
    start = time.perf_counter()
    manual_seed(seed)
    try:
        model = build(**model_kwargs)
    except TypeError as e:
        raise TypeError(f"grid_search: build({params_text(model_kwargs)}) failed: {e}. Grid "
                        "keys other than the Solver's are passed to build as keyword "
                        "arguments") from e
    solver = Solver(model, data, optim_config={**base_config, **config}, **options)
    # A diverging run overflows on its way to NaN; the Solver detects and records it.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        solver.train()
        test_acc = float(solver.check_accuracy(data["X_test"], data["y_test"])) if len(
            data.get("X_test", ())) else float("nan")
    h = solver.history
    last = [v for v in h["loss_history"] if math.isfinite(v)]
    best_at = int(np.nanargmax(h["val_acc_history"])) if any(
        math.isfinite(v) for v in h["val_acc_history"]) else -1

    def pick(name: str) -> float:  # the history entry at the best check
        return h[name][best_at] if 0 <= best_at < len(h[name]) else float("nan")

    run = SweepRun(params=params, status=_status(solver),
                   val_acc=float(solver.best_val_acc) if best_at >= 0 else float("nan"),
                   test_acc=test_acc, train_acc=pick("train_acc_history"),
                   val_loss=pick("val_loss_history"),
                   train_loss=last[-1] if last else float("nan"),
                   time_s=time.perf_counter() - start, iterations=len(h["loss_history"]),
                   history={k: v for k, v in h.items() if k != "loss_history"})
    return run, model


def _status(solver: Solver) -> str:
    """'diverged' when the Solver stopped the run, or its final loss (the mean training loss
    since the last check, and the last validation loss) is not finite or the training loss
    ends above where it started (the first batch, before any step); else 'ok'."""
    if solver.diverged:
        return "diverged"
    h = solver.history
    start = h["loss_history"][0]
    final = h["train_loss_history"][-1]
    finals = [final, *h["val_loss_history"][-1:]]
    if not all(math.isfinite(v) for v in finals) or final > start:
        return "diverged"
    return "ok"


# ----------------------------------------------------------------------------- the sweep


def check_grid(grid: Mapping[str, Any] | str, *, default_model: bool = True,
               optimizer: Any = "adam") -> dict[str, list[Any]]:
    """`grid` (a dict of lists, or a string for `parse_grid`) as a dict of lists, after
    checking every key and value against what the Solver (and, with `default_model`, the
    default MLP) accepts, with `optimizer` as the rule where the grid names none. A
    ValueError names the first bad key and value and what would be valid."""
    return check_values(_as_lists(grid), default_model, optimizer)


def _as_lists(grid: Any) -> dict[str, list[Any]]:
    if isinstance(grid, str):
        return parse_grid(grid)
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid_search: param_grid must be a non-empty dict of lists (or a "
                         f"string for parse_grid), got {grid!r}")
    out: dict[str, list[Any]] = {}
    for key, values in grid.items():
        vals = list(values) if isinstance(values, Sequence) and not isinstance(
            values, str) else [values]
        if not vals:
            raise ValueError(f"grid_search: param_grid[{key!r}] is empty")
        out[str(key)] = vals
    return out


def heatmap_axes(grid: dict[str, list[Any]], heatmap: Sequence[str] | None
                 ) -> tuple[str, str] | None:
    """The heatmap's two grid keys: `heatmap` after checking it, else the first two keys
    that take several values (None for a one-key grid)."""
    if heatmap is not None:
        if len(heatmap) != 2 or heatmap[0] == heatmap[1] or any(a not in grid for a in heatmap):
            raise ValueError(f"grid_search: heatmap must name two different grid keys (keys: "
                             f"{', '.join(grid)}), got {tuple(heatmap)!r}")
        return heatmap[0], heatmap[1]
    # the first two keys that take several values (single-valued ones only to fill up)
    keys = sorted(grid, key=lambda k: len(grid[k]) == 1)
    return (keys[0], keys[1]) if len(keys) >= 2 else None


def _progress_bar(show: bool | None, total: int) -> Any:
    if not (show if show is not None else sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="sweep", unit="run")


def grid_search(build: Callable[..., Any] | None, param_grid: Mapping[str, Any] | str,
                data: Any, *, epochs: int = 5, batch_size: int = 100,
                optimizer: Any = "adam", optim_config: dict[str, Any] | None = None,
                time_budget: float | None = None, progress: bool | None = None,
                out_dir: str | Path | None = None,
                heatmap: Sequence[str] | None = None, seed: int = 0, verbose: bool = False,
                **solver_options: Any) -> SweepResult:
    """Train a model for every combination of `param_grid` and return a `SweepResult`.

    build: `build(**kwargs) -> model` (see the module docstring for which keys reach it),
    or None for an MLP sized from the data. data: `Splits` or a dict with X_train, y_train,
    X_val, y_val. epochs, batch_size, optimizer ('sgd', 'sgd_momentum'/'momentum',
    'rmsprop', 'adam') and optim_config are the defaults a grid key overrides;
    `solver_options` go to every `Solver` (num_train_samples, lr_decay, acc_every,
    diverge_factor, ...). time_budget: seconds after which no new run starts (the rest are
    recorded as skipped). progress: a bar over the runs (None: when stderr is a terminal).
    out_dir: where `sweep.json` and `heatmap.png` go. heatmap: the two grid keys for its
    axes (default: the first two keys that take several values); each cell shows the best
    validation accuracy over the other keys, diverged cells are blank.
    """
    default_model = build is None
    grid = check_grid(param_grid, default_model=default_model, optimizer=optimizer)
    axes = heatmap_axes(grid, heatmap)
    arrays = _data_dict(data)
    if build is None:
        arrays, build = _default_model(arrays, seed)
    settings: dict[str, Any] = {"update_rule": rule_name(optimizer),
                                "batch_size": batch_size, "num_epochs": epochs,
                                "verbose": verbose, "progress": False, "seed": seed,
                                "print_every": 0, **solver_options}
    base_config = dict(optim_config or {})

    def train_one(params: dict[str, Any]) -> tuple[SweepRun, Any]:
        return _run(build, params, arrays, settings, base_config, default_model, seed)

    result = _run_grid(grid, train_one, time_budget, progress, verbose)
    if out_dir is not None:
        write_outputs(result, Path(out_dir), grid, axes)
    return result


def _default_model(arrays: dict[str, np.ndarray], seed: int
                   ) -> tuple[dict[str, np.ndarray], Callable[..., Any]]:
    """The data with flattened samples and the builder of the default MLP."""
    flat = {k: (v.reshape(len(v), -1) if k.startswith("X") else v) for k, v in arrays.items()}
    return flat, _default_build(flat, seed)


def _run_grid(grid: dict[str, list[Any]],
              train_one: Callable[[dict[str, Any]], tuple[SweepRun, Any]],
              time_budget: float | None, progress: bool | None, verbose: bool) -> SweepResult:
    """Every combination of `grid` in order, through `train_one`, until the time budget is spent;
    the later ones are recorded as skipped."""
    keys = list(grid)
    combos = [dict(zip(keys, values)) for values in itertools.product(*grid.values())]
    result = SweepResult(keys=keys, runs=[])
    bar = _progress_bar(progress, len(combos))
    start = time.perf_counter()
    try:
        for params in combos:
            if time_budget is not None and time.perf_counter() - start >= time_budget:
                result.runs.append(SweepRun(params=params))
                continue
            run, model = train_one(params)
            result.runs.append(run)
            if run.status == "ok" and (result.best is None or run.val_acc > result.best.val_acc):
                result.best, result.best_model = run, model
            _show(bar, result, run, verbose)
    finally:
        if bar is not None:
            bar.close()
    result.elapsed_s = time.perf_counter() - start
    return result


def _show(bar: Any, result: SweepResult, run: SweepRun, verbose: bool) -> None:
    """One finished run on the progress bar (and as a line, when verbose)."""
    if verbose:
        line = (f"{params_text(run.params)}: val_acc {run.val_acc:.4f} ({run.status}, "
                f"{run.time_s:.1f} s)")
        bar.write(line) if bar is not None else print(line)
    if bar is not None:
        best = f"{result.best.val_acc:.4f}" if result.best else "-"
        bar.set_postfix_str(f"best val_acc {best}")
        bar.update(1)
