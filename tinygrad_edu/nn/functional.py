"""Stateless layer maths, as `torch.nn.functional` (import it as `F`).

Everything here is a composite of Tensor ops (so every gradient, including second order,
comes from the primitives), except `gelu`'s exact form, which uses the `Erf` primitive.
Convolution and pooling come from `nn._conv` and `nn._pool`, the losses from `nn.loss_functions`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import linear as _linear
from tinygrad_edu.functional import where
from tinygrad_edu.modes import _state, value_check
from tinygrad_edu.nn._pad import pad
from tinygrad_edu.nn._piecewise import _kink, _overwrite, _t, elu, hardtanh, softmax_dim
from tinygrad_edu.nn._special import Erf
from tinygrad_edu.ops.constants import DropoutMask
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor

# ----------------------------------------------------------------------------- affine


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = x @ W^T + b with PyTorch's layout: W is (out_features, in_features), b is
    (out_features,); x is (..., in_features). A fused primitive with the composite's values
    and gradients (see `ops.linalg.Linear`)."""
    return _linear(input, weight, bias)


# ----------------------------------------------------------------------------- activations


def relu(input: Any, inplace: bool = False) -> Tensor:
    """max(x, 0); relu'(0) = 0 (PyTorch and the courses' `dout * (x > 0)`). With
    `inplace=True`, `input.relu_()`: the result is written into input's array (see
    `Tensor.relu_` for when that is allowed in a graph)."""
    return _t(input).relu_() if inplace else _t(input).relu()


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x; the slope at 0 is `negative_slope`. With
    `inplace=True` the result is written into input, which is returned (see `_overwrite`)."""
    if inplace:
        return _overwrite(_t(input), "leaky_relu", lambda x: x.leaky_relu(negative_slope))
    return _t(input).leaky_relu(negative_slope)


def sigmoid(input: Any) -> Tensor:
    return _t(input).sigmoid()


def tanh(input: Any) -> Tensor:
    return _t(input).tanh()


def silu(input: Any, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (`inplace=True`: written into input, see `leaky_relu`)."""
    if inplace:
        return _overwrite(_t(input), "silu", lambda x: x.silu())
    return _t(input).silu()


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF: exact (`approximate='none'`, PyTorch's
    default, through erf) or its tanh approximation (`approximate='tanh'`)."""
    x = _t(input)
    if approximate == "tanh":
        return x.gelu()
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1.0 + Erf.apply(x * (1.0 / np.sqrt(2.0))))


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, computed stably; x itself where beta * x > threshold
    (as PyTorch, so the value is exactly linear there)."""
    x = _t(input)
    z = x * beta if beta != 1 else x
    # PyTorch's kinks at beta * x == threshold: the value and first derivative are the soft
    # branch's, but the second derivative is 0 (its double backward tests < threshold).
    s, d, k = _kink(z, held(equals, z, value=threshold))  # held masks: recomputed per call
    soft = s.softplus() + d * k.sigmoid()
    soft = soft * (1.0 / beta) if beta != 1 else soft
    return where(held(above_threshold, x, beta=beta, threshold=threshold), x, soft)


def equals(a: np.ndarray, value: float) -> np.ndarray:
    return a == value


def above_threshold(a: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """softplus's linear region, beta * x > threshold (held)."""
    return a * beta > threshold


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim` (max-shifted, so any logits are safe)."""
    x = _t(input) if dtype is None else _t(input).to(dtype)
    return x.softmax(softmax_dim(dim, x.ndim))


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along `dim` (same default as softmax)."""
    x = _t(input) if dtype is None else _t(input).to(dtype)
    return x.log_softmax(softmax_dim(dim, x.ndim))


# ----------------------------------------------------------------------------- regularizers


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator: Any = None) -> Tensor:
    """Inverted dropout: in training each element is zeroed with probability p and the
    survivors are scaled by 1/(1-p), so the expectation is unchanged and evaluation is the
    identity. The mask comes from `generator` (numpy Generator, tinygrad_edu.Generator or
    an int seed, which gives the same mask on every call), else the default generator.
    `inplace=True` in training writes the result into input (see `leaky_relu`); in
    evaluation, or with p = 0, input itself is returned either way (as PyTorch)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = _t(input)
    if not training or p == 0.0:
        return x
    if inplace:
        return _overwrite(x, "dropout", lambda x: dropout(x, p, training, generator=generator))
    if p == 1.0:
        return x * 0.0
    # the mask is a primitive (no gradient), so compiled code draws a fresh one per call
    return x * DropoutMask.apply(shape=x.shape, dtype=x.array.dtype, p=p, generator=generator)


def _stat_axes(x: Tensor, op: str) -> tuple[int, ...]:
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected input of shape (N, C) or (N, C, ...), got {x.shape}")
    return (0, *range(2, x.ndim))


def batch_norm(input: Any, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Any = None, bias: Any = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (axis 1) of (N, C) or (N, C, ...) input, as PyTorch.

    Training: the batch mean and *biased* variance normalize the input; the running
    statistics (if given) are updated in place, `r = (1 - momentum) r + momentum s`, with
    the *unbiased* batch variance for `running_var`. Evaluation: the running statistics
    normalize. Then y = xhat * weight + bias, per channel.
    """
    x = _t(input)
    axes = _stat_axes(x, "batch_norm")
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    _check_channel_vectors("batch_norm", x, running_mean=running_mean,
                           running_var=running_var, weight=weight, bias=bias)
    if training:
        count = x.numel() // x.shape[1]
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            with no_grad():  # held: compile replays the update on every call
                running_mean.copy_(held(running_average, running_mean, mean,
                                        momentum=momentum))
                running_var.copy_(held(running_average, running_var, var, momentum=momentum,
                                       scale=count / (count - 1)))
        xhat = centered * (var + eps).rsqrt()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when "
                             "training=False")
        # tensor ops on the buffers themselves (no numpy copies): compile reads them by
        # reference, so a compiled call sees the statistics as they are now
        inv_std = (1.0 / (running_var.detach().reshape(shape) + eps).sqrt()).to(x.dtype)
        xhat = (x - running_mean.detach().reshape(shape).to(x.dtype)) * inv_std
    if weight is not None:
        xhat = xhat * _t(weight).reshape(shape)
    if bias is not None:
        xhat = xhat + _t(bias).reshape(shape)
    return xhat


def running_average(running: np.ndarray, batch: np.ndarray, momentum: float,
                    scale: float = 1.0) -> np.ndarray:
    """(1 - momentum) running + momentum scale batch, the batch statistic flattened
    (scale: the unbiased variance's count / (count - 1))."""
    return running * (1 - momentum) + (batch.reshape(-1) * scale) * momentum


def _check_channel_vectors(op: str, x: Tensor, **vectors: Any) -> None:
    """Each given vector (running statistics, weight, bias) has one entry per channel of x:
    shape (C,), as PyTorch requires (a (C, 1) or a longer vector would broadcast wrongly or
    fail inside numpy)."""
    expected = (x.shape[1],)
    for name, v in vectors.items():
        if v is not None and np.shape(v.array if isinstance(v, Tensor) else v) != expected:
            got = np.shape(v.array if isinstance(v, Tensor) else v)
            raise ShapeError(f"{op}: {name} has shape {got}, expected {expected} (one entry "
                             f"per channel) for input of shape {x.shape}")


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims with the biased variance, then
    y = xhat * weight + bias (elementwise over normalized_shape)."""
    x = _t(input)
    norm_shape = ((int(normalized_shape),) if isinstance(normalized_shape, int | np.integer)
                  else tuple(int(n) for n in normalized_shape))
    k = len(norm_shape)
    if k == 0 or x.shape[x.ndim - k:] != norm_shape:
        raise ShapeError(f"layer_norm: normalized_shape {norm_shape} must be the trailing "
                         f"dims of the input, got input of shape {x.shape}")
    for name, v in (("weight", weight), ("bias", bias)):
        got = None if v is None else np.shape(v.array if isinstance(v, Tensor) else v)
        if got is not None and got != norm_shape:
            raise ShapeError(f"layer_norm: {name} has shape {got}, expected normalized_shape "
                             f"{norm_shape} (input shape {x.shape})")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ----------------------------------------------------------------------------- shapes


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 one-hot codes: shape (*tensor.shape, num_classes) (the largest label + 1 when
    num_classes is -1)."""
    t = _t(tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class labels, got {t.dtype}")
    labels = t.array
    if num_classes == -1 and _state.trace is not None:  # the largest label sets the shape
        _state.trace.read_value(t, "one_hot(num_classes=-1)")
    n = int(labels.max()) + 1 if num_classes == -1 and labels.size else num_classes
    value_check(check_one_hot_range, t, n=n)  # a guard: compile repeats it on every call
    return held(one_hot_codes, t, n=n)  # held: compile recomputes it from each call's labels


def check_one_hot_range(labels: np.ndarray, n: int) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(f"one_hot: labels must be in [0, {n}), got values from "
                         f"{labels.min()} to {labels.max()}")


def one_hot_codes(labels: np.ndarray, n: int) -> np.ndarray:
    return (labels[..., None] == np.arange(max(n, 0))).astype(np.int64)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (torch.flatten; nn.Flatten starts at 1)."""
    return _t(input).flatten(start_dim, end_dim)


__all__ = [
    "linear", "relu", "leaky_relu", "sigmoid", "tanh", "silu", "gelu", "softplus", "elu",
    "hardtanh", "softmax", "log_softmax", "dropout", "batch_norm", "layer_norm", "pad",
    "one_hot", "flatten",
]

# Convolution, pooling and losses live in their own modules; they are part of F.
from tinygrad_edu.nn._conv import conv1d, conv2d  # noqa: E402
from tinygrad_edu.nn._pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d  # noqa: E402

__all__ += ["conv2d", "conv1d", "max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d"]

from tinygrad_edu.nn._conv import conv2d_nhwc  # noqa: E402
from tinygrad_edu.nn._pool import max_pool2d_nhwc  # noqa: E402
from tinygrad_edu.nn.loss_functions import *  # noqa: E402,F403
from tinygrad_edu.nn.loss_functions import __all__ as _loss_names  # noqa: E402

__all__ += ["conv2d_nhwc", "max_pool2d_nhwc", *_loss_names]

from tinygrad_edu.nn._activations_functional import *  # noqa: E402,F403
from tinygrad_edu.nn._activations_functional import __all__ as _activation_names  # noqa: E402

__all__ += [*_activation_names]
from tinygrad_edu.nn.losses_more import *  # noqa: E402,F403
from tinygrad_edu.nn.losses_more import __all__ as _more_loss_names  # noqa: E402

__all__ += [*_more_loss_names]
from tinygrad_edu.nn._sdpa import scaled_dot_product_attention  # noqa: E402

__all__ += ["scaled_dot_product_attention"]
# Convolution family (issue 19): transposed convolutions, 3-D forms, unfold and fold.
from tinygrad_edu.nn._conv import conv3d  # noqa: E402
from tinygrad_edu.nn._conv_transpose import (  # noqa: E402
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from tinygrad_edu.nn._fold import fold, unfold  # noqa: E402
from tinygrad_edu.nn._pool import avg_pool3d, max_pool3d  # noqa: E402

__all__ += ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold", "fold",
            "conv3d", "max_pool3d", "avg_pool3d"]
# Layers added for issue 19 (embedding, resampling, adaptive pooling, group and instance
# norm, channel dropout, bilinear): each lives in its own module.
from tinygrad_edu.nn.adaptive_pool import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
)
from tinygrad_edu.nn.bilinear import bilinear  # noqa: E402
from tinygrad_edu.nn.dropout_nd import dropout1d, dropout2d, dropout3d  # noqa: E402
from tinygrad_edu.nn.embedding import embedding  # noqa: E402
from tinygrad_edu.nn.group_norm import group_norm, instance_norm  # noqa: E402
from tinygrad_edu.nn.upsample import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: E402

__all__ += ["embedding", "interpolate", "pixel_shuffle", "pixel_unshuffle",
            "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
            "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "group_norm",
            "instance_norm", "dropout1d", "dropout2d", "dropout3d", "bilinear"]
