"""Movement primitives: reshape, permute, expand, getitem (and its scatter), pad, concat.

`Expand` is the only op that sums a gradient back to a smaller shape: every broadcast in
the library goes through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.function import Function
from tinygrad_edu.ops._scatter import scatter_add

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class Reshape(Function):
    """y = x viewed with a new shape;  the gradient is reshaped back."""

    __slots__ = ("in_shape",)
    saves = ()
    is_view = True

    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad: Tensor) -> Tensor:
        return grad.reshape(self.in_shape)


class Permute(Function):
    """y = x with its axes reordered;  the gradient is permuted by the inverse order."""

    __slots__ = ("axes",)
    saves = ()
    is_view = True

    def forward(self, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        self.axes = axes
        return x.transpose(axes)

    def backward(self, grad: Tensor) -> Tensor:
        return grad.permute(*np.argsort(self.axes).tolist())


class Expand(Function):
    """y = x broadcast to `shape` (a view);  dy/dx sums over the broadcast axes.

    The one place where a gradient shrinks to an input's shape.
    """

    __slots__ = ("in_shape",)
    saves = ()
    is_view = True

    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, grad: Tensor) -> Tensor:
        lead = grad.ndim - len(self.in_shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.in_shape) if n == 1 and grad.shape[lead + i] != 1
        )
        summed = grad.sum(axis=axes, keepdims=True) if axes else grad
        return summed.reshape(self.in_shape)


def _has_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray | list) for i in items)


class GetItem(Function):
    """y = x[index] (basic or integer-array/boolean indexing);  the gradient is scattered
    back into zeros with accumulation, so an element picked twice gets both contributions."""

    __slots__ = ("index", "in_shape")
    saves = ()
    is_view = True  # basic indexing views; for a copy the shared versions only err safe

    def forward(self, x: np.ndarray, index: Any) -> np.ndarray:
        self.index, self.in_shape = index, x.shape
        return np.asarray(x[index])

    def backward(self, grad: Tensor) -> Tensor:
        return IndexAdd.apply(grad, index=self.index, shape=self.in_shape)


class IndexAdd(Function):
    """y = zeros(shape) with y[index] += x (repeated indices accumulate);  dy/dx = x[index]."""

    __slots__ = ("index",)
    saves = ()

    def forward(self, x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        self.index = index
        out = np.zeros(shape, dtype=x.dtype)
        if _has_advanced(index):
            scatter_add(out, index, x)  # np.add.at, faster for one index array: ops/_scatter
        else:
            out[index] = x  # basic indexing never selects an element twice
        return out

    def backward(self, grad: Tensor) -> Tensor:
        return GetItem.apply(grad, index=self.index)


class IndexPut(Function):
    """y = x with y[index] = v (v has the shape of x[index] and x's dtype);
    dy/dx = grad with grad[index] = 0 (those entries were overwritten);  dy/dv = grad[index].
    What `t[index] = v` records when v (or t) needs a gradient."""

    __slots__ = ("index",)
    saves = ()

    def forward(self, x: np.ndarray, v: np.ndarray, index: Any) -> np.ndarray:
        self.index = index
        y = x.copy()
        y[index] = v
        return y

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        need_x, need_v = self.needs_input_grad
        v_shape = self.inputs[1].shape
        gx = gv = None
        if need_x:
            gx = IndexPut.apply(grad, grad._wrap(np.zeros(v_shape, grad.dtype)),
                                index=self.index)
        if need_v:
            gv = GetItem.apply(grad, index=self.index)
        return gx, gv


class Pad(Function):
    """y = x padded with a constant on each side of each axis;  the gradient is the
    un-padded slice."""

    __slots__ = ("slices",)
    saves = ()

    def forward(self, x: np.ndarray, widths: tuple[tuple[int, int], ...], value: float
                ) -> np.ndarray:
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        if value == 0:
            out = np.zeros(tuple(n + lo + hi for (lo, hi), n in zip(widths, x.shape)), x.dtype)
            out[self.slices] = x
            return out
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad: Tensor) -> Tensor:
        return GetItem.apply(grad, index=self.slices)


class Concat(Function):
    """y = the inputs joined along `axis`;  each input's gradient is its slice of grad."""

    __slots__ = ("axis", "bounds")
    saves = ()

    def forward(self, *xs: np.ndarray, axis: int) -> np.ndarray:
        self.axis = axis
        ends = np.cumsum([x.shape[axis] for x in xs]).tolist()
        self.bounds = list(zip([0, *ends[:-1]], ends))
        return np.concatenate(xs, axis=axis)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        lead = (slice(None),) * self.axis
        return tuple(
            GetItem.apply(grad, index=(*lead, slice(lo, hi))) if needs else None
            for (lo, hi), needs in zip(self.bounds, self.needs_input_grad)
        )
