"""Transposed convolution, composed from primitives: matmul -> fold (col2im) -> crop.

A transposed convolution is the adjoint (the gradient with respect to the input) of the
convolution with the same weight, stride, padding, dilation and groups. PyTorch's layout:
input (N, C_in, *L), weight (C_in, C_out / groups, *k), bias (C_out,); along each spatial
axis

    full = (L - 1) s + r (k - 1) + 1 + output_padding,    out = full - 2 p.

How it is computed (the convolution's backward for dx, run forwards): each input position
scatters a weighted copy of the kernel into the output,

    cols[n, o, j, i] = sum_c weight[c, o, j] x[n, c, i]        (one matmul, batched over
                                                                the groups: W^T x)
    full[n, o, i s + j r] += cols[n, o, j, i]                  (`FoldWindows`, col2im)
    y = full[..., p : p + out] + bias                          (crop the padding)

output_padding only lengthens `full` at the end (positions no window reaches stay zero
unless a later crop keeps them), which is why it must be smaller than the stride or the
dilation: it picks one of the input sizes that a strided convolution maps to the same
output size. Every step (MatMul, Reshape, FoldWindows, GetItem, Add) has a backward in
Tensor ops, so gradients and second derivatives come free: d/dx is the ordinary
convolution of the upstream gradient (FoldWindows' backward is SlidingWindows).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn._conv import Ints, _ints
from tinygrad_edu.ops.windows import FoldWindows
from tinygrad_edu.tensor import Tensor, as_tensor


def transposed_output_size(size: Ints, kernel: Ints, stride: Ints, padding: Ints,
                           output_padding: Ints, dilation: Ints) -> Ints:
    """(n - 1) s - 2 p + r (k - 1) + output_padding + 1 along each spatial axis."""
    return tuple((n - 1) * s - 2 * p + r * (k - 1) + q + 1 for n, k, s, p, q, r
                 in zip(size, kernel, stride, padding, output_padding, dilation))


def _groups(groups: Any, op: str) -> int:
    if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return int(groups)


class _Geometry(NamedTuple):
    """The parsed hyperparameters (one entry per spatial axis) and the output's spatial size."""

    stride: Ints
    padding: Ints
    output_padding: Ints
    dilation: Ints
    out: Ints


def _check_operands(op: str, d: int, x: Tensor, w: Tensor, groups: Any) -> int:
    """Check the ranks of input ((N,) C_in, *spatial) and weight (C_in, C_out / groups,
    *kernel), that groups divides the weight's C_in and that it matches the input's
    channels; returns groups as an int."""
    spatial = "(H, W)" if d == 2 else "(L)" if d == 1 else "(D, H, W)"
    if x.ndim not in (d + 1, d + 2):
        raise ShapeError(f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D input "
                         f"(N, C_in, {spatial[1:-1]}), got shape {x.shape} (weight shape "
                         f"{w.shape})")
    if w.ndim != d + 2:
        raise ShapeError(f"{op}: expected a {d + 2}-D weight (C_in, C_out / groups, *kernel), "
                         f"got shape {w.shape} (input shape {x.shape})")
    g = _groups(groups, op)
    c_in = x.shape[-d - 1]
    if w.shape[0] % g:
        raise ValueError(f"{op}: groups={g} does not divide the {w.shape[0]} input channels "
                         f"of weight {w.shape} (axis 0; input shape {x.shape})")
    if w.shape[0] != c_in:
        raise ShapeError(f"{op}: input {x.shape} has {c_in} channels but weight {w.shape} "
                         f"expects {w.shape[0]} (a transposed convolution's weight is "
                         f"(C_in, C_out / groups, *kernel))")
    return g


def _geometry(op: str, d: int, x: Tensor, w: Tensor, stride: Any, padding: Any,
              output_padding: Any, dilation: Any) -> _Geometry:
    """stride, padding, output_padding and dilation as d-tuples (output_padding checked to be
    smaller than the stride or the dilation), and the output's spatial size
    (L - 1) s - 2 p + r (k - 1) + output_padding + 1, checked to be at least 1."""
    strides = _ints(stride, d, "stride", op, 1)
    pads = _ints(padding, d, "padding", op, 0)
    extra = _ints(output_padding, d, "output_padding", op, 0)
    dilations = _ints(dilation, d, "dilation", op, 1)
    if any(q >= s and q >= r for q, s, r in zip(extra, strides, dilations)):
        raise ValueError(f"{op}: output_padding must be smaller than either stride or "
                         f"dilation (as PyTorch), got output_padding={extra}, stride="
                         f"{strides}, dilation={dilations}")
    out = transposed_output_size(x.shape[-d:], tuple(w.shape[2:]), strides, pads, extra,
                                 dilations)
    if min(out) < 1:
        raise ShapeError(f"{op}: the output size {out} is too small (input shape {x.shape}, "
                         f"weight shape {w.shape}, stride {strides}, padding {pads}, "
                         f"output_padding {extra}, dilation {dilations}): padding may remove "
                         "at most what the kernel adds; use less padding")
    return _Geometry(strides, pads, extra, dilations, out)


def _common_dtype(op: str, x: Tensor, w: Tensor, bias: Any, c_out: int, g: int
                  ) -> list[Tensor]:
    """[x, w] or [x, w, bias] (bias checked to be (C_out,)), all cast to their common
    dtype."""
    operands = [x, w]
    if bias is not None:
        b = as_tensor(bias)
        if b.shape != (c_out,):
            raise ShapeError(f"{op}: bias has shape {b.shape} but weight {w.shape} gives "
                             f"{c_out} output channels (groups={g}); bias must have shape "
                             f"({c_out},) (input shape {x.shape})")
        operands.append(b)
    dtype = np.result_type(*[t.dtype for t in operands])
    return [t if t.dtype == dtype else t.to(dtype) for t in operands]


def _scatter(x: Tensor, w: Tensor, g: int, geo: _Geometry) -> Tensor:
    """The bias-free output (N, C_out, *out) of a batched input (N, C_in, *L): the columns
    W^T x (one matmul batched over the groups), folded (col2im) into the padded output
    `full`, then cropped by the padding."""
    n, c_in, size = x.shape[0], x.shape[1], x.shape[2:]
    kernel = tuple(w.shape[2:])
    c_out = w.shape[1] * g
    # cols = W^T x per group: (N, G, C_out / G * taps, L) from (G, C_in / G, C_out / G * taps)
    w_g = w.reshape(g, c_in // g, c_out // g * math.prod(kernel))
    cols = w_g.mT @ x.reshape(n, g, c_in // g, math.prod(size))
    cols = cols.reshape((n, c_out) + kernel + size)
    full = tuple(o + 2 * p for o, p in zip(geo.out, geo.padding))
    y = FoldWindows.apply(cols, kernel=kernel, stride=geo.stride, dilation=geo.dilation,
                          shape=(n, c_out) + full)
    if any(geo.padding):
        y = y[(slice(None), slice(None))
              + tuple(slice(p, p + o) for p, o in zip(geo.padding, geo.out))]
    return y


def _conv_transpose(op: str, d: int, input: Any, weight: Any, bias: Any, stride: Any,
                    padding: Any, output_padding: Any, groups: Any, dilation: Any) -> Tensor:
    """The transposed convolution over `d` spatial axes, shared by conv_transpose1d/2d/3d
    (`op` names the function in error messages): check the operands and hyperparameters,
    cast to a common dtype, scatter W^T x into the output and add the bias."""
    x, w = as_tensor(input), as_tensor(weight)
    g = _check_operands(op, d, x, w, groups)
    geo = _geometry(op, d, x, w, stride, padding, output_padding, dilation)
    c_out = w.shape[1] * g
    operands = _common_dtype(op, x, w, bias, c_out, g)
    x, w = operands[0], operands[1]
    batched = x.ndim == d + 2
    y = _scatter(x if batched else x.unsqueeze(0), w, g, geo)
    if len(operands) > 2:
        y = y + operands[2].reshape((c_out,) + (1,) * d)
    return y if batched else y.squeeze(0)


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """2-d transposed convolution ("deconvolution"), as
    `torch.nn.functional.conv_transpose2d` (same arguments in the same order).

    input (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_in, C_out / groups, kh, kw);
    bias (C_out,) or None. Output (N, C_out, OH, OW) with
    OH = (H - 1) sh - 2 ph + dh (kh - 1) + output_padding_h + 1:

        out[n, o, y, x] = bias[o] + sum_{c, i, j, u, v : y + ph = u sh + i dh,
                                                          x + pw = v sw + j dw}
                          weight[c, o', i, j] x[n, c, u, v]

    (c in o's group, o' = o mod C_out / groups): the gradient of `conv2d` with respect to
    its input, so `conv2d(conv_transpose2d(...))` pairs are adjoint. output_padding
    (smaller than stride or dilation) adds rows and columns at the end.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """1-d transposed convolution, as `torch.nn.functional.conv_transpose1d`: input
    (N, C_in, L) or (C_in, L), weight (C_in, C_out / groups, k), output length
    (L - 1) s - 2 p + r (k - 1) + output_padding + 1; same rules as `conv_transpose2d`."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """3-d transposed convolution, as `torch.nn.functional.conv_transpose3d`: input
    (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_in, C_out / groups, kd, kh, kw);
    same rules as `conv_transpose2d` along three spatial axes."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "transposed_output_size"]
