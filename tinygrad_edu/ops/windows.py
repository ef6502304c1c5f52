"""Sliding windows and their adjoint: the two movement primitives under convolution and
pooling.

`SlidingWindows` views the last d axes of a tensor as (kernel offsets, output positions):
for a kernel (k_1..k_d), stride (s_1..s_d) and dilation (r_1..r_d),

    y[..., j_1..j_d, o_1..o_d] = x[..., o_1 s_1 + j_1 r_1, ..., o_d s_d + j_d r_d]

with output sizes o_i < (n_i - r_i (k_i - 1) - 1) // s_i + 1 (no padding here: pad first).
Kernel offsets come before output positions, so for an (N, C, H, W) input the axes
(C, kh, kw) are adjacent and flatten into the contraction axis of one matrix product
(im2col's column order, as PyTorch's `unfold`). The forward is a strided view (numpy stride
tricks, read-only): no copy.

`FoldWindows` is its adjoint (PyTorch's `fold`, col2im): every window element is added
back to the input position it was read from, so positions covered by several overlapping
windows receive the sum. It loops over the kernel offsets (k_1 ... k_d of them, 9 for a
3x3 kernel) adding one strided slice each, never over output positions.

Each is linear and the other's adjoint, so each one's backward is the other: second and
higher derivatives of convolution and pooling come for free.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinygrad_edu.autograd import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

Ints = tuple[int, ...]


def window_output_size(size: Ints, kernel: Ints, stride: Ints, dilation: Ints) -> Ints:
    """Number of window positions along each axis: (n - r (k - 1) - 1) // s + 1."""
    return tuple((n - r * (k - 1) - 1) // s + 1
                 for n, k, s, r in zip(size, kernel, stride, dilation))


def windows_view(x: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints) -> np.ndarray:
    """The read-only strided view x.shape[:-d] + kernel + out of the last d axes of x."""
    d = len(kernel)
    out = window_output_size(x.shape[-d:], kernel, stride, dilation)
    step = x.strides[-d:]
    strides = (x.strides[:-d] + tuple(t * r for t, r in zip(step, dilation))
               + tuple(t * s for t, s in zip(step, stride)))
    return as_strided(x, x.shape[:-d] + kernel + out, strides, writeable=False)


def _offset_slices(offset: Ints, out: Ints, stride: Ints, dilation: Ints
                   ) -> tuple[slice, ...]:
    """The input positions read by kernel offset `offset` across all output positions."""
    return tuple(slice(j * r, j * r + s * (o - 1) + 1, s)
                 for j, o, s, r in zip(offset, out, stride, dilation))


def _windows_overlap(kernel: Ints, out: Ints, stride: Ints, dilation: Ints) -> bool:
    """True if some input position is read by two (offset, output position) pairs."""
    for k, o, s, r in zip(kernel, out, stride, dilation):
        if k > 1 and o > 1 and len({j * r + p * s for j in range(k) for p in range(o)}) < k * o:
            return True
    return False


class SlidingWindows(Function):
    """y[..., j, o] = x[..., o * stride + j * dilation] over the last len(kernel) axes
    (a read-only strided view, shape lead + kernel + out);  the gradient is
    `FoldWindows` of grad: each window element's gradient goes back to the position it
    was read from, summed where windows overlap."""

    __slots__ = ("kernel", "stride", "dilation", "in_shape")
    reads_inputs = False

    def forward(self, x: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints
                ) -> np.ndarray:
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.in_shape = x.shape
        return windows_view(x, kernel, stride, dilation)

    def backward(self, grad: Tensor) -> Tensor:
        return FoldWindows.apply(grad, kernel=self.kernel, stride=self.stride,
                                 dilation=self.dilation, shape=self.in_shape)


class FoldWindows(Function):
    """y = zeros(shape) with y[..., o * stride + j * dilation] += x[..., j, o] for every
    kernel offset j and output position o (the adjoint of `SlidingWindows`, col2im);
    the gradient is `SlidingWindows` of grad.

    One strided-slice addition per kernel offset; when no two windows overlap (pooling
    with stride = kernel) each position is written once, so plain assignment suffices.
    """

    __slots__ = ("kernel", "stride", "dilation")
    reads_inputs = False

    def forward(self, x: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints,
                shape: Ints) -> np.ndarray:
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        d = len(kernel)
        out_size = x.shape[-d:]
        y = np.zeros(shape, dtype=x.dtype)
        overlap = _windows_overlap(kernel, out_size, stride, dilation)
        lead = (slice(None),) * (len(shape) - d)
        for offset in itertools.product(*map(range, kernel)):
            target = lead + _offset_slices(offset, out_size, stride, dilation)
            source = x[lead + offset]
            if overlap:
                y[target] += source
            else:
                y[target] = source
        return y

    def backward(self, grad: Tensor) -> Tensor:
        return SlidingWindows.apply(grad, kernel=self.kernel, stride=self.stride,
                                    dilation=self.dilation)
