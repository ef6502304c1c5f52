"""Helpers shared by the nn layer tests."""

from __future__ import annotations

from collections.abc import Callable

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
from tinygrad_edu.nn.utils import functional_call


def layer_fn(layer: nn.Module, *names: str) -> Callable[..., torch.Tensor]:
    """f(x, *params) calling `layer` with the given parameters swapped in (for gradcheck)."""
    def f(x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        return functional_call(layer, dict(zip(names, params)), (x,))

    f.__name__ = type(layer).__name__
    return f
