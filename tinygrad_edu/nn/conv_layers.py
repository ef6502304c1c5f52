"""Convolution and pooling layers on top of `nn.functional`'s conv/pool (PyTorch layout:
input (N, C, H, W) or unbatched (C, H, W), and the 1-d and 3-d forms; weight
(C_out, C_in / groups, kh, kw)). The transposed layers are in `conv_transpose_layers`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init
from tinygrad_edu.nn._conv import SPATIAL
from tinygrad_edu.nn.linear import empty_parameter, layer_name
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "Conv3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d",
           "AvgPool2d", "AvgPool3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _named(layer: Module, fn: Any, *args: Any) -> Tensor:
    """fn(*args); an error from the functional op (which names only itself) gets the
    layer's name and path in front: 'MaxPool2d (features.2): max_pool2d: ...'."""
    try:
        return fn(*args)  # type: ignore[no-any-return]
    except (ShapeError, ValueError) as e:
        raise type(e)(f"{layer_name(type(layer).__name__)}: {e}") from None


def _tuple(value: Any, d: int, name: str, layer: str) -> tuple[int, ...]:
    items = tuple(value) if isinstance(value, tuple | list) else (value,) * d
    if len(items) != d or not all(isinstance(v, int | np.integer) for v in items):
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {d} ints, got {value!r}")
    return tuple(int(v) for v in items)


def _layout(d: int, channels: Any) -> str:
    """'(N, C, H, W) or (C, H, W)' for d spatial axes and the channel count given."""
    return f"(N, {channels}, {SPATIAL[d]}) or ({channels}, {SPATIAL[d]})"


class _ConvNd(Module):
    _d = 2
    _transposed = False  # weight (C_in, C_out / groups, *k) instead of (C_out, C_in / groups)
    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
                 generator: Any = None) -> None:
        super().__init__()
        name, d = type(self).__name__, self._d
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, d, "kernel_size", name)
        self.stride = _tuple(stride, d, "stride", name)
        self.dilation = _tuple(dilation, d, "dilation", name)
        for what in ("kernel_size", "stride", "dilation"):
            if any(v <= 0 for v in getattr(self, what)):
                raise ValueError(f"{name}: {what} must be positive, got {getattr(self, what)}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride}), as in PyTorch")
            self.padding: Any = padding
        else:
            self.padding = _tuple(padding, d, "padding", name)
        self.padding_mode = padding_mode
        channels = ((in_channels, out_channels // groups) if self._transposed
                    else (out_channels, in_channels // groups))
        self.weight = empty_parameter(channels + self.kernel_size, dtype)
        if bias:
            self.bias = empty_parameter((out_channels,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """PyTorch's init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, with
        fan_in = weight.shape[1] * prod(kernel_size) (in_channels / groups for a
        convolution, out_channels / groups for a transposed one, as PyTorch)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def _conv(self, x: Tensor, padding: Any) -> Tensor:
        raise TypeError(f"{type(self).__name__}: subclasses of _ConvNd define _conv()")

    def forward(self, input: Tensor) -> Tensor:
        d = self._d
        batched = input.ndim == d + 2
        if input.ndim not in (d + 1, d + 2) or input.shape[-d - 1] != self.in_channels:
            raise ShapeError(f"{layer_name(type(self).__name__)}: expected input of shape "
                             f"{_layout(d, self.in_channels)} "
                             f"(in_channels={self.in_channels}, weight of shape "
                             f"{self.weight.shape}), got {tuple(input.shape)}")
        x = input if batched else input.unsqueeze(0)
        padding = self.padding
        if self.padding_mode != "zeros" and padding != "valid":
            if padding == "same":
                # As PyTorch: dilation * (k - 1) in all, half before and the odd one after.
                totals = [dil * (k - 1) for dil, k in zip(self.dilation, self.kernel_size)]
                widths = [w for t in reversed(totals) for w in (t // 2, t - t // 2)]
            else:
                widths = [w for p in reversed(padding) for w in (p, p)]
            x = F.pad(x, widths, mode=self.padding_mode)
            padding = 0
        out = self._conv(x, padding)
        return out if batched else out.squeeze(0)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._d:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._d:
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0,) * self._d) != (0,) * self._d:  # transposed
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation) layer, as `torch.nn.Conv2d`."""

    _d = 2

    def _conv(self, x: Tensor, padding: Any) -> Tensor:
        return _named(self, F.conv2d, x, self.weight, self.bias, self.stride, padding,
                      self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-d convolution layer over (N, C, L), as `torch.nn.Conv1d`."""

    _d = 1

    def _conv(self, x: Tensor, padding: Any) -> Tensor:
        return _named(self, F.conv1d, x, self.weight, self.bias, self.stride, padding,
                      self.dilation, self.groups)


class Conv3d(_ConvNd):
    """3-d convolution layer over (N, C, D, H, W), as `torch.nn.Conv3d`."""

    _d = 3

    def _conv(self, x: Tensor, padding: Any) -> Tensor:
        return _named(self, F.conv3d, x, self.weight, self.bias, self.stride, padding,
                      self.dilation, self.groups)


class _PoolNd(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride



class MaxPool2d(_PoolNd):
    """Max over kh x kw windows (stride defaults to kernel_size); tied maxima share the
    gradient equally."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False, ceil_mode: bool = False
                 ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation
        self.ceil_mode = ceil_mode
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Tensor:
        return _named(self, F.max_pool2d, input, self.kernel_size, self.stride, self.padding,
                      self.dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """Max over windows along the last axis of (N, C, L)."""

    def forward(self, input: Tensor) -> Tensor:
        return _named(self, F.max_pool1d, input, self.kernel_size, self.stride, self.padding,
                      self.dilation, self.ceil_mode, self.return_indices)


class MaxPool3d(MaxPool2d):
    """Max over kd x kh x kw windows of (N, C, D, H, W), as `torch.nn.MaxPool3d`."""

    def forward(self, input: Tensor) -> Tensor:
        return _named(self, F.max_pool3d, input, self.kernel_size, self.stride, self.padding,
                      self.dilation, self.ceil_mode, self.return_indices)


class AvgPool2d(_PoolNd):
    """Mean over kh x kw windows (stride defaults to kernel_size; zero padding counted in
    the divisor unless count_include_pad=False)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return _named(self, F.avg_pool2d, input, self.kernel_size, self.stride, self.padding,
                      self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """Mean over windows along the last axis of (N, C, L). No divisor_override (as
    PyTorch's AvgPool1d)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, input: Tensor) -> Tensor:
        return _named(self, F.avg_pool1d, input, self.kernel_size, self.stride, self.padding,
                      self.ceil_mode, self.count_include_pad)


class AvgPool3d(AvgPool2d):
    """Mean over kd x kh x kw windows of (N, C, D, H, W), as `torch.nn.AvgPool3d`."""

    def forward(self, input: Tensor) -> Tensor:
        return _named(self, F.avg_pool3d, input, self.kernel_size, self.stride, self.padding,
                      self.ceil_mode, self.count_include_pad, self.divisor_override)
