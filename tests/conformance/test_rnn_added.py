"""nn.RNN / nn.LSTM / nn.GRU and the three cells against PyTorch: our state dict
loaded unchanged into torch's module gives the same outputs, final states and gradients of
every parameter and input (float64 to 1e-7, float32 to 1e-5), for every combination of
num_layers, bidirectional, batch_first and initial states; unbatched inputs; dropout in eval
mode; second derivatives; the constructor and forward errors. nn.utils.rnn and packed
sequences are in test_rnn_utils_added.py."""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn

from ._seq_helpers import KINDS, flat_results, leaf_pair, pair_modules
from .nn_helpers import randn
from .oracle import assert_close


def compare_network(kind: str, ours: Any, theirs: Any, x: np.ndarray,
                    states: list[np.ndarray] | None, what: str) -> None:
    xo, xt = leaf_pair(x)
    so, st = zip(*[leaf_pair(s) for s in states]) if states else ((), ())
    hx_o = None if not states else (tuple(so) if kind == "LSTM" else so[0])
    hx_t = None if not states else (tuple(st) if kind == "LSTM" else st[0])
    res_o, res_t = flat_results(ours(xo, hx_o)), flat_results(theirs(xt, hx_t))
    assert len(res_o) == len(res_t)
    g = np.random.default_rng(11)
    loss_o, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(res_o, res_t)):
        assert_close(a, b, what=f"{what} result {k}")
        up = g.standard_normal(tuple(b.shape))
        loss_o = loss_o + (a * tg.tensor(up, dtype=a.dtype)).sum()
        loss_t = loss_t + (b * torch.tensor(up, dtype=b.dtype)).sum()
    loss_o.backward()
    loss_t.backward()
    assert_close(xo.grad, xt.grad, what=f"{what} input grad")
    for k, (a, b) in enumerate(zip(so, st)):
        assert_close(a.grad, b.grad, what=f"{what} state {k} grad")
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(mine[name].grad, p.grad, what=f"{what} {name}.grad")


CASES = list(itertools.product(KINDS, [1, 2], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,with_states", CASES)
def test_network_values_and_gradients(kind: str, layers: int, bidirectional: bool,
                                      batch_first: bool, with_states: bool) -> None:
    ours, theirs = pair_modules(kind, 3, 4, num_layers=layers, bidirectional=bidirectional,
                                batch_first=batch_first, **KINDS[kind])
    seed = len(kind) + 10 * layers + 100 * bidirectional + 1000 * batch_first
    x = randn(*((2, 5, 3) if batch_first else (5, 2, 3)), seed=seed)
    rows = layers * (2 if bidirectional else 1)
    states = None
    if with_states:
        states = [randn(rows, 2, 4, seed=seed + 1)]
        if kind == "LSTM":
            states.append(randn(rows, 2, 4, seed=seed + 2))
    compare_network(kind.split("_")[0], ours, theirs, x, states,
                    f"{kind} layers={layers} bi={bidirectional} bf={batch_first} "
                    f"states={with_states}")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(kind: str, batch_first: bool) -> None:
    ours, theirs = pair_modules(kind, 3, 4, num_layers=2, bidirectional=True,
                                batch_first=batch_first, **KINDS[kind])
    states = [randn(4, 4, seed=2)] + ([randn(4, 4, seed=3)] if kind == "LSTM" else [])
    compare_network(kind.split("_")[0], ours, theirs, randn(6, 3, seed=1), states, "unbatched")
    ours.zero_grad()
    theirs.zero_grad()
    compare_network(kind.split("_")[0], ours, theirs, randn(6, 3, seed=4), None,
                    "unbatched, no states")


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_bias_dropout_in_eval_mode_and_float32(kind: str) -> None:
    ours, theirs = pair_modules(kind, 3, 5, 2, *([KINDS[kind]["nonlinearity"]]
                                                if KINDS[kind] else []),
                                bias=False, dropout=0.4)
    ours.eval()
    theirs.eval()
    compare_network(kind.split("_")[0], ours, theirs, randn(4, 3, 3, seed=5), None,
                    "no bias, dropout in eval")
    ours32, theirs32 = pair_modules(kind, 3, 5, dtype=np.float32, **KINDS[kind])
    compare_network(kind.split("_")[0], ours32, theirs32,
                    randn(4, 2, 3, seed=6, dtype=np.float32), None, "float32")


@pytest.mark.parametrize("kind", list(KINDS))
def test_empty_batch(kind: str) -> None:
    ours, theirs = pair_modules(kind, 3, 4, num_layers=2, bidirectional=True, **KINDS[kind])
    compare_network(kind.split("_")[0], ours, theirs, randn(5, 0, 3), None, "empty batch")


@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_lstm_with_projection(layers: int, bidirectional: bool) -> None:
    ours, theirs = pair_modules("LSTM", 3, 5, num_layers=layers, bidirectional=bidirectional,
                                proj_size=2, batch_first=True)
    rows = layers * (2 if bidirectional else 1)
    compare_network("LSTM", ours, theirs, randn(2, 4, 3, seed=7),
                    [randn(rows, 2, 2, seed=8), randn(rows, 2, 5, seed=9)], "proj_size=2")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_second_derivatives(kind: str) -> None:
    ours, theirs = pair_modules(kind, 2, 3, num_layers=2, bidirectional=True)
    xo, xt = leaf_pair(randn(3, 2, 2, seed=12))
    (go,) = tg.autograd.grad(ours(xo)[0].tanh().sum(), [xo], create_graph=True)
    (gt,) = torch.autograd.grad(theirs(xt)[0].tanh().sum(), [xt], create_graph=True)
    assert_close(go, gt, what="first derivative")
    (go * go).sum().backward()
    (gt * gt).sum().backward()
    assert_close(xo.grad, xt.grad, what="second derivative (input)")
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(mine[name].grad, p.grad, what=f"second derivative {name}")


def test_torch_state_dict_loads_into_ours_and_attributes_match() -> None:
    theirs = tnn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    ours = gnn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = randn(2, 3, 3, seed=13)
    assert_close(ours(tg.tensor(x))[0], theirs(torch.tensor(x))[0], what="loaded from torch")
    for attr in ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                 "dropout", "bidirectional", "proj_size", "_flat_weights_names"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert [[p.shape for p in ps] for ps in ours.all_weights] == \
        [[tuple(p.shape) for p in ps] for ps in theirs.all_weights]
    ours.flatten_parameters()
    for args, kw in [((3, 4), {}), ((3, 4, 2), {"bias": False, "batch_first": True,
                                                "dropout": 0.5, "bidirectional": True})]:
        for name in ("RNN", "LSTM", "GRU"):
            assert getattr(gnn, name)(*args, **kw).extra_repr() == \
                getattr(tnn, name)(*args, **kw).extra_repr()
    assert gnn.LSTM(3, 4, proj_size=2).extra_repr() == tnn.LSTM(3, 4, proj_size=2).extra_repr()
    assert gnn.RNN(3, 4, 1, "relu").nonlinearity == tnn.RNN(3, 4, 1, "relu").nonlinearity


# ----------------------------------------------------------------------------- cells


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {}), ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("cell,kw", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells(cell: str, kw: dict[str, Any], batched: bool, with_state: bool) -> None:
    ours = getattr(gnn, cell)(3, 4, dtype=np.float64, **kw)
    theirs = getattr(tnn, cell)(3, 4, dtype=torch.float64, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy()))
                            for k, v in ours.state_dict().items()})
    assert ours.extra_repr() == theirs.extra_repr()
    lead = (2,) if batched else ()
    xo, xt = leaf_pair(randn(*lead, 3, seed=20))
    pairs = [leaf_pair(randn(*lead, 4, seed=21 + k)) for k in range(2 if cell == "LSTMCell"
                                                                     else 1)]
    so, st = [p[0] for p in pairs], [p[1] for p in pairs]
    args_o = (xo,) if not with_state else (xo, tuple(so) if cell == "LSTMCell" else so[0])
    args_t = (xt,) if not with_state else (xt, tuple(st) if cell == "LSTMCell" else st[0])
    out_o, out_t = ours(*args_o), theirs(*args_t)
    out_o = list(out_o) if cell == "LSTMCell" else [out_o]
    out_t = list(out_t) if cell == "LSTMCell" else [out_t]
    loss_o, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(out_o, out_t)):
        assert_close(a, b, what=f"{cell} output {k}")
        loss_o, loss_t = loss_o + (a * (k + 2)).tanh().sum(), loss_t + (b * (k + 2)).tanh().sum()
    loss_o.backward()
    loss_t.backward()
    assert_close(xo.grad, xt.grad, what=f"{cell} input grad")
    if with_state:
        for a, b in zip(so, st):
            assert_close(a.grad, b.grad, what=f"{cell} state grad")
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(mine[name].grad, p.grad, what=f"{cell} {name}.grad")


# ----------------------------------------------------------------------------- errors


def _raise_both(ours: Any, theirs: Any) -> tuple[BaseException, BaseException]:
    with pytest.raises(Exception) as e_o:
        ours()
    with pytest.raises(Exception) as e_t, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs()
    return e_o.value, e_t.value


def _module_pair(name: str, *args: Any, **kw: Any) -> tuple[Any, Any]:
    return getattr(gnn, name)(*args, **kw), getattr(tnn, name)(*args, **kw)


ERRORS: list[tuple[str, Any, str]] = [
    ("hidden_size 0", lambda nn: nn.LSTM(3, 0), "hidden_size must be greater than zero"),
    ("input_size 0", lambda nn: nn.GRU(0, 3), "input_size must be greater than zero"),
    ("num_layers 0", lambda nn: nn.RNN(3, 4, num_layers=0), "num_layers must be greater"),
    ("dropout 1.5", lambda nn: nn.LSTM(3, 4, dropout=1.5), "dropout should be a number"),
    ("dropout True", lambda nn: nn.LSTM(3, 4, dropout=True), "dropout should be a number"),
    ("proj_size on RNN", lambda nn: nn.RNN(3, 4, proj_size=2), "only supported for LSTM"),
    ("proj_size on GRU", lambda nn: nn.GRU(3, 4, proj_size=2), "only supported for LSTM"),
    ("proj_size >= hidden", lambda nn: nn.LSTM(3, 4, proj_size=4), "smaller than hidden_size"),
    ("proj_size < 0", lambda nn: nn.LSTM(3, 4, proj_size=-1), "positive integer or zero"),
    ("nonlinearity", lambda nn: nn.RNN(3, 4, nonlinearity="sigmoid"), "Unknown nonlinearity"),
    ("float hidden_size", lambda nn: nn.RNN(3, 4.0), "hidden_size should be of type int"),
    ("bias not bool", lambda nn: nn.GRU(3, 4, bias=1), "bias should be of type bool"),
    ("batch_first not bool", lambda nn: nn.GRU(3, 4, batch_first=1),
     "batch_first should be of type bool"),
]


@pytest.mark.parametrize("what,make,message", ERRORS, ids=[e[0] for e in ERRORS])
def test_constructor_errors(what: str, make: Any, message: str) -> None:
    e_o, e_t = _raise_both(lambda: make(gnn), lambda: make(tnn))
    assert isinstance(e_o, type(e_t)), (what, type(e_o), type(e_t))
    assert message in str(e_o) and message in str(e_t), (str(e_o), str(e_t))


def test_dropout_with_one_layer_warns_as_torch() -> None:
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        gnn.GRU(3, 4, dropout=0.5)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        tnn.GRU(3, 4, dropout=0.5)


FORWARD_ERRORS: list[tuple[str, str, Any, str]] = [
    ("4-D input", "RNN", lambda t: (t.zeros(2, 2, 3, 1),), r"2D or 3D, got 4D.*\(2, 2, 3, 1\)"),
    ("input size", "LSTM", lambda t: (t.zeros(2, 2, 5),), r"Expected 3, got 5.*\(2, 2, 5\)"),
    ("empty sequence", "GRU", lambda t: (t.zeros(0, 2, 3),), r"larger than 0.*\(0, 2, 3\)"),
    ("dtype", "RNN", lambda t: (t.zeros(2, 2, 3, dtype=t.float64),), "float64"),
    ("int input", "GRU", lambda t: (t.zeros(2, 2, 3, dtype=t.int64),), "int64"),
    ("h0 shape", "RNN", lambda t: (t.zeros(2, 2, 3), t.zeros(2, 2, 4)),
     r"\(1, 2, 4\), got \(2, 2, 4\)"),
    ("c0 shape", "LSTM", lambda t: (t.zeros(2, 2, 3), (t.zeros(1, 2, 4), t.zeros(1, 3, 4))),
     r"\(1, 2, 4\), got \(1, 3, 4\)"),
    ("3-D hx, 2-D input", "RNN", lambda t: (t.zeros(2, 3), t.zeros(1, 1, 4)),
     r"unbatched 2-D input, hx should also be 2-D"),
    ("2-D hx, 3-D input", "GRU", lambda t: (t.zeros(2, 2, 3), t.zeros(1, 4)),
     r"batched 3-D input, hx should also be 3-D"),
]


@pytest.mark.parametrize("what,name,args,message", FORWARD_ERRORS,
                         ids=[e[0] for e in FORWARD_ERRORS])
def test_forward_errors(what: str, name: str, args: Any, message: str) -> None:
    ours, theirs = _module_pair(name, 3, 4)
    e_o, e_t = _raise_both(lambda: ours(*args(tg)), lambda: theirs(*args(torch)))
    assert isinstance(e_o, type(e_t)), (what, type(e_o), type(e_t), e_t)
    assert re.search(message, str(e_o)), str(e_o)


CELL_ERRORS: list[tuple[str, str, Any, str]] = [
    ("3-D input", "LSTMCell", lambda t: (t.zeros(2, 2, 3),), r"1D or 2D, got 3D"),
    ("input size", "GRUCell", lambda t: (t.zeros(2, 5),), r"got 5 expected 3"),
    ("batch", "RNNCell", lambda t: (t.zeros(2, 3), t.zeros(3, 4)), r"\(3, 4\).*\(2, 3\)"),
    ("hidden size", "LSTMCell", lambda t: (t.zeros(2, 3), (t.zeros(2, 4), t.zeros(2, 1))),
     r"\(2, 1\).*expected \(2, 4\)"),
    ("3-D hx", "GRUCell", lambda t: (t.zeros(2, 3), t.zeros(1, 2, 4)), r"1D or 2D, got 3D"),
]


@pytest.mark.parametrize("what,name,args,message", CELL_ERRORS, ids=[e[0] for e in CELL_ERRORS])
def test_cell_errors(what: str, name: str, args: Any, message: str) -> None:
    ours, theirs = _module_pair(name, 3, 4)
    e_o, e_t = _raise_both(lambda: ours(*args(tg)), lambda: theirs(*args(torch)))
    assert isinstance(e_o, type(e_t)), (what, type(e_o), type(e_t), e_t)
    assert re.search(message, str(e_o)), str(e_o)


def test_rnn_cell_unknown_nonlinearity_raises_at_construction_deliberately() -> None:
    """PyTorch builds the cell and raises at its first call; we raise at the constructor."""
    with pytest.raises(ValueError, match="Unknown nonlinearity 'x'"):
        gnn.RNNCell(3, 4, nonlinearity="x")
    cell = tnn.RNNCell(3, 4, nonlinearity="x")
    with pytest.raises(RuntimeError, match="Unknown nonlinearity"):
        cell(torch.zeros(2, 3))
