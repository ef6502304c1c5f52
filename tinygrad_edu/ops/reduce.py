"""Reductions: sum and max. Everything else (mean, var, min, logsumexp) is composed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over `axis`;  dy/dx = 1 (the gradient is broadcast back)."""

    __slots__ = ("axis", "keepdims", "in_shape")
    saves = ()

    def forward(self, x: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
        self.axis, self.keepdims, self.in_shape = axis, keepdims, x.shape
        return np.asarray(x.sum(axis=axis, keepdims=keepdims))

    def backward(self, grad: Tensor) -> Tensor:
        if not self.keepdims:
            grad = grad.reshape(_keepdims_shape(self.in_shape, self.axis))
        return grad.expand(self.in_shape)


class Max(Function):
    """y = max of x over `axis`;  dy/dx = 1 at the maximum, 0 elsewhere.

    Tied maxima share the gradient equally, so the input gradients still sum to the
    upstream value (the numeric derivative along a vector of ones agrees).
    """

    __slots__ = ("axis", "keepdims")
    saves = ("inputs", "output")

    def forward(self, x: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
        self.axis, self.keepdims = axis, keepdims
        return np.asarray(x.max(axis=axis, keepdims=keepdims))

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        kd_shape = _keepdims_shape(x.shape, self.axis)
        y = self.output.array.reshape(kd_shape)
        mask = x.array == y
        # Counted in x's dtype: bool / int64 would make a float64 array and a cast (3x slower).
        share = mask / mask.sum(axis=self.axis, keepdims=True, dtype=x.array.dtype)
        g = grad if self.keepdims else grad.reshape(kd_shape)
        return g.expand(x.shape) * grad._wrap(share)


class LogSoftmax(Function):
    """y = x - logsumexp(x) over `axis`;  dx = g - softmax(x) * sum(g) = g - e^y sum(g).

    A fused form of the composite `x - x.logsumexp(axis, keepdims=True)`: one node instead
    of eight on every classifier's loss, and the max shift keeps exp from overflowing. Its
    gradient is tested against the composite's.
    """

    __slots__ = ("axis",)
    saves = ("output",)

    def forward(self, x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
        self.axis = axis
        if x.size == 0:  # nothing to normalise (PyTorch returns the empty tensor too)
            return x.copy()
        shift = x.max(axis=axis, keepdims=True)
        if not np.isfinite(shift).all():  # rows of -inf (or inf): shift by 0 there instead
            shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
        z = x - shift
        z -= np.log(np.exp(z).sum(axis=axis, keepdims=True))
        return z

    def backward(self, grad: Tensor) -> Tensor:
        return grad - self.output.exp() * grad.sum(axis=self.axis, keepdims=True)
