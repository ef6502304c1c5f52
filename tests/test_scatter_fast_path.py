"""The scatter fast path (`ops._scatter.scatter_add`) equals `np.add.at`, element for
element, on every index shape it takes, and leaves the others to `np.add.at`."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.ops._scatter import _single_array_axis, scatter_add


@st.composite
def cases(draw: Any) -> tuple[np.ndarray, Any, np.ndarray]:
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    axis = draw(st.integers(0, len(shape) - 1))
    idx_shape = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=2)))
    n = shape[axis]
    idx = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(idx_shape)),
                                 max_size=int(np.prod(idx_shape))))).reshape(idx_shape)
    idx = idx.astype(draw(st.sampled_from([np.int64, np.int32])))
    trailing = draw(st.integers(0, len(shape) - 1 - axis))
    index: Any = idx if axis == 0 and draw(st.booleans()) else (
        (slice(None),) * axis + (idx,) + (slice(None),) * trailing)
    out_shape = np.zeros(shape)[index].shape
    seed = draw(st.integers(0, 2**31))
    x = np.random.default_rng(seed).standard_normal(out_shape)
    return np.zeros(shape), index, x


@given(cases())
def test_fast_path_equals_add_at(case: tuple[np.ndarray, Any, np.ndarray]) -> None:
    out, index, x = case
    expected = out.copy()
    np.add.at(expected, index, x)
    scatter_add(out, index, x)
    np.testing.assert_array_equal(out, expected)


def test_which_indices_take_the_fast_path() -> None:
    i = np.array([0, 2, 0])
    assert _single_array_axis(i) == 0
    assert _single_array_axis((slice(None), i)) == 1
    assert _single_array_axis((i, slice(None))) == 0
    assert _single_array_axis((i, i)) is None  # two arrays: np.add.at
    assert _single_array_axis((slice(1, None), i)) is None  # a partial slice: np.add.at
    assert _single_array_axis(np.array([True, False])) is None  # a mask: np.add.at
    assert _single_array_axis((0, i)) is None  # an int beside the array: np.add.at


def test_repeated_rows_accumulate_in_order() -> None:
    out = np.zeros((3, 2))
    scatter_add(out, np.array([2, 0, 2, 2]), np.array([[1.0, 2], [3, 4], [5, 6], [7, 8]]))
    np.testing.assert_array_equal(out, [[3, 4], [0, 0], [13, 16]])


def test_many_repeats_fall_back_and_still_agree() -> None:
    rng = np.random.default_rng(1)
    idx = np.zeros(40, dtype=np.int64)  # one row 40 times: more passes than MAX_PASSES
    x = rng.standard_normal((40, 3))
    out, expected = np.zeros((2, 3)), np.zeros((2, 3))
    scatter_add(out, idx, x)
    np.add.at(expected, idx, x)
    np.testing.assert_array_equal(out, expected)
