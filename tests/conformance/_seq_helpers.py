"""Helpers shared by the sequence-model conformance modules (test_rnn_added.py,
test_rnn_utils_added.py, test_attention_added.py, test_transformer_added.py): building
module pairs with our state dict loaded into torch's, leaf pairs, gradient comparisons.
Tolerances stay in oracle.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn

from .oracle import assert_close

KINDS = {"RNN": {}, "RNN_relu": {"nonlinearity": "relu"}, "LSTM": {}, "GRU": {}}


def pair_modules(kind: str, *args: Any, dtype: Any = np.float64, **kw: Any
                 ) -> tuple[Any, Any]:
    """Our module and torch's, torch's loaded from our state dict (as numpy arrays)."""
    name = kind.split("_")[0]
    ours = getattr(gnn, name)(*args, dtype=dtype, **kw)
    theirs = getattr(tnn, name)(*args, dtype=torch.float64 if dtype == np.float64
                                else torch.float32, **kw)
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict()), "parameter names or order differ"
    for (k, v), (_, t) in zip(state.items(), theirs.state_dict().items()):
        assert tuple(v.shape) == tuple(t.shape), f"{k}: {v.shape} vs {tuple(t.shape)}"
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()})
    return ours, theirs


def flat_results(result: Any) -> list[Any]:
    """(output, h_n) or (output, (h_n, c_n)) as a flat list."""
    out, states = result
    return [out, *states] if isinstance(states, tuple) else [out, states]


def leaf_pair(a: np.ndarray) -> tuple[tg.Tensor, torch.Tensor]:
    return (tg.tensor(a.copy(), requires_grad=a.dtype.kind == "f"),
            torch.tensor(a.copy(), requires_grad=a.dtype.kind == "f"))


def load_ours_into_torch(ours: Any, theirs: Any) -> None:
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict()), (list(state), list(theirs.state_dict()))
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()})


def compare_grads(pairs: list[tuple[Any, Any]], what: str) -> None:
    for k, (a, b) in enumerate(pairs):
        if b.grad is None:
            continue
        assert_close(a.grad, b.grad, what=f"{what} grad {k}")


def compare_params(ours: Any, theirs: Any, what: str) -> None:
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(mine[name].grad, p.grad, what=f"{what} {name}.grad")


def bool_mask(shape: tuple[int, ...], seed: int) -> np.ndarray:
    m = np.random.default_rng(seed).random(shape) > 0.3
    m[..., 0] = True  # every query keeps a key
    return m
