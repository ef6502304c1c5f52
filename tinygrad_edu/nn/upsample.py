"""Resampling: `F.interpolate` ('nearest', 'nearest-exact', 'linear', 'bilinear',
'bicubic', 'trilinear', 'area'), `F.pixel_shuffle` / `F.pixel_unshuffle`, and the modules
`Upsample`, `UpsamplingNearest2d`, `UpsamplingBilinear2d`, `PixelShuffle`, `PixelUnshuffle`,
as PyTorch.

Every mode is separable, one spatial axis at a time, and a composite of the getitem
primitive: nearest picks one source index per output position; linear picks the two
neighbours i0, i1 and mixes them, y = l0 * x[i0] + l1 * x[i1]. The indices and weights
depend only on the sizes, so they are constants (the gradient spreads each output back to
its sources; the second derivative is 0); bicubic mixes four neighbours with Keys' cubic
weights the same way. They are computed with PyTorch's arithmetic
(float32 coordinates for nearest and for float32 input), so the same source is picked.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn._antialias import resize_antialiased
from tinygrad_edu.nn._layer_name import named_call
from tinygrad_edu.nn.adaptive_pool import adaptive_avg_pool
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle", "Upsample", "UpsamplingNearest2d",
           "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle"]

_LINEAR = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}  # mode: input dims
_MODES = ("nearest", "nearest-exact", "area", *_LINEAR, "lanczos")
_ANTIALIAS = ("bilinear", "bicubic", "lanczos")  # 4-D input only, as PyTorch


def _scale(in_size: int, out_size: int, factor: float | None, dtype: Any) -> Any:
    """PyTorch's compute_scales_value: 1 / scale_factor when one was given, else in / out,
    in `dtype` (float32 where PyTorch computes in float)."""
    if factor is not None and factor > 0:
        return dtype(1.0 / factor)
    return dtype(in_size) / dtype(out_size)


def _nearest_index(n: int, out: int, factor: float | None, exact: bool, kernel_2d: bool,
                   wide: bool) -> np.ndarray:
    """Source index of each output position: floor(dst * scale) ('nearest') or
    floor((dst + 0.5) * scale) ('nearest-exact'), clipped to n - 1, rounded as PyTorch's
    kernels do: the product is rounded to float32 before the floor, from a float32 scale,
    or from a double one (`wide`: float64 input in the 1-D and 3-D kernels). PyTorch's 2-D
    kernel also copies an equal size and repeats a doubled one (dst // 2) whatever the
    scale factor."""
    dst = np.arange(out)
    if (kernel_2d or factor is None) and not exact and out == n:
        return dst
    if (kernel_2d or factor is None) and not exact and out == 2 * n:
        return dst >> 1
    scale = _scale(n, out, factor, np.float64 if wide else np.float32)
    if exact:
        src = np.floor(((dst + 0.5) * np.float64(scale)).astype(np.float32))
    elif wide:
        src = np.floor((dst * scale).astype(np.float32))
    else:
        src = np.floor(dst.astype(np.float32) * scale)
    return np.minimum(src.astype(np.int64), n - 1)


def _linear_weights(n: int, out: int, factor: float | None, align_corners: bool, dtype: Any
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, l0, l1) along one axis, as PyTorch's compute_indices_weights_linear."""
    dst = np.arange(out).astype(dtype)
    if align_corners:
        scale = dtype(n - 1) / dtype(out - 1) if out > 1 else dtype(0)
        src = scale * dst
    else:
        src = _scale(n, out, factor, dtype) * (dst + dtype(0.5)) - dtype(0.5)
        src = np.maximum(src, dtype(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    l1 = np.clip(src - i0.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (dtype(1) - l1).astype(dtype), l1


def _cubic_weights(n: int, out: int, factor: float | None, align_corners: bool, dtype: Any
                   ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Four source indices (clamped to the axis) and weights per output position: Keys'
    cubic convolution with A = -0.75, as PyTorch's bicubic (the source coordinate is not
    clamped at 0, unlike linear)."""
    dst = np.arange(out).astype(dtype)
    if align_corners:
        src = (dtype(n - 1) / dtype(out - 1) if out > 1 else dtype(0)) * dst
    else:
        src = _scale(n, out, factor, dtype) * (dst + dtype(0.5)) - dtype(0.5)
    i = np.minimum(np.floor(src).astype(np.int64), n - 1)
    t = np.clip(src - i.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    a = dtype(-0.75)

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = dtype(1)
    weights = [far(t + one), near(t), near(one - t), far(dtype(2) - t)]
    return ([np.clip(i - 1 + k, 0, n - 1) for k in range(4)],
            [w.astype(dtype) for w in weights])


def _along(x: Tensor, axis: int, index: np.ndarray) -> Tensor:
    return x[(slice(None),) * axis + (index,)]


def _check_sizes(x: Tensor, size: Any, scale_factor: Any, recompute: Any, d: int, area: bool
                 ) -> tuple[list[int], list[float | None]]:
    """Output sizes and the scale factors PyTorch passes on (None where the sizes decide);
    'area' (adaptive pooling) allows an empty output."""
    spatial = list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if recompute and size is not None:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                         "explicit size")
    if size is not None:
        sizes = list(size) if isinstance(size, tuple | list) else [size] * d
        if len(sizes) != d:
            raise ValueError(f"interpolate: input and output must have the same number of "
                             f"spatial dimensions, but got input of shape {x.shape} (spatial "
                             f"dims {spatial}) and output size {size}")
        for s in sizes:
            if not isinstance(s, int | np.integer) or isinstance(s, bool):
                raise TypeError(f"interpolate: size must be an int or a tuple of ints, got "
                                f"{size!r} (input shape {x.shape})")
        outs = [int(s) for s in sizes]
        factors: list[float | None] = [None] * d
    else:
        fs = list(scale_factor) if isinstance(scale_factor, tuple | list) else [scale_factor] * d
        if len(fs) != d:
            raise ValueError(f"interpolate: input and scale_factor must have the same number "
                             f"of spatial dimensions, but got input of shape {x.shape} "
                             f"(spatial dims {spatial}) and scale_factor {scale_factor}")
        floats = [float(f) for f in fs]
        outs = [math.floor(n * f) for n, f in zip(spatial, floats)]
        factors = list(floats)
        if recompute:
            factors = [None] * d
    if any(n <= 0 for n in spatial) or any(o < (0 if area else 1) for o in outs):
        raise ValueError(f"interpolate: input and output sizes should be greater than 0, but "
                         f"got input of shape {x.shape} (spatial {tuple(spatial)}) and output "
                         f"size {tuple(outs)}")
    return outs, factors


def _check_mode(x: Tensor, mode: str, align_corners: bool | None, antialias: bool) -> None:
    """Check that the mode is supported, takes align_corners only if it interpolates, that
    antialias is off, and that the input has the rank the mode needs (3-D to 5-D, and
    exactly 3-D for 'linear', 4-D for 'bilinear' / 'bicubic', 5-D for 'trilinear')."""
    if mode not in _MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r} (one of {', '.join(_MODES)})")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if mode == "lanczos" and (not antialias or align_corners):
        raise ValueError("interpolate: lanczos mode requires antialias=True and does not "
                         f"take align_corners=True (as PyTorch); got antialias={antialias}, "
                         f"align_corners={align_corners}")
    if antialias and (mode not in _ANTIALIAS or x.ndim != 4):
        raise ValueError(f"interpolate: antialias=True needs mode bilinear, bicubic or lanczos "
                         f"and 4-D input (N, C, H, W); got mode {mode!r}, shape {x.shape}")
    if x.ndim not in (3, 4, 5):
        raise ShapeError(f"interpolate: expected 3-D, 4-D or 5-D input (N, C, *spatial), got "
                         f"shape {x.shape} (mode {mode!r})")
    if mode in _LINEAR and x.ndim != _LINEAR[mode]:
        raise ShapeError(f"interpolate: got {x.ndim}-D input of shape {x.shape}, but "
                         f"{mode} mode needs {_LINEAR[mode]}-D input")


def _resize_linear(x: Tensor, mode: str, outs: list[int], factors: list[float | None],
                   align_corners: bool) -> Tensor:
    """'linear', 'bilinear', 'trilinear' or 'bicubic' (floating-point input only): along each
    spatial axis, last one first, the output is the weighted sum of two (four for bicubic)
    gathered source positions; a linear mode leaves an axis of unchanged size as it is."""
    if x.dtype.kind != "f":
        raise TypeError(f"interpolate: {mode} mode needs a floating-point input, got "
                        f"{x.dtype} (shape {x.shape})")
    dt = x.array.dtype.type
    for axis in reversed(range(2, x.ndim)):  # PyTorch mixes the last axis innermost
        n, out, f = x.shape[axis], outs[axis - 2], factors[axis - 2]
        if mode == "bicubic":
            indices, weights = _cubic_weights(n, out, f, align_corners, dt)
        elif out == n:  # PyTorch's linear kernels copy an axis whose size is unchanged
            continue
        else:
            i0, i1, l0, l1 = _linear_weights(n, out, f, align_corners, dt)
            indices, weights = [i0, i1], [l0, l1]
        shape = (out,) + (1,) * (x.ndim - 1 - axis)
        terms = [_along(x, axis, i) * as_tensor(w.reshape(shape))
                 for i, w in zip(indices, weights)]
        x = terms[0]
        for term in terms[1:]:
            x = x + term
    return x


def _resize_nearest(x: Tensor, mode: str, outs: list[int], factors: list[float | None]
                    ) -> Tensor:
    """'nearest' or 'nearest-exact' (floating-point or uint8 input): along each spatial axis,
    gather one source position per output position."""
    if x.dtype.kind != "f" and x.dtype != np.uint8:
        raise TypeError(f"interpolate: {mode} mode supports floating-point and uint8 input, "
                        f"got {x.dtype} (shape {x.shape})")
    d = x.ndim - 2
    for axis in range(2, x.ndim):
        n, out = x.shape[axis], outs[axis - 2]
        index = _nearest_index(n, out, factors[axis - 2], mode == "nearest-exact", d == 2,
                               x.dtype == np.float64 and d != 2)
        x = _along(x, axis, index)
    return x


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial) input (1 to 3 of them) to `size`, or to
    floor(n * scale_factor). Modes: 'nearest' (source floor(dst * in / out), PyTorch's
    legacy rule), 'nearest-exact' (floor((dst + 0.5) * in / out)), 'linear' (3-D input),
    'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D) with align_corners False (pixel centres: src =
    (dst + 0.5) * in / out - 0.5) or True (corners: src = dst * (in - 1) / (out - 1)), and
    'area' (adaptive average pooling). When scale_factor is given, 1 / scale_factor is the
    ratio used, unless recompute_scale_factor=True."""
    x = as_tensor(input)
    _check_mode(x, mode, align_corners, antialias)
    d = x.ndim - 2
    recompute = recompute_scale_factor or (mode == "area" and size is None)
    outs, factors = _check_sizes(x, size, scale_factor, recompute, d, mode == "area")
    if mode == "area":
        return adaptive_avg_pool("interpolate", d, x, tuple(outs))
    if antialias:
        return _antialiased(x, mode, outs, factors, bool(align_corners))
    if mode in _LINEAR:
        return _resize_linear(x, mode, outs, factors, bool(align_corners))
    return _resize_nearest(x, mode, outs, factors)


def _antialiased(x: Tensor, mode: str, outs: list[int], factors: list[float | None],
                 align_corners: bool) -> Tensor:
    """antialias=True: each axis's scale as PyTorch's area_pixel_compute_scale, then the
    filter weights of `nn._antialias`."""
    if x.dtype.kind != "f":
        raise TypeError(f"interpolate: antialias needs a floating-point input, got {x.dtype} "
                        f"(shape {x.shape})")
    scales = []
    for n, out, f in zip(x.shape[2:], outs, factors):
        if align_corners:
            scales.append((n - 1) / (out - 1) if out > 1 else 0.0)
        else:
            scales.append(1.0 / f if f is not None and f > 0 else n / out)
    return resize_antialiased(x, outs, scales, mode)


def _factor(value: Any, op: str, name: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r): output[c, h*r + i, w*r + j] =
    input[c*r^2 + i*r + j, h, w] (a reshape and a permute)."""
    x = as_tensor(input)
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ShapeError(f"pixel_shuffle: expected input of shape (*, C * {r * r}, H, W) "
                         f"(channels divisible by upscale_factor^2 = {r * r}), got "
                         f"{x.shape}")
    *batch, c, h, w = x.shape
    b = len(batch)
    y = x.reshape(*batch, c // (r * r), r, r, h, w)
    y = y.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return y.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), the inverse of pixel_shuffle."""
    x = as_tensor(input)
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ShapeError(f"pixel_unshuffle: expected input of shape (*, C, H * {r}, W * {r}) "
                         f"(height and width divisible by downscale_factor = {r}), got "
                         f"{x.shape}")
    if x.numel() == 0:  # PyTorch returns an empty input unchanged (its shape too)
        return x.clone()
    *batch, c, h, w = x.shape
    b = len(batch)
    y = x.reshape(*batch, c, h // r, r, w // r, r)
    y = y.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return y.reshape(*batch, c * r * r, h // r, w // r)


class Upsample(Module):
    """`F.interpolate` as a layer (same arguments). A float scale_factor is stored as a
    float (or a tuple of floats), as PyTorch."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple | list):
            self.scale_factor: Any = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return named_call(self, lambda: interpolate(input, self.size, self.scale_factor, self.mode,
                                                self.align_corners,
                                                recompute_scale_factor=self.recompute_scale_factor))

    def extra_repr(self) -> str:
        info = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """`Upsample(size, scale_factor, mode='nearest')` for (N, C, H, W) input."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """`Upsample(size, scale_factor, mode='bilinear', align_corners=True)`."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """`F.pixel_shuffle` as a layer."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return named_call(self, lambda: pixel_shuffle(input, self.upscale_factor))

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """`F.pixel_unshuffle` as a layer."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return named_call(self, lambda: pixel_unshuffle(input, self.downscale_factor))

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"

