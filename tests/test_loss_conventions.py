"""Losses, the rest: reductions, the courses' conventions against PyTorch's, edge cases,
error messages and the loss modules. (Values and gradients are in test_losses.py.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import loss_modules as modules
from tinygrad_edu.nn import losses as F
from tinygrad_edu.nn.module import Module
from tinygrad_edu.testing import assert_close

RNG = np.random.default_rng(4321)
REDUCTIONS = ["mean", "sum", "none"]


def data(n: int = 5, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    return RNG.standard_normal((n, c)), RNG.integers(0, c, n)


# ----------------------------------------------------------------------------- reductions


LABEL_LOSSES = [F.cross_entropy, F.nll_loss, F.multi_margin_loss, F.svm_loss]
PAIR_LOSSES = [F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss,
               F.binary_cross_entropy, F.binary_cross_entropy_with_logits]


@pytest.mark.parametrize("fn", LABEL_LOSSES + PAIR_LOSSES, ids=lambda f: f.__name__)
def test_sum_is_n_times_mean_and_none_keeps_one_per_example(fn: Callable[..., Tensor]) -> None:
    x, y = data(7, 3)
    if fn in PAIR_LOSSES:
        x = 1 / (1 + np.exp(-x))
        target: Any = RNG.random(x.shape)
        count = x.size
        shape: tuple[int, ...] = x.shape
    else:
        target, count, shape = y, 7, (7,)
    mean = fn(Tensor(x), Tensor(target)).item()
    total = fn(Tensor(x), Tensor(target), reduction="sum").item()
    rows = fn(Tensor(x), Tensor(target), reduction="none")
    assert rows.shape == shape
    assert total == pytest.approx(count * mean, rel=1e-12)
    assert rows.numpy().sum() == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("fn", LABEL_LOSSES + PAIR_LOSSES + [F.cross_entropy_from_probs],
                         ids=lambda f: f.__name__)
def test_bad_reduction_is_named(fn: Callable[..., Tensor]) -> None:
    with pytest.raises(ValueError, match=rf"^{fn.__name__}: reduction must be 'mean', 'sum' "
                                         r"or 'none', got 'avg'"):
        fn(Tensor(np.full((2, 2), 0.5)), Tensor(np.array([0, 1])), reduction="avg")


def test_float32_in_float32_out() -> None:
    x, y = data(4, 3)
    t = Tensor(x.astype(np.float32), requires_grad=True)
    out = F.cross_entropy(t, Tensor(y))
    assert out.dtype == np.float32
    out.backward()
    assert t.grad is not None and t.grad.dtype == np.float32
    assert F.mse_loss(t, Tensor(x)).dtype == np.float32
    assert F.svm_loss(t, Tensor(y)).dtype == np.float32


# ----------------------------------------------------------------------------- conventions


def test_svm_loss_sums_classes_while_multi_margin_loss_divides_by_them() -> None:
    x = RNG.standard_normal((50, 10)) * 1e-4  # tiny scores: every margin is about 1
    y = RNG.integers(0, 10, 50)
    assert F.svm_loss(Tensor(x), Tensor(y)).item() == pytest.approx(9.0, abs=1e-2)
    assert F.multi_margin_loss(Tensor(x), Tensor(y)).item() == pytest.approx(0.9, abs=1e-3)


def test_hinge_derivative_is_zero_at_exactly_zero_margin() -> None:
    # class 1 sits exactly on the margin (s_1 - s_0 + 1 = 0), class 2 is inside it
    x = Tensor(np.array([[2.0, 1.0, 1.5]]), requires_grad=True)
    F.svm_loss(x, Tensor(np.array([0]))).backward()
    assert x.grad is not None
    assert_close(x.grad, [[-1.0, 0.0, 1.0]])
    x.grad = None
    F.multi_margin_loss(x, Tensor(np.array([0]))).backward()
    assert_close(x.grad, [[-1 / 3, 0.0, 1 / 3]])


def test_huge_logits_stay_finite() -> None:
    for dtype, big in ((np.float32, 1e30), (np.float64, 1e300)):
        x = Tensor(np.array([[big, 0.0, -big], [0.0, big, big]], dtype=dtype),
                   requires_grad=True)
        y = Tensor(np.array([0, 2]))
        out = F.cross_entropy(x, y)
        assert_close(out, np.log(2) / 2, rtol=1e-6)
        out.backward()
        assert x.grad is not None and np.all(np.isfinite(x.grad.numpy()))
        assert_close(x.grad, [[0, 0, 0], [0, 0.25, -0.25]], atol=1e-7)
        logits = Tensor(np.array([big, -big, 0.0], dtype=dtype), requires_grad=True)
        bce = F.binary_cross_entropy_with_logits(logits, Tensor(np.array([0.0, 1.0, 1.0])),
                                                 reduction="none")
        assert np.all(np.isfinite(bce.numpy()))
        assert_close(bce.numpy()[2], np.log(2), rtol=1e-6)
        bce.sum().backward()
        assert logits.grad is not None
        assert_close(logits.grad, [1.0, -1.0, -0.5], rtol=1e-6)


def test_initial_softmax_loss_is_log_num_classes() -> None:
    x = RNG.standard_normal((200, 10)) * 1e-3
    y = RNG.integers(0, 10, 200)
    assert F.cross_entropy(Tensor(x), Tensor(y)).item() == pytest.approx(np.log(10), rel=1e-3)


def test_ignore_index_rows_contribute_nothing() -> None:
    x, y = data(5, 3)
    y_ignored = y.copy()
    y_ignored[[1, 3]] = -100
    keep = [0, 2, 4]
    t = Tensor(x, requires_grad=True)
    out = F.cross_entropy(t, Tensor(y_ignored))
    assert_close(out, F.cross_entropy(Tensor(x[keep]), Tensor(y[keep])))
    out.backward()
    assert t.grad is not None
    assert_close(t.grad.numpy()[[1, 3]], np.zeros((2, 3)))
    assert_close(F.cross_entropy(Tensor(x), Tensor(y_ignored), reduction="none").numpy()[[1, 3]],
                 [0.0, 0.0])


def test_cross_entropy_graph_is_small() -> None:
    """The integer-label path is two nodes (the fused log_softmax and an einsum with the
    one-hot coefficients): it runs on every training step, so it must stay close to
    hand-written numpy."""
    x, y = data(128, 10)
    out = F.cross_entropy(Tensor(x, requires_grad=True), Tensor(y))
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(t._ctx for t in node.inputs)
    assert sorted(n.op for n in seen) == ["Einsum", "LogSoftmax"]


# ----------------------------------------------------------------------------- errors


def test_cross_entropy_target_errors_name_loss_and_shapes() -> None:
    x = Tensor(np.zeros((4, 3)))
    with pytest.raises(TypeError, match=r"^cross_entropy: class-label targets must be integers "
                                        r"\(int64\), got float64 with shape \(4,\) for input of "
                                        r"shape \(4, 3\)"):
        F.cross_entropy(x, Tensor(np.zeros(4)))
    with pytest.raises(ShapeError, match=r"^cross_entropy: target shape \(5,\) does not match "
                                         r"input shape \(4, 3\); expected integer class labels "
                                         r"of shape \(4,\), or probabilities"):
        F.cross_entropy(x, Tensor(np.zeros(5, dtype=np.int64)))
    with pytest.raises(IndexError, match=r"^cross_entropy: target label 3 is out of range for 3 "
                                         r"classes \(valid: 0..2 or ignore_index=-100\)"):
        F.cross_entropy(x, Tensor(np.array([0, 1, 2, 3])))
    with pytest.raises(TypeError, match=r"^cross_entropy: input must be a floating-point "
                                        r"tensor, got int64"):
        F.cross_entropy(Tensor(np.zeros((4, 3), dtype=np.int64)), Tensor(np.zeros(4, np.int64)))
    with pytest.raises(ShapeError, match=r"^cross_entropy: weight must have one entry per "
                                         r"class, shape \(3,\), got \(2,\)"):
        F.cross_entropy(x, Tensor(np.zeros(4, np.int64)), weight=np.ones(2))
    with pytest.raises(ShapeError, match=r"^cross_entropy: input must have a class dimension"):
        F.cross_entropy(Tensor(np.float64(1.0)), Tensor(np.int64(0)))
    with pytest.raises(ValueError, match=r"^cross_entropy: label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(x, Tensor(np.zeros(4, np.int64)), label_smoothing=1.5)


def test_other_label_loss_errors() -> None:
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"^svm_loss: class-label targets must be integers"):
        F.svm_loss(x, Tensor(np.zeros(2)))
    with pytest.raises(IndexError, match=r"^multi_margin_loss: target label -1 is out of range "
                                         r"for 3 classes \(valid: 0..2\)"):
        F.multi_margin_loss(x, Tensor(np.array([0, -1])))
    with pytest.raises(ValueError, match=r"^multi_margin_loss: p must be 1 or 2, got 3"):
        F.multi_margin_loss(x, Tensor(np.array([0, 1])), p=3)
    with pytest.raises(ShapeError, match=r"^svm_loss: input must be \(N, C\) or \(C,\), got "
                                         r"shape \(2, 3, 1\)"):
        F.svm_loss(Tensor(np.zeros((2, 3, 1))), Tensor(np.zeros((2, 1), np.int64)))
    with pytest.raises(ShapeError, match=r"^nll_loss: target of shape \(2, 3\) has the input's "
                                         r"shape \(2, 3\), but nll_loss takes no probability "
                                         r"targets: class-index targets must be integers of "
                                         r"shape \(2,\)"):
        F.nll_loss(x, Tensor(np.zeros((2, 3))))


def test_pair_loss_errors() -> None:
    x = Tensor(np.full((4, 1), 0.5))
    # The binary losses refuse a target of another shape, as PyTorch; the regression losses
    # broadcast it after a warning (tests/test_trust_nn.py).
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ShapeError, match=rf"^{fn.__name__}: target shape \(4,\) does not "
                                             r"match input shape \(4, 1\)"):
            fn(x, Tensor(np.zeros(4)))
    for fn in (F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss):
        with pytest.raises(ShapeError, match=rf"^{fn.__name__}: target shape \(3,\) and input "
                                             r"shape \(4, 2\) cannot be broadcast together"):
            fn(Tensor(np.zeros((4, 2))), Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: input must hold probabilities "
                                         r"in \[0, 1\], got values in \[-2, 3\]; for logits use "
                                         r"binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(Tensor(np.array([-2.0, 3.0])), Tensor(np.array([0.0, 1.0])))
    with pytest.raises(ShapeError, match=r"^binary_cross_entropy_with_logits: weight shape "
                                         r"\(3,\) cannot be broadcast to the input shape \(4, 1\)"):
        F.binary_cross_entropy_with_logits(x, Tensor(np.zeros((4, 1))), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"^huber_loss: delta must be positive"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(TypeError, match=r"^l2_penalty: params must be Tensors, item 1 is "
                                        r"ndarray"):
        F.l2_penalty([x, np.zeros(3)], 1.0)


def test_integer_and_bool_targets_of_the_right_shape_are_accepted() -> None:
    x = Tensor(np.array([0.2, 0.9]))
    assert_close(F.mse_loss(x, Tensor(np.array([0, 1]))), (0.04 + 0.01) / 2)
    assert_close(F.binary_cross_entropy(x, Tensor(np.array([False, True]))),
                 -(np.log(0.8) + np.log(0.9)) / 2)


# ----------------------------------------------------------------------------- modules


MODULE_CASES: list[tuple[Any, Callable[..., Tensor], dict[str, Any], str]] = [
    (modules.CrossEntropyLoss, F.cross_entropy,
     {"weight": np.array([1.0, 2.0, 0.5]), "label_smoothing": 0.1}, "labels"),
    (modules.NLLLoss, F.nll_loss, {"weight": np.array([1.0, 2.0, 0.5])}, "labels"),
    (modules.MultiMarginLoss, F.multi_margin_loss, {"p": 2, "margin": 0.5}, "labels"),
    (modules.SVMLoss, F.svm_loss, {"margin": 2.0}, "labels"),
    (modules.MSELoss, F.mse_loss, {}, "pairs"),
    (modules.L1Loss, F.l1_loss, {}, "pairs"),
    (modules.HuberLoss, F.huber_loss, {"delta": 0.3}, "pairs"),
    (modules.SmoothL1Loss, F.smooth_l1_loss, {"beta": 0.3}, "pairs"),
    (modules.BCELoss, F.binary_cross_entropy, {"weight": np.array([1.0, 2.0, 0.5])}, "pairs"),
    (modules.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits,
     {"pos_weight": np.array([1.0, 2.0, 0.5])}, "pairs"),
]


@pytest.mark.parametrize("cls,fn,kwargs,kind", MODULE_CASES,
                         ids=lambda c: getattr(c, "__name__", ""))
def test_loss_modules_call_their_function(cls: Any, fn: Callable[..., Tensor],
                                          kwargs: dict[str, Any], kind: str) -> None:
    x, y = data(4, 3)
    x = 1 / (1 + np.exp(-x))
    target = Tensor(y) if kind == "labels" else Tensor(RNG.random((4, 3)))
    for reduction in REDUCTIONS:
        module = cls(reduction=reduction, **kwargs)
        assert isinstance(module, Module)
        expected = fn(Tensor(x), target, reduction=reduction, **kwargs)
        assert_close(module(Tensor(x), target), expected, name=cls.__name__)
    assert "reduction='none'" in repr(module)
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: reduction must be"):
        cls(reduction="avg")


def test_loss_weights_are_buffers_in_the_state_dict() -> None:
    loss = modules.CrossEntropyLoss(weight=[1.0, 2.0])
    assert list(loss.state_dict()) == ["weight"]
    assert list(loss.parameters()) == []
    assert modules.MSELoss().state_dict() == {}
    from tinygrad_edu.nn.losses import CrossEntropyLoss

    assert CrossEntropyLoss is modules.CrossEntropyLoss


def test_masked_logits_minus_inf_are_ignored_not_nan() -> None:
    x = RNG.standard_normal((4, 5))
    x[[0, 1, 3], [1, 4, 0]] = -np.inf
    y = np.array([0, 2, 3, 4])
    finite = np.where(np.isinf(x), -1e30, x)
    for reduction in REDUCTIONS:
        t = Tensor(x, requires_grad=True)
        out = F.cross_entropy(t, Tensor(y), reduction=reduction)
        assert_close(out, F.cross_entropy(Tensor(finite), Tensor(y), reduction=reduction))
        out.sum().backward()
        assert t.grad is not None and np.all(np.isfinite(t.grad.numpy()))
        assert_close(t.grad.numpy()[np.isinf(x)], np.zeros(3))
        lp = Tensor(x).log_softmax(1)
        assert_close(F.nll_loss(lp, Tensor(y), reduction=reduction),
                     F.cross_entropy(Tensor(finite), Tensor(y), reduction=reduction))
