"""Bad arguments found by calling every public function and Tensor method with wrong
inputs (None, a string, a float, a non-broadcasting shape, an empty tensor): each must fail
at the call with an error naming the op, never with numpy's words or an AttributeError from
inside the library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.errors import ShapeError

X = tg.randn(2, 3)
E = tg.zeros(0)
BIG = tg.randn(4, 5, 6)

CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("allclose shapes", lambda: tg.allclose(X, BIG),
     ShapeError, "isclose: shapes (2, 3) and (4, 5, 6)"),
    ("isclose shapes", lambda: X.isclose(tg.randn(2)),
     ShapeError, "isclose: shapes (2, 3) and (2,)"),
    ("broadcast_tensors", lambda: tg.broadcast_tensors(X, BIG),
     ShapeError, "broadcast_tensors: shapes (2, 3), (4, 5, 6)"),
    ("normal shapes", lambda: tg.normal(X, BIG),
     ShapeError, "normal: mean of shape (2, 3) and std of shape (4, 5, 6)"),
    ("max of empty", lambda: E.max(), IndexError, "max: cannot reduce over dim 0 of size 0"),
    ("amin of empty", lambda: E.amin(), IndexError, "amin: cannot reduce over dim 0 of size 0"),
    ("argmax of empty", lambda: E.argmax(),
     IndexError, "argmax: cannot reduce over dim 0 of size 0"),
    ("max over an empty dim", lambda: tg.zeros(0, 3).max(0), IndexError, "tensor of shape (0, 3)"),
    ("full_like list", lambda: tg.full_like(X, [1, 2]),
     TypeError, "full_like: fill_value must be a number"),
    ("full_like str", lambda: tg.full_like(X, "a"),
     TypeError, "full_like: fill_value must be a number"),
    ("ones_like dtype", lambda: tg.ones_like(X, 1.5),
     TypeError, "ones_like: dtype must be a numeric dtype"),
    ("topk float k", lambda: X.topk(1.5), TypeError, "topk: k must be an int, got 1.5"),
    ("where str", lambda: tg.where("a"), TypeError, "where: condition must be a bool"),
    ("view_as None", lambda: X.view_as(None), TypeError, "view_as: other must be a Tensor"),
    ("expand_as float", lambda: X.expand_as(1.5), TypeError, "expand_as: other must be a Tensor"),
    ("type_as str", lambda: X.type_as("a"), TypeError, "type_as: other must be a Tensor"),
    ("flip no dims", lambda: X.flip(), TypeError, "flip: missing the dims"),
    ("nan_to_num tensor", lambda: X.nan_to_num(tg.zeros(3)),
     TypeError, "nan_to_num: nan must be a number"),
    ("normal_ tensor", lambda: X.clone().normal_(tg.zeros(3)),
     TypeError, "normal_: mean must be a number"),
    ("uniform_ tensor", lambda: X.clone().uniform_(tg.zeros(3)),
     TypeError, "uniform_: a must be a number"),
]


Case = tuple[str, Callable[[], Any], type[Exception], str]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_argument_is_refused_naming_the_op(case: Case) -> None:
    _, call, kind, message = case
    with pytest.raises(kind) as info:
        call()
    assert message in str(info.value)


def test_what_the_fixes_must_keep_working() -> None:
    assert tg.where(tg.tensor(1.0))[0].tolist() == [0]  # a 0-d condition: one element
    assert E.log_softmax(0).shape == (0,) and E.softmax(0).shape == (0,)
    assert tg.zeros(0, 3).amax(1).shape == (0,)  # reducing a non-empty dim of an empty tensor
    m = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert m.diag().tolist() == [0.0, 4.0] and m.trace().item() == 4.0  # rectangular
    assert tg.full_like(X, 2).tolist() == [[2.0] * 3] * 2


LAYERS: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("LayerNorm float", lambda: tg.nn.LayerNorm(2.5), TypeError,
     "LayerNorm: normalized_shape must be non-negative ints, got (2.5,)"),
    ("BatchNorm1d float", lambda: tg.nn.BatchNorm1d(1.5), TypeError,
     "BatchNorm1d: num_features must be non-negative ints"),
    ("BatchNorm2d negative", lambda: tg.nn.BatchNorm2d(-1), TypeError,
     "BatchNorm2d: num_features must be non-negative ints"),
    ("Dropout str", lambda: tg.nn.Dropout("a"), ValueError,
     "Dropout: p must be in [0, 1], got 'a'"),
]


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_sizes_are_not_truncated(case: Case) -> None:
    """int(2.5) is 2: LayerNorm(2.5) used to build a 2-wide layer without a word."""
    _, call, kind, message = case
    with pytest.raises(kind) as info:
        call()
    assert message in str(info.value)
