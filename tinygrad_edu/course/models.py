"""The courses' numpy models (cs231n's `fc_net.py` and `cnn.py`), built from `course.layers`.

Each has a `params` dict of numpy arrays and `loss(X, y=None)`: the scores (N, C) when y
is None (test mode), else `(loss, grads)` with `grads` keyed like `params` — exactly the
interface `tinygrad_edu.train.Solver` (and the courses' Solver) trains. Weights are
`weight_scale * randn`, biases 0, gammas 1, betas 0; the draws come from
`creation.numpy_generator(seed)`: a generator of their own for an int seed, tinygrad_edu's
default generator (which `manual_seed` resets) for seed=None. With `numpy_random=True` they
are instead the courses' own `np.random.randn` calls on numpy's global generator, in the
courses' order, so `np.random.seed(231); model = TwoLayerNet(..., numpy_random=True)` gives
the course's weights to the last bit (off by default: a deliberate departure from STYLE's
"no global np.random"; `seed` then does not touch the weights).
The L2 penalty is 0.5 * reg * sum ||W||^2 over the weight matrices (gradient reg * W).
These are the references a student's models can be compared with, parameter for
parameter: the shapes and names are the courses' (W1 (D, H), b1 (H,), ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu.course import layers as L
from tinygrad_edu.course._random import course_generator, randn
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
    """affine - relu - affine - softmax, cs231n's `TwoLayerNet` (fc_net.py): W1 (D, H),
    b1 (H,), W2 (H, C), b2 (C,); X of shape (N, d1, ..., dk) is flattened to (N, D). float64.

    ECE C147's spelling of the same model is taken too: `hidden_dims` (an int) for
    hidden_dim, and `dropout` at its default (0; 1 in a later skeleton). No course's fc_net
    TwoLayerNet applies dropout: ECE C147's takes the argument but the code to write (init,
    forward, backward) has no dropout layer, unlike its FullyConnectedNet; cs231n's only
    lists it in its docstring (2016-2017), its signature has no such argument. Any other
    value is therefore an error rather than silently ignored: use
    `FullyConnectedNet([H], dropout=...)`. `numpy_random=True`: W1 then W2 are the course's
    `weight_scale * np.random.randn(input_dim, hidden_dim)` and `(hidden_dim, num_classes)`
    (see the module docstring). For the assignment-1 network with `train`/`predict` see
    `course.neural_net`."""

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100,
                 num_classes: int = 10, weight_scale: float = 1e-3, reg: float = 0.0,
                 seed: int | None = 0, *, hidden_dims: int | None = None,
                 dropout: float = 0, numpy_random: bool = False) -> None:
        if dropout not in (0, 1):
            raise ValueError(f"TwoLayerNet: this network has no dropout layer, as no "
                             f"course's TwoLayerNet applies dropout (ECE C147's takes the "
                             f"argument and ignores it; cs231n's has none), so only the "
                             f"default dropout=0 (or 1) is accepted, got dropout={dropout}; "
                             f"use FullyConnectedNet([H], dropout=...)")
        hidden_dim = hidden_dim if hidden_dims is None else int(hidden_dims)
        rng = course_generator(seed, numpy_random, "TwoLayerNet", strict=False)
        self.reg = reg
        self.params: dict[str, np.ndarray] = {}
        # one statement per parameter, in the course's order: W1 is drawn before W2
        self.params["W1"] = weight_scale * randn(rng, (input_dim, hidden_dim))
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * randn(rng, (hidden_dim, num_classes))
        self.params["b2"] = np.zeros(num_classes)

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


def _keep_ratio(dropout_keep_ratio: float, dropout: float | None) -> float:
    """The probability of keeping a unit, from either spelling (1.0: no dropout)."""
    op = "FullyConnectedNet"
    if dropout is not None:
        if dropout_keep_ratio != 1:
            raise ValueError(f"{op}: give dropout_keep_ratio (cs231n 2020+) or dropout (older "
                             f"versions), not both; got {dropout_keep_ratio} and {dropout}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{op}: dropout is the probability of keeping a unit, in [0, 1] "
                             f"(0 and 1 both mean no dropout), got {dropout}")
        # dropout=0 meant "no dropout" in the older versions (use_dropout = dropout > 0),
        # dropout=1 in the 2018-2019 ones (use_dropout = dropout != 1).
        return 1.0 if dropout in (0, 1) else float(dropout)
    if not 0 < dropout_keep_ratio <= 1:
        raise ValueError(f"{op}: dropout_keep_ratio is the probability of keeping a unit, in "
                         f"(0, 1] (1: no dropout), got {dropout_keep_ratio}; the older "
                         f"spelling dropout=0 means no dropout")
    return float(dropout_keep_ratio)


def _normalization(normalization: Any, use_batchnorm: bool | None) -> str | None:
    if normalization not in (None, "batchnorm", "layernorm"):
        raise ValueError(f"FullyConnectedNet: normalization must be None, 'batchnorm' or "
                         f"'layernorm', got {normalization!r} (use_batchnorm=True is the older "
                         f"spelling of 'batchnorm')")
    if use_batchnorm:
        if normalization not in (None, "batchnorm"):
            raise ValueError(f"FullyConnectedNet: use_batchnorm=True asks for batch "
                             f"normalization but normalization is {normalization!r}")
        return "batchnorm"
    return None if normalization is None else str(normalization)


class FullyConnectedNet:
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax, as
    cs231n's `FullyConnectedNet` (and ECE C147's): params W1..WL, b1..bL and, with
    normalization, gamma1..gamma(L-1), beta1..beta(L-1).

    Every version's spellings are taken, by keyword:
    - dropout: `dropout_keep_ratio` (cs231n 2020+; 1 means no dropout) or `dropout` (older
      cs231n and ECE C147; also the probability of keeping a unit, and both 0, the older
      default, and 1, the 2018-2019 default, mean no dropout). cs231n 2016 used p as the
      probability of dropping; that reading is not supported.
    - normalization: `normalization` in {None, 'batchnorm', 'layernorm'} (cs231n 2018+) or
      `use_batchnorm=True` (older versions, ECE C147).
    `seed` fixes the weights and every dropout mask (the courses' gradient-check mode); without
    it the weights come from tinygrad_edu's default generator (`manual_seed`).
    `numpy_random=True` draws as the course does, from numpy's global generator: W1, W2, ...
    are `weight_scale * np.random.randn(fan_in, fan_out)` layer by layer, and each dropout
    layer is the course's: `np.random.seed(seed)` at every call when seed is given (in
    either mode: the course's layer reseeds numpy's generator, which the Solver's later
    draws then follow), then the mask `(np.random.rand(*x.shape) < p) / p`; `seed` is then
    only the dropout seed, as in the course. (In float32 the course's `dout * mask` turns
    the gradients float64; ours stay float32, so float64 is where the two agree bitwise.)
    `loss(X)` runs
    in test mode (running batchnorm statistics, no dropout), `loss(X, y)` in train mode. The
    L2 penalty is 0.5 * reg * sum ||W||^2. dtype: float32 as the course; use float64 for
    gradient checks. Attributes as the course: use_dropout, use_batchnorm, normalization,
    dropout_param, bn_params, num_layers, reg, dtype, params.
    """

    def __init__(self, hidden_dims: Sequence[int], input_dim: int = 3 * 32 * 32,
                 num_classes: int = 10, dropout_keep_ratio: float = 1.0,
                 normalization: str | None = None, reg: float = 0.0,
                 weight_scale: float = 1e-2, dtype: Any = np.float32,
                 seed: int | None = None, *, dropout: float | None = None,
                 use_batchnorm: bool | None = None, numpy_random: bool = False) -> None:
        keep = _keep_ratio(dropout_keep_ratio, dropout)
        self.normalization = _normalization(normalization, use_batchnorm)
        self.use_batchnorm = self.normalization == "batchnorm"
        self.use_dropout = keep != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = np.dtype(dtype)
        rng = course_generator(seed, numpy_random, "FullyConnectedNet", strict=False)
        self.numpy_random = bool(numpy_random)
        dims = [input_dim, *hidden_dims, num_classes]
        self.params: dict[str, np.ndarray] = {}
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = weight_scale * randn(rng, (fan_in, fan_out))
            self.params[f"b{i}"] = np.zeros(fan_out)
            if self.normalization and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": keep}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params: list[dict[str, Any]] = [
            {"mode": "train"} for _ in range(self.num_layers - 1)] if self.normalization else []
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
                dropout = _course_dropout if self.numpy_random else L.dropout_forward
                out, cache = dropout(out, self.dropout_param)
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


def _course_dropout(x: np.ndarray, dropout_param: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """The courses' dropout_forward with its draws (FullyConnectedNet(numpy_random=True)):
    numpy's global generator reseeded at every call when dropout_param has a 'seed' (in
    either mode, as the course's layer does), the mask (np.random.rand(*x.shape) < p) / p,
    out = x * mask cast back to x's dtype. The cache is the courses' (dropout_param, mask),
    which `L.dropout_backward` takes."""
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])  # noqa: NPY002  (the course's layer does)
    if dropout_param["mode"] != "train":
        return x, (dropout_param, None)
    p = dropout_param["p"]
    mask = (np.random.rand(*x.shape) < p) / p  # noqa: NPY002  (the course's draw)
    return (x * mask).astype(x.dtype, copy=False), (dropout_param, mask)


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax, cs231n's
    `ThreeLayerConvNet`, for X (N, C, H, W): W1 (F, C, k, k) with stride 1 and pad
    (k - 1) // 2 (the image size is kept), b1 (F,), W2 (F H/2 W/2, hidden), b2, W3
    (hidden, num_classes), b3. dtype float32 as the course. `numpy_random=True`: W1, W2, W3
    are the course's `weight_scale * np.random.randn(F, C, k, k)`, `(F H/2 W/2, hidden)`,
    `(hidden, num_classes)`, in that order (see the module docstring)."""

    def __init__(self, input_dim: Sequence[int] = (3, 32, 32), num_filters: int = 32,
                 filter_size: int = 7, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype: Any = np.float32,
                 seed: int | None = 0, *, numpy_random: bool = False) -> None:
        c, h, w = (int(s) for s in input_dim)
        if filter_size % 2 == 0:
            raise ValueError(f"ThreeLayerConvNet: filter_size must be odd to keep the image "
                             f"size with pad (k - 1) // 2, got {filter_size}")
        self.input_dim = (c, h, w)
        self.reg, self.dtype = reg, np.dtype(dtype)
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        rng = course_generator(seed, numpy_random, "ThreeLayerConvNet", strict=False)
        pooled = num_filters * (h // 2) * (w // 2)
        shapes = {"W1": (num_filters, c, filter_size, filter_size), "b1": (num_filters,),
                  "W2": (pooled, hidden_dim), "b2": (hidden_dim,),
                  "W3": (hidden_dim, num_classes), "b3": (num_classes,)}
        # in the course's order: W1, b1, W2, b2, W3, b3 (only the weights draw)
        self.params = {k: (weight_scale * randn(rng, s) if k[0] == "W"
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
