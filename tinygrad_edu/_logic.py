# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""Comparisons, bitwise and logical operators of Tensor (a mixin; `tensor.py` assembles the
class). None of them has a gradient: the results are bool (or integer) constants.

As PyTorch: `& | ^ ~` are bitwise on integers (logical on bool) in the promoted dtype;
`==` with None or a string is simply False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._maths import _operand, _tensors_dtype
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.ops.values import held

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _bitwise(self: Tensor, other: Any, ufunc: Any, name: str) -> Tensor:
    """&, |, ^ as PyTorch: bitwise on integers (logical on bool), in the promoted dtype."""
    b = _operand(self, other)
    if self.array.dtype.kind == "f" or b.array.dtype.kind == "f":
        raise TypeError(f"{name}: only integer and bool tensors, got {self.dtype} with shape "
                        f"{self.shape} and {b.dtype} with shape {b.shape}")
    dt = _tensors_dtype(self, b)
    try:
        x, y = (t if t.array.dtype == dt else t.to(dt) for t in (self, b))
        return held(ufunc, x, y)
    except ValueError:
        raise ShapeError(f"{name}: shapes {self.shape} and {b.shape} cannot be broadcast "
                         "together") from None


def _compare(self: Tensor, other: Any, ufunc: Any, name: str) -> Tensor:
    b = _operand(self, other)
    try:
        return held(ufunc, self, b)
    except ValueError:
        raise ShapeError(f"{name}: shapes {self.shape} and {b.shape} cannot be broadcast "
                         "together") from None


class LogicMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ comparisons
    def __lt__(self: Tensor, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(self, other, np.less, "lt")

    def __le__(self: Tensor, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(self, other, np.less_equal, "le")

    def __gt__(self: Tensor, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(self, other, np.greater, "gt")

    def __ge__(self: Tensor, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(self, other, np.greater_equal, "ge")

    def __eq__(self: Tensor, other: Any) -> Any:  # type: ignore[override]
        if other is None or isinstance(other, str):  # PyTorch: never equal to these
            return False
        return _compare(self, other, np.equal, "eq")

    def __ne__(self: Tensor, other: Any) -> Any:  # type: ignore[override]
        if other is None or isinstance(other, str):
            return True
        return _compare(self, other, np.not_equal, "ne")

    def __invert__(self: Tensor) -> Tensor:
        return self.bitwise_not()

    def bitwise_not(self: Tensor) -> Tensor:
        """~x: logical not for bool, bitwise not for integers (floats are an error)."""
        if self.array.dtype.kind == "f":
            raise TypeError(f"bitwise_not: only integer and bool tensors, got {self.dtype} "
                            f"with shape {self.shape}")
        return held(np.invert, self)

    def __and__(self: Tensor, other: Any) -> Tensor:
        return _bitwise(self, other, np.bitwise_and, "bitwise_and")

    def __rand__(self: Tensor, other: Any) -> Tensor:
        return _bitwise(self, other, np.bitwise_and, "bitwise_and")

    def __or__(self: Tensor, other: Any) -> Tensor:
        return _bitwise(self, other, np.bitwise_or, "bitwise_or")

    def __ror__(self: Tensor, other: Any) -> Tensor:
        return _bitwise(self, other, np.bitwise_or, "bitwise_or")

    def __xor__(self: Tensor, other: Any) -> Tensor:
        return _bitwise(self, other, np.bitwise_xor, "bitwise_xor")

    def __rxor__(self: Tensor, other: Any) -> Tensor:
        return _bitwise(self, other, np.bitwise_xor, "bitwise_xor")

    def bitwise_and(self: Tensor, other: Any) -> Tensor:
        return self & other

    def bitwise_or(self: Tensor, other: Any) -> Tensor:
        return self | other

    def bitwise_xor(self: Tensor, other: Any) -> Tensor:
        return self ^ other

    def logical_and(self: Tensor, other: Any) -> Tensor:
        return _compare(self, other, np.logical_and, "logical_and")

    def logical_or(self: Tensor, other: Any) -> Tensor:
        return _compare(self, other, np.logical_or, "logical_or")

    def logical_xor(self: Tensor, other: Any) -> Tensor:
        return _compare(self, other, np.logical_xor, "logical_xor")

    def logical_not(self: Tensor) -> Tensor:
        return held(np.logical_not, self)

    def lt(self: Tensor, other: Any) -> Tensor:
        return self < other

    def le(self: Tensor, other: Any) -> Tensor:
        return self <= other

    def gt(self: Tensor, other: Any) -> Tensor:
        return self > other

    def ge(self: Tensor, other: Any) -> Tensor:
        return self >= other

    def eq(self: Tensor, other: Any) -> Tensor:
        return self == other

    def ne(self: Tensor, other: Any) -> Tensor:
        return self != other

    def equal(self: Tensor, other: Any) -> bool:
        o = _operand(self, other)
        return self.shape == o.shape and bool(np.array_equal(self.array, o.array))

    def allclose(self: Tensor, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(self.isclose(other, rtol, atol).array.all())

    def isclose(self: Tensor, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> Tensor:
        o = _operand(self, other)
        try:
            np.broadcast_shapes(self.shape, o.shape)
        except ValueError:
            raise ShapeError(f"isclose: shapes {self.shape} and {o.shape} do not broadcast "
                             "(each dim must be equal or 1)") from None
        return held(np.isclose, self, o, rtol=rtol, atol=atol)

    def isnan(self: Tensor) -> Tensor:
        return held(np.isnan, self)

    def isfinite(self: Tensor) -> Tensor:
        return held(np.isfinite, self)

    def isinf(self: Tensor) -> Tensor:
        """True where x is +inf or -inf (never for integers and bools)."""
        return held(np.isinf, self)

    def isposinf(self: Tensor) -> Tensor:
        return held(np.isposinf, self)

    def isneginf(self: Tensor) -> Tensor:
        return held(np.isneginf, self)
