"""Optimizers and the Solver as PyTorch and the courses drive them: generators of
parameters, parameter groups with their own options, zero_grad's default, the Solver's
documented optim_config keys and its best-validation snapshot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_edu as torch
from tinygrad_edu import Tensor, nn, optim

W0 = np.array([[0.5, -1.0], [2.0, 0.25]])
B0 = np.array([0.1, -0.2])
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]])


def _model() -> nn.Linear:
    model = nn.Linear(2, 2).double()
    with torch.no_grad():
        model.weight.copy_(W0)
        model.bias.copy_(B0)
    return model


def _backward(model: nn.Module) -> None:
    """loss = sum((x W^T + b)^2) / 2: dL/dW = r^T x, dL/db = sum_n r, with r = x W^T + b."""
    out = model(Tensor(X))
    ((out * out).sum() * 0.5).backward()


def _grads(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = X @ w.T + b
    return r.T @ X, r.sum(axis=0)


OPTIMIZERS: list[tuple[type[optim.Optimizer], dict[str, Any]]] = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adam, {"lr": 0.1}),
    (optim.AdamW, {"lr": 0.1}), (optim.RMSprop, {"lr": 0.1}), (optim.Adagrad, {"lr": 0.1}),
]


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_optimizer_from_a_generator_updates_every_parameter(cls: Any, options: Any) -> None:
    model = _model()
    opt = cls(model.parameters(), **options)
    assert [len(g["params"]) for g in opt.param_groups] == [2]
    _backward(model)
    opt.step()
    assert not np.array_equal(model.weight.numpy(), W0)
    assert not np.array_equal(model.bias.numpy(), B0)


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_param_groups_from_generators_and_add_param_group(cls: Any, options: Any) -> None:
    model = _model()
    opt = cls([{"params": (p for p in [model.weight]), "lr": 0.3}], **options)
    opt.add_param_group({"params": iter([model.bias]), "lr": 0.05})
    assert [len(g["params"]) for g in opt.param_groups] == [1, 1]
    assert [g["lr"] for g in opt.param_groups] == [0.3, 0.05]
    _backward(model)
    opt.step()
    assert not np.array_equal(model.weight.numpy(), W0)
    assert not np.array_equal(model.bias.numpy(), B0)


def test_sgd_param_groups_use_their_own_options() -> None:
    """Group 0: lr 0.1, momentum 0.9 (default), weight_decay 0.01; group 1: lr 0.05,
    momentum 0, no decay. Two steps, checked against the formulas written in numpy."""
    model = _model()
    opt = optim.SGD([{"params": [model.weight], "weight_decay": 0.01},
                     {"params": iter([model.bias]),
                      "lr": 0.05, "momentum": 0.0}], lr=0.1, momentum=0.9)
    w, b, buf = W0.copy(), B0.copy(), None
    for _ in range(2):
        opt.zero_grad()
        _backward(model)
        opt.step()
        gw, gb = _grads(w, b)
        gw = gw + 0.01 * w
        buf = gw.copy() if buf is None else 0.9 * buf + gw
        w = w - 0.1 * buf
        b = b - 0.05 * gb
    np.testing.assert_allclose(model.weight.numpy(), w, rtol=1e-12)
    np.testing.assert_allclose(model.bias.numpy(), b, rtol=1e-12)


def test_zero_grad_sets_gradients_to_none_by_default() -> None:
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    _backward(model)
    assert model.weight.grad is not None
    opt.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    _backward(model)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    _backward(model)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.zeros((2, 2)))
