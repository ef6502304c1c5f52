"""`tinygrad-edu train`: one model, its histories, curves, weights and test accuracy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu._cli_commands.common import (
    OPTIMIZERS,
    CLIError,
    describe_data,
    load_splits,
    load_viz,
    output_dir,
    write_json,
    write_or_fail,
)


def build_model(kind: str, splits: Any, hidden: list[int], seed: int) -> Any:
    from tinygrad_edu import models
    from tinygrad_edu.creation import manual_seed

    manual_seed(seed)
    num_classes = int(len(splits.class_names)) if getattr(splits, "class_names", None) else int(
        np.max(splits.y_train) + 1)
    if kind == "mlp":
        in_dim = int(np.prod(splits.X_train.shape[1:]))
        return models.MLP([in_dim, *hidden, num_classes])
    shape = splits.X_train.shape[1:]
    if len(shape) != 3:
        raise CLIError(f"--model convnet needs image data (N, C, H, W); this dataset has "
                       f"samples of shape {shape}")
    return models.SmallConvNet(in_channels=shape[0], num_classes=num_classes,
                               input_size=tuple(shape[1:]), seed=seed)


def train_model(model: Any, splits: Any, *, epochs: int, batch_size: int, lr: float,
           optimizer: str, progress: bool | None, verbose: bool, seed: int,
           lr_decay: float = 1.0) -> Any:
    from tinygrad_edu.train import Solver

    solver = Solver(model, {"X_train": splits.X_train, "y_train": splits.y_train,
                            "X_val": splits.X_val, "y_val": splits.y_val},
                    update_rule=OPTIMIZERS[optimizer], optim_config={"learning_rate": lr},
                    lr_decay=lr_decay, batch_size=batch_size, num_epochs=epochs,
                    num_train_samples=2000, verbose=verbose, progress=progress, print_every=0,
                    seed=seed)
    solver.train()
    return solver


def run_train(args: argparse.Namespace) -> int:
    out = output_dir(args.out)
    splits = load_splits(args.dataset, args.data_dir, flatten=args.model == "mlp",
                         seed=args.seed, command="train")
    print(f"training {args.model} on {describe_data(splits)}")
    model = build_model(args.model, splits, args.hidden, args.seed)
    solver = train_model(model, splits, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    optimizer=args.optimizer, progress=False if args.no_progress else None,
                    verbose=True, seed=args.seed, lr_decay=args.lr_decay)
    test = solver.evaluate(splits.X_test, splits.y_test)
    write_or_fail(out, lambda: _train_artefacts(out, args, splits, solver, model, test))
    print(f"wrote {out / 'history.json'}, {out / 'curves.png'}, {out / 'weights.png'}, "
          f"{out / 'model.npz'}")
    print(f"test accuracy: {test['acc']:.4f} (best val {solver.best_val_acc:.4f}, "
          f"{solver.train_time:.1f} s)")
    return 0


def _train_artefacts(out: Path, args: argparse.Namespace, splits: Any, solver: Any,
                     model: Any, test: dict[str, float]) -> None:
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
    model.save(out / "model.npz")
