"""Losses at their numeric edges, without PyTorch: the values and gradients docs/losses.md
lists (logits of +-1e4 and +-1e30, probabilities of exactly 0 and 1, float32's subnormal
probabilities, infinite differences) are finite and equal to their closed forms, and a NaN
in gives a NaN out. The same cases against PyTorch: tests/conformance/test_loss_edges.py.
Also the fused binary_cross_entropy primitive against the composite it replaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.course import layers as course
from tinygrad_edu.nn import losses as F
from tinygrad_edu.nn._bce import BinaryCrossEntropy, clamped_log, clamped_log1m
from tinygrad_edu.testing import assert_close, assert_gradients_match

DTYPES = [np.float32, np.float64]
IDS = ["float32", "float64"]


def value_and_grad(f: Callable[[Tensor], Tensor], x: np.ndarray) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """f(x) and the gradient of its sum."""
    t = Tensor(x.copy(), requires_grad=True)
    out = f(t)
    out.sum().backward()
    assert t.grad is not None
    return out.numpy(), t.grad.numpy()


def finite(*arrays: np.ndarray) -> None:
    for a in arrays:
        assert np.isfinite(a).all(), f"not finite: {a}"


# ----------------------------------------------------------------------------- large logits


@pytest.mark.parametrize("big", [1e4, 1e30])
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_cross_entropy_at_large_logits(dtype: Any, big: float) -> None:
    """A logit 2 * big above the label's: the loss is that gap and the gradient
    softmax - onehot = (1, -1, 0); the label's own logit the largest: 0 and 0."""
    x = np.array([[big, -big, 0.0], [big, -big, 0.0]], dtype=dtype)
    y = Tensor(np.array([1, 0]))
    for smoothing in (0.0, 0.1):
        value, grad = value_and_grad(
            lambda t, s=smoothing: F.cross_entropy(t, y, reduction="none", label_smoothing=s),
            x)
        finite(value, grad)
        assert value.dtype == grad.dtype == dtype
    value, grad = value_and_grad(lambda t: F.cross_entropy(t, y, reduction="none"), x)
    assert_close(value, [2 * big, 0.0], rtol=1e-6)
    assert_close(grad, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]], atol=1e-7)
    value, grad = value_and_grad(lambda t: F.nll_loss(t.log_softmax(1), y), x)
    assert_close(value, big, rtol=1e-6)
    finite(grad)


@pytest.mark.parametrize("big", [1e4, 1e30])
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_bce_with_logits_at_large_logits(dtype: Any, big: float) -> None:
    """(1 - y) x + softplus(-x) with its gradient sigmoid(x) - y: at x = +-big the loss is
    big, 0 or big / 2 and the gradient 1, 0, -1 or 1/2, never inf or NaN."""
    x = np.array([big, -big, big, -big, big], dtype=dtype)
    y = Tensor(np.array([0.0, 0.0, 1.0, 1.0, 0.5], dtype=dtype))
    value, grad = value_and_grad(
        lambda t: F.binary_cross_entropy_with_logits(t, y, reduction="none"), x)
    assert_close(value, [big, 0.0, 0.0, big, big / 2], rtol=1e-6)
    assert_close(grad, [1.0, 0.0, 0.0, -1.0, 0.5])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_multi_margin_keeps_the_exact_margin_at_1e30(dtype: Any) -> None:
    """x_j = x_y = 1e30: (x_j - x_y) + 1 is exactly 1, so the row's loss is 1/3 and its
    gradient +-1/3 (PyTorch's (1 - x_y) + x_j loses the 1: docs/pytorch.md)."""
    x = np.array([[-1e30, 1e30, 1e30]], dtype=dtype)
    value, grad = value_and_grad(lambda t: F.multi_margin_loss(t, Tensor(np.array([2]))), x)
    assert_close(value, 1 / 3, rtol=1e-6)
    assert_close(grad, [[0.0, 1 / 3, -1 / 3]], rtol=1e-6)


@pytest.mark.parametrize("big", [1e4, 1e30])
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_course_losses_at_large_scores(dtype: Any, big: float) -> None:
    x = np.array([[big, -big, 0.0], [0.0, big, -big]], dtype=dtype)
    loss, dx = course.softmax_loss(x, np.array([1, 1]))
    finite(np.asarray(loss), dx)
    assert_close(loss, big, rtol=1e-6)  # (2 big + 0) / 2
    assert_close(dx, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-7)
    loss, dx = course.svm_loss(x, np.array([1, 0]))
    finite(np.asarray(loss), dx)
    assert_close(loss, ((2 * big + 1) + (big + 1) + (big + 1)) / 2, rtol=1e-6)


# ----------------------------------------------------------------------------- regression


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_regression_losses_at_large_differences(dtype: Any) -> None:
    """d = 2e30: l1, huber and smooth_l1 are linear there (finite); mse squares it, which
    overflows float32 (inf, as PyTorch) but not float64; every gradient is finite."""
    x = np.array([1e30, -1e30], dtype=dtype)
    t = Tensor(np.array([-1e30, 1e30], dtype=dtype))
    for f, want, want_grad in ((F.l1_loss, 2e30, [0.5, -0.5]),
                               (F.huber_loss, 2e30 - 0.5, [0.5, -0.5]),
                               (F.smooth_l1_loss, 2e30 - 0.5, [0.5, -0.5])):
        value, grad = value_and_grad(lambda a, f=f: f(a, t), x)
        assert_close(value, want, rtol=1e-6)
        assert_close(grad, want_grad, rtol=1e-6)
    value, grad = value_and_grad(lambda a: F.mse_loss(a, t), x)
    assert_close(grad, [2e30, -2e30], rtol=1e-6)
    if dtype == np.float32:
        assert value == np.inf
    else:
        assert_close(value, 4e60, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_huber_and_smooth_l1_at_infinite_differences(dtype: Any) -> None:
    """An infinite difference: the loss is inf and the gradient that of the linear branch,
    +-delta / N (huber) or +-1 / N (smooth_l1); the quadratic branch, unused there, never
    squares the inf (0 * inf would be NaN)."""
    x = np.array([np.inf, -np.inf, 0.5], dtype=dtype)
    t = Tensor(np.array([0.0, 0.0, 0.0], dtype=dtype))
    value, grad = value_and_grad(lambda a: F.huber_loss(a, t, reduction="none", delta=2.0), x)
    assert_close(value, [np.inf, np.inf, 0.125])
    assert_close(grad, [2.0, -2.0, 0.5])
    value, grad = value_and_grad(lambda a: F.smooth_l1_loss(a, t, reduction="none", beta=0.5),
                                 x)
    assert_close(value, [np.inf, np.inf, 0.25])
    assert_close(grad, [1.0, -1.0, 1.0])


# ----------------------------------------------------------------------------- probabilities


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_binary_cross_entropy_at_zero_and_one(dtype: Any) -> None:
    """Each log clamped at -100: the loss is 100 (times the wrong part of the target) at
    p = 0 or 1. The gradient (p - y) / max(p (1 - p), 1e-12) is +-1e12 |p - y| there, 0
    where p = y."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=dtype)
    y = Tensor(np.array([1.0, 0.0, 0.0, 1.0, 0.25, 0.75], dtype=dtype))
    value, grad = value_and_grad(lambda a: F.binary_cross_entropy(a, y, reduction="none"), p)
    finite(value, grad)
    assert_close(value, [100.0, 100.0, 0.0, 0.0, 25.0, 25.0], rtol=1e-6)
    assert_close(grad, [-1e12, 1e12, 0.0, 0.0, -0.25e12, 0.25e12], rtol=1e-6)
    _, grad = value_and_grad(lambda a: F.binary_cross_entropy(a, y, weight=np.full(6, 2.0)),
                             p)
    assert_close(grad, np.array([-1e12, 1e12, 0.0, 0.0, -0.25e12, 0.25e12]) * 2 / 6,
                 rtol=1e-6)


def test_binary_cross_entropy_float32_subnormal_probability_is_finite() -> None:
    """p = 1e-40 (a float32 subnormal): log p = -92.1 is not clamped, but -1/p would
    overflow float32; the gradient is -1e12 instead of -inf."""
    p = np.array([1e-40, 1e-30], dtype=np.float32)
    y = Tensor(np.array([1.0, 1.0], dtype=np.float32))
    value, grad = value_and_grad(lambda a: F.binary_cross_entropy(a, y, reduction="none"), p)
    finite(value, grad)
    assert_close(value, [-np.log(1e-40), -np.log(1e-30)], rtol=1e-5)
    assert_close(grad, [-1e12, -1e12], rtol=1e-6)


def test_binary_cross_entropy_small_probability_uses_log1p() -> None:
    """y = 0: the loss is -log(1 - p), computed as -log1p(-p) (log(1 - p) would lose the
    digits of p: 2e-4 relative error at p = 1e-4 in float32)."""
    p = np.array([1e-4, 3e-5], dtype=np.float32)
    out = F.binary_cross_entropy(Tensor(p), Tensor(np.zeros(2, np.float32)), reduction="none")
    assert_close(out, -np.log1p(-p.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_binary_cross_entropy_target_gradient_is_the_derivative_of_the_value(dtype: Any
                                                                           ) -> None:
    """dl/dy = max(log(1 - p), -100) - max(log p, -100): +-100 at p = 0 or 1, finite."""
    p = Tensor(np.array([0.0, 1.0, 0.5, 1e-20], dtype=dtype))
    y = Tensor(np.array([1.0, 0.0, 0.25, 1.0], dtype=dtype), requires_grad=True)
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    assert y.grad is not None
    assert_close(y.grad, [100.0, -100.0, 0.0, np.log1p(-1e-20) - np.log(1e-20)], rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, 1.5, -0.5])
def test_binary_cross_entropy_refuses_targets_outside_zero_one(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: target must hold "
                                         r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(Tensor(np.array([0.5, 0.5])), Tensor(np.array([bad, 1.0])))


def test_cross_entropy_from_probs_at_zero() -> None:
    """The courses' loss of probabilities clips p to [eps, 1]: p = 0 at the label gives
    -log(eps) (27.6 for 1e-12) and no gradient through the clip."""
    p = np.array([[0.0, 1.0], [0.5, 0.5]])
    value, grad = value_and_grad(
        lambda a: F.cross_entropy_from_probs(a, Tensor(np.array([0, 1])), reduction="none"), p)
    assert_close(value, [-np.log(1e-12), np.log(2.0)])
    assert_close(grad, [[0.0, 0.0], [0.0, -2.0]])


# ----------------------------------------------------------------------------- NaN in, NaN out

LABELS = Tensor(np.array([0, 2]))
NAN_LOSSES: dict[str, Callable[[Tensor], Tensor]] = {
    "cross_entropy": lambda x: F.cross_entropy(x, LABELS, reduction="none"),
    "cross_entropy_smoothing": lambda x: F.cross_entropy(x, LABELS, reduction="none",
                                                         label_smoothing=0.1),
    "cross_entropy_weight": lambda x: F.cross_entropy(x, LABELS, np.array([1.0, 2.0, 3.0]),
                                                      reduction="none"),
    "cross_entropy_probs": lambda x: F.cross_entropy(
        x, Tensor(np.array([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]])), reduction="none"),
    "nll_loss": lambda x: F.nll_loss(x, LABELS, reduction="none"),
    "cross_entropy_from_probs": lambda x: F.cross_entropy_from_probs(x, LABELS,
                                                                     reduction="none"),
    "multi_margin_loss": lambda x: F.multi_margin_loss(x, LABELS, reduction="none"),
    "svm_loss": lambda x: F.svm_loss(x, LABELS, reduction="none"),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(
        x, Tensor(np.ones((2, 3))), reduction="none"),
    "mse_loss": lambda x: F.mse_loss(x, Tensor(np.ones((2, 3))), reduction="none"),
    "l1_loss": lambda x: F.l1_loss(x, Tensor(np.ones((2, 3))), reduction="none"),
    "huber_loss": lambda x: F.huber_loss(x, Tensor(np.ones((2, 3))), reduction="none"),
    "smooth_l1_loss": lambda x: F.smooth_l1_loss(x, Tensor(np.ones((2, 3))), beta=0.0,
                                                 reduction="none"),
}


@pytest.mark.parametrize("name", list(NAN_LOSSES))
def test_a_nan_input_gives_a_nan_loss(name: str) -> None:
    """NaN at the label's score (row 0): that row's loss is NaN, the other row's is not,
    and the mean is NaN. No loss turns the NaN into a number."""
    x = np.array([[np.nan, 0.2, 0.3], [0.1, 0.2, 0.7]])
    f = NAN_LOSSES[name]
    rows = f(Tensor(x)).numpy()
    assert np.isnan(rows[0]).any() and not np.isnan(rows[1]).any()
    assert np.isnan(f(Tensor(x)).mean().item())


def test_course_losses_keep_nan() -> None:
    """softmax_loss: NaN loss and NaN in the row's dx. svm_loss: NaN loss; its dx passes
    through relu, whose derivative at NaN is 0 (as PyTorch's), so the row's dx is 0."""
    x = np.array([[np.nan, 0.2, 0.3], [0.1, 0.2, 0.7]])
    loss, dx = course.softmax_loss(x, np.array([0, 2]))
    assert np.isnan(loss) and np.isnan(dx[0]).all() and np.isfinite(dx[1]).all()
    loss, dx = course.svm_loss(x, np.array([0, 2]))
    assert np.isnan(loss) and (dx[0] == 0).all() and np.isfinite(dx[1]).all()


# ----------------------------------------------------------------------------- fused primitive


def bce_composite(p: Tensor, y: Tensor) -> Tensor:
    """The composite the BinaryCrossEntropy primitive replaces (same clamped logs)."""
    return -(y * clamped_log(p) + (1.0 - y) * clamped_log1m(p))


@pytest.mark.parametrize("seed", range(3))
def test_bce_primitive_gradients_equal_the_composite_inside(seed: int) -> None:
    """Where p (1 - p) >= 1e-12 the primitive's gradients (first and second order, with
    respect to p and y) equal the composite's to 1e-12 in float64."""
    rng = np.random.default_rng(seed)
    p_np = rng.uniform(1e-6, 1 - 1e-6, (4, 3))
    y_np = rng.uniform(0, 1, (4, 3))
    up = rng.standard_normal((4, 3))
    v = rng.standard_normal((4, 3))
    results = []
    for f in (lambda a, b: BinaryCrossEntropy.apply(a, b), bce_composite):
        p = Tensor(p_np.copy(), requires_grad=True)
        y = Tensor(y_np.copy(), requires_grad=True)
        out = f(p, y)
        gp, gy = tg.grad(out, [p, y], Tensor(up), create_graph=True)
        second = tg.grad((gp * Tensor(v)).sum() + (gy * Tensor(v)).sum(), [p, y])
        results.append([out.numpy(), gp.numpy(), gy.numpy(), *(s.numpy() for s in second)])
    for fused, composite in zip(*results):
        assert_close(fused, composite, rtol=1e-12, atol=0.0)


def test_bce_gradients_against_central_differences() -> None:
    rng = np.random.default_rng(7)
    p = rng.uniform(0.05, 0.95, (3, 2))
    y = rng.uniform(0, 1, (3, 2))
    assert_gradients_match(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"), p, y,
                           second_order=True)


def test_softplus_at_infinity_is_the_limit_with_its_gradient() -> None:
    """softplus(+inf) = inf with gradient 1 and softplus(-inf) = 0 with gradient 0 (the
    stable formula alone would compute inf - inf); NaN stays NaN."""
    x = tg.tensor(np.array([np.inf, -np.inf, 0.5, np.nan]), requires_grad=True)
    y = x.softplus()
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy()[:2], [np.inf, 0.0])
    np.testing.assert_allclose(y.numpy()[2], np.log1p(np.exp(0.5)))
    assert np.isnan(y.numpy()[3]) and np.isnan(x.grad.numpy()[3])
    np.testing.assert_allclose(x.grad.numpy()[:3], [1.0, 0.0, 1 / (1 + np.exp(-0.5))])
