"""The margin (hinge) losses: PyTorch's `multi_margin_loss` and the courses' multiclass SVM
loss, both sum_j max(0, margin - x_y + x_j)^p over the wrong classes j."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn._loss_checks import (
    apply_reduction,
    check_reduction,
    class_dim_last,
    class_labels,
    class_weight,
    float_input,
    label_rows,
    per_example,
)
from tinygrad_edu.tensor import Tensor


def _hinge_margins(x: Tensor, onehot: Tensor, margin: float, p: int, name: str) -> Tensor:
    """max(0, margin - s_y + s_j)^p for every class j, with 0 at j = y; shape (M, C)."""
    x2 = class_dim_last(x, name)
    correct = (x2 * onehot).sum(axis=1, keepdims=True)
    # relu'(0) = 0: a margin of exactly zero passes no gradient (the courses' margins > 0).
    margins = (x2 - correct + margin).relu() * (1.0 - onehot)
    return margins * margins if p == 2 else margins


def _label_rows(x: Tensor, target: Any, name: str) -> Tensor:
    """The labels' one-hot rows, after the checks of their shape and dtype."""
    class_labels(x, target, name, range_check=False)
    return label_rows(target, x.shape[-1], x.dtype, name)


def _hinge_scores(scores: Any, target: Any, name: str, what: str = "input") -> Tensor:
    """The scores of a hinge loss, checked to be (N, C) or (C,) before the labels are."""
    x = float_input(scores, name, what)
    if x.ndim not in (1, 2):
        t = target.array if isinstance(target, Tensor) else target
        raise ShapeError(f"{name}: input must be (N, C) or (C,), got shape {x.shape} (target "
                         f"shape {np.shape(t)})")
    return x


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, reduction: str = "mean") -> Tensor:
    """PyTorch's multiclass hinge: loss_n = w_{y_n} sum_{j != y_n} max(0, margin - x_{n,y_n}
    + x_{n,j})^p / C, averaged over N. Divided by the number of classes C: for tiny scores
    and margin 1 it is about (C - 1) / C. For the courses' convention see `svm_loss`."""
    name = "multi_margin_loss"
    check_reduction(reduction, name)
    if p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 or 2, got {p}")
    x = _hinge_scores(input, target, name)
    onehot = _label_rows(x, target, name)
    margins = _hinge_margins(x, onehot, margin, p, name)
    num_classes = margins.shape[1]
    rows = margins.sum(axis=1) * (1.0 / num_classes)
    w = class_weight(weight, x, name)
    if w is not None:  # w at each row's label (a sum of zeros and w_y: exact)
        rows = rows * (onehot * w).sum(axis=1)
    return apply_reduction(per_example(rows, x), reduction)


def svm_loss(scores: Any, y: Any, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """The courses' multiclass SVM loss: loss_n = sum_{j != y_n} max(0, s_nj - s_{n,y_n} +
    margin), averaged over N (not divided by C: about 9 for ten classes and tiny scores).

    Its gradient is 1 at each class whose margin is positive and minus their count at the
    correct class; a margin of exactly 0 counts as not positive (`margins > 0`).
    """
    name = "svm_loss"
    check_reduction(reduction, name)
    x = _hinge_scores(scores, y, name, "scores")
    rows = _hinge_margins(x, _label_rows(x, y, name), margin, 1, name).sum(axis=1)
    return apply_reduction(per_example(rows, x), reduction)


# ----------------------------------------------------------------------------- regression


__all__ = ["multi_margin_loss", "svm_loss"]
