"""nn APIs called the way PyTorch code calls them: generators of parameters, ignored
targets, broadcast targets, pooling windows larger than the input, NaN through activations,
state dicts that copy where PyTorch copies. Expected numbers are derived with numpy."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as torch
from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn import functional as F


# ----------------------------------------------------------------------------- generators
def _model_with_grads() -> tuple[nn.Module, list[np.ndarray]]:
    """A Linear layer whose gradients are large (joint norm well above 1)."""
    torch.manual_seed(0)
    model = nn.Linear(3, 2).double()
    x = Tensor(np.arange(12.0).reshape(4, 3))
    (model(x).sum() * 100.0).backward()
    return model, [p.grad.numpy().copy() for p in model.parameters()]


def test_clip_grad_norm_with_a_generator_clips() -> None:
    model, grads = _model_with_grads()
    total = np.sqrt(sum(float((g * g).sum()) for g in grads))
    assert total > 10
    returned = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert returned.item() == pytest.approx(total)
    coef = 1.0 / (total + 1e-6)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-12)


def test_clip_grad_norm_inf_norm_with_a_generator_clips() -> None:
    model, grads = _model_with_grads()
    total = max(float(np.abs(g).max()) for g in grads)
    returned = nn.utils.clip_grad_norm_((p for p in model.parameters()), 2.0, norm_type="inf")
    assert returned.item() == pytest.approx(total)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g * (2.0 / (total + 1e-6)), rtol=1e-12)


def test_clip_grad_value_with_a_generator() -> None:
    model, grads = _model_with_grads()
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -0.5, 0.5))


def test_get_total_norm_with_a_generator_and_a_single_tensor() -> None:
    model, grads = _model_with_grads()
    expected = np.sqrt(sum(float((g * g).sum()) for g in grads))
    total = nn.utils.get_total_norm(p.grad for p in model.parameters())
    assert total.item() == pytest.approx(expected)
    one = Tensor(np.array([3.0, -4.0]))
    assert nn.utils.get_total_norm(one).item() == pytest.approx(5.0)
    assert nn.utils.get_total_norm(Tensor(np.array(-2.0))).item() == pytest.approx(2.0)


def test_parameters_to_vector_and_back_with_generators() -> None:
    model, _ = _model_with_grads()
    arrays = [p.numpy().copy() for p in model.parameters()]
    vec = nn.utils.parameters_to_vector(model.parameters())
    np.testing.assert_array_equal(vec.numpy(), np.concatenate([a.ravel() for a in arrays]))
    nn.utils.vector_to_parameters(vec * 2.0, model.parameters())
    for p, a in zip(model.parameters(), arrays):
        np.testing.assert_array_equal(p.numpy(), 2.0 * a)


def test_l2_penalty_with_a_generator() -> None:
    model, _ = _model_with_grads()
    expected = 0.5 * 0.1 * sum(float((p.numpy() ** 2).sum()) for p in model.parameters())
    got = F.l2_penalty((p for p in model.parameters()), 0.1)
    assert got.item() == pytest.approx(expected)


def test_clip_grad_norm_with_a_nan_gradient_makes_every_gradient_nan() -> None:
    # PyTorch multiplies every gradient by max_norm / (nan + 1e-6) = nan: the NaN is not
    # left hiding in one gradient while the others look clipped and healthy.
    p = nn.Parameter(Tensor(np.array([1.0, 2.0])))
    q = nn.Parameter(Tensor(np.array([1.0])))
    p.grad = Tensor(np.array([np.nan, 1.0]))
    q.grad = Tensor(np.array([3.0]))
    total = nn.utils.clip_grad_norm_(iter([p, q]), 1.0)
    assert np.isnan(total.item())
    assert np.isnan(p.grad.numpy()).all() and np.isnan(q.grad.numpy()).all()
