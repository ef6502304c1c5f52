"""Normalization layers: BatchNorm1d, BatchNorm2d (running statistics), LayerNorm."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import get_default_dtype
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn.linear import layer_name
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]



def _sizes(values: tuple[Any, ...], layer: str, what: str) -> tuple[int, ...]:
    """Non-negative ints, refused (not truncated: int(2.5) is 2) otherwise."""
    if not all(isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0
               for n in values):
        raise TypeError(f"{layer}: {what} must be non-negative ints, got {values!r}")
    return tuple(int(n) for n in values)

class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d, which differ only in the input layouts they accept.

    Training: normalize with the batch mean and biased variance, and (with
    `track_running_stats`) update `running_mean`/`running_var` (unbiased variance) with
    `momentum`, or with a cumulative average when momentum is None; count batches in
    `num_batches_tracked`. Eval: normalize with the running statistics.
    """

    _layouts: tuple[int, ...] = ()
    _layout_text = ""
    weight: Parameter | None
    bias: Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        (num_features,) = _sizes((num_features,), type(self).__name__, "num_features")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = np.dtype(dtype or get_default_dtype())
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            self.bias = Parameter(np.zeros(num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            assert self.running_mean is not None and self.running_var is not None
            assert self.num_batches_tracked is not None
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None and self.bias is not None:
            self.weight.array[...] = 1
            self.bias.array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._layouts or input.shape[1] != self.num_features:
            name = layer_name(type(self).__name__)
            raise ShapeError(f"{name}: expected input of shape "
                             f"{self._layout_text.format(C=self.num_features)} "
                             f"(num_features={self.num_features}), got {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)  # compile: a value read
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, per feature C (the courses' batchnorm on
    fully-connected layers)."""

    _layouts = (2, 3)
    _layout_text = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, per channel C (the courses' spatial batchnorm)."""

    _layouts = (4,)
    _layout_text = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalize over the trailing `normalized_shape` dims of each sample, then an
    elementwise affine map (weight ones, bias zeros)."""

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape if isinstance(normalized_shape, tuple | list)
                 else (normalized_shape,))
        self.normalized_shape = _sizes(tuple(shape), "LayerNorm", "normalized_shape")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = np.dtype(dtype or get_default_dtype())
        self.register_parameter("weight", Parameter(np.ones(self.normalized_shape, dt))
                                if elementwise_affine else None)
        self.register_parameter("bias", Parameter(np.zeros(self.normalized_shape, dt))
                                if elementwise_affine and bias else None)

    def forward(self, input: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if input.shape[input.ndim - k:] != self.normalized_shape or input.ndim < k:
            raise ShapeError(f"{layer_name('LayerNorm')}: expected input of shape "
                             f"(*, {', '.join(map(str, self.normalized_shape))}) "
                             f"(normalized_shape={self.normalized_shape}), got "
                             f"{tuple(input.shape)}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
