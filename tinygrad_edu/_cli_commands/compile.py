"""`tinygrad-edu compile --example two_layer`: print the numpy code that
`tinygrad_edu.compile` generates for a built-in model's loss (its forward and the backward
derived by the engine)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

EXAMPLES = ("two_layer", "autoencoder", "mlp", "convnet")


def _two_layer() -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """The courses' two-layer net (affine - relu - affine - softmax loss), written with raw
    ops in `models.TwoLayerNet`: its `loss(X, y)`."""
    from tinygrad_edu.models import TwoLayerNet
    from tinygrad_edu.tensor import Tensor

    model = TwoLayerNet(input_dim=4, hidden_dim=5, num_classes=3, reg=0.0, seed=0)
    X = Tensor(np.random.default_rng(0).standard_normal((2, 4)))
    return model.loss, (X, Tensor(np.array([0, 2])))


def _autoencoder() -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """0.5 ||W^T W x - x||^2: W is reached by two paths, and the backward sums them."""
    from tinygrad_edu.tensor import Tensor

    rng = np.random.default_rng(0)

    def loss(W: Any, x: Any) -> Any:
        return 0.5 * ((W.T @ (W @ x) - x) ** 2).sum()

    return loss, (Tensor(rng.standard_normal((3, 5)), requires_grad=True),
                  Tensor(rng.standard_normal(5)))


def _mlp() -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """nn.Linear - ReLU - nn.Linear with cross_entropy (the layers' fused primitives)."""
    import tinygrad_edu.nn.functional as F
    from tinygrad_edu.models import MLP
    from tinygrad_edu.tensor import Tensor

    model = MLP([4, 5, 3])
    X = Tensor(np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32))

    def loss(X: Any, y: Any) -> Any:
        return F.cross_entropy(model(X), y)

    return loss, (X, Tensor(np.array([0, 2])))


def _convnet() -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """conv - relu - max pool - linear with cross_entropy."""
    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F
    from tinygrad_edu.tensor import Tensor

    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(2 * 2 * 2, 3))
    X = Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32))

    def loss(X: Any, y: Any) -> Any:
        return F.cross_entropy(model(X), y)

    return loss, (X, Tensor(np.array([0, 2])))


BUILDERS = {"two_layer": _two_layer, "autoencoder": _autoencoder, "mlp": _mlp,
            "convnet": _convnet}


def run_compile(args: argparse.Namespace) -> int:
    from tinygrad_edu.nn.compiled import compile

    fn, inputs = BUILDERS[args.example]()
    compiled = compile(fn)
    compiled(*inputs).backward()
    doc = " ".join((BUILDERS[args.example].__doc__ or "").split())
    print(f"# tinygrad-edu compile --example {args.example}: {doc}")
    print(compiled.source, end="")
    return 0
