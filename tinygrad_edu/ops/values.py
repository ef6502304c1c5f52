"""Arrays an op computes from the values of its inputs and then holds constant: the mask
`x > 0` that picks leaky_relu's slope, softmax's max shift, the bounds clamp cuts at, the
coefficients a loss builds from integer labels.

The maths treats them as constants (the max shift does not change softmax's value; a mask is
piecewise constant), so no gradient flows through them. They are primitives all the same
(not numpy code on `.array` beside the graph) so that `tinygrad_edu.compile` records them:
the generated code then recomputes them from each call's values instead of baking in the
first call's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from tinygrad_edu.function import Function
from tinygrad_edu.modes import _GradMode, _state, _tensor_types

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


Compute = TypeVar("Compute", bound=Callable[..., np.ndarray])


class ValueConstant(Function):
    """y = compute(*xs, **options), held constant: no gradient reaches the inputs.

    `compute` is a module-level numpy function of the op that uses it (the same object on
    every call, so that a trace can tell two calls ran the same step)."""

    __slots__ = ()
    saves = ()

    def forward(self, *arrays: np.ndarray, compute: Callable[..., np.ndarray],
                options: dict[str, Any]) -> np.ndarray:
        return np.asarray(compute(*arrays, **options))

    def backward(self, grad: Tensor) -> None:
        return None


#: readable names for the values of some computations in compile's generated code
#: (`crossentropy_target_coef`); others are named `held_<function name>`
VALUE_NAMES: dict[Callable[..., np.ndarray], str] = {}


def value_name(name: str) -> Callable[[Compute], Compute]:
    """Decorate a held computation with the name its value gets in compile's code."""
    def mark(compute: Compute) -> Compute:
        VALUE_NAMES[compute] = name
        return compute
    return mark


def held(compute: Callable[..., np.ndarray], *inputs: Tensor, **options: Any) -> Tensor:
    """`compute(*arrays, **options)` as a tensor outside the graph (`ValueConstant`): the
    result needs no gradient, so it is computed with recording off. Only `compile`'s tracer
    records such a node; without one the array is all there is to make."""
    if _state.trace is None:
        return _tensor_types.new(np.asarray(compute(*[t.array for t in inputs], **options)))
    with _GradMode(False):
        return ValueConstant.apply(*inputs, compute=compute, options=options)  # type: ignore[no-any-return]
