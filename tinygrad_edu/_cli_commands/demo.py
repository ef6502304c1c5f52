"""`tinygrad-edu demo`: the autoencoder gradient three ways, its graph, and a small MLP
trained on the data actually found (said so, with the real layer sizes)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from tinygrad_edu._cli_commands.common import (
    CLIError,
    describe_data,
    load_splits,
    load_viz,
    output_dir,
    write_or_fail,
)
from tinygrad_edu._cli_commands.train import build_model, train_model


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
    viz = load_viz()
    try:
        graph = viz.draw_graph(loss, tape=tape, params={"W": W})
        path = viz.render(graph, out / "autoencoder_graph.svg", format="svg")
    except Exception as e:  # noqa: BLE001 - a missing `dot` must not stop the tour
        print(f"2) Graph: not rendered ({str(e).splitlines()[0]})")
        return None
    print(f"2) Graph with the gradient on every edge (W feeds two paths): {path}")
    return Path(path)


_DEMO_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST",
                "digits": "the 8x8 scikit-learn digits", "spirals": "synthetic spirals"}


def _demo_dataset(data_dir: str | None) -> tuple[str, str | None, str]:
    """(dataset, directory, why): MNIST -- or Fashion-MNIST when the md5 sums say so -- when
    files are found, else the 8x8 digits (scikit-learn), else synthetic spirals."""
    from tinygrad_edu import data

    found = Path(data_dir) if data_dir is not None else data.find_mnist_dir()
    if found is not None:
        recognized = data.recognize_mnist_dir(found) if found.is_dir() else None
        name = recognized if recognized in ("mnist", "fashion-mnist") else "mnist"
        return name, str(found), ""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "spirals", None, ", as no MNIST files were found and scikit-learn is missing"
    return "digits", None, ", as no MNIST files were found (pass --data-dir)"


def run_demo(args: argparse.Namespace) -> int:
    out = output_dir(args.out)
    start = time.perf_counter()
    _autoencoder_check(out)
    name, data_dir, why = _demo_dataset(args.data_dir)
    splits = load_splits(name, data_dir, flatten=True, command="demo")
    model = build_model("mlp", splits, [256], seed=0)
    sizes = "-".join(str(n) for n in model.sizes)
    print(f"3) Training a {sizes} MLP with Adam on {_DEMO_TITLES[name]}{why}")
    print(f"   data: {describe_data(splits)}")
    solver = train_model(model, splits, epochs=args.epochs, batch_size=64, lr=2e-3,
                    optimizer="adam", verbose=False, seed=0, lr_decay=0.8,
                    progress=False if args.no_progress else None)
    test = solver.evaluate(splits.X_test, splits.y_test)
    curves = write_or_fail(out, lambda: load_viz().plot_history(solver.history, out / "curves.png"))
    print(f"   curves: {curves}")
    print(f"   final: test accuracy {test['acc']:.4f} (loss {test['loss']:.4f}) after "
          f"{args.epochs} epochs, {solver.train_time:.1f} s training; demo took "
          f"{time.perf_counter() - start:.1f} s")
    return 0
