"""Trigonometric primitives: sin, cos, tan, atan2 and hypot (each derivative beside its
forward; the backwards are Tensor maths, so they differentiate again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class Sin(Function):
    """y = sin(x);  dy/dx = cos(x)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sin(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * x.cos()


class Cos(Function):
    """y = cos(x);  dy/dx = -sin(x)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cos(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return -grad * x.sin()


class Tan(Function):
    """y = tan(x);  dy/dx = 1 + y^2 (= 1 / cos^2 x, read off the output)."""

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tan(x)

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return grad * (1.0 + y * y)


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a) in (-pi, pi];
    dy/da = b / (a^2 + b^2), dy/db = -a / (a^2 + b^2).

    At a = b = 0 (and wherever a^2 + b^2 underflows to 0) both derivatives are 0, as
    PyTorch's: the reciprocal of 0 is replaced by 0 rather than giving 0 * inf = NaN."""

    __slots__ = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.arctan2(a, b)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        r2 = a * a + b * b
        with np.errstate(divide="ignore"):
            inv = (1.0 / r2).where(r2.array != 0, r2._wrap(np.zeros((), r2.array.dtype)))
        return (grad * b * inv if na else None), (-grad * a * inv if nb else None)


class Hypot(Function):
    """y = sqrt(a^2 + b^2), without overflow or underflow in the squares (numpy's hypot);
    dy/da = a / y, dy/db = b / y (NaN at a = b = 0, as PyTorch)."""

    __slots__ = ()
    saves = ("inputs", "output")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.hypot(a, b)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        y = self.output
        na, nb = self.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad * a / y if na else None), (grad * b / y if nb else None)
