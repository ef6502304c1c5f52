"""Pooling, composed from primitives: sliding windows -> max (the fused `WindowMax`; the
composite `max_pool2d_composite` is SlidingWindows -> amax and stays the tested reference)
or mean (`avg_pool*`: SlidingWindows -> mean, or sum / divisor). Layout, padding and
output sizes follow PyTorch, as the convolutions of `nn._conv` (whose window helpers these
share); `max_pool2d_nhwc` is the courses' channels-last form.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn._conv import SPATIAL, Ints, _flat_taps, _ints, _pad, _windows
from tinygrad_edu.ops.values import held
from tinygrad_edu.ops.windows import WindowMax, windows_view
from tinygrad_edu.return_types import ValuesIndices
from tinygrad_edu.tensor import Tensor, as_tensor


def _pool_args(op: str, d: int, x: Tensor, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any, ceil_mode: bool
               ) -> tuple[Ints, Ints, Ints, tuple[tuple[int, int], ...], Ints]:
    """kernel, stride, dilation, (before, after) padding per axis (after includes what
    ceil_mode adds) and the symmetric padding asked for."""
    layout = f"(N, C, {SPATIAL[d]}) or (C, {SPATIAL[d]})"
    if x.ndim not in (d + 1, d + 2):
        raise ShapeError(f"{op}: expected a {d + 1}-D or {d + 2}-D input {layout}, got shape "
                         f"{x.shape}")
    kernel = _ints(kernel_size, d, "kernel_size", op, 1)
    strides = kernel if stride is None or stride == [] else _ints(stride, d, "stride", op, 1)
    dilations = _ints(dilation, d, "dilation", op, 1)
    pad = _ints(padding, d, "padding", op, 0)
    extent = tuple(r * (k - 1) + 1 for k, r in zip(kernel, dilations))
    if any(2 * p > e for p, e in zip(pad, extent)):
        raise ValueError(f"{op}: padding {pad} must be at most half of the kernel extent "
                         f"{extent} (kernel_size {kernel}), as in PyTorch; input shape "
                         f"{x.shape}")
    spatial = x.shape[-d:]
    outs = []
    for n, p, e, s in zip(spatial, pad, extent, strides):
        out = (n + 2 * p - e + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:  # PyTorch: the last window must start
            out -= 1                               # inside the input or its left padding
        outs.append(out)
    if min(outs) < 1:
        # Without ceil_mode the kernel must fit the padded input. With it, as in PyTorch,
        # a kernel larger than the input still gives one window, which starts at the
        # input's first element (or its left padding) and reaches past the end.
        dil = f" with dilation {dilations}" if any(r != 1 for r in dilations) else ""
        padded = tuple(n + 2 * p for n, p in zip(spatial, pad))
        ceil = ("" if ceil_mode else "; ceil_mode=True would allow a last window that starts "
                "inside the input or its left padding")
        raise ShapeError(f"{op}: kernel size {kernel}{dil} (extent {extent}) is larger than "
                         f"the padded input {padded} (input shape {x.shape}, padding {pad}, "
                         f"stride {strides}, ceil_mode={ceil_mode}): the output would have "
                         f"size {tuple(outs)}; the kernel must fit inside{ceil}")
    # After padding: p before, and after whatever the last window needs past the input
    # (never less than p, so the padded input may be longer than the windows need).
    pads = tuple((p, max(p, (out - 1) * s + e - n - p))
                 for n, p, e, s, out in zip(spatial, pad, extent, strides, outs))
    return kernel, strides, dilations, pads, pad


def _max_pool(op: str, d: int, input: Any, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool, return_indices: bool, fused: bool = True
              ) -> Any:
    x = as_tensor(input)
    kernel, strides, dilations, pads, _ = _pool_args(op, d, x, kernel_size, stride, padding,
                                                     dilation, ceil_mode)
    # Padding never wins a max (PyTorch pads with -inf). Padding is at most half the
    # kernel, so a window holds a real element unless dilation skips them all (-inf then,
    # as in PyTorch).
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    padded = _pad(x, pads, value=low)
    if fused:
        out = WindowMax.apply(padded, kernel=kernel, stride=strides, dilation=dilations)
    else:
        out = _flat_taps(_windows(padded, kernel, strides, dilations), d).amax(axis=x.ndim - d)
    if not return_indices:
        return out
    return ValuesIndices(out, _argmax_indices(padded, kernel, strides, dilations, pads, d,
                                              x.shape[-d:]))


def _argmax_indices(padded: Tensor, kernel: Ints, strides: Ints, dilations: Ints,
                    pads: tuple[tuple[int, int], ...], d: int, spatial: tuple[int, ...]
                    ) -> Tensor:
    """PyTorch's `return_indices`: for each window, the flat index (into the input's own
    spatial plane) of its first maximum. Indices carry no gradient."""
    with no_grad():
        taps = _flat_taps(_windows(padded.detach(), kernel, strides, dilations), d)
    # held: compile recomputes the indices from each call's values
    return held(first_max_indices, taps, kernel=tuple(kernel), strides=tuple(strides),
                dilations=tuple(dilations), pads=tuple(pads), d=d, spatial=tuple(spatial))


def first_max_indices(taps: np.ndarray, kernel: Ints, strides: Ints, dilations: Ints,
                      pads: tuple[tuple[int, int], ...], d: int, spatial: tuple[int, ...]
                      ) -> np.ndarray:
    """For each window (taps: (..., K, *out)), the flat index of its first maximum in the
    input's spatial plane."""
    tap = taps.argmax(axis=taps.ndim - d - 1)
    offsets = np.unravel_index(tap, kernel)
    out_shape = tap.shape[-d:]
    grid = np.indices(out_shape)
    coords = tuple(grid[t] * strides[t] + offsets[t] * dilations[t] - pads[t][0]
                   for t in range(d))
    flat = np.ravel_multi_index(coords, spatial, mode="clip")
    return np.asarray(flat, dtype=np.int64)


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """Max over each kh x kw window, as `torch.nn.functional.max_pool2d` (stride defaults
    to kernel_size; implicit padding with -inf, at most half the kernel; ceil_mode rounds
    the output size up, as PyTorch). return_indices=True also returns, as PyTorch, the flat
    index of each window's first maximum in its input plane.

    Gradient: each window's upstream gradient goes to its maximum; tied maxima share it
    equally (1/t each for t ties), so every window still passes on exactly its gradient.
    PyTorch instead gives all of it to the first maximum found. Overlapping windows add up.
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d_composite(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                         dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """`max_pool2d` by the composition pad -> SlidingWindows -> reshape -> amax, node by
    node; `max_pool2d` runs the fused `WindowMax` primitive, and the tests hold its values
    and gradients (ties included) to this reference."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, False, fused=False)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """Max over windows along the last axis of (N, C, L); same rules as `max_pool2d`."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """Max over kd x kh x kw windows of (N, C, D, H, W) or (C, D, H, W), as
    `torch.nn.functional.max_pool3d`; same rules as `max_pool2d` (the same fused
    N-dimensional `WindowMax`; indices are flat in the D x H x W volume)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def _avg_pool(op: str, d: int, input: Any, kernel_size: Any, stride: Any, padding: Any,
              ceil_mode: bool, count_include_pad: bool, divisor_override: Any) -> Tensor:
    x = as_tensor(input)
    kernel, strides, ones, pads, pad = _pool_args(op, d, x, kernel_size, stride, padding, 1,
                                                  ceil_mode)
    windows = _flat_taps(_windows(_pad(x, pads), kernel, strides, ones), d)
    integer = x.dtype.kind in "iu"
    if divisor_override is not None:
        if not isinstance(divisor_override, int | np.integer) or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a nonzero int, got "
                             f"{divisor_override!r}")
        if integer:
            return _integer_mean(windows.sum(axis=x.ndim - d), divisor_override, x.dtype)
        return windows.sum(axis=x.ndim - d) / float(divisor_override)
    ceil_extra = any(hi != lo for lo, hi in pads)
    if not ceil_extra and (count_include_pad or not any(pad)):
        if integer:
            return _integer_mean(windows.sum(axis=x.ndim - d), math.prod(kernel), x.dtype)
        return windows.mean(axis=x.ndim - d)
    # PyTorch's divisor: the window's positions inside the (symmetrically) padded input,
    # or inside the input itself when count_include_pad=False. A constant per window.
    region = np.zeros(tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[-d:], pads)),
                      dtype=x.dtype if x.dtype.kind == "f" else np.int64)
    region[tuple(slice(0, n + 2 * p) if count_include_pad else slice(p, p + n)
                 for n, p in zip(x.shape[-d:], pad))] = 1
    counts = windows_view(region, kernel, strides, ones).sum(axis=tuple(range(d)))
    if integer:
        return _integer_mean(windows.sum(axis=x.ndim - d), counts, x.dtype)
    return windows.sum(axis=x.ndim - d) / as_tensor(counts)


def _integer_mean(total: Tensor, divisor: Any, dtype: np.dtype) -> Tensor:
    """PyTorch's average of integers: the window sum divided by the divisor, rounded toward
    zero, in the input's dtype (integers carry no gradient, so plain arrays suffice)."""
    s, q = total.array, np.asarray(divisor, dtype=np.int64)
    return as_tensor((np.abs(s) // np.abs(q) * (np.sign(s) * np.sign(q))).astype(dtype))


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each kh x kw window, as `torch.nn.functional.avg_pool2d` (same arguments
    in the same order): zero padding, counted in the divisor unless count_include_pad=False;
    ceil_mode rounds the output size up (the part of a window past the padded input is
    never counted); divisor_override replaces the divisor.

    Gradient: each window's upstream gradient is spread evenly over its elements (divided
    by the same divisor); overlapping windows add up.
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows along the last axis of (N, C, L); same rules as `avg_pool2d`."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over kd x kh x kw windows of (N, C, D, H, W) or (C, D, H, W), as
    `torch.nn.functional.avg_pool3d`; same arguments and rules as `avg_pool2d`."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def max_pool2d_nhwc(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Channels-last max pooling: x (N, H, W, C) -> (N, OH, OW, C), by permuting to NCHW,
    calling `max_pool2d` and permuting back (same values, gradients and tie rule)."""
    xt = as_tensor(x)
    if xt.ndim != 4:
        raise ShapeError(f"max_pool2d_nhwc: expected a 4-D input (N, H, W, C), got shape "
                         f"{xt.shape}")
    out = max_pool2d(xt.permute(0, 3, 1, 2), kernel_size, stride, padding)
    return out.permute(0, 2, 3, 1)


__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_nhwc", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "max_pool2d_composite"]
