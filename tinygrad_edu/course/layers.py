"""The courses' layer functions (cs231n's `layers.py`, `layer_utils.py`, `fast_layers.py`),
computed by the engine.

Each `*_forward(...)` returns `(out, cache)` with `out` a numpy array; the matching
`*_backward(dout, cache)` returns numpy gradients, one per array input of the forward, in
argument order, read off the graph the forward recorded (see `Cache`). The losses return
`(loss, dx)`. A student can drop these in for their own, or check theirs against them:

    out, cache = affine_forward(x, w, b)            # x (N, d1, ..., dk), w (D, M), b (M,)
    dx, dw, db = affine_backward(dout, cache)

A backward also takes the cache the courses' own forward builds by hand, and then runs our
forward again on the arguments it holds: `affine_backward(dout, (x, w, b))`,
`relu_backward(dout, x)`, `conv_backward(dout, (x, w, b, conv_param))` (their fast version's
`(x, w, b, conv_param, x_cols)` too), `max_pool_backward(dout, (x, pool_param))` (and their
fast version's `('reshape', ...)` / `('im2col', ...)` caches), layer_utils' nested caches
(`((x, w, b), relu_cache)`, `(conv_cache, relu_cache, pool_cache)`), and for the
normalizations and dropout the caches `course.normalization` lists. So a student's forward
can be checked against our backward. The `*_fast` names are the engine's layers; the
`*_naive` ones are loops written out in `course.naive`.

Conventions, the courses' throughout: arrays are NCHW; weights of an affine layer are
(D, M) (inputs times outputs, the transpose of PyTorch's); relu'(0) = 0; the SVM loss sums
its margins over classes (a margin of exactly 0 passes no gradient); both losses average
over N. Max pooling hands a window's gradient to its maximum, tied maxima sharing it
equally (as the courses' fast version; the naive loops give it all to the first maximum —
with real-valued inputs ties do not happen). Convolution and pooling floor the output size where
the window does not tile the padded input, as PyTorch (the courses' fast versions assert).
Inputs are computed in their own float dtype (float64 in the courses; integers become
float64). Normalization and dropout are in `course.normalization` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu import functional as TF
from tinygrad_edu.course._graph import (
    Cache,
    as_array,
    backprop,
    course_args,
    describe,
    record,
)
from tinygrad_edu.course._params import conv_args, pool_args
from tinygrad_edu.course.naive import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
    pool_inputs,
)
from tinygrad_edu.course.normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import losses
from tinygrad_edu.nn.functional import conv2d, max_pool2d
from tinygrad_edu.tensor import Tensor

Grads = tuple[np.ndarray, ...]

# ----------------------------------------------------------------------------- affine / relu


def _check_affine(op: str, x: Any, w: Any, b: Any) -> None:
    xs, ws, bs = np.shape(x), np.shape(w), np.shape(b)
    if len(xs) < 2:
        raise ShapeError(f"{op}: x must be (N, d1, ..., dk) with one row per example, got "
                         f"shape {xs}")
    d = int(np.prod(xs[1:]))
    if len(ws) != 2 or ws[0] != d:
        raise ShapeError(f"{op}: x of shape {xs} has D = {d} features per example, so w must "
                         f"be ({d}, M); got w of shape {ws}")
    if bs != (ws[1],):
        raise ShapeError(f"{op}: b must have shape ({ws[1]},) for w of shape {ws}, got {bs}")


def _affine(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    # The fused Linear primitive wants PyTorch's (out, in) weight: w.T is a free view.
    return TF.linear(x.reshape(x.shape[0], -1), w.T, b)


def affine_forward(x: Any, w: Any, b: Any) -> tuple[np.ndarray, Cache]:
    """out = x.reshape(N, D) @ w + b for x (N, d1, ..., dk), D = d1 ... dk, w (D, M),
    b (M,); out is (N, M). Backward: dx = dout w^T (reshaped like x), dw = x^T dout,
    db = sum_n dout."""
    _check_affine("affine_forward", x, w, b)
    return record("affine_forward", _affine, {"x": x, "w": w, "b": b})


def _ours(cache: Any, rebuild: Callable[[Any], Cache]) -> Any:
    """Our cache as it is; a course's cache turned into ours by running our forward again on
    the arguments it holds, so the backward differentiates the same function."""
    return cache if isinstance(cache, Cache) else rebuild(cache)


def _parts(op: str, forward: str, cache: Any, shown: str, n: int) -> tuple[Any, ...]:
    """The n sub-caches of a course's composite cache (layer_utils nests them in a tuple)."""
    if isinstance(cache, tuple | list) and len(cache) == n:
        return tuple(cache)
    raise TypeError(f"{op}: cache must be the cache returned by {forward} (ours) or the "
                    f"courses' {shown}; got {describe(cache)}")


def _affine_cache(op: str, forward: str, cache: Any) -> list[Any]:
    return course_args(op, forward, cache, ("x", "w", "b"))


def affine_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dw, db) for `affine_forward`'s cache, or the courses' (x, w, b); dx has x's shape
    (N, d1, ..., dk)."""
    op = "affine_backward"
    cache = _ours(cache, lambda c: affine_forward(*_affine_cache(op, "affine_forward", c))[1])
    return backprop(op, "affine_forward", dout, cache)


def relu_forward(x: Any) -> tuple[np.ndarray, Cache]:
    """out = max(x, 0) elementwise. Backward: dx = dout * (x > 0), so relu'(0) = 0."""
    return record("relu_forward", lambda x: x.relu(), {"x": x})


def _relu_input(op: str, forward: str, cache: Any) -> np.ndarray:
    if not isinstance(cache, np.ndarray):
        raise TypeError(f"{op}: cache must be the cache returned by {forward} (ours) or the "
                        f"courses' x (the layer's input array); got {describe(cache)}")
    return cache


def relu_backward(dout: Any, cache: Any) -> np.ndarray:
    """dx for `relu_forward`'s cache, or for the courses' cache x (the input)."""
    op = "relu_backward"
    cache = _ours(cache, lambda c: relu_forward(_relu_input(op, "relu_forward", c))[1])
    return backprop(op, "relu_forward", dout, cache)[0]


def affine_relu_forward(x: Any, w: Any, b: Any) -> tuple[np.ndarray, Cache]:
    """relu(affine(x, w, b)), recorded as one graph (cs231n's layer_utils)."""
    _check_affine("affine_relu_forward", x, w, b)
    return record("affine_relu_forward", lambda x, w, b: _affine(x, w, b).relu(),
                  {"x": x, "w": w, "b": b})


def affine_relu_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dw, db) for `affine_relu_forward`'s cache, or layer_utils' (fc_cache,
    relu_cache) with fc_cache = (x, w, b)."""
    op, fwd = "affine_relu_backward", "affine_relu_forward"

    def rebuild(c: Any) -> Cache:
        fc_cache, _ = _parts(op, fwd, c, "(fc_cache, relu_cache)", 2)
        return affine_relu_forward(*_affine_cache(op, fwd, fc_cache))[1]

    return backprop(op, fwd, dout, _ours(cache, rebuild))


# ----------------------------------------------------------------------------- conv / pool


def conv_forward(x: Any, w: Any, b: Any, conv_param: dict[str, Any]
                 ) -> tuple[np.ndarray, Cache]:
    """Cross-correlation of x (N, C, H, W) with F filters w (F, C, HH, WW) plus b (F,),
    with conv_param {'stride': s, 'pad': p} (zero padding on all four sides):

        out[n, f, i, j] = b[f] + sum_{c, k, l} w[f, c, k, l] xpad[n, c, i s + k, j s + l]

    out is (N, F, H', W'), H' = 1 + (H + 2p - HH) // s (likewise W').
    Backward: (dx, dw, db)."""
    stride, pad = conv_args("conv_forward", x, w, b, conv_param)
    return record("conv_forward", lambda x, w, b: conv2d(x, w, b, stride=stride, padding=pad),
                  {"x": x, "w": w, "b": b}, extras={"conv_param": dict(conv_param)})


_CONV = ("x", "w", "b", "conv_param")


def conv_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dw, db) for `conv_forward`'s cache, or the courses' (x, w, b, conv_param) (their
    naive forward's; their fast forward appends x_cols)."""
    op = "conv_backward"
    cache = _ours(cache, lambda c: conv_forward(*course_args(op, "conv_forward", c, _CONV))[1])
    return backprop(op, "conv_forward", dout, cache)


def max_pool_forward(x: Any, pool_param: dict[str, Any]) -> tuple[np.ndarray, Cache]:
    """Max over pool_height x pool_width windows of x (N, C, H, W) taken every `stride`
    pixels (pool_param keys pool_height, pool_width, stride); out (N, C, H', W') with
    H' = 1 + (H - pool_height) // stride. Backward: dx (to each window's maximum)."""
    kernel, stride = pool_args("max_pool_forward", np.shape(x), pool_param)
    return record("max_pool_forward", lambda x: max_pool2d(x, kernel, stride), {"x": x},
                  extras={"pool_param": dict(pool_param)})


def max_pool_backward(dout: Any, cache: Any) -> np.ndarray:
    """dx for `max_pool_forward`'s cache, or the courses' (x, pool_param) (their fast
    version's ('reshape', (x, x_reshaped, out)) and ('im2col', (x, x_cols, x_cols_argmax,
    pool_param)) too)."""
    op = "max_pool_backward"
    cache = _ours(cache, lambda c: max_pool_forward(*pool_inputs(op, c))[1])
    return backprop(op, "max_pool_forward", dout, cache)[0]


def conv_relu_forward(x: Any, w: Any, b: Any, conv_param: dict[str, Any]
                      ) -> tuple[np.ndarray, Cache]:
    """relu(conv(x, w, b)) as one graph (cs231n's layer_utils)."""
    stride, pad = conv_args("conv_relu_forward", x, w, b, conv_param)
    return record("conv_relu_forward",
                  lambda x, w, b: conv2d(x, w, b, stride=stride, padding=pad).relu(),
                  {"x": x, "w": w, "b": b})


def conv_relu_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dw, db) for `conv_relu_forward`'s cache, or layer_utils' (conv_cache,
    relu_cache)."""
    op, fwd = "conv_relu_backward", "conv_relu_forward"

    def rebuild(c: Any) -> Cache:
        conv_cache, _ = _parts(op, fwd, c, "(conv_cache, relu_cache)", 2)
        return conv_relu_forward(*course_args(op, fwd, conv_cache, _CONV))[1]

    return backprop(op, fwd, dout, _ours(cache, rebuild))


def conv_relu_pool_forward(x: Any, w: Any, b: Any, conv_param: dict[str, Any],
                           pool_param: dict[str, Any]) -> tuple[np.ndarray, Cache]:
    """max_pool(relu(conv(x, w, b))) as one graph (cs231n's layer_utils)."""
    op = "conv_relu_pool_forward"
    stride, pad = conv_args(op, x, w, b, conv_param)
    xs, ws = np.shape(x), np.shape(w)
    conv_shape = (xs[0], ws[0], 1 + (xs[2] + 2 * pad - ws[2]) // stride,
                  1 + (xs[3] + 2 * pad - ws[3]) // stride)
    kernel, pool_stride = pool_args(op, conv_shape, pool_param)

    def fn(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return max_pool2d(conv2d(x, w, b, stride=stride, padding=pad).relu(), kernel,
                          pool_stride)

    return record(op, fn, {"x": x, "w": w, "b": b})


def conv_relu_pool_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dw, db) for `conv_relu_pool_forward`'s cache, or layer_utils' (conv_cache,
    relu_cache, pool_cache)."""
    op, fwd = "conv_relu_pool_backward", "conv_relu_pool_forward"

    def rebuild(c: Any) -> Cache:
        conv_cache, _, pool_cache = _parts(op, fwd, c, "(conv_cache, relu_cache, pool_cache)",
                                           3)
        pool_param = pool_inputs(op, pool_cache)[1]
        x, w, b, conv_param = course_args(op, fwd, conv_cache, _CONV)
        return conv_relu_pool_forward(x, w, b, conv_param, pool_param)[1]

    return backprop(op, fwd, dout, _ours(cache, rebuild))


# ----------------------------------------------------------------------------- losses


def labels_for(op: str, scores_shape: tuple[int, ...], y: Any) -> np.ndarray:
    """y checked as integer class labels for scores of shape (N, C)."""
    labels = as_array(y, op, "y")
    n, c = scores_shape
    if labels.shape != (n,):
        raise ShapeError(f"{op}: y must be labels of shape ({n},) for scores of shape "
                         f"{scores_shape}, got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: y must hold integer class labels, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise ValueError(f"{op}: labels must be in [0, {c}) for scores of shape "
                         f"{scores_shape}; got values from {labels.min()} to {labels.max()}")
    return labels


def _loss_args(op: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    scores = as_array(x, op, "x")
    if scores.ndim != 2:
        raise ShapeError(f"{op}: x must be scores of shape (N, C), got shape {scores.shape}")
    return scores, labels_for(op, scores.shape, y)


def _loss(op: str, fn: Any, x: Any, y: Any) -> tuple[float, np.ndarray]:
    scores, labels = _loss_args(op, x, y)
    value, cache = record(op, lambda x: fn(x, labels), {"x": scores})
    (dx,) = backprop(op, op, np.ones((), dtype=value.dtype), cache)
    return float(value), dx


def softmax_loss(x: Any, y: Any) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy averaged over the N rows of x (N, C), labels y (N,) in
    [0, C): loss = -1/N sum_n log softmax(x_n)_{y_n}; dx = (softmax(x) - onehot(y)) / N."""
    return _loss("softmax_loss", losses.cross_entropy, x, y)


def svm_loss(x: Any, y: Any) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss averaged over N: loss = 1/N sum_n sum_{j != y_n}
    max(0, x_nj - x_{n,y_n} + 1). dx_nj = 1/N where the margin is positive (> 0), and
    dx_{n,y_n} = -(their count)/N."""
    return _loss("svm_loss", losses.svm_loss, x, y)


# The courses' fast layers (fast_layers.py) are these engine layers; their naive loops are
# written out in `course.naive`, so "naive vs fast" compares two different implementations.
conv_forward_fast = conv_forward
conv_backward_fast = conv_backward
max_pool_forward_fast = max_pool_forward
max_pool_backward_fast = max_pool_backward
spatial_batchnorm_backward_alt = spatial_batchnorm_backward

__all__ = [
    "Cache", "affine_forward", "affine_backward", "relu_forward", "relu_backward",
    "affine_relu_forward", "affine_relu_backward", "conv_forward", "conv_backward",
    "max_pool_forward", "max_pool_backward", "conv_relu_forward", "conv_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward", "softmax_loss", "svm_loss",
    "conv_forward_naive", "conv_forward_fast", "conv_backward_naive", "conv_backward_fast",
    "max_pool_forward_naive", "max_pool_forward_fast", "max_pool_backward_naive",
    "max_pool_backward_fast", "batchnorm_forward", "batchnorm_backward",
    "batchnorm_backward_alt", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_batchnorm_backward_alt", "layernorm_forward", "layernorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward", "dropout_forward",
    "dropout_backward",
]
