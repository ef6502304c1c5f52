"""`tinygrad-edu train`: one model, its histories, curves, weights and test accuracy; a
checkpoint after every epoch, which `--resume` carries on from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu._cli_commands.common import (
    OPTIMIZERS,
    CLIError,
    describe_data,
    first_line,
    load_splits,
    load_viz,
    output_dir,
    write_json,
    write_or_fail,
)


def model_spec(kind: str, splits: Any, hidden: list[int], seed: int) -> dict[str, Any]:
    """The model's name and constructor arguments, as a model file records them."""
    num_classes = int(len(splits.class_names)) if getattr(splits, "class_names", None) else int(
        np.max(splits.y_train) + 1)
    shape = [int(n) for n in splits.X_train.shape[1:]]
    if kind == "mlp":
        return {"name": "mlp", "kwargs": {"sizes": [int(np.prod(shape)), *hidden, num_classes]}}
    if len(shape) != 3:
        raise CLIError(f"--model convnet needs image data (N, C, H, W); this dataset has "
                       f"samples of shape {tuple(shape)}")
    return {"name": "convnet", "kwargs": {"in_channels": shape[0], "num_classes": num_classes,
                                          "input_size": shape[1:], "seed": seed}}


def build_model(kind: str, splits: Any, hidden: list[int], seed: int) -> Any:
    from tinygrad_edu.creation import manual_seed
    from tinygrad_edu.train import model_file

    spec = model_spec(kind, splits, hidden, seed)
    manual_seed(seed)
    return model_file.build_model(spec)


def train_model(model: Any, splits: Any, *, epochs: int, batch_size: int, lr: float,
                optimizer: str, progress: bool | None, verbose: bool, seed: int,
                lr_decay: float = 1.0, checkpoint: Path | None = None,
                meta: dict[str, Any] | None = None, resume: dict[str, Any] | None = None
                ) -> Any:
    """Train; `checkpoint`: the file rewritten after every epoch, holding `meta`;
    `resume`: a checkpoint's contents to carry on from."""
    from tinygrad_edu.train import Solver

    solver = Solver(model, {"X_train": splits.X_train, "y_train": splits.y_train,
                            "X_val": splits.X_val, "y_val": splits.y_val},
                    update_rule=OPTIMIZERS[optimizer], optim_config={"learning_rate": lr},
                    lr_decay=lr_decay, batch_size=batch_size, num_epochs=epochs,
                    num_train_samples=2000, verbose=verbose, progress=progress, print_every=0,
                    seed=seed, checkpoint_path=checkpoint, checkpoint_meta=meta)
    if resume is not None:
        _load_resumed(solver, resume)
    solver.train()
    return solver


def run_train(args: argparse.Namespace) -> int:
    from tinygrad_edu.train import Preprocessing

    out = output_dir(args.out)
    resume = _resume(args) if args.resume else None
    args.epochs = args.epochs or DEFAULT_EPOCHS[args.model]
    splits = load_splits(args.dataset, args.data_dir, flatten=args.model == "mlp",
                         seed=args.seed, command="train")
    print(f"training {args.model} on {describe_data(splits)}")
    model = build_model(args.model, splits, args.hidden, args.seed)
    meta = {"model": model_spec(args.model, splits, args.hidden, args.seed),
            "preprocessing": Preprocessing.of(splits, args.seed).state(),
            "class_names": list(splits.class_names or ()),
            "run": {k: getattr(args, k) for k in RUN_OPTIONS}}
    solver = train_model(model, splits, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         optimizer=args.optimizer, progress=False if args.no_progress else None,
                         verbose=True, seed=args.seed, lr_decay=args.lr_decay,
                         checkpoint=out / "checkpoint.npz", meta=meta, resume=resume)
    test = solver.evaluate(splits.X_test, splits.y_test)
    write_or_fail(out, lambda: _train_artefacts(out, args, splits, solver, model, test))
    print(f"wrote {out / 'history.json'}, {out / 'curves.png'}, {out / 'weights.png'}, "
          f"{out / 'model.npz'} (with its preprocessing), {out / 'checkpoint.npz'}")
    print(f"test accuracy: {test['acc']:.4f} (best val {solver.best_val_acc:.4f}, "
          f"{solver.train_time:.1f} s)")
    return 0


def _train_artefacts(out: Path, args: argparse.Namespace, splits: Any, solver: Any,
                     model: Any, test: dict[str, float]) -> None:
    from tinygrad_edu.train import save_model

    viz = load_viz()
    options = {k: v for k, v in vars(args).items() if not callable(v)}  # not `run`
    write_json(out / "history.json", {**solver.history, "test_acc": test["acc"],
                                      "test_loss": test["loss"], "train_time_s":
                                      solver.train_time, "data": splits.info.get("files"),
                                      "args": options})
    viz.plot_history(solver.history, out / "curves.png")
    first = next(iter(model.parameters()))
    shape = getattr(splits, "input_shape", None)
    viz.plot_weight_grid(first.array, out / "weights.png", image_shape=shape)
    save_model(out / "model.npz", model, solver.checkpoint_meta)


# The options that define a run: recorded in its checkpoints, taken back by --resume.
#: epochs `train` runs without --epochs: with its other defaults (Adam, lr 2e-3 decayed x0.8
#: per epoch, batch 64) the recipe that reaches the README's MNIST bars (tests/test_mnist.py:
#: MLP >= 94.5% in 15 epochs, convnet >= 97.0% in 8)
DEFAULT_EPOCHS = {"mlp": 15, "convnet": 8}

RUN_OPTIONS = ("dataset", "model", "epochs", "batch_size", "lr", "optimizer", "hidden",
               "lr_decay", "seed", "data_dir")


def _resume(args: argparse.Namespace) -> dict[str, Any]:
    """--resume: the checkpoint's contents; its run's options replace those in `args`
    (but an --epochs or --data-dir given on the command line)."""
    from tinygrad_edu.errors import DataFormatError
    from tinygrad_edu.train import checkpoint

    try:
        state = checkpoint.read(args.resume)
    except (OSError, DataFormatError) as e:
        raise CLIError(f"--resume {args.resume}: {first_line(e)}") from None
    run = (state["meta"] or {}).get("run")
    if not run:
        raise CLIError(f"--resume {args.resume}: not written by `tinygrad-edu train` (it "
                       "records no run options)")
    for key, value in run.items():
        if not (key in ("epochs", "data_dir") and getattr(args, key) is not None):
            setattr(args, key, value)
    print(f"resuming from {args.resume}: {args.model} on {args.dataset}, "
          f"{state['counters']['epoch']} of {args.epochs} epochs done")
    return state


def _load_resumed(solver: Any, state: dict[str, Any]) -> None:
    from tinygrad_edu.train import Preprocessing

    saved = Preprocessing.from_state(state["meta"]["preprocessing"])
    if not saved.same_as(Preprocessing.from_state(solver.checkpoint_meta["preprocessing"])):
        raise CLIError("--resume: the training data differs from the run's (another dataset, "
                       "split or mean image); resume with the same data")
    try:
        solver.load_checkpoint(state)
    except ValueError as e:
        raise CLIError(f"--resume: {e}") from None
