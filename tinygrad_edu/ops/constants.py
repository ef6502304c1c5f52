"""Dropout's random mask: a primitive without a gradient, drawn, not differentiated.
(Values derived from other values, such as the coefficients a loss builds from integer
labels, are `ops.values.ValueConstant`.)

It is a primitive (not numpy code on `.array` beside the graph) so that everything a
computation reads goes through `Function.apply`: `tinygrad_edu.compile` then records it
and the generated code draws a fresh mask on every call instead of baking in the first
call's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.creation import numpy_generator
from tinygrad_edu.function import Function
from tinygrad_edu.modes import _state

if TYPE_CHECKING:
    pass


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
