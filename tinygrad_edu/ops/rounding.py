"""Rounding primitives: floor, ceil, trunc and round. Each is piecewise constant, so its
derivative is 0 everywhere (PyTorch's convention, at the jumps too). The node stays in the
graph, as PyTorch's does, so a loss built on a rounded value backpropagates zeros instead of
failing for want of a graph. Integer tensors never reach these: they round to themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class _PiecewiseConstant(Function):
    """dy/dx = 0 (a constant: nothing is saved and the second derivative is 0 too)."""

    __slots__ = ()
    saves = ()

    def backward(self, grad: Tensor) -> Tensor:
        return grad._wrap(np.zeros_like(grad.array))


class Floor(_PiecewiseConstant):
    """y = the largest integer <= x;  dy/dx = 0."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.floor(x)


class Ceil(_PiecewiseConstant):
    """y = the smallest integer >= x;  dy/dx = 0."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ceil(x)


class Trunc(_PiecewiseConstant):
    """y = x rounded toward zero;  dy/dx = 0."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.trunc(x)


class Round(_PiecewiseConstant):
    """y = x rounded to `decimals` decimal places, halves to even (round(2.5) = 2);
    dy/dx = 0.

    As PyTorch, in x's own dtype: rint(x * 10^d) / 10^d for d > 0 and rint(x / 10^-d) * 10^-d
    for d < 0, so a value such as 0.125 rounds by its binary value (to 0.12)."""

    __slots__ = ()

    def forward(self, x: np.ndarray, decimals: int = 0) -> np.ndarray:
        if decimals == 0:
            return np.rint(x)
        with np.errstate(over="ignore", invalid="ignore"):  # 10^400 is inf, as PyTorch's
            scale = np.power(10.0, abs(decimals)).astype(x.dtype)
            if decimals > 0:
                return np.rint(x * scale) / scale
            return np.rint(x / scale) * scale
