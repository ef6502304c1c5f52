"""Checks of the courses' parameter dicts and shapes for convolution and pooling, shared by
the engine's layers (`course.layers`) and the naive loops (`course.naive`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.course._graph import ParamError, param_dict, require
from tinygrad_edu.errors import ShapeError


def nonneg_int(value: Any, op: str, what: str, minimum: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
        kind = "a positive" if minimum else "a non-negative"
        raise ParamError(f"{op}: {what} must be {kind} int, got {value!r}")
    return int(value)


def conv_args(op: str, x: Any, w: Any, b: Any, conv_param: Any) -> tuple[int, int]:
    """(stride, pad) from conv_param, after checking x (N, C, H, W), w (F, C, HH, WW), b (F,)."""
    stride, pad = require(param_dict(conv_param, op, "conv_param"), ("stride", "pad"), op,
                          "conv_param")
    stride = nonneg_int(stride, op, "conv_param['stride']", 1)
    pad = nonneg_int(pad, op, "conv_param['pad']", 0)
    xs, ws, bs = np.shape(x), np.shape(w), np.shape(b)
    if len(xs) != 4 or len(ws) != 4:
        raise ShapeError(f"{op}: x must be (N, C, H, W) and w (F, C, HH, WW), got shapes {xs} "
                         f"and {ws}")
    if xs[1] != ws[1]:
        raise ShapeError(f"{op}: x {xs} has C = {xs[1]} channels but w {ws} expects {ws[1]}; "
                         f"w must be (F, {xs[1]}, HH, WW)")
    if bs != (ws[0],):
        raise ShapeError(f"{op}: b must have shape ({ws[0]},) for w of shape {ws}, got {bs}")
    if xs[2] + 2 * pad < ws[2] or xs[3] + 2 * pad < ws[3]:
        raise ShapeError(f"{op}: the {ws[2]}x{ws[3]} filter is larger than the padded input "
                         f"{xs[2] + 2 * pad}x{xs[3] + 2 * pad} (x {xs}, w {ws}, pad {pad})")
    return stride, pad


def pool_args(op: str, xs: tuple[int, ...], pool_param: Any) -> tuple[tuple[int, int], int]:
    """((pool_height, pool_width), stride) from pool_param, for x of shape xs (N, C, H, W)."""
    keys = ("pool_height", "pool_width", "stride")
    ph, pw, stride = require(param_dict(pool_param, op, "pool_param"), keys, op, "pool_param")
    ph, pw = (nonneg_int(v, op, f"pool_param[{k!r}]", 1) for v, k in zip((ph, pw), keys))
    stride = nonneg_int(stride, op, "pool_param['stride']", 1)
    if len(xs) != 4:
        raise ShapeError(f"{op}: x must be (N, C, H, W), got shape {xs}")
    if xs[2] < ph or xs[3] < pw:
        raise ShapeError(f"{op}: the {ph}x{pw} pooling window is larger than the input "
                         f"{xs[2]}x{xs[3]} (x {xs})")
    return (ph, pw), stride
