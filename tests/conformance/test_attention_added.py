"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch: values and
gradients (every input and parameter, float64 to 1e-7, float32 to 1e-5), second
derivatives of the functional form, the masks (bool and float, causal, key padding, fully
masked rows), our state dicts loaded into torch's modules, and the errors. The transformer
modules are in test_transformer_added.py."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF

from ._seq_helpers import bool_mask, compare_grads, compare_params, leaf_pair, load_ours_into_torch
from .nn_helpers import randn
from .oracle import assert_close

# ----------------------------------------------------------------------------- the functional form


SDPA_CASES: list[tuple[str, dict[str, Any]]] = [
    ("plain", {}),
    ("causal", {"is_causal": True}),
    ("scale", {"scale": 0.37}),
    ("bool mask", {"attn_mask": bool_mask((3, 5), 1)}),
    ("bool mask per batch", {"attn_mask": bool_mask((2, 1, 3, 5), 2)}),
    ("float mask", {"attn_mask": randn(3, 5, seed=3)}),
    ("fully masked row", {"attn_mask": np.array([[False] * 5] + [[True] * 5] * 2)}),
    ("-inf float row", {"attn_mask": np.where(np.arange(15).reshape(3, 5) < 5, -np.inf, 0.0)}),
]


@pytest.mark.parametrize("what,kw", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sdpa_values_and_gradients(what: str, kw: dict[str, Any], dtype: Any) -> None:
    arrays = [randn(2, 2, 3, 4, seed=10, dtype=dtype), randn(2, 2, 5, 4, seed=11, dtype=dtype),
              randn(2, 2, 5, 6, seed=12, dtype=dtype)]
    pairs = [leaf_pair(a) for a in arrays]
    kw_o, kw_t = dict(kw), dict(kw)
    if "attn_mask" in kw:
        m = kw["attn_mask"]
        m = m.astype(dtype) if m.dtype.kind == "f" else m
        kw_o["attn_mask"], kw_t["attn_mask"] = tg.tensor(m), torch.tensor(m)
    out_o = GF.scaled_dot_product_attention(*[p[0] for p in pairs], **kw_o)
    out_t = TF.scaled_dot_product_attention(*[p[1] for p in pairs], **kw_t)
    assert_close(out_o, out_t, what=what)
    up = randn(*out_t.shape, seed=13, dtype=dtype)
    (out_o * tg.tensor(up)).sum().backward()
    (out_t * torch.tensor(up)).sum().backward()
    compare_grads(pairs, what)


@pytest.mark.parametrize("what,kw", SDPA_CASES[:6], ids=[c[0] for c in SDPA_CASES[:6]])
def test_sdpa_second_derivatives(what: str, kw: dict[str, Any]) -> None:
    pairs = [leaf_pair(randn(2, 3, 4, seed=20)), leaf_pair(randn(2, 5, 4, seed=21)),
             leaf_pair(randn(2, 5, 4, seed=22))]
    kw_o = {k: tg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    if "attn_mask" in kw and kw["attn_mask"].ndim == 4:
        kw_o["attn_mask"], kw_t["attn_mask"] = kw_o["attn_mask"][:, 0], kw_t["attn_mask"][:, 0]
    ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
    y_o = GF.scaled_dot_product_attention(*ours, **kw_o).tanh().sum()
    y_t = TF.scaled_dot_product_attention(*theirs, **kw_t).tanh().sum()
    g_o = tg.autograd.grad(y_o, ours, create_graph=True)
    g_t = torch.autograd.grad(y_t, theirs, create_graph=True)
    sum((g * g).sum() for g in g_o).backward()
    sum((g * g).sum() for g in g_t).backward()
    compare_grads(pairs, f"{what} second order")


def test_sdpa_2d_inputs_keywords_and_grouped_query_heads() -> None:
    q, k, v = randn(3, 4, seed=30), randn(5, 4, seed=31), randn(5, 2, seed=32)
    assert_close(GF.scaled_dot_product_attention(query=tg.tensor(q), key=tg.tensor(k),
                                                 value=tg.tensor(v), is_causal=True),
                 TF.scaled_dot_product_attention(query=torch.tensor(q), key=torch.tensor(k),
                                                 value=torch.tensor(v), is_causal=True),
                 what="2-D, keywords")
    pairs = [leaf_pair(randn(1, 4, 3, 4, seed=33)), leaf_pair(randn(1, 2, 5, 4, seed=34)),
             leaf_pair(randn(1, 2, 5, 4, seed=35))]
    out_o = GF.scaled_dot_product_attention(*[p[0] for p in pairs], enable_gqa=True)
    out_t = TF.scaled_dot_product_attention(*[p[1] for p in pairs], enable_gqa=True)
    assert_close(out_o, out_t, what="enable_gqa")
    out_o.sum().backward()
    out_t.sum().backward()
    compare_grads(pairs, "enable_gqa")


def test_sdpa_dropout_statistics_and_reproducibility() -> None:
    q = tg.tensor(randn(1, 1, 2000, 4, seed=40) * 0)  # uniform weights: each 1/S
    v = tg.ones(1, 1, 10, 1, dtype=np.float64)
    tg.manual_seed(3)
    a = GF.scaled_dot_product_attention(q, q[..., :10, :], v, dropout_p=0.25).numpy()
    tg.manual_seed(3)
    b = GF.scaled_dot_product_attention(q, q[..., :10, :], v, dropout_p=0.25).numpy()
    np.testing.assert_array_equal(a, b)
    # each output is (kept / 10) / 0.75 with kept ~ Binomial(10, 0.75): mean 1
    assert abs(a.mean() - 1.0) < 0.02
    assert abs(a.std() - np.sqrt(10 * 0.75 * 0.25) / 7.5) < 0.02


SDPA_ERRORS: list[tuple[str, Any]] = [
    ("mask and causal", lambda t, q, k, v: t(q, k, v, attn_mask=torch_or_tg_ones(q, 3, 5),
                                             is_causal=True)),
    ("E mismatch", lambda t, q, k, v: t(q, k[..., :3], v)),
    ("dtype mismatch", lambda t, q, k, v: t(q.double(), k, v)),
    ("float64 mask for float32", lambda t, q, k, v: t(q, k, v, attn_mask=zeros(q, 3, 5)
                                                      .double())),
    ("mask shape", lambda t, q, k, v: t(q, k, v, attn_mask=zeros(q, 4, 5))),
]


def zeros(like: Any, *shape: int) -> Any:
    return (torch if isinstance(like, torch.Tensor) else tg).zeros(*shape)


def torch_or_tg_ones(like: Any, *shape: int) -> Any:
    return (torch if isinstance(like, torch.Tensor) else tg).ones(*shape, dtype=(
        torch.bool if isinstance(like, torch.Tensor) else np.bool_))


@pytest.mark.parametrize("what,call", SDPA_ERRORS, ids=[e[0] for e in SDPA_ERRORS])
def test_sdpa_errors(what: str, call: Any) -> None:
    arrays = [randn(2, 3, 4, seed=50, dtype=np.float32), randn(2, 5, 4, seed=51,
                                                                dtype=np.float32),
              randn(2, 5, 6, seed=52, dtype=np.float32)]
    with pytest.raises(RuntimeError):
        call(TF.scaled_dot_product_attention, *[torch.tensor(a) for a in arrays])
    with pytest.raises((ValueError, TypeError)) as e:
        call(GF.scaled_dot_product_attention, *[tg.tensor(a) for a in arrays])
    assert "scaled_dot_product_attention" in str(e.value)


# ----------------------------------------------------------------------------- MultiheadAttention


def mha_pair(*args: Any, dtype: Any = np.float64, **kw: Any) -> tuple[Any, Any]:
    ours = gnn.MultiheadAttention(*args, dtype=dtype, **kw)
    theirs = tnn.MultiheadAttention(*args, dtype=torch.float64 if dtype == np.float64
                                    else torch.float32, **kw)
    load_ours_into_torch(ours, theirs)
    return ours, theirs


def run_mha(ours: Any, theirs: Any, arrays: list[np.ndarray], what: str,
            **kw: Any) -> None:
    pairs = [leaf_pair(a) for a in arrays]
    kw_o = {k: tg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    self_attention = len(arrays) == 1
    args_o = [pairs[0][0]] * 3 if self_attention else [p[0] for p in pairs]
    args_t = [pairs[0][1]] * 3 if self_attention else [p[1] for p in pairs]
    out_o, w_o = ours(*args_o, **kw_o)
    out_t, w_t = theirs(*args_t, **kw_t)
    assert_close(out_o, out_t, what=f"{what} output")
    up = randn(*out_t.shape, seed=60)
    loss_o, loss_t = (out_o * tg.tensor(up)).sum(), (out_t * torch.tensor(up)).sum()
    if w_t is None:
        assert w_o is None, what
    else:
        assert_close(w_o, w_t, what=f"{what} weights")
        loss_o, loss_t = loss_o + w_o.tanh().sum(), loss_t + w_t.tanh().sum()
    loss_o.backward()
    loss_t.backward()
    compare_grads(pairs, what)
    compare_params(ours, theirs, what)


MHA_CASES = list(itertools.product([False, True], [True, False], [True, False],
                                   ["none", "attn bool", "attn float 3d", "padding", "both"]))


@pytest.mark.parametrize("batch_first,need_weights,average,masks", MHA_CASES)
def test_multihead_attention(batch_first: bool, need_weights: bool, average: bool,
                             masks: str) -> None:
    ours, theirs = mha_pair(6, 3, batch_first=batch_first)
    L, S, N = 3, 4, 2
    shape = (lambda n: (N, n, 6)) if batch_first else (lambda n: (n, N, 6))
    arrays = [randn(*shape(L), seed=61), randn(*shape(S), seed=62), randn(*shape(S), seed=63)]
    kw: dict[str, Any] = {"need_weights": need_weights, "average_attn_weights": average}
    if masks in ("attn bool", "both"):
        kw["attn_mask"] = ~bool_mask((L, S), 64)
    if masks == "attn float 3d":
        kw["attn_mask"] = randn(N * 3, L, S, seed=65)
    if masks in ("padding", "both"):
        kw["key_padding_mask"] = np.array([[False, False, True, True], [False] * 4])
    run_mha(ours, theirs, arrays, f"{masks} bf={batch_first} nw={need_weights}", **kw)


def test_multihead_self_attention_unbatched_causal_kdim_vdim_no_bias_float32() -> None:
    ours, theirs = mha_pair(4, 2)
    causal = np.triu(np.ones((3, 3), dtype=bool), 1)
    run_mha(ours, theirs, [randn(3, 2, 4, seed=70)], "self causal", attn_mask=causal,
            is_causal=True)
    ours.zero_grad()
    theirs.zero_grad()
    run_mha(ours, theirs, [randn(3, 4, seed=71)], "unbatched",
            key_padding_mask=np.array([False, True, False]), average_attn_weights=False)
    ours, theirs = mha_pair(4, 2, kdim=3, vdim=5, bias=False)
    run_mha(ours, theirs, [randn(3, 2, 4, seed=72), randn(6, 2, 3, seed=73),
                           randn(6, 2, 5, seed=74)], "kdim vdim")
    ours, theirs = mha_pair(4, 1, dtype=np.float32)
    run_mha(ours, theirs, [randn(3, 2, 4, seed=75, dtype=np.float32)], "float32")


@pytest.mark.parametrize("kw", [{"add_bias_kv": True}, {"add_zero_attn": True},
                                {"add_bias_kv": True, "add_zero_attn": True, "bias": False}])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_extra_keys(kw: dict[str, Any], need_weights: bool) -> None:
    ours, theirs = mha_pair(4, 2, **kw)
    run_mha(ours, theirs, [randn(3, 2, 4, seed=79), randn(5, 2, 4, seed=80),
                           randn(5, 2, 4, seed=81)], f"{kw}", need_weights=need_weights,
            attn_mask=~bool_mask((3, 5), 82),
            key_padding_mask=np.array([[False] * 4 + [True], [False] * 5]))


def test_multihead_fully_masked_rows_nan_with_weights_zero_without() -> None:
    ours, theirs = mha_pair(4, 2)
    x = randn(3, 2, 4, seed=76)
    kpm = np.array([[False] * 3, [True] * 3])
    for need_weights in (True, False):
        out_o, _ = ours(tg.tensor(x), tg.tensor(x), tg.tensor(x), key_padding_mask=tg.tensor(kpm),
                        need_weights=need_weights)
        out_t, _ = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x),
                          key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
        assert_close(out_o, out_t, what=f"need_weights={need_weights}")
        assert np.isnan(out_o.numpy()[:, 1]).all() == need_weights


def test_multihead_dropout_in_eval_and_initialization() -> None:
    ours, theirs = mha_pair(8, 2, dropout=0.5)
    ours.eval()
    theirs.eval()
    run_mha(ours, theirs, [randn(4, 2, 8, seed=77)], "dropout in eval")
    tg.manual_seed(0)
    m = gnn.MultiheadAttention(64, 4)
    assert m.in_proj_bias is not None and m.in_proj_weight is not None
    assert (m.in_proj_bias.numpy() == 0).all() and (m.out_proj.bias.numpy() == 0).all()
    bound = np.sqrt(6 / (64 + 192))  # xavier_uniform_ on (3E, E)
    w = m.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.005


MHA_ERRORS: list[tuple[str, Any]] = [
    ("embed_dim not divisible", lambda nn: nn.MultiheadAttention(5, 2)),
    ("embed_dim 0", lambda nn: nn.MultiheadAttention(0, 2)),
]


@pytest.mark.parametrize("what,make", MHA_ERRORS, ids=[e[0] for e in MHA_ERRORS])
def test_multihead_constructor_errors(what: str, make: Any) -> None:
    with pytest.raises((AssertionError, ValueError)):
        make(tnn)
    with pytest.raises(ValueError, match="MultiheadAttention"):
        make(gnn)


MHA_FORWARD_ERRORS: list[tuple[str, Any, str]] = [
    ("causal without mask", lambda t, x: {"is_causal": True}, "Need attn_mask"),
    ("3-D mask rows", lambda t, x: {"attn_mask": t.zeros(5, 3, 3, dtype=x.dtype)},
     r"\(4, 3, 3\).*got \(5, 3, 3\)"),
    ("padding mask shape", lambda t, x: {"key_padding_mask": t.zeros(2, 4, dtype=t.bool)},
     r"\(2, 3\).*got \(2, 4\)"),
    ("int mask", lambda t, x: {"attn_mask": t.zeros(3, 3, dtype=t.int64)}, "bool or floating"),
    ("float32 mask", lambda t, x: {"attn_mask": t.zeros(3, 3, dtype=t.float32)}, "dtype"),
]


@pytest.mark.parametrize("what,kw,message", MHA_FORWARD_ERRORS,
                         ids=[e[0] for e in MHA_FORWARD_ERRORS])
def test_multihead_forward_errors(what: str, kw: Any, message: str) -> None:
    ours, theirs = mha_pair(4, 2)
    x = randn(3, 2, 4, seed=78)
    xt, xo = torch.tensor(x), tg.tensor(x)
    with pytest.raises((RuntimeError, AssertionError)):
        theirs(xt, xt, xt, **kw(torch, xt))
    with pytest.raises((ValueError, TypeError), match=message):
        ours(xo, xo, xo, **kw(tg, xo))
    with pytest.raises(ValueError, match=r"\(3, 2, 4\), \(2, 2, 4\)"):
        ours(xo, xo[:2], xo)
