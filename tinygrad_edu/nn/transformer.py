"""The transformer encoder, as `torch.nn.TransformerEncoderLayer` and
`torch.nn.TransformerEncoder`, built from `MultiheadAttention`, `Linear`, `LayerNorm` and
`Dropout` with PyTorch's sub-module names (`self_attn`, `linear1`, `linear2`, `norm1`,
`norm2`, `dropout`, `dropout1`, `dropout2`; `layers.0...` in the encoder), so state dicts
move between the two libraries unchanged.

    post-norm (default):  x = norm1(x + SA(x));        x = norm2(x + FF(x))
    norm_first=True:      x = x + SA(norm1(x));        x = x + FF(norm2(x))
    SA(x) = dropout1(self_attn(x, x, x)), FF(x) = dropout2(linear2(dropout(act(linear1(x)))))
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn.attention import MultiheadAttention
from tinygrad_edu.nn.container import ModuleList
from tinygrad_edu.nn.linear import Dropout, Linear
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.norm import LayerNorm
from tinygrad_edu.tensor import Tensor

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]


def _activation(activation: Any) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation  # type: ignore[no-any-return]
    raise ValueError(f"TransformerEncoderLayer: activation should be relu/gelu, not "
                     f"{activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and a
    LayerNorm (after it, or before it with `norm_first`).

    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False): src as
    MultiheadAttention's query ((S, N, E), (N, S, E) with batch_first, (S, E) unbatched);
    the masks are MultiheadAttention's attn_mask and key_padding_mask."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        act = _activation(activation)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = act

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool
                  ) -> Tensor:
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                             need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(out)  # type: ignore[no-any-return]

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))  # type: ignore[no-any-return]

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))  # type: ignore[no-any-return]


class TransformerEncoder(Module):
    """`num_layers` copies of `encoder_layer` (deep copies, each with its own parameters,
    as PyTorch) applied in turn, then `norm` if given. `enable_nested_tensor` and
    `mask_check` are accepted and have no effect: there are no nested tensors here, so padded
    positions are computed like any other (PyTorch's inference fast path returns zeros
    there)."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"TransformerEncoder: num_layers must be an int >= 0, got "
                             f"{num_layers!r}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)  # type: ignore[no-any-return]
