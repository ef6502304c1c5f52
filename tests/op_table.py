"""The one table of ops that `test_ops.py` reads: adding an op means adding a row.

Each row: a Tensor function (the input domain mapped inside it, e.g. `(1 + t*t).log()`),
a numpy reference with the same signature, a strategy drawing `(arrays, params)`, and
whether the op is a primitive (primitives also get a second-order check). `binary` rows
are elementwise binary ops without parameters; they are also tested as `f(t, t)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from op_strategies import (
    OFFGRID,
    basic_index,
    binary,
    boolean_index,
    clamp_bounds,
    concat_inputs,
    distinct,
    distinct_np,
    einsum_inputs,
    expand_target,
    extra_einsum_specs,
    flatten_dims,
    gather_index,
    integer_array_index,
    masked,
    matmul_pair,
    norm_axes,
    norms,
    one_dim,
    pad_widths,
    permutation,
    reduction,
    repeats,
    reshape_target,
    small_shapes,
    split_sizes,
    squeeze_dims,
    stack_inputs,
    ternary_where,
    topk_args,
    two_dims,
    unary,
    unsqueeze_dim,
    variance,
)
from shape_op_rows import rows as shape_rows

import tinygrad_edu as tg
from tinygrad_edu import Tensor


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable[..., Tensor]
    ref: Callable[..., Any]
    inputs: Any
    primitive: bool = False
    binary: bool = False

    def __repr__(self) -> str:
        return self.name


# ----------------------------------------------------------------------------- references


def _keep(out: np.ndarray, axes: Any, keepdims: bool) -> np.ndarray:
    if keepdims:
        return out
    return out.reshape(()) if axes is None else np.squeeze(out, axis=axes)


def _softmax(a: np.ndarray, dim: int) -> np.ndarray:
    ax = norm_axes(dim, a.ndim)
    e = np.exp(a - a.max(axis=ax, keepdims=True))
    return e / e.sum(axis=ax, keepdims=True)


def _logsumexp(a: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    ax = norm_axes(axis, a.ndim)
    m = a.max(axis=ax, keepdims=True)
    return _keep(np.log(np.exp(a - m).sum(axis=ax, keepdims=True)) + m, ax, keepdims)


def _split_sizes(n: int, split: Any) -> list[int]:
    if isinstance(split, int):
        return [min(split, n - s) for s in range(0, n, split)]
    return list(split)


def _split_ref(a: np.ndarray, dim: int, split: Any) -> np.ndarray:
    sizes = _split_sizes(a.shape[dim], split)
    pieces = np.split(a, np.cumsum(sizes)[:-1], axis=dim)
    return np.concatenate([p * (i + 1.0) for i, p in enumerate(pieces)], axis=dim)


def _split_fn(t: Tensor, dim: int, split: Any) -> Tensor:
    pieces = t.split(split, dim)
    return tg.cat([p * (i + 1.0) for i, p in enumerate(pieces)], dim=dim)


def _chunk_fn(t: Tensor, dim: int) -> Tensor:
    pieces = t.chunk(3, dim)
    return tg.cat([p * (i + 1.0) for i, p in enumerate(pieces)], dim=dim)


def _chunk_ref(a: np.ndarray, dim: int) -> np.ndarray:
    return _split_ref(a, dim, -(-a.shape[dim] // 3))


def _gather_ref(a: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    d = dim % a.ndim
    region = tuple(slice(None) if i == d else slice(0, n) for i, n in enumerate(index.shape))
    return np.take_along_axis(a[region], index, axis=d)


def _norm_ref(a: np.ndarray, p: float, dim: Any, keepdim: bool) -> np.ndarray:
    b = np.abs(distinct_np(a))
    ax = norm_axes(dim, a.ndim)
    if p == float("inf"):
        return b.max(axis=ax, keepdims=keepdim)
    return (b**p).sum(axis=ax, keepdims=keepdim) ** (1.0 / p)


def _topk_ref(a: np.ndarray, dim: int, k: int, largest: bool) -> np.ndarray:
    s = np.sort(distinct_np(a), axis=dim)
    if largest:
        s = np.flip(s, axis=dim)
    return np.take(s, np.arange(k), axis=dim)


def _flatten_ref(a: np.ndarray, start_dim: int, end_dim: int) -> np.ndarray:
    if a.ndim == 0:
        return a.reshape(1)
    s, e = start_dim % a.ndim, end_dim % a.ndim
    return a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:])


def _squeeze_ref(a: np.ndarray, dim: Any) -> np.ndarray:
    ax = norm_axes(dim, a.ndim)
    if ax is None:
        return np.squeeze(a)
    return np.squeeze(a, axis=tuple(i for i in ax if a.shape[i] == 1))


def _expand_ref(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    lead = len(shape) - a.ndim
    full = tuple(a.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    return np.broadcast_to(a, full)


def _tensor_index(index: Any) -> Any:
    """The same index with its arrays as Tensors (integer and bool tensors index too)."""
    if isinstance(index, np.ndarray):
        return Tensor(index)
    if isinstance(index, tuple):
        return tuple(Tensor(i) if isinstance(i, np.ndarray) else i for i in index)
    return index


def _pad_ref(a: np.ndarray, widths: Any, value: float) -> np.ndarray:
    return np.pad(a, widths, constant_values=value) if a.ndim else a.copy()


def _var_fn(t: Tensor, axis: Any, keepdims: bool, correction: int) -> Tensor:
    return t.var(axis=axis, keepdims=keepdims, correction=correction)


def _var_ref(a: np.ndarray, axis: Any, keepdims: bool, correction: int) -> np.ndarray:
    return np.var(a, axis=norm_axes(axis, a.ndim), ddof=correction, keepdims=keepdims)


def _reduce_ref(np_fn: Callable[..., Any], tie_free: bool = False) -> Callable[..., Any]:
    def ref(a: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        x = distinct_np(a) if tie_free else a
        return np_fn(x, axis=norm_axes(axis, a.ndim), keepdims=keepdims)

    return ref


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _erf(a: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _erfc(a: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erfc, otypes=[np.float64])(a)


# ----------------------------------------------------------------------------- the table

_off = unary(OFFGRID)
_pow_int = unary(OFFGRID).flatmap(lambda c: st.sampled_from([2, 3, -2, 1, 0]).map(
    lambda p: (c[0], {"p": p})))
_pow_real = unary().flatmap(lambda c: st.sampled_from([0.5, -1.5, 2.5, 1 / 3]).map(
    lambda p: (c[0], {"p": p})))
_slope = unary(OFFGRID).flatmap(lambda c: st.sampled_from([0.01, 0.2]).map(
    lambda s: (c[0], {"negative_slope": s})))

OPS: list[Op] = [
    # ---- elementwise primitives
    Op("add", lambda a, b: a + b, np.add, binary(), True, True),
    Op("sub", lambda a, b: a - b, np.subtract, binary(), True, True),
    Op("mul", lambda a, b: a * b, np.multiply, binary(), True, True),
    Op("div", lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b), binary(), True, True),
    Op("neg", lambda t: -t, np.negative, unary(), True),
    Op("pow_tensor", lambda a, b: (1 + a * a) ** (0.5 * b),
       lambda a, b: (1 + a * a) ** (0.5 * b), binary(), True, True),
    Op("pow_scalar_int", lambda t, p: t**p, lambda a, p: a ** float(p), _pow_int, True),
    Op("pow_scalar_real", lambda t, p: (t * t + 0.5) ** p, lambda a, p: (a * a + 0.5) ** p,
       _pow_real, True),
    Op("rpow", lambda t: 2.0**t, lambda a: 2.0**a, unary(), True),
    Op("python_scalars", lambda t: 3.0 - 2.0 * t / (1.0 + t * t) + 0.5,
       lambda a: 3.0 - 2.0 * a / (1.0 + a * a) + 0.5, unary()),
    Op("exp", lambda t: t.exp(), np.exp, unary(), True),
    Op("log", lambda t: (1 + t * t).log(), lambda a: np.log(1 + a * a), unary(), True),
    Op("log1p", lambda t: (t * t).log1p(), lambda a: np.log1p(a * a), unary(), True),
    Op("sign", lambda t: t.sign() * t, lambda a: np.sign(a) * a, _off, True),
    Op("sqrt", lambda t: (t * t + 0.1).sqrt(), lambda a: np.sqrt(a * a + 0.1), unary(), True),
    Op("abs", lambda t: t.abs(), np.abs, _off, True),
    Op("prod", lambda t: t.prod(0), lambda a: np.prod(a, axis=0), unary(), False),
    # OFFGRID a and b + 1/8 differ by at least 1/8: no ties
    Op("maximum", lambda a, b: a.maximum(b + 0.125), lambda a, b: np.maximum(a, b + 0.125),
       binary(OFFGRID), True, True),
    Op("minimum", lambda a, b: a.minimum(b + 0.125), lambda a, b: np.minimum(a, b + 0.125),
       binary(OFFGRID), True, True),
    Op("where", lambda a, b, cond: tg.where(cond, a, b), lambda a, b, cond: np.where(cond, a, b),
       ternary_where(), True),
    Op("sigmoid", lambda t: t.sigmoid(), _sigmoid, unary(), True),
    Op("relu", lambda t: t.relu(), lambda a: np.maximum(a, 0.0), _off, True),
    Op("tanh", lambda t: t.tanh(), np.tanh, unary(), True),
    # ---- issue 19: trigonometry, exp/log, erf (primitives); rounding (zero gradient)
    Op("sin", lambda t: t.sin(), np.sin, unary(), True),
    Op("cos", lambda t: t.cos(), np.cos, unary(), True),
    Op("tan", lambda t: t.tanh().tan(), lambda a: np.tan(np.tanh(a)), unary(), True),
    Op("atan2", lambda a, b: a.atan2(b * b + 0.5), lambda a, b: np.arctan2(a, b * b + 0.5),
       binary(), True, True),
    Op("hypot", lambda a, b: a.hypot(b * b + 0.5), lambda a, b: np.hypot(a, b * b + 0.5),
       binary(), True, True),
    Op("exp2", lambda t: t.exp2(), np.exp2, unary(), True),
    Op("log2", lambda t: (1 + t * t).log2(), lambda a: np.log2(1 + a * a), unary(), True),
    Op("log10", lambda t: (1 + t * t).log10(), lambda a: np.log10(1 + a * a), unary(), True),
    Op("expm1", lambda t: t.expm1(), np.expm1, unary(), True),
    Op("erf", lambda t: t.erf(), _erf, unary(), True),
    Op("erfc", lambda t: t.erfc(), _erfc, unary(), True),
    Op("floor", lambda t: t.floor() * t, lambda a: np.floor(a) * a, _off, True),
    Op("ceil", lambda t: t.ceil() * t, lambda a: np.ceil(a) * a, _off, True),
    Op("trunc", lambda t: t.trunc() * t, lambda a: np.trunc(a) * a, _off, True),
    Op("round", lambda t: t.round() * t, lambda a: np.round(a) * a, _off, True),
    Op("round_decimals", lambda t: t.round(decimals=1) * t, lambda a: np.round(a, 1) * a,
       _off, True),
    Op("frac", lambda t: t.frac() * t, lambda a: (a - np.trunc(a)) * a, _off),
    Op("lerp", lambda a, b: a.lerp(b, 0.3), lambda a, b: a + 0.3 * (b - a), binary(),
       binary=True),
    Op("lerp_tensor_weight", lambda a, b: a.lerp(b, (b * 0.7).sigmoid()),
       lambda a, b: a + _sigmoid(b * 0.7) * (b - a), binary(), binary=True),
    # finite inputs (gradient 1); the replaced values' zero gradient is in the conformance tests
    Op("nan_to_num", lambda t: t.nan_to_num() * t, lambda a: a * a, unary()),
    # ---- reductions
    Op("sum", lambda t, axis, keepdims: t.sum(axis=axis, keepdims=keepdims),
       _reduce_ref(np.sum), reduction(), True),
    Op("max", lambda t, axis, keepdims: distinct(t).max(axis=axis, keepdims=keepdims),
       _reduce_ref(np.max, tie_free=True), reduction(OFFGRID), True),
    Op("amax", lambda t, axis, keepdims: distinct(t).amax(dim=axis, keepdim=keepdims),
       _reduce_ref(np.max, tie_free=True), reduction(OFFGRID)),
    Op("amin", lambda t, axis, keepdims: distinct(t).amin(dim=axis, keepdim=keepdims),
       _reduce_ref(np.min, tie_free=True), reduction(OFFGRID)),
    Op("min", lambda t, dim: distinct(t).min(dim=dim).values,
       lambda a, dim: np.min(distinct_np(a), axis=norm_axes(dim, a.ndim)), one_dim(OFFGRID)),
    Op("min_axis", lambda t, axis, keepdims: distinct(t).min(axis=axis, keepdims=keepdims),
       _reduce_ref(np.min, tie_free=True), reduction(OFFGRID)),
    Op("mean", lambda t, axis, keepdims: t.mean(dim=axis, keepdim=keepdims),
       _reduce_ref(np.mean), reduction()),
    Op("var", _var_fn, _var_ref, variance()),
    # distinct values and at least two per reduction keep std off sqrt's kink at 0
    Op("std", lambda t, axis, keepdims, correction: distinct(t).std(
        axis=axis, keepdims=keepdims, correction=correction),
       lambda a, axis, keepdims, correction: np.std(
           distinct_np(a), axis=norm_axes(axis, a.ndim), ddof=correction, keepdims=keepdims),
       variance(min_side=2)),
    Op("nansum", lambda t, axis, keepdims: t.nansum(dim=axis, keepdim=keepdims),
       _reduce_ref(np.nansum), reduction()),
    Op("logsumexp", lambda t, axis, keepdims: t.logsumexp(dim=axis, keepdim=keepdims),
       _logsumexp, reduction()),
    Op("softmax", lambda t, dim: t.softmax(dim), _softmax, one_dim()),
    Op("log_softmax", lambda t, dim: t.log_softmax(dim=dim),
       lambda a, dim: np.log(_softmax(a, dim)), one_dim()),
    Op("norm", lambda t, p, dim, keepdim: distinct(t).norm(p, dim=dim, keepdim=keepdim),
       _norm_ref, norms()),
    Op("cumsum", lambda t, dim: t.cumsum(dim),
       lambda a, dim: np.cumsum(a, axis=dim) if a.ndim else a.copy(), one_dim()),
    Op("topk", lambda t, dim, k, largest: distinct(t).topk(k, dim, largest=largest).values,
       _topk_ref, topk_args()),
    # ---- activations and other elementwise composites
    Op("leaky_relu", lambda t, negative_slope: t.leaky_relu(negative_slope),
       lambda a, negative_slope: np.where(a > 0, a, negative_slope * a), _slope),
    Op("silu", lambda t: t.silu(), lambda a: a * _sigmoid(a), unary()),
    Op("clamp", lambda t, min, max: t.clamp(min=min, max=max),
       lambda a, min, max: np.clip(a, min, max), clamp_bounds()),
    Op("clip", lambda t, min, max: tg.clip(t, min, max),
       lambda a, min, max: np.clip(a, min, max), clamp_bounds()),
    Op("square", lambda t: t.square(), np.square, unary()),
    Op("masked_fill", lambda t, mask, value: t.masked_fill(mask, value),
       lambda a, mask, value: np.where(mask, value, a), masked()),
    # ---- movement primitives
    Op("reshape", lambda t, shape: t.reshape(shape), lambda a, shape: a.reshape(shape),
       reshape_target(), True),
    Op("permute", lambda t, dims: t.permute(*dims),
       lambda a, dims: np.transpose(a, [d % a.ndim for d in dims]), permutation(), True),
    Op("transpose", lambda t, dims: t.transpose(*dims),
       lambda a, dims: np.swapaxes(a, *dims), two_dims(), True),
    Op("T", lambda t: t.T, lambda a: a.T, unary(), True),
    Op("mT", lambda t: t.mT, lambda a: np.swapaxes(a, -1, -2),
       unary(shape=small_shapes(min_dims=2)), True),
    Op("expand", lambda t, shape: t.expand(*shape), _expand_ref, expand_target(), True),
    Op("broadcast_to", lambda t, shape: t.broadcast_to(shape), _expand_ref, expand_target(),
       True),
    Op("getitem_basic", lambda t, index: t[index], lambda a, index: a[index], basic_index(),
       True),
    Op("getitem_int_arrays", lambda t, index: t[index], lambda a, index: a[index],
       integer_array_index(), True),
    Op("getitem_int_tensors", lambda t, index: t[_tensor_index(index)],
       lambda a, index: a[index], integer_array_index()),
    Op("getitem_bool_mask", lambda t, index: t[index], lambda a, index: a[index],
       boolean_index(), True),
    Op("getitem_bool_tensor", lambda t, index: t[_tensor_index(index)],
       lambda a, index: a[index], boolean_index()),
    Op("pad", lambda t, widths, value: t.pad(widths, value=value),
       _pad_ref, pad_widths(), True),
    Op("cat", lambda *ts, dim: tg.cat(list(ts), dim=dim),
       lambda *xs, dim: np.concatenate(xs, axis=dim), concat_inputs(), True),
    Op("stack", lambda *ts, dim: tg.stack(list(ts), dim=dim),
       lambda *xs, dim: np.stack(xs, axis=dim), stack_inputs(), True),
    # ---- movement composites
    Op("flatten", lambda t, start_dim, end_dim: t.flatten(start_dim, end_dim), _flatten_ref,
       flatten_dims()),
    Op("squeeze", lambda t, dim: t.squeeze(dim), _squeeze_ref, squeeze_dims()),
    Op("unsqueeze", lambda t, dim: t.unsqueeze(dim), lambda a, dim: np.expand_dims(a, dim),
       unsqueeze_dim()),
    Op("split", _split_fn, _split_ref, split_sizes()),
    Op("chunk", _chunk_fn, _chunk_ref, one_dim(min_dims=1)),
    Op("gather", lambda t, dim, index: t.gather(dim, Tensor(index)), _gather_ref,
       gather_index()),
    Op("repeat", lambda t, sizes: t.repeat(*sizes), lambda a, sizes: np.tile(a, sizes),
       repeats()),
    # ---- linear algebra
    Op("matmul", lambda a, b: a @ b, np.matmul, matmul_pair(), True),
    Op("einsum", lambda *ts, spec: tg.einsum(spec, *ts),
       lambda *xs, spec: np.einsum(spec, *xs), einsum_inputs(), True),
    Op("einsum_more", lambda *ts, spec: tg.einsum(spec, *ts),
       lambda *xs, spec: np.einsum(spec, *xs), einsum_inputs(extra_einsum_specs()), True),
]

OPS += shape_rows(Op)  # issue 19's shape and indexing names (tests/shape_op_rows.py)

PRIMITIVES = [op for op in OPS if op.primitive]
BINARY = [op for op in OPS if op.binary]
BY_NAME = {op.name: op for op in OPS}
