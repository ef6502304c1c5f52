"""Attention, as `torch.nn.functional.scaled_dot_product_attention` and
`torch.nn.MultiheadAttention`: compositions of matmul, softmax and masking, so every gradient
(and second derivative) comes from the primitives.

    attention(Q, K, V) = softmax(Q K^T * scale + mask) V,   scale = 1/sqrt(E) by default

Two mask conventions, both PyTorch's: for `scaled_dot_product_attention` a boolean
`attn_mask` is True where a query may attend; for `MultiheadAttention` a boolean `attn_mask`
or `key_padding_mask` is True where it may *not*. A float mask is added to the scores either
way. A query whose keys are all masked out gets zero weights (and a zero output) from
`scaled_dot_product_attention`, as PyTorch 2.13's safe softmax; `MultiheadAttention` with
`need_weights=True` computes a plain softmax there, so such a row is NaN, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.creation import zeros
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import cat, linear
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init
from tinygrad_edu.nn._sdpa import additive_mask, as_t, scaled_dot_product_attention
from tinygrad_edu.nn.linear import Linear, empty_parameter, layer_name
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters: `in_proj_weight` (3E, E) packing the
    query, key and value projections (`q_proj_weight`, `k_proj_weight`, `v_proj_weight` when
    kdim or vdim differ from E), `in_proj_bias` (3E,), and `out_proj` (Linear(E, E)).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
            average_attn_weights=True, is_causal=False) -> (attn_output, attn_weights)
    with query (L, N, E) ((N, L, E) with batch_first, (L, E) unbatched), key and value
    (S, N, kdim/vdim). Masks (True = may not attend, or float added): key_padding_mask
    (N, S), attn_mask (L, S) or (N * num_heads, L, S). attn_weights are (N, L, S) averaged
    over heads, or (N, num_heads, L, S); None unless need_weights. Dropout on the weights in
    training mode. `add_bias_kv` appends one learned key and value (`bias_k`, `bias_v`,
    (1, 1, E)) to every sequence, `add_zero_attn` one zero key and value per head, which
    every query may attend to."""

    in_proj_weight: Parameter | None
    in_proj_bias: Parameter | None
    bias_k: Parameter | None
    bias_v: Parameter | None

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, "
                             f"got embed_dim={embed_dim} and num_heads={num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        self.head_dim = self.embed_dim // self.num_heads
        E = self.embed_dim
        # PyTorch's registration order, so state dicts list the same keys in the same order.
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty_parameter((3 * E, E), dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty_parameter((E, E), dtype)
            self.k_proj_weight = empty_parameter((E, self.kdim), dtype)
            self.v_proj_weight = empty_parameter((E, self.vdim), dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty_parameter((3 * E,), dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        if add_bias_kv:
            self.bias_k = empty_parameter((1, 1, E), dtype)
            self.bias_v = empty_parameter((1, 1, E), dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype, generator=generator)
        self._reset_parameters(generator)

    def _reset_parameters(self, generator: Any = None) -> None:
        """xavier_uniform_ projections, zero biases (out_proj's weight keeps Linear's init)."""
        if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
            generator = np.random.default_rng(int(generator))
        names = (("in_proj_weight",) if self._qkv_same_embed_dim
                 else ("q_proj_weight", "k_proj_weight", "v_proj_weight"))
        for name in names:
            init.xavier_uniform_(getattr(self, name), generator=generator)
        for b in (self.in_proj_bias, self.out_proj.bias):
            if b is not None:
                init.constant_(b, 0.0)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra, generator=generator)

    def _projections(self) -> list[tuple[Tensor, Tensor | None]]:
        """(weight, bias) of the query, key and value projections."""
        E, b = self.embed_dim, self.in_proj_bias
        biases = [None] * 3 if b is None else [b[i * E:(i + 1) * E] for i in range(3)]
        if self.in_proj_weight is not None:
            w = self.in_proj_weight
            weights = [w[i * E:(i + 1) * E] for i in range(3)]
        else:
            weights = [getattr(self, n) for n in ("q_proj_weight", "k_proj_weight",
                                                  "v_proj_weight")]
        return list(zip(weights, biases))

    def _mask(self, op: str, attn_mask: Any, key_padding_mask: Any, dtype: np.dtype,
              shape: tuple[int, int, int, int]) -> Tensor | None:
        """attn_mask and key_padding_mask as one additive mask broadcasting to
        (N, heads, L, S)."""
        N, H, L, S = shape
        total = None
        if attn_mask is not None:
            m = additive_mask(op, attn_mask, dtype, allowed_when=False)
            if m.shape == (L, S):
                m = m.reshape(1, 1, L, S)
            elif m.shape == (N * H, L, S):
                m = m.reshape(N, H, L, S)
            else:
                raise ShapeError(f"{op}: attn_mask must be ({L}, {S}) or ({N * H}, {L}, {S}) "
                                 f"(N * num_heads, L, S), got {m.shape}")
            total = m
        if key_padding_mask is not None:
            p = additive_mask(op, key_padding_mask, dtype, allowed_when=False)
            if p.shape != (N, S):
                raise ShapeError(f"{op}: key_padding_mask must be ({N}, {S}) (N, S), got "
                                 f"{p.shape}")
            p = p.reshape(N, 1, 1, S)
            total = p if total is None else total + p
        return total

    def _sequence_first(self, op: str, query: Any, key: Any, value: Any, key_padding_mask: Any
                        ) -> tuple[Tensor, Tensor, Tensor, Any, bool]:
        """query, key and value as (L, N, E), (S, N, kdim) and (S, N, vdim), whatever the layout
        (batch_first, or unbatched: then N = 1 and key_padding_mask gets the batch axis too),
        the key_padding_mask, and whether the input was batched."""
        q, k, v = as_t(query), as_t(key), as_t(value)
        if q.ndim not in (2, 3) or k.ndim != q.ndim or v.ndim != q.ndim:
            raise ShapeError(f"{op}: query, key and value must all be 3-D (L, N, E) or all 2-D "
                             f"(L, E), got {q.shape}, {k.shape} and {v.shape}")
        batched = q.ndim == 3
        if not batched:
            q, k, v = q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = as_t(key_padding_mask).unsqueeze(0)
        elif self.batch_first:
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        return q, k, v, key_padding_mask, batched

    def _check_inputs(self, op: str, q: Tensor, k: Tensor, v: Tensor, attn_mask: Any,
                      is_causal: bool) -> None:
        """Check that the (L, N, E) query, (S, N, kdim) key and (S, N, vdim) value fit the
        layer's dims and one another, that is_causal comes with an attn_mask, and that key and
        value have the query's dtype."""
        (_, N, E), S = q.shape, k.shape[0]
        dims = (self.embed_dim, self.kdim, self.vdim)
        if (E, k.shape[2], v.shape[2]) != dims or k.shape[:2] != (S, N) or v.shape[:2] != (S, N):
            raise ShapeError(f"{op}: query, key and value of shapes {q.shape}, {k.shape} and "
                             f"{v.shape} (as (L, N, E)) do not fit: expected (L, N, {dims[0]}), "
                             f"(S, N, {dims[1]}) and (S, N, {dims[2]})")
        if is_causal and attn_mask is None:
            raise ValueError(f"{op}: Need attn_mask if specifying the is_causal hint")
        for name, t in (("key", k), ("value", v)):
            if t.dtype != q.dtype:
                raise TypeError(f"{op}: {name} dtype {t.dtype} differs from query dtype "
                                f"{q.dtype}")

    def _heads(self, q: Tensor, k: Tensor, v: Tensor) -> tuple[list[Tensor], int]:
        """The projected query, key and value split into heads, [(N, H, L, hd), (N, H, S', hd),
        (N, H, S', hd)], and the number S' - S of keys appended after the S given ones
        (bias_k / bias_v, then the zero key and value of add_zero_attn), which every query may
        attend to."""
        (_, N, E), H, hd = q.shape, self.num_heads, self.head_dim
        q, k, v = (linear(x, w, b) for x, (w, b) in zip((q, k, v), self._projections()))
        extra = 0
        if self.bias_k is not None and self.bias_v is not None:
            k = cat([k, self.bias_k.expand(1, N, E)], 0)
            v = cat([v, self.bias_v.expand(1, N, E)], 0)
            extra += 1
        # (len, N, E) -> (N, H, len, hd)
        heads = [y.reshape(y.shape[0], N, H, hd).permute(1, 2, 0, 3) for y in (q, k, v)]
        if self.add_zero_attn:
            zero = zeros(N, H, 1, hd, dtype=q.dtype)
            heads[1], heads[2] = cat([heads[1], zero], 2), cat([heads[2], zero], 2)
            extra += 1
        return heads, extra

    def _attend(self, heads: list[Tensor], mask: Tensor | None, need_weights: bool
                ) -> tuple[Tensor, Tensor | None]:
        """softmax(Q K^T / sqrt(hd) + mask) V per head, (N, H, L, hd), with dropout on the
        weights in training mode. With need_weights the (N, H, L, S') weights are computed
        explicitly and returned (a fully masked row is NaN, as PyTorch); otherwise through
        scaled_dot_product_attention, and the weights are None."""
        p = self.dropout if self.training else 0.0
        if not need_weights:
            return scaled_dot_product_attention(heads[0], heads[1], heads[2], attn_mask=mask,
                                                dropout_p=p), None
        scores = (heads[0] * (1.0 / math.sqrt(self.head_dim))) @ heads[1].transpose(-2, -1)
        weights = (scores if mask is None else scores + mask).softmax(-1)
        # PyTorch returns the weights after dropout, the ones that multiplied the values.
        weights = F.dropout(weights, p, True) if p > 0 else weights
        return weights @ heads[2], weights

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        """(attn_output, attn_weights) as the class docstring describes: bring the inputs to
        (L, N, E), check them, project into heads, combine the masks, attend, and project the
        concatenated heads back with out_proj, in the input's layout."""
        op = layer_name("MultiheadAttention")
        q, k, v, key_padding_mask, batched = self._sequence_first(op, query, key, value,
                                                                  key_padding_mask)
        self._check_inputs(op, q, k, v, attn_mask, is_causal)
        (L, N, E), S = q.shape, k.shape[0]
        heads, extra = self._heads(q, k, v)
        mask = self._mask(op, attn_mask, key_padding_mask, heads[0].dtype,
                          (N, self.num_heads, L, S))
        if mask is not None and extra:
            mask = mask.pad([(0, 0)] * 3 + [(0, extra)])
        out, weights = self._attend(heads, mask, need_weights)
        out = self.out_proj(out.permute(2, 0, 1, 3).reshape(L, N, E))
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            return out.squeeze(1), None if weights is None else weights.squeeze(0)
        return (out.transpose(0, 1) if self.batch_first else out), weights
