"""The transformer, as `torch.nn.TransformerEncoderLayer`, `TransformerEncoder`,
`TransformerDecoderLayer`, `TransformerDecoder` and `Transformer`, built from
`MultiheadAttention`, `Linear`, `LayerNorm` and `Dropout` with PyTorch's sub-module names
(`self_attn`, `linear1`, `linear2`, `norm1`, `norm2`, `dropout`, `dropout1`, `dropout2`; the
decoder adds `multihead_attn`, `norm3`, `dropout3`; `layers.0...` in the stacks, `encoder.`
and `decoder.` in `Transformer`), so state dicts move between the libraries unchanged.

    post-norm (default):  x = norm1(x + SA(x));        x = norm2(x + FF(x))
    norm_first=True:      x = x + SA(norm1(x));        x = x + FF(norm2(x))
    SA(x) = dropout1(self_attn(x, x, x)), FF(x) = dropout2(linear2(dropout(act(linear1(x)))))
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import get_default_dtype
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init
from tinygrad_edu.nn.attention import MultiheadAttention
from tinygrad_edu.nn.container import ModuleList
from tinygrad_edu.nn.linear import Dropout, Linear, layer_name
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.norm import LayerNorm
from tinygrad_edu.tensor import Tensor

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]


def _activation(activation: Any, op: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation  # type: ignore[no-any-return]
    raise ValueError(f"{op}: activation should be relu/gelu, not {activation!r}")


def _feed_forward_and_norms(layer: Module, blocks: int, d_model: int, dim_feedforward: int,
                            dropout: float, activation: Any, layer_norm_eps: float,
                            norm_first: bool, bias: bool, dtype: Any) -> None:
    """The parts the encoder and decoder layers share, registered in PyTorch's order
    (linear1, dropout, linear2, then norm1..norm{blocks} and dropout1..dropout{blocks}), so
    their state dicts list the keys as PyTorch's do."""
    act = _activation(activation, type(layer).__name__)
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
    layer.norm_first = norm_first
    for i in range(1, blocks + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                             dtype=dtype))
    for i in range(1, blocks + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))
    layer.activation = act


def _attend(attention: Module, x: Tensor, memory: Tensor, mask: Any, padding: Any,
            is_causal: bool, dropout: Module) -> Tensor:
    """dropout(attention(x, memory, memory)): a layer's self- or cross-attention block."""
    out = attention(x, memory, memory, attn_mask=mask, key_padding_mask=padding,
                    need_weights=False, is_causal=is_causal)[0]
    return dropout(out)  # type: ignore[no-any-return]


def _copies(layer: Module, num_layers: Any, op: str) -> ModuleList:
    """`num_layers` deep copies of `layer` (each with its own parameters, as PyTorch)."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
        raise ValueError(f"{op}: num_layers must be an int >= 0, got {num_layers!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


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
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        _feed_forward_and_norms(self, 2, d_model, dim_feedforward, dropout, activation,
                                layer_norm_eps, norm_first, bias, dtype)

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool
                  ) -> Tensor:
        return _attend(self.self_attn, x, x, attn_mask, key_padding_mask, is_causal,
                       self.dropout1)

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
        self.layers = _copies(encoder_layer, num_layers, "TransformerEncoder")
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


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention from the target to `memory` (the
    encoder's output), then the feed-forward block; each with a residual connection and a
    LayerNorm (norm1, norm2, norm3; before each block with `norm_first`).

    forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
            memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)"""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        _feed_forward_and_norms(self, 3, d_model, dim_feedforward, dropout, activation,
                                layer_norm_eps, norm_first, bias, dtype)

    def _sa_block(self, x: Tensor, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        return _attend(self.self_attn, x, x, mask, padding, is_causal, self.dropout1)

    def _mha_block(self, x: Tensor, memory: Tensor, mask: Any, padding: Any,
                   is_causal: bool) -> Tensor:
        return _attend(self.multihead_attn, x, memory, mask, padding, is_causal,
                       self.dropout2)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))  # type: ignore[no-any-return]

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))  # type: ignore[no-any-return]


class TransformerDecoder(Module):
    """`num_layers` deep copies of `decoder_layer` applied in turn to the target (each
    attending to the same `memory`), then `norm` if given."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _copies(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)  # type: ignore[no-any-return]


class Transformer(Module):
    """The encoder-decoder transformer of "Attention Is All You Need": `encoder` (a
    TransformerEncoder of num_encoder_layers with a final LayerNorm) and `decoder` (likewise),
    or the given custom_encoder / custom_decoder. Every parameter with more than one dim
    starts from xavier_uniform_, as PyTorch.

    forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
            src_key_padding_mask=None, tgt_key_padding_mask=None,
            memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
            memory_is_causal=False) -> the decoder's output, tgt's shape."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", custom_encoder: Any = None,
                 custom_decoder: Any = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        shared = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                  batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*shared, dtype=dtype), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*shared, dtype=dtype), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None
                                        ) -> Tensor:
        """The causal mask as floats: 0 on and below the diagonal, -inf above it."""
        dt = np.dtype(dtype or get_default_dtype())
        return Tensor(np.triu(np.full((sz, sz), -np.inf, dtype=dt), 1))

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Any = None, tgt_mask: Any = None,
                memory_mask: Any = None, src_key_padding_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        op = layer_name("Transformer")
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch] != tgt.shape[batch]):
            raise ShapeError(f"{op}: the batch number of src and tgt must be equal, got src "
                             f"{src.shape} and tgt {tgt.shape} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"{op}: the feature number of src and tgt must be equal to "
                             f"d_model={self.d_model}, got src {src.shape} and tgt {tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,  # type: ignore[no-any-return]
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
