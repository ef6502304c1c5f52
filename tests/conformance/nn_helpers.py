"""Helpers shared by the nn / optim / data conformance modules (oracle.py stays the one
place for tolerances; these only build inputs and move weights between the libraries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF

from .oracle import assert_close


def randn(*shape: int, seed: int = 0, dtype: Any = np.float64, scale: float = 1.0
          ) -> np.ndarray:
    """Standard normal data (no exact zeros or ties in practice)."""
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def labels(n: int, classes: int, seed: int = 0, shape: tuple[int, ...] | None = None
           ) -> np.ndarray:
    """int64 class labels covering every class when n allows it."""
    rng = np.random.default_rng(seed)
    out = rng.permutation(np.arange(max(n, classes)) % classes)[:n].astype(np.int64)
    return out.reshape(shape) if shape is not None else out


def torch_state_as_numpy(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def copy_torch_weights(ours: Any, theirs: torch.nn.Module) -> None:
    """Load a torch module's state_dict (as numpy arrays) into ours."""
    ours.load_state_dict(torch_state_as_numpy(theirs))


def assert_params_close(ours: Any, theirs: torch.nn.Module, what: str = "",
                        rtol: float | None = None) -> None:
    """Every named parameter of ours equals the torch one of the same name."""
    mine = dict(ours.named_parameters())
    other = dict(theirs.named_parameters())
    assert list(mine) == list(other), f"{what}: parameter names {list(mine)} vs {list(other)}"
    for name, p in other.items():
        assert_close(mine[name], p.detach(), what=f"{what} {name}", rtol=rtol)


def assert_grads_close(ours: Any, theirs: torch.nn.Module, what: str = "") -> None:
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        if p.grad is None:
            assert mine[name].grad is None, f"{what}: {name}.grad should be None"
            continue
        assert mine[name].grad is not None, f"{what}: {name}.grad is None, PyTorch has one"
        assert_close(mine[name].grad, p.grad, what=f"{what} {name}.grad")


def values_and_grads(f_ours: Callable[..., Any], f_torch: Callable[..., Any],
                     arrays: list[np.ndarray], what: str = "") -> None:
    """f's value and the gradient of sum(f * up) for every float input (first order only;
    for losses that take integer targets alongside)."""
    ours = [tg.tensor(np.array(a, copy=True), requires_grad=np.asarray(a).dtype.kind == "f")
            for a in arrays]
    theirs = [torch.tensor(np.array(a, copy=True), requires_grad=np.asarray(a).dtype.kind == "f")
              for a in arrays]
    y_o, y_t = f_ours(*ours), f_torch(*theirs)
    assert_close(y_o, y_t, what=f"{what} value")
    up = np.random.default_rng(1).standard_normal(tuple(y_t.shape))
    (y_t * torch.tensor(up, dtype=y_t.dtype)).sum().backward()
    (y_o * tg.tensor(up, dtype=y_o.dtype)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.grad is not None:
            assert a.grad is not None, f"{what}: grad {i} missing"
            assert_close(a.grad, b.grad, what=f"{what} grad {i}")


# --- the small training problem of the optimizer and nn.utils tests

X_TRAIN = randn(24, 4, seed=1, scale=1.5)
Y_TRAIN = labels(24, 3, seed=2)


def make_models(seed: int = 0) -> tuple[Any, Any]:
    """Linear-Tanh-Linear in float64, our weights copied from torch's."""
    torch.manual_seed(seed)
    theirs = tnn.Sequential(tnn.Linear(4, 6), tnn.Tanh(), tnn.Linear(6, 3)).double()
    ours = gnn.Sequential(gnn.Linear(4, 6), gnn.Tanh(), gnn.Linear(6, 3))
    copy_torch_weights(ours, theirs)
    ours.double()
    return ours, theirs


def batch(step: int) -> tuple[np.ndarray, np.ndarray]:
    i = (step % 3) * 8
    return X_TRAIN[i:i + 8], Y_TRAIN[i:i + 8]


def loss_and_backward(model: Any, lib: str, step: int) -> Any:
    x, y = batch(step)
    if lib == "torch":
        loss = TF.cross_entropy(model(torch.tensor(x)), torch.tensor(y))
    else:
        loss = GF.cross_entropy(model(tg.tensor(x)), tg.tensor(y))
    loss.backward()
    return loss


def float32_trajectory(make_optimizer: Callable[[Any, Any], Any], what: str,
                       rtol: float | None = None) -> None:
    """Ten cross-entropy steps of a small Tanh MLP in float32 on both libraries, from the
    same weights: parameters stay float32 and equal PyTorch's after every step.
    `make_optimizer(optim_module, parameters)` builds the optimizer for either library."""
    import tinygrad_edu.optim as goptim

    torch.manual_seed(7)
    theirs = tnn.Sequential(tnn.Linear(4, 6), tnn.Tanh(), tnn.Linear(6, 3))
    ours = gnn.Sequential(gnn.Linear(4, 6), gnn.Tanh(), gnn.Linear(6, 3))
    copy_torch_weights(ours, theirs)
    opt_o = make_optimizer(goptim, ours.parameters())
    opt_t = make_optimizer(torch.optim, theirs.parameters())
    for step in range(10):
        x, y = batch(step)
        opt_o.zero_grad()
        opt_t.zero_grad()
        GF.cross_entropy(ours(tg.tensor(x.astype(np.float32))), tg.tensor(y)).backward()
        TF.cross_entropy(theirs(torch.tensor(x.astype(np.float32))), torch.tensor(y)).backward()
        opt_o.step()
        opt_t.step()
        for p in ours.parameters():
            assert p.dtype == np.float32, f"float32 {what}: a parameter became {p.dtype}"
        assert_params_close(ours, theirs, what=f"float32 {what} step {step}", rtol=rtol)
