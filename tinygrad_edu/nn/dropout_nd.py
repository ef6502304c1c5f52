"""Channel dropout: `F.dropout1d/2d/3d` and `nn.Dropout1d/2d/3d`, as PyTorch.

In training each channel of each sample (each (n, c) slice of (N, C, *) input) is zeroed
with probability p, and the surviving channels are scaled by 1 / (1 - p); in eval mode the
input comes back unchanged. The mask comes from the library's default generator, so
`tinygrad_edu.manual_seed` makes it reproducible. A composite: input * constant mask.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_edu.creation import numpy_generator
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn._layer_name import named_call
from tinygrad_edu.nn.module import Module
from tinygrad_edu.ops.constants import DropoutMask
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["dropout1d", "dropout2d", "dropout3d", "Dropout1d", "Dropout2d", "Dropout3d"]


def _check_p(op: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _feature_dropout(x: Tensor, p: float, training: bool, inplace: bool,
                     batched: bool = True) -> Tensor:
    """PyTorch's feature_dropout: one draw per (dim 0, dim 1) entry (per dim 0 entry for
    unbatched input, which PyTorch gives a batch dim of 1), broadcast over the rest.
    `inplace=True` multiplies x in place (`mul_`, recorded inside a graph)."""
    if not training or p == 0.0:
        return x
    dt = x.array.dtype if x.dtype.kind == "f" else np.float64
    lead = 2 if batched else 1
    noise_shape = x.shape[:lead] + (1,) * (x.ndim - lead)
    if p < 1.0 and dt in (np.float32, np.float64):
        # a primitive (F.dropout's draw): compile draws a fresh mask on every call
        scale = DropoutMask.apply(shape=noise_shape, dtype=x.array.dtype, p=p, generator=None)
        return x.mul_(scale) if inplace else x * scale
    keep = numpy_generator(None).random(noise_shape, dtype=dt) >= p
    mask = keep.astype(x.array.dtype) * (1.0 / (1.0 - p)) if p < 1.0 else keep.astype(
        x.array.dtype)
    return x.mul_(mask) if inplace else x * as_tensor(mask)


def dropout1d(input: Any, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability p (training)."""
    _check_p("dropout1d", p)
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected 2-D or 3-D input (N, C, L) or (C, L), got "
                         f"shape {x.shape}")
    return _feature_dropout(x, p, training, inplace, batched=x.ndim == 3)


def dropout2d(input: Any, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input with probability p (training). As PyTorch
    (and with its warnings), 3-D input is read as (N, C, L), and other ranks drop the
    entries of dims 0 and 1."""
    _check_p("dropout2d", p)
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: received a {x.ndim}-D input of shape {x.shape}, which "
                      "PyTorch deprecates; dropout2d is for (N, C, H, W) or (C, H, W) input "
                      "(use dropout for this)", stacklevel=2)
    if x.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input; as PyTorch, it is read as (N, C, L) "
                      "(channel-wise 1-D dropout); use dropout1d for that", stacklevel=2)
    if x.ndim < 2:
        raise ShapeError(f"dropout2d: expected input of shape (N, C, H, W), got {x.shape}")
    return _feature_dropout(x, p, training, inplace)


def dropout3d(input: Any, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    _check_p("dropout3d", p)
    x = as_tensor(input)
    if x.ndim not in (4, 5):
        warnings.warn(f"dropout3d: received a {x.ndim}-D input of shape {x.shape}, which "
                      "PyTorch deprecates; dropout3d is for (N, C, D, H, W) or (C, D, H, W) "
                      "input", stacklevel=2)
    if x.ndim < 1:
        raise ShapeError(f"dropout3d: expected input of shape (N, C, D, H, W), got {x.shape}")
    # PyTorch reads every other rank as unbatched
    return _feature_dropout(x, p, training, inplace, batched=x.ndim == 5)


class _DropoutNd(Module):
    _fn: Any = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_p(type(self).__name__, p)
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:
        fn = type(self)._fn
        return named_call(self, lambda: fn(input, self.p, self.training, self.inplace))

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """`F.dropout1d` as a layer: identity in eval mode."""

    _fn = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """`F.dropout2d` as a layer: identity in eval mode."""

    _fn = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """`F.dropout3d` as a layer: identity in eval mode."""

    _fn = staticmethod(dropout3d)
