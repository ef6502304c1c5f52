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

from tinygrad_edu.autograd import Function, _state

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


def _padded(x: np.ndarray, pads: tuple[tuple[int, int], ...]) -> np.ndarray:
    """x with zeros around its last len(pads) axes (a new array; x itself if no padding)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    d = len(pads)
    shape = x.shape[:-d] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[-d:], pads))
    out = np.zeros(shape, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[-d:], pads))] = x
    return out


class ConvIm2col(Function):
    """y = conv(x, w) + b: the fused form of the composite pad -> `SlidingWindows` ->
    matmul (`nn.functional.conv2d` and `conv1d` run this; the composite stays the tested
    reference, and the tests check both give the same values and gradients).

    x (N, C, *spatial), w (O, C / G, *kernel), b (O,) or absent; G = groups. With
    cols = windows of the padded x reshaped to (N, G, C / G * taps, L):
        y = w_G @ cols + b    (w viewed as (G, O / G, C / G * taps)), reshaped to (N, O, *out)
        dx = unpad(FoldWindows(w_G^T @ grad)),  dw = sum_N grad @ cols^T,  db = sum grad
    The backward is written with Tensor ops, so it can be differentiated again.

    Why it exists: the composite costs ten graph nodes, a fresh array for the bias sum and
    a second im2col copy is avoided here by keeping `cols` for dw (bias is added in place).
    The conv benchmark (benchmarks/bench_conv.py) shows the difference.
    """

    __slots__ = ("pads", "stride", "dilation", "groups", "padded_shape")

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
                pads: tuple[tuple[int, int], ...], stride: Ints, dilation: Ints, groups: int
                ) -> np.ndarray:
        self.pads, self.stride, self.dilation, self.groups = pads, stride, dilation, groups
        xp = _padded(x, pads)
        self.padded_shape = xp.shape
        d = w.ndim - 2
        n, o, g = x.shape[0], w.shape[0], groups
        windows = windows_view(xp, tuple(w.shape[2:]), stride, dilation)
        out_size = windows.shape[-d:]
        cols = windows.reshape(n, g, -1, int(np.prod(out_size)))  # im2col: the one copy
        y = np.matmul(w.reshape(g, o // g, -1), cols)
        if b is not None:
            y += b.reshape(g, o // g, 1)
        self.saved = (cols,)  # freed by the engine after backward
        return y.reshape((n, o) + out_size)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, w = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        n, o, g = x.shape[0], w.shape[0], self.groups
        d = w.ndim - 2
        kernel = tuple(w.shape[2:])
        g_out = grad.reshape(n, g, o // g, -1)
        w_g = w.reshape(g, o // g, -1)
        gx = gw = gb = None
        if needs[0]:
            g_cols = (w_g.mT @ g_out).reshape((n, x.shape[1]) + kernel + grad.shape[2:])
            gx = FoldWindows.apply(g_cols, kernel=kernel, stride=self.stride,
                                   dilation=self.dilation, shape=self.padded_shape)
            if self.padded_shape != x.shape:
                gx = gx[(Ellipsis,) + tuple(slice(lo, lo + size) for size, (lo, _)
                                            in zip(x.shape[-d:], self.pads))]
        if needs[1]:
            gw = (g_out @ self._cols(x).mT).sum(axis=0).reshape(w.shape)
        if len(self.inputs) > 2 and needs[2]:
            gb = grad.sum(axis=(0,) + tuple(range(2, grad.ndim)))
        return (gx, gw, gb) if len(self.inputs) > 2 else (gx, gw)

    def _cols(self, x: Tensor) -> Tensor:
        """The im2col matrix as a Tensor: the forward's copy when the backward is not
        recorded; rebuilt from x by Tensor ops when it is (create_graph=True), so that
        the gradient of dw with respect to x is not lost."""
        if not _state.grad_enabled and self.saved:
            return x._wrap(self.saved[0])
        d = len(self.pads)
        width = ((0, 0),) * (x.ndim - d) + self.pads
        xp = x.pad(width) if any(lo or hi for lo, hi in self.pads) else x
        windows = SlidingWindows.apply(xp, kernel=tuple(self.inputs[1].shape[2:]),
                                       stride=self.stride, dilation=self.dilation)
        return windows.reshape(x.shape[0], self.groups, -1,
                               int(np.prod(windows.shape[-d:])))
