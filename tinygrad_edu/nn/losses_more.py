"""More losses, as `torch.nn.functional` has them (re-exported by `nn.functional` and
`nn.losses`): kl_div, soft_margin_loss, margin_ranking_loss, triplet_margin_loss,
poisson_nll_loss, gaussian_nll_loss, cosine_embedding_loss, hinge_embedding_loss,
multilabel_soft_margin_loss.

Each is a composite of Tensor ops with PyTorch's arguments in PyTorch's order, including
the deprecated `size_average` and `reduce` (given, they set the reduction after PyTorch's
UserWarning). Targets broadcast against the input as in PyTorch, silently (these losses
have no size warning in PyTorch); shapes that do not broadcast raise a ShapeError naming
both. The clamps at zero margin (margin_ranking, triplet, hinge_embedding,
cosine_embedding) pass the gradient at exactly zero, as PyTorch's clamp_min does. Their
values at the numeric edges are tabulated in docs/losses.md.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import where
from tinygrad_edu.modes import _state, value_check
from tinygrad_edu.nn._activations_functional import (
    eps_lift,
    has_below,
    logsigmoid,
    pairwise_distance,
)
from tinygrad_edu.nn._loss_checks import apply_reduction, check_reduction, float_input
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor, as_tensor

#: cosine_embedding_loss's guard added to each squared norm (PyTorch's EPSILON)
COSINE_EMBEDDING_EPS = 1e-12


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str,
                     stacklevel: int = 3) -> str:
    """The reduction, from PyTorch's deprecated `size_average`/`reduce` when either is given
    (each defaults to True: reduce=False gives 'none', else size_average picks 'mean' or
    'sum'), after PyTorch's UserWarning; otherwise `reduction` itself."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{result}' instead.", UserWarning, stacklevel=stacklevel)
    return result


def clamp_min0(v: Tensor) -> Tensor:
    """max(v, 0) with PyTorch's clamp_min rule: the gradient passes where v >= 0 (also at
    exactly 0, a zero margin) and nowhere else; a NaN stays NaN with gradient 0."""
    out = v.where(held(is_nonnegative, v), 0.0)  # held masks and guards: compile repeats
    if value_check(has_nan, v):  # a NaN compares False above: put it back, as a constant
        out = out + held(nan_where_nan, v)
    return out


def is_nonnegative(a: np.ndarray) -> np.ndarray:
    return a >= 0


def has_nan(a: np.ndarray) -> bool:
    return bool(np.isnan(a).any())


def nan_where_nan(a: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(a), np.nan, 0.0).astype(a.dtype)


def target_mask(t: np.ndarray, shape: tuple[int, ...], equal: bool, label: int
                ) -> np.ndarray:
    """Where the target is (equal) or is not `label`, broadcast to `shape` (held)."""
    return np.broadcast_to(t == label if equal else t != label, shape)


def is_nonzero(a: np.ndarray) -> np.ndarray:
    return ~(a == 0)


def is_above_one(a: np.ndarray) -> np.ndarray:
    return a > 1


def has_negative(a: np.ndarray) -> bool:
    return bool((a < 0).any())


def _broadcast(name: str, **operands: Tensor) -> tuple[int, ...]:
    """The broadcast shape of the operands, or a ShapeError naming every operand's shape."""
    try:
        return tuple(np.broadcast_shapes(*(t.shape for t in operands.values())))
    except ValueError:
        shapes = ", ".join(f"{k} shape {t.shape}" for k, t in operands.items())
        raise ShapeError(f"{name}: {shapes} cannot be broadcast together") from None


def _prepare(name: str, reduction: str, size_average: bool | None, reduce: bool | None,
             input: Any, target: Any) -> tuple[Tensor, Tensor, str]:
    """(input, target, reduction) after the checks every elementwise loss here shares."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    check_reduction(reduction, name)
    x, t = float_input(input, name), as_tensor(target)
    _broadcast(name, input=x, target=t)
    return x, t, reduction


# ----------------------------------------------------------------------------- divergences


def kl_div(input: Any, target: Any, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean", log_target: bool = False
           ) -> Tensor:
    """KL(target || exp(input)) pointwise: input holds log-probabilities, target holds
    probabilities (log-probabilities with `log_target=True`):
    target (log target - input), with 0 where target = 0 (xlogy), or
    exp(target) (target - input).

    'batchmean' sums and divides by input.shape[0] (the KL divergence per example);
    'mean' divides by every element and warns, as PyTorch does. A negative target gives
    NaN. d/dinput = -target; d/dtarget = log target + 1 - input (its limit at target = 0 is
    -inf; we give -input there, PyTorch gives NaN)."""
    name = "kl_div"
    # As PyTorch: 'batchmean' divides by the batch size after the sum, or after whatever
    # the legacy size_average/reduce pick, when they are given.
    batchmean = reduction == "batchmean"
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", UserWarning,
                      stacklevel=2)
    elif batchmean:
        reduction = "sum"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'batchmean', 'sum' or 'none', "
                         f"got {reduction!r}")
    x, t = as_tensor(input), as_tensor(target)
    if x.dtype.kind != "f" or t.dtype.kind != "f":
        raise TypeError(f"{name}: input and target must be floating point, got {x.dtype} "
                        f"(shape {x.shape}) and {t.dtype} (shape {t.shape})")
    _broadcast(name, input=x, target=t)
    if log_target:
        loss = t.exp() * (t - x)
    else:
        # xlogy(t, t): t log t with 0 at t = 0 (log sees 1 there, so no -inf in the graph)
        # under compile always the masked form (equal when no target is 0), mask held
        zero = _state.trace is not None or (t.array == 0).any()
        safe = t.where(held(is_nonzero, t), 1.0) if zero else t
        t_log_t = t * safe.log()
        loss = t_log_t - t * x
    reduced = apply_reduction(loss, reduction)
    return reduced / x.shape[0] if batchmean and x.ndim else reduced


def poisson_nll_loss(input: Any, target: Any, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of target ~ Poisson(rate): exp(input) - target * input with
    `log_input` (input is the log-rate), else input - target * log(input + eps).
    `full` adds Stirling's term target log target - target + log(2 pi target) / 2 where
    target > 1 (0 elsewhere). exp(input) overflows to inf for input > 88.7 in float32 (709
    in float64), as in PyTorch: that is the value."""
    name = "poisson_nll_loss"
    x, t, reduction = _prepare(name, reduction, size_average, reduce, input, target)
    loss = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        big = held(is_above_one, t)
        # Stirling's term only where it is kept: log never sees t <= 1 (log 0 = -inf would
        # turn the masked gradient into NaN).
        ts = t if _state.trace is None and (t.array > 1).all() else t.where(big, 2.0)
        stirling = ts * ts.log() - ts + 0.5 * (ts * (2 * math.pi)).log()
        loss = loss + where(big, stirling, 0.0)
    return apply_reduction(loss, reduction)


def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of target ~ N(input, var): (log var + (input - target)^2 /
    var) / 2, plus log(2 pi) / 2 with `full`.

    `var` is a float (one variance for all), a tensor of the input's shape, of the input's
    shape without its last dim (unsqueezed there), or of the input's shape with exactly one
    dim of size 1 (broadcast along it), as PyTorch; anything else raises. Negative entries
    raise. var is clamped to >= eps in value only: the gradient with respect to var is the
    formula's at the clamped value (PyTorch clamps in place under no_grad)."""
    name = "gaussian_nll_loss"
    x = float_input(input, name)
    if isinstance(var, bool) or isinstance(var, int | np.integer):
        raise TypeError(f"{name}: var must be a Tensor or a float, got {type(var).__name__} "
                        f"{var!r} (PyTorch refuses it too; write {float(var)!r})")
    if isinstance(var, float | np.floating):
        if var < 0:
            raise ValueError(f"{name}: var has negative entry/entries ({var})")
        v = as_tensor(np.full(x.shape, var, dtype=x.dtype))
    else:
        v = as_tensor(var)
        if value_check(has_negative, v):
            raise ValueError(f"{name}: var has negative entry/entries (var shape {v.shape})")
    if v.shape != x.shape:
        if v.shape == x.shape[:-1]:
            v = v.unsqueeze(-1)
        elif not (v.ndim == x.ndim and
                  sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ShapeError(f"{name}: var of shape {v.shape} does not fit input of shape "
                             f"{x.shape}: expected the input's shape, the input's shape "
                             f"without its last dim {x.shape[:-1]}, or the input's shape with "
                             "one dim of size 1")
    check_reduction(reduction, name)
    t = as_tensor(target)
    _broadcast(name, input=x, target=t)
    # lift var to eps in value (0 where var >= eps); under compile always (v + 0 is v)
    if _state.trace is not None or has_below(v.array, eps):
        v = v + held(eps_lift, v, eps=eps)
    d = x - t
    loss = 0.5 * (v.log() + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)


# ----------------------------------------------------------------------------- margins


def soft_margin_loss(input: Any, target: Any, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)) for targets +-1, computed as softplus(-target * input):
    finite with a finite gradient for any input (PyTorch's log1p(exp(.)) overflows to inf,
    with a NaN gradient, once -target * input > 88.7 in float32, 709 in float64)."""
    x, t, reduction = _prepare("soft_margin_loss", reduction, size_average, reduce, input,
                               target)
    return apply_reduction((-(t * x)).softplus(), reduction)


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin), target +-1 saying which input should
    rank higher. The three must have the same number of dims and then broadcast."""
    name = "margin_ranking_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, name)
    x1, x2 = float_input(input1, name, "input1"), float_input(input2, name, "input2")
    t = as_tensor(target)
    if not x1.ndim == x2.ndim == t.ndim:
        raise ShapeError(f"{name}: input1, input2 and target must have the same number of "
                         f"dims, got shapes {x1.shape}, {x2.shape} and {t.shape}")
    _broadcast(name, input1=x1, input2=x2, target=t)
    return apply_reduction(clamp_min0(-t * (x1 - x2) + margin), reduction)


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """input where target = 1, max(0, margin - input) where target = -1, as PyTorch
    writes it: the first term where target != -1 plus the second where target != 1 (so a
    target outside {1, -1} gets both)."""
    x, t, reduction = _prepare("hinge_embedding_loss", reduction, size_average, reduce,
                               input, target)
    shape = np.broadcast_shapes(x.shape, t.shape)
    hinge = where(held(target_mask, t, shape=shape, equal=False, label=1),
                  clamp_min0(margin - x), 0.0)
    direct = where(held(target_mask, t, shape=shape, equal=False, label=-1), x, 0.0)
    return apply_reduction(hinge + direct, reduction)


def soft_margin_terms(x: Tensor, t: Tensor) -> Tensor:
    """-(t log sigmoid(x) + (1 - t) log sigmoid(-x)), stable for any x."""
    return -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))


def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of each class's logit, weighted by `weight` (per class) and
    averaged over the classes (the last dim): one value per example, then reduced. Finite
    for any logits (log sigmoid is stable)."""
    name = "multilabel_soft_margin_loss"
    x, t, reduction = _prepare(name, reduction, size_average, reduce, input, target)
    if x.ndim == 0:
        raise ShapeError(f"{name}: input must have a class dim, (C,) or (N, C), got shape () "
                         f"(target shape {t.shape})")
    w = None if weight is None else as_tensor(weight)
    if w is not None:
        _broadcast(name, input=x, target=t, weight=w)
    loss = soft_margin_terms(x, t)
    if w is not None:
        loss = loss * w
    return apply_reduction(loss.sum(-1) / x.shape[-1], reduction)


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(input1, input2) where target = 1, max(0, cos - margin) where target = -1 (0
    for any other target), per row. cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)),
    PyTorch's guard, so a zero vector gives cos = 0. Inputs (N, D) with target (N,), or
    (D,) with a 0-d target."""
    name = "cosine_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, name)
    x1, x2 = float_input(input1, name, "input1"), float_input(input2, name, "input2")
    t = as_tensor(target)
    if t.ndim > 1 or x1.ndim != t.ndim + 1 or x2.ndim != t.ndim + 1:
        raise ShapeError(f"{name}: expected inputs (N, D) with target (N,), or (D,) with a 0-d "
                         f"target, got input1 {x1.shape}, input2 {x2.shape}, target {t.shape}")
    d = t.ndim
    dot, sq1, sq2 = (x1 * x2).sum(d), (x1 * x1).sum(d), (x2 * x2).sum(d)
    _broadcast(name, input1=dot, input2=sq2, target=t)
    cos = dot / ((sq1 + COSINE_EMBEDDING_EPS) * (sq2 + COSINE_EMBEDDING_EPS)).sqrt()
    shape = np.broadcast_shapes(cos.shape, t.shape)
    similar = where(held(target_mask, t, shape=shape, equal=True, label=1), 1 - cos, 0.0)
    dissimilar = where(held(target_mask, t, shape=shape, equal=True, label=-1),
                       clamp_min0(cos - margin), 0.0)
    return apply_reduction(similar + dissimilar, reduction)


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the
    `pairwise_distance` (p-norm over the last dim, eps added to each difference). With
    `swap`, d(anchor, negative) becomes min(d(anchor, negative), d(positive, negative))
    (ties split the gradient, as PyTorch's minimum). margin must be positive."""
    name = "triplet_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, name)
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    a = float_input(anchor, name, "anchor")
    pos, neg = float_input(positive, name, "positive"), float_input(negative, name, "negative")
    if not a.ndim == pos.ndim == neg.ndim:
        raise ShapeError(f"{name}: anchor, positive and negative must have the same number of "
                         f"dims, got shapes {a.shape}, {pos.shape} and {neg.shape}")
    _broadcast(name, anchor=a, positive=pos, negative=neg)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(pos, neg, p, eps))
    return apply_reduction(clamp_min0(margin + d_pos - d_neg), reduction)


__all__ = ["kl_div", "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "multilabel_soft_margin_loss",
           "cosine_embedding_loss", "triplet_margin_loss"]
