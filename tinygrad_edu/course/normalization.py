"""The courses' normalization and dropout layers, computed by the engine (re-exported by
`course.layers`, where cs231n keeps them).

Conventions, the courses' (cs231n assignment 2), which differ from PyTorch's in two places:
- batch normalization normalizes with the *biased* batch variance and keeps running
  statistics `running = momentum * running + (1 - momentum) * batch` with momentum 0.9 by
  default (PyTorch: `(1 - 0.1) * running + 0.1 * batch`, and the unbiased variance for
  running_var). The running statistics are stored back into `bn_param`, as the course does.
- `dropout_param['p']` is the probability of *keeping* a unit (cs231n since 2019:
  `mask = (rand(*x.shape) < p) / p`); PyTorch's and `nn.Dropout`'s p is the probability of
  dropping it. With `dropout_param['seed']` the mask is drawn exactly as a student's
  `np.random.seed(seed); np.random.rand(*x.shape) < p`, from a private RandomState (the
  global numpy state is left alone), so a student's seeded mask and ours agree.

Each backward also takes a cache a student's forward builds by hand. The courses leave
the normalizations' caches to the student, so the one asked for is the forward's own
arguments, in order: `(x, gamma, beta, bn_param)` (batchnorm, spatial batchnorm),
`(x, gamma, beta, ln_param)`, `(x, gamma, beta, G, gn_param)`; our forward is run again on
them (on a copy of bn_param: the running statistics are not updated twice). Dropout takes
the courses' `(dropout_param, mask)`: dx = dout * mask in 'train' mode, dout in 'test'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_edu.course._graph import (
    Cache,
    ParamError,
    as_array,
    backprop,
    course_args,
    describe,
    float_dtype,
    param_dict,
    record,
    require,
)
from tinygrad_edu.creation import default_generator, from_numpy
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.tensor import Tensor

Grads = tuple[np.ndarray, ...]


def _standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance; also mean, var."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered * (var + eps).rsqrt(), mean, var


def _check_affine_params(op: str, x: np.ndarray, gamma: Any, beta: Any,
                         shapes: Sequence[tuple[int, ...]]) -> None:
    for name, p in (("gamma", gamma), ("beta", beta)):
        if np.shape(p) not in shapes:
            valid = " or ".join(str(s) for s in shapes)
            raise ShapeError(f"{op}: {name} must have shape {valid} for x of shape {x.shape}, "
                             f"got {np.shape(p)}")


def _mode(op: str, param: dict[str, Any], name: str) -> str:
    (mode,) = require(param, ("mode",), op, name)
    if mode not in ("train", "test"):
        raise ParamError(f"{op}: {name}['mode'] must be 'train' or 'test', got {mode!r}")
    return str(mode)


def _batchnorm(op: str, x: Any, gamma: Any, beta: Any, bn_param: Any, spatial: bool
               ) -> tuple[np.ndarray, Cache]:
    param = param_dict(bn_param, op, "bn_param")
    mode = _mode(op, param, "bn_param")
    eps, momentum = param.get("eps", 1e-5), param.get("momentum", 0.9)
    arr = as_array(x, op, "x")
    layout = "(N, C, H, W)" if spatial else "(N, D)"
    if arr.ndim != (4 if spatial else 2):
        raise ShapeError(f"{op}: x must be {layout}, got shape {arr.shape}")
    channels = arr.shape[1]
    _check_affine_params(op, arr, gamma, beta, [(channels,)])
    dt = float_dtype(arr)
    running_mean = np.asarray(param.get("running_mean", np.zeros(channels, dtype=dt)))
    running_var = np.asarray(param.get("running_var", np.zeros(channels, dtype=dt)))
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat.shape != (channels,):
            raise ShapeError(f"{op}: bn_param[{name!r}] has shape {stat.shape}, expected "
                             f"({channels},) for x of shape {arr.shape}")
    axes = (0, 2, 3) if spatial else (0,)
    shape = (1, channels, 1, 1) if spatial else (1, channels)
    stats: dict[str, np.ndarray] = {}

    def fn(x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
        if mode == "train":
            xhat, mean, var = _standardize(x, axes, eps)
            stats["mean"] = mean.array.reshape(-1).copy()
            stats["var"] = var.array.reshape(-1).copy()
        else:
            inv_std = 1.0 / np.sqrt(running_var.reshape(shape) + eps)
            xhat = (x - from_numpy(running_mean.reshape(shape).astype(x.dtype))) * (
                from_numpy(inv_std.astype(x.dtype)))
        return xhat * gamma.reshape(shape) + beta.reshape(shape)

    out, cache = record(op, fn, {"x": arr, "gamma": gamma, "beta": beta},
                        extras={"mode": mode, "eps": eps})
    if mode == "train":
        running_mean = momentum * running_mean + (1 - momentum) * stats["mean"]
        running_var = momentum * running_var + (1 - momentum) * stats["var"]
        cache.extras.update(sample_mean=stats["mean"], sample_var=stats["var"])
    param["running_mean"], param["running_var"] = running_mean, running_var
    return out, cache


def batchnorm_forward(x: Any, gamma: Any, beta: Any, bn_param: dict[str, Any]
                      ) -> tuple[np.ndarray, Cache]:
    """Batch normalization of x (N, D) per feature, then out = gamma * xhat + beta.

    bn_param: 'mode' ('train' or 'test', required), 'eps' (1e-5), 'momentum' (0.9),
    'running_mean' and 'running_var' (zeros of shape (D,) when absent; updated in place in
    the dict). Train: xhat = (x - mean) / sqrt(var + eps) with the batch mean and biased
    variance; test: with the running statistics. Backward: (dx, dgamma, dbeta)."""
    return _batchnorm("batchnorm_forward", x, gamma, beta, bn_param, spatial=False)


_NORM = ("x", "gamma", "beta")


def _ours(op: str, forward: str, cache: Any, names: tuple[str, ...],
          run: Callable[..., tuple[np.ndarray, Cache]]) -> Cache:
    """Our cache as it is; a student's cache of the forward's arguments `names` turned into
    ours by running `run` (our forward) on them; a param dict is copied first."""
    if isinstance(cache, Cache):
        return cache
    args = course_args(op, forward, cache, names)
    return run(*[dict(a) if isinstance(a, dict) else a for a in args])[1]


def _batchnorm_cache(op: str, cache: Any, spatial: bool) -> Cache:
    fwd = "spatial_batchnorm_forward" if spatial else "batchnorm_forward"
    return _ours(op, fwd, cache, (*_NORM, "bn_param"),
                 lambda x, g, b, p: _batchnorm(fwd, x, g, b, p, spatial))


def batchnorm_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dgamma, dbeta) for `batchnorm_forward`'s cache or (x, gamma, beta, bn_param)."""
    op = "batchnorm_backward"
    return backprop(op, "batchnorm_forward", dout, _batchnorm_cache(op, cache, False))


def batchnorm_backward_alt(dout: Any, cache: Any) -> Grads:
    """The same gradients as `batchnorm_backward`. The courses ask for this second version
    written from the simplified closed form; the engine's graph gives one answer for both,
    so a student's two versions can be checked against the same reference."""
    op = "batchnorm_backward_alt"
    return backprop(op, "batchnorm_forward", dout, _batchnorm_cache(op, cache, False))


def spatial_batchnorm_forward(x: Any, gamma: Any, beta: Any, bn_param: dict[str, Any]
                              ) -> tuple[np.ndarray, Cache]:
    """Batch normalization of x (N, C, H, W) per channel, statistics over (N, H, W);
    gamma, beta (C,); bn_param as `batchnorm_forward`. Backward: (dx, dgamma, dbeta)."""
    return _batchnorm("spatial_batchnorm_forward", x, gamma, beta, bn_param, spatial=True)


def spatial_batchnorm_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dgamma, dbeta) for `spatial_batchnorm_forward`'s cache or (x, gamma, beta,
    bn_param)."""
    op = "spatial_batchnorm_backward"
    return backprop(op, "spatial_batchnorm_forward", dout, _batchnorm_cache(op, cache, True))


def layernorm_forward(x: Any, gamma: Any, beta: Any, ln_param: dict[str, Any] | None
                      ) -> tuple[np.ndarray, Cache]:
    """Layer normalization of each row of x (N, D) over its D features (biased variance),
    then out = gamma * xhat + beta with gamma, beta (D,); ln_param: 'eps' (1e-5). The same in
    training and testing. Backward: (dx, dgamma, dbeta)."""
    op = "layernorm_forward"
    eps = param_dict(ln_param, op, "ln_param").get("eps", 1e-5)
    arr = as_array(x, op, "x")
    if arr.ndim != 2:
        raise ShapeError(f"{op}: x must be (N, D), got shape {arr.shape}")
    _check_affine_params(op, arr, gamma, beta, [(arr.shape[1],)])
    return record(op, lambda x, gamma, beta: _standardize(x, (1,), eps)[0] * gamma + beta,
                  {"x": arr, "gamma": gamma, "beta": beta})


def layernorm_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dgamma, dbeta) for `layernorm_forward`'s cache or (x, gamma, beta, ln_param)."""
    op, fwd = "layernorm_backward", "layernorm_forward"
    return backprop(op, fwd, dout,
                    _ours(op, fwd, cache, (*_NORM, "ln_param"), layernorm_forward))


def spatial_groupnorm_forward(x: Any, gamma: Any, beta: Any, G: int,
                              gn_param: dict[str, Any] | None) -> tuple[np.ndarray, Cache]:
    """Group normalization of x (N, C, H, W): the C channels are split into G groups of C/G
    and each (sample, group) is normalized over its channels and pixels; then
    out = gamma * xhat + beta per channel, gamma and beta (1, C, 1, 1) as the course (or
    (C,)). gn_param: 'eps' (1e-5). Backward: (dx, dgamma, dbeta) in gamma's and beta's
    shapes."""
    op = "spatial_groupnorm_forward"
    eps = param_dict(gn_param, op, "gn_param").get("eps", 1e-5)
    arr = as_array(x, op, "x")
    if arr.ndim != 4:
        raise ShapeError(f"{op}: x must be (N, C, H, W), got shape {arr.shape}")
    n, c, h, w = arr.shape
    if not isinstance(G, int | np.integer) or G < 1 or c % G:
        raise ValueError(f"{op}: G must be a positive int dividing the {c} channels of x "
                         f"{arr.shape}, got {G!r}")
    _check_affine_params(op, arr, gamma, beta, [(1, c, 1, 1), (c,)])
    groups = int(G)

    def fn(x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
        grouped = x.reshape(n, groups, c // groups, h, w)
        xhat = _standardize(grouped, (2, 3, 4), eps)[0].reshape(n, c, h, w)
        return xhat * gamma.reshape(1, c, 1, 1) + beta.reshape(1, c, 1, 1)

    return record(op, fn, {"x": arr, "gamma": gamma, "beta": beta})


def spatial_groupnorm_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dgamma, dbeta) for `spatial_groupnorm_forward`'s cache or (x, gamma, beta, G,
    gn_param)."""
    op, fwd = "spatial_groupnorm_backward", "spatial_groupnorm_forward"
    return backprop(op, fwd, dout,
                    _ours(op, fwd, cache, (*_NORM, "G", "gn_param"), spatial_groupnorm_forward))


def dropout_forward(x: Any, dropout_param: dict[str, Any]) -> tuple[np.ndarray, Cache]:
    """Inverted dropout, the courses' way: `dropout_param['p']` is the probability of
    KEEPING each unit. Train: out = x * mask with mask = (u < p) / p, u uniform in [0, 1);
    test: out = x. dropout_param: 'p' and 'mode' ('train' or 'test') required; 'seed'
    optional (u = RandomState(seed).rand(*x.shape), the draw of `np.random.seed(seed);
    np.random.rand(*x.shape)`; without it u comes from tinygrad_edu's default generator).
    The cache has `mask` (None in test mode). Backward: dx = dout * mask (dout in test)."""
    op = "dropout_forward"
    param = param_dict(dropout_param, op, "dropout_param")
    (p,) = require(param, ("p",), op, "dropout_param")
    mode = _mode(op, param, "dropout_param")
    if not isinstance(p, int | float | np.number) or not 0.0 < float(p) <= 1.0:
        raise ParamError(f"{op}: dropout_param['p'] is the probability of keeping a unit "
                         f"(the courses' convention) and must be in (0, 1], got {p!r}")
    arr = as_array(x, op, "x")
    if mode == "test":
        return record(op, lambda x: x, {"x": arr}, extras={"mask": None, "mode": mode})
    seed = param.get("seed")
    if seed is not None:
        u = np.random.RandomState(seed).rand(*arr.shape)
    else:
        u = default_generator().random(arr.shape)
    mask = np.asarray((u < p) / p)  # an array even for 0-d x (rand() then gives a float)
    dt = float_dtype(arr)
    scale = mask.astype(dt)
    return record(op, lambda x: x * from_numpy(scale), {"x": arr},
                  extras={"mask": mask, "mode": mode, "dropout_param": param})


def _dropout_cache(op: str, dout: Any, cache: Any) -> Cache:
    """The courses' (dropout_param, mask) as our cache: the graph of x * mask ('train') or
    of x ('test') on an x of dout's shape (the gradient does not depend on x's values)."""
    if isinstance(cache, Cache):
        return cache
    if not (isinstance(cache, tuple | list) and len(cache) == 2 and isinstance(cache[0], dict)
            and (cache[1] is None or isinstance(cache[1], np.ndarray))):
        raise TypeError(f"{op}: cache must be the cache returned by dropout_forward (ours) or "
                        f"the courses' tuple (dropout_param, mask); got {describe(cache)}")
    param, mask = cache
    mode = _mode(op, param, "dropout_param")
    d = as_array(dout, op, "dout")
    x = np.zeros(d.shape, dtype=float_dtype(d))
    if mode == "test":
        return record("dropout_forward", lambda x: x, {"x": x})[1]
    if mask is None or mask.shape != d.shape:
        shape = None if mask is None else mask.shape
        raise ShapeError(f"{op}: in 'train' mode the mask must have dout's shape {d.shape}, "
                         f"got {shape}")
    scale = from_numpy(mask.astype(x.dtype))
    return record("dropout_forward", lambda x: x * scale, {"x": x})[1]


def dropout_backward(dout: Any, cache: Any) -> np.ndarray:
    """dx for `dropout_forward`'s cache or the courses' (dropout_param, mask): dout * mask
    in train mode, dout in test mode."""
    op = "dropout_backward"
    return backprop(op, "dropout_forward", dout, _dropout_cache(op, dout, cache))[0]
