"""Target and option checks shared by the losses: each error names the loss and shows the
input and target shapes/dtypes and what would be valid."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _state, value_check
from tinygrad_edu.ops.values import held, value_name
from tinygrad_edu.tensor import Tensor, as_tensor

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def float_input(x: Any, name: str, what: str = "input") -> Tensor:
    t = as_tensor(x)
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be a floating-point tensor, got {t.dtype} with "
                        f"shape {t.shape}")
    return t


def same_shape_target(x: Tensor, target: Any, name: str) -> Tensor:
    """A target of the input's shape, converted to the input's dtype (ints/bools are fine)."""
    t = as_tensor(target)
    if t.shape != x.shape:
        raise ShapeError(f"{name}: target shape {t.shape} does not match input shape {x.shape}; "
                         "they must be equal (broadcasting them would silently compare every "
                         "pair of elements)")
    return t if t.dtype == x.dtype else t.to(x.dtype)


def broadcast_target(x: Tensor, target: Any, name: str, stacklevel: int = 3) -> Tensor:
    """The target of a regression loss (mse, l1, huber, smooth_l1), as PyTorch takes it: a
    different but broadcastable shape is computed with broadcasting after a UserWarning
    (PyTorch's words, so filters written for PyTorch catch it); shapes that do not
    broadcast raise, naming both. `stacklevel` points the warning at the user's call."""
    t = as_tensor(target)
    if t.shape != x.shape:
        try:
            shape = np.broadcast_shapes(t.shape, x.shape)
        except ValueError:
            raise ShapeError(f"{name}: target shape {t.shape} and input shape {x.shape} cannot "
                             "be broadcast together; they should be equal") from None
        warnings.warn(f"Using a target size {t.shape} that is different to the input size "
                      f"{x.shape} in {name}. This will likely lead to incorrect results due "
                      f"to broadcasting (both become {shape}). Please ensure they have the "
                      "same size.", UserWarning, stacklevel=stacklevel)
    return t if t.dtype == x.dtype else t.to(x.dtype)


def class_dim_last(x: Tensor, name: str, target: Any = None) -> Tensor:
    """Scores (C,), (N, C) or (N, C, d1, ...) as a matrix with one row per prediction."""
    if x.ndim == 0:
        with_target = "" if target is None else f" (target shape {np.shape(_array(target))})"
        raise ShapeError(f"{name}: input must have a class dimension, (C,), (N, C) or "
                         f"(N, C, d1, ...), got shape (){with_target}")
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    # (N, C, d1, ...) -> (N * d1 * ..., C)
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def label_shape(x: Tensor) -> tuple[int, ...]:
    return () if x.ndim == 1 else (x.shape[0], *x.shape[2:])


def class_labels(x: Tensor, target: Any, name: str, ignore_index: int | None = None,
                  soft_ok: bool = False, range_check: bool = True) -> np.ndarray:
    """The integer labels (flattened) that go with scores `x`, after checking them."""
    t = target.array if isinstance(target, Tensor) else np.asarray(target)
    expected = label_shape(x)
    soft = f", or probabilities of the input's shape {x.shape}" if soft_ok else ""
    if t.shape == x.shape and t.shape != expected:
        # The scores' own shape (most often one-hot rows; F.one_hot gives int64): say what
        # each kind of target needs rather than "shape (4, 3) does not match (4, 3)".
        hint = (f"class-index targets must be integers of shape {expected} (from one-hot "
                f"rows: target.argmax({0 if x.ndim == 1 else 1}))")
        if soft_ok:
            raise TypeError(f"{name}: target of shape {t.shape} has the input's shape "
                            f"{x.shape} but dtype {t.dtype}; probability targets must be "
                            f"floating point (target.float()), and {hint}")
        raise ShapeError(f"{name}: target of shape {t.shape} has the input's shape {x.shape}, "
                         f"but {name} takes no probability targets: {hint}")
    if t.shape != expected:
        raise ShapeError(f"{name}: target shape {t.shape} does not match input shape {x.shape}; "
                         f"expected integer class labels of shape {expected}{soft}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: class-label targets must be integers (int64), got {t.dtype} "
                        f"with shape {t.shape} for input of shape {x.shape}{soft}")
    num_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    if not range_check:  # the caller runs check_label_range itself
        return t.reshape(-1)
    if isinstance(target, Tensor):  # a guard of compiled code, too (modes.value_check)
        value_check(check_label_range, target, num_classes=num_classes,
                    ignore_index=ignore_index, name=name)
    else:
        check_label_range(t, num_classes, ignore_index, name)
    return t.reshape(-1)


def check_label_range(target: np.ndarray, num_classes: int, ignore_index: int | None,
                      name: str) -> bool:
    """Raise IndexError naming the first label outside 0..C-1 (and not ignore_index);
    return whether any label is not ignore_index (a loss's mean divides by their count)."""
    labels = target.reshape(-1)
    bad = (labels < 0) | (labels >= num_classes)
    labelled = True
    if ignore_index is not None:
        keep = labels != ignore_index
        bad &= keep
        labelled = bool(keep.any())
    if bad.any():
        valid = f"0..{num_classes - 1}" + (f" or ignore_index={ignore_index}"
                                           if ignore_index is not None else "")
        raise IndexError(f"{name}: target label {labels[bad][0]} is out of range for "
                         f"{num_classes} classes (valid: {valid})")
    return labelled


def class_weight(weight: Any, x: Tensor, name: str, constant: bool = False
                 ) -> Tensor | None:
    """The class weights for scores x ((C,), (N, C) or (N, C, d1, ...)) as a tensor of x's
    dtype outside the graph, checked to have shape (C,). Under compile a weight tensor's
    values are held: read on every call where they enter the graph, and where they are a
    `constant` (an option of the label coefficients) the held read makes an in-place change
    to the weight trace again; a weight computed in the function or passed in is refused
    there."""
    if weight is None:
        return None
    w = np.asarray(_array(weight), dtype=x.dtype)
    num_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    if w.shape != (num_classes,):
        raise ShapeError(f"{name}: weight must have one entry per class, shape "
                         f"({num_classes},), got {w.shape} for input of shape {x.shape}")
    if _state.trace is not None and isinstance(weight, Tensor):
        if constant:
            _state.trace.read_value(weight, f"{name}'s class weight")
        return held(weight_values, weight, dtype=np.dtype(x.dtype).name)
    return as_tensor(w)


def weight_values(weight: np.ndarray, dtype: str) -> np.ndarray:
    return np.asarray(weight, dtype=dtype)


def _array(t: Any) -> Any:
    return t.array if isinstance(t, Tensor) else t


def one_hot(labels: np.ndarray, num_classes: int, dtype: np.dtype,
            keep: np.ndarray | None = None) -> np.ndarray:
    """Rows of the identity; a row of zeros where `keep` is False (an ignored target, which
    may well be a valid class such as 0) and for a label outside 0..C-1."""
    rows = labels[:, None] == np.arange(num_classes)
    if keep is not None:
        rows &= keep[:, None]
    return rows.astype(dtype)


def label_rows(target: Any, num_classes: int, dtype: np.dtype, name: str) -> Tensor:
    """The one-hot rows (M, C) of integer labels, in `dtype`. They come from the labels
    through a held computation (`ops.values`) and the range check is a guard
    (`modes.value_check`), so compiled code rebuilds and checks them on every call."""
    labels = target if isinstance(target, Tensor) else as_tensor(np.asarray(target))
    value_check(check_label_range, labels, num_classes=num_classes, ignore_index=None,
                name=name)
    return held(one_hot_rows, labels, num_classes=num_classes, dtype=dtype)


@value_name("target_rows")
def one_hot_rows(labels: np.ndarray, num_classes: int, dtype: np.dtype) -> np.ndarray:
    return one_hot(labels.reshape(-1), num_classes, dtype)


def per_example(rows: Tensor, x: Tensor) -> Tensor:
    """One loss per row back in the label shape ((N,), (N, d1, ...) or ())."""
    return rows.reshape(label_shape(x))
