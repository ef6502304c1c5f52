"""Sizes, dims and counts must be ints: a float or a bool is refused at the call (as
PyTorch), never truncated (`int(1.5)` is 1: `x.repeat(1.5, 1)` would quietly repeat once);
counts and split sizes are checked for sign before any division."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg

X = tg.zeros(2, 3)

TYPE_ERRORS: list[tuple[str, Callable[[], Any], str]] = [
    ("reshape float", lambda: X.reshape(6.0), "reshape: size must be an int, got 6.0"),
    ("reshape bool", lambda: X.reshape(True, 6), "reshape: size must be an int, got the bool"),
    ("view float", lambda: X.view(6.0), "view: expected a shape (ints) or a dtype, got 6.0"),
    ("view string", lambda: X.view("float32"), "view: expected a shape (ints) or a dtype"),
    ("expand float", lambda: X.expand(2.0, 3), "expand: size must be an int, got 2.0"),
    ("repeat float", lambda: X.repeat(1.5, 1), "repeat: size must be an int, got 1.5"),
    ("permute float", lambda: X.permute(0.0, 1), "permute: dim must be an int, got 0.0"),
    ("unsqueeze float", lambda: X.unsqueeze(1.0), "unsqueeze: dim must be an int, got 1.0"),
    ("split float", lambda: X.split(1.5), "split: split_size must be an int, got 1.5"),
    ("split sizes float", lambda: X.split([1.0, 1.0]), "split: split_sizes must be an int"),
    ("chunk float", lambda: X.chunk(2.0), "chunk: chunks must be an int, got 2.0"),
    ("zeros float", lambda: tg.zeros(2.0), "zeros: size must be an int, got 2.0"),
    ("randn float", lambda: tg.randn(2.5), "randn: size must be an int, got 2.5"),
    ("full float", lambda: tg.full((2.0,), 1.0), "full: size must be an int, got 2.0"),
]


@pytest.mark.parametrize("case", TYPE_ERRORS, ids=[c[0] for c in TYPE_ERRORS])
def test_non_integer_sizes_are_refused(case: tuple[str, Callable[[], Any], str]) -> None:
    _, call, message = case
    with pytest.raises(TypeError) as info:
        call()
    assert message in str(info.value)


def test_chunk_needs_a_positive_count() -> None:
    for chunks in (0, -1):
        with pytest.raises(ValueError, match=rf"chunk: chunks must be positive, got {chunks} "
                                             r"\(tensor of shape \(2, 3\)\)"):
            X.chunk(chunks)


def test_split_sizes_must_be_non_negative() -> None:
    """[4, -1] sums to the dim's 3 and used to be accepted, giving a piece of size 4."""
    with pytest.raises(ValueError, match=r"split: sizes must be non-negative, got \[4, -1\] "
                                         r"\(dim 1 of shape \(2, 3\)\)"):
        X.split([4, -1], 1)


def test_integer_spellings_still_work() -> None:
    six = tg.tensor(6)
    assert X.reshape(np.int64(6)).shape == (6,)
    assert X.view(six).shape == (6,)
    assert X.view(-1).shape == (6,)
    assert X.view(tg.float64).dtype == np.float64
    assert X.repeat(np.int32(2), 1).shape == (4, 3)
    assert [p.shape for p in X.split(tg.tensor(1))] == [(1, 3), (1, 3)]
    assert [p.shape for p in X.split([1, 2], dim=1)] == [(2, 1), (2, 2)]
    assert tg.zeros(np.int64(2), 3).shape == (2, 3)
    assert tg.randn([2, 3]).shape == (2, 3)


VALUE_ERRORS: list[tuple[str, Callable[[], Any], str]] = [
    ("arange step 0", lambda: tg.arange(0, 10, 0), "arange: step must be nonzero"),
    ("linspace negative", lambda: tg.linspace(0, 1, -1), "linspace: steps must be >= 0, got -1"),
    ("repeat negative", lambda: X.repeat(-1, 1), "repeat: sizes must be >= 0, got (-1, 1)"),
    ("conv kernel 0", lambda: tg.nn.Conv2d(3, 4, 0), "Conv2d: kernel_size must be positive"),
    ("conv stride 0", lambda: tg.nn.Conv2d(3, 4, 3, stride=0), "Conv2d: stride must be positive"),
]


@pytest.mark.parametrize("case", VALUE_ERRORS, ids=[c[0] for c in VALUE_ERRORS])
def test_bad_values_are_refused_naming_the_op(case: tuple[str, Callable[[], Any], str]) -> None:
    _, call, message = case
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


DTYPE_ERRORS: list[tuple[str, Callable[[], Any], str]] = [
    ("tensor", lambda: tg.tensor([1, 2], dtype="float33"), "tensor: dtype must be a numeric"),
    ("zeros", lambda: tg.zeros(2, dtype=5), "zeros: dtype must be a numeric dtype"),
    ("ones str", lambda: tg.ones(2, dtype=str), "ones: dtype must be a numeric dtype"),
    ("to", lambda: X.to(5), "to: dtype must be a numeric dtype"),
    ("sum", lambda: X.sum(dtype="float33"), "sum: dtype must be a numeric dtype"),
    ("mean", lambda: X.mean(dtype=object), "mean: dtype must be a numeric dtype"),
    ("Linear float", lambda: tg.nn.Linear(10.5, 3), "Linear: in_features and out_features must"),
]


@pytest.mark.parametrize("case", DTYPE_ERRORS, ids=[c[0] for c in DTYPE_ERRORS])
def test_bad_dtypes_and_types_name_the_op(case: tuple[str, Callable[[], Any], str]) -> None:
    """numpy's own words ("Cannot interpret '5' as a data type") never reach the user."""
    _, call, message = case
    with pytest.raises(TypeError) as info:
        call()
    assert message in str(info.value)


def test_dtype_spellings_still_work() -> None:
    assert tg.zeros(2, dtype=tg.int64).dtype == np.int64
    assert tg.ones(2, dtype=bool).dtype == np.bool_
    assert tg.eye(2, dtype="float32").dtype == np.float32
    assert tg.tensor([1, 2], dtype=float).dtype == np.float64
    assert X.sum(dtype=tg.float64).dtype == np.float64
