"""What the `tinygrad-edu` subcommands do (the parser lives in cli.py, which imports this
module; this module never imports cli.py). The heavy imports wait inside the commands, so
`tinygrad-edu --help` stays quick."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

OPTIMIZERS = {"sgd": "sgd", "momentum": "sgd_momentum", "rmsprop": "rmsprop", "adam": "adam"}


class CLIError(Exception):
    """A user-facing problem: printed as one line, exit code 2."""


def write_json(path: Path, obj: Any) -> None:
    def default(o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(type(o).__name__)

    path.write_text(json.dumps(obj, indent=2, default=default))


def _load(name: str, data_dir: str | None, flatten: bool, seed: int = 0) -> Any:
    from tinygrad_edu import data

    # Mean-image subtraction, as the courses do: on MNIST it is worth about half a point.
    extra = {"preprocess": "mean_image"} if name in ("mnist", "fashion-mnist") else {}
    try:
        return data.load_dataset(name, data_dir=data_dir, flatten=flatten, seed=seed, **extra)
    except (FileNotFoundError, ImportError, ValueError) as e:
        raise CLIError(str(e).splitlines()[0]) from None


def _viz() -> Any:
    try:
        import viz
    except ImportError as e:  # pragma: no cover - viz ships with the package
        raise CLIError(f"viz is not importable ({e}); pip install 'tinygrad-edu[viz]'") from None
    return viz


# ----------------------------------------------------------------------------- demo


def _autoencoder_check(out: Path) -> Path | None:
    """The tour's first stop: dL/dW for L = 0.5*||W^T W x - x||^2, three ways."""
    from tinygrad_edu.gradcheck import numerical_grad, rel_error
    from tinygrad_edu.modes import record_gradients
    from tinygrad_edu.tensor import Tensor

    rng = np.random.default_rng(0)
    m, n = 3, 5
    W0, x0 = rng.standard_normal((m, n)), rng.standard_normal(n)
    W = Tensor(W0, requires_grad=True, name="W")
    x = Tensor(x0, name="x")
    r = W.T @ (W @ x) - x
    loss = 0.5 * (r * r).sum()
    loss.name = "L"
    with record_gradients() as tape:
        loss.backward(retain_graph=True)
    assert W.grad is not None
    g = W0.T @ W0 @ x0 - x0
    closed = np.outer(W0 @ x0, g) + np.outer(W0 @ g, x0)

    def f(w: np.ndarray) -> float:
        res = w.T @ w @ x0 - x0
        return float(0.5 * res @ res)

    numeric = numerical_grad(f, W0.copy())
    print("1) Autoencoder L = 0.5*||W^T W x - x||^2, W in R^{3x5}: dL/dW = W x g^T + W g x^T")
    print(f"   rel_error(backward, closed form) = {rel_error(W.grad.array, closed):.2e}")
    print(f"   rel_error(backward, numeric)     = {rel_error(W.grad.array, numeric):.2e}")
    if rel_error(W.grad.array, closed) > 1e-8:
        raise CLIError("the autoencoder gradient disagrees with its closed form")
    viz = _viz()
    try:
        graph = viz.draw_graph(loss, tape=tape, params={"W": W})
        path = viz.render(graph, out / "autoencoder_graph.svg", format="svg")
    except Exception as e:  # noqa: BLE001 - a missing `dot` must not stop the tour
        print(f"2) Graph: not rendered ({str(e).splitlines()[0]})")
        return None
    print(f"2) Graph with the gradient on every edge (W feeds two paths): {path}")
    return Path(path)


def run_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _autoencoder_check(out)
    from tinygrad_edu import data

    found = args.data_dir or data.find_mnist_dir()
    data_dir = str(found) if found else None
    name = "mnist" if data_dir else "digits"
    if name == "digits":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            name = "spirals"
    splits = _load(name, data_dir, flatten=True)
    print(f"3) Training a 784-256-10 MLP on {name} ({len(splits.X_train)} train / "
          f"{len(splits.X_val)} val / {len(splits.X_test)} test) with Adam")
    solver, model = _fit("mlp", splits, epochs=args.epochs, batch_size=64, lr=2e-3,
                         optimizer="adam", hidden=[256], verbose=False, seed=0, lr_decay=0.8,
                         progress=False if args.no_progress else None)
    test = solver.evaluate(splits.X_test, splits.y_test)
    curves = _viz().plot_history(solver.history, out / "curves.png")
    print(f"   curves: {curves}")
    print(f"   final: test accuracy {test['acc']:.4f} (loss {test['loss']:.4f}) after "
          f"{args.epochs} epochs, {solver.train_time:.1f} s training; demo took "
          f"{time.perf_counter() - start:.1f} s")
    return 0


# ----------------------------------------------------------------------------- train


def _build_model(kind: str, splits: Any, hidden: list[int], seed: int
                 ) -> tuple[Any, dict[str, Any]]:
    """The model and its spec (the name and constructor arguments a model file records)."""
    from tinygrad_edu.creation import manual_seed
    from tinygrad_edu.train.model_file import build_model

    manual_seed(seed)
    num_classes = int(len(splits.class_names)) if getattr(splits, "class_names", None) else int(
        np.max(splits.y_train) + 1)
    shape = [int(n) for n in splits.X_train.shape[1:]]
    if kind == "mlp":
        spec = {"name": "mlp", "kwargs": {"sizes": [int(np.prod(shape)), *hidden, num_classes]}}
    elif len(shape) != 3:
        raise CLIError(f"--model convnet needs image data (N, C, H, W); this dataset has "
                       f"samples of shape {tuple(shape)}")
    else:
        spec = {"name": "convnet", "kwargs": {"in_channels": shape[0], "num_classes":
                                              num_classes, "input_size": shape[1:], "seed": seed}}
    return build_model(spec), spec


def _fit(kind: str, splits: Any, *, epochs: int, batch_size: int, lr: float, optimizer: str,
         hidden: list[int], progress: bool | None, verbose: bool, seed: int, lr_decay: float = 1.0,
         reg: float = 0.0, checkpoint: Path | None = None, resume: dict[str, Any] | None = None,
         run: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """Train; `checkpoint`: the file rewritten after every epoch, `resume`: a checkpoint's
    contents to carry on from, `run`: the options recorded for a later --resume."""
    from tinygrad_edu.train import Preprocessing, Solver

    model, spec = _build_model(kind, splits, hidden, seed)
    config: dict[str, Any] = {"learning_rate": lr}
    if reg:
        config["weight_decay"] = reg
    meta = {"model": spec, "preprocessing": Preprocessing.of(splits, seed).state(),
            "class_names": list(splits.class_names or ()), "run": run or {}}
    solver = Solver(model, {"X_train": splits.X_train, "y_train": splits.y_train,
                            "X_val": splits.X_val, "y_val": splits.y_val},
                    update_rule=OPTIMIZERS[optimizer], optim_config=config, lr_decay=lr_decay,
                    batch_size=batch_size, num_epochs=epochs, num_train_samples=2000,
                    verbose=verbose, progress=progress, print_every=0, seed=seed,
                    checkpoint_path=checkpoint, checkpoint_meta=meta)
    if resume is not None:
        _load_resumed(solver, resume)
    solver.train()
    return solver, model


def run_train(args: argparse.Namespace) -> int:
    from tinygrad_edu.train import save_model

    resume = _resume(args) if args.resume else None
    args.epochs = args.epochs or 5
    splits = _load(args.dataset, args.data_dir, flatten=args.model == "mlp", seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"training {args.model} on {args.dataset}: {len(splits.X_train)} train, "
          f"{len(splits.X_val)} val, {len(splits.X_test)} test")
    solver, model = _fit(args.model, splits, epochs=args.epochs, batch_size=args.batch_size,
                         lr=args.lr, optimizer=args.optimizer, hidden=args.hidden,
                         progress=False if args.no_progress else None, verbose=True, seed=args.seed,
                         lr_decay=args.lr_decay, checkpoint=out / "checkpoint.npz", resume=resume,
                         run={k: getattr(args, k) for k in RUN_OPTIONS})
    test = solver.evaluate(splits.X_test, splits.y_test)
    viz = _viz()
    write_json(out / "history.json", {**solver.history, "test_acc": test["acc"],
                                      "test_loss": test["loss"], "train_time_s":
                                      solver.train_time, "args": vars(args)})
    viz.plot_history(solver.history, out / "curves.png")
    first = next(iter(model.parameters()))
    shape = getattr(splits, "input_shape", None)
    viz.plot_weight_grid(first.array, out / "weights.png", image_shape=shape)
    save_model(out / "model.npz", model, solver.checkpoint_meta)
    print(f"wrote {out / 'history.json'}, {out / 'curves.png'}, {out / 'weights.png'}, "
          f"{out / 'model.npz'} (with its preprocessing), {out / 'checkpoint.npz'}")
    print(f"test accuracy: {test['acc']:.4f} (best val {solver.best_val_acc:.4f}, "
          f"{solver.train_time:.1f} s)")
    return 0


# The options that define a run: recorded in its checkpoints, taken back by --resume.
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
        raise CLIError(f"--resume: {e}") from None
    run = (state["meta"] or {}).get("run")
    if not run:
        raise CLIError(f"--resume: {args.resume} was not written by `tinygrad-edu train` (it "
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


# ----------------------------------------------------------------------------- graph


def run_graph(args: argparse.Namespace) -> int:
    viz = _viz()
    out = Path(args.out)
    fmt = out.suffix.lstrip(".") or "svg"
    if fmt not in ("svg", "png", "pdf"):
        raise CLIError(f"--out must end in .svg, .png or .pdf, got {out.name!r}")
    graph = viz.examples.draw(args.example)
    path = viz.render(graph, out, format=fmt)
    print(path)
    return 0


# ----------------------------------------------------------------------------- sweep


def run_sweep(args: argparse.Namespace) -> int:
    from tinygrad_edu.sweep import grid_search, parse_grid

    try:
        grid = parse_grid(args.grid)
    except ValueError as e:
        raise CLIError(str(e)) from None
    splits = _load(args.dataset, args.data_dir, flatten=True)
    try:
        result = grid_search(None, grid, splits, epochs=args.epochs,
                             batch_size=args.batch_size, optimizer=OPTIMIZERS[args.optimizer],
                             time_budget=args.time_budget,
                             progress=False if args.no_progress else None,
                             out_dir=Path(args.out),
                             heatmap=tuple(args.heatmap) if args.heatmap else None)
    except ValueError as e:  # a grid key the MLP does not take, a bad heatmap axis
        raise CLIError(str(e)) from None
    print(result.table())
    print(f"wrote {result.json_path}" + (f" and {result.heatmap_path}"
                                          if result.heatmap_path else ""))
    return 0


# ----------------------------------------------------------------------------- predict, evaluate


def _trained(path: str) -> Any:
    from tinygrad_edu.errors import DataFormatError
    from tinygrad_edu.train import load_model

    try:
        return load_model(path)
    except (OSError, DataFormatError, ValueError, RuntimeError) as e:
        raise CLIError(str(e)) from None


def _split(trained: Any, split: str, data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    from tinygrad_edu.train.model_file import load_split

    try:
        return load_split(trained.preprocessing, split, data_dir)
    except (FileNotFoundError, ImportError, ValueError) as e:
        raise CLIError(str(e).splitlines()[0]) from None


def run_predict(args: argparse.Namespace) -> int:
    from tinygrad_edu.errors import DataFormatError
    from tinygrad_edu.train.model_file import read_images

    trained = _trained(args.model)
    try:
        X = (read_images(args.images) if args.images
             else _split(trained, args.split, args.data_dir)[0])
        labels = trained.predict(X)
    except (OSError, DataFormatError, ValueError) as e:
        raise CLIError(str(e)) from None
    if args.out is None:
        print("\n".join(str(label) for label in labels))
        return 0
    out = Path(args.out)
    if out.suffix == ".npy":
        np.save(out, labels)
    else:
        out.write_text("".join(f"{label}\n" for label in labels))
    print(f"wrote {len(labels)} predicted labels to {out}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    trained = _trained(args.model)
    X, y = _split(trained, args.split, args.data_dir)
    correct = int(np.sum(trained.predict(X) == y))
    print(f"{trained.preprocessing.dataset} {args.split}: accuracy {correct / len(y):.4f} "
          f"({correct} / {len(y)})")
    return 0
