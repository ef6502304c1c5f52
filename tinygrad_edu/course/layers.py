"""The courses' layer functions (cs231n's `layers.py`, `layer_utils.py`, `fast_layers.py`),
computed by the engine.

Each `*_forward(...)` returns `(out, cache)` with `out` a numpy array; the matching
`*_backward(dout, cache)` returns numpy gradients, one per array input of the forward, in
argument order, read off the graph the forward recorded (see `Cache`). The losses return
`(loss, dx)`. A student can drop these in for their own, or check theirs against them:

    out, cache = affine_forward(x, w, b)            # x (N, d1, ..., dk), w (D, M), b (M,)
    dx, dw, db = affine_backward(dout, cache)

Conventions, the courses' throughout: arrays are NCHW; weights of an affine layer are
(D, M) (inputs times outputs, the transpose of PyTorch's); relu'(0) = 0; the SVM loss sums
its margins over classes (a margin of exactly 0 passes no gradient); both losses average
over N. Max pooling hands a window's gradient to its maximum, tied maxima sharing it
equally (as the courses' fast version; their naive loops give each tie all of it — with
real-valued inputs ties do not happen). Convolution and pooling floor the output size where
the window does not tile the padded input, as PyTorch (the courses' fast versions assert).
Inputs are computed in their own float dtype (float64 in the courses; integers become
float64). Normalization and dropout are in `course.normalization` and re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import functional as TF
from tinygrad_edu.course._graph import (
    Cache,
    ParamError,
    as_array,
    backprop,
    param_dict,
    record,
    require,
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


def affine_backward(dout: Any, cache: Cache) -> Grads:
    """(dx, dw, db) for `affine_forward`'s cache; dx has x's shape (N, d1, ..., dk)."""
    return backprop("affine_backward", "affine_forward", dout, cache)


def relu_forward(x: Any) -> tuple[np.ndarray, Cache]:
    """out = max(x, 0) elementwise. Backward: dx = dout * (x > 0), so relu'(0) = 0."""
    return record("relu_forward", lambda x: x.relu(), {"x": x})


def relu_backward(dout: Any, cache: Cache) -> np.ndarray:
    """dx for `relu_forward`'s cache."""
    return backprop("relu_backward", "relu_forward", dout, cache)[0]


def affine_relu_forward(x: Any, w: Any, b: Any) -> tuple[np.ndarray, Cache]:
    """relu(affine(x, w, b)), recorded as one graph (cs231n's layer_utils)."""
    _check_affine("affine_relu_forward", x, w, b)
    return record("affine_relu_forward", lambda x, w, b: _affine(x, w, b).relu(),
                  {"x": x, "w": w, "b": b})


def affine_relu_backward(dout: Any, cache: Cache) -> Grads:
    """(dx, dw, db) for `affine_relu_forward`'s cache."""
    return backprop("affine_relu_backward", "affine_relu_forward", dout, cache)


# ----------------------------------------------------------------------------- conv / pool


def _nonneg_int(value: Any, op: str, what: str, minimum: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
        kind = "a positive" if minimum else "a non-negative"
        raise ParamError(f"{op}: {what} must be {kind} int, got {value!r}")
    return int(value)


def _conv_args(op: str, x: Any, w: Any, b: Any, conv_param: Any) -> tuple[int, int]:
    stride, pad = require(param_dict(conv_param, op, "conv_param"), ("stride", "pad"), op,
                          "conv_param")
    stride = _nonneg_int(stride, op, "conv_param['stride']", 1)
    pad = _nonneg_int(pad, op, "conv_param['pad']", 0)
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


def conv_forward(x: Any, w: Any, b: Any, conv_param: dict[str, Any]
                 ) -> tuple[np.ndarray, Cache]:
    """Cross-correlation of x (N, C, H, W) with F filters w (F, C, HH, WW) plus b (F,),
    with conv_param {'stride': s, 'pad': p} (zero padding on all four sides):

        out[n, f, i, j] = b[f] + sum_{c, k, l} w[f, c, k, l] xpad[n, c, i s + k, j s + l]

    out is (N, F, H', W'), H' = 1 + (H + 2p - HH) // s (likewise W').
    Backward: (dx, dw, db)."""
    stride, pad = _conv_args("conv_forward", x, w, b, conv_param)
    return record("conv_forward", lambda x, w, b: conv2d(x, w, b, stride=stride, padding=pad),
                  {"x": x, "w": w, "b": b})


def conv_backward(dout: Any, cache: Cache) -> Grads:
    """(dx, dw, db) for `conv_forward`'s cache."""
    return backprop("conv_backward", "conv_forward", dout, cache)


def _pool_args(op: str, xs: tuple[int, ...], pool_param: Any) -> tuple[tuple[int, int], int]:
    keys = ("pool_height", "pool_width", "stride")
    ph, pw, stride = require(param_dict(pool_param, op, "pool_param"), keys, op, "pool_param")
    ph, pw = (_nonneg_int(v, op, f"pool_param[{k!r}]", 1) for v, k in zip((ph, pw), keys))
    stride = _nonneg_int(stride, op, "pool_param['stride']", 1)
    if len(xs) != 4:
        raise ShapeError(f"{op}: x must be (N, C, H, W), got shape {xs}")
    if xs[2] < ph or xs[3] < pw:
        raise ShapeError(f"{op}: the {ph}x{pw} pooling window is larger than the input "
                         f"{xs[2]}x{xs[3]} (x {xs})")
    return (ph, pw), stride


def max_pool_forward(x: Any, pool_param: dict[str, Any]) -> tuple[np.ndarray, Cache]:
    """Max over pool_height x pool_width windows of x (N, C, H, W) taken every `stride`
    pixels (pool_param keys pool_height, pool_width, stride); out (N, C, H', W') with
    H' = 1 + (H - pool_height) // stride. Backward: dx (to each window's maximum)."""
    kernel, stride = _pool_args("max_pool_forward", np.shape(x), pool_param)
    return record("max_pool_forward", lambda x: max_pool2d(x, kernel, stride), {"x": x})


def max_pool_backward(dout: Any, cache: Cache) -> np.ndarray:
    """dx for `max_pool_forward`'s cache."""
    return backprop("max_pool_backward", "max_pool_forward", dout, cache)[0]


def conv_relu_forward(x: Any, w: Any, b: Any, conv_param: dict[str, Any]
                      ) -> tuple[np.ndarray, Cache]:
    """relu(conv(x, w, b)) as one graph (cs231n's layer_utils)."""
    stride, pad = _conv_args("conv_relu_forward", x, w, b, conv_param)
    return record("conv_relu_forward",
                  lambda x, w, b: conv2d(x, w, b, stride=stride, padding=pad).relu(),
                  {"x": x, "w": w, "b": b})


def conv_relu_backward(dout: Any, cache: Cache) -> Grads:
    """(dx, dw, db) for `conv_relu_forward`'s cache."""
    return backprop("conv_relu_backward", "conv_relu_forward", dout, cache)


def conv_relu_pool_forward(x: Any, w: Any, b: Any, conv_param: dict[str, Any],
                           pool_param: dict[str, Any]) -> tuple[np.ndarray, Cache]:
    """max_pool(relu(conv(x, w, b))) as one graph (cs231n's layer_utils)."""
    op = "conv_relu_pool_forward"
    stride, pad = _conv_args(op, x, w, b, conv_param)
    xs, ws = np.shape(x), np.shape(w)
    conv_shape = (xs[0], ws[0], 1 + (xs[2] + 2 * pad - ws[2]) // stride,
                  1 + (xs[3] + 2 * pad - ws[3]) // stride)
    kernel, pool_stride = _pool_args(op, conv_shape, pool_param)

    def fn(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return max_pool2d(conv2d(x, w, b, stride=stride, padding=pad).relu(), kernel,
                          pool_stride)

    return record(op, fn, {"x": x, "w": w, "b": b})


def conv_relu_pool_backward(dout: Any, cache: Cache) -> Grads:
    """(dx, dw, db) for `conv_relu_pool_forward`'s cache."""
    return backprop("conv_relu_pool_backward", "conv_relu_pool_forward", dout, cache)


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


# The courses' other names for the same layers: students call their naive loops and the
# provided fast versions by these names, so either can be replaced by ours.
conv_forward_naive = conv_forward_fast = conv_forward
conv_backward_naive = conv_backward_fast = conv_backward
max_pool_forward_naive = max_pool_forward_fast = max_pool_forward
max_pool_backward_naive = max_pool_backward_fast = max_pool_backward
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
