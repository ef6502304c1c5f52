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

A fused primitive replaces the pooling composite where bench_conv.py showed it matters,
and is tested against it (values, first and second derivatives): `WindowMax` (windows ->
max). The convolution's fused primitive, `ConvIm2col`, is in `ops.conv`.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinygrad_edu.function import Function

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
    shape = x.shape[:-d] + kernel + out
    if not x.flags.c_contiguous:
        return as_strided(x, shape, strides, writeable=False)
    view = np.ndarray(shape, x.dtype, buffer=x, strides=strides)  # as_strided, 3x cheaper
    view.flags.writeable = False
    return view


def windows_overlap(kernel: Ints, out: Ints, stride: Ints, dilation: Ints) -> bool:
    """True if some input position is read by two (offset, output position) pairs.

    Along one axis j r + p s = j' r + p' s needs (j - j') r = (p' - p) s, a common
    multiple of r and s: the smallest is lcm(r, s), reached with |j - j'| = lcm / r <= k - 1
    and |p - p'| = lcm / s <= o - 1.
    """
    for k, o, s, r in zip(kernel, out, stride, dilation):
        step = math.lcm(r, s)
        if step // r <= k - 1 and step // s <= o - 1:
            return True
    return False


@functools.lru_cache(maxsize=256)
def slabs(kernel: Ints, out: Ints, stride: Ints, dilation: Ints
           ) -> tuple[tuple[Ints, tuple[slice, ...]], ...]:
    """(kernel offset j, the input slices it reads across all output positions)."""
    per_axis = [[slice(j * r, j * r + s * (o - 1) + 1, s) for j in range(k)]
                for k, o, s, r in zip(kernel, out, stride, dilation)]
    return tuple(zip(itertools.product(*map(range, kernel)), itertools.product(*per_axis)))


def fold_array(x: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, shape: Ints
               ) -> np.ndarray:
    """`FoldWindows` on arrays: zeros(shape), then one strided-slice addition per kernel
    offset (plain assignment when no two windows overlap, e.g. pooling with stride =
    kernel, since every position is then written at most once)."""
    d = len(kernel)
    out_size = x.shape[-d:]
    y = np.zeros(shape, dtype=x.dtype)
    overlap = windows_overlap(kernel, out_size, stride, dilation)
    lead = (slice(None),) * (len(shape) - d)
    for offset, target in slabs(kernel, out_size, stride, dilation):
        if overlap:
            y[lead + target] += x[lead + offset]
        else:
            y[lead + target] = x[lead + offset]
    return y


class SlidingWindows(Function):
    """y[..., j, o] = x[..., o * stride + j * dilation] over the last len(kernel) axes
    (a read-only strided view, shape lead + kernel + out);  the gradient is
    `FoldWindows` of grad: each window element's gradient goes back to the position it
    was read from, summed where windows overlap."""

    __slots__ = ("kernel", "stride", "dilation", "in_shape")
    saves = ()
    is_view = True  # in-place changes to x show through: they share x's versions

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
    the gradient is `SlidingWindows` of grad. One strided-slice addition per kernel
    offset (`fold_array`). `shape` may be longer than the windows reach (a transposed
    convolution's output_padding, `fold` with a large output_size): positions no window
    reaches stay zero, and the gradient keeps only the windows x has."""

    __slots__ = ("kernel", "stride", "dilation", "out")
    saves = ()

    def forward(self, x: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints,
                shape: Ints) -> np.ndarray:
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.out = x.shape[-len(kernel):]
        return fold_array(x, kernel, stride, dilation, shape)

    def backward(self, grad: Tensor) -> Tensor:
        windows = SlidingWindows.apply(grad, kernel=self.kernel, stride=self.stride,
                                       dilation=self.dilation)
        d = len(self.kernel)
        if windows.shape[-d:] == self.out:
            return windows
        # The longer shape holds more window positions than x had: they received nothing.
        return windows[(Ellipsis,) + tuple(slice(0, o) for o in self.out)]


class WindowMax(Function):
    """y[..., o] = max_j x[..., o * stride + j * dilation]: the max over each window, the
    fused form of SlidingWindows -> reshape -> amax (`nn.functional.max_pool*` run this;
    the composite is the tested reference).

    dy/dx: each window's gradient goes to its maxima; t tied maxima get 1/t each (as
    `Max`), and positions shared by overlapping windows sum what they receive.

    The forward is k_1 ... k_d - 1 `np.maximum` calls on strided slices (no copy of the
    windows, which the composite needs; docs/performance.md has the benchmark); the
    backward is FoldWindows of grad times the constant shares, and
    `kernels.window_max_backward` builds the same shares directly in an array.
    """

    __slots__ = ("kernel", "stride", "dilation")
    saves = ("inputs", "output")

    def forward(self, x: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints
                ) -> np.ndarray:
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        d = len(kernel)
        out = window_output_size(x.shape[-d:], kernel, stride, dilation)
        lead = (slice(None),) * (x.ndim - d)
        offsets = slabs(kernel, out, stride, dilation)
        y = x[lead + offsets[0][1]].copy()
        for _, target in offsets[1:]:
            np.maximum(y, x[lead + target], out=y)
        return y

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        y = self.output.array
        d = len(self.kernel)
        lead = (slice(None),) * (x.ndim - d)
        offsets = slabs(self.kernel, y.shape[-d:], self.stride, self.dilation)
        masks = [x.array[lead + target] == y for _, target in offsets]
        count = np.zeros(y.shape, dtype=x.dtype)
        for mask in masks:
            count += mask
        shares = np.stack(masks, axis=x.ndim - d).reshape(
            y.shape[:-d] + self.kernel + y.shape[-d:]) / count[lead + (None,) * d]
        spread = grad.reshape(y.shape[:-d] + (1,) * d + y.shape[-d:]).expand(shares.shape)
        return FoldWindows.apply(spread * grad._wrap(shares), kernel=self.kernel,
                                 stride=self.stride, dilation=self.dilation, shape=x.shape)
