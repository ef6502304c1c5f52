"""Fast backward kernels: for a few primitives, the derivative their `backward` writes in
Tensor ops, computed on numpy arrays instead.

The engine calls a primitive's kernel in place of its `backward` when the backward is not
being recorded (no `create_graph`), which is every training step. The kernels exist
because the benchmarks showed the Tensor-op dispatches of these nodes (docs/performance.md
has the numbers); `tests/test_kernels.py` holds each equal to its primitive's formula.

A kernel is `kernel(node, grad, private) -> one array (or None) per input`: None where
`node.needs_input_grad` is False.

**Private gradients** (the one buffer-reuse rule). A gradient array is *private* when
nothing but the engine holds it: every array a kernel returns is private (a new array, or
the private one it received), and so is a sum the engine makes of two gradients. The engine
passes `private=True` to a kernel only for such an array that no one else has been shown (a
retained grad, a requested input, the drawing tape); only then may the kernel overwrite it.
A leaf whose gradient is private gets it as its `.grad` without a copy.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.function import Function
from tinygrad_edu.ops.conv import ConvIm2col, group_matmul
from tinygrad_edu.ops.elementwise import ReLU
from tinygrad_edu.ops.linalg import Linear
from tinygrad_edu.ops.reduce import LogSoftmax
from tinygrad_edu.ops.windows import Ints, WindowMax, fold_array, slabs, windows_overlap

Kernel = Callable[[Any, np.ndarray, bool], tuple[np.ndarray | None, ...]]

#: the kernel of each primitive that has one
KERNELS: dict[type[Function], Kernel] = {}


def kernel(op: type[Function]) -> Callable[[Kernel], Kernel]:
    def register(f: Kernel) -> Kernel:
        KERNELS[op] = f
        return f

    return register


@kernel(ReLU)
def relu_backward(node: ReLU, grad: np.ndarray, private: bool) -> tuple[np.ndarray]:
    """dx = grad * (y > 0), into grad's own memory when it is private."""
    mask = node.output.array > 0
    if private and grad.flags.writeable:
        return (np.multiply(grad, mask, out=grad),)
    return (np.multiply(grad, mask),)


@kernel(LogSoftmax)
def log_softmax_backward(node: LogSoftmax, grad: np.ndarray, private: bool
                         ) -> tuple[np.ndarray]:
    """dx = g - e^y sum(g)."""
    return (grad - np.exp(node.output.array) * grad.sum(axis=node.axis, keepdims=True),)


@kernel(Linear)
def linear_backward(node: Linear, grad: np.ndarray, private: bool
                    ) -> tuple[np.ndarray | None, ...]:
    """dx = g @ w, dw = g^T x (batch axes flattened), db = sum of g over the batch."""
    x, w = node.inputs[0].array, node.inputs[1].array
    needs = node.needs_input_grad
    g2 = grad.reshape(-1, grad.shape[-1])
    gx = grad @ w if needs[0] else None
    gw = g2.T @ x.reshape(-1, x.shape[-1]) if needs[1] else None
    if len(node.inputs) == 2:
        return gx, gw
    return gx, gw, (g2.sum(axis=0) if needs[2] else None)


@kernel(WindowMax)
def window_max_backward(node: WindowMax, grad: np.ndarray, private: bool
                        ) -> tuple[np.ndarray]:
    """Each window's gradient to its maxima (1/t each for t tied maxima), built offset by
    offset in dx (added where windows overlap)."""
    x = node.inputs[0].array
    y = node.output.array
    d = len(node.kernel)
    lead = (slice(None),) * (x.ndim - d)
    offsets = slabs(node.kernel, y.shape[-d:], node.stride, node.dilation)
    masks = [x[lead + target] == y for _, target in offsets]
    count = np.zeros(y.shape, dtype=x.dtype)
    for mask in masks:
        count += mask
    share = grad / count
    dx = np.zeros(x.shape, dtype=x.dtype)
    overlap = windows_overlap(node.kernel, y.shape[-d:], node.stride, node.dilation)
    for (_, target), mask in zip(offsets, masks):
        if overlap:
            dx[lead + target] += mask * share
        else:
            np.multiply(mask, share, out=dx[lead + target])
    return (dx,)


@kernel(ConvIm2col)
def conv_backward(node: ConvIm2col, grad: np.ndarray, private: bool
                  ) -> tuple[np.ndarray | None, ...]:
    """dw (and db, its last column: the bias rode along as a column of w against a row of
    ones) from the forward's saved im2col matrix; dx from the column gradients w^T g."""
    x, w = node.inputs[0].array, node.inputs[1].array
    needs = node.needs_input_grad
    with_bias = len(node.inputs) > 2
    n, o, g = x.shape[0], w.shape[0], node.groups
    g_out = grad.reshape(n, g, o // g, math.prod(grad.shape[2:]))  # no -1: n may be 0
    gx = gw = gb = None
    if needs[1] or (with_bias and needs[2]):  # first, while cols is still in cache
        cols = node.saved[0]
        gw_b = group_matmul(g_out, cols.transpose(0, 1, 3, 2)).sum(axis=0)
        if needs[1]:
            gw = np.ascontiguousarray(gw_b[..., :cols.shape[2] - with_bias]).reshape(w.shape)
        if with_bias and needs[2]:
            gb = gw_b[..., -1].reshape(o)
    if needs[0]:
        gx = _conv_dx(node, w, g_out, x.shape, grad.shape[2:])
    return (gx, gw, gb) if with_bias else (gx, gw)


def _conv_dx(node: ConvIm2col, w: np.ndarray, g_out: np.ndarray, x_shape: Ints,
             out_size: Ints) -> np.ndarray:
    n, c = x_shape[:2]
    g, o = node.groups, w.shape[0]
    kernel_size = tuple(w.shape[2:])
    w_t = w.reshape(g, o // g, -1).transpose(0, 2, 1)
    shifts = flat_shifts(x_shape[2:], kernel_size, out_size, node.stride, node.dilation,
                         node.pads)
    if shifts is not None:
        return col2im_flat(w_t, g_out, x_shape, kernel_size, out_size, shifts, node.dilation,
                           node.pads)
    g_cols = group_matmul(w_t, g_out).reshape((n, c) + kernel_size + out_size)
    dx = fold_array(g_cols, kernel_size, node.stride, node.dilation, node.padded_shape)
    return dx[node.unpad(x_shape)] if node.padded_shape != x_shape else dx


@functools.lru_cache(maxsize=256)
def flat_shifts(size: Ints, kernel: Ints, out: Ints, stride: Ints, dilation: Ints,
                pads: tuple[tuple[int, int], ...]) -> tuple[int, ...] | None:
    """For a stride-1 convolution whose output rows are as long as the input's (3x3 with
    padding 1, any 'same'), output position q read input position q + shift[t] for kernel
    tap t, in the row-major flat indexing of both: the fold is then one contiguous shifted
    slab per tap. None when that does not hold (strided, or rows of another length)."""
    if any(s != 1 for s in stride) or out[-1] != size[-1] or len(size) > 2:
        return None
    row = (size[-1], 1)[-len(size):]  # flat stride of each spatial axis
    per_axis = [[j * r - lo for j in range(k)] for k, r, (lo, _) in zip(kernel, dilation, pads)]
    return tuple(sum(a * t for a, t in zip(offsets, row))
                 for offsets in itertools.product(*per_axis))


def col2im_flat(w_t: np.ndarray, g_out: np.ndarray, x_shape: Ints, kernel: Ints, out: Ints,
                shifts: tuple[int, ...], dilation: Ints, pads: tuple[tuple[int, int], ...]
                ) -> np.ndarray:
    """dx for a convolution `flat_shifts` accepts: the column gradients w^T @ grad are
    written between zero guard bands, the entries whose shifted target would wrap into the
    next row are zeroed, and dx is the sum of one shifted contiguous slab per tap (numpy
    adds into a strided slice through a temporary copy; whole slabs avoid it)."""
    n, c = x_shape[:2]
    length_in, length_out = math.prod(x_shape[2:]), math.prod(out)
    before = max(0, max(shifts))
    after = max(0, length_in - min(shifts) - length_out)
    g, rows = w_t.shape[0], w_t.shape[1]
    buf = np.empty((n, g, rows, before + length_out + after), dtype=g_out.dtype)
    buf[..., :before] = 0
    buf[..., before + length_out:] = 0
    cols = buf[..., before:before + length_out]
    group_matmul(w_t, g_out, out=cols)
    if len(out) == 2:  # a tap reading left of column 0 or right of the last wraps a row
        grid = cols.reshape((n, c) + kernel + out)
        width = out[-1]
        for j in range(kernel[-1]):
            shift = j * dilation[-1] - pads[-1][0]
            wrapped = slice(0, -shift) if shift < 0 else slice(max(width - shift, 0), width)
            grid[:, :, :, j, :, wrapped] = 0
    taps = buf.reshape(n, c, math.prod(kernel), buf.shape[-1])
    dx = taps[:, :, 0, before - shifts[0]:before - shifts[0] + length_in].copy()
    for t, shift in enumerate(shifts[1:], start=1):
        np.add(dx, taps[:, :, t, before - shift:before - shift + length_in], out=dx)
    return dx.reshape(x_shape)
