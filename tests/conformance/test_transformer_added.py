"""nn.TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer,
TransformerDecoder and Transformer against PyTorch: our state dicts loaded into torch's
modules, values and gradients of inputs and every parameter (float64, 1e-7) for both norm
placements, both layouts, relu and gelu, causal and padding masks; init and errors."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
from tinygrad_edu.errors import ShapeError

from ._seq_helpers import bool_mask, compare_grads, compare_params, leaf_pair, load_ours_into_torch
from .nn_helpers import randn
from .oracle import assert_close

# ----------------------------------------------------------------------------- the encoder


LAYER_CASES = list(itertools.product(["relu", "gelu"], [False, True], [False, True],
                                     ["none", "causal", "padding"]))


def encoder_masks(masks: str, S: int, N: int) -> dict[str, Any]:
    if masks == "causal":
        return {"src_mask": np.triu(np.full((S, S), -np.inf), 1), "is_causal": True}
    if masks == "padding":
        return {"src_key_padding_mask": np.array([[False] * S, [False] * (S - 2) + [True] * 2])}
    return {}


@pytest.mark.parametrize("activation,batch_first,norm_first,masks", LAYER_CASES)
def test_transformer_encoder_layer(activation: str, batch_first: bool, norm_first: bool,
                                   masks: str) -> None:
    kw = {"dim_feedforward": 16, "dropout": 0.0, "activation": activation,
          "batch_first": batch_first, "norm_first": norm_first}
    ours = gnn.TransformerEncoderLayer(8, 2, dtype=np.float64, **kw)
    theirs = tnn.TransformerEncoderLayer(8, 2, dtype=torch.float64, **kw)
    load_ours_into_torch(ours, theirs)
    S, N = 5, 2
    x = randn(*((N, S, 8) if batch_first else (S, N, 8)), seed=80)
    xo, xt = leaf_pair(x)
    m = encoder_masks(masks, S, N)
    out_o = ours(xo, **{k: tg.tensor(v) if isinstance(v, np.ndarray) else v
                        for k, v in m.items()})
    out_t = theirs(xt, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                          for k, v in m.items()})
    assert_close(out_o, out_t, what="encoder layer")
    up = randn(*out_t.shape, seed=81)
    (out_o * tg.tensor(up)).sum().backward()
    (out_t * torch.tensor(up)).sum().backward()
    compare_grads([(xo, xt)], "encoder layer input")
    compare_params(ours, theirs, "encoder layer")


@pytest.mark.parametrize("with_norm", [False, True])
@pytest.mark.parametrize("masks", ["none", "causal", "padding"])
def test_transformer_encoder(with_norm: bool, masks: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: nested tensors need batch_first
        theirs = tnn.TransformerEncoder(
            tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=torch.float64), 2,
            norm=tnn.LayerNorm(8, dtype=torch.float64) if with_norm else None)
    layer = gnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=np.float64)
    ours = gnn.TransformerEncoder(layer, 2, norm=gnn.LayerNorm(8, dtype=np.float64)
                                  if with_norm else None)
    p0, p1 = ours.layers[0].linear1.weight, ours.layers[1].linear1.weight
    assert p0 is not p1 and p0 is not layer.linear1.weight, "layers must be copies"
    load_ours_into_torch(ours, theirs)
    xo, xt = leaf_pair(randn(5, 2, 8, seed=82))
    m = encoder_masks(masks, 5, 2)
    m = {("mask" if k == "src_mask" else k): v for k, v in m.items()}
    out_o = ours(xo, **{k: tg.tensor(v) if isinstance(v, np.ndarray) else v
                        for k, v in m.items()})
    out_t = theirs(xt, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                          for k, v in m.items()})
    assert_close(out_o, out_t, what="encoder")
    (out_o * out_o).sum().backward()
    (out_t * out_t).sum().backward()
    compare_grads([(xo, xt)], "encoder input")
    compare_params(ours, theirs, "encoder")


def test_transformer_encoder_layer_errors_and_dropout_in_eval() -> None:
    with pytest.raises(RuntimeError, match="relu/gelu"):
        tnn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(ValueError, match="relu/gelu"):
        gnn.TransformerEncoderLayer(4, 2, activation="tanh")
    ours = gnn.TransformerEncoderLayer(8, 2, 16, dtype=np.float64)
    theirs = tnn.TransformerEncoderLayer(8, 2, 16, dtype=torch.float64)
    load_ours_into_torch(ours, theirs)
    ours.eval()
    theirs.eval()
    x = randn(5, 2, 8, seed=83)
    assert_close(ours(tg.tensor(x)), theirs(torch.tensor(x)), what="dropout 0.1 in eval")
    ours.train()
    a = ours(tg.tensor(x)).numpy()
    assert not np.allclose(a, ours(tg.tensor(x)).numpy()), "dropout in training is random"


# ----------------------------------------------------------------------------- the decoder


def _tensors(kw: dict[str, Any], lib: Any) -> dict[str, Any]:
    return {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


DECODER_CASES = list(itertools.product([False, True], [False, True], ["none", "all"]))


def decoder_masks(masks: str, T: int, S: int) -> dict[str, Any]:
    if masks == "none":
        return {}
    return {"tgt_mask": np.triu(np.full((T, T), -np.inf), 1), "tgt_is_causal": True,
            "memory_mask": ~bool_mask((T, S), 84),
            "tgt_key_padding_mask": np.array([[False] * T, [False] * (T - 1) + [True]]),
            "memory_key_padding_mask": np.array([[False] * (S - 2) + [True] * 2, [False] * S])}


@pytest.mark.parametrize("batch_first,norm_first,masks", DECODER_CASES)
def test_transformer_decoder_layer_and_decoder(batch_first: bool, norm_first: bool,
                                               masks: str) -> None:
    kw = {"dim_feedforward": 16, "dropout": 0.0, "batch_first": batch_first,
          "norm_first": norm_first}
    layer_o = gnn.TransformerDecoderLayer(8, 2, dtype=np.float64, **kw)
    layer_t = tnn.TransformerDecoderLayer(8, 2, dtype=torch.float64, **kw)
    load_ours_into_torch(layer_o, layer_t)
    T, S, N = 4, 5, 2
    tgt = randn(*((N, T, 8) if batch_first else (T, N, 8)), seed=85)
    memory = randn(*((N, S, 8) if batch_first else (S, N, 8)), seed=86)
    m = decoder_masks(masks, T, S)
    stacks = [(layer_o, layer_t)]
    stack_o = gnn.TransformerDecoder(layer_o, 2, norm=gnn.LayerNorm(8, dtype=np.float64))
    stack_t = tnn.TransformerDecoder(layer_t, 2, norm=tnn.LayerNorm(8, dtype=torch.float64))
    load_ours_into_torch(stack_o, stack_t)
    stacks.append((stack_o, stack_t))
    for ours, theirs in stacks:
        pairs = [leaf_pair(tgt), leaf_pair(memory)]
        out_o = ours(pairs[0][0], pairs[1][0], **_tensors(m, tg))
        out_t = theirs(pairs[0][1], pairs[1][1], **_tensors(m, torch))
        what = f"{type(theirs).__name__} {masks}"
        assert_close(out_o, out_t, what=what)
        (out_o * out_o).sum().backward()
        (out_t * out_t).sum().backward()
        compare_grads(pairs, what)
        compare_params(ours, theirs, what)


@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer(batch_first: bool, norm_first: bool) -> None:
    kw = {"dropout": 0.0, "batch_first": batch_first, "norm_first": norm_first,
          "activation": "gelu"}
    ours = gnn.Transformer(8, 2, 2, 1, 16, dtype=np.float64, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = tnn.Transformer(8, 2, 2, 1, 16, dtype=torch.float64, **kw)
    load_ours_into_torch(ours, theirs)
    src = randn(*((2, 5, 8) if batch_first else (5, 2, 8)), seed=87)
    tgt = randn(*((2, 4, 8) if batch_first else (4, 2, 8)), seed=88)
    mask_o = gnn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    mask_t = tnn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    assert_close(mask_o, mask_t, what="generate_square_subsequent_mask")
    assert_close(gnn.Transformer.generate_square_subsequent_mask(3),
                 tnn.Transformer.generate_square_subsequent_mask(3), what="default dtype")
    pairs = [leaf_pair(src), leaf_pair(tgt)]
    padding = np.array([[False] * 4 + [True], [False] * 5])
    out_o = ours(pairs[0][0], pairs[1][0], tgt_mask=mask_o, tgt_is_causal=True,
                 src_key_padding_mask=tg.tensor(padding),
                 memory_key_padding_mask=tg.tensor(padding))
    out_t = theirs(pairs[0][1], pairs[1][1], tgt_mask=mask_t, tgt_is_causal=True,
                   src_key_padding_mask=torch.tensor(padding),
                   memory_key_padding_mask=torch.tensor(padding))
    assert_close(out_o, out_t, what="Transformer")
    (out_o * out_o).sum().backward()
    (out_t * out_t).sum().backward()
    compare_grads(pairs, "Transformer")
    compare_params(ours, theirs, "Transformer")


def test_transformer_init_and_errors() -> None:
    tg.manual_seed(0)
    m = gnn.Transformer(16, 2, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight.numpy()
    bound = np.sqrt(6 / (16 + 32))  # xavier_uniform_ on every matrix
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert (m.encoder.layers[0].linear1.bias.numpy() != 0).any()  # biases keep Linear's init
    with pytest.raises(RuntimeError, match="batch number"):
        tnn.Transformer(8, 2, 1, 1, 16)(torch.zeros(5, 2, 8), torch.zeros(4, 3, 8))
    with pytest.raises(ShapeError, match=r"batch number.*\(5, 2, 8\).*\(4, 3, 8\)"):
        gnn.Transformer(8, 2, 1, 1, 16)(tg.zeros(5, 2, 8), tg.zeros(4, 3, 8))
    with pytest.raises(RuntimeError, match="feature number"):
        tnn.Transformer(8, 2, 1, 1, 16)(torch.zeros(5, 2, 8), torch.zeros(4, 2, 6))
    with pytest.raises(ShapeError, match=r"d_model=8.*\(4, 2, 6\)"):
        gnn.Transformer(8, 2, 1, 1, 16)(tg.zeros(5, 2, 8), tg.zeros(4, 2, 6))
