"""Sequence models without PyTorch: backpropagation through time of nn.RNN/LSTM/GRU and the
cells (also on packed sequences) against central differences (float64), the gate formulas
in numpy, init, dropout between layers by statistics and reproducibility, pad_sequence.
cs231n's recurrent layer functions are in test_rnn_course_added.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn.utils.rnn import (
    pack_padded_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpad_sequence,
)
from tinygrad_edu.testing import assert_gradients_match


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- BPTT gradients


def _network_loss(module: nn.Module, names: list[str], lstm: bool, up: np.ndarray,
                  up_h: np.ndarray) -> Any:
    """A scalar of the output and the final state, as a function of (input, h0, weights)."""
    def f(x: tg.Tensor, h0: tg.Tensor, *weights: tg.Tensor) -> tg.Tensor:
        hx = (h0, h0 * 0.5) if lstm else h0
        out, h_n = nn.utils.functional_call(module, dict(zip(names, weights)), (x, hx))
        h_last = h_n[0] if lstm else h_n
        return (out * tg.tensor(up)).sum() + (h_last * tg.tensor(up_h)).sum()
    return f


@settings(max_examples=6, deadline=None)
@given(kind=st.sampled_from(["RNN", "LSTM", "GRU"]), layers=st.integers(1, 2),
       bidirectional=st.booleans(), batch_first=st.booleans(), seq=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_backpropagation_through_time_matches_central_differences(
        kind: str, layers: int, bidirectional: bool, batch_first: bool, seq: int,
        seed: int) -> None:
    g = rng(seed)
    module = getattr(nn, kind)(2, 3, num_layers=layers, bidirectional=bidirectional,
                               batch_first=batch_first, dtype=np.float64, generator=seed)
    names = [n for n, _ in module.named_parameters()]
    weights = [p.numpy().copy() for _, p in module.named_parameters()]
    d = 2 if bidirectional else 1
    x = g.standard_normal((2, seq, 2) if batch_first else (seq, 2, 2))
    h0 = g.standard_normal((d * layers, 2, 3))
    out_shape = (2, seq, 3 * d) if batch_first else (seq, 2, 3 * d)
    f = _network_loss(module, names, kind == "LSTM", g.standard_normal(out_shape),
                      g.standard_normal((d * layers, 2, 3)))
    assert_gradients_match(f, x, h0, *weights)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradients_first_and_second_order(cell: str) -> None:
    module = getattr(nn, cell)(3, 2, dtype=np.float64, generator=1)
    names = [n for n, _ in module.named_parameters()]
    weights = [p.numpy().copy() for _, p in module.named_parameters()]
    g = rng(1)
    x, h = g.standard_normal((2, 3)), g.standard_normal((2, 2))
    up = tg.tensor(g.standard_normal((2, 2)))

    def f(x: tg.Tensor, h: tg.Tensor, *w: tg.Tensor) -> tg.Tensor:
        hx = (h, h * h) if cell == "LSTMCell" else h
        y = nn.utils.functional_call(module, dict(zip(names, w)), (x, hx))
        y = y[0] + 2 * y[1] if cell == "LSTMCell" else y
        return (y * up).sum()

    assert_gradients_match(f, x, h, *weights, second_order=True)


def test_lstm_projection_gradient() -> None:
    module = nn.LSTM(2, 4, proj_size=2, num_layers=2, dtype=np.float64, generator=3)
    names = [n for n, _ in module.named_parameters()]
    weights = [p.numpy().copy() for _, p in module.named_parameters()]
    g = rng(3)
    x = g.standard_normal((3, 2, 2))
    up = tg.tensor(g.standard_normal((3, 2, 2)))

    def f(x: tg.Tensor, *w: tg.Tensor) -> tg.Tensor:
        out, (h, c) = nn.utils.functional_call(module, dict(zip(names, w)), (x,))
        assert h.shape == (2, 2, 2) and c.shape == (2, 2, 4)
        return (out * up).sum() + c.sum()

    assert_gradients_match(f, x, *weights)


def test_packed_sequence_gradient() -> None:
    """Sequences of lengths 3, 1, 2 through a bidirectional LSTM, packed unsorted: each
    sequence's final state is its own (checked against running it alone) and the gradient
    matches central differences."""
    module = nn.LSTM(2, 2, bidirectional=True, dtype=np.float64, generator=7)
    names = [n for n, _ in module.named_parameters()]
    weights = [p.numpy().copy() for _, p in module.named_parameters()]
    g = rng(7)
    x = g.standard_normal((3, 3, 2))
    lengths = [3, 1, 2]
    packed = pack_padded_sequence(tg.tensor(x), lengths, enforce_sorted=False)
    out, (h, _) = module(packed)
    for b, n in enumerate(lengths):
        alone_out, (alone_h, _) = module(tg.tensor(x[:n, b]))
        np.testing.assert_allclose(h.numpy()[:, b], alone_h.numpy(), rtol=1e-12)
        padded, _ = pad_packed_sequence(out)
        np.testing.assert_allclose(padded.numpy()[:n, b], alone_out.numpy(), rtol=1e-12)
    up = tg.tensor(g.standard_normal((6, 4)))

    def f(x: tg.Tensor, *w: tg.Tensor) -> tg.Tensor:
        p = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, (h, c) = nn.utils.functional_call(module, dict(zip(names, w)), (p,))
        return (out.data * up).sum() + (h * c).sum()

    assert_gradients_match(f, x, *weights)


# ----------------------------------------------------------------------------- the step maths


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def test_gru_and_lstm_step_formulas_written_out() -> None:
    """PyTorch's gate order and the GRU's r * (W_hn h + b_hn), against numpy."""
    g = rng(4)
    x, h, c = g.standard_normal((2, 3)), g.standard_normal((2, 4)), g.standard_normal((2, 4))
    gru = nn.GRUCell(3, 4, dtype=np.float64, generator=0)
    wi, wh = gru.weight_ih.numpy(), gru.weight_hh.numpy()
    assert gru.bias_ih is not None and gru.bias_hh is not None
    gi, gh = x @ wi.T + gru.bias_ih.numpy(), h @ wh.T + gru.bias_hh.numpy()
    r, z = sigmoid(gi[:, :4] + gh[:, :4]), sigmoid(gi[:, 4:8] + gh[:, 4:8])
    n = np.tanh(gi[:, 8:] + r * gh[:, 8:])
    np.testing.assert_allclose(gru(tg.tensor(x), tg.tensor(h)).numpy(), (1 - z) * n + z * h,
                               rtol=1e-12)
    lstm = nn.LSTMCell(3, 4, bias=False, dtype=np.float64, generator=0)
    a = x @ lstm.weight_ih.numpy().T + h @ lstm.weight_hh.numpy().T
    i, f, gg, o = sigmoid(a[:, :4]), sigmoid(a[:, 4:8]), np.tanh(a[:, 8:12]), sigmoid(a[:, 12:])
    c2 = f * c + i * gg
    h2, c_next = lstm(tg.tensor(x), (tg.tensor(h), tg.tensor(c)))
    np.testing.assert_allclose(c_next.numpy(), c2, rtol=1e-12)
    np.testing.assert_allclose(h2.numpy(), o * np.tanh(c2), rtol=1e-12)


def test_init_is_uniform_in_plus_minus_one_over_sqrt_hidden_and_reproducible() -> None:
    tg.manual_seed(5)
    a = nn.LSTM(10, 64, num_layers=2)
    tg.manual_seed(5)
    b = nn.LSTM(10, 64, num_layers=2)
    values = np.concatenate([p.numpy().ravel() for p in a.parameters()])
    assert a.weight_ih_l0.dtype == np.float32
    assert np.abs(values).max() <= 1 / 8 and np.abs(values).max() > 0.99 / 8
    assert abs(values.mean()) < 0.003 and abs(values.std() - 1 / 8 / np.sqrt(3)) < 0.002
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_dropout_between_layers_only_in_training() -> None:
    tg.manual_seed(0)
    m = nn.GRU(4, 200, num_layers=2, dropout=0.5, dtype=np.float64)
    x = tg.tensor(rng(0).standard_normal((3, 5, 4)))
    m.eval()
    e1, e2 = m(x)[0].numpy(), m(x)[0].numpy()
    np.testing.assert_array_equal(e1, e2)  # eval: deterministic
    m.train()
    tg.manual_seed(1)
    t1 = m(x)[0].numpy()
    tg.manual_seed(1)
    t2 = m(x)[0].numpy()
    np.testing.assert_array_equal(t1, t2)  # reproducible under manual_seed
    assert not np.allclose(t1, e1)
    # with p = 1 the second layer sees zeros: its output is a one-layer GRU's on zeros
    m.dropout = 1.0
    one_layer = nn.GRU(200, 200, dtype=np.float64)
    one_layer.load_state_dict({k.replace("l1", "l0"): v for k, v in m.state_dict().items()
                               if k.endswith("l1")})
    np.testing.assert_allclose(m(x)[0].numpy(),
                               one_layer(tg.zeros(3, 5, 200, dtype=np.float64))[0].numpy())


def test_dropout_mask_statistics() -> None:
    """p = 0.3 zeroes about 30% of the first layer's outputs, seen through a linear second
    layer: an RNN with relu, identity-like weights, reading one unit."""
    m = nn.RNN(1, 1, num_layers=2, nonlinearity="relu", bias=False, dropout=0.3,
               dtype=np.float64)
    state = {"weight_ih_l0": np.array([[1.0]]), "weight_hh_l0": np.array([[0.0]]),
             "weight_ih_l1": np.array([[1.0]]), "weight_hh_l1": np.array([[0.0]])}
    m.load_state_dict(state)
    tg.manual_seed(2)
    out, _ = m(tg.ones(4000, 5, 1, dtype=np.float64))
    values = out.numpy().ravel()
    kept = values > 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(values[kept], 1 / 0.7)


# ----------------------------------------------------------------------------- pad_sequence


def test_pad_sequence_and_unpad_round_trip_with_gradients() -> None:
    g = rng(6)
    seqs = [tg.tensor(g.standard_normal((n, 2)), requires_grad=True) for n in (3, 1, 2)]
    padded = pad_sequence(seqs, batch_first=True, padding_value=-7.0)
    assert padded.shape == (3, 3, 2)
    np.testing.assert_array_equal(padded.numpy()[1, 1:], -7.0)
    left = pad_sequence(seqs, padding_side="left")
    assert left.shape == (3, 3, 2)
    np.testing.assert_array_equal(left.numpy()[2, 1], seqs[1].numpy()[0])
    back = unpad_sequence(padded, tg.tensor([3, 1, 2]), batch_first=True)
    for s, b in zip(seqs, back):
        np.testing.assert_array_equal(s.numpy(), b.numpy())
    (padded * padded).sum().backward()
    for s in seqs:
        np.testing.assert_allclose(s.grad.numpy(), 2 * s.numpy())


def test_pad_sequence_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        pad_sequence([])
    with pytest.raises(ShapeError, match=r"\(2, 3\), \(1, 4\)"):
        pad_sequence([tg.ones(2, 3), tg.ones(1, 4)])
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([tg.ones(2)], padding_side="middle")
