"""Losses: values against numpy references, gradients against closed forms and central
differences (float64). Reductions, conventions, errors and modules: test_loss_conventions.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.nn import losses as F
from tinygrad_edu.testing import assert_close, assert_gradients_match

RNG = np.random.default_rng(1234)


# ----------------------------------------------------------------------------- references


def np_log_softmax(x: np.ndarray) -> np.ndarray:
    s = x - x.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def ref_cross_entropy(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None,
                      smoothing: float = 0.0, ignore: int = -100) -> tuple[np.ndarray, float]:
    """Per-example losses and the 'mean' denominator, written the long way."""
    n, c = x.shape
    lp = np_log_softmax(x)
    w = np.ones(c) if w is None else w
    rows = np.zeros(n)
    denom = 0.0
    for i in range(n):
        if y[i] == ignore:
            continue
        nll = -w[y[i]] * lp[i, y[i]]
        smooth = -(w * lp[i]).sum() / c
        rows[i] = (1 - smoothing) * nll + smoothing * smooth
        denom += w[y[i]]
    return rows, denom


def ref_svm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The courses' vectorized svm_loss, per example."""
    n = x.shape[0]
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(n), y] = 0
    return margins.sum(axis=1)


def ref_svm_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The courses' dx: 1 where margins > 0, minus their count at the correct class; / N."""
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    dx = (margins > 0).astype(float)
    dx[np.arange(n), y] -= dx.sum(axis=1)
    return dx / n


def ref_multi_margin(x: np.ndarray, y: np.ndarray, p: int = 1, margin: float = 1.0
                     ) -> np.ndarray:
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                out[i] += max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
    return out / c


def reduce_np(rows: np.ndarray, reduction: str, denom: float | None = None) -> np.ndarray:
    if reduction == "none":
        return rows
    if reduction == "sum":
        return np.asarray(rows.sum())
    return np.asarray(rows.sum() / (rows.size if denom is None else denom))


def data(n: int = 5, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    return RNG.standard_normal((n, c)), RNG.integers(0, c, n)


REDUCTIONS = ["mean", "sum", "none"]


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_numpy(reduction: str) -> None:
    x, y = data(6, 5)
    w = RNG.random(5) + 0.5
    y[2] = -100
    for kwargs in ({}, {"weight": w}, {"label_smoothing": 0.2}, {"weight": w,
                                                                  "label_smoothing": 0.3}):
        rows, denom = ref_cross_entropy(x, y, kwargs.get("weight"),
                                        kwargs.get("label_smoothing", 0.0))
        out = F.cross_entropy(Tensor(x), Tensor(y), reduction=reduction, **kwargs)
        assert_close(out, reduce_np(rows, reduction, denom), name=f"cross_entropy {kwargs}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction: str) -> None:
    x, y = data(5, 3)
    q = RNG.random((5, 3))
    q /= q.sum(axis=1, keepdims=True)
    rows = -(q * np_log_softmax(x)).sum(axis=1)
    assert_close(F.cross_entropy(Tensor(x), Tensor(q), reduction=reduction),
                 reduce_np(rows, reduction))
    onehot = np.eye(3)[y]
    assert_close(F.cross_entropy(Tensor(x), Tensor(onehot), reduction=reduction),
                 F.cross_entropy(Tensor(x), Tensor(y), reduction=reduction))


def test_cross_entropy_extra_dims_and_unbatched() -> None:
    x = RNG.standard_normal((2, 4, 3, 2))
    y = RNG.integers(0, 4, (2, 3, 2))
    flat_x = x.transpose(0, 2, 3, 1).reshape(-1, 4)
    rows, _ = ref_cross_entropy(flat_x, y.reshape(-1))
    out = F.cross_entropy(Tensor(x), Tensor(y), reduction="none")
    assert_close(out, rows.reshape(2, 3, 2))
    assert_close(F.cross_entropy(Tensor(x), Tensor(y)), rows.mean())
    single = F.cross_entropy(Tensor(flat_x[0]), Tensor(np.asarray(y.reshape(-1)[0])),
                             reduction="none")
    assert single.shape == ()
    assert_close(single, rows[0])


def test_nll_loss_of_log_softmax_is_cross_entropy() -> None:
    x, y = data(6, 4)
    w = RNG.random(4) + 0.1
    y[0] = -100
    lp = np_log_softmax(x)
    for reduction in REDUCTIONS:
        rows = np.where(y == -100, 0.0, -w[np.where(y == -100, 0, y)]
                        * lp[np.arange(6), np.where(y == -100, 0, y)])
        denom = w[y[y != -100]].sum()
        assert_close(F.nll_loss(Tensor(lp), Tensor(y), weight=w, reduction=reduction),
                     reduce_np(rows, reduction, denom))
        assert_close(F.nll_loss(Tensor(x).log_softmax(1), Tensor(y), reduction=reduction),
                     F.cross_entropy(Tensor(x), Tensor(y), reduction=reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_losses_match_numpy(reduction: str) -> None:
    x, y = data(7, 5)
    assert_close(F.svm_loss(Tensor(x), Tensor(y), reduction=reduction),
                 reduce_np(ref_svm(x, y), reduction))
    for p, margin in ((1, 1.0), (2, 0.5)):
        assert_close(F.multi_margin_loss(Tensor(x), Tensor(y), p=p, margin=margin,
                                         reduction=reduction),
                     reduce_np(ref_multi_margin(x, y, p, margin), reduction))
    w = RNG.random(5)
    assert_close(F.multi_margin_loss(Tensor(x), Tensor(y), weight=w, reduction=reduction),
                 reduce_np(ref_multi_margin(x, y) * w[y], reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_numpy(reduction: str) -> None:
    x, t = RNG.standard_normal((2, 4, 3)) * 2
    d = x - t
    a = np.abs(d)
    cases: list[tuple[Callable[..., Tensor], np.ndarray, dict[str, Any]]] = [
        (F.mse_loss, d * d, {}),
        (F.l1_loss, a, {}),
        (F.huber_loss, np.where(a < 0.7, 0.5 * d * d, 0.7 * (a - 0.35)), {"delta": 0.7}),
        (F.smooth_l1_loss, np.where(a < 0.7, 0.5 * d * d / 0.7, a - 0.35), {"beta": 0.7}),
        (F.smooth_l1_loss, a, {"beta": 0.0}),
    ]
    for fn, ref, kwargs in cases:
        assert_close(fn(Tensor(x), Tensor(t), reduction=reduction, **kwargs),
                     reduce_np(ref, reduction), name=fn.__name__)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_match_numpy(reduction: str) -> None:
    logits = RNG.standard_normal((5, 3)) * 3
    y = RNG.random((5, 3))
    w = RNG.random(3)
    pw = RNG.random(3) + 0.5
    p = 1 / (1 + np.exp(-logits))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_close(F.binary_cross_entropy(Tensor(p), Tensor(y), reduction=reduction),
                 reduce_np(bce, reduction))
    assert_close(F.binary_cross_entropy(Tensor(p), Tensor(y), weight=w, reduction=reduction),
                 reduce_np(bce * w, reduction))
    assert_close(F.binary_cross_entropy_with_logits(Tensor(logits), Tensor(y),
                                                    reduction=reduction),
                 reduce_np(bce, reduction), rtol=1e-10)
    weighted = -(pw * y * np.log(p) + (1 - y) * np.log(1 - p)) * w
    assert_close(F.binary_cross_entropy_with_logits(Tensor(logits), Tensor(y), weight=w,
                                                    pos_weight=pw, reduction=reduction),
                 reduce_np(weighted, reduction), rtol=1e-10)


def test_binary_cross_entropy_clamps_log_at_minus_100() -> None:
    p = Tensor(np.array([0.0, 1.0, 0.5, 1e-60]), requires_grad=True)
    y = Tensor(np.array([1.0, 0.0, 1.0, 1.0]))
    out = F.binary_cross_entropy(p, y, reduction="none")
    assert_close(out, [100.0, 100.0, np.log(2.0), 100.0])
    out.sum().backward()
    assert p.grad is not None
    assert np.all(np.isfinite(p.grad.numpy()))
    # PyTorch's gradient (p - y) / max(p (1 - p), 1e-12): bounded at the clamps, -1/p at 0.5
    assert_close(p.grad, [-1e12, 1e12, -2.0, -1e12])


def test_cross_entropy_from_probs_is_the_cs189_softmax_loss() -> None:
    x, y = data(6, 4)
    probs = Tensor(x).softmax(1)
    onehot = np.eye(4)[y]
    for reduction in REDUCTIONS:
        assert_close(F.cross_entropy_from_probs(probs, Tensor(onehot), reduction=reduction),
                     F.cross_entropy(Tensor(x), Tensor(y), reduction=reduction), rtol=1e-12)
        assert_close(F.cross_entropy_from_probs(probs, Tensor(y), reduction=reduction),
                     F.cross_entropy(Tensor(x), Tensor(y), reduction=reduction), rtol=1e-12)
    # a probability that underflowed to 0 gives -log(eps), finite, and passes no gradient
    p = Tensor(np.array([[0.0, 1.0], [0.25, 0.75]]), requires_grad=True)
    out = F.cross_entropy_from_probs(p, Tensor(np.array([0, 1])), eps=1e-12, reduction="none")
    assert_close(out, [-np.log(1e-12), -np.log(0.75)])
    out.sum().backward()
    assert p.grad is not None
    assert_close(p.grad, [[0.0, 0.0], [0.0, -1 / 0.75]])


def test_l2_penalty_is_half_reg_sum_of_squares() -> None:
    w1 = Tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    w2 = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    out = F.l2_penalty([w1, w2], reg=0.3)
    assert_close(out, 0.5 * 0.3 * ((w1.numpy() ** 2).sum() + (w2.numpy() ** 2).sum()))
    out.backward()
    assert w1.grad is not None and w2.grad is not None
    assert_close(w1.grad, 0.3 * w1.numpy())
    assert_close(w2.grad, 0.3 * w2.numpy())
    assert_close(F.l2_penalty(w1, 2.0), (w1.numpy() ** 2).sum())
    assert F.l2_penalty([], 1.0).item() == 0.0


# ----------------------------------------------------------------------------- closed forms


def test_cross_entropy_gradient_is_p_minus_onehot_over_n() -> None:
    x, y = data(8, 5)
    t = Tensor(x, requires_grad=True)
    F.cross_entropy(t, Tensor(y)).backward()
    p = np.exp(np_log_softmax(x))
    assert t.grad is not None
    assert_close(t.grad, (p - np.eye(5)[y]) / 8, rtol=1e-10, atol=1e-14)
    t.grad = None
    F.cross_entropy(t, Tensor(y), reduction="sum").backward()
    assert_close(t.grad, p - np.eye(5)[y], rtol=1e-10, atol=1e-14)


def test_svm_gradient_is_the_courses_dx() -> None:
    x, y = data(9, 6)
    t = Tensor(x, requires_grad=True)
    F.svm_loss(t, Tensor(y)).backward()
    assert t.grad is not None
    assert_close(t.grad, ref_svm_grad(x, y))
    t2 = Tensor(x, requires_grad=True)
    F.multi_margin_loss(t2, Tensor(y)).backward()
    assert t2.grad is not None
    assert_close(t2.grad, ref_svm_grad(x, y) / 6)


def test_mse_gradient_is_two_diff_over_numel() -> None:
    x, t = RNG.standard_normal((2, 3, 4))
    a = Tensor(x, requires_grad=True)
    F.mse_loss(a, Tensor(t)).backward()
    assert a.grad is not None
    assert_close(a.grad, 2 * (x - t) / x.size)


def test_bce_with_logits_gradient_is_sigmoid_minus_target() -> None:
    x = RNG.standard_normal((4, 3)) * 4
    x[0, 0] = 0.0  # the kink of both max(-x, 0) and |x|: the gradient is still exact
    y = RNG.random((4, 3))
    t = Tensor(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(t, Tensor(y)).backward()
    assert t.grad is not None
    assert_close(t.grad, (1 / (1 + np.exp(-x)) - y) / x.size, rtol=1e-10, atol=1e-15)
    assert_close(t.grad.numpy()[0, 0], (0.5 - y[0, 0]) / x.size)


# ----------------------------------------------------------------------------- gradcheck


@st.composite
def scores_and_labels(draw: Any, max_n: int = 4, max_c: int = 5) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, max_n))
    c = draw(st.integers(2, max_c))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * 2, rng.integers(0, c, n)


@given(scores_and_labels())
def test_cross_entropy_gradcheck(xy: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = xy
    w = np.linspace(0.5, 1.5, x.shape[1])
    for reduction in REDUCTIONS:
        assert_gradients_match(lambda t, r=reduction: F.cross_entropy(t, Tensor(y), reduction=r),
                               x)
        assert_gradients_match(lambda t, r=reduction: F.cross_entropy(
            t, Tensor(y), weight=w, label_smoothing=0.1, reduction=r), x)
        assert_gradients_match(lambda t, r=reduction: F.nll_loss(t, Tensor(y), reduction=r), x)


@given(scores_and_labels())
def test_soft_cross_entropy_gradcheck_in_both_arguments(xy: tuple[np.ndarray, ...]) -> None:
    x, _ = xy
    q = np.abs(x[::-1]) + 0.1
    assert_gradients_match(lambda a, b: F.cross_entropy(a, b, reduction="none"), x, q)
    assert_gradients_match(lambda a, b: F.cross_entropy_from_probs(a.softmax(1), b), x, q,
                           second_order=True)


@given(scores_and_labels())
def test_hinge_gradcheck(xy: tuple[np.ndarray, ...]) -> None:
    x, y = xy
    # keep every margin at least 0.05 away from its kink
    n = x.shape[0]
    margins = x - x[np.arange(n), y][:, None] + 1.0
    x = x + np.where(np.abs(margins) < 0.05, 0.1, 0.0)
    assert_gradients_match(lambda t: F.svm_loss(t, Tensor(y)), x)
    assert_gradients_match(lambda t: F.multi_margin_loss(t, Tensor(y), p=2, reduction="none"), x)


@given(st.integers(0, 2**16), st.sampled_from(REDUCTIONS))
def test_elementwise_losses_gradcheck(seed: int, reduction: str) -> None:
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((2, 3, 2)) * 2
    x = x + np.where(np.abs(x - t) < 0.05, 0.2, 0.0)  # off the kinks of |d| and huber
    x = x + np.where(np.abs(np.abs(x - t) - 0.8) < 0.05, 0.2, 0.0)
    assert_gradients_match(lambda a, b: F.mse_loss(a, b, reduction=reduction), x, t,
                           second_order=True)
    assert_gradients_match(lambda a, b: F.l1_loss(a, b, reduction=reduction), x, t)
    assert_gradients_match(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.8),
                           x, t)
    p = 1 / (1 + np.exp(-x))
    y = 1 / (1 + np.exp(-t))
    assert_gradients_match(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
                           p, y)
    assert_gradients_match(lambda a, b, w: F.binary_cross_entropy_with_logits(
        a, b, pos_weight=w, reduction=reduction), x, y, y[0, 0] + 0.5)
