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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class InplaceMoreMixin:
    __slots__ = ()

    def _elementwise_(self: Tensor, op: str, compute: Callable[[Tensor], Tensor],
                      *others: Any) -> Tensor:
        """self <- compute(self), in place; `others` are the operands that may need a graph."""
        shapes = [np.shape(getattr(o, "array", o)) for o in others]
        try:
            grown = np.broadcast_shapes(self.shape, *shapes) != self.shape
        except ValueError:  # shapes that do not broadcast: compute() names them
            grown = False
        if grown:
            raise RuntimeError(f"{op}: operands of shapes {', '.join(map(str, shapes))} would "
                               f"grow the tensor of shape {self.shape} changed in place; "
                               "in-place ops cannot broadcast the tensor they write into")
        return self._unary_inplace(op, compute, *others)

    def sin_(self: Tensor) -> Tensor:
        return self._elementwise_("sin_", lambda t: t.sin())

    def cos_(self: Tensor) -> Tensor:
        return self._elementwise_("cos_", lambda t: t.cos())

    def tan_(self: Tensor) -> Tensor:
        return self._elementwise_("tan_", lambda t: t.tan())

    def atan2_(self: Tensor, other: Tensor) -> Tensor:
        return self._elementwise_("atan2_", lambda t: t.atan2(other), other)

    def arctan2_(self: Tensor, other: Tensor) -> Tensor:
        return self._elementwise_("arctan2_", lambda t: t.atan2(other), other)

    def hypot_(self: Tensor, other: Tensor) -> Tensor:
        return self._elementwise_("hypot_", lambda t: t.hypot(other), other)

    def floor_(self: Tensor) -> Tensor:
        return self._elementwise_("floor_", lambda t: t.floor())

    def ceil_(self: Tensor) -> Tensor:
        return self._elementwise_("ceil_", lambda t: t.ceil())

    def trunc_(self: Tensor) -> Tensor:
        return self._elementwise_("trunc_", lambda t: t.trunc())

    def fix_(self: Tensor) -> Tensor:
        return self._elementwise_("fix_", lambda t: t.trunc())

    def round_(self: Tensor, *, decimals: builtins.int = 0) -> Tensor:
        return self._elementwise_("round_", lambda t: t.round(decimals=decimals))

    def frac_(self: Tensor) -> Tensor:
        return self._elementwise_("frac_", lambda t: t.frac())

    def exp2_(self: Tensor) -> Tensor:
        return self._elementwise_("exp2_", lambda t: t.exp2())

    def expm1_(self: Tensor) -> Tensor:
        return self._elementwise_("expm1_", lambda t: t.expm1())

    def log2_(self: Tensor) -> Tensor:
        return self._elementwise_("log2_", lambda t: t.log2())

    def log10_(self: Tensor) -> Tensor:
        return self._elementwise_("log10_", lambda t: t.log10())

    def erf_(self: Tensor) -> Tensor:
        return self._elementwise_("erf_", lambda t: t.erf())

    def erfc_(self: Tensor) -> Tensor:
        return self._elementwise_("erfc_", lambda t: t.erfc())

    def lerp_(self: Tensor, end: Tensor, weight: Any) -> Tensor:
        return self._elementwise_("lerp_", lambda t: t.lerp(end, weight), end, weight)

    def nan_to_num_(self: Tensor, nan: builtins.float | None = 0.0,
                    posinf: builtins.float | None = None,
                    neginf: builtins.float | None = None) -> Tensor:
        return self._elementwise_("nan_to_num_", lambda t: t.nan_to_num(nan, posinf, neginf))
