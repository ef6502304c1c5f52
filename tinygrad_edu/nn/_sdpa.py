"""`scaled_dot_product_attention` (as `torch.nn.functional`'s), the maths `MultiheadAttention`
shares: softmax(Q K^T * scale + mask) V, a composition of matmul, masking and softmax.

It sits apart from `nn.functional` and `nn.attention` so that `nn.functional` can export it
without an import cycle (`nn.attention` needs `nn.linear`, which needs `nn.functional`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import where
from tinygrad_edu.modes import _state
from tinygrad_edu.ops.constants import DropoutMask
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["scaled_dot_product_attention"]


def as_t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the last axis, with rows that are -inf throughout giving zeros (and no
    gradient) instead of NaN. Under compile always the masked form (the same values and
    gradients when no row is dead), its mask held: recomputed on every call."""
    if _state.trace is None and not dead_rows(scores.array).any():
        return scores.softmax(-1)
    dead = held(dead_rows, scores)
    # The inner where makes dead rows finite before softmax: a NaN there would come back as
    # a NaN gradient through softmax even though the outer where passes those rows zero.
    return where(dead, 0.0, where(dead, 0.0, scores).softmax(-1))


def dead_rows(scores: np.ndarray) -> np.ndarray:
    """The rows of scores that are -inf throughout (last axis kept)."""
    return np.asarray(np.isneginf(scores).all(axis=-1, keepdims=True))


def bool_to_additive(mask: np.ndarray, allowed_when: bool, dtype: str) -> np.ndarray:
    """0 where the bool mask equals `allowed_when`, -inf elsewhere."""
    keep = mask if allowed_when else ~mask
    return np.where(keep, 0.0, -np.inf).astype(dtype)


def additive_mask(op: str, mask: Any, dtype: np.dtype, allowed_when: bool) -> Tensor:
    """A mask as a float tensor added to the scores: a bool mask gives 0 where it equals
    `allowed_when` and -inf elsewhere; a float mask must have the scores' dtype."""
    m = as_t(mask)
    if m.dtype == np.bool_:
        # held: compile recomputes it from each call's mask
        return held(bool_to_additive, m, allowed_when=allowed_when, dtype=np.dtype(dtype).name)
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: a mask must be bool or floating, got dtype {m.dtype} (shape "
                        f"{m.shape})")
    if m.dtype != dtype:
        raise TypeError(f"{op}: a float mask must have the query's dtype {dtype}, got "
                        f"{m.dtype} (shape {m.shape})")
    return m


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False
                                 ) -> Tensor:
    """softmax(query key^T * scale + mask) value for query (..., L, E), key (..., S, E),
    value (..., S, Ev); the result is (..., L, Ev). `attn_mask` broadcasts to (..., L, S):
    bool (True = may attend) or float (added). `is_causal`: query i attends to keys 0..i
    (top-left aligned, as PyTorch). `dropout_p` drops attention weights whenever it is > 0
    (the functional form does not look at a training flag, as in PyTorch). `enable_gqa`
    repeats each key/value head for query heads grouped over it (dim -3)."""
    op = "scaled_dot_product_attention"
    q, k, v = as_t(query), as_t(key), as_t(value)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ShapeError(f"{op}: query, key and value must be (..., L, E), (..., S, E) and "
                         f"(..., S, Ev); got {q.shape}, {k.shape} and {v.shape}")
    if not q.dtype == k.dtype == v.dtype or q.dtype.kind != "f":
        raise TypeError(f"{op}: query, key and value must have the same floating dtype, got "
                        f"{q.dtype}, {k.dtype} and {v.dtype}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"{op}: query {q.shape} and key {k.shape} must share E (last dim), "
                         f"key and value {v.shape} must share S (dim -2)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa and k.ndim >= 3 and q.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        heads, kv_heads = q.shape[-3], k.shape[-3]
        if kv_heads == 0 or heads % kv_heads or v.shape[-3] != kv_heads:
            raise ShapeError(f"{op}: with enable_gqa the query heads ({heads}, query "
                             f"{q.shape}) must be a multiple of the key and value heads (key "
                             f"{k.shape}, value {v.shape})")
        index = (Ellipsis, np.repeat(np.arange(kv_heads), heads // kv_heads), slice(None),
                 slice(None))
        k, v = k[index], v[index]
    L, S = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = (q @ k.transpose(-2, -1)) * factor
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: Explicit attn_mask should not be set when is_causal=True")
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is not None:
        mask = additive_mask(op, attn_mask, q.dtype, allowed_when=True)
        try:
            fits = np.broadcast_shapes(mask.shape, scores.shape) == scores.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"{op}: attn_mask of shape {mask.shape} does not broadcast to the "
                             f"scores' shape {scores.shape} (query {q.shape}, key {k.shape})")
        scores = scores + mask
    weights = _safe_softmax(scores)
    return dropout_weights(weights, dropout_p) @ v


def dropout_weights(weights: Tensor, p: float) -> Tensor:
    """F.dropout's rule on attention weights (each zeroed with probability p, survivors
    scaled by 1/(1-p), the mask from the default generator); written here because
    nn.functional imports this module."""
    if p == 0:
        return weights
    if p == 1:
        return weights * 0.0
    # a primitive (the draw is F.dropout's): compile draws a fresh mask on every call
    return weights * DropoutMask.apply(shape=weights.shape, dtype=weights.array.dtype, p=p,
                                       generator=None)
