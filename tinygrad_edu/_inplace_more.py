# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""The in-place versions of the elementwise maths in `_unary_more` (a mixin): `sin_`,
`floor_`, `round_(decimals=)`, `atan2_`, `lerp_`, `nan_to_num_` ... as PyTorch has them.

Each goes through `_unary_inplace` (`_inplace.py`): outside a graph the result is written
into the tensor's own memory and its version bumped; inside one the tensor takes over the
node that computed the new value from a snapshot of the old one, so its own gradient is
right, while a node that saved the old value (the output of `exp`, say) raises at backward,
as PyTorch's version counter does. A result of another dtype than the tensor's (sin_ of an
int64 tensor) or of a larger shape (atan2_ against a wider operand) is refused.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class InplaceMoreMixin:
    __slots__ = ()

    def sin_(self: Tensor) -> Tensor:
        return self._unary_inplace("sin_", lambda t: t.sin())

    def cos_(self: Tensor) -> Tensor:
        return self._unary_inplace("cos_", lambda t: t.cos())

    def tan_(self: Tensor) -> Tensor:
        return self._unary_inplace("tan_", lambda t: t.tan())

    def atan2_(self: Tensor, other: Tensor) -> Tensor:
        return self._unary_inplace("atan2_", lambda t: t.atan2(other), other)

    def arctan2_(self: Tensor, other: Tensor) -> Tensor:
        return self._unary_inplace("arctan2_", lambda t: t.atan2(other), other)

    def hypot_(self: Tensor, other: Tensor) -> Tensor:
        return self._unary_inplace("hypot_", lambda t: t.hypot(other), other)

    def floor_(self: Tensor) -> Tensor:
        return self._unary_inplace("floor_", lambda t: t.floor())

    def ceil_(self: Tensor) -> Tensor:
        return self._unary_inplace("ceil_", lambda t: t.ceil())

    def trunc_(self: Tensor) -> Tensor:
        return self._unary_inplace("trunc_", lambda t: t.trunc())

    def fix_(self: Tensor) -> Tensor:
        return self._unary_inplace("fix_", lambda t: t.trunc())

    def round_(self: Tensor, *, decimals: builtins.int = 0) -> Tensor:
        return self._unary_inplace("round_", lambda t: t.round(decimals=decimals))

    def frac_(self: Tensor) -> Tensor:
        return self._unary_inplace("frac_", lambda t: t.frac())

    def exp2_(self: Tensor) -> Tensor:
        return self._unary_inplace("exp2_", lambda t: t.exp2())

    def expm1_(self: Tensor) -> Tensor:
        return self._unary_inplace("expm1_", lambda t: t.expm1())

    def log2_(self: Tensor) -> Tensor:
        return self._unary_inplace("log2_", lambda t: t.log2())

    def log10_(self: Tensor) -> Tensor:
        return self._unary_inplace("log10_", lambda t: t.log10())

    def erf_(self: Tensor) -> Tensor:
        return self._unary_inplace("erf_", lambda t: t.erf())

    def erfc_(self: Tensor) -> Tensor:
        return self._unary_inplace("erfc_", lambda t: t.erfc())

    def lerp_(self: Tensor, end: Tensor, weight: Any) -> Tensor:
        return self._unary_inplace("lerp_", lambda t: t.lerp(end, weight), end, weight)

    def nan_to_num_(self: Tensor, nan: builtins.float | None = 0.0,
                    posinf: builtins.float | None = None,
                    neginf: builtins.float | None = None) -> Tensor:
        return self._unary_inplace("nan_to_num_", lambda t: t.nan_to_num(nan, posinf, neginf))
