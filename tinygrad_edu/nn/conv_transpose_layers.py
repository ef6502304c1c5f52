"""Transposed convolution layers, as `torch.nn.ConvTranspose1d/2d/3d`: the same
parameters (weight (C_in, C_out / groups, *kernel_size), bias (C_out,)), initialisation
and state_dict keys as PyTorch, on top of `nn.functional.conv_transpose*d`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn.conv_layers import _ConvNd, _layout, _named, _tuple
from tinygrad_edu.nn.linear import layer_name
from tinygrad_edu.tensor import Tensor

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


class _ConvTransposeNd(_ConvNd):
    _transposed = True
    _function: Callable[..., Tensor]

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                 bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None, generator: Any = None) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, as in '
                             f"PyTorch, got padding_mode={padding_mode!r}")
        if isinstance(padding, str):  # PyTorch accepts the string here, then fails later
            raise ValueError(f"{name}: padding must be an int or a tuple of {self._d} ints, "
                             f"got {padding!r} ('same' and 'valid' are for Conv{self._d}d)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, generator)
        self.output_padding = _tuple(output_padding, self._d, "output_padding", name)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output_padding that gives `output_size` (PyTorch's rule: the spatial sizes,
        optionally with the leading batch and channel sizes, each between the smallest
        output the input maps to and that plus stride - 1)."""
        if output_size is None:
            return self.output_padding
        d, name = self._d, type(self).__name__
        lead = input.ndim - d
        sizes = [int(v) for v in output_size]
        if len(sizes) == lead + d:
            sizes = sizes[lead:]
        if len(sizes) != d:
            raise ValueError(f"{name}: for {input.ndim}D input, output_size must have {d} or "
                             f"{lead + d} elements (got {len(sizes)}: {tuple(output_size)})")
        smallest = [(n - 1) * s - 2 * p + r * (k - 1) + 1 for n, s, p, r, k in zip(
            input.shape[-d:], self.stride, self.padding, self.dilation, self.kernel_size)]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if any(not lo <= v <= hi for v, lo, hi in zip(sizes, smallest, largest)):
            raise ValueError(f"{name}: requested an output size of {tuple(sizes)}, but valid "
                             f"sizes range from {tuple(smallest)} to {tuple(largest)} (for "
                             f"an input of spatial shape {input.shape[-d:]})")
        return tuple(v - lo for v, lo in zip(sizes, smallest))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        d = self._d
        if input.ndim not in (d + 1, d + 2) or input.shape[-d - 1] != self.in_channels:
            raise ShapeError(f"{layer_name(type(self).__name__)}: expected input of shape "
                             f"{_layout(d, self.in_channels)} (in_channels={self.in_channels}"
                             f", weight of shape {self.weight.shape}), got "
                             f"{tuple(input.shape)}")
        extra = self._output_padding(input, output_size)
        return _named(self, type(self)._function, input, self.weight, self.bias, self.stride,
                      self.padding, extra, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution layer over (N, C, L), as `torch.nn.ConvTranspose1d`;
    forward(input, output_size=None)."""

    _d = 1
    _function = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution layer, as `torch.nn.ConvTranspose2d`:
    weight (C_in, C_out / groups, kh, kw); forward(input, output_size=None), where
    output_size picks the output_padding (PyTorch's rule)."""

    _d = 2
    _function = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution layer over (N, C, D, H, W), as
    `torch.nn.ConvTranspose3d`; forward(input, output_size=None)."""

    _d = 3
    _function = staticmethod(F.conv_transpose3d)
