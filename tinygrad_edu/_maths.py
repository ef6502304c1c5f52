# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""Operators and elementwise maths of Tensor (a mixin; `tensor.py` assembles the class).

Binary operators first settle one dtype (PyTorch's rule: a Python scalar takes the tensor's
dtype; float beats int; the wider float wins) and one shape (through `expand`), so the
primitives in `ops/elementwise.py` only ever see equal operands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._convert import _to_array
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _state, _tensor_types
from tinygrad_edu.ops.elementwise import (
    Abs,
    Add,
    Div,
    Mul,
    Neg,
    Pow,
    Sign,
    Sub,
    Where,
)
from tinygrad_edu.ops.linalg import MatMul, einsum_normalized
from tinygrad_edu.ops.values import held

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

_PY_SCALARS = (int, float, bool, np.generic)


def _scalar_dtype(value: Any, like: np.dtype) -> np.dtype:
    """A Python scalar is 'weak': it takes the tensor's dtype unless it is a float meeting an
    integer tensor, which gives the default float dtype (as in PyTorch)."""
    if like.kind == "f":
        return like
    if isinstance(value, float | np.floating):
        return _state.default_dtype
    if isinstance(value, bool | np.bool_):
        return like
    return like if like.kind in "iu" else np.dtype(np.int64)


def _result_dtype(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promoteTypes: float beats int and bool (int64 with float32 is float32, where
    numpy says float64); within a category the wider type wins."""
    if a.kind == "f" and b.kind != "f":
        return a
    if b.kind == "f" and a.kind != "f":
        return b
    return np.promote_types(a, b)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _tensors_dtype(a: Tensor, b: Tensor) -> np.dtype:
    """The dtype of a binary op on two tensors (PyTorch's result_type): a 0-d tensor only
    decides the dtype when its category (bool < int < float) is higher than the other
    operand's, so float64 0-d times a float32 vector stays float32."""
    da, db = a.array.dtype, b.array.dtype
    if (a.array.ndim == 0) != (b.array.ndim == 0):
        dim, zero = (db, da) if a.array.ndim == 0 else (da, db)
        if _CATEGORY.get(zero.kind, 3) <= _CATEGORY.get(dim.kind, 3):
            return dim
    return _result_dtype(da, db)


def _operand(self: Tensor, other: Any) -> Tensor:
    # MathsMixin, not type(self): a Tensor subclass (nn.Parameter) must neither re-wrap a
    # plain Tensor operand (that would cut its graph) nor make constants of its own class.
    if isinstance(other, MathsMixin):
        return other  # type: ignore[return-value]
    if isinstance(other, _PY_SCALARS):
        return self._wrap(np.asarray(other, dtype=_scalar_dtype(other, self.array.dtype)))
    return self._wrap(_to_array(other))


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    dt = _tensors_dtype(a, b)
    return a.to(dt), b.to(dt)


def _promoted(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    return (a, b) if a.array.dtype == b.array.dtype else _promote(a, b)


def scalar_like(value: Any, like: Tensor) -> Tensor:
    """A constant for `value` beside `like`: a Python or 0-d number takes like's floating
    dtype (as PyTorch's wrapped numbers), anything else keeps its own."""
    arr = np.asarray(value)
    if arr.ndim == 0 and like.array.dtype.kind == "f":
        return like._wrap(arr.astype(like.array.dtype))
    return like._wrap(_to_array(value))


def condition_array(condition: Any) -> np.ndarray:
    """A `where` condition as a bool array of its own (a copy: changing the caller's mask
    later must not change this gradient). A tensor's is held (`ops.values.held`), so
    `compile` recomputes it from each call's condition."""
    if isinstance(condition, _tensor_types.Tensor):
        return held(bool_copy, condition).array
    return bool_copy(condition)


def bool_copy(condition: Any) -> np.ndarray:
    return np.array(condition, dtype=bool)


def where_tensors(cond: np.ndarray, a: Tensor, b: Tensor) -> Tensor:
    """`a` where `cond` else `b`, in a common dtype and broadcast shape; the gradient
    flows to the chosen side only."""
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    if a.array.dtype != b.array.dtype:
        a, b = _promote(a, b)
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"where: condition {cond.shape}, input {a.shape} and other {b.shape} "
                         "cannot be broadcast together") from None
    if a.shape != shape:
        a = a._expand_to(shape)
    if b.shape != shape:
        b = b._expand_to(shape)
    # the condition broadcasts inside np.where; kept as it is, a traced condition (an
    # array `ValueConstant` made) stays recognisable to `compile`
    return Where.apply(a, b, cond=cond)


def broadcast_pair(a: Tensor, b: Tensor, op: str) -> tuple[Tensor, Tensor]:
    """Operands that need a gradient are expanded (through `Expand`) to the common shape;
    constants are left for numpy to broadcast, since no gradient has to be summed back to
    them. Shapes that cannot broadcast are an error naming the op."""
    if b.array.ndim == 0 and not b.requires_grad:
        return a, b
    if a.array.ndim == 0 and not a.requires_grad:
        return a, b
    try:
        shape = np.broadcast_shapes(a.array.shape, b.array.shape)
    except ValueError:
        raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together"
                         ) from None
    if not _state.grad_enabled:
        return a, b
    return (a._expand_to(shape) if a.requires_grad and a.array.shape != shape else a,
            b._expand_to(shape) if b.requires_grad and b.array.shape != shape else b)


def _binary(self: Tensor, other: Any, op: Any, name: str, reverse: bool = False) -> Tensor:
    b = _operand(self, other)
    a = self
    if reverse:
        a, b = b, a
    if name == "sub" and (a.array.dtype.kind == "b" or b.array.dtype.kind == "b"
                          or isinstance(other, bool | np.bool_)):
        raise TypeError(f"sub: subtraction with a bool tensor is not supported (shapes "
                        f"{a.shape} and {b.shape}); to invert a mask use ~ or logical_not()")
    if a.array.dtype != b.array.dtype:
        a, b = _promote(a, b)
    if name == "pow" and a.array.dtype.kind == "b":
        if isinstance(other, MathsMixin) or reverse:
            raise TypeError(f"pow: not defined for two bool tensors (shapes {a.shape} and "
                            f"{b.shape})")
        return a._wrap(np.asarray(a.array | ~b.array))  # x^0 = 1, x^1 = x: stays bool
    if a.array.shape != b.array.shape:
        a, b = broadcast_pair(a, b, name)
    return op.apply(a, b)


class MathsMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ arithmetic
    def __add__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Add, "add")

    def __radd__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Add, "add", reverse=True)

    def __sub__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Sub, "sub")

    def __rsub__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Sub, "sub", reverse=True)

    def __mul__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Mul, "mul")

    def __rmul__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Mul, "mul", reverse=True)

    def __truediv__(self: Tensor, other: Any) -> Tensor:
        if self.array.dtype.kind != "f" and not _is_float(other):
            return self.to(_state.default_dtype) / other
        return _binary(self, other, Div, "div")

    def __rtruediv__(self: Tensor, other: Any) -> Tensor:
        if self.array.dtype.kind != "f" and not _is_float(other):
            return other / self.to(_state.default_dtype)
        return _binary(self, other, Div, "div", reverse=True)

    def __pow__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Pow, "pow")

    def __rpow__(self: Tensor, other: Any) -> Tensor:
        return _binary(self, other, Pow, "pow", reverse=True)

    def __floordiv__(self: Tensor, other: Any) -> Tensor:
        return self.floor_divide(other)

    def __rfloordiv__(self: Tensor, other: Any) -> Tensor:
        return _operand(self, other).floor_divide(self)

    def __mod__(self: Tensor, other: Any) -> Tensor:
        return self.remainder(other)

    def __rmod__(self: Tensor, other: Any) -> Tensor:
        return _operand(self, other).remainder(self)

    def floor_divide(self: Tensor, other: Any) -> Tensor:
        """floor(x / y) (`//`); piecewise constant, so it passes no gradient."""
        a, b = self, _operand(self, other)
        if a.array.dtype != b.array.dtype:
            a, b = _promote(a, b)
        if a.array.dtype == np.bool_:
            raise TypeError(f"floor_divide: not defined for bool tensors (shapes {a.shape} and "
                            f"{b.shape})")
        return held(np.floor_divide, a, b)  # held: compile recomputes it on every call

    def remainder(self: Tensor, other: Any) -> Tensor:
        """x - y * floor(x / y) (`%`), with the sign of the divisor, as Python and
        torch.remainder; floor(x / y) is a constant, so d/dx = 1 and d/dy = -floor(x / y)."""
        a, b = self, _operand(self, other)
        if a.array.dtype != b.array.dtype:
            a, b = _promote(a, b)
        return a - b * a.floor_divide(b)

    def __neg__(self: Tensor) -> Tensor:
        return Neg.apply(self)

    def __pos__(self: Tensor) -> Tensor:
        return self

    def __abs__(self: Tensor) -> Tensor:
        return Abs.apply(self)

    def __matmul__(self: Tensor, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self: Tensor, other: Any) -> Tensor:
        return _operand(self, other).matmul(self)

    def add(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self: Tensor, other: Any) -> Tensor:
        return self * other

    def div(self: Tensor, other: Any) -> Tensor:
        return self / other

    def pow(self: Tensor, exponent: Any) -> Tensor:
        return self**exponent

    def neg(self: Tensor) -> Tensor:
        return -self

    def matmul(self: Tensor, other: Any) -> Tensor:
        """Matrix product with numpy's rules: 1-D operands are promoted and the added axis
        removed again; batch axes broadcast."""
        b = _operand(self, other)
        a = self
        if a.array.dtype.kind == "b" or b.array.dtype.kind == "b":
            raise TypeError(f"matmul: not defined for bool tensors (shapes {a.shape} and "
                            f"{b.shape}, dtypes {a.dtype} and {b.dtype})")
        if a.array.dtype != b.array.dtype:
            a, b = _promote(a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least one dimension; got shapes "
                             f"{a.shape} and {b.shape}")
        if a.ndim == 2 and b.ndim == 2:
            if a.array.shape[1] != b.array.shape[0]:
                raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                                 f"({a.shape[1]} != {b.shape[0]})")
            return MatMul.apply(a, b)
        # A 1-D operand goes in as it is (one node; numpy's matmul promotes it and drops
        # the added axis); only batch axes of two N-D operands are broadcast here.
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        if a.ndim > 1 and b.ndim > 1 and a.shape[:-2] != b.shape[:-2]:
            try:
                batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} have batch shapes "
                                 f"{a.shape[:-2]} and {b.shape[:-2]} that cannot be broadcast "
                                 "together; each batch dim must match or be 1") from None
            a = a._expand_to(batch + a.shape[-2:])
            b = b._expand_to(batch + b.shape[-2:])
        return MatMul.apply(a, b)

    def dot(self: Tensor, other: Any) -> Tensor:
        """The dot product of two vectors of the same length, sum_i a_i b_i (1-D only, as
        PyTorch; `@` handles matrices)."""
        a, b = _promoted(self, _operand(self, other))
        if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
            raise ShapeError(f"dot: expected two 1-D tensors of the same length, got shapes "
                             f"{a.shape} and {b.shape} (use matmul or @ for matrices)")
        return einsum_normalized(("i", "i"), "", [a, b], True)

    def outer(self: Tensor, other: Any) -> Tensor:
        """The outer product of two vectors: out[i, j] = a[i] b[j]."""
        a, b = _promoted(self, _operand(self, other))
        if a.ndim != 1 or b.ndim != 1:
            raise ShapeError(f"outer: expected two 1-D tensors, got shapes {a.shape} and "
                             f"{b.shape}")
        return einsum_normalized(("i", "j"), "ij", [a, b], True)

    def trace(self: Tensor) -> Tensor:
        """sum_i x[i, i], for any matrix (a rectangular one sums its main diagonal)."""
        if self.ndim != 2:
            raise ShapeError(f"trace: expected a matrix, got shape {self.shape}")
        if self.shape[0] == self.shape[1]:
            return einsum_normalized(("ii",), "", [self], False)
        return self.diagonal().sum()

    def diag(self: Tensor, diagonal: int = 0) -> Tensor:
        """The `diagonal`-th diagonal of a matrix (any shape), or the square matrix with a
        vector on its `diagonal`-th diagonal (PyTorch's `diag`)."""
        if self.ndim == 2:
            if diagonal == 0 and self.shape[0] == self.shape[1]:
                return einsum_normalized(("ii",), "i", [self], False)
            return self.diagonal(diagonal).clone()  # a copy, as PyTorch's diag
        if self.ndim == 1:
            if diagonal:
                return self.diag_embed(diagonal)
            eye = self._wrap(np.eye(self.shape[0], dtype=self.dtype))
            return einsum_normalized(("i", "ij"), "ij", [self, eye], True)
        raise ShapeError(f"diag: expected a 1-D or 2-D tensor, got shape {self.shape}")

    def sign(self: Tensor) -> Tensor:
        """sign(x); piecewise constant, so its gradient is zero (as in PyTorch), and a bool
        tensor is its own sign."""
        if self.array.dtype == np.bool_:
            return self._wrap(self.array.copy())
        return Sign.apply(self)


def _is_float(x: Any) -> bool:
    if isinstance(x, float | np.floating):
        return True
    d = getattr(x, "dtype", None)
    return d is not None and np.dtype(d).kind == "f"
