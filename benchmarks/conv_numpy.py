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


def im2col_backward(dout: Array, cache: tuple[Any, ...], need_dx: bool = True
                    ) -> tuple[Array | None, Array, Array]:
    cols, w, padded_shape, stride, pad = cache
    n, f = dout.shape[:2]
    d = dout.reshape(n, f, -1)
    db = d.sum(axis=(0, 2))
    dw = np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    if not need_dx:  # a first layer: its input is the data
        return None, dw, db
    dcols = np.matmul(w.reshape(f, -1).T, d)
    dwin = dcols.reshape((n, w.shape[1]) + w.shape[2:] + dout.shape[2:])
    return _unpad(_fold(dwin, padded_shape, stride), pad), dw, db


def tuned_forward(x: Array, w: Array, b: Array, stride: int, pad: int
                  ) -> tuple[Array, tuple[Any, ...]]:
    """im2col + matmul with the bias as a last column of W against a row of ones in cols
    (no pass over the output to add it; db comes out of the dW product)."""
    f, c, kh, kw = w.shape
    win = _windows(_padded(x, pad), kh, kw, stride)
    n, oh, ow = x.shape[0], win.shape[4], win.shape[5]
    k = c * kh * kw
    cols = np.empty((n, k + 1, oh * ow), x.dtype)
    np.copyto(cols[:, :k].reshape(win.shape), win)
    cols[:, k] = 1
    out = np.matmul(np.concatenate([w.reshape(f, k), b[:, None]], axis=1), cols)
    return out.reshape(n, f, oh, ow), (cols, w, x.shape, stride, pad)


def tuned_backward(dout: Array, cache: tuple[Any, ...], need_dx: bool = True
                   ) -> tuple[Array | None, Array, Array]:
    """dW and db from one product; for stride 1 with output rows as long as the input's
    (3x3 pad 1), dx is summed from one contiguous shifted slab per kernel tap (the column
    gradients sit between zero guard bands; entries that would wrap into the next row are
    zeroed), which avoids numpy's temporary copy when adding into strided slices."""
    cols, w, x_shape, stride, pad = cache
    n, f, oh, ow = dout.shape
    _, c, kh, kw = w.shape
    k = c * kh * kw
    d = dout.reshape(n, f, -1)
    dwb = np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0)
    dw, db = np.ascontiguousarray(dwb[:, :k]).reshape(w.shape), dwb[:, k]
    if not need_dx:
        return None, dw, db
    h, width = x_shape[2:]
    if stride != 1 or ow != width:  # the flat shifts need rows of equal length
        dwin = np.matmul(w.reshape(f, k).T, d).reshape((n, c, kh, kw, oh, ow))
        padded = (n, c, h + 2 * pad, width + 2 * pad)
        return _unpad(_fold(dwin, padded, stride), pad), dw, db
    shifts = [(i - pad) * width + (j - pad) for i in range(kh) for j in range(kw)]
    length_in, length_out = h * width, oh * ow
    before, after = max(0, max(shifts)), max(0, length_in - min(shifts) - length_out)
    buf = np.empty((n, k, before + length_out + after), dout.dtype)
    buf[..., :before] = 0
    buf[..., before + length_out:] = 0
    dcols = buf[..., before:before + length_out]
    np.matmul(w.reshape(f, k).T, d, out=dcols)
    grid = dcols.reshape(n, c, kh, kw, oh, ow)
    for j in range(kw):
        if j < pad:
            grid[:, :, :, j, :, :pad - j] = 0
        elif j > pad:
            grid[:, :, :, j, :, ow - (j - pad):] = 0
    taps = buf.reshape(n, c, kh * kw, -1)
    dx = taps[:, :, 0, before - shifts[0]:before - shifts[0] + length_in].copy()
    for t in range(1, kh * kw):
        np.add(dx, taps[:, :, t, before - shifts[t]:before - shifts[t] + length_in], out=dx)
    return dx.reshape(x_shape), dw, db


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
