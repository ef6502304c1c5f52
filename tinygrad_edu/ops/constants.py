"""Primitives without a gradient whose values are drawn or derived, not differentiated:
the coefficients a loss builds from integer labels, and dropout's random mask.

They are primitives (not numpy code on `.array` beside the graph) so that everything a
computation reads goes through `Function.apply`: `tinygrad_edu.compile` then records them
and the generated code recomputes them on every call (new labels, a fresh mask) instead of
baking in the first call's values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.creation import numpy_generator
from tinygrad_edu.function import Function
from tinygrad_edu.modes import _state

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class LabelCoefficients(Function):
    """y = build(labels, **options): a constant matrix made from integer class labels (a
    loss's one-hot rows, weighted, smoothed and scaled; `build` is a module-level function
    of the loss). Labels are integers, so there is no gradient."""

    __slots__ = ()
    saves = ()

    def forward(self, labels: np.ndarray, build: Callable[..., np.ndarray],
                options: dict[str, Any]) -> np.ndarray:
        return build(labels, **options)

    def backward(self, grad: Tensor) -> None:
        return None


class DropoutMask(Function):
    """y = (u >= p) / (1 - p) with u uniform in [0, 1) of `shape`, drawn from `generator`
    (numpy Generator, tinygrad_edu.Generator, an int seed, or None: the default generator,
    read when the mask is drawn, so `manual_seed` applies). No inputs, no gradient."""

    __slots__ = ()
    saves = ()

    def forward(self, shape: tuple[int, ...], dtype: np.dtype, p: float, generator: Any
                ) -> np.ndarray:
        draw = dtype if dtype in (np.float32, np.float64) else np.float64
        rng = numpy_generator(generator)
        if _state.trace is not None:  # compile: the trace's draws are undone afterwards
            _state.trace.drawing(rng)
        keep = rng.random(shape, dtype=draw) >= p
        return keep.astype(dtype) * (1.0 / (1.0 - p))
