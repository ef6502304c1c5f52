"""Attention without PyTorch: gradients of scaled_dot_product_attention (first and second
order, with masks), MultiheadAttention and the transformer encoder layer against central
differences in float64, the formula written out in numpy, and the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.testing import assert_gradients_match


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@settings(max_examples=8, deadline=None)
@given(L=st.integers(1, 3), S=st.integers(1, 4), E=st.integers(1, 3),
       mask=st.sampled_from(["none", "causal", "bool", "float"]), seed=st.integers(0, 2**16))
def test_sdpa_gradients_first_and_second_order(L: int, S: int, E: int, mask: str,
                                               seed: int) -> None:
    g = rng(seed)
    q, k = g.standard_normal((2, L, E)), g.standard_normal((2, S, E))
    v = g.standard_normal((2, S, 2))
    kw: dict[str, Any] = {}
    if mask == "causal":
        kw["is_causal"] = True
    elif mask == "bool":
        m = g.random((L, S)) > 0.5
        m[:, 0] = True
        kw["attn_mask"] = tg.tensor(m)
    elif mask == "float":
        kw["attn_mask"] = tg.tensor(g.standard_normal((L, S)))
    up = tg.tensor(g.standard_normal((2, L, 2)))
    assert_gradients_match(lambda q, k, v: (F.scaled_dot_product_attention(q, k, v, **kw)
                                            * up).sum(), q, k, v, second_order=True)


def test_sdpa_equals_the_formula_and_masked_rows_are_zero() -> None:
    g = rng(1)
    q, k, v = g.standard_normal((3, 4)), g.standard_normal((5, 4)), g.standard_normal((5, 2))
    m = g.random((3, 5)) > 0.4
    m[0] = False
    s = q @ k.T / 2 + np.where(m, 0, -np.inf)
    w = np.exp(s - s.max(1, keepdims=True, where=m, initial=-1e300))
    w = np.where(m, w, 0)
    w = np.divide(w, w.sum(1, keepdims=True), out=np.zeros_like(w), where=m.any(1)[:, None])
    out = F.scaled_dot_product_attention(tg.tensor(q), tg.tensor(k), tg.tensor(v),
                                         attn_mask=tg.tensor(m))
    np.testing.assert_allclose(out.numpy(), w @ v, rtol=1e-12, atol=1e-15)
    assert (out.numpy()[0] == 0).all()


def _module_gradcheck(module: nn.Module, call: Any, *inputs: np.ndarray) -> None:
    names = [n for n, _ in module.named_parameters()]
    weights = [p.numpy().copy() for _, p in module.named_parameters()]
    count = len(inputs)

    def f(*tensors: tg.Tensor) -> tg.Tensor:
        params = dict(zip(names, tensors[count:]))
        return nn.utils.functional_call(module, params, tuple(tensors[:count]),
                                        {"call": call})
    assert_gradients_match(f, *inputs, *weights)


class _Call(nn.Module):
    """Wraps a module so functional_call can pass a loss function through kwargs."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, *args: Any, call: Any) -> Any:
        return call(self.inner, *args)


def test_multihead_attention_gradients() -> None:
    g = rng(2)
    m = _Call(nn.MultiheadAttention(4, 2, kdim=3, vdim=2, dtype=np.float64, generator=2))
    up = tg.tensor(g.standard_normal((3, 2, 4)))
    kpm = tg.tensor(np.array([[False, False, True, False], [False] * 4]))

    def loss(inner: nn.Module, q: tg.Tensor, k: tg.Tensor, v: tg.Tensor) -> tg.Tensor:
        out, w = inner(q, k, v, key_padding_mask=kpm, average_attn_weights=False)
        return (out * up).sum() + (w * w).sum()

    _module_gradcheck(m, loss, g.standard_normal((3, 2, 4)), g.standard_normal((4, 2, 3)),
                      g.standard_normal((4, 2, 2)))


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_gradients(norm_first: bool) -> None:
    g = rng(3)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu",
                                       norm_first=norm_first, batch_first=True, dtype=np.float64)
    m = _Call(layer)
    up = tg.tensor(g.standard_normal((2, 3, 4)))
    mask = tg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1))

    def loss(inner: nn.Module, x: tg.Tensor) -> tg.Tensor:
        return (inner(x, src_mask=mask, is_causal=True) * up).sum()

    _module_gradcheck(m, loss, g.standard_normal((2, 3, 4)))


def test_transformer_decoder_layer_gradients() -> None:
    g = rng(4)
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, dtype=np.float64)
    m = _Call(layer)
    up = tg.tensor(g.standard_normal((3, 2, 4)))
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64)
    padding = tg.tensor(np.array([[False, True], [False, False]]))

    def loss(inner: nn.Module, tgt: tg.Tensor, memory: tg.Tensor) -> tg.Tensor:
        out = inner(tgt, memory, tgt_mask=mask, memory_key_padding_mask=padding)
        return (out * up).sum()

    _module_gradcheck(m, loss, g.standard_normal((3, 2, 4)), g.standard_normal((2, 2, 4)))


def test_attention_errors_name_the_shapes() -> None:
    q = tg.zeros(2, 3, 4)
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\).*\(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, tg.zeros(2, 5, 3), tg.zeros(2, 5, 3))
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(4, 5\).*\(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, tg.zeros(2, 5, 4), tg.zeros(2, 5, 4),
                                       attn_mask=tg.zeros(4, 5))
    with pytest.raises(ShapeError, match="enable_gqa"):
        F.scaled_dot_product_attention(tg.zeros(1, 3, 2, 4), tg.zeros(1, 2, 2, 4),
                                       tg.zeros(1, 2, 2, 4), enable_gqa=True)
    m = nn.MultiheadAttention(4, 2)
    with pytest.raises(ShapeError, match=r"\(3, 2, 5\)"):
        m(tg.zeros(3, 2, 5), tg.zeros(3, 2, 5), tg.zeros(3, 2, 5))
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2), -1)


def test_multihead_dropout_in_training_is_reproducible_and_returned_weights_are_dropped() -> None:
    m = nn.MultiheadAttention(4, 1, dropout=0.5, dtype=np.float64)
    x = tg.tensor(rng(5).standard_normal((30, 2, 4)))
    tg.manual_seed(4)
    out1, w1 = m(x, x, x)
    tg.manual_seed(4)
    out2, w2 = m(x, x, x)
    np.testing.assert_array_equal(out1.numpy(), out2.numpy())
    assert w1 is not None and w2 is not None
    weights = w1.numpy()
    # about half the weights are zeroed and the rest doubled: rows sum to about 1 on average
    assert abs((weights == 0).mean() - 0.5) < 0.05
    assert abs(weights.sum(-1).mean() - 1.0) < 0.1
    m.eval()
    _, w_eval = m(x, x, x)
    assert w_eval is not None
    np.testing.assert_allclose(w_eval.numpy().sum(-1), 1.0)
