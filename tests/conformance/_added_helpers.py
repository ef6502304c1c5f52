"""Helpers of the conformance tests for the activations, similarities and losses added for
issue 19 (test_activations_losses_added.py, test_losses_added.py,
test_losses_added_edges.py): each call is PyTorch code in a string, run with `F`, `nn` and
`torch` bound to either library, so both see the same spelling and the string names a
failure. Tolerances stay in oracle.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF

from .nn_helpers import randn
from .oracle import check_function

LIBS = {"ours": (GF, gnn, tg), "torch": (TF, tnn, torch)}


def fn(src: str, names: str) -> Any:
    return eval(f"lambda F, nn, torch, {names}: {src}")  # noqa: S307 - the test's own code


def both(src: str, *arrays: np.ndarray, names: str = "x", second: bool = True,
         consts: tuple[np.ndarray, ...] = ()) -> None:
    """check_function for `src` over `arrays` (differentiated) then `consts` (constants)."""
    f = fn(src, names)
    check_function(
        lambda *t: f(GF, gnn, tg, *t, *[tg.tensor(c.copy()) for c in consts]),
        lambda *t: f(TF, tnn, torch, *t, *[torch.tensor(c.copy()) for c in consts]),
        arrays, second=second, what=src)


def raises_like_torch(src: str, *arrays: np.ndarray, names: str = "x") -> Exception:
    """PyTorch raises on `src`, and so do we; our error is returned for its message."""
    f = fn(src, names)
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's own error types vary
        f(TF, tnn, torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(Exception) as info:  # noqa: B017
        f(GF, gnn, tg, *[tg.tensor(a) for a in arrays])
    return info.value


def loss_data(dtype: Any) -> dict[str, np.ndarray]:
    x = randn(3, 4, seed=1, dtype=dtype)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    q = np.exp(randn(3, 4, seed=2)).astype(dtype)
    return {
        "x": x, "y": randn(3, 4, seed=2, dtype=dtype), "z": randn(3, 4, seed=3, dtype=dtype),
        "logp": logp.astype(dtype), "q": (q / q.sum(1, keepdims=True)).astype(dtype),
        "logq": np.log(q / q.sum(1, keepdims=True)).astype(dtype),
        "sign": np.where(randn(3, 4, seed=4) > 0, 1.0, -1.0).astype(dtype),
        "row_sign": np.array([1.0, -1.0, 1.0], dtype=dtype),
        "bits": (randn(3, 4, seed=5) > 0).astype(dtype),
        "counts": np.array([[0, 1, 2, 5], [3, 0, 1, 1], [7, 2, 0, 4]], dtype=dtype),
        "pos": (np.abs(randn(3, 4, seed=6)) + 0.1).astype(dtype),
        "var": (np.abs(randn(3, 4, seed=7)) + 0.2).astype(dtype),
        "var_rows": (np.abs(randn(3, seed=8)) + 0.2).astype(dtype),
        "w": np.array([0.5, 2.0, 1.0, 3.0], dtype=dtype),
    }
