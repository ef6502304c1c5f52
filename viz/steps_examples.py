"""The examples `tinygrad-edu graph --steps` writes as step-through pages.

Each builder returns `(loss, params)`, ready for `viz.backprop_steps(loss, params)`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.creation import manual_seed
from tinygrad_edu.tensor import Tensor
from viz import examples
from viz.steps import StepsView, backprop_steps

Example = tuple[Tensor, dict[str, Tensor]]


def autoencoder() -> Example:
    """L = ½‖WᵀWx − x‖²: W reaches the loss along two paths, so its gradient is a sum."""
    (loss,), params, _ = examples.autoencoder()
    return loss, params


def softmax2() -> Example:
    """Softmax cross-entropy of two logits: dL/dz = softmax(z) − onehot(y)."""
    z = Tensor(np.array([[1.5, -0.5]]), requires_grad=True, name="z")
    y = Tensor(np.array([1]), name="y")
    return F.cross_entropy(z, y), {"z": z}


def reused_input() -> Example:
    """One neuron whose input x is used twice: L = tanh(w x + b) · x, so dL/dx sums two paths."""
    w = Tensor(np.array(0.8), requires_grad=True, name="w")
    b = Tensor(np.array(-0.3), requires_grad=True, name="b")
    x = Tensor(np.array(1.2), requires_grad=True, name="x")
    return (w * x + b).tanh() * x, {"w": w, "b": b, "x": x}


def mlp() -> Example:
    """A 3-4-2 MLP (Linear, ReLU, Linear) with cross-entropy on two samples."""
    manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3)), dtype=np.float32, name="x")
    y = Tensor(np.array([0, 1]), name="y")
    return F.cross_entropy(model(x), y), dict(model.named_parameters())


EXAMPLES: dict[str, Callable[[], Example]] = {
    "autoencoder": autoencoder, "softmax2": softmax2, "reused_input": reused_input,
    "mlp": mlp,
}


def view(name: str) -> StepsView:
    loss, params = EXAMPLES[name]()
    title = (EXAMPLES[name].__doc__ or name).split("\n")[0]
    return backprop_steps(loss, params, title=f"{name}: {title}")


def write_all(directory: Path, names: list[str] | None = None) -> list[Path]:
    """Write `<name>.html` for each example (all by default) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    return [view(n).save(directory / f"{n}.html") for n in names or list(EXAMPLES)]
