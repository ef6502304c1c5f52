"""The activations, similarities and losses added for issue 19, without PyTorch: values
against numpy references written the long way, and gradients (first and second order)
against central differences in float64 over generated shapes and values (hypothesis).
Inputs are moved off the kinks by construction (an offset of 1/pi: no generated value
lands exactly on a kink); the kink conventions themselves are tested against PyTorch in
tests/conformance/test_activations_losses_added.py."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor
from tinygrad_edu.testing import assert_close, assert_gradients_match, float_arrays, shapes

OFF = 1.0 / math.pi  # moves generated values off the kinks at 0, +-3, 6 and zero margins
SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(x / 2))


def pnorm(d: np.ndarray, p: float, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    return (np.abs(d) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


# ----------------------------------------------------------------------------- activations

ELEMENTWISE: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[np.ndarray], np.ndarray]]] = {
    "celu": (lambda t: F.celu(t + OFF, 0.7),
             lambda x: np.where(x + OFF > 0, x + OFF, 0.7 * np.expm1((x + OFF) / 0.7))),
    "celu_negative_alpha": (lambda t: F.celu(t + OFF, -1.5),
                            lambda x: np.where(x + OFF > 0, x + OFF,
                                               -1.5 * np.expm1((x + OFF) / -1.5))),
    "selu": (lambda t: F.selu(t + OFF),
             lambda x: SELU[1] * np.where(x + OFF > 0, x + OFF, SELU[0] * np.expm1(x + OFF))),
    "mish": (F.mish, lambda x: x * np.tanh(softplus(x))),
    "relu6": (lambda t: F.relu6(2 * t + 3 + OFF), lambda x: np.clip(2 * x + 3 + OFF, 0, 6)),
    "hardswish": (lambda t: F.hardswish(2 * t + OFF),
                  lambda x: (2 * x + OFF) * np.clip(2 * x + OFF + 3, 0, 6) / 6),
    "hardsigmoid": (lambda t: F.hardsigmoid(2 * t + OFF),
                    lambda x: np.clip(2 * x + OFF + 3, 0, 6) / 6),
    "softsign": (lambda t: F.softsign(t + OFF), lambda x: (x + OFF) / (1 + np.abs(x + OFF))),
    "logsigmoid": (lambda t: F.logsigmoid(5 * t), lambda x: -softplus(-5 * x)),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@given(x=float_arrays(shapes(min_dims=0)))
def test_elementwise_activation(name: str, x: np.ndarray) -> None:
    f, ref = ELEMENTWISE[name]
    assert_close(f(Tensor(x)), ref(x), rtol=1e-12, atol=1e-12, name=name)
    assert_gradients_match(f, Tensor(x, requires_grad=True), second_order=True)


def test_stable_at_large_inputs() -> None:
    x = np.array([-1e4, -800.0, 800.0, 1e4])
    assert_close(F.logsigmoid(Tensor(x)), [-1e4, -800.0, 0.0, 0.0])
    assert_close(F.mish(Tensor(x)), [0.0, 0.0, 800.0, 1e4], atol=1e-300)
    t = Tensor(x, requires_grad=True)
    F.logsigmoid(t).sum().backward()
    assert t.grad is not None
    assert_close(t.grad, [1.0, 1.0, 0.0, 0.0])


@given(x=float_arrays(shapes(min_dims=1, max_dims=3)), dim=st.integers(-1, 0))
def test_softmin(x: np.ndarray, dim: int) -> None:
    e = np.exp(-(x - x.min(axis=dim, keepdims=True)))
    assert_close(F.softmin(Tensor(x), dim), e / e.sum(axis=dim, keepdims=True), rtol=1e-12)
    assert_gradients_match(lambda t: F.softmin(t, dim), Tensor(x), second_order=True)


@given(x=float_arrays(st.tuples(st.integers(1, 3), st.sampled_from([2, 4]))),
       dim=st.sampled_from([1, -1]))
def test_glu(x: np.ndarray, dim: int) -> None:
    half = x.shape[1] // 2
    assert_close(F.glu(Tensor(x), dim), x[:, :half] * sigmoid(x[:, half:]), rtol=1e-12)
    assert_gradients_match(lambda t: F.glu(t, dim), Tensor(x), second_order=True)


@given(x=float_arrays(st.tuples(st.integers(1, 3), st.just(3), st.integers(1, 2))),
       per_channel=st.booleans())
def test_prelu(x: np.ndarray, per_channel: bool) -> None:
    w = np.array([0.25, -0.5, 1.5]) if per_channel else np.array([0.3])
    wb = w.reshape(1, -1, 1) if per_channel else w
    y = np.where(x + OFF > 0, x + OFF, wb * (x + OFF))
    assert_close(F.prelu(Tensor(x + OFF), Tensor(w)), y, rtol=1e-12)
    assert_gradients_match(lambda t, v: F.prelu(t + OFF, v), Tensor(x), Tensor(w),
                           second_order=True)


# ----------------------------------------------------------------------------- similarities


@given(x=float_arrays(st.tuples(st.integers(1, 3), st.integers(2, 4))),
       p=st.sampled_from([2.0, 3.0]), dim=st.sampled_from([0, 1, -1]))
def test_normalize(x: np.ndarray, p: float, dim: int) -> None:
    x = x + OFF  # no zero vector (its gradient is 1/eps, tested against PyTorch)
    ref = x / np.maximum(pnorm(x, p, dim, keepdims=True), 1e-12)
    assert_close(F.normalize(Tensor(x), p, dim), ref, rtol=1e-12)
    assert_gradients_match(lambda t: F.normalize(t, p, dim), Tensor(x), second_order=True)


@given(a=float_arrays(st.tuples(st.integers(1, 3), st.just(4))),
       b=float_arrays(st.sampled_from([(4,), (1, 4)])))
def test_cosine_similarity_broadcasts(a: np.ndarray, b: np.ndarray) -> None:
    a, b = a + OFF, b + 2 * OFF
    bb = np.broadcast_to(b, a.shape)
    ref = (a * bb).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(bb, axis=1))
    assert_close(F.cosine_similarity(Tensor(a), Tensor(b)), ref, rtol=1e-10)
    assert_gradients_match(F.cosine_similarity, Tensor(a), Tensor(b), second_order=True)


@given(a=float_arrays(st.tuples(st.integers(1, 3), st.integers(1, 4))),
       p=st.sampled_from([1.0, 2.0, 3.0]), keepdim=st.booleans())
def test_pairwise_distance(a: np.ndarray, p: float, keepdim: bool) -> None:
    b = a[::-1] * 0.5 + OFF
    ref = pnorm(a - b + 1e-6, p, keepdims=keepdim)
    assert_close(F.pairwise_distance(Tensor(a), Tensor(b), p, keepdim=keepdim), ref,
                 rtol=1e-10)
    assert_gradients_match(lambda s, t: F.pairwise_distance(s, t, p, keepdim=keepdim),
                           Tensor(a), Tensor(b), second_order=p != 1.0)


# ----------------------------------------------------------------------------- losses

ROWS = st.tuples(st.integers(1, 3), st.integers(1, 4))
REDUCE = {"none": lambda v: v, "mean": np.mean, "sum": np.sum}


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # PyTorch's
@given(x=float_arrays(ROWS), reduction=st.sampled_from(["none", "mean", "sum", "batchmean"]),
       log_target=st.booleans())
def test_kl_div(x: np.ndarray, reduction: str, log_target: bool) -> None:
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    t = np.exp(x[::-1]) / 4
    ref = np.exp(t) * (t - logp) if log_target else t * (np.log(t) - logp)
    want = ref.sum() / x.shape[0] if reduction == "batchmean" else REDUCE[reduction](ref)
    got = F.kl_div(Tensor(logp), Tensor(t), reduction=reduction, log_target=log_target)
    assert_close(got, want, rtol=1e-12)
    assert_gradients_match(lambda a, b: F.kl_div(a, b, reduction=reduction,
                                                 log_target=log_target),
                           Tensor(logp), Tensor(t), second_order=True)


LOSSES: dict[str, tuple[Callable[..., Tensor], Callable[..., np.ndarray], int]] = {
    # name: (f(reduction, *tensors), numpy reference of the unreduced loss, operands)
    "soft_margin": (lambda r, x, s: F.soft_margin_loss(x, s.detach().sign(), reduction=r),
                    lambda x, s: softplus(-np.sign(s) * x), 2),
    "margin_ranking": (lambda r, x, y, s: F.margin_ranking_loss(
        x, y, s.detach().sign(), 0.3, reduction=r),
        lambda x, y, s: np.maximum(0, -np.sign(s) * (x - y) + 0.3), 3),
    "hinge_embedding": (lambda r, x, s: F.hinge_embedding_loss(
        x, s.detach().sign(), 1 + OFF, reduction=r),
        lambda x, s: np.where(np.sign(s) == 1, x, np.maximum(0, 1 + OFF - x)), 2),
    "poisson_log": (lambda r, x, y: F.poisson_nll_loss(x, y * y * 3, full=True, reduction=r),
                    lambda x, y: np.exp(x) - 3 * y * y * x + np.where(
                        3 * y * y > 1, 3 * y * y * np.log(3 * y * y) - 3 * y * y
                        + 0.5 * np.log(2 * np.pi * 3 * y * y), 0), 2),
    "poisson": (lambda r, x, y: F.poisson_nll_loss(x * x + 0.5, y * y, False, reduction=r),
                lambda x, y: x * x + 0.5 - y * y * np.log(x * x + 0.5 + 1e-8), 2),
    "gaussian": (lambda r, x, y, v: F.gaussian_nll_loss(x, y, v * v + 0.1, True, reduction=r),
                 lambda x, y, v: 0.5 * (np.log(v * v + 0.1) + (x - y) ** 2 / (v * v + 0.1))
                 + 0.5 * np.log(2 * np.pi), 3),
    "multilabel": (lambda r, x, q: F.multilabel_soft_margin_loss(x, q.sigmoid(), reduction=r),
                   lambda x, q: (-(sigmoid(q) * -softplus(-x) + (1 - sigmoid(q))
                                   * -softplus(x))).mean(-1), 2),
}


@pytest.mark.parametrize("name", list(LOSSES))
@given(x=float_arrays(st.tuples(st.integers(1, 3), st.integers(2, 4))),
       reduction=st.sampled_from(["none", "mean", "sum"]))
def test_loss(name: str, x: np.ndarray, reduction: str) -> None:
    f, ref, n = LOSSES[name]
    arrays = [x, x[::-1] * 0.7 - OFF, np.roll(x, 1, axis=1) + OFF][:n]
    assert_close(f(reduction, *map(Tensor, arrays)), REDUCE[reduction](ref(*arrays)),
                 rtol=1e-10, atol=1e-12, name=name)
    assert_gradients_match(lambda *t: f(reduction, *t), *map(Tensor, arrays),
                           second_order=True)


@given(a=float_arrays(st.tuples(st.integers(1, 3), st.integers(2, 4))),
       swap=st.booleans(), p=st.sampled_from([2.0, 3.0]))
def test_triplet_margin_loss(a: np.ndarray, swap: bool, p: float) -> None:
    pos, neg = a[::-1] * 0.5 + OFF, np.roll(a, 1, axis=1) - OFF
    d_neg = pnorm(a - neg + 1e-6, p)
    if swap:
        d_neg = np.minimum(d_neg, pnorm(pos - neg + 1e-6, p))
    ref = np.maximum(0, 1 + OFF + pnorm(a - pos + 1e-6, p) - d_neg)
    got = F.triplet_margin_loss(Tensor(a), Tensor(pos), Tensor(neg), 1 + OFF, p, swap=swap,
                                reduction="none")
    assert_close(got, ref, rtol=1e-10)
    assert_gradients_match(lambda *t: F.triplet_margin_loss(*t, 1 + OFF, p, swap=swap),
                           Tensor(a), Tensor(pos), Tensor(neg), second_order=True)


@given(a=float_arrays(st.tuples(st.integers(1, 3), st.integers(2, 4))))
def test_cosine_embedding_loss(a: np.ndarray) -> None:
    a, b = a + OFF, a[::-1] * 0.5 - OFF  # no zero vector (its 1e-12 guard is steep)
    t = np.where(np.arange(a.shape[0]) % 2 == 0, 1.0, -1.0)
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
    ref = np.where(t == 1, 1 - cos, np.maximum(0, cos - OFF))
    got = F.cosine_embedding_loss(Tensor(a), Tensor(b), Tensor(t), OFF, reduction="none")
    assert_close(got, ref, rtol=1e-10, atol=1e-12)
    assert_gradients_match(lambda s, u: F.cosine_embedding_loss(s, u, Tensor(t), OFF),
                           Tensor(a), Tensor(b), second_order=True)


def test_gaussian_var_shapes_and_the_clamp() -> None:
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    v_rows = np.array([0.5, 2.0])
    full = F.gaussian_nll_loss(Tensor(x), Tensor(y), Tensor(v_rows[:, None] * np.ones(3)))
    assert_close(F.gaussian_nll_loss(Tensor(x), Tensor(y), Tensor(v_rows)), full)
    assert_close(F.gaussian_nll_loss(Tensor(x), Tensor(y), Tensor(v_rows[:, None])), full)
    v = Tensor(np.array([1e-9, 1.0, 1.0]), requires_grad=True)  # clamped to eps = 1e-6
    loss = F.gaussian_nll_loss(Tensor(x[0]), Tensor(y[0]), v, reduction="sum")
    loss.backward()
    assert v.grad is not None
    # value and gradient at the clamped var: d/dv 0.5 (log v + d^2 / v) = 0.5 (1/v - d^2/v^2)
    assert_close(v.grad.numpy()[0], 0.5 * (1 / 1e-6 - 1 / 1e-12), rtol=1e-12)


def test_legacy_arguments_pick_the_reduction() -> Any:
    x, t = Tensor(np.array([[0.5, -1.0]])), Tensor(np.array([[1.0, -1.0]]))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        summed = F.soft_margin_loss(x, t, False)
    assert_close(summed, F.soft_margin_loss(x, t, reduction="sum"))
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.soft_margin_loss(x, t, None, False).shape == (1, 2)
