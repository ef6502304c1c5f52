"""Exponential, logarithmic and error-function primitives.

Each is a primitive rather than a composite for accuracy: `exp(x * log 2)` misses 2**3 = 8
by an ulp and loses relative precision as |x| grows, `log(x) / log(10)` misses log10(1000) =
3, `exp(x) - 1` is all rounding error for tiny x, and erf has no composite at all. numpy
lacks erf (and scipy is not a dependency), so `erf_erfc` evaluates it with fdlibm's rational
approximations (Sun Microsystems, the s_erf.c most C libraries descend from), whose error is
under one ulp in float64, erfc's tails included.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Exp2(Function):
    """y = 2^x;  dy/dx = y log 2."""

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp2(x)

    def backward(self, grad: Tensor) -> Tensor:
        return grad * self.output * _LN2


class Log2(Function):
    """y = log2(x);  dy/dx = 1 / (x log 2)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log2(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad / (x * _LN2)


class Log10(Function):
    """y = log10(x);  dy/dx = 1 / (x log 10)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log10(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad / (x * _LN10)


class Expm1(Function):
    """y = e^x - 1, computed without forming e^x (exact for tiny x);  dy/dx = e^x = y + 1."""

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.expm1(x)

    def backward(self, grad: Tensor) -> Tensor:
        return grad * (self.output + 1.0)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt;  dy/dx = 2/sqrt(pi) e^(-x^2)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return erf_erfc(x)[0]

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * (-(x * x)).exp() * _TWO_OVER_SQRT_PI


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x), accurate where it is tiny (erfc(10) = 2.1e-45, which 1 - erf
    cannot give);  dy/dx = -2/sqrt(pi) e^(-x^2)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return erf_erfc(x)[1]

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * (-(x * x)).exp() * -_TWO_OVER_SQRT_PI


# ----------------------------------------------------------------------------- erf on arrays
# fdlibm's coefficients: erf(x) = x + x P(x^2)/Q(x^2) on |x| < 0.84375; erf(1 + s) =
# erx + P(s)/Q(s) on [0.84375, 1.25); erfc(x) = exp(-x^2 - 0.5625 + R(1/x^2)/S(1/x^2)) / x
# on [1.25, 28), one (R, S) pair below 1/0.35 and another above; erfc underflows beyond 28.

_ERX = 8.45062911510467529297e-01  # erf(1) rounded to float precision
_EFX8 = 1.02703333676410069053e+00  # 8 * (2/sqrt(pi) - 1), for tiny x
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02,
       5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01,
       7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02,
       1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)
_SMALL, _MIDDLE, _TAIL, _FAR = 0.84375, 1.25, 1 / 0.35, 28.0


def _horner(t: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """c0 + t (c1 + t (c2 + ...))."""
    out = np.full_like(t, coefficients[-1])
    for c in coefficients[-2::-1]:
        out = out * t + c
    return out


def _erfc_tail(a: np.ndarray) -> np.ndarray:
    """erfc(a) for a >= 1.25 (0 from 28 on). exp(-a^2) is split as exp(-z^2) exp((z-a)(z+a))
    with z = a with its low 32 bits cleared, so z^2 is exact and no precision is lost in
    forming a^2 (which the tail would magnify)."""
    ac = np.clip(a, _MIDDLE, _FAR)
    s = 1.0 / (ac * ac)
    ratio = np.where(ac < _TAIL, _horner(s, _RA) / _horner(s, _SA),
                     _horner(s, _RB) / _horner(s, _SB))
    z = (ac.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
    r = np.exp(-z * z - 0.5625) * np.exp((z - ac) * (z + ac) + ratio)
    return np.where(a >= _FAR, 0.0, r / ac)


def erf_erfc(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(erf(x), erfc(x)) elementwise, in x's dtype (computed in float64; NaN stays NaN,
    erf(+-inf) = +-1, erf(-0) = -0)."""
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    a = np.abs(flat)
    sign = np.copysign(1.0, flat)
    # |x| < 0.84375
    x1 = np.clip(flat, -_SMALL, _SMALL)
    z = x1 * x1
    xy = x1 * (_horner(z, _PP) / _horner(z, _QQ))
    erf1 = np.where(a < 2.0**-28, 0.125 * (8.0 * flat + _EFX8 * flat), x1 + xy)
    erfc1 = np.where(a < 0.25, 1.0 - (x1 + xy), 0.5 - (xy + (x1 - 0.5)))
    # 0.84375 <= |x| < 1.25
    s = np.clip(a, _SMALL, _MIDDLE) - 1.0
    pq = _horner(s, _PA) / _horner(s, _QA)
    erf2 = sign * (_ERX + pq)
    erfc2 = np.where(flat >= 0, (1.0 - _ERX) - pq, 1.0 + (_ERX + pq))
    # |x| >= 1.25
    tail = _erfc_tail(a)
    erf3 = sign * (1.0 - tail)
    erfc3 = np.where(flat >= 0, tail, 2.0 - tail)
    erf = np.where(a < _SMALL, erf1, np.where(a < _MIDDLE, erf2, erf3))
    erfc = np.where(a < _SMALL, erfc1, np.where(a < _MIDDLE, erfc2, erfc3))
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return (erf.reshape(x.shape).astype(dtype, copy=False),
            erfc.reshape(x.shape).astype(dtype, copy=False))
