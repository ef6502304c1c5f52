"""cs231n's recurrent layer functions (`course.rnn_layers`) against the course's formulas
written out below in plain numpy (forward and hand-derived backward through time) as the
oracle, the course's own caches, and the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_edu.course import rnn_layers as R
from tinygrad_edu.errors import ShapeError


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# ----------------------------------------------------------------------------- cs231n's formulas


def np_rnn_step(x: Any, h: Any, Wx: Any, Wh: Any, b: Any) -> tuple[np.ndarray, tuple]:
    nh = np.tanh(x @ Wx + h @ Wh + b)
    return nh, (x, h, Wx, Wh, nh)


def np_rnn_step_backward(dnh: Any, cache: tuple) -> tuple[np.ndarray, ...]:
    x, h, Wx, Wh, nh = cache
    da = dnh * (1 - nh**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h.T @ da, da.sum(0)


def np_rnn_backward(dh: Any, x: Any, h0: Any, Wx: Any, Wh: Any, b: Any
                    ) -> tuple[np.ndarray, ...]:
    caches, h = [], h0
    for t in range(x.shape[1]):
        h, c = np_rnn_step(x[:, t], h, Wx, Wh, b)
        caches.append(c)
    dx, dprev = np.zeros_like(x), np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in reversed(range(x.shape[1])):
        dxt, dprev, dwx, dwh, dbt = np_rnn_step_backward(dh[:, t] + dprev, caches[t])
        dx[:, t] = dxt
        dWx, dWh, db = dWx + dwx, dWh + dwh, db + dbt
    return dx, dprev, dWx, dWh, db


def np_lstm_step(x: Any, h: Any, c: Any, Wx: Any, Wh: Any, b: Any
                 ) -> tuple[np.ndarray, np.ndarray, tuple]:
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    i, f, o, g = (sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]),
                  np.tanh(a[:, 3 * H:]))
    nc = f * c + i * g
    nh = o * np.tanh(nc)
    return nh, nc, (x, h, c, Wx, Wh, i, f, o, g, nc)


def np_lstm_step_backward(dnh: Any, dnc: Any, cache: tuple) -> tuple[np.ndarray, ...]:
    x, h, c, Wx, Wh, i, f, o, g, nc = cache
    tc = np.tanh(nc)
    dc = dnc + dnh * o * (1 - tc**2)
    do, di, df, dg = dnh * tc, dc * g, dc * c, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h.T @ da, da.sum(0)


def np_lstm_backward(dh: Any, x: Any, h0: Any, Wx: Any, Wh: Any, b: Any
                     ) -> tuple[np.ndarray, ...]:
    caches, h, c = [], h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        h, c, cache = np_lstm_step(x[:, t], h, c, Wx, Wh, b)
        caches.append(cache)
    dx, dprev_h, dprev_c = np.zeros_like(x), np.zeros_like(h0), np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in reversed(range(x.shape[1])):
        dxt, dprev_h, dprev_c, dwx, dwh, dbt = np_lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, caches[t])
        dx[:, t] = dxt
        dWx, dWh, db = dWx + dwx, dWh + dwh, db + dbt
    return dx, dprev_h, dWx, dWh, db


def np_temporal_softmax_loss(x: Any, y: Any, mask: Any) -> tuple[float, np.ndarray]:
    N, T, V = x.shape
    xf, yf, mf = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    probs = np.exp(xf - xf.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    loss = -np.sum(mf * np.log(probs[np.arange(N * T), yf])) / N
    dx = probs.copy()
    dx[np.arange(N * T), yf] -= 1
    dx = dx / N * mf[:, None]
    return loss, dx.reshape(N, T, V)


def close(ours: Any, theirs: Any) -> None:
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert isinstance(a, np.ndarray) and a.shape == np.shape(b), (k, np.shape(a))
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"result {k}")


def test_rnn_step_and_sequence_against_the_course_formulas() -> None:
    g = rng(7)
    N, T, D, H = 3, 4, 5, 6
    x, h0 = g.standard_normal((N, T, D)), g.standard_normal((N, H))
    Wx, Wh, b = g.standard_normal((D, H)), g.standard_normal((H, H)) * 0.5, g.standard_normal(H)
    nh, cache = R.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    ref, ref_cache = np_rnn_step(x[:, 0], h0, Wx, Wh, b)
    np.testing.assert_allclose(nh, ref, rtol=1e-12)
    dnh = g.standard_normal((N, H))
    close(R.rnn_step_backward(dnh, cache), np_rnn_step_backward(dnh, ref_cache))
    h, cache = R.rnn_forward(x, h0, Wx, Wh, b)
    assert h.shape == (N, T, H)
    np.testing.assert_allclose(h[:, -1], np_rnn_backward_forward_last(x, h0, Wx, Wh, b))
    dh = g.standard_normal((N, T, H))
    close(R.rnn_backward(dh, cache), np_rnn_backward(dh, x, h0, Wx, Wh, b))
    close(R.rnn_backward(dh, cache), np_rnn_backward(dh, x, h0, Wx, Wh, b))  # cache reusable


def np_rnn_backward_forward_last(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> np.ndarray:
    h = h0
    for t in range(x.shape[1]):
        h = np_rnn_step(x[:, t], h, Wx, Wh, b)[0]
    return h


def test_lstm_step_and_sequence_against_the_course_formulas() -> None:
    g = rng(8)
    N, T, D, H = 3, 4, 5, 6
    x, h0, c0 = (g.standard_normal((N, T, D)), g.standard_normal((N, H)),
                 g.standard_normal((N, H)))
    Wx, Wh, b = (g.standard_normal((D, 4 * H)), g.standard_normal((H, 4 * H)) * 0.5,
                 g.standard_normal(4 * H))
    nh, nc, cache = R.lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    rh, rc, ref_cache = np_lstm_step(x[:, 0], h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(nh, rh, rtol=1e-12)
    np.testing.assert_allclose(nc, rc, rtol=1e-12)
    dnh, dnc = g.standard_normal((N, H)), g.standard_normal((N, H))
    close(R.lstm_step_backward(dnh, dnc, cache), np_lstm_step_backward(dnh, dnc, ref_cache))
    h, cache = R.lstm_forward(x, h0, Wx, Wh, b)
    ref_h, ref_c = h0, np.zeros_like(h0)
    for t in range(T):
        ref_h, ref_c, _ = np_lstm_step(x[:, t], ref_h, ref_c, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], ref_h, rtol=1e-12)
    dh = g.standard_normal((N, T, H))
    close(R.lstm_backward(dh, cache), np_lstm_backward(dh, x, h0, Wx, Wh, b))


def test_word_embedding_temporal_affine_and_softmax_loss_against_the_course() -> None:
    g = rng(9)
    N, T, V, D, M = 2, 4, 5, 3, 6
    x = np.array([[0, 3, 1, 3], [2, 2, 4, 0]])
    W = g.standard_normal((V, D))
    out, cache = R.word_embedding_forward(x, W)
    np.testing.assert_array_equal(out, W[x])
    dout = g.standard_normal((N, T, D))
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    np.testing.assert_allclose(R.word_embedding_backward(dout, cache), dW, rtol=1e-12)

    xs, w, b = g.standard_normal((N, T, D)), g.standard_normal((D, M)), g.standard_normal(M)
    out, cache = R.temporal_affine_forward(xs, w, b)
    np.testing.assert_allclose(out, xs @ w + b, rtol=1e-12)
    dout = g.standard_normal((N, T, M))
    ref = (dout @ w.T, xs.reshape(-1, D).T @ dout.reshape(-1, M), dout.sum((0, 1)))
    close(R.temporal_affine_backward(dout, cache), ref)
    close(R.temporal_affine_backward(dout, (xs, w, b, out)), ref)  # the course's own cache

    scores = g.standard_normal((N, T, V))
    y = g.integers(0, V, (N, T))
    mask = g.random((N, T)) > 0.4
    loss, dx = R.temporal_softmax_loss(scores, y, mask)
    ref_loss, ref_dx = np_temporal_softmax_loss(scores, y, mask)
    assert isinstance(loss, float) and abs(loss - ref_loss) < 1e-12 * max(1, ref_loss)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-15)
    # the course's sanity numbers: uniform scores give about T log V per sequence
    loss, _ = R.temporal_softmax_loss(0.001 * g.standard_normal((100, 1, 10)),
                                      g.integers(0, 10, (100, 1)), np.ones((100, 1), bool))
    assert abs(loss - np.log(10)) < 0.01


def test_course_errors_name_the_shapes() -> None:
    g = rng(10)
    with pytest.raises(ShapeError, match=r"rnn_step_forward.*Wh \(4, 4\)"):
        R.rnn_step_forward(g.standard_normal((2, 3)), g.standard_normal((2, 5)),
                           g.standard_normal((3, 5)), g.standard_normal((4, 4)),
                           g.standard_normal(5))
    with pytest.raises(ShapeError, match=r"lstm_forward.*Wx \(3, 5\)"):
        R.lstm_forward(g.standard_normal((2, 4, 3)), g.standard_normal((2, 5)),
                       g.standard_normal((3, 5)), g.standard_normal((5, 20)),
                       g.standard_normal(20))
    with pytest.raises(ValueError, match=r"word_embedding_forward: x must be in \[0, 5\)"):
        R.word_embedding_forward(np.array([[0, 5]]), g.standard_normal((5, 2)))
    with pytest.raises(TypeError, match="integer"):
        R.word_embedding_forward(np.array([[0.0, 1.0]]), g.standard_normal((5, 2)))
    with pytest.raises(ShapeError, match=r"mask \(2, 2\)"):
        R.temporal_softmax_loss(g.standard_normal((2, 3, 4)), np.zeros((2, 3), int),
                                np.ones((2, 2), bool))
    _, cache = R.rnn_forward(g.standard_normal((2, 3, 4)), g.standard_normal((2, 5)),
                             g.standard_normal((4, 5)), g.standard_normal((5, 5)),
                             g.standard_normal(5))
    with pytest.raises(ShapeError, match=r"\(2, 3, 5\)"):
        R.rnn_backward(np.ones((2, 3, 4)), cache)
    with pytest.raises(ValueError, match="from rnn_forward, not from lstm_forward"):
        R.lstm_backward(np.ones((2, 3, 5)), cache)
