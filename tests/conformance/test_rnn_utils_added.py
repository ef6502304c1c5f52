"""nn.utils.rnn against PyTorch: pad_sequence / unpad_sequence, PackedSequence and the
pack / pad functions (values, layouts, gradients), and RNN, LSTM and GRU run on packed
sequences (outputs, final states, gradients of inputs, states and every parameter)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
from torch.nn.utils.rnn import pad_sequence as torch_pad_sequence
from torch.nn.utils.rnn import unpad_sequence as torch_unpad_sequence

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn.utils.rnn import pad_sequence, unpad_sequence

from ._seq_helpers import KINDS, leaf_pair, pair_modules
from .nn_helpers import randn
from .oracle import assert_close

# ----------------------------------------------------------------------------- nn.utils.rnn


PAD_CASES = [({}, "right"), ({"batch_first": True}, "right"), ({"padding_value": -2.5}, "left"),
             ({"batch_first": True, "padding_value": 3.0}, "left")]


@pytest.mark.parametrize("kw,side", PAD_CASES)
@pytest.mark.parametrize("trailing", [(), (2,), (2, 3)])
def test_pad_sequence(kw: dict[str, Any], side: str, trailing: tuple[int, ...]) -> None:
    arrays = [randn(n, *trailing, seed=30 + n) for n in (3, 1, 4, 0)]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    po = pad_sequence(ours, padding_side=side, **kw)
    pt = torch_pad_sequence(theirs, padding_side=side, **kw)
    assert_close(po, pt, what=f"pad_sequence {kw} {side}")
    up = randn(*pt.shape, seed=40)
    (po * tg.tensor(up)).sum().backward()
    (pt * torch.tensor(up)).sum().backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad, what="pad_sequence grad")
    if side == "right":
        lengths = [3, 1, 4, 0]
        bf = kw.get("batch_first", False)
        for a, b in zip(unpad_sequence(po, tg.tensor(lengths), bf),
                        torch_unpad_sequence(pt, torch.tensor(lengths), bf)):
            assert_close(a, b, what="unpad_sequence")


def test_pad_sequence_dtypes_positional_and_tensor_input() -> None:
    a, b = np.array([1, 2, 3]), np.array([4])
    assert_close(pad_sequence([tg.tensor(a), tg.tensor(b)], True, -1.5),
                 torch_pad_sequence([torch.tensor(a), torch.tensor(b)], True, -1.5),
                 what="int64 with a fractional padding value")
    assert_close(pad_sequence((tg.tensor(a), tg.tensor([1.5])), False, 7, "left"),
                 torch_pad_sequence((torch.tensor(a), torch.tensor([1.5])), False, 7, "left"),
                 what="the first sequence's dtype wins")
    x = randn(2, 3, dtype=np.float32)
    assert_close(pad_sequence(tg.tensor(x)), torch_pad_sequence(torch.tensor(x)),
                 what="a tensor is its rows")
    assert_close(pad_sequence(sequences=[tg.tensor(x)], batch_first=True, padding_value=1.0,
                              padding_side="left"),
                 torch_pad_sequence(sequences=[torch.tensor(x)], batch_first=True,
                                    padding_value=1.0, padding_side="left"), what="keywords")


# ----------------------------------------------------------------------------- packed sequences


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_packed_sequence(enforce_sorted: bool, batch_first: bool) -> None:
    lengths = [5, 5, 3, 1] if enforce_sorted else [3, 5, 1, 5]
    x = randn(*((4, 5, 2) if batch_first else (5, 4, 2)), seed=90)
    xo, xt = leaf_pair(x)
    po = gnn.utils.rnn.pack_padded_sequence(xo, lengths, batch_first, enforce_sorted)
    pt = tnn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted)
    for k, (a, b) in enumerate(zip(po, pt)):
        if b is None:
            assert a is None, f"field {k}"
        else:
            assert_close(a, b, what=f"PackedSequence field {k}")
    a, la = gnn.utils.rnn.pad_packed_sequence(po, batch_first=batch_first, padding_value=-1.0,
                                              total_length=7)
    b, lb = tnn.utils.rnn.pad_packed_sequence(pt, batch_first=batch_first, padding_value=-1.0,
                                              total_length=7)
    assert_close(a, b, what="pad_packed_sequence")
    assert_close(la, lb, what="lengths")
    up = randn(*b.shape, seed=91)
    (a * tg.tensor(up)).sum().backward()
    (b * torch.tensor(up)).sum().backward()
    assert_close(xo.grad, xt.grad, what="gradient through pack and pad")
    seqs = [randn(n, 2, seed=92 + n) for n in lengths]
    for a, b in zip(gnn.utils.rnn.unpack_sequence(gnn.utils.rnn.pack_sequence(
                        [tg.tensor(s) for s in seqs], enforce_sorted=enforce_sorted)),
                    tnn.utils.rnn.unpack_sequence(tnn.utils.rnn.pack_sequence(
                        [torch.tensor(s) for s in seqs], enforce_sorted=enforce_sorted))):
        assert_close(a, b, what="pack_sequence / unpack_sequence")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("enforce_sorted,with_states", [(True, False), (False, True)])
def test_networks_on_packed_sequences(kind: str, layers: int, bidirectional: bool,
                                      enforce_sorted: bool, with_states: bool) -> None:
    ours, theirs = pair_modules(kind, 3, 4, num_layers=layers, bidirectional=bidirectional,
                                **KINDS[kind])
    lengths = [5, 4, 4, 2] if enforce_sorted else [2, 5, 4, 5]
    xo, xt = leaf_pair(randn(5, 4, 3, seed=93))
    rows = layers * (2 if bidirectional else 1)
    states = [leaf_pair(randn(rows, 4, 4, seed=94 + k))
              for k in range(2 if kind == "LSTM" else 1)] if with_states else []
    hx_o = None if not states else (tuple(s[0] for s in states) if kind == "LSTM"
                                    else states[0][0])
    hx_t = None if not states else (tuple(s[1] for s in states) if kind == "LSTM"
                                    else states[0][1])
    out_o, h_o = ours(gnn.utils.rnn.pack_padded_sequence(xo, lengths,
                                                         enforce_sorted=enforce_sorted), hx_o)
    out_t, h_t = theirs(tnn.utils.rnn.pack_padded_sequence(xt, lengths,
                                                           enforce_sorted=enforce_sorted), hx_t)
    assert isinstance(out_o, gnn.utils.rnn.PackedSequence)
    results_o = [out_o.data, *(h_o if isinstance(h_o, tuple) else (h_o,))]
    results_t = [out_t.data, *(h_t if isinstance(h_t, tuple) else (h_t,))]
    loss_o, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(results_o, results_t)):
        assert_close(a, b, what=f"packed {kind} result {k}")
        loss_o, loss_t = loss_o + (a * a).sum() * (k + 1), loss_t + (b * b).sum() * (k + 1)
    assert_close(out_o.batch_sizes, out_t.batch_sizes, what="batch_sizes")
    loss_o.backward()
    loss_t.backward()
    assert_close(xo.grad, xt.grad, what="packed input grad")
    for a, b in states:
        assert_close(a.grad, b.grad, what="packed state grad")
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(mine[name].grad, p.grad, what=f"packed {name}.grad")


def test_pack_padded_sequence_errors() -> None:
    x = tg.zeros(3, 2, 1)
    for lengths, enforce, message in [([1, 3], True, "sorted in decreasing order"),
                                      ([2, 0], True, "greater than 0")]:
        with pytest.raises(RuntimeError):
            tnn.utils.rnn.pack_padded_sequence(torch.zeros(3, 2, 1), lengths,
                                               enforce_sorted=enforce)
        with pytest.raises(ValueError, match=message):
            gnn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=enforce)
    with pytest.raises(ShapeError, match=r"\[3, 4\].*\(3, 2, 1\)"):
        gnn.utils.rnn.pack_padded_sequence(x, [3, 4])
    packed = gnn.utils.rnn.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="total_length"):
        gnn.utils.rnn.pad_packed_sequence(packed, total_length=2)


def test_invert_permutation() -> None:
    perm = np.array([2, 0, 3, 1])
    assert_close(gnn.utils.rnn.invert_permutation(tg.tensor(perm)),
                 tnn.utils.rnn.invert_permutation(torch.tensor(perm)), what="inverse")
    assert gnn.utils.rnn.invert_permutation(None) is None
    with pytest.raises(ValueError, match="permutation"):
        gnn.utils.rnn.invert_permutation(tg.tensor([0, 0, 1]))
