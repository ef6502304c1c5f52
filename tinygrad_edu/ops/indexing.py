"""Indexing primitives: a diagonal (a view) and its adjoint, the diagonal scatter; and the
node that marks a result PyTorch has no derivative for.

`Diagonal` and `DiagonalScatter` are each other's backward: reading the diagonal and
writing a gradient onto the diagonal of zeros are adjoint linear maps, so second
derivatives come from the same two classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def diagonal_view(x: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    """The diagonal of x over (dim1, dim2) as a view that shares x's memory (writable when x
    is): the other axes in order, then the diagonal (PyTorch's and numpy's layout).
    `np.diagonal` returns a read-only view, so the strides are built here: one step down
    dim1 plus one step along dim2, starting at (0, offset) or (-offset, 0)."""
    moved = np.moveaxis(x, (dim1, dim2), (-2, -1))
    rows, cols = moved.shape[-2:]
    start = moved[..., max(0, -offset):, max(0, offset):]
    n = max(0, min(rows - max(0, -offset), cols - max(0, offset)))
    strides = start.strides[:-2] + (start.strides[-2] + start.strides[-1],)
    return np.lib.stride_tricks.as_strided(start, start.shape[:-2] + (n,), strides)


class Diagonal(Function):
    """y = the diagonal of x at `offset` over axes (dim1, dim2), a view of x;
    dy/dx puts the gradient on that diagonal of zeros (`DiagonalScatter`)."""

    __slots__ = ("in_shape", "where")
    saves = ()
    is_view = True

    def forward(self, x: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
        self.in_shape, self.where = x.shape, (offset, dim1, dim2)
        return diagonal_view(x, offset, dim1, dim2)

    def backward(self, grad: Tensor) -> Tensor:
        offset, dim1, dim2 = self.where
        return DiagonalScatter.apply(grad, shape=self.in_shape, offset=offset, dim1=dim1,
                                     dim2=dim2)


class DiagonalScatter(Function):
    """y = zeros(shape) with x on the diagonal at `offset` over axes (dim1, dim2);
    dy/dx reads that diagonal back (`Diagonal`). `diag_embed` is this op."""

    __slots__ = ("where",)
    saves = ()

    def forward(self, x: np.ndarray, shape: tuple[int, ...], offset: int, dim1: int,
                dim2: int) -> np.ndarray:
        self.where = (offset, dim1, dim2)
        out = np.zeros(shape, dtype=x.dtype)
        diagonal_view(out, offset, dim1, dim2)[...] = x
        return out

    def backward(self, grad: Tensor) -> Tensor:
        offset, dim1, dim2 = self.where
        return Diagonal.apply(grad, offset=offset, dim1=dim1, dim2=dim2)


class NoDerivative(Function):
    """y = fn(inputs) for an op PyTorch has no derivative for (`unique`, `scatter` with
    `reduce=`). The node is there so that a backward through y raises, naming the op, as
    PyTorch's does, instead of the gradient being dropped without a word."""

    __slots__ = ("name",)
    saves = ()

    def forward(self, *xs: np.ndarray, fn: Callable[..., np.ndarray], name: str
                ) -> np.ndarray:
        self.name = name
        return fn(*xs)

    def backward(self, grad: Tensor) -> Any:
        raise RuntimeError(f"{self.name}: has no derivative (PyTorch has none either); "
                           "compute it outside the graph (detach()) or with a "
                           "differentiable op")
