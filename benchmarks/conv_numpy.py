"""Reference convolution and max pooling in plain numpy, for the benchmarks.

The courses' naive loops (one output element per Python iteration) and the fast
hand-written versions a careful numpy programmer writes (im2col + matmul, einsum with a
precomputed path, max pooling by whole-slab maximums). tinygrad_edu is timed against these
in bench_conv.py and bench_course_naive.py; every one is checked against the naive loops
there before it is timed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

Array = np.ndarray


# ----------------------------------------------------------------------------- naive loops
# The courses' first exercise: one output element per Python iteration.


def naive_conv_forward(x: Array, w: Array, b: Array, stride: int, pad: int) -> Array:
    n_batch, _, h, w_in = x.shape
    filters, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w_in + 2 * pad - kw) // stride + 1
    out = np.zeros((n_batch, filters, oh, ow), x.dtype)
    for n in range(n_batch):
        for f in range(filters):
            for i in range(oh):
                for j in range(ow):
                    window = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def naive_conv_backward(dout: Array, x: Array, w: Array, stride: int, pad: int
                        ) -> tuple[Array, Array, Array]:
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw, db = np.zeros_like(xp), np.zeros_like(w), np.zeros(w.shape[0], x.dtype)
    n_batch, filters, oh, ow = dout.shape
    for n in range(n_batch):
        for f in range(filters):
            for i in range(oh):
                for j in range(ow):
                    rows, cols = slice(i * stride, i * stride + kh), slice(j * stride,
                                                                          j * stride + kw)
                    g = dout[n, f, i, j]
                    db[f] += g
                    dw[f] += xp[n, :, rows, cols] * g
                    dxp[n, :, rows, cols] += w[f] * g
    h, w_in = x.shape[2:]
    return dxp[:, :, pad:pad + h, pad:pad + w_in], dw, db


def naive_pool_forward(x: Array, k: int, stride: int) -> Array:
    n_batch, channels, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((n_batch, channels, oh, ow), x.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(oh):
                for j in range(ow):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + k,
                                               j * stride:j * stride + k])
    return out


def naive_pool_backward(dout: Array, x: Array, k: int, stride: int) -> Array:
    dx = np.zeros_like(x)
    n_batch, channels, oh, ow = dout.shape
    for n in range(n_batch):
        for c in range(channels):
            for i in range(oh):
                for j in range(ow):
                    window = x[n, c, i * stride:i * stride + k, j * stride:j * stride + k]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]
    return dx


# ----------------------------------------------------------------------------- numpy, fast


def _padded(x: Array, pad: int) -> Array:
    if not pad:
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), x.dtype)
    xp[:, :, pad:pad + h, pad:pad + w] = x
    return xp


def _windows(xp: Array, kh: int, kw: int, stride: int) -> Array:
    """(N, C, kh, kw, OH, OW) strided view of the padded input (no copy)."""
    n, c, h, w = xp.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    s = xp.strides
    return as_strided(xp, (n, c, kh, kw, oh, ow),
                      (s[0], s[1], s[2], s[3], s[2] * stride, s[3] * stride), writeable=False)


def _fold(dwin: Array, padded_shape: tuple[int, ...], stride: int) -> Array:
    """col2im: add each kernel offset's slab back where it was read (9 adds for 3x3)."""
    dxp = np.zeros(padded_shape, dwin.dtype)
    kh, kw, oh, ow = dwin.shape[2:]
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + stride * (oh - 1) + 1:stride,
                j:j + stride * (ow - 1) + 1:stride] += dwin[:, :, i, j]
    return dxp


def _unpad(dxp: Array, pad: int) -> Array:
    return dxp[:, :, pad:dxp.shape[2] - pad, pad:dxp.shape[3] - pad] if pad else dxp


def im2col_forward(x: Array, w: Array, b: Array, stride: int, pad: int
                   ) -> tuple[Array, tuple[Any, ...]]:
    """cols (N, C kh kw, OH OW) = one copy of the windows; out = W (F, C kh kw) @ cols,
    batched over N, which lands directly in NCHW; the bias is added in place."""
    f, _, kh, kw = w.shape
    xp = _padded(x, pad)
    win = _windows(xp, kh, kw, stride)
    n, oh, ow = x.shape[0], win.shape[4], win.shape[5]
    cols = win.reshape(n, -1, oh * ow)
    out = np.matmul(w.reshape(f, -1), cols)
    out += b[:, None]
    return out.reshape(n, f, oh, ow), (cols, w, xp.shape, stride, pad)


def im2col_backward(dout: Array, cache: tuple[Any, ...]) -> tuple[Array, Array, Array]:
    cols, w, padded_shape, stride, pad = cache
    n, f = dout.shape[:2]
    d = dout.reshape(n, f, -1)
    db = d.sum(axis=(0, 2))
    dw = np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = np.matmul(w.reshape(f, -1).T, d)
    dwin = dcols.reshape((n, w.shape[1]) + w.shape[2:] + dout.shape[2:])
    return _unpad(_fold(dwin, padded_shape, stride), pad), dw, db


_PATHS: dict[tuple[str, tuple[int, ...], tuple[int, ...]], Any] = {}


def _einsum(spec: str, a: Array, b: Array) -> Array:
    """np.einsum with its contraction path computed once per spec and shapes (the path
    search costs more than the contraction at these sizes)."""
    key = (spec, a.shape, b.shape)
    if key not in _PATHS:
        _PATHS[key] = np.einsum_path(spec, a, b, optimize="optimal")[0]
    return np.einsum(spec, a, b, optimize=_PATHS[key])


def einsum_forward(x: Array, w: Array, b: Array, stride: int, pad: int
                   ) -> tuple[Array, tuple[Any, ...]]:
    xp = _padded(x, pad)
    win = _windows(xp, w.shape[2], w.shape[3], stride)
    out = _einsum("ncijhw,fcij->nfhw", win, w)
    out += b[:, None, None]
    return out, (win, w, xp.shape, stride, pad)


def einsum_backward(dout: Array, cache: tuple[Any, ...]) -> tuple[Array, Array, Array]:
    win, w, padded_shape, stride, pad = cache
    db = dout.sum(axis=(0, 2, 3))
    dw = _einsum("nfhw,ncijhw->fcij", dout, win)
    dwin = _einsum("nfhw,fcij->ncijhw", dout, w)
    return _unpad(_fold(dwin, padded_shape, stride), pad), dw, db


def numpy_pool_forward(x: Array, k: int) -> Array:
    """Max of the k*k strided slices (stride = k): whole-array maximums, no small-axis
    reduction (numpy reduces a (..., 2, 2) view 30x slower)."""
    oh, ow = x.shape[2] // k, x.shape[3] // k
    out = x[:, :, 0:oh * k:k, 0:ow * k:k].copy()
    for i in range(k):
        for j in range(k):
            if i or j:
                np.maximum(out, x[:, :, i:oh * k:k, j:ow * k:k], out=out)
    return out


def numpy_pool_backward(dout: Array, x: Array, out: Array, k: int) -> Array:
    """The gradient goes to each window's maxima; ties share it (as the course's reshape
    version and tinygrad_edu)."""
    oh, ow = out.shape[2:]
    slabs = [(i, j) for i in range(k) for j in range(k)]
    masks = [x[:, :, i:oh * k:k, j:ow * k:k] == out for i, j in slabs]
    count = np.zeros(out.shape, x.dtype)
    for m in masks:
        count += m
    share = dout / count
    dx = np.zeros_like(x)
    for (i, j), m in zip(slabs, masks):
        np.multiply(m, share, out=dx[:, :, i:oh * k:k, j:ow * k:k])
    return dx
