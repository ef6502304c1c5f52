"""The error function, for the exact GELU (numpy has no `erf` and the core needs numpy only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.autograd import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
_SERIES_TERMS = 40
_FRACTION_TERMS = 50


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf(x) to about 1e-15, vectorized over elements.

    |x| < 2: the Maclaurin series 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)) (its largest
    term is below e^4, so cancellation costs at most two digits). |x| >= 2: 1 - erfc(x) with
    erfc's continued fraction exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
    evaluated from the tail; it converges quickly this far from 0.
    """
    x64 = np.asarray(x, dtype=np.float64)
    a = np.abs(x64)
    small = a < 2.0
    out = np.empty_like(x64)

    xs = x64[small]
    term = xs.copy()
    total = xs.copy()
    x2 = xs * xs
    for n in range(1, _SERIES_TERMS):
        term = term * (-x2) / n
        total = total + term / (2 * n + 1)
    out[small] = _TWO_OVER_SQRT_PI * total

    xl = a[~small]
    tail = np.zeros_like(xl)
    for k in range(_FRACTION_TERMS, 0, -1):
        tail = (k / 2.0) / (xl + tail)
    erfc = np.exp(-xl * xl) / np.sqrt(np.pi) / (xl + tail)
    out[~small] = np.sign(x64[~small]) * (1.0 - erfc)
    return out.astype(np.asarray(x).dtype, copy=False)


class Erf(Function):
    """y = erf(x);  dy/dx = 2/sqrt(pi) * exp(-x^2)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return erf_array(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * ((-(x * x)).exp() * _TWO_OVER_SQRT_PI)
