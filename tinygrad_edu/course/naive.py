"""The courses' naive reference layers, written with explicit loops as the courses write
them: `conv_forward_naive`, `conv_backward_naive`, `max_pool_forward_naive`,
`max_pool_backward_naive` (cs231n's `layers.py`). They are plain numpy, independent of the
engine, so a "naive vs fast" exercise compares two different implementations: these loops
against the engine's `conv_forward_fast` / `max_pool_forward_fast` (`course.layers`).

Each forward returns `(out, cache)` with the courses' own cache, a tuple of (copies of) its
arguments: `(x, w, b, conv_param)` and `(x, pool_param)`. Each backward takes that tuple,
the courses' fast versions' caches, or the cache of the engine's forward, so any forward can
be paired with any backward. Conventions as `course.layers` (NCHW, zero padding on all four
sides, floored output size), except one: where a pooling window has tied maxima, the naive
backward hands the whole gradient to the first of them in row-major order (np.argmax), as
an argmax loop does, while the engine's shares it equally; with real-valued data ties do
not happen and the two agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.course._graph import Cache, as_array, course_args, float_dtype
from tinygrad_edu.course._params import conv_args, pool_args
from tinygrad_edu.errors import ShapeError

__all__ = ["conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive",
           "max_pool_backward_naive"]

_CONV = ("x", "w", "b", "conv_param")
_CONV_FORWARDS = "conv_forward_naive or conv_forward"
_POOL_FORWARDS = "max_pool_forward_naive or max_pool_forward"


def _check_dout(op: str, dout: Any, shape: tuple[int, ...]) -> np.ndarray:
    d = as_array(dout, op, "dout")
    if d.shape != shape:
        raise ShapeError(f"{op}: dout has shape {d.shape} but the forward's output has shape "
                         f"{shape}; they must be equal")
    return d


def _from_engine(op: str, cache: Cache, forward: str, param: str) -> list[Any]:
    if cache.op != forward:
        raise ValueError(f"{op}: this cache comes from {cache.op}, not from {forward} or "
                         f"{forward.replace('_forward', '_forward_naive')}")
    return [*cache.inputs.values(), getattr(cache, param)]


def conv_inputs(op: str, cache: Any) -> list[Any]:
    """[x, w, b, conv_param] from the courses' conv cache or the engine's `conv_forward`."""
    if isinstance(cache, Cache):
        return _from_engine(op, cache, "conv_forward", "conv_param")
    return course_args(op, _CONV_FORWARDS, cache, _CONV)


def pool_inputs(op: str, cache: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """(x, pool_param) from a max-pool cache: the courses' naive (x, pool_param), their fast
    version's ('reshape', (x, x_reshaped, out)) or ('im2col', (x, x_cols, x_cols_argmax,
    pool_param)), or the engine's `max_pool_forward` cache."""
    if isinstance(cache, Cache):
        x, pool_param = _from_engine(op, cache, "max_pool_forward", "pool_param")
        return x, pool_param
    if isinstance(cache, tuple | list) and len(cache) == 2 and isinstance(cache[0], str):
        kind, inner = cache
        if kind == "reshape":
            # The courses take this path only for square windows that tile x, stride = size.
            x, _, out = course_args(op, _POOL_FORWARDS, inner, ("x", "x_reshaped", "out"))
            ph, pw = x.shape[2] // max(out.shape[2], 1), x.shape[3] // max(out.shape[3], 1)
            return x, {"pool_height": ph, "pool_width": pw, "stride": ph}
        if kind == "im2col":
            names = ("x", "x_cols", "x_cols_argmax", "pool_param")
            x, _, _, pool_param = course_args(op, _POOL_FORWARDS, inner, names)
            return x, pool_param
    x, pool_param = course_args(op, _POOL_FORWARDS, cache, ("x", "pool_param"))
    return x, pool_param


def _conv_setup(op: str, x: Any, w: Any, b: Any, conv_param: Any
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, tuple[int, ...]]:
    """x padded, w, b in their common float dtype, stride, pad and the output shape."""
    stride, pad = conv_args(op, x, w, b, conv_param)
    arrays = [as_array(v, op, name) for v, name in ((x, "x"), (w, "w"), (b, "b"))]
    dt = float_dtype(*arrays)
    xa, wa, ba = (a.astype(dt) for a in arrays)
    xp = np.pad(xa, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, wd = xa.shape
    f, _, hh, ww = wa.shape
    out_shape = (n, f, 1 + (h + 2 * pad - hh) // stride, 1 + (wd + 2 * pad - ww) // stride)
    return xp, wa, ba, stride, pad, out_shape


def conv_forward_naive(x: Any, w: Any, b: Any, conv_param: dict[str, Any]
                       ) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Cross-correlation of x (N, C, H, W) with w (F, C, HH, WW) plus b (F,), one output
    element at a time: out[n, f, i, j] = b[f] + sum(w[f] * xpad[n, :, i s : i s + HH,
    j s : j s + WW]) with conv_param {'stride': s, 'pad': p}. Returns (out, (x, w, b,
    conv_param))."""
    op = "conv_forward_naive"
    xp, wa, ba, stride, _, out_shape = _conv_setup(op, x, w, b, conv_param)
    hh, ww = wa.shape[2:]
    out = np.zeros(out_shape, dtype=wa.dtype)
    for n, f, i, j in np.ndindex(out_shape):
        window = xp[n, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
        out[n, f, i, j] = np.sum(window * wa[f]) + ba[f]
    cache = (np.array(x, copy=True), np.array(w, copy=True), np.array(b, copy=True),
             dict(conv_param))
    return out, cache


def conv_backward_naive(dout: Any, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db), one output element at a time: each dout[n, f, i, j] adds
    dout * xpad-window to dw[f] and dout * w[f] to the window of dxpad; db[f] sums dout over
    (n, i, j). cache: (x, w, b, conv_param) as `conv_forward_naive` returns it (or the
    engine's `conv_forward` cache)."""
    op = "conv_backward_naive"
    x, w, b, conv_param = conv_inputs(op, cache)
    xp, wa, _, stride, pad, out_shape = _conv_setup(op, x, w, b, conv_param)
    d = _check_dout(op, dout, out_shape)
    hh, ww = wa.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(wa)
    for n, f, i, j in np.ndindex(out_shape):
        rows, cols = slice(i * stride, i * stride + hh), slice(j * stride, j * stride + ww)
        dw[f] += d[n, f, i, j] * xp[n, :, rows, cols]
        dxp[n, :, rows, cols] += d[n, f, i, j] * wa[f]
    h, wd = xp.shape[2] - 2 * pad, xp.shape[3] - 2 * pad
    dx = dxp[:, :, pad:pad + h, pad:pad + wd].copy()
    db = d.sum(axis=(0, 2, 3)).astype(wa.dtype)
    return dx, dw, db


def _pool_setup(op: str, x: Any, pool_param: Any
                ) -> tuple[np.ndarray, int, int, int, tuple[int, ...]]:
    (ph, pw), stride = pool_args(op, np.shape(x), pool_param)
    arr = as_array(x, op, "x")
    xa = arr.astype(float_dtype(arr))
    n, c, h, w = xa.shape
    return xa, ph, pw, stride, (n, c, 1 + (h - ph) // stride, 1 + (w - pw) // stride)


def max_pool_forward_naive(x: Any, pool_param: dict[str, Any]
                           ) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Max over each pool_height x pool_width window of x (N, C, H, W), windows every
    `stride` pixels, one output element at a time. Returns (out, (x, pool_param))."""
    op = "max_pool_forward_naive"
    xa, ph, pw, stride, out_shape = _pool_setup(op, x, pool_param)
    out = np.zeros(out_shape, dtype=xa.dtype)
    for n, c, i, j in np.ndindex(out_shape):
        out[n, c, i, j] = np.max(xa[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw])
    return out, (np.array(x, copy=True), dict(pool_param))


def max_pool_backward_naive(dout: Any, cache: Any) -> np.ndarray:
    """dx: each dout[n, c, i, j] goes to the maximum of its window (the first one in
    row-major order where several tie). cache: (x, pool_param) as `max_pool_forward_naive`
    returns it, the courses' fast caches, or the engine's `max_pool_forward` cache."""
    op = "max_pool_backward_naive"
    x, pool_param = pool_inputs(op, cache)
    xa, ph, pw, stride, out_shape = _pool_setup(op, x, pool_param)
    d = _check_dout(op, dout, out_shape)
    dx = np.zeros_like(xa)
    for n, c, i, j in np.ndindex(out_shape):
        window = xa[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
        k, m = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * stride + k, j * stride + m] += d[n, c, i, j]
    return dx
