# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""More elementwise maths of Tensor (a mixin): trigonometry, rounding, exp2/log2/log10/
expm1/erf/erfc, lerp, the NaN helpers (nansum, nan_to_num), count_nonzero and the `new_*`
constructors, with PyTorch's names, arguments and dtypes.

Dtypes as PyTorch: the transcendental functions of an integer or bool tensor are in the
default float dtype (float32); floor, ceil, round and trunc keep an integer tensor's dtype
(its values are whole already) and refuse bool; frac, hypot and lerp take floats only.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._convert import _to_array
from tinygrad_edu._inplace_more import InplaceMoreMixin
from tinygrad_edu._maths import _operand, _tensors_dtype, broadcast_pair, where_tensors
from tinygrad_edu._unary import _floating, _no_bool
from tinygrad_edu.device import check_device
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _state, _tensor_types
from tinygrad_edu.ops.rounding import Ceil, Floor, Round, Trunc
from tinygrad_edu.ops.special import Erf, Erfc, Exp2, Expm1, Log2, Log10
from tinygrad_edu.ops.trig import Atan2, Cos, Hypot, Sin, Tan
from tinygrad_edu.ops.values import held

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

_NUMBERS = (int, float, bool, np.generic)


def _float_pair(a: Tensor, other: Any, op: str, integers: bool) -> tuple[Tensor, Tensor]:
    """The operands of atan2/hypot: `other` must be a Tensor (PyTorch refuses a number
    there too); both in the promoted dtype, which is the default float for integers (atan2)
    or an error (hypot); broadcast through `expand`."""
    if not isinstance(other, _tensor_types.Tensor):
        raise TypeError(f"{op}: argument 'other' must be a Tensor, not {type(other).__name__} "
                        f"(input has shape {a.shape}); wrap a number as "
                        f"tinygrad_edu.tensor(value)")
    dt = _tensors_dtype(a, other)
    if dt.kind != "f":
        if not integers:
            raise TypeError(f"{op}: not defined for {a.dtype} and {other.dtype} tensors "
                            f"(shapes {a.shape} and {other.shape}); convert to float first")
        dt = _state.default_dtype
    x, y = a.to(dt), other.to(dt)
    if x.shape != y.shape:
        x, y = broadcast_pair(x, y, op)
    return x, y


def _size(args: tuple[Any, ...], size: Any, op: str) -> tuple[int, ...]:
    """`new_zeros(2, 3)`, `new_zeros((2, 3))`, `new_zeros([2, 3])`, `new_zeros(size=(2, 3))`."""
    if size is not None:
        if args:
            raise TypeError(f"{op}: size given both positionally {args} and as size={size!r}")
        args = (size,)
    if not args:
        raise TypeError(f"{op}: missing the size (e.g. {op}(2, 3) or {op}((2, 3)))")
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    for n in args:
        if not isinstance(n, int | np.integer) or isinstance(n, bool):
            raise TypeError(f"{op}: size must be ints, got {args!r}")
        if n < 0:
            raise ValueError(f"{op}: negative dimensions are not allowed; got size {args}")
    return tuple(int(n) for n in args)


class ElementwiseMixin(InplaceMoreMixin):
    __slots__ = ()

    # ------------------------------------------------------------------ trigonometry
    def sin(self: Tensor) -> Tensor:
        return Sin.apply(_floating(self))

    def cos(self: Tensor) -> Tensor:
        return Cos.apply(_floating(self))

    def tan(self: Tensor) -> Tensor:
        return Tan.apply(_floating(self))

    def atan2(self: Tensor, other: Tensor) -> Tensor:
        """The angle of the point (other, self), elementwise, in (-pi, pi]; its gradient at
        (0, 0) is 0, as PyTorch's. Integers and bools give the default float dtype."""
        return Atan2.apply(*_float_pair(self, other, "atan2", integers=True))

    def arctan2(self: Tensor, other: Tensor) -> Tensor:
        """Alias of atan2 (as PyTorch and numpy)."""
        return self.atan2(other)

    def hypot(self: Tensor, other: Tensor) -> Tensor:
        """sqrt(self^2 + other^2) without overflow (hypot(1e200, 1e200) is finite); floats
        only, as PyTorch."""
        return Hypot.apply(*_float_pair(self, other, "hypot", integers=False))

    # ------------------------------------------------------------------ rounding
    def _rounded(self: Tensor, op: Any, name: str, **attrs: Any) -> Tensor:
        _no_bool(self, name)
        if self.array.dtype.kind != "f":  # integers are whole already: a copy, same dtype
            return self._wrap(self.array.copy())
        return op.apply(self, **attrs)

    def floor(self: Tensor) -> Tensor:
        """The largest integer <= x; gradient 0 everywhere (PyTorch's convention), and an
        integer tensor keeps its dtype."""
        return self._rounded(Floor, "floor")

    def ceil(self: Tensor) -> Tensor:
        """The smallest integer >= x; gradient 0 everywhere."""
        return self._rounded(Ceil, "ceil")

    def trunc(self: Tensor) -> Tensor:
        """x rounded toward zero; gradient 0 everywhere."""
        return self._rounded(Trunc, "trunc")

    def fix(self: Tensor) -> Tensor:
        """Alias of trunc (as PyTorch and numpy)."""
        return self.trunc()

    def round(self: Tensor, *, decimals: builtins.int = 0) -> Tensor:
        """x rounded to `decimals` places (negative: to tens, hundreds, ...), halves to even
        as PyTorch (round(2.5) = 2, round(0.125, decimals=2) = 0.12); gradient 0."""
        if not isinstance(decimals, int | np.integer) or isinstance(decimals, bool):
            raise TypeError(f"round: decimals must be an int, got {decimals!r}")
        if decimals and self.array.dtype.kind != "f":
            raise TypeError(f"round: decimals={decimals} needs a floating-point tensor, got "
                            f"{self.dtype} with shape {self.shape} (as PyTorch)")
        return self._rounded(Round, "round", decimals=int(decimals))

    def frac(self: Tensor) -> Tensor:
        """x - trunc(x), with the sign of x; gradient 1 (floats only, as PyTorch)."""
        if self.array.dtype.kind != "f":
            raise TypeError(f"frac: only floating-point tensors, got {self.dtype} with shape "
                            f"{self.shape} (as PyTorch)")
        return self - self.trunc()

    # ------------------------------------------------------------------ exp, log, erf
    def exp2(self: Tensor) -> Tensor:
        return Exp2.apply(_floating(self))

    def log2(self: Tensor) -> Tensor:
        return Log2.apply(_floating(self))

    def log10(self: Tensor) -> Tensor:
        return Log10.apply(_floating(self))

    def expm1(self: Tensor) -> Tensor:
        """e^x - 1, exact for tiny x (exp(1e-10) - 1 in floating point is not)."""
        return Expm1.apply(_floating(self))

    def erf(self: Tensor) -> Tensor:
        """The error function, 2/sqrt(pi) * integral_0^x e^(-t^2) dt (within an ulp)."""
        return Erf.apply(_floating(self))

    def erfc(self: Tensor) -> Tensor:
        """1 - erf(x), accurate in the tail where it is tiny."""
        return Erfc.apply(_floating(self))

    # ------------------------------------------------------------------ interpolation
    def lerp(self: Tensor, end: Tensor, weight: Any) -> Tensor:
        """self + weight * (end - self), as PyTorch computes it: from `end` when |weight| >=
        1/2 (end - (end - self) (1 - weight)), so weight = 1 gives `end` exactly. Gradients
        1 - weight, weight and end - self. `end` (and a `weight` tensor that is not 0-d)
        must have self's floating dtype, as PyTorch requires."""
        tensor = _tensor_types.Tensor
        if not isinstance(end, tensor):
            raise TypeError(f"lerp: argument 'end' must be a Tensor, not {type(end).__name__}")
        if self.array.dtype.kind != "f":
            raise TypeError(f"lerp: only floating-point tensors, got {self.dtype} with shape "
                            f"{self.shape} (as PyTorch)")
        if end.dtype != self.dtype:
            raise TypeError(f"lerp: expected dtype {self.dtype} for end but got {end.dtype} "
                            f"(shapes {self.shape} and {end.shape})")
        if isinstance(weight, tensor):
            if weight.ndim and weight.dtype != self.dtype:
                raise TypeError(f"lerp: expected dtype {self.dtype} for weight but got "
                                f"{weight.dtype} (shape {weight.shape})")
            w_shape = weight.shape
        elif isinstance(weight, _NUMBERS):
            w_shape = ()
        else:
            raise TypeError(f"lerp: weight must be a number or a Tensor, not "
                            f"{type(weight).__name__}")
        try:
            np.broadcast_shapes(self.shape, end.shape, w_shape)
        except ValueError:
            raise ShapeError(f"lerp: input {self.shape}, end {end.shape} and weight {w_shape} "
                             "cannot be broadcast together") from None
        diff = end - self
        if not isinstance(weight, tensor):
            w = float(weight)
            return self + diff * w if abs(w) < 0.5 else end - diff * (1.0 - w)
        w_t = weight.to(self.dtype)
        near_start = held(below_half, w_t)  # held: compile recomputes it per call
        return where_tensors(near_start.array, self + w_t * diff, end - diff * (1.0 - w_t))

    # ------------------------------------------------------------------ NaN and counting
    def nansum(self: Tensor, dim: Any = None, keepdim: builtins.bool = False, *,
               dtype: Any = None, axis: Any = None, keepdims: builtins.bool | None = None
               ) -> Tensor:
        """The sum with NaNs counted as 0; the gradient is 1 where x is not NaN, 0 where it
        is (as PyTorch). Integers and bools sum in int64. `axis`/`keepdims` are aliases."""
        dim = axis if axis is not None else dim
        keepdim = bool(keepdims) if keepdims is not None else keepdim
        axes = None if dim is None else self._axes(dim, "nansum")
        x = self if dtype is None else self.to(dtype)
        if x.array.dtype.kind == "f":
            x = x.where(held(not_nan, x), 0.0)
        return x.sum(dim=axes, keepdim=keepdim)

    def nan_to_num(self: Tensor, nan: builtins.float | None = 0.0,
                   posinf: builtins.float | None = None,
                   neginf: builtins.float | None = None) -> Tensor:
        """NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0 and the
        dtype's largest and lowest finite values). The gradient passes where x is finite and
        is 0 where a value was replaced. A new tensor, also for integers (unchanged)."""
        for what, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
            if v is not None and (isinstance(v, bool) or not isinstance(
                    v, int | float | np.integer | np.floating)):
                raise TypeError(f"nan_to_num: {what} must be a number or None, got "
                                f"{type(v).__name__}")
        a = self.array
        if a.dtype.kind != "f":
            return self._wrap(a.copy())
        fill = held(non_finite_fill, self, nan=nan, posinf=posinf, neginf=neginf)
        return self.where(held(np.isfinite, self), fill)

    def count_nonzero(self: Tensor, dim: Any = None, *, axis: Any = None) -> Tensor:
        """How many entries are not 0 (NaN counts), over `dim` (an int or a tuple; `axis` is
        an alias) or all; int64, no gradient."""
        dim = axis if axis is not None else dim
        if dim is None:
            return self._wrap(np.asarray(np.count_nonzero(self.array), dtype=np.int64))
        axes = self._axes(dim, "count_nonzero")
        return self._wrap(np.asarray(np.count_nonzero(self.array, axis=axes), dtype=np.int64))

    # ------------------------------------------------------------------ new_* constructors
    def _new_filled(self: Tensor, shape: tuple[int, ...], value: Any, dtype: Any, device: Any,
                    requires_grad: builtins.bool, op: str) -> Tensor:
        check_device(device, op)
        dt = self.array.dtype if dtype is None else np.dtype(dtype)
        return _tensor_types.Tensor(np.full(shape, value, dtype=dt), requires_grad=requires_grad)

    def new_zeros(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
                  device: Any = None, requires_grad: builtins.bool = False) -> Tensor:
        """Zeros of the given size, in self's dtype unless `dtype` is given (a new leaf)."""
        shape = _size(sizes, size, "new_zeros")
        return self._new_filled(shape, 0, dtype, device, requires_grad, "new_zeros")

    def new_ones(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
                 device: Any = None, requires_grad: builtins.bool = False) -> Tensor:
        shape = _size(sizes, size, "new_ones")
        return self._new_filled(shape, 1, dtype, device, requires_grad, "new_ones")

    def new_empty(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
                  device: Any = None, requires_grad: builtins.bool = False) -> Tensor:
        """Uninitialized in PyTorch; zeros here (reading it is a bug either way)."""
        shape = _size(sizes, size, "new_empty")
        return self._new_filled(shape, 0, dtype, device, requires_grad, "new_empty")

    def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
                 device: Any = None, requires_grad: builtins.bool = False) -> Tensor:
        """`fill_value` everywhere, converted to self's dtype unless `dtype` is given."""
        if not isinstance(size, tuple | list):
            raise TypeError(f"new_full: size must be a tuple of ints, not "
                            f"{type(size).__name__} (e.g. new_full((2, 3), 1.5))")
        value = fill_value.item() if isinstance(fill_value, _tensor_types.Tensor) else fill_value
        shape = _size((tuple(size),), None, "new_full")
        return self._new_filled(shape, value, dtype, device, requires_grad, "new_full")

    def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: builtins.bool = False) -> Tensor:
        """A copy of `data` (never sharing its memory, a Tensor's included, and outside any
        graph) in self's dtype unless `dtype` is given."""
        check_device(device, "new_tensor")
        dt = self.array.dtype if dtype is None else np.dtype(dtype)
        # Python data goes straight to dt (0.1 must not pass through float32 first)
        values = np.array(_to_array(data, dt), copy=True)
        return _tensor_types.Tensor(values, requires_grad=requires_grad)

    # ------------------------------------------------------------------ for numpy's ufuncs
    # np.arctan2(t, 2.0) and np.hypot(ndarray, t): numpy's operands follow the Tensor rules
    # of `t * 2` (a number takes the tensor's dtype), which PyTorch's atan2 has no call for.
    def _numpy_atan2(self: Tensor, other: Any) -> Tensor:
        return self.atan2(_operand(self, other))

    def _numpy_ratan2(self: Tensor, other: Any) -> Tensor:
        return _operand(self, other).atan2(self)

    def _numpy_hypot(self: Tensor, other: Any) -> Tensor:
        return self.hypot(_operand(self, other))

    def _numpy_rhypot(self: Tensor, other: Any) -> Tensor:
        return _operand(self, other).hypot(self)


# Arrays computed from values and held constant (`ops.values.held`): compile recomputes
# them on every call.


def below_half(w: np.ndarray) -> np.ndarray:
    """Where lerp computes from its start (|weight| < 1/2)."""
    return np.abs(w) < 0.5


def not_nan(x: np.ndarray) -> np.ndarray:
    return ~np.isnan(x)


def non_finite_fill(a: np.ndarray, nan: float | None, posinf: float | None,
                    neginf: float | None) -> np.ndarray:
    """nan_to_num's replacements: `nan` where a is NaN, else `posinf`/`neginf` by sign (by
    default 0 and the dtype's largest and lowest finite values)."""
    info = np.finfo(a.dtype)
    with np.errstate(over="ignore"):  # a posinf beyond the dtype's range becomes inf
        return np.where(np.isnan(a), 0.0 if nan is None else nan,
                        np.where(a > 0, info.max if posinf is None else posinf,
                                 info.min if neginf is None else neginf)).astype(a.dtype)
