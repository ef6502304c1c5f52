"""numpy's triangle, roll, tile, repeat, take_along_axis, diagonal, meshgrid and atleast_*d
on Tensors: handlers for `Tensor.__array_function__`, with numpy's argument names and
semantics, built on the Tensor ops of the same names (so the result is in the graph)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu._numpy_functions import _implements, _unsupported
from tinygrad_edu._shape_functions import atleast_1d, atleast_2d, atleast_3d
from tinygrad_edu._shape_functions import meshgrid as _meshgrid
from tinygrad_edu.tensor import Tensor, as_tensor


def _matrices(m: Any) -> Tensor:
    """numpy's tril/triu read a vector as the rows of a square matrix (broadcast)."""
    t = as_tensor(m)
    return t.expand(t.shape[0], t.shape[0]) if t.ndim == 1 else t


@_implements(np.tril)
def _tril(m: Any, k: int = 0) -> Tensor:
    return _matrices(m).tril(k)


@_implements(np.triu)
def _triu(m: Any, k: int = 0) -> Tensor:
    return _matrices(m).triu(k)


@_implements(np.roll)
def _roll(a: Any, shift: Any, axis: Any = None) -> Tensor:
    """One shift for several axes (or several for one) broadcast, as numpy does."""
    t = as_tensor(a)
    if axis is None:
        return t.roll(shift)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    return t.roll(tuple(shifts.reshape(-1).tolist()), tuple(axes.reshape(-1).tolist()))


@_implements(np.tile)
def _tile(A: Any, reps: Any) -> Tensor:  # noqa: N803 (numpy's name)
    return as_tensor(A).tile(tuple(np.atleast_1d(reps).tolist()))


@_implements(np.repeat)
def _repeat(a: Any, repeats: Any, axis: Any = None) -> Tensor:
    count = repeats if isinstance(repeats, int | np.integer) else np.asarray(repeats)
    return as_tensor(a).repeat_interleave(count, axis)


@_implements(np.take_along_axis)
def _take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Tensor:
    """numpy counts a negative index from the end, with or without an axis."""
    t = as_tensor(arr)
    if axis is None:
        return t.reshape(-1).take_along_dim(indices, 0)
    return t.take_along_dim(indices, axis)


@_implements(np.diagonal)
def _diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return as_tensor(a).diagonal(offset, axis1, axis2)


@_implements(np.meshgrid)
def _meshgrid_handler(*xi: Any, copy: bool = True, sparse: bool = False,
                      indexing: str = "xy") -> tuple[Tensor, ...]:
    """numpy flattens each input and defaults to 'xy'; copy=True gives new tensors."""
    if sparse:
        raise _unsupported("np.meshgrid", "sparse=True")
    flat = [as_tensor(x).reshape(-1) for x in xi]
    grids = _meshgrid(*flat, indexing=indexing) if flat else ()
    return tuple(g.clone() for g in grids) if copy else grids


@_implements(np.atleast_1d)
def _atleast_1d(*arys: Any) -> Any:
    return atleast_1d(*[as_tensor(a) for a in arys])


@_implements(np.atleast_2d)
def _atleast_2d(*arys: Any) -> Any:
    return atleast_2d(*[as_tensor(a) for a in arys])


@_implements(np.atleast_3d)
def _atleast_3d(*arys: Any) -> Any:
    return atleast_3d(*[as_tensor(a) for a in arys])
