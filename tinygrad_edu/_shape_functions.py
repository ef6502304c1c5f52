"""Module-level shape functions that are not Tensor methods in PyTorch: meshgrid,
atleast_1d/2d/3d, and the one-argument form of repeat_interleave."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.tensor import Tensor, as_tensor

_MESHGRID_WARNING = ("torch.meshgrid: in an upcoming release, it will be required to pass the "
                     "indexing argument.")


def _tensor_args(tensors: tuple[Any, ...], op: str) -> tuple[list[Tensor], bool]:
    """The tensors of `f(a, b)` or `f([a, b])`, and whether they came as one sequence."""
    seq = len(tensors) == 1 and isinstance(tensors[0], list | tuple)
    items = list(tensors[0]) if seq else list(tensors)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected tensors, got {type(t).__name__}")
    return items, seq


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 0-d or 1-D tensors: output k varies along dim k ('ij', the
    default, with PyTorch's warning when `indexing` is not given) or, with 'xy', the first
    two dims swapped (numpy's default). Each output is an expanded view of its input, so the
    gradient sums over the grid."""
    items, _ = _tensor_args(tensors, "meshgrid")
    if not items:
        raise ValueError("meshgrid: expects at least one tensor")
    if indexing is None:
        warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in items:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-D tensors, got shape {t.shape}")
        if t.dtype != items[0].dtype:
            raise TypeError(f"meshgrid: all tensors must have the same dtype, got "
                            f"{items[0].dtype} and {t.dtype}")
    sizes = [t.numel() for t in items]
    order = list(range(len(items)))
    if indexing == "xy" and len(items) > 1:
        order[0], order[1] = 1, 0  # output dim k holds input order[k]
    shape = tuple(sizes[k] for k in order)
    grids = []
    for i, t in enumerate(items):
        place = order.index(i)
        lined = t.reshape(tuple(-1 if k == place else 1 for k in range(len(items))))
        grids.append(lined.expand(shape))
    return tuple(grids)


def _atleast(tensors: tuple[Any, ...], op: str, grow: Any) -> Any:
    items, seq = _tensor_args(tensors, op)
    out = tuple(grow(t) for t in items)
    return out[0] if len(items) == 1 and not seq else out


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dim (a 0-d one becomes shape (1,)); a tensor that has
    one is returned itself. One tensor in, one out; several (or a list), a tuple."""
    return _atleast(tensors, "atleast_1d", lambda t: t.reshape(1) if t.ndim == 0 else t)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dims: () -> (1, 1), (n,) -> (1, n)."""
    return _atleast(tensors, "atleast_2d",
                    lambda t: t.reshape((1,) * (2 - t.ndim) + t.shape) if t.ndim < 2 else t)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dims, numpy's way: () -> (1, 1, 1),
    (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    def grow(t: Tensor) -> Tensor:
        shape = {0: (1, 1, 1), 1: (1, *t.shape, 1), 2: (*t.shape, 1)}.get(t.ndim)
        return t if shape is None else t.reshape(shape)

    return _atleast(tensors, "atleast_3d", grow)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """`repeat_interleave(x, repeats, dim)` is `x.repeat_interleave(repeats, dim)`; with the
    counts alone, `repeat_interleave(counts)` repeats each position i counts[i] times (the
    index form, int64)."""
    if repeats is None:
        counts = as_tensor(input)
        positions = Tensor._wrap(np.arange(counts.numel(), dtype=np.int64))
        if counts.ndim != 1:
            raise ShapeError(f"repeat_interleave: counts must be 1-D, got shape "
                             f"{counts.shape}")
        return positions.repeat_interleave(counts, 0, output_size=output_size)
    return as_tensor(input).repeat_interleave(repeats, dim, output_size=output_size)
