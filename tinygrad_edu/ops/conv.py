"""The fused convolution primitive, `ConvIm2col` (pad -> `SlidingWindows` -> matmul +
bias in one node), and the array-level helpers of its forward: im2col with a row of ones
for the bias, and a matmul that drops a unit group axis (its array backward is in
`kernels.py`). The composite it replaces (`nn._conv.conv2d_composite`) is the tested
reference for values and first and second derivatives.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.function import Function
from tinygrad_edu.ops.windows import (
    FoldWindows,
    Ints,
    SlidingWindows,
    window_output_size,
    windows_view,
)

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _padded(x: np.ndarray, pads: tuple[tuple[int, int], ...]) -> np.ndarray:
    """x with zeros around its last len(pads) axes (a new array; x itself if no padding)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    d = len(pads)
    shape = x.shape[:-d] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[-d:], pads))
    out = np.zeros(shape, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[-d:], pads))] = x
    return out


def group_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None
                 ) -> np.ndarray:
    """np.matmul of (..., G, m, k) by (..., G, k, n); with one group (the usual case) the
    group axis is dropped for the product and restored as a view, because numpy's loop
    over a 4-d broadcast batch cost ~3% more per product here than the 3-d one."""
    if a.shape[-3] != 1 or b.shape[-3] != 1:
        return np.matmul(a, b, out=out)
    inner = None if out is None else out[..., 0, :, :]
    return np.matmul(a[..., 0, :, :], b[..., 0, :, :], out=inner)[..., None, :, :]


def _im2col(xp: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, groups: int,
            ones_row: bool) -> np.ndarray:
    """The windows of xp copied to (N, G, C / G * taps, L) (im2col), plus a last row of ones
    per group when `ones_row` (so a bias rides along as one more column of the weight)."""
    windows = windows_view(xp, kernel, stride, dilation)
    n, c = xp.shape[:2]
    d = len(kernel)
    rows, length = c // groups * math.prod(kernel), math.prod(windows.shape[-d:])
    cols = np.empty((n, groups, rows + ones_row, length), dtype=xp.dtype)
    split = (n, groups, c // groups) + windows.shape[2:]
    np.copyto(cols[:, :, :rows].reshape(split), windows.reshape(split))
    if ones_row:
        cols[:, :, rows] = 1
    return cols


class ConvIm2col(Function):
    """y = conv(x, w) + b: the fused form of the composite pad -> `SlidingWindows` ->
    matmul (`nn.functional.conv2d` and `conv1d` run this; the composite stays the tested
    reference, and the tests check both give the same values and gradients).

    x (N, C, *spatial), w (O, C / G, *kernel), b (O,) or absent; G = groups. With
    cols = windows of the padded x reshaped to (N, G, C / G * taps, L):
        y = w_G @ cols + b    (w viewed as (G, O / G, C / G * taps)), reshaped to (N, O, *out)
        dx = unpad(FoldWindows(w_G^T @ grad)),  dw = sum_N grad @ cols^T,  db = sum grad
    backward is written with Tensor ops, so it can be differentiated again; the engine
    runs `kernels.conv_backward` (the same formulas on arrays, reusing the forward's
    im2col copy for dw) when it is not. The bias rides along as a last column of w
    against a row of ones in cols. One node instead of the composite's ten:
    docs/performance.md has the benchmark.
    """

    __slots__ = ("pads", "stride", "dilation", "groups", "padded_shape")

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
                pads: tuple[tuple[int, int], ...], stride: Ints, dilation: Ints, groups: int
                ) -> np.ndarray:
        self.pads, self.stride, self.dilation, self.groups = pads, stride, dilation, groups
        xp = _padded(x, pads)
        self.padded_shape = xp.shape
        n, o, g = x.shape[0], w.shape[0], groups
        cols = _im2col(xp, tuple(w.shape[2:]), stride, dilation, g, ones_row=b is not None)
        w_g = w.reshape(g, o // g, -1)
        if b is not None:  # the bias is one more column of w against the row of ones
            w_g = np.concatenate([w_g, b.reshape(g, o // g, 1)], axis=2)
        y = group_matmul(w_g, cols)
        self.saved = (cols,)  # freed by the engine after backward
        d = w.ndim - 2
        return y.reshape((n, o) + window_output_size(xp.shape[-d:], tuple(w.shape[2:]),
                                                      stride, dilation))

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, w = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        n, o, g = x.shape[0], w.shape[0], self.groups
        kernel = tuple(w.shape[2:])
        g_out = grad.reshape(n, g, o // g, math.prod(grad.shape[2:]))  # no -1: n may be 0
        w_g = w.reshape(g, o // g, -1)
        gx = gw = gb = None
        if needs[0]:
            g_cols = (w_g.mT @ g_out).reshape((n, x.shape[1]) + kernel + grad.shape[2:])
            gx = FoldWindows.apply(g_cols, kernel=kernel, stride=self.stride,
                                   dilation=self.dilation, shape=self.padded_shape)
            gx = gx[self.unpad(x.shape)] if self.padded_shape != x.shape else gx
        if needs[1]:
            gw = (g_out @ self._cols(x).mT).sum(axis=0).reshape(w.shape)
        if len(self.inputs) > 2 and needs[2]:
            gb = grad.sum(axis=(0,) + tuple(range(2, grad.ndim)))
        return (gx, gw, gb) if len(self.inputs) > 2 else (gx, gw)

    def unpad(self, shape: Ints) -> tuple[slice, ...]:
        d = len(self.pads)
        return (slice(None),) * (len(shape) - d) + tuple(
            slice(lo, lo + size) for size, (lo, _) in zip(shape[-d:], self.pads))

    def _cols(self, x: Tensor) -> Tensor:
        """The im2col matrix rebuilt from x by Tensor ops (a recorded backward needs the
        gradient of dw with respect to x, which the saved copy would lose)."""
        d = len(self.pads)
        width = ((0, 0),) * (x.ndim - d) + self.pads
        xp = x.pad(width) if any(lo or hi for lo, hi in self.pads) else x
        windows = SlidingWindows.apply(xp, kernel=tuple(self.inputs[1].shape[2:]),
                                       stride=self.stride, dilation=self.dilation)
        rows = math.prod(windows.shape[1:-d]) // self.groups  # no -1: the batch may be empty
        return windows.reshape(x.shape[0], self.groups, rows, math.prod(windows.shape[-d:]))
