"""Per-sample normalization: `F.group_norm` / `nn.GroupNorm` and `F.instance_norm` /
`nn.InstanceNorm1d/2d/3d`, as PyTorch. Composites of Tensor ops (mean, biased variance,
rsqrt), like `F.layer_norm`, so every derivative comes from the primitives."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import get_default_dtype
from tinygrad_edu.nn._layer_name import layer_name
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["group_norm", "instance_norm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d"]


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance."""
    centered = x - x.mean(axis=axes, keepdims=True)
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered * (var + eps).rsqrt()


def _affine(op: str, y: Tensor, x: Tensor, weight: Any, bias: Any) -> Tensor:
    """y * weight + bias, one entry per channel (dim 1), each of shape (C,)."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    for name, v in (("weight", weight), ("bias", bias)):
        got = None if v is None else np.shape(v.array if isinstance(v, Tensor) else v)
        if got is not None and got != (x.shape[1],):
            raise ShapeError(f"{op}: {name} has shape {got}, expected ({x.shape[1]},) (one "
                             f"entry per channel) for input of shape {x.shape}")
    if weight is not None:
        y = y * as_tensor(weight).reshape(shape)
    if bias is not None:
        y = y + as_tensor(bias).reshape(shape)
    return y


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Split the C channels of (N, C, *) input into num_groups groups and normalize each
    group of each sample (its channels and positions together, biased variance), then
    y * weight + bias per channel."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"group_norm: expected input of shape (N, C, *) with at least 2 "
                         f"dims, got {x.shape}")
    n, c = x.shape[:2]
    if not isinstance(num_groups, int | np.integer) or num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: expected the number of channels of the input to be "
                         f"divisible by num_groups, but got input of shape {x.shape} and "
                         f"num_groups={num_groups}")
    if (n * c // num_groups) * int(np.prod(x.shape[2:])) == 1:
        raise ValueError(f"group_norm: expected more than 1 value per group when training, "
                         f"got input of shape {x.shape} and num_groups={num_groups}")
    grouped = x.reshape(n, num_groups, -1) if x.numel() else x.reshape(n, num_groups, 0)
    y = _normalize(grouped, (2,), eps).reshape(*x.shape)
    return _affine("group_norm", y, x, weight, bias)


def instance_running_average(running: np.ndarray, x: np.ndarray, momentum: float,
                             axes: tuple[int, ...], ddof: int | None) -> np.ndarray:
    """(1 - momentum) running + momentum * the batch mean of the instances' means (ddof
    None) or unbiased variances (ddof 1), in float64, in running's dtype."""
    a = x.astype(np.float64)
    stat = a.mean(axis=axes) if ddof is None else a.var(axis=axes, ddof=ddof)
    return (running * (1 - momentum) + stat.mean(0) * momentum).astype(running.dtype)


def instance_norm(input: Any, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Any = None, bias: Any = None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample of (N, C, *) input over its positions, then
    y * weight + bias per channel. With `use_input_stats` (the default) the instance's own
    mean and biased variance normalize, and given running statistics are updated in place
    with the batch means of the instances' means and unbiased variances (momentum as
    batch_norm). Otherwise the running statistics normalize."""
    x = as_tensor(input)
    if x.ndim < 3:
        raise ShapeError(f"instance_norm: expected input of shape (N, C, *) with at least "
                         f"one spatial dim, got {x.shape}")
    axes = tuple(range(2, x.ndim))
    positions = int(np.prod(x.shape[2:]))
    stats_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: running_mean and running_var must either both be "
                         "None or neither be None")
    for name, v in (("running_mean", running_mean), ("running_var", running_var)):
        if v is not None and v.shape != (x.shape[1],):
            raise ShapeError(f"instance_norm: {name} has shape {v.shape}, expected "
                             f"({x.shape[1]},) for input of shape {x.shape}")
    if use_input_stats:
        if positions == 1:
            raise ValueError(f"instance_norm: expected more than 1 spatial element when "
                             f"training, got input of shape {x.shape}")
        if running_mean is not None and running_var is not None:
            with no_grad():  # held: compile replays the update on every call
                running_mean.copy_(held(instance_running_average, running_mean, x,
                                        momentum=momentum, axes=axes, ddof=None))
                running_var.copy_(held(instance_running_average, running_var, x,
                                       momentum=momentum, axes=axes, ddof=1))
        y = _normalize(x, axes, eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when "
                             "use_input_stats=False")
        inv_std = (1.0 / (running_var.detach().reshape(stats_shape) + eps).sqrt()).to(x.dtype)
        y = (x - running_mean.detach().reshape(stats_shape).to(x.dtype)) * inv_std
    return _affine("instance_norm", y, x, weight, bias)


class GroupNorm(Module):
    """`F.group_norm` with a per-channel affine map (`weight` ones, `bias` zeros, each of
    shape (num_channels,)) when `affine`; `bias=False` keeps only the weight."""

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        dt = np.dtype(dtype or get_default_dtype())
        self.register_parameter("weight", Parameter(np.ones(num_channels, dt))
                                if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_channels, dt))
                                if affine and bias else None)

    def reset_parameters(self) -> None:
        with no_grad():
            if self.weight is not None:
                self.weight.copy_(np.ones(self.num_channels, self.weight.dtype))
            if self.bias is not None:
                self.bias.copy_(np.zeros(self.num_channels, self.bias.dtype))

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"{layer_name('GroupNorm')}: expected input of shape (N, "
                             f"{self.num_channels}, *) (num_channels={self.num_channels}), "
                             f"got {tuple(input.shape)}")
        try:
            return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)
        except ValueError as e:
            raise ValueError(f"{layer_name('GroupNorm')}: {e}") from None

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class _InstanceNorm(Module):
    """Shared by InstanceNorm1d/2d/3d (they differ in the input layouts they accept). As
    PyTorch: affine=False and track_running_stats=False by default; with running stats,
    training updates them and eval normalizes with them."""

    _spatial = 1
    weight: Parameter | None
    bias: Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = np.dtype(dtype or get_default_dtype())
        self.register_parameter("weight", Parameter(np.ones(num_features, dt))
                                if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dt))
                                if affine and bias else None)
        stats = track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(num_features, dt)) if stats else None)
        self.register_buffer("running_var", Tensor(np.ones(num_features, dt)) if stats else None)
        self.register_buffer("num_batches_tracked",
                             Tensor(np.array(0, dtype=np.int64)) if stats else None)

    def forward(self, input: Tensor) -> Tensor:
        name, d = layer_name(type(self).__name__), self._spatial
        if input.ndim not in (d + 1, d + 2):
            raise ValueError(f"{name}: expected {d + 1}-D or {d + 2}-D input (N, C, *spatial) "
                             f"or (C, *spatial) with {d} spatial dims, got shape "
                             f"{tuple(input.shape)}")
        batched = input.ndim == d + 2
        feature_dim = 1 if batched else 0
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got input of shape "
                                 f"{tuple(input.shape)}")
            warnings.warn(f"{name}: input's size at dim={feature_dim} does not match "
                          f"num_features ({self.num_features}); it is not used because "
                          f"affine=False (input shape {tuple(input.shape)})", stacklevel=2)
        x = input if batched else input.unsqueeze(0)
        try:
            y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        except (ValueError, ShapeError) as e:
            raise type(e)(f"{name}: {e}") from None
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L) input."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) input."""

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or (C, D, H, W) input."""

    _spatial = 3
