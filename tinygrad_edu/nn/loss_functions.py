"""Loss functions, as `torch.nn.functional` has them, plus the courses' own conventions.

Every loss is a composite of Tensor ops (no backward of its own), averaged over the batch
by default, and takes `reduction='mean' | 'sum' | 'none'` ('sum' is one course's softmax
loss; 'none' keeps one value per example). Targets are checked first: a wrong dtype or
shape raises an error that names the loss and both shapes. The regression losses (mse, l1,
huber, smooth_l1) follow PyTorch instead: a target of another, broadcastable shape is
broadcast after a UserWarning.

Kinks: the hinge losses use relu, whose derivative at exactly zero margin is 0 (the courses'
`margins > 0`); `l1_loss` uses |x|' = 0 at 0; the clipped probabilities of
`cross_entropy_from_probs` pass no gradient where the clip is active, while
`binary_cross_entropy` has PyTorch's bounded gradient there (see `nn._bce`).

Numeric edges (logits of +-1e4, +-1e30, probabilities of exactly 0 and 1, NaN and inf) are
tabulated, with the values and gradients each loss gives there, in docs/losses.md. A NaN in
the input or target gives a NaN loss and gradient (binary_cross_entropy raises instead, as
PyTorch): no loss turns a NaN into a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import composite, value_check
from tinygrad_edu.nn import _margin_losses
from tinygrad_edu.nn._bce import BinaryCrossEntropy
from tinygrad_edu.nn._loss_checks import (
    apply_reduction,
    check_label_range,
    check_reduction,
    class_dim_last,
    class_labels,
    class_weight,
    float_input,
    label_rows,
    one_hot,
    per_example,
    same_shape_target,
)
from tinygrad_edu.nn._regression_losses import (  # noqa: F401  (re-exported)
    huber_loss,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)
from tinygrad_edu.ops.linalg import Einsum
from tinygrad_edu.ops.values import held, value_name
from tinygrad_edu.tensor import Tensor, as_tensor

#: warnings point at the user's call: user -> composite wrapper -> the loss -> the check
_USER = 4

# the hinge losses live in `_margin_losses`; here they record their composite too
multi_margin_loss = composite("MultiMarginLoss")(_margin_losses.multi_margin_loss)
svm_loss = composite("SVMLoss")(_margin_losses.svm_loss)

# ----------------------------------------------------------------------------- softmax family


@composite("CrossEntropy")
def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits `input` (C,), (N, C) or (N, C, d1, ...).

    `target` is either integer class labels of shape (N,) / (N, d1, ...), or probabilities
    (one-hot or soft, float) of the input's shape. loss_n = -sum_c w_c q_nc log softmax(x_n)_c
    with q the (smoothed) target distribution. 'mean' divides by sum_n w_{y_n} for labels
    (by the number of labelled predictions without weights) and by the number of
    predictions for probabilities, as PyTorch. A label equal to `ignore_index` (any int,
    also a valid class such as 0) gives loss 0 and no gradient and counts for nothing in
    the mean; with every label ignored 'mean' is nan with gradient 0, 'sum' is 0.
    Gradient for labels: (softmax(x) - onehot(y)) / N. Finite for any finite logits.
    """
    name = "cross_entropy"
    check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = float_input(input, name)
    x2 = class_dim_last(x, name, target)
    t_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    soft = t_dtype.kind == "f" and np.shape(target) == x.shape
    w = class_weight(weight, x, name, constant=not soft)  # labels: an option of a primitive
    if soft:
        return _cross_entropy_soft(x, x2, as_tensor(target).to(x.dtype), w, reduction,
                                   label_smoothing)
    class_labels(x, target, name, ignore_index, soft_ok=True, range_check=False)
    return _picked_sum(x, x2.log_softmax(1), target, w, name, ignore_index, label_smoothing,
                       reduction)


def _picked_sum(x: Tensor, log_probs: Tensor, target: Any, w: Tensor | None, name: str,
                ignore_index: int, label_smoothing: float, reduction: str) -> Tensor:
    """-sum_c w_c q_nc log_probs_nc, reduced, for integer labels (q their smoothed one-hot
    rows): cross_entropy's and nll_loss's value.

    The coefficients come from the labels through a held computation (`ops.values`), so
    that compiled code rebuilds them from each call's labels; the range check is a guard."""
    labels = target if isinstance(target, Tensor) else as_tensor(np.asarray(target))
    labelled = value_check(check_label_range, labels, num_classes=log_probs.shape[1],
                           ignore_index=ignore_index, name=name)
    options = {"num_classes": log_probs.shape[1], "dtype": x.dtype,
               "ignore_index": ignore_index,
               "weight": None if w is None else w.array,  # held under compile: per call
               "label_smoothing": label_smoothing,
               "reduction": reduction}
    coef = held(_cross_entropy_coefficients, labels, **options)
    if reduction == "none":
        terms = _unused_zeroed(log_probs, coef) * coef
        return per_example(-terms.sum(axis=1), x)
    out = Einsum.apply(_unused_zeroed(log_probs, coef), coef, inputs_labels=("ab", "ab"),
                       out_labels="", optimize=False)
    if reduction == "sum" or (labelled if w is None else value_check(_any_weight, coef)):
        return out
    return out + as_tensor(np.asarray(np.nan, dtype=out.dtype))  # 0 / 0, as PyTorch


def _cross_entropy_labelled(labels: np.ndarray, num_classes: int, dtype: np.dtype,
                            ignore_index: int, weight: np.ndarray | None
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labelled, one-hot rows, weighted rows) of the flattened labels."""
    labelled = labels != ignore_index
    onehot = one_hot(labels, num_classes, dtype, labelled)
    return labelled, onehot, (onehot if weight is None else onehot * weight)


def _any_weight(coef: np.ndarray) -> bool:
    """Does any labelled target carry weight ('mean' divides by the total weight)? The
    'mean' coefficients are all 0 exactly when none does (else -w / total, or NaN where the
    weights sum to 0)."""
    return bool(coef.any())


@value_name("target_coef")
def _cross_entropy_coefficients(target: np.ndarray, num_classes: int, dtype: np.dtype,
                                ignore_index: int, weight: np.ndarray | None,
                                label_smoothing: float, reduction: str) -> np.ndarray:
    """The constant c of the loss sum(log softmax(x) * c): -coef / total weight for 'mean',
    -coef for 'sum', coef for 'none', where coef_nc = w_c q_nc, q the (smoothed) one-hot
    target. One einsum with it is a one-hot pick: no gather and no scatter-add in backward,
    so the loss adds little to a training step over hand-written numpy."""
    labelled, onehot, coef = _cross_entropy_labelled(target.reshape(-1), num_classes, dtype,
                                                     ignore_index, weight)
    total_weight = coef.sum()
    if label_smoothing:
        spread = (np.ones(num_classes, dtype) if weight is None else weight) * (
            label_smoothing / num_classes)
        coef = (1.0 - label_smoothing) * coef + labelled[:, None] * spread
    coef = coef.astype(dtype, copy=False)
    if reduction == "none":
        return coef
    if reduction == "sum":
        return (-coef).astype(dtype, copy=False)
    scale = 1.0 / total_weight if total_weight else np.nan
    with np.errstate(invalid="ignore"):
        scaled = np.where((onehot != 0) | (coef != 0), coef * -scale, 0.0)
    return scaled.astype(dtype, copy=False)


def _unused_zeroed(t: Tensor, coef: Tensor) -> Tensor:
    """t with 0 where coef is 0, if t has infinities: a masked logit (-inf) times its zero
    coefficient would otherwise turn the sum into nan. (The finiteness test is a guard of
    compiled code: `modes.value_check`; the mask is held, recomputed per call.)"""
    return t if value_check(_all_finite, t) else t.where(held(_nonzero, coef), 0.0)


def _nonzero(a: np.ndarray) -> np.ndarray:
    return a != 0


def _all_finite(a: np.ndarray) -> bool:
    return bool(np.isfinite(a).all())


def _cross_entropy_soft(x: Tensor, x2: Tensor, target: Tensor, w: Tensor | None,
                        reduction: str, label_smoothing: float) -> Tensor:
    num_classes = x2.shape[1]
    q = class_dim_last(target, "cross_entropy")
    if label_smoothing:
        q = q * (1.0 - label_smoothing) + label_smoothing / num_classes
    if w is not None:
        q = q * w
    rows = -(x2.log_softmax(1) * q).sum(axis=1)
    return apply_reduction(per_example(rows, x), reduction)


@composite("NLLLoss")
def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities `input` (N, C) (or (C,), (N, C, d...))
    at integer labels: loss_n = -w_{y_n} input[n, y_n]; 'mean' divides by sum_n w_{y_n}.
    A target equal to `ignore_index` (any int, also a valid class) gives loss 0 and no
    gradient and is left out of the mean; with every target ignored 'mean' is nan (gradient
    0) and 'sum' is 0, as PyTorch. `nll_loss(log_softmax(x), y)` equals `cross_entropy(x, y)`."""
    name = "nll_loss"
    check_reduction(reduction, name)
    x = float_input(input, name)
    x2 = class_dim_last(x, name, target)
    class_labels(x, target, name, ignore_index, range_check=False)
    return _picked_sum(x, x2, target, class_weight(weight, x, name, constant=True), name,
                       ignore_index, 0.0, reduction)


@composite("CrossEntropyFromProbs")
def cross_entropy_from_probs(probs: Any, target: Any, eps: float = 1e-12,
                             reduction: str = "mean") -> Tensor:
    """The CS189 way: cross-entropy of probabilities (a softmax output), -sum_c y_c log p_c.

    `target` is one-hot/probabilities of the same shape, or integer labels (N,). p is
    clipped to [eps, 1] before the log so a probability that underflowed to 0 gives a large
    finite loss (-log eps) instead of inf; where the clip is active the gradient is 0. A NaN
    probability gives a NaN loss.
    Prefer `cross_entropy(logits, y)`: it never needs the clip.
    """
    name = "cross_entropy_from_probs"
    check_reduction(reduction, name)
    p = float_input(probs, name, "probs")
    p2 = class_dim_last(p, name, target)
    t_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    if t_dtype.kind == "f" and np.shape(target) == p.shape:
        y = class_dim_last(as_tensor(target).to(p.dtype), name)
    else:  # one-hot rows through a primitive and a guard, as cross_entropy's
        class_labels(p, target, name, soft_ok=True, range_check=False)
        y = label_rows(target, p2.shape[1], p.dtype, name)
    # Clipped with masks rather than Tensor.clamp so that a NaN probability stays NaN (a
    # NaN compares False, so neither bound replaces it) instead of becoming -log(eps).
    clipped = p2.where(~(p2 < eps), eps).where(~(p2 > 1.0), 1.0)
    rows = -(clipped.log() * y).sum(axis=1)
    return apply_reduction(per_example(rows, p), reduction)


# ----------------------------------------------------------------------------- binary


def _elementwise_weight(weight: Any, x: Tensor, name: str, what: str = "weight") -> Tensor:
    w = as_tensor(weight).to(x.dtype)
    try:
        ok = np.broadcast_shapes(w.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{name}: {what} shape {w.shape} cannot be broadcast to the input "
                         f"shape {x.shape}")
    return w


@composite("BCELoss")
def binary_cross_entropy(input: Any, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-w [y log p + (1 - y) log(1 - p)] for probabilities p and targets y in [0, 1].

    Each log is clamped to >= -100 as PyTorch does, so p = 0 or 1 gives a finite loss (at
    most 100 w). The gradient is PyTorch's, w (p - y) / max(p (1 - p), 1e-12) / N: the
    derivative of the value wherever p (1 - p) >= 1e-12, and finite (at most 1e12 w / N)
    at and near p = 0 and 1. The gradient with respect to y is the derivative of the value,
    w (max(log(1 - p), -100) - max(log p, -100)) / N (see `nn._bce.BinaryCrossEntropy`).
    A p or y outside [0, 1], or NaN, raises, as in PyTorch.
    """
    name = "binary_cross_entropy"
    check_reduction(reduction, name)
    p = float_input(input, name)
    y = same_shape_target(p, target, name)
    _check_probabilities(p, name, "input", "; for logits use binary_cross_entropy_with_logits")
    _check_probabilities(y, name, "target", "")
    loss = BinaryCrossEntropy.apply(p, y)
    if weight is not None:
        loss = loss * _elementwise_weight(weight, p, name)
    return apply_reduction(loss, reduction)


def _check_probabilities(t: Tensor, name: str, what: str, hint: str) -> None:
    """Raise unless every element of t is in [0, 1] (a guard of compiled code, too)."""
    value_check(_check_probability_range, t, name=name, what=what, hint=hint)


def _check_probability_range(a: np.ndarray, name: str, what: str, hint: str) -> None:
    """Written so that NaN fails the check (as in PyTorch): the clamped logs would
    otherwise turn a NaN probability into the finite loss 100."""
    outside = ~((a >= 0) & (a <= 1))
    if not outside.any():
        return
    nan = " and NaN" if np.isnan(a).any() else ""
    finite = a[~np.isnan(a)]
    low, high = (finite.min(), finite.max()) if finite.size else (np.nan, np.nan)
    raise ValueError(f"{name}: {what} must hold probabilities in [0, 1], got values in "
                     f"[{low:.4g}, {high:.4g}]{nan}{hint}")


@composite("BCEWithLogitsLoss")
def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None,
                                     reduction: str = "mean", pos_weight: Any = None
                                     ) -> Tensor:
    """Binary cross-entropy of sigmoid(x), computed from the logits x without the sigmoid:
    (1 - y) x + (1 + (pos_weight - 1) y) softplus(-x), finite for any |x|.

    softplus(-x) = max(-x, 0) + log(1 + e^-|x|): exp never overflows. max splits its
    gradient at 0, which cancels abs'(0) = 0 exactly, so at x = 0 the gradient is the true
    (sigmoid(0) - y) / N. Gradient without pos_weight: (sigmoid(x) - y) / N.
    """
    name = "binary_cross_entropy_with_logits"
    check_reduction(reduction, name)
    x = float_input(input, name)
    y = same_shape_target(x, target, name)
    softplus_neg = (-x).softplus()  # exact derivatives at every order, also at x = 0
    if pos_weight is None:
        loss = (1.0 - y) * x + softplus_neg
    else:
        pw = _elementwise_weight(pos_weight, x, name, "pos_weight")
        loss = (1.0 - y) * x + (1.0 + (pw - 1.0) * y) * softplus_neg
    if weight is not None:
        loss = loss * _elementwise_weight(weight, x, name)
    return apply_reduction(loss, reduction)


# ----------------------------------------------------------------------------- regularization


@composite("L2Penalty")
def l2_penalty(params: Tensor | Iterable[Tensor], reg: float) -> Tensor:
    """0.5 * reg * sum ||W||^2 over the given tensors (the courses' convention: the 0.5
    makes its gradient reg * W). Pass the weights only; the courses leave biases out."""
    try:
        tensors = [params] if isinstance(params, Tensor) else list(params)
    except TypeError:
        raise TypeError(f"l2_penalty: params must be a Tensor or an iterable of Tensors, got "
                        f"{type(params).__name__}") from None
    if not tensors:
        return as_tensor(np.zeros((), dtype=np.float64))
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"l2_penalty: params must be Tensors, item {i} is "
                            f"{type(t).__name__}")
    total = (tensors[0] * tensors[0]).sum()
    for t in tensors[1:]:
        total = total + (t * t).sum()
    return total * (0.5 * reg)


__all__ = ["cross_entropy", "nll_loss", "cross_entropy_from_probs", "multi_margin_loss",
           "svm_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "l2_penalty"]
