"""Convolution, composed from primitives: pad -> sliding windows -> matmul.

Layout and conventions follow PyTorch: inputs (N, C, H, W) (or (N, C, L) for the 1-d
forms, (N, C, D, H, W) for the 3-d ones), weights (C_out, C_in / groups, kh, kw),
cross-correlation (the kernel is not flipped), output size
floor((n + 2 p - r (k - 1) - 1) / s + 1). Every gradient comes from primitives whose
backward can be differentiated again (second derivatives work).

How the convolution is computed: the padded input's windows, a strided view of shape
(N, C, kh, kw, OH, OW), are reshaped to (N, C kh kw, OH OW) (im2col; the one copy of the
forward) and multiplied by the weight viewed as (C_out, C kh kw): one batched matmul, whose
output is already (N, C_out, OH OW), i.e. NCHW. With groups, the channel axis is split into
(groups, C / groups) on both sides and the matmul is batched over the groups too.
`conv2d_composite` builds exactly that from graph nodes (Pad, SlidingWindows, Reshape,
MatMul, Add); `conv2d`/`conv1d` run the same steps fused into one primitive
(`ops.conv.ConvIm2col`), which the conv benchmark showed to matter, and the tests hold
the fused values and gradients (first and second order) to the composite's. Pooling is in
`nn._pool`.

Courses' channels-last layout: `conv2d_nhwc` (input (N, H, W, C), filters (kh, kw, C_in,
C_out), output (N, OH, OW, C_out)) permutes to NCHW, calls the same function and
permutes back; the permutes are views, and their gradients are permutes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.ops.conv import ConvIm2col
from tinygrad_edu.ops.windows import SlidingWindows
from tinygrad_edu.tensor import Tensor, as_tensor

Ints = tuple[int, ...]
SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}  # the spatial axes' names, for messages
KERNEL = {1: "k", 2: "kh, kw", 3: "kd, kh, kw"}


# ----------------------------------------------------------------------------- arguments


def _ints(value: Any, d: int, name: str, op: str, minimum: int) -> Ints:
    """`value` as d ints >= minimum (an int is repeated, as PyTorch's `_pair`)."""
    if type(value) is int and value >= minimum:  # the usual call, checked cheaply
        return (value,) * d
    items = tuple(value) if isinstance(value, tuple | list) else (value,) * d
    if len(items) != d or not all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                                   for v in items):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {d} ints, got {value!r}")
    if any(v < minimum for v in items):
        what = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {what}, got {name}={value!r}")
    return tuple(int(v) for v in items)


def _padding(padding: Any, d: int, kernel: Ints, stride: Ints, dilation: Ints, op: str
             ) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis for an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple of {d} ints, 'valid' or "
                             f"'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride}), as in PyTorch; use stride 1 or an explicit "
                             "padding")
        # PyTorch puts the odd extra row/column of padding after (bottom/right).
        totals = [r * (k - 1) for k, r in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _ints(padding, d, "padding", op, 0))


def _check_fits(op: str, x_shape: Ints, pads: tuple[tuple[int, int], ...], kernel: Ints,
                dilation: Ints, w_shape: Ints) -> None:
    d = len(kernel)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[-d:], pads))
    extent = tuple(r * (k - 1) + 1 for k, r in zip(kernel, dilation))
    if any(e > n for e, n in zip(extent, padded)):
        dil = f" with dilation {dilation}" if any(r != 1 for r in dilation) else ""
        raise ShapeError(f"{op}: kernel size {kernel}{dil} (extent {extent}) is larger than "
                         f"the padded input {padded} (input shape {x_shape}, weight shape "
                         f"{w_shape}, padding {tuple(p for p, _ in pads)}); the kernel must "
                         "fit inside: use a smaller kernel or more padding")


def _pad(x: Tensor, pads: tuple[tuple[int, int], ...], value: float = 0.0) -> Tensor:
    if not any(lo or hi for lo, hi in pads):
        return x
    return x.pad(((0, 0),) * (x.ndim - len(pads)) + pads, value=value)


def _windows(x: Tensor, kernel: Ints, stride: Ints, dilation: Ints) -> Tensor:
    return SlidingWindows.apply(x, kernel=kernel, stride=stride, dilation=dilation)


def _flat_taps(windows: Tensor, d: int) -> Tensor:
    """(..., *kernel, *out) -> (..., kernel taps, *out): a contiguous copy.

    numpy reduces a strided window view over its small kernel axes with an inner loop of
    kh elements (30x slower than the copy plus a reduction over whole (OH, OW) planes).
    """
    shape = windows.shape
    lead = shape[:-2 * d]
    taps = math.prod(shape[-2 * d:-d])
    return windows.reshape(lead + (taps,) + shape[-d:])


# ----------------------------------------------------------------------------- convolution


def _conv(op: str, d: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
          dilation: Any, groups: Any, fused: bool = True) -> Tensor:
    x, w = as_tensor(input), as_tensor(weight)
    layout = f"(N, C, {SPATIAL[d]})"
    wlayout = f"(C_out, C_in / groups, {KERNEL[d]})"
    if x.ndim != d + 2:
        hint = "; add a batch axis with x.unsqueeze(0)" if x.ndim == d + 1 else ""
        raise ShapeError(f"{op}: expected a {d + 2}-D input {layout}, got shape {x.shape} "
                         f"(weight shape {w.shape}){hint}")
    if w.ndim != d + 2:
        raise ShapeError(f"{op}: expected a {d + 2}-D weight {wlayout}, got shape {w.shape} "
                         f"(input shape {x.shape})")
    if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    n, c_in = x.shape[:2]
    c_out, c_group = w.shape[:2]
    kernel = tuple(w.shape[2:])
    if c_out % groups:
        raise ValueError(f"{op}: groups={groups} does not divide the {c_out} output channels "
                         f"of weight {w.shape} (input shape {x.shape})")
    if c_in % groups:
        raise ValueError(f"{op}: groups={groups} does not divide the {c_in} input channels "
                         f"of input {x.shape} (weight shape {w.shape})")
    if c_group * groups != c_in:
        raise ShapeError(f"{op}: input {x.shape} has {c_in} channels but weight {w.shape} "
                         f"expects {c_group * groups} (= {c_group} per group x groups="
                         f"{groups}); weight must be {wlayout} = ({c_out}, {c_in // groups}, "
                         f"...)")
    strides = _ints(stride, d, "stride", op, 1)
    dilations = _ints(dilation, d, "dilation", op, 1)
    pads = _padding(padding, d, kernel, strides, dilations, op)
    _check_fits(op, x.shape, pads, kernel, dilations, w.shape)
    operands = [x, w]
    if bias is not None:
        b = as_tensor(bias)
        if b.shape != (c_out,):
            raise ShapeError(f"{op}: bias has shape {b.shape} but weight {w.shape} has "
                             f"{c_out} output channels; bias must have shape ({c_out},) "
                             f"(input shape {x.shape})")
        operands.append(b)
    dtype = np.result_type(*[t.dtype for t in operands])
    operands = [t if t.dtype == dtype else t.to(dtype) for t in operands]
    if fused:
        return ConvIm2col.apply(*operands, pads=pads, stride=strides, dilation=dilations,
                                groups=groups)
    return _conv_composite(operands, pads, strides, dilations, groups)


def _conv_composite(operands: list[Tensor], pads: tuple[tuple[int, int], ...], stride: Ints,
                    dilation: Ints, groups: int) -> Tensor:
    """pad -> SlidingWindows -> one batched matmul (+ bias): the reference composition."""
    x, w = operands[0], operands[1]
    n, c_in = x.shape[:2]
    c_out, c_group = w.shape[:2]
    kernel = tuple(w.shape[2:])
    d = len(kernel)
    cols = _windows(_pad(x, pads), kernel, stride, dilation)  # (N, C, *kernel, *out)
    out_size = cols.shape[-d:]
    taps = math.prod(kernel)
    positions = math.prod(out_size)
    if groups == 1:
        out = w.reshape(c_out, c_group * taps) @ cols.reshape(n, c_in * taps, positions)
    else:
        cols_g = cols.reshape(n, groups, c_group * taps, positions)
        out = w.reshape(groups, c_out // groups, c_group * taps) @ cols_g
    out = out.reshape((n, c_out) + out_size)
    if len(operands) > 2:
        out = out + operands[2].reshape((c_out,) + (1,) * d)
    return out


def conv2d_composite(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """`conv2d` computed by the composition pad -> SlidingWindows -> matmul -> + bias,
    node by node (about ten graph nodes). `conv2d` runs the fused `ConvIm2col` primitive
    instead; this is the reference the tests hold it to (same values and gradients)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups,
                 fused=False)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-d cross-correlation, as `torch.nn.functional.conv2d`.

    input (N, C_in, H, W), weight (C_out, C_in / groups, kh, kw), bias (C_out,) or None;
    stride, dilation: int or pair; padding: int, pair, 'valid' or 'same' (stride 1 only,
    as PyTorch). Output (N, C_out, OH, OW) with
    OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1:

        out[n, o, y, x] = bias[o] + sum_{c, i, j} weight[o, c, i, j]
                          * padded[n, g(o) C_in/groups + c, y sh + i dh, x sw + j dw]

    Gradients: d/d input is the windows' fold of weight^T @ grad, d/d weight is
    grad @ windows^T summed over the batch, d/d bias sums grad over (N, OH, OW).
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-d cross-correlation, as `torch.nn.functional.conv1d`: input (N, C_in, L), weight
    (C_out, C_in / groups, k); same rules as `conv2d` along the one spatial axis."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-d cross-correlation, as `torch.nn.functional.conv3d`: input (N, C_in, D, H, W),
    weight (C_out, C_in / groups, kd, kh, kw); same rules as `conv2d` along three spatial
    axes (the same fused primitive, whose windows and fold are N-dimensional)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv2d_nhwc(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """The courses' channels-last convolution: x (N, H, W, C_in), filters w (kh, kw, C_in,
    C_out), bias b (C_out,), output (N, OH, OW, C_out).

    Calls `conv2d` on x.permute(0, 3, 1, 2) and w.permute(3, 2, 0, 1) and permutes the
    result back: the same kernels, so the values and gradients equal those of the NCHW
    form after transposes.
    """
    xt, wt = as_tensor(x), as_tensor(w)
    if xt.ndim != 4 or wt.ndim != 4:
        raise ShapeError(f"conv2d_nhwc: expected input (N, H, W, C) and filters (kh, kw, "
                         f"C_in, C_out), got shapes {xt.shape} and {wt.shape}")
    if xt.shape[3] != wt.shape[2]:
        raise ShapeError(f"conv2d_nhwc: input {xt.shape} has {xt.shape[3]} channels (last "
                         f"axis) but filters {wt.shape} expect C_in={wt.shape[2]} (axis 2)")
    if b is not None and np.shape(b.array if isinstance(b, Tensor) else b) != (wt.shape[3],):
        b_shape = np.shape(b.array if isinstance(b, Tensor) else b)
        raise ShapeError(f"conv2d_nhwc: bias has shape {b_shape} but filters {wt.shape} have "
                         f"C_out={wt.shape[3]} (axis 3); bias must have shape ({wt.shape[3]},) "
                         f"(input shape {xt.shape})")
    out = conv2d(xt.permute(0, 3, 1, 2), wt.permute(3, 2, 0, 1), b, stride, padding)
    return out.permute(0, 2, 3, 1)


# ----------------------------------------------------------------------------- pooling


__all__ = ["conv1d", "conv2d", "conv3d", "conv2d_nhwc", "conv2d_composite"]
