"""unfold (im2col) and fold (col2im), as `torch.nn.functional.unfold` / `fold`: the
sliding-window primitives under convolution, exposed with PyTorch's layout.

    unfold: (N, C, H, W) -> (N, C kh kw, L)        L = number of window positions
    fold:   (N, C kh kw, L) -> (N, C, H, W)        overlapping entries are summed

With padding p, stride s and dilation r along each axis, window o reads the padded
input at o s + j r for kernel offset j, and L = prod((n + 2 p - r (k - 1) - 1) // s + 1).
The rows of the (C kh kw) axis run over the channel first, then the kernel offsets
row-major, as PyTorch's. unfold is pad -> `SlidingWindows` -> reshape; fold is
reshape -> `FoldWindows` -> crop. The two primitives are each other's adjoint (each
one's backward is the other), so fold is unfold's adjoint and both have gradients of
every order. fold(unfold(x)) is x times the number of windows covering each position.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn._conv import Ints, _ints, _pad, _windows
from tinygrad_edu.ops.windows import FoldWindows, window_output_size
from tinygrad_edu.tensor import Tensor, as_tensor


def _window_args(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any
                 ) -> tuple[Ints, Ints, Ints, Ints]:
    return (_ints(kernel_size, 2, "kernel_size", op, 1), _ints(dilation, 2, "dilation", op, 1),
            _ints(padding, 2, "padding", op, 0), _ints(stride, 2, "stride", op, 1))


def _blocks(op: str, size: Ints, kernel: Ints, dilation: Ints, padding: Ints, stride: Ints,
            shape: Ints) -> Ints:
    """The number of window positions along each axis; at least one, as PyTorch."""
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    blocks = window_output_size(padded, kernel, stride, dilation)
    if min(blocks) < 1:
        raise ShapeError(f"{op}: the kernel {kernel} with dilation {dilation} does not fit "
                         f"the padded spatial size {padded} (spatial size {size}, padding "
                         f"{padding}, input shape {shape}): there would be {blocks} sliding "
                         "blocks; each count must be at least one")
    return blocks


def _refuse_bool(op: str, x: Tensor) -> None:
    if x.dtype.kind == "b":
        raise TypeError(f"{op}: bool tensors are not supported (input shape {x.shape}); "
                        "convert with .float() or .long()")


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Sliding local blocks of a batched (N, C, H, W) or unbatched (C, H, W) input, as
    `torch.nn.functional.unfold` (im2col): output (N, C kh kw, L) or (C kh kw, L) with

        out[n, c kh kw + i kw + j, l] = padded[n, c, oy sh + i dh, ox sw + j dw]

    for block l = oy OW + ox. Gradient: fold of the upstream gradient (overlaps summed).
    Integer tensors work too (PyTorch's CPU kernel refuses them)."""
    op = "unfold"
    x = as_tensor(input)
    if x.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise ShapeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input with "
                         f"non-zero C, H, W (the batch may be empty), got shape {x.shape}")
    _refuse_bool(op, x)
    kernel, dilation, padding, stride = _window_args(op, kernel_size, dilation, padding,
                                                     stride)
    blocks = _blocks(op, x.shape[-2:], kernel, dilation, padding, stride, x.shape)
    windows = _windows(_pad(x, tuple((p, p) for p in padding)), kernel, stride, dilation)
    lead = x.shape[:-3]
    cols = windows.reshape(lead + (x.shape[-3] * math.prod(kernel), math.prod(blocks)))
    # A 1x1 kernel without padding or stride is a view of x; PyTorch returns a copy.
    return cols.clone() if np.shares_memory(cols.array, x.array) else cols


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum sliding local blocks back into an image, as `torch.nn.functional.fold` (col2im,
    the adjoint of `unfold`): input (N, C kh kw, L) or unbatched (C kh kw, L), output
    (N, C, H, W) or (C, H, W) with (H, W) = output_size and

        out[n, c, y, x] = sum over (i, j, l) with oy sh + i dh - ph = y, ox sw + j dw - pw = x
                          of input[n, c kh kw + i kw + j, l]

    L must equal the number of blocks output_size has (as in unfold); positions no block
    reaches are 0. Gradient: unfold of the upstream gradient."""
    op = "fold"
    x = as_tensor(input)
    if x.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise ShapeError(f"{op}: expected a 2-D (C * kh * kw, L) or 3-D (N, C * kh * kw, L) "
                         f"input with non-zero sizes (the batch may be empty), got shape "
                         f"{x.shape}")
    _refuse_bool(op, x)
    size = _ints(output_size, 2, "output_size", op, 1)
    kernel, dilation, padding, stride = _window_args(op, kernel_size, dilation, padding,
                                                     stride)
    rows, length = x.shape[-2:]
    taps = math.prod(kernel)
    if rows % taps:
        raise ShapeError(f"{op}: input {x.shape} has {rows} rows (axis {x.ndim - 2}), not a "
                         f"multiple of the kernel's kh * kw = {taps} (kernel_size {kernel})")
    blocks = _blocks(op, size, kernel, dilation, padding, stride, x.shape)
    if length != math.prod(blocks):
        raise ShapeError(f"{op}: input {x.shape} has {length} blocks (last axis) but "
                         f"output_size {size} with kernel_size {kernel}, dilation {dilation}, "
                         f"padding {padding} and stride {stride} gives {blocks[0]} * "
                         f"{blocks[1]} = {math.prod(blocks)}")
    lead, channels = x.shape[:-2], rows // taps
    padded = lead + (channels,) + tuple(n + 2 * p for n, p in zip(size, padding))
    y = FoldWindows.apply(x.reshape(lead + (channels,) + kernel + blocks), kernel=kernel,
                          stride=stride, dilation=dilation, shape=padded)
    if any(padding):
        y = y[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(padding, size))]
    return y


__all__ = ["fold", "unfold"]
