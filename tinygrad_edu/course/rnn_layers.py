"""cs231n's recurrent layer functions (assignment 3's `rnn_layers.py`), computed by the
engine.

As in `course.layers`, each `*_forward` returns numpy outputs and a `Cache` holding the graph
it recorded, and the matching `*_backward` returns numpy gradients read off that graph by
backpropagation through time, in cs231n's order:

    next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
    dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)                 # x (N, T, D), h (N, T, H)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)                # c_0 = 0
    dx, dh0, dWx, dWh, db = lstm_backward(dh, cache)
    out, cache = word_embedding_forward(x, W)                # x (N, T) ints, W (V, D)
    dW = word_embedding_backward(dout, cache)
    out, cache = temporal_affine_forward(x, w, b)            # x (N, T, D), w (D, M), b (M,)
    dx, dw, db = temporal_affine_backward(dout, cache)       # or the course's (x, w, b, out)
    loss, dx = temporal_softmax_loss(x, y, mask)             # x (N, T, V), y and mask (N, T)

The courses' conventions: weights are (inputs, outputs), Wx (D, H) and Wh (H, H) (times 4
for the LSTM, whose gate blocks are i, f, o, g in that order — PyTorch's nn.LSTM orders them
i, f, g, o), states are (N, H), sequences batch-first (N, T, ...).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from tinygrad_edu.course._graph import Cache, as_array, backprop, course_args, record
from tinygrad_edu.creation import zeros
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import stack
from tinygrad_edu.tensor import Tensor

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
           "word_embedding_forward", "word_embedding_backward", "temporal_affine_forward",
           "temporal_affine_backward", "temporal_softmax_loss"]

Grads = tuple[np.ndarray, ...]
_TOKEN = re.compile(r"^(\d*)([A-Z])$")


def _check_shapes(op: str, arrays: dict[str, Any], spec: str) -> None:
    """Each array's shape against spec, e.g. "x: N D, prev_h: N H, Wx: D 4H": a letter is one
    size throughout, "4H" four times it. The error lists every shape and the spec."""
    sizes: dict[str, int] = {}
    for item in spec.split(", "):
        name, dims = item.split(": ")
        shape = np.shape(arrays[name])
        tokens = dims.split()
        ok = len(shape) == len(tokens)
        for token, n in zip(tokens, shape) if ok else ():
            match = _TOKEN.match(token)
            assert match is not None, token
            k, letter = int(match.group(1) or 1), match.group(2)
            if n % k or sizes.setdefault(letter, n // k) != n // k:
                ok = False
        if not ok:
            got = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
            raise ShapeError(f"{op}: shapes do not fit ({spec}): got {got}; {name} is the first "
                             "that disagrees")


# ----------------------------------------------------------------------------- vanilla RNN


def _rnn_step(x: Tensor, prev_h: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor) -> Tensor:
    return (x @ Wx + prev_h @ Wh + b).tanh()


def rnn_step_forward(x: Any, prev_h: Any, Wx: Any, Wh: Any, b: Any
                     ) -> tuple[np.ndarray, Cache]:
    """next_h = tanh(x Wx + prev_h Wh + b) for x (N, D), prev_h (N, H), Wx (D, H),
    Wh (H, H), b (H,). Backward: (dx, dprev_h, dWx, dWh, db)."""
    arrays = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "b": b}
    _check_shapes("rnn_step_forward", arrays, "x: N D, prev_h: N H, Wx: D H, Wh: H H, b: H")
    return record("rnn_step_forward", _rnn_step, arrays)


def rnn_step_backward(dnext_h: Any, cache: Any) -> Grads:
    """(dx, dprev_h, dWx, dWh, db) for `rnn_step_forward`'s cache."""
    return backprop("rnn_step_backward", "rnn_step_forward", dnext_h, cache)


def _rnn(x: Tensor, h0: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor) -> Tensor:
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = _rnn_step(x[:, t], h, Wx, Wh, b)
        hs.append(h)
    return stack(hs, 1)


def rnn_forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> tuple[np.ndarray, Cache]:
    """The RNN step over a sequence: x (N, T, D), h0 (N, H); h (N, T, H) holds every
    step's hidden state. Backward (through time): (dx, dh0, dWx, dWh, db)."""
    arrays = {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b}
    _check_shapes("rnn_forward", arrays, "x: N T D, h0: N H, Wx: D H, Wh: H H, b: H")
    return record("rnn_forward", _rnn, arrays)


def rnn_backward(dh: Any, cache: Any) -> Grads:
    """(dx, dh0, dWx, dWh, db) for `rnn_forward`'s cache; dh (N, T, H) is the upstream
    gradient of every hidden state."""
    return backprop("rnn_backward", "rnn_forward", dh, cache)


# ----------------------------------------------------------------------------- LSTM


def _lstm_step(x: Tensor, prev_h: Tensor, prev_c: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor
               ) -> tuple[Tensor, Tensor]:
    a = x @ Wx + prev_h @ Wh + b
    ai, af, ao, ag = a.chunk(4, dim=1)  # cs231n's order: input, forget, output, g
    next_c = af.sigmoid() * prev_c + ai.sigmoid() * ag.tanh()
    return ao.sigmoid() * next_c.tanh(), next_c


_LSTM_STEP = "x: N D, prev_h: N H, prev_c: N H, Wx: D 4H, Wh: H 4H, b: 4H"


def lstm_step_forward(x: Any, prev_h: Any, prev_c: Any, Wx: Any, Wh: Any, b: Any
                      ) -> tuple[np.ndarray, np.ndarray, Cache]:
    """a = x Wx + prev_h Wh + b split into ai, af, ao, ag (H each); i, f, o = sigmoid,
    g = tanh; next_c = f prev_c + i g, next_h = o tanh(next_c). x (N, D), prev_h and
    prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,). Backward: (dx, dprev_h, dprev_c, dWx,
    dWh, db)."""
    arrays = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "b": b}
    _check_shapes("lstm_step_forward", arrays, _LSTM_STEP)
    # One graph output, (next_h, next_c) stacked, so one backward seeds both.
    out, cache = record("lstm_step_forward", lambda **t: stack(_lstm_step(**t), 0), arrays)
    return out[0].copy(), out[1].copy(), cache


def lstm_step_backward(dnext_h: Any, dnext_c: Any, cache: Any) -> Grads:
    """(dx, dprev_h, dprev_c, dWx, dWh, db) for `lstm_step_forward`'s cache, given the
    upstream gradients of next_h and next_c (N, H)."""
    op = "lstm_step_backward"
    dh, dc = as_array(dnext_h, op, "dnext_h"), as_array(dnext_c, op, "dnext_c")
    if isinstance(cache, Cache) and not dh.shape == dc.shape == cache.out.shape[1:]:
        raise ShapeError(f"{op}: dnext_h {dh.shape} and dnext_c {dc.shape} must both have "
                         f"the shape of next_h and next_c, {cache.out.shape[1:]}")
    return backprop(op, "lstm_step_forward", np.stack([dh, dc]), cache)


def _lstm(x: Tensor, h0: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor) -> Tensor:
    h, c, hs = h0, zeros(*h0.shape, dtype=h0.dtype), []
    for t in range(x.shape[1]):
        h, c = _lstm_step(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
    return stack(hs, 1)


def lstm_forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> tuple[np.ndarray, Cache]:
    """The LSTM step over a sequence from h0 (N, H) and a zero cell state: x (N, T, D),
    h (N, T, H). Backward (through time): (dx, dh0, dWx, dWh, db)."""
    arrays = {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b}
    _check_shapes("lstm_forward", arrays, "x: N T D, h0: N H, Wx: D 4H, Wh: H 4H, b: 4H")
    return record("lstm_forward", _lstm, arrays)


def lstm_backward(dh: Any, cache: Any) -> Grads:
    """(dx, dh0, dWx, dWh, db) for `lstm_forward`'s cache; dh (N, T, H)."""
    return backprop("lstm_backward", "lstm_forward", dh, cache)


# ----------------------------------------------------------------------------- embedding, loss


def _indices(op: str, x: Any, rows: int, name: str = "x") -> np.ndarray:
    idx = as_array(x, op, name)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integer indices, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        raise ValueError(f"{op}: {name} must be in [0, {rows}); got values from {idx.min()} "
                         f"to {idx.max()}")
    return idx


def word_embedding_forward(x: Any, W: Any) -> tuple[np.ndarray, Cache]:
    """out[n, t] = W[x[n, t]] for integer x (N, T) and W (V, D); out is (N, T, D).
    Backward: dW alone (x is not differentiable); a word used twice gets both gradients."""
    op = "word_embedding_forward"
    if np.ndim(x) != 2 or np.ndim(W) != 2:
        raise ShapeError(f"{op}: x must be (N, T) and W (V, D), got x {np.shape(x)} and W "
                         f"{np.shape(W)}")
    idx = _indices(op, x, np.shape(W)[0])
    return record(op, lambda W: W[idx], {"W": W}, extras={"x": idx.copy()})


def word_embedding_backward(dout: Any, cache: Any) -> np.ndarray:
    """dW (V, D) for `word_embedding_forward`'s cache: dout (N, T, D) summed into the rows
    the words picked."""
    return backprop("word_embedding_backward", "word_embedding_forward", dout, cache)[0]


def temporal_affine_forward(x: Any, w: Any, b: Any) -> tuple[np.ndarray, Cache]:
    """out[n, t] = x[n, t] w + b for x (N, T, D), w (D, M), b (M,); out (N, T, M).
    Backward: (dx, dw, db)."""
    arrays = {"x": x, "w": w, "b": b}
    _check_shapes("temporal_affine_forward", arrays, "x: N T D, w: D M, b: M")
    return record("temporal_affine_forward", lambda x, w, b: x @ w + b, arrays)


def temporal_affine_backward(dout: Any, cache: Any) -> Grads:
    """(dx, dw, db) for `temporal_affine_forward`'s cache, or the course's (x, w, b, out)."""
    op, fwd = "temporal_affine_backward", "temporal_affine_forward"
    if not isinstance(cache, Cache):
        cache = temporal_affine_forward(*course_args(op, fwd, cache, ("x", "w", "b")))[1]
    return backprop(op, fwd, dout, cache)


def temporal_softmax_loss(x: Any, y: Any, mask: Any, verbose: bool = False
                          ) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy summed over the steps where mask is true and averaged over the
    N sequences (not over the steps): x (N, T, V) scores, y (N, T) labels in [0, V), mask
    (N, T) bool. loss = -1/N sum_{n,t} mask[n,t] log softmax(x[n,t])[y[n,t]]; dx = mask *
    (softmax(x) - onehot(y)) / N. `verbose` prints dx's shape, as the course's does."""
    op = "temporal_softmax_loss"
    scores, labels, m = as_array(x, op, "x"), as_array(y, op, "y"), as_array(mask, op, "mask")
    if scores.ndim != 3 or labels.shape != scores.shape[:2] or m.shape != scores.shape[:2]:
        raise ShapeError(f"{op}: x must be (N, T, V) and y and mask (N, T); got x "
                         f"{scores.shape}, y {labels.shape}, mask {m.shape}")
    n, t, v = scores.shape
    flat_y = _indices(op, labels, v, "y").reshape(-1)
    weights = m.reshape(-1)

    def loss(x: Tensor) -> Tensor:
        logp = x.reshape(n * t, v).log_softmax(1)[np.arange(n * t), flat_y]
        return -(logp * weights.astype(logp.dtype)).sum() / n

    value, cache = record(op, loss, {"x": scores})
    (dx,) = backprop(op, op, np.ones((), dtype=value.dtype), cache)
    if verbose:
        print("dx_flat: ", (n * t, v))
    return float(value), dx
