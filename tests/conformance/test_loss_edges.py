"""Losses at their numeric edges, against PyTorch: logits and inputs of +-1e4 and +-1e30,
probabilities of exactly 0 and 1 (and below e^-100), NaN and infinite inputs, in float32
and float64. Each case compares the value and the gradient under a random upstream
gradient, and checks that ours are finite wherever docs/losses.md says they are. Where we
differ on purpose, the test asserts both our documented behaviour and PyTorch's (so a
change on either side shows up), and the row is in docs/pytorch.md's deliberate
differences. The table of what each loss gives there: docs/losses.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF
from tinygrad_edu.course import layers as course

from .oracle import as_numpy, assert_close, check_function

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float32, np.float64]
BIG = [1e4, 1e30]


def logits(big: float, dtype: Any) -> np.ndarray:
    """Rows with one logit far above the rest, ties at +big, and -big entries."""
    return np.array([[big, -big, 0.0], [-big, big, big], [0.0, 0.0, -big]], dtype=dtype)


LABELS = np.array([1, 2, 2], dtype=np.int64)
MARGIN_LABELS = np.array([1, 0, 2], dtype=np.int64)  # no tie with the correct class


def run(lib: Any, F: Any, f: Callable[..., Any], arrays: list[np.ndarray],
        consts: tuple[np.ndarray, ...], seed: int = 0) -> tuple[Any, list[Any]]:
    """f(F, *arrays, *consts) in one library: the value and the gradient of every array
    under the same random upstream gradient."""
    inputs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = f(F, *inputs, *[lib.tensor(c.copy()) for c in consts])
    up = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    if lib is torch:
        grads = torch.autograd.grad(out, inputs, torch.tensor(up, dtype=out.dtype))
    else:
        grads = tg.grad(out, inputs, tg.tensor(up, dtype=out.dtype))
    return out, list(grads)


def assert_finite(x: Any, what: str) -> None:
    a = as_numpy(x)
    assert np.isfinite(a).all(), f"{what}: not finite: {a}"


def compare(f: Callable[..., Any], arrays: list[np.ndarray], consts: tuple[np.ndarray, ...] = (),
            *, finite_value: bool = True, what: str = "") -> None:
    """Value and gradients equal to PyTorch's; finite unless the docs say otherwise."""
    v_ours, g_ours = run(tg, GF, f, arrays, consts)
    v_torch, g_torch = run(torch, TF, f, arrays, consts)
    assert_close(v_ours, v_torch.detach(), what=f"{what} value")
    for i, (go, gt) in enumerate(zip(g_ours, g_torch)):
        assert_close(go, gt, what=f"{what} grad {i}")
        assert_finite(go, f"{what} grad {i}")
    if finite_value:
        assert_finite(v_ours, f"{what} value")


# ----------------------------------------------------------------------------- large logits

CLASS_LOSSES: dict[str, tuple[Callable[..., Any], str]] = {
    # name: (f(F, x, target, reduction), kind of target)
    "cross_entropy": (lambda F, x, t, r: F.cross_entropy(x, t, reduction=r), "labels"),
    "cross_entropy_weight": (lambda F, x, t, r: F.cross_entropy(
        x, t, weight=F_weight(F, x), reduction=r), "labels"),
    "cross_entropy_smoothing": (lambda F, x, t, r: F.cross_entropy(
        x, t, reduction=r, label_smoothing=0.1), "labels"),
    "cross_entropy_probs": (lambda F, x, t, r: F.cross_entropy(x, t, reduction=r), "probs"),
    "nll_loss_log_softmax": (lambda F, x, t, r: F.nll_loss(F.log_softmax(x, dim=1), t,
                                                            reduction=r), "labels"),
    "nll_loss_raw": (lambda F, x, t, r: F.nll_loss(x, t, reduction=r), "labels"),
    "multi_margin_loss": (lambda F, x, t, r: F.multi_margin_loss(x, t, reduction=r),
                          "margin_labels"),
    "multi_margin_loss_p2": (lambda F, x, t, r: F.multi_margin_loss(x, t, p=2, reduction=r),
                             "margin_labels"),
    "bce_with_logits": (lambda F, x, t, r: F.binary_cross_entropy_with_logits(
        x, t, reduction=r), "binary"),
    "bce_with_logits_pos_weight": (lambda F, x, t, r: F.binary_cross_entropy_with_logits(
        x, t, reduction=r, pos_weight=F_pos_weight(F, x)), "binary"),
}


def F_weight(F: Any, x: Any) -> Any:
    lib = torch if F is TF else tg
    return lib.tensor(np.array([0.5, 2.0, 1.0], dtype=as_numpy(x).dtype))


def F_pos_weight(F: Any, x: Any) -> Any:
    lib = torch if F is TF else tg
    return lib.tensor(np.array([2.0, 0.5, 1.0], dtype=as_numpy(x).dtype))


def class_target(kind: str, dtype: Any) -> np.ndarray:
    return {"labels": LABELS, "margin_labels": MARGIN_LABELS,
            "probs": np.array([[0, 1, 0], [0.5, 0.25, 0.25], [0, 0, 1]], dtype=dtype),
            "binary": np.array([[1, 0, 1], [0, 1, 0.5], [1, 1, 0]], dtype=dtype)}[kind]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("big", BIG)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(CLASS_LOSSES))
def test_class_losses_at_large_logits(name: str, dtype: Any, big: float, reduction: str
                                      ) -> None:
    """Logits of +-1e4 and +-1e30: values and gradients equal to PyTorch's, and finite
    except the value of multi_margin_loss(p=2) in float32 at 1e30, whose squared margins
    (2e30)^2 overflow to inf in both libraries (the gradient stays finite)."""
    f, kind = CLASS_LOSSES[name]
    overflow = name == "multi_margin_loss_p2" and dtype == np.float32 and big == 1e30
    compare(lambda F, x, t: f(F, x, t, reduction), [logits(big, dtype)],
            (class_target(kind, dtype),), finite_value=not overflow, what=f"{name} {big:g}")


@pytest.mark.parametrize("big", BIG)
@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_probs", "bce_with_logits",
                                  "nll_loss_log_softmax"])
def test_second_derivatives_at_large_logits(name: str, big: float) -> None:
    """float64: the derivative of <gradient, v> is PyTorch's too (softmax saturated)."""
    f, kind = CLASS_LOSSES[name]
    target = class_target(kind, np.float64)
    check_function(lambda x: f(GF, x, tg.tensor(target.copy()), "mean"),
                   lambda x: f(TF, x, torch.tensor(target.copy()), "mean"),
                   [logits(big, np.float64)], what=f"{name} {big:g}")


def test_multi_margin_at_1e30_keeps_the_exact_margin_deliberately() -> None:
    """x_j = x_y = 1e30: the margin is exactly 1 - x_y + x_j = 1. Ours adds the margin to
    x_j - x_y (= 0, exactly) and gets 1; PyTorch computes (1 - x_y) + x_j, where 1 - 1e30
    rounds to -1e30, and gets 0 (loss and gradient 0 for the row). At 1e4 both give 1."""
    x = np.array([[-1e30, 1e30, 1e30]])
    y = np.array([2])
    for dtype in DTYPES:
        v_ours, (g_ours,) = run(tg, GF, lambda F, a, t: F.multi_margin_loss(a, t), [x.astype(
            dtype)], (y,))
        v_torch, (g_torch,) = run(torch, TF, lambda F, a, t: F.multi_margin_loss(a, t),
                                  [x.astype(dtype)], (y,))
        up = float(np.random.default_rng(0).standard_normal())
        np.testing.assert_allclose(as_numpy(v_ours), 1.0 / 3.0, rtol=1e-6)
        np.testing.assert_allclose(as_numpy(g_ours), [[0.0, up / 3, -up / 3]], rtol=1e-6)
        assert as_numpy(v_torch) == 0.0 and not as_numpy(g_torch).any()


# ----------------------------------------------------------------------------- regression

REGRESSION: dict[str, Callable[..., Any]] = {
    "mse_loss": lambda F, a, t, r: F.mse_loss(a, t, reduction=r),
    "l1_loss": lambda F, a, t, r: F.l1_loss(a, t, reduction=r),
    "smooth_l1_loss": lambda F, a, t, r: F.smooth_l1_loss(a, t, reduction=r),
    "smooth_l1_loss_beta0": lambda F, a, t, r: F.smooth_l1_loss(a, t, reduction=r, beta=0.0),
    "huber_loss": lambda F, a, t, r: F.huber_loss(a, t, reduction=r, delta=2.0),
}


def regression_target(big: float, dtype: Any) -> np.ndarray:
    return np.array([[0.0, big, -big], [1.0, 2.0, 3.0], [big, -big, 0.0]], dtype=dtype)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("big", BIG)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_losses_at_large_inputs(name: str, dtype: Any, big: float, reduction: str
                                           ) -> None:
    """Differences up to 2e30: values and gradients (input and target) equal to PyTorch's.
    The one non-finite value: mse_loss in float32, where d^2 = 4e60 overflows to inf in
    both libraries (its gradient 2 d / N stays finite)."""
    f = REGRESSION[name]
    overflow = name == "mse_loss" and dtype == np.float32 and big == 1e30
    compare(lambda F, a, t: f(F, a, t, reduction),
            [logits(big, dtype), regression_target(big, dtype)],
            finite_value=not overflow, what=f"{name} {big:g}")
    if overflow:
        value, _ = run(tg, GF, lambda F, a, t: f(F, a, t, reduction),
                       [logits(big, dtype), regression_target(big, dtype)], ())
        assert np.isposinf(as_numpy(value)).any()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_losses_with_infinite_differences(name: str, dtype: Any, reduction: str
                                                     ) -> None:
    """An infinite input or target: the loss is inf; the gradient of l1, huber and
    smooth_l1 is the bounded one of their linear branch (the unused quadratic branch never
    squares the infinite difference), mse's is inf, as PyTorch's."""
    f = REGRESSION[name]
    x = np.array([[np.inf, 0.0, 1.0], [-np.inf, 2.0, 3.0]], dtype=dtype)
    t = np.array([[0.0, 0.5, np.inf], [1.0, 2.5, 3.0]], dtype=dtype)
    v_ours, g_ours = run(tg, GF, lambda F, a, b: f(F, a, b, reduction), [x, t], ())
    v_torch, g_torch = run(torch, TF, lambda F, a, b: f(F, a, b, reduction), [x, t], ())
    assert_close(v_ours, v_torch.detach(), what=f"{name} {reduction} value")
    for i, (go, gt) in enumerate(zip(g_ours, g_torch)):
        assert_close(go, gt, what=f"{name} {reduction} grad {i}")
        if name != "mse_loss":
            assert_finite(go, f"{name} {reduction} grad {i}")


# ----------------------------------------------------------------------------- probabilities


def probability_edges(dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """p at 0 and 1 with every kind of target, below e^-100 (float64: the clamp holds;
    float32: a subnormal, where 1/p overflows), tiny, and next to 1."""
    tiny = 1e-45 if dtype == np.float64 else 1e-40
    below_one = 1 - 1e-15 if dtype == np.float64 else 1 - 1e-7
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, tiny, 1e-20, below_one, 0.5, 1e-30],
                 dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.25, 0.75, 1.0, 1.0, 0.0, 0.25, 0.0], dtype=dtype)
    return p, y


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_binary_cross_entropy_at_probability_edges(dtype: Any, reduction: str,
                                                   weighted: bool) -> None:
    """p = 0 and 1: PyTorch clamps each log at -100 (loss <= 100 w) and divides the
    gradient by max(p (1 - p), 1e-12), so both stay finite; ours gives the same numbers,
    also for float32's subnormal p, where -1/p would overflow to -inf."""
    p, y = probability_edges(dtype)
    w = np.linspace(0.5, 2.0, p.size).astype(dtype)
    consts = (y, w) if weighted else (y,)

    def f(F: Any, a: Any, t: Any, *weight: Any) -> Any:
        return F.binary_cross_entropy(a, t, *weight, reduction=reduction)

    compare(f, [p], consts, what=f"bce {reduction} weighted={weighted}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_bce_loss_module_at_probability_edges(dtype: Any) -> None:
    p, y = probability_edges(dtype)
    ours, theirs = gnn.BCELoss(), tnn.BCELoss()
    compare(lambda F, a, t: (ours if F is GF else theirs)(a, t), [p], (y,), what="BCELoss")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_binary_cross_entropy_target_gradient_deliberately_finite(dtype: Any) -> None:
    """The gradient with respect to the target: ours is the derivative of the value both
    libraries return, max(log(1 - p), -100) - max(log p, -100) (+-100 at p = 0 or 1);
    PyTorch leaves these logs unclamped (+-inf at p = 0 or 1, and -log p > 100 below
    e^-100). Elsewhere the two agree."""
    p, y = probability_edges(dtype)
    (v_ours, (gp_ours, gy_ours)) = run(tg, GF, lambda F, a, t: F.binary_cross_entropy(
        a, t, reduction="none"), [p, y], ())
    (v_torch, (gp_torch, gy_torch)) = run(torch, TF, lambda F, a, t: F.binary_cross_entropy(
        a, t, reduction="none"), [p, y], ())
    assert_close(v_ours, v_torch.detach())
    assert_close(gp_ours, gp_torch)
    assert_finite(gy_ours, "target gradient")
    up = np.random.default_rng(0).standard_normal(p.shape)
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(p.astype(np.float64)), np.log1p(-p.astype(np.float64))
    clamped = up * (np.maximum(log_q, -100) - np.maximum(log_p, -100))
    np.testing.assert_allclose(as_numpy(gy_ours), clamped, rtol=1e-5)
    clamp_holds = (log_p < -100) | (log_q < -100)
    theirs = as_numpy(gy_torch)
    assert not np.isfinite(theirs[(p == 0) | (p == 1)]).any()
    np.testing.assert_allclose(as_numpy(gy_ours)[~clamp_holds], theirs[~clamp_holds],
                               rtol=1e-5)


@pytest.mark.parametrize("what", ["input", "target"])
def test_binary_cross_entropy_refuses_nan_and_out_of_range(what: str) -> None:
    """PyTorch raises for a probability or a target outside [0, 1], NaN included; so do
    we (the clamped logs would otherwise turn NaN into the number 100)."""
    for bad in (np.nan, 1.5, -0.25):
        p, y = np.array([0.5, 0.25]), np.array([1.0, 0.0])
        (p if what == "input" else y)[0] = bad
        with pytest.raises(RuntimeError, match=f"all elements of {what} should be between"):
            TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
        with pytest.raises(ValueError, match=rf"^binary_cross_entropy: {what} must hold "
                                             r"probabilities in \[0, 1\]"):
            GF.binary_cross_entropy(tg.tensor(p), tg.tensor(y))


# ----------------------------------------------------------------------------- NaN and inf

NAN_CASES: dict[str, tuple[Callable[..., Any], str]] = {
    "cross_entropy": (lambda F, x, t: F.cross_entropy(x, t, reduction="none"), "labels"),
    "cross_entropy_smoothing": (lambda F, x, t: F.cross_entropy(
        x, t, reduction="none", label_smoothing=0.2), "labels"),
    "cross_entropy_probs": (lambda F, x, t: F.cross_entropy(x, t, reduction="none"), "probs"),
    "nll_loss": (lambda F, x, t: F.nll_loss(x, t, reduction="none"), "labels"),
    "bce_with_logits": (lambda F, x, t: F.binary_cross_entropy_with_logits(
        x, t, reduction="none"), "binary"),
    "mse_loss": (lambda F, x, t: F.mse_loss(x, t, reduction="none"), "real"),
    "huber_loss": (lambda F, x, t: F.huber_loss(x, t, reduction="none"), "real"),
    "smooth_l1_loss": (lambda F, x, t: F.smooth_l1_loss(x, t, reduction="none"), "real"),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(NAN_CASES))
def test_nan_input_gives_nan_where_pytorch_does(name: str, dtype: Any) -> None:
    """A NaN logit or input: NaN in the loss of its row (or element), the other rows
    untouched, and NaN in the gradient exactly where PyTorch has it (nll_loss's gradient
    does not depend on the input, so it has none); the 'mean' is NaN."""
    f, kind = NAN_CASES[name]
    x = np.array([[np.nan, 1.0, 0.0], [0.5, -1.0, 2.0]], dtype=dtype)
    target = {"labels": np.array([0, 2]), "probs": np.array([[0, 1, 0], [0.5, 0.5, 0]], dtype),
              "binary": np.array([[1, 0, 1], [0, 1, 0.5]], dtype),
              "real": np.array([[1, 2, 3], [0.5, 0.5, 0.5]], dtype)}[kind]
    v_ours, (g_ours,) = run(tg, GF, f, [x], (target,))
    v_torch, (g_torch,) = run(torch, TF, f, [x], (target,))
    assert_close(v_ours, v_torch.detach(), what="value")
    assert_close(g_ours, g_torch, what="gradient")
    assert np.isnan(as_numpy(v_ours)[0]).any() and not np.isnan(as_numpy(v_ours)[1]).any()
    value, _ = run(tg, GF, lambda F, a, t: f(F, a, t).mean(), [x], (target,))
    assert np.isnan(as_numpy(value))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "smooth_l1_loss",
                                  "bce_with_logits", "cross_entropy_probs"])
def test_nan_target_gives_nan(name: str, dtype: Any) -> None:
    f, kind = NAN_CASES[name]
    x = np.array([[0.2, 1.0, 0.0], [0.5, -1.0, 2.0]], dtype=dtype)
    target = (np.array([[np.nan, 1, 0], [0.5, 0.5, 0]], dtype) if kind == "probs" else
              np.array([[np.nan, 0, 1], [0, 1, 0.5]], dtype))
    v_ours, (g_ours,) = run(tg, GF, f, [x], (target,))
    v_torch, (g_torch,) = run(torch, TF, f, [x], (target,))
    assert_close(v_ours, v_torch.detach(), what="value")
    assert_close(g_ours, g_torch, what="gradient")
    assert np.isnan(as_numpy(v_ours)).any()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss_beta0"])
def test_l1_gradient_at_nan_is_nan_deliberately(name: str, dtype: Any) -> None:
    """|d|' = sign(d): PyTorch's sign(NaN) is 0, so its l1 gradient at a NaN difference is
    0; ours is NaN (never turn a NaN into a number). Values agree (NaN)."""
    f = REGRESSION[name]
    x = np.array([[np.nan, 1.0], [2.0, 3.0]], dtype=dtype)
    t = np.array([[0.0, np.nan], [1.0, 5.0]], dtype=dtype)
    v_ours, g_ours = run(tg, GF, lambda F, a, b: f(F, a, b, "none"), [x, t], ())
    v_torch, g_torch = run(torch, TF, lambda F, a, b: f(F, a, b, "none"), [x, t], ())
    assert_close(v_ours, v_torch.detach())
    nan_d = np.isnan(x - t)
    for go, gt in zip(g_ours, g_torch):
        assert np.isnan(as_numpy(go)[nan_d]).all()
        assert (as_numpy(gt)[nan_d] == 0).all()
        assert_close(as_numpy(go)[~nan_d], as_numpy(gt)[~nan_d])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_cross_entropy_with_minus_inf_logits(dtype: Any, reduction: str) -> None:
    """-inf logits (masked classes) take no probability. With class labels the loss and
    gradient are finite and equal to PyTorch's (the gradient at a masked logit is 0).
    With probability targets both libraries give NaN for a row with a -inf logit, even
    where its target probability is 0 (0 * -inf)."""
    x = np.array([[-np.inf, 0.0, 1.0], [1.0, -np.inf, 2.0], [0.0, 0.0, -np.inf]], dtype=dtype)
    q = np.array([[0, 1, 0], [0.5, 0, 0.5], [1, 0, 0]], dtype=dtype)
    compare(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x],
            (np.array([1, 2, 0]),), what=f"masked {reduction}")
    value, _ = run(tg, GF, lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x],
                   (q,))
    compare(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x], (q,),
            finite_value=False, what=f"masked probs {reduction}")
    assert np.isnan(as_numpy(value)).all()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_cross_entropy_plus_inf_logit_is_inf_deliberately() -> None:
    """A +inf logit at another class than the label: ours gives the loss its limit, +inf
    (logsumexp = inf, minus a finite logit), and a gradient of -1 at the label, 0 at the
    other finite logits and NaN at the infinite one; PyTorch computes inf - inf and gives
    NaN for the loss and the whole row's gradient. Other rows are unaffected in both."""
    x = np.array([[np.inf, 0.0, 1.0], [0.5, -1.0, 2.0]])
    y = np.array([1, 2])
    v_ours, (g_ours,) = run(tg, GF, lambda F, a, t: F.cross_entropy(a, t, reduction="none"),
                            [x], (y,))
    v_torch, (g_torch,) = run(torch, TF, lambda F, a, t: F.cross_entropy(a, t, reduction="none"),
                              [x], (y,))
    up = np.random.default_rng(0).standard_normal(2)
    assert as_numpy(v_ours)[0] == np.inf and np.isnan(as_numpy(v_torch)[0])
    np.testing.assert_allclose(as_numpy(g_ours)[0, 1:], [-up[0], 0.0])
    assert np.isnan(as_numpy(g_ours)[0, 0]) and np.isnan(as_numpy(g_torch)[0]).all()
    assert_close(as_numpy(v_ours)[1], as_numpy(v_torch)[1])
    assert_close(as_numpy(g_ours)[1], as_numpy(g_torch)[1])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_bce_with_logits_gradient_at_infinite_logits() -> None:
    """Infinite logits: the value is NaN in both libraries (inf - inf, or 0 * inf) except
    x = +inf with y = 0 (inf); PyTorch's gradient is still sigmoid(x) - y."""
    x = np.array([np.inf, np.inf, -np.inf, -np.inf, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    v_ours, (g_ours,) = run(tg, GF, lambda F, a, t: F.binary_cross_entropy_with_logits(
        a, t, reduction="none"), [x], (y,))
    v_torch, (g_torch,) = run(torch, TF, lambda F, a, t: F.binary_cross_entropy_with_logits(
        a, t, reduction="none"), [x], (y,))
    assert_close(v_ours, v_torch.detach())
    assert_close(g_ours, g_torch)


# ----------------------------------------------------------------------------- course losses


@pytest.mark.parametrize("big", BIG)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_course_losses_at_large_scores(dtype: Any, big: float) -> None:
    """The courses' softmax_loss and svm_loss (loss, dx) at scores of +-1e4 and +-1e30:
    finite and equal to PyTorch's cross_entropy and C * multi_margin_loss."""
    x = logits(big, dtype)
    for (loss, dx), f, labels_ in (
            (course.softmax_loss(x, LABELS), lambda t, y: TF.cross_entropy(t, y), LABELS),
            (course.svm_loss(x, MARGIN_LABELS),
             lambda t, y: 3 * TF.multi_margin_loss(t, y), MARGIN_LABELS)):
        xt = torch.tensor(x, requires_grad=True)
        want = f(xt, torch.tensor(labels_))
        want.backward()
        assert np.isfinite(loss) and np.isfinite(dx).all()
        assert dx.dtype == dtype
        assert_close(np.asarray(loss), as_numpy(want).astype(np.float64))
        assert_close(dx, as_numpy(xt.grad))
