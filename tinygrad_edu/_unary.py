# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""Unary maths, activations and the softmax family of Tensor (a mixin).

Every kink rule is stated in the docstrings: relu'(0) = 0, abs'(0) = 0, the leaky slope
at 0 is the negative slope, softplus'(0) = 1/2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._maths import _binary, _operand, condition_array, scalar_like, where_tensors
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _state, _tensor_types, value_check
from tinygrad_edu.ops.elementwise import (
    Abs,
    Exp,
    Log,
    Log1p,
    Maximum,
    Minimum,
    Mul,
    ReLU,
    Sigmoid,
    Sqrt,
    Tanh,
)
from tinygrad_edu.ops.reduce import LogSoftmax
from tinygrad_edu.ops.values import held

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _floating(x: Tensor) -> Tensor:
    """Integer and bool tensors compute transcendental functions in the default float dtype,
    as PyTorch's `exp` of an int64 tensor gives float32."""
    return x if x.array.dtype.kind == "f" else x.to(_state.default_dtype)


def _no_bool(x: Tensor, op: str) -> None:
    if x.array.dtype.kind == "b":
        raise TypeError(f"{op}: not defined for a bool tensor (shape {x.shape}); convert it "
                        "first, e.g. x.long() or x.float()")


def _fill_value(value: Any, dtype: np.dtype, op: str) -> np.ndarray:
    """`value` in `dtype`, refusing what would not survive the cast (PyTorch: "value cannot
    be converted without overflow"): NaN or inf into an integer, 1e300 into float32."""
    v = np.asarray(value)
    if v.dtype.kind == "f" and dtype.kind in "iu" and not np.isfinite(v).all():
        raise ValueError(f"{op}: value {value!r} cannot be converted to {dtype} (not finite)")
    if dtype.kind == "f" and np.isfinite(v).all() and (np.abs(v) > np.finfo(dtype).max).any():
        raise ValueError(f"{op}: value {value!r} cannot be converted to {dtype} without "
                         "overflow")
    return v.astype(dtype)


class UnaryMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ unary maths
    def exp(self: Tensor) -> Tensor:
        return Exp.apply(_floating(self))

    def log(self: Tensor) -> Tensor:
        return Log.apply(_floating(self))

    def sqrt(self: Tensor) -> Tensor:
        return Sqrt.apply(_floating(self))

    def rsqrt(self: Tensor) -> Tensor:
        return 1.0 / Sqrt.apply(_floating(self))

    def abs(self: Tensor) -> Tensor:
        """|x|; its derivative at 0 is 0 (as PyTorch)."""
        _no_bool(self, "abs")
        return Abs.apply(self)

    def square(self: Tensor) -> Tensor:
        """x * x (a bool tensor squares in int64, as PyTorch)."""
        x = self.to(np.int64) if self.array.dtype == np.bool_ else self
        return x * x

    def reciprocal(self: Tensor) -> Tensor:
        return 1.0 / self

    def log1p(self: Tensor) -> Tensor:
        """log(1 + x), exact for tiny x (log(1 + 1e-10) in floating point is not)."""
        return Log1p.apply(_floating(self))

    def sigmoid(self: Tensor) -> Tensor:
        """1 / (1 + e^-x), finite with a finite gradient for any x (a stable primitive)."""
        return Sigmoid.apply(_floating(self))

    def tanh(self: Tensor) -> Tensor:
        return Tanh.apply(_floating(self))

    def relu(self: Tensor) -> Tensor:
        """max(x, 0) with relu'(0) = 0, as PyTorch and the courses' `dout * (x > 0)`."""
        _no_bool(self, "relu")
        return ReLU.apply(self)

    def relu_(self: Tensor) -> Tensor:
        """relu in place, as PyTorch's: `self` becomes the output of a ReLU node whose input
        is its old value, which is gone. Fine after ops whose backward does not need their
        output (conv, linear, add, batch norm); after one that does (exp, sigmoid, relu)
        backward raises, naming it. Refused on leaves that require grad and on views."""
        return ReLU.apply_inplace(self)

    def leaky_relu(self: Tensor, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, slope * x otherwise; the slope at 0 is `negative_slope` (PyTorch)."""
        return Mul.apply(self, held(leaky_slope, self, negative_slope=negative_slope))

    def silu(self: Tensor) -> Tensor:
        """x * sigmoid(x) (swish)."""
        return self * self.sigmoid()

    def swish(self: Tensor) -> Tensor:
        return self.silu()

    def softplus(self: Tensor) -> Tensor:
        """log(1 + e^x), as m + log(e^(x - m) + e^-m) with m = max(x, 0) held constant.

        exp never sees a positive argument, and as the value does not depend on m, the
        gradient is exactly sigmoid(x) to every order: softplus'(0) = 1/2, as PyTorch (a
        relu/abs composite would give 0 there, from their kink rules)."""
        # softplus(inf) = inf with gradient 1; the formula gives inf - inf. The test is a
        # guard and the masks and shift are held: compile repeats them on every call.
        if value_check(has_pos_inf, self):
            finite = self.where(held(is_not_pos_inf, self),
                                self._wrap(np.zeros((), self.array.dtype)))
            return self.where(held(is_pos_inf, self), finite.softplus())
        shift = held(relu_shift, self)
        return ((self - shift).exp() + held(exp_neg_relu_shift, self)).log() + shift

    def gelu(self: Tensor) -> Tensor:
        """The tanh approximation of GELU."""
        c = float(np.sqrt(2.0 / np.pi))
        return 0.5 * self * (1.0 + (c * (self + 0.044715 * self * self * self)).tanh())

    def maximum(self: Tensor, other: Any) -> Tensor:
        """Elementwise max; at ties each operand gets half the gradient."""
        return _binary(self, other, Maximum, "maximum")

    def minimum(self: Tensor, other: Any) -> Tensor:
        """Elementwise min; at ties each operand gets half the gradient."""
        return _binary(self, other, Minimum, "minimum")

    def where(self: Tensor, condition: Any, other: Any) -> Tensor:
        """`self` where `condition` else `other` (PyTorch's `x.where(cond, y)`)."""
        tensor = _tensor_types.Tensor
        b = other if isinstance(other, tensor) else scalar_like(other, self)
        return where_tensors(condition_array(condition), self, b)

    def clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
        """Limit to [min, max]; the gradient is 1 inside and at the bounds, 0 outside. NaN
        stays NaN (a clamp must not hide a diverged value), with gradient 1."""
        if min is None and max is None:
            raise RuntimeError(f"clamp: at least one of min and max must be given (tensor of "
                               f"shape {self.shape})")
        out = self
        try:
            if min is not None:  # the masks are held: compile recomputes them per call
                low = _operand(self, min)
                out = out.where(held(not_below, out, low), low)
            if max is not None:
                high = _operand(self, max)
                out = out.where(held(not_above, out, high), high)
        except ValueError:
            bounds = ", ".join(f"{name} of shape {np.shape(getattr(b, 'array', b))}"
                               for name, b in (("min", min), ("max", max)) if b is not None)
            raise ShapeError(f"clamp: a tensor of shape {self.shape} cannot be clamped with "
                             f"{bounds}; each bound must broadcast with the tensor's "
                             f"shape") from None
        return out

    def clip(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
        return self.clamp(min, max)

    def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
        is_tensor = isinstance(mask, type(self))
        m = np.asarray(mask.array if is_tensor else mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be bool, got {m.dtype}")
        keep = held(np.logical_not, mask).array if is_tensor else ~m  # compile: per call
        # the result keeps self's dtype, as PyTorch: an int tensor filled with 2.7 gets 2
        if isinstance(value, type(self)):
            value = value.to(self.dtype)
        else:
            value = _fill_value(value, self.array.dtype, "masked_fill")
        fill = value if isinstance(value, type(self)) else scalar_like(value, self)
        try:
            return where_tensors(keep, self, fill)
        except ShapeError:
            raise ShapeError(f"masked_fill: mask of shape {m.shape} does not broadcast with a "
                             f"tensor of shape {self.shape}; value has shape "
                             f"{np.shape(getattr(value, 'array', value))}") from None

    # ------------------------------------------------------------------ softmax family
    def logsumexp(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
                  keepdims: bool | None = None) -> Tensor:
        """log(sum(exp(x))), stable: the max is subtracted first. The max is a constant
        here, which is exact: the function does not depend on the shift."""
        self = _floating(self)
        axes = self._axes(axis if axis is not None else dim, "logsumexp")
        kd = bool(keepdims if keepdims is not None else keepdim)
        shift = held(finite_max, self, axes=axes)
        out = (self - shift).exp().sum(axis=axes, keepdims=True).log() + shift
        return out if kd else out.reshape(_drop(out.shape, axes))

    def softmax(self: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along `dim` (the last axis by default), max-shifted."""
        axes = self._axes(axis if axis is not None else dim, "softmax")
        e = (self - held(finite_max, self, axes=axes)).exp()
        return e / e.sum(axis=axes, keepdims=True)

    def log_softmax(self: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """x - logsumexp(x) along `dim`: finite for any logits (a fused primitive whose
        gradient is tested against that composite)."""
        axes = self._axes(axis if axis is not None else dim, "log_softmax")
        return LogSoftmax.apply(self, axis=axes)


# The arrays below are computed from values and held constant (`ops.values.held`): the
# maths does not differentiate them (a shift that cancels, piecewise-constant masks).


def finite_max(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The max over `axes` (kept), 0 where it is not finite: softmax's shift."""
    m = x.max(axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)


def leaky_slope(x: np.ndarray, negative_slope: float) -> np.ndarray:
    """1 where x > 0, else the negative slope (in x's dtype)."""
    kind = x.dtype.type
    return (x > 0) * kind(1.0 - negative_slope) + kind(negative_slope)


def not_below(x: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Where x keeps its value against a lower bound (NaN does)."""
    return ~(x < low)


def not_above(x: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Where x keeps its value against an upper bound (NaN does)."""
    return ~(x > high)


def _drop(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


# softplus's branch test (a compile guard) and held arrays: module-level, so that the
# generated code calls them by name on every call
def has_pos_inf(a: np.ndarray) -> bool:
    return bool((a == np.inf).any())


def is_pos_inf(a: np.ndarray) -> np.ndarray:
    return a == np.inf


def is_not_pos_inf(a: np.ndarray) -> np.ndarray:
    return ~(a == np.inf)


def relu_shift(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0)


def exp_neg_relu_shift(a: np.ndarray) -> np.ndarray:
    return np.exp(-np.maximum(a, 0))
