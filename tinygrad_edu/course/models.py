"""The courses' numpy models (cs231n's `fc_net.py` and `cnn.py`), built from `course.layers`.

Each has a `params` dict of numpy arrays and `loss(X, y=None)`: the scores (N, C) when y
is None (test mode), else `(loss, grads)` with `grads` keyed like `params` — exactly the
interface `tinygrad_edu.train.Solver` (and the courses' Solver) trains. Weights are
`weight_scale * randn` from `numpy.random.default_rng(seed)`, biases 0, gammas 1, betas 0.
The L2 penalty is 0.5 * reg * sum ||W||^2 over the weight matrices (gradient reg * W).
These are the references a student's models can be compared with, parameter for
parameter: the shapes and names are the courses' (W1 (D, H), b1 (H,), ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu.course import layers as L
from tinygrad_edu.errors import ShapeError

__all__ = ["TwoLayerNet", "FullyConnectedNet", "ThreeLayerConvNet", "add_l2"]

Grads = dict[str, np.ndarray]


def add_l2(loss: float, grads: Grads, params: dict[str, np.ndarray], reg: float,
           names: Sequence[str]) -> float:
    """loss + 0.5 * reg * sum ||W||^2 over `names`; adds reg * W to their gradients."""
    if not reg:
        return loss
    for name in names:
        w = params[name]
        loss += 0.5 * reg * float(np.sum(w * w))
        grads[name] = grads[name] + reg * w
    return loss


class TwoLayerNet:
    """affine - relu - affine - softmax, cs231n's `TwoLayerNet`: W1 (D, H), b1 (H,),
    W2 (H, C), b2 (C,); X of shape (N, d1, ..., dk) is flattened to (N, D). float64."""

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100,
                 num_classes: int = 10, weight_scale: float = 1e-3, reg: float = 0.0,
                 seed: int | None = 0) -> None:
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params: dict[str, np.ndarray] = {
            "W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X: Any, y: Any = None) -> Any:
        p = self.params
        hidden, cache1 = L.affine_relu_forward(X, p["W1"], p["b1"])
        scores, cache2 = L.affine_forward(hidden, p["W2"], p["b2"])
        if y is None:
            return scores
        loss, dscores = L.softmax_loss(scores, y)
        grads: Grads = {}
        dhidden, grads["W2"], grads["b2"] = L.affine_backward(dscores, cache2)
        _, grads["W1"], grads["b1"] = L.affine_relu_backward(dhidden, cache1)
        return add_l2(loss, grads, p, self.reg, ("W1", "W2")), grads


class FullyConnectedNet:
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax, as
    cs231n's `FullyConnectedNet`: params W1..WL, b1..bL and, with normalization,
    gamma1..gamma(L-1), beta1..beta(L-1).

    `dropout_keep_ratio` is the probability of keeping a unit (1: no dropout);
    `normalization` is None, 'batchnorm' or 'layernorm'; `seed` fixes the weights and every
    dropout mask (the courses' gradient-check mode). `loss(X)` runs in test mode (running
    batchnorm statistics, no dropout), `loss(X, y)` in train mode. dtype: float32 as the
    course; use float64 for gradient checks.
    """

    def __init__(self, hidden_dims: Sequence[int], input_dim: int = 3 * 32 * 32,
                 num_classes: int = 10, dropout_keep_ratio: float = 1.0,
                 normalization: str | None = None, reg: float = 0.0,
                 weight_scale: float = 1e-2, dtype: Any = np.float32,
                 seed: int | None = None) -> None:
        if normalization not in (None, "batchnorm", "layernorm"):
            raise ValueError(f"FullyConnectedNet: normalization must be None, 'batchnorm' or "
                             f"'layernorm', got {normalization!r}")
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        self.params: dict[str, np.ndarray] = {}
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = weight_scale * rng.standard_normal((fan_in, fan_out))
            self.params[f"b{i}"] = np.zeros(fan_out)
            if normalization and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params: list[dict[str, Any]] = [
            {"mode": "train"} for _ in range(self.num_layers - 1)] if normalization else []
        for k, v in self.params.items():
            self.params[k] = v.astype(self.dtype)

    def loss(self, X: Any, y: Any = None) -> Any:
        X = np.asarray(X).astype(self.dtype)
        mode = "test" if y is None else "train"
        self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        p, caches = self.params, []
        out = X
        for i in range(1, self.num_layers):
            layer: list[tuple[str, Any]] = []
            out, cache = L.affine_forward(out, p[f"W{i}"], p[f"b{i}"])
            layer.append(("affine", cache))
            if self.normalization == "batchnorm":
                out, cache = L.batchnorm_forward(out, p[f"gamma{i}"], p[f"beta{i}"],
                                                 self.bn_params[i - 1])
                layer.append(("norm", cache))
            elif self.normalization == "layernorm":
                out, cache = L.layernorm_forward(out, p[f"gamma{i}"], p[f"beta{i}"],
                                                 self.bn_params[i - 1])
                layer.append(("norm", cache))
            out, cache = L.relu_forward(out)
            layer.append(("relu", cache))
            if self.use_dropout:
                out, cache = L.dropout_forward(out, self.dropout_param)
                layer.append(("dropout", cache))
            caches.append(layer)
        last = self.num_layers
        scores, last_cache = L.affine_forward(out, p[f"W{last}"], p[f"b{last}"])
        if y is None:
            return scores
        loss, dout = L.softmax_loss(scores, y)
        grads: Grads = {}
        dout, grads[f"W{last}"], grads[f"b{last}"] = L.affine_backward(dout, last_cache)
        backward: dict[str, Any] = {
            "affine": L.affine_backward, "relu": L.relu_backward, "dropout": L.dropout_backward,
            "norm": (L.batchnorm_backward if self.normalization == "batchnorm"
                     else L.layernorm_backward)}
        for i in range(self.num_layers - 1, 0, -1):
            for kind, cache in reversed(caches[i - 1]):
                result = backward[kind](dout, cache)
                if kind == "affine":
                    dout, grads[f"W{i}"], grads[f"b{i}"] = result
                elif kind == "norm":
                    dout, grads[f"gamma{i}"], grads[f"beta{i}"] = result
                else:
                    dout = result
        names = [f"W{i}" for i in range(1, self.num_layers + 1)]
        return add_l2(loss, grads, p, self.reg, names), grads


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax, cs231n's
    `ThreeLayerConvNet`, for X (N, C, H, W): W1 (F, C, k, k) with stride 1 and pad
    (k - 1) // 2 (the image size is kept), b1 (F,), W2 (F H/2 W/2, hidden), b2, W3
    (hidden, num_classes), b3. dtype float32 as the course."""

    def __init__(self, input_dim: Sequence[int] = (3, 32, 32), num_filters: int = 32,
                 filter_size: int = 7, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype: Any = np.float32,
                 seed: int | None = 0) -> None:
        c, h, w = (int(s) for s in input_dim)
        if filter_size % 2 == 0:
            raise ValueError(f"ThreeLayerConvNet: filter_size must be odd to keep the image "
                             f"size with pad (k - 1) // 2, got {filter_size}")
        self.input_dim = (c, h, w)
        self.reg, self.dtype = reg, np.dtype(dtype)
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        rng = np.random.default_rng(seed)
        pooled = num_filters * (h // 2) * (w // 2)
        shapes = {"W1": (num_filters, c, filter_size, filter_size), "b1": (num_filters,),
                  "W2": (pooled, hidden_dim), "b2": (hidden_dim,),
                  "W3": (hidden_dim, num_classes), "b3": (num_classes,)}
        self.params = {k: (weight_scale * rng.standard_normal(s) if k[0] == "W"
                           else np.zeros(s)).astype(self.dtype) for k, s in shapes.items()}

    def loss(self, X: Any, y: Any = None) -> Any:
        X = np.asarray(X).astype(self.dtype)
        if X.shape[1:] != self.input_dim:
            raise ShapeError(f"ThreeLayerConvNet: expected X of shape (N, "
                             f"{', '.join(map(str, self.input_dim))}), got {X.shape}")
        p = self.params
        out1, cache1 = L.conv_relu_pool_forward(X, p["W1"], p["b1"], self.conv_param,
                                                self.pool_param)
        out2, cache2 = L.affine_relu_forward(out1, p["W2"], p["b2"])
        scores, cache3 = L.affine_forward(out2, p["W3"], p["b3"])
        if y is None:
            return scores
        loss, dscores = L.softmax_loss(scores, y)
        grads: Grads = {}
        dout2, grads["W3"], grads["b3"] = L.affine_backward(dscores, cache3)
        dout1, grads["W2"], grads["b2"] = L.affine_relu_backward(dout2, cache2)
        _, grads["W1"], grads["b1"] = L.conv_relu_pool_backward(dout1, cache1)
        return add_l2(loss, grads, p, self.reg, ("W1", "W2", "W3")), grads
