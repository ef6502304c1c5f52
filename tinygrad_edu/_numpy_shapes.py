"""numpy's shape, joining and elementwise functions on Tensors (`np.reshape`,
`np.concatenate`, `np.where`, `np.pad`, ...): handlers registered, like the reductions and
products in `_numpy_functions`, for `Tensor.__array_function__` to dispatch to; each keeps
numpy's parameter names and semantics and is built from Tensor ops, so it is in the graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu._maths import _operand
from tinygrad_edu._numpy_functions import (
    _FUNCTIONS,
    _axes_tuple,
    _cast_tensor,
    _implements,
    _moveaxis,
    _unsupported,
    _values,
)
from tinygrad_edu.functional import cat, stack, where
from tinygrad_edu.tensor import Tensor, as_tensor

# ----------------------------------------------------------------------------- shapes


@_implements(np.reshape)
def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
             copy: bool | None = None) -> Tensor:
    if order != "C":
        raise _unsupported("np.reshape", f"order={order!r} (only 'C')")
    t = as_tensor(a).reshape(shape if shape is not None else newshape)
    return t.clone() if copy else t


@_implements(np.ravel)
def _ravel(a: Any, order: str = "C") -> Tensor:
    if order != "C":
        raise _unsupported("np.ravel", f"order={order!r} (only 'C')")
    t = as_tensor(a)
    return t.reshape(t.numel())


@_implements(np.transpose, getattr(np, "permute_dims", None))
def _transpose(a: Any, axes: Any = None) -> Tensor:
    """numpy reverses all axes by default (PyTorch's transpose swaps two)."""
    t = as_tensor(a)
    return t.permute(*(reversed(range(t.ndim)) if axes is None else axes))


@_implements(getattr(np, "matrix_transpose", None))
def _matrix_transpose(x: Any) -> Tensor:
    return as_tensor(x).mT


@_implements(np.moveaxis)
def _moveaxis_handler(a: Any, source: Any, destination: Any) -> Tensor:
    return _moveaxis(as_tensor(a), source, destination)


@_implements(np.swapaxes)
def _swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    return as_tensor(a).transpose(axis1, axis2)


@_implements(np.squeeze)
def _squeeze(a: Any, axis: Any = None) -> Tensor:
    """numpy refuses to squeeze an axis whose size is not 1 (PyTorch leaves it)."""
    t = as_tensor(a)
    if axis is None:
        return t.squeeze()
    axes = _axes_tuple(axis, t.ndim, "np.squeeze", t.shape)
    for i in axes:
        if t.shape[i] != 1:
            raise ValueError(f"np.squeeze: axis {i} of shape {t.shape} has size "
                             f"{t.shape[i]}, not 1")
    return t.reshape(tuple(n for i, n in enumerate(t.shape) if i not in axes))


@_implements(np.expand_dims)
def _expand_dims(a: Any, axis: Any) -> Tensor:
    t = as_tensor(a)
    count = 1 if isinstance(axis, int | np.integer) else len(tuple(axis))
    axes = _axes_tuple(axis, t.ndim + count, "np.expand_dims", t.shape)  # of the result
    sizes = iter(t.shape)
    return t.reshape(tuple(1 if i in axes else next(sizes) for i in range(t.ndim + count)))


@_implements(np.broadcast_to)
def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> Tensor:
    return as_tensor(array).broadcast_to((shape,) if isinstance(shape, int) else shape)


@_implements(np.flip)
def _flip(m: Any, axis: Any = None) -> Tensor:
    return as_tensor(m).flip(axis)


@_implements(np.copy)
def _copy(a: Any, order: str = "K", subok: bool = False) -> Tensor:
    """A Tensor copy in the graph (`clone`): own memory, gradient passes through."""
    return as_tensor(a).clone()


# ----------------------------------------------------------------------------- joining


def _tensor_list(arrays: Any, dtype: Any) -> list[Tensor]:
    return [_cast_tensor(as_tensor(x), dtype) for x in arrays]


@_implements(np.concatenate, getattr(np, "concat", None))
def _concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None
                 ) -> Tensor:
    ts = _tensor_list(arrays, dtype)
    if axis is None:  # numpy flattens every input first
        ts, axis = [t.reshape(t.numel()) for t in ts], 0
    return cat(ts, axis=axis)


@_implements(np.stack)
def _stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None) -> Tensor:
    return stack(_tensor_list(arrays, dtype), axis=axis)


def _at_least(t: Tensor, ndim: int) -> Tensor:
    if t.ndim >= ndim:
        return t
    return t.reshape((1,) * (ndim - t.ndim) + t.shape)


@_implements(np.vstack)
def _vstack(tup: Any, *, dtype: Any = None) -> Tensor:
    return cat([_at_least(t, 2) for t in _tensor_list(tup, dtype)], axis=0)


@_implements(np.hstack)
def _hstack(tup: Any, *, dtype: Any = None) -> Tensor:
    ts = [_at_least(t, 1) for t in _tensor_list(tup, dtype)]
    return cat(ts, axis=0 if ts and ts[0].ndim == 1 else 1)


def _pieces(ary: Any, sections: Any, axis: int, name: str, equal: bool) -> list[Tensor]:
    """numpy's split: an int is a number of sections, a sequence the indices to cut at."""
    t = as_tensor(ary)
    (d,) = _axes_tuple(axis, t.ndim, name, t.shape)
    n = t.shape[d]
    if isinstance(sections, int | np.integer):
        k = int(sections)
        if k <= 0 or (equal and n % k):
            raise ValueError(f"{name}: {n} entries along axis {d} of a tensor of shape "
                             f"{t.shape} do not split into {k} equal sections")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        cuts = np.cumsum([0, *sizes]).tolist()
    else:
        cuts = [0, *[int(i) for i in sections], n]
    lead = (slice(None),) * d
    return [t[lead + (slice(lo, hi),)] for lo, hi in zip(cuts[:-1], cuts[1:])]


@_implements(np.split)
def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    return _pieces(ary, indices_or_sections, axis, "np.split", equal=True)


@_implements(np.array_split)
def _array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    return _pieces(ary, indices_or_sections, axis, "np.array_split", equal=False)


# ----------------------------------------------------------------------------- elementwise


@_implements(np.where)
def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """where(c, x, y): the gradient reaches the chosen side only. where(c) is nonzero(c)."""
    if x is None and y is None:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(_values(condition)))
    if x is None or y is None:
        raise ValueError("np.where: give both x and y, or neither")
    return where(condition, x, y)


@_implements(np.clip)
def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *, min: Any = None,
          max: Any = None) -> Tensor:
    """Tensor.clip: gradient 1 inside [min, max] and at the bounds, 0 outside; a bound that
    is a Tensor gets the gradient where it is chosen."""
    low = a_min if a_min is not None else min
    high = a_max if a_max is not None else max
    if low is None and high is None:
        raise ValueError("np.clip: give a lower or an upper bound (or both)")
    ref = next((v for v in (a, low, high) if isinstance(v, Tensor)), None)
    x = a if isinstance(a, Tensor) or ref is None else _operand(ref, a)
    return as_tensor(x).clip(low, high)


@_implements(np.pad)
def _pad(array: Any, pad_width: Any, mode: str = "constant", *, constant_values: Any = 0
         ) -> Tensor:
    """Constant padding (numpy's default mode), one value for every side."""
    if mode != "constant":
        raise _unsupported("np.pad", f"mode={mode!r} (only 'constant')")
    values = np.unique(np.asarray(_values(constant_values)))
    if values.size != 1:
        raise _unsupported("np.pad", "a different constant per side")
    return as_tensor(array).pad(pad_width, value=values.item())


@_implements(np.sort)
def _sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *,
          stable: Any = None) -> Tensor:
    """Sorted values (the gradient goes back to where each came from); axis=None flattens."""
    if order is not None:
        raise _unsupported("np.sort", "order=")
    t = as_tensor(a)
    if axis is None:
        t, axis = t.reshape(t.numel()), 0
    return t.sort(dim=axis).values


def _constant_like(func: Any) -> Callable[..., Tensor]:
    def like(a: Any, *args: Any, **kwargs: Any) -> Tensor:
        """A new constant Tensor (as torch.zeros_like): nothing in it depends on a's values."""
        return Tensor._wrap(func(_values(a), *_values(args), **_values(kwargs)))
    return like


for _func in (np.zeros_like, np.ones_like, np.empty_like, np.full_like):
    _FUNCTIONS[_func] = _constant_like(_func)


