"""Loss functions, as `torch.nn.functional` has them, plus the courses' own conventions.

Every loss is a composite of Tensor ops (no backward of its own), averaged over the batch
by default, and takes `reduction='mean' | 'sum' | 'none'` ('sum' is one course's softmax
loss; 'none' keeps one value per example). Targets are checked first: a wrong dtype or
shape raises an error that names the loss and both shapes.

Kinks: the hinge losses use relu, whose derivative at exactly zero margin is 0 (the courses'
`margins > 0`); `l1_loss` uses |x|' = 0 at 0; the clamped logs of `binary_cross_entropy` and
`cross_entropy_from_probs` pass no gradient where the clamp is active.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import cat
from tinygrad_edu.tensor import Tensor, as_tensor

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------- checks


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _float_input(x: Any, name: str, what: str = "input") -> Tensor:
    t = as_tensor(x)
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be a floating-point tensor, got {t.dtype} with "
                        f"shape {t.shape}")
    return t


def _same_shape_target(x: Tensor, target: Any, name: str) -> Tensor:
    """A target of the input's shape, converted to the input's dtype (ints/bools are fine)."""
    t = as_tensor(target)
    if t.shape != x.shape:
        raise ShapeError(f"{name}: target shape {t.shape} does not match input shape {x.shape}; "
                         "they must be equal (broadcasting them would silently compare every "
                         "pair of elements)")
    return t if t.dtype == x.dtype else t.to(x.dtype)


def _class_dim_last(x: Tensor, name: str) -> Tensor:
    """Scores (C,), (N, C) or (N, C, d1, ...) as a matrix with one row per prediction."""
    if x.ndim == 0:
        raise ShapeError(f"{name}: input must have a class dimension, got a 0-d tensor")
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    if x.ndim > 2:  # (N, C, d1, ...) -> (N * d1 * ..., C)
        x = x.permute(0, *range(2, x.ndim), 1)
    return x.reshape(-1, x.shape[-1])


def _label_shape(x: Tensor) -> tuple[int, ...]:
    return () if x.ndim == 1 else (x.shape[0], *x.shape[2:])


def _class_labels(x: Tensor, target: Any, name: str, ignore_index: int | None = None,
                  soft_ok: bool = False) -> np.ndarray:
    """The integer labels (flattened) that go with scores `x`, after checking them."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    expected = _label_shape(x)
    soft = f", or probabilities of the input's shape {x.shape}" if soft_ok else ""
    if t.shape != expected:
        raise ShapeError(f"{name}: target shape {t.shape} does not match input shape {x.shape}; "
                         f"expected integer class labels of shape {expected}{soft}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: class-label targets must be integers (int64), got {t.dtype} "
                        f"with shape {t.shape} for input of shape {x.shape}{soft}")
    labels = t.reshape(-1)
    num_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bad.any():
        valid = f"0..{num_classes - 1}" + (f" or ignore_index={ignore_index}"
                                           if ignore_index is not None else "")
        raise IndexError(f"{name}: target label {labels[bad][0]} is out of range for "
                         f"{num_classes} classes (valid: {valid})")
    return labels


def _class_weight(weight: Any, num_classes: int, dtype: np.dtype, name: str
                  ) -> np.ndarray | None:
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=dtype)
    if w.shape != (num_classes,):
        raise ShapeError(f"{name}: weight must have one entry per class, shape "
                         f"({num_classes},), got {w.shape}")
    return w


def _one_hot(labels: np.ndarray, num_classes: int, dtype: np.dtype) -> np.ndarray:
    """Rows of the identity; a label outside 0..C-1 (ignore_index) gives a row of zeros."""
    return (labels[:, None] == np.arange(num_classes)).astype(dtype)


def _per_example(rows: Tensor, x: Tensor) -> Tensor:
    """One loss per row back in the label shape ((N,), (N, d1, ...) or ())."""
    return rows.reshape(_label_shape(x))


# ----------------------------------------------------------------------------- softmax family


def _shifted(x2: Tensor) -> Tensor:
    """x minus its row max (a constant: log-softmax does not depend on the shift), so exp
    never sees a positive argument."""
    m = x2.data.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(x2.dtype, copy=False)
    return x2 - Tensor._wrap(m)


def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits `input` (C,), (N, C) or (N, C, d1, ...).

    `target` is either integer class labels of shape (N,) / (N, d1, ...), or probabilities
    (one-hot or soft, float) of the input's shape. loss_n = -sum_c w_c q_nc log softmax(x_n)_c
    with q the (smoothed) target distribution. 'mean' divides by sum_n w_{y_n} for labels
    (by the number of labelled predictions without weights; ignored labels count for
    nothing) and by the number of predictions for probabilities, as PyTorch.
    Gradient for labels: (softmax(x) - onehot(y)) / N. Finite for any finite logits.
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = _float_input(input, name)
    x2 = _class_dim_last(x, name)
    num_classes = x2.shape[1]
    w = _class_weight(weight, num_classes, x.dtype, name)
    t_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    if t_dtype.kind == "f" and np.shape(target) == x.shape:
        return _cross_entropy_soft(x, x2, as_tensor(target).to(x.dtype), w, reduction,
                                   label_smoothing)
    labels = _class_labels(x, target, name, ignore_index, soft_ok=True)
    onehot = _one_hot(labels, num_classes, x.dtype)
    coef = onehot if w is None else onehot * w  # row n: w_{y_n} at y_n
    total_weight = coef.sum()
    if label_smoothing:
        spread = (np.ones(num_classes, x.dtype) if w is None else w) * (label_smoothing
                                                                         / num_classes)
        labelled = (labels != ignore_index)[:, None]
        coef = (1.0 - label_smoothing) * coef + labelled * spread
    return _cross_entropy_coef(x, x2, coef.astype(x.dtype, copy=False), reduction,
                               total_weight)


def _cross_entropy_coef(x: Tensor, x2: Tensor, coef: np.ndarray, reduction: str,
                        total_weight: float) -> Tensor:
    """-sum_c coef_nc log softmax(x_n)_c with a constant coef.

    With z = x - rowmax and r = log sum_c exp(z), log softmax = z - r, so the loss is
    sum_n a_n r_n - sum_nc coef_nc z_nc with a = coef's row sums. The batch loss is one
    product of [r | z] with the constant [a | -coef]: six graph nodes in all (sub, exp, sum,
    log, cat, einsum), which keeps a training step close to hand-written numpy.
    """
    z = _shifted(x2)
    r = z.exp().sum(axis=1, keepdims=True).log()
    a = coef.sum(axis=1, keepdims=True)
    if reduction == "none":
        rows = r * Tensor._wrap(a) - (z * Tensor._wrap(coef)).sum(axis=1, keepdims=True)
        return _per_example(rows, x)
    scale = 1.0 / total_weight if reduction == "mean" else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):  # nothing labelled: nan, as PyTorch
        both = np.concatenate([a, -coef], axis=1) * np.asarray(scale, dtype=coef.dtype)
    return _dot_all(cat([r, z], dim=1), both)


def _dot_all(t: Tensor, coef: np.ndarray) -> Tensor:
    """sum(t * coef) for a constant coef, as one einsum node."""
    from tinygrad_edu.ops.linalg import Einsum

    labels = "abcdefgh"[: t.ndim]
    return Einsum.apply(t, Tensor._wrap(coef.astype(t.dtype, copy=False)),
                        inputs_labels=(labels, labels), out_labels="", optimize=False)


def _cross_entropy_soft(x: Tensor, x2: Tensor, target: Tensor, w: np.ndarray | None,
                        reduction: str, label_smoothing: float) -> Tensor:
    num_classes = x2.shape[1]
    q = _class_dim_last(target, "cross_entropy")
    if label_smoothing:
        q = q * (1.0 - label_smoothing) + label_smoothing / num_classes
    if w is not None:
        q = q * Tensor._wrap(w)
    z = _shifted(x2)
    log_probs = z - z.exp().sum(axis=1, keepdims=True).log()
    rows = -(log_probs * q).sum(axis=1)
    return _reduce(_per_example(rows, x), reduction)


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities `input` (N, C) (or (C,), (N, C, d...))
    at integer labels: loss_n = -w_{y_n} input[n, y_n]; 'mean' divides by sum_n w_{y_n}.
    `nll_loss(log_softmax(x), y)` equals `cross_entropy(x, y)`."""
    name = "nll_loss"
    _check_reduction(reduction, name)
    x = _float_input(input, name)
    x2 = _class_dim_last(x, name)
    labels = _class_labels(x, target, name, ignore_index)
    coef = _one_hot(labels, x2.shape[1], x.dtype)
    w = _class_weight(weight, x2.shape[1], x.dtype, name)
    if w is not None:
        coef = coef * w
    if reduction == "none":
        return _per_example(-(x2 * Tensor._wrap(coef)).sum(axis=1), x)
    scale = 1.0 / coef.sum() if reduction == "mean" else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return _dot_all(x2, -coef * np.asarray(scale, dtype=coef.dtype))


def cross_entropy_from_probs(probs: Any, target: Any, eps: float = 1e-12,
                             reduction: str = "mean") -> Tensor:
    """The CS189 way: cross-entropy of probabilities (a softmax output), -sum_c y_c log p_c.

    `target` is one-hot/probabilities of the same shape, or integer labels (N,). p is
    clipped to [eps, 1] before the log so a probability that underflowed to 0 gives a large
    finite loss (-log eps) instead of inf; where the clip is active the gradient is 0.
    Prefer `cross_entropy(logits, y)`: it never needs the clip.
    """
    name = "cross_entropy_from_probs"
    _check_reduction(reduction, name)
    p = _float_input(probs, name, "probs")
    p2 = _class_dim_last(p, name)
    t_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    if t_dtype.kind == "f" and np.shape(target) == p.shape:
        y = _class_dim_last(as_tensor(target).to(p.dtype), name)
    else:
        labels = _class_labels(p, target, name, soft_ok=True)
        y = Tensor._wrap(_one_hot(labels, p2.shape[1], p.dtype))
    rows = -(p2.clamp(min=eps, max=1.0).log() * y).sum(axis=1)
    return _reduce(_per_example(rows, p), reduction)


# ----------------------------------------------------------------------------- hinge losses


def _hinge_margins(x: Tensor, target: Any, margin: float, p: int, name: str) -> Tensor:
    """max(0, margin - s_y + s_j)^p for every class j, with 0 at j = y; shape (M, C)."""
    x2 = _class_dim_last(x, name)
    if x.ndim > 2:
        raise ShapeError(f"{name}: input must be (N, C) or (C,), got shape {x.shape}")
    labels = _class_labels(x, target, name)
    onehot = Tensor._wrap(_one_hot(labels, x2.shape[1], x.dtype))
    correct = (x2 * onehot).sum(axis=1, keepdims=True)
    # relu'(0) = 0: a margin of exactly zero passes no gradient (the courses' margins > 0).
    margins = (x2 - correct + margin).relu() * (1.0 - onehot)
    return margins * margins if p == 2 else margins


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, reduction: str = "mean") -> Tensor:
    """PyTorch's multiclass hinge: loss_n = w_{y_n} sum_{j != y_n} max(0, margin - x_{n,y_n}
    + x_{n,j})^p / C, averaged over N. Divided by the number of classes C: for tiny scores
    and margin 1 it is about (C - 1) / C. For the courses' convention see `svm_loss`."""
    name = "multi_margin_loss"
    _check_reduction(reduction, name)
    if p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 or 2, got {p}")
    x = _float_input(input, name)
    margins = _hinge_margins(x, target, margin, p, name)
    num_classes = margins.shape[1]
    rows = margins.sum(axis=1) * (1.0 / num_classes)
    w = _class_weight(weight, num_classes, x.dtype, name)
    if w is not None:
        rows = rows * Tensor._wrap(w[_class_labels(x, target, name)])
    return _reduce(_per_example(rows, x), reduction)


def svm_loss(scores: Any, y: Any, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """The courses' multiclass SVM loss: loss_n = sum_{j != y_n} max(0, s_nj - s_{n,y_n} +
    margin), averaged over N (not divided by C: about 9 for ten classes and tiny scores).

    Its gradient is 1 at each class whose margin is positive and minus their count at the
    correct class; a margin of exactly 0 counts as not positive (`margins > 0`).
    """
    name = "svm_loss"
    _check_reduction(reduction, name)
    x = _float_input(scores, name, "scores")
    rows = _hinge_margins(x, y, margin, 1, name).sum(axis=1)
    return _reduce(_per_example(rows, x), reduction)


# ----------------------------------------------------------------------------- regression


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(x - y)^2, averaged over every element by default; gradient 2 (x - y) / numel."""
    name = "mse_loss"
    _check_reduction(reduction, name)
    x = _float_input(input, name)
    d = x - _same_shape_target(x, target, name)
    return _reduce(d * d, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """|x - y|, averaged over every element; its derivative at x = y is 0 (abs'(0) = 0)."""
    name = "l1_loss"
    _check_reduction(reduction, name)
    x = _float_input(input, name)
    return _reduce((x - _same_shape_target(x, target, name)).abs(), reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), with d = x - y (PyTorch)."""
    name = "huber_loss"
    _check_reduction(reduction, name)
    if delta <= 0:
        raise ValueError(f"{name}: delta must be positive, got {delta}")
    x = _float_input(input, name)
    d = x - _same_shape_target(x, target, name)
    a = d.abs()
    inside = a.data < delta
    return _reduce((0.5 * d * d).where(inside, delta * (a - 0.5 * delta)), reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0
                   ) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (huber_loss / beta; beta=0: L1)."""
    name = "smooth_l1_loss"
    _check_reduction(reduction, name)
    if beta < 0:
        raise ValueError(f"{name}: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    return huber_loss(input, target, reduction, delta=beta) * (1.0 / beta)


# ----------------------------------------------------------------------------- binary


def _elementwise_weight(weight: Any, x: Tensor, name: str) -> Tensor | None:
    if weight is None:
        return None
    w = as_tensor(weight).to(x.dtype)
    try:
        np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        raise ShapeError(f"{name}: weight shape {w.shape} cannot be broadcast to the input "
                         f"shape {x.shape}") from None
    return w


def binary_cross_entropy(input: Any, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-w [y log p + (1 - y) log(1 - p)] for probabilities p in [0, 1].

    Each log is clamped to >= -100 as PyTorch does, so p = 0 or 1 gives a finite loss; the
    gradient through a clamped log is 0. Gradient elsewhere: w (p - y) / (p (1 - p)) / N.
    """
    name = "binary_cross_entropy"
    _check_reduction(reduction, name)
    p = _float_input(input, name)
    y = _same_shape_target(p, target, name)
    if p.numel() and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError(f"{name}: input must hold probabilities in [0, 1], got values in "
                         f"[{p.data.min():.4g}, {p.data.max():.4g}]; for logits use "
                         "binary_cross_entropy_with_logits")
    loss = -(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p))
    w = _elementwise_weight(weight, p, name)
    return _reduce(loss if w is None else loss * w, reduction)


def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100); log never sees a 0 (where p is 0 it sees 1 and the clamp takes over)."""
    positive = p.data > 0
    safe = p if positive.all() else p.where(positive, 1.0)
    logs = safe.log()
    return logs.where(positive & (logs.data >= -100.0), -100.0)


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
    _check_reduction(reduction, name)
    x = _float_input(input, name)
    y = _same_shape_target(x, target, name)
    softplus_neg = (-x).maximum(0.0) + ((-x.abs()).exp() + 1.0).log()
    if pos_weight is None:
        loss = (1.0 - y) * x + softplus_neg
    else:
        pw = _elementwise_weight(pos_weight, x, name)
        loss = (1.0 - y) * x + (1.0 + (pw - 1.0) * y) * softplus_neg
    w = _elementwise_weight(weight, x, name)
    return _reduce(loss if w is None else loss * w, reduction)


# ----------------------------------------------------------------------------- regularization


def l2_penalty(params: Tensor | Iterable[Tensor], reg: float) -> Tensor:
    """0.5 * reg * sum ||W||^2 over the given tensors (the courses' convention: the 0.5
    makes its gradient reg * W). Pass the weights only; the courses leave biases out."""
    tensors = [params] if isinstance(params, Tensor) else list(params)
    if not tensors:
        return Tensor._wrap(np.zeros((), dtype=np.float64))
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
