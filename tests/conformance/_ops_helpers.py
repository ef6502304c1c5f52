"""Helpers shared by the ops conformance modules (reductions, movement, linalg, in-place,
random programs). A test is written once, as PyTorch code, in a string such as
`"torch.sum(x, 1, keepdim=True)"`; it runs with `torch` bound to PyTorch and to
tinygrad_edu (as `import tinygrad_edu as torch` would), and the results are compared with
the shared `oracle` helpers. The string is the test id, so a failure names the exact call."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance.oracle import assert_close, check_function, pair

FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8")
ALL_DTYPES = FLOATS + INTS + ("bool",)
NO_BOOL = FLOATS + INTS


def code(src: str, args: str = "x") -> Callable[..., Any]:
    """`lambda torch, <args>: <src>`: the same PyTorch code for either library."""
    params = f"torch, {args}" if args else "torch"
    return eval(f"lambda {params}: {src}", {"inf": math.inf, "np": np})  # noqa: S307


def sample(shape: Sequence[int], dtype: str, seed: int = 0) -> np.ndarray:
    """Data without ties (so argmax, sort and max's gradient are unambiguous): floats are
    normal samples, integers a shuffled range (centred for signed types), bools a fixed
    mixed pattern."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype in FLOATS:
        return rng.standard_normal(tuple(shape)).astype(dtype)
    if dtype == "bool":
        return (rng.permutation(n) % 3 == 0).reshape(shape)
    values = rng.permutation(n)
    if dtype != "uint8":
        values = values - n // 2
    return values.reshape(shape).astype(dtype)


def compare(ours: Any, theirs: Any, what: str = "value") -> None:
    """Results of any structure (tensors, tuples and PyTorch's named return types, lists,
    Python numbers) equal PyTorch's."""
    if isinstance(theirs, torch.Tensor):
        assert_close(ours, theirs, what=what)
        return
    if isinstance(theirs, tuple | list):
        assert isinstance(ours, tuple | list), (
            f"{what}: PyTorch returns a {type(theirs).__name__}, we return {type(ours)}")
        assert len(ours) == len(theirs), (
            f"{what}: {len(ours)} results but PyTorch gives {len(theirs)}")
        for name in ("values", "indices"):
            if hasattr(theirs, name):
                assert hasattr(ours, name), f"{what}: result has no .{name} (PyTorch's has)"
                compare(getattr(ours, name), getattr(theirs, name), f"{what}.{name}")
        for i, (o, t) in enumerate(zip(ours, theirs)):
            compare(o, t, f"{what}[{i}]")
        return
    if isinstance(theirs, bool | int | float):
        assert not isinstance(ours, tg.Tensor), f"{what}: a Tensor where PyTorch gives {theirs!r}"
        if isinstance(theirs, float) and math.isnan(theirs):
            assert math.isnan(ours), f"{what}: {ours!r} but PyTorch gives nan"
        else:
            assert ours == theirs and type(ours) is type(theirs), (
                f"{what}: {ours!r} but PyTorch gives {theirs!r}")
        return
    assert ours == theirs, f"{what}: {ours!r} but PyTorch gives {theirs!r}"


def same(src: str, *arrays: np.ndarray, args: str = "x") -> None:
    """Run `src` on both libraries and compare; where PyTorch raises, we must raise too."""
    f = code(src, args if arrays else "")
    ours_in, torch_in = zip(*[pair(a) for a in arrays]) if arrays else ((), ())
    try:
        expected = f(torch, *torch_in)
    except Exception as e:  # PyTorch refuses: so must we
        if "<lambda>()" in str(e):  # the test's own call is wrong, not the library
            raise
        if os.environ.get("OPS_LOG_TORCH_RAISES"):  # audit: is every refusal meant?
            print(f"\nTORCH RAISES: {src}: {type(e).__name__}: {str(e)[:120]}")
        with pytest.raises(Exception):  # noqa: B017 - any error type, as long as it raises
            f(tg, *ours_in)
        return
    compare(f(tg, *ours_in), expected, what=src)


def grads(src: str, *arrays: np.ndarray, args: str = "x", second: bool = True,
          seed: int = 0) -> None:
    """Value, gradient under a random upstream gradient, and second derivative (float64)."""
    f = code(src, args)
    check_function(lambda *xs: f(tg, *xs), lambda *xs: f(torch, *xs), arrays, second=second,
                   seed=seed, what=src)


def backward_both(src: str, *arrays: np.ndarray, args: str = "x") -> tuple[list, list]:
    """`src(...).sum().backward()` in both; the inputs' .grad (ours, PyTorch's)."""
    f = code(src, args)
    ours_in, torch_in = zip(*[pair(a, requires_grad=True) for a in arrays])
    f(torch, *torch_in).sum().backward()
    f(tg, *ours_in).sum().backward()
    return [t.grad for t in ours_in], [t.grad for t in torch_in]
