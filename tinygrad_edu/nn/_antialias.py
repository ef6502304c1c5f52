"""`interpolate(..., antialias=True)` for 'bilinear', 'bicubic' and 'lanczos': when shrinking, every
output pixel averages all the input pixels under its filter, stretched by the scale, instead
of sampling two (four) of them.

PyTorch's rule (its `_upsample_bilinear2d_aa` / `_upsample_bicubic2d_aa`), one axis at a
time: with `scale` = in / out (or 1 / scale_factor, or (in - 1) / (out - 1) with
align_corners), `support` = (taps / 2) * max(scale, 1) and `invscale` = 1 / max(scale, 1),
output i is centred at c = scale (i + 0.5) and reads inputs j in
[max(int(c - support + 0.5), 0), min(int(c + support + 0.5), in)) with weight
filter((j - c + 0.5) * invscale), the weights normalised to sum 1. `filter` is the triangle
max(0, 1 - |t|) (bilinear, 2 taps), Keys' cubic with a = -0.5 (bicubic, 4 taps) or
sinc(t) sinc(t / 3) (lanczos, 6 taps; PyTorch has that mode only with antialias). When
enlarging, invscale = 1 and these are the ordinary (align_corners=False) weights.

Each axis is a product with a constant (out, in) weight matrix, so the gradient (and the
second derivative) is the transposed product, from the matmul primitive.
"""

from __future__ import annotations

import numpy as np

from tinygrad_edu.tensor import Tensor, as_tensor


def _triangle(t: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, 1.0 - np.abs(t))


def _keys_cubic(t: np.ndarray, a: float = -0.5) -> np.ndarray:
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t < 1, near, np.where(t < 2, far, 0.0))


def _lanczos(t: np.ndarray, a: int = 3) -> np.ndarray:
    return np.where(np.abs(t) < a, np.sinc(t) * np.sinc(t / a), 0.0)


FILTERS = {"bilinear": (2, _triangle), "bicubic": (4, _keys_cubic), "lanczos": (6, _lanczos)}


def weight_matrix(n: int, out: int, scale: float, mode: str) -> np.ndarray:
    """The (out, n) matrix of one axis (float64; rows sum to 1 unless all weights are 0)."""
    taps, kernel = FILTERS[mode]
    support = taps * 0.5 * scale if scale >= 1.0 else taps * 0.5
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    w = np.zeros((out, n))
    for i in range(out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n)
        taps_w = kernel((np.arange(lo, hi) - center + 0.5) * invscale)
        total = taps_w.sum()
        w[i, lo:hi] = taps_w / total if total != 0 else taps_w
    return w


def resize_antialiased(x: Tensor, outs: list[int], scales: list[float], mode: str
                       ) -> Tensor:
    """x (N, C, H, W) resized to `outs` with the antialiasing weights, the last axis first
    (as PyTorch's separable passes)."""
    dt = x.array.dtype
    for axis in reversed(range(2, x.ndim)):
        n, out = x.shape[axis], outs[axis - 2]
        w = as_tensor(weight_matrix(n, out, scales[axis - 2], mode).T.astype(dt))
        x = (x.movedim(axis, -1) @ w).movedim(-1, axis)
    return x
