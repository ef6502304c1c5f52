"""numpy's tril/triu, roll, tile, repeat, take_along_axis, diagonal, meshgrid and
atleast_*d called on Tensors: numpy's values (the function run on the arrays is the
reference) and a gradient that reaches the input (the Tensor op underneath)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.testing import assert_gradients_match

A = np.random.default_rng(0).standard_normal((2, 3, 4))
IDX = np.array([[[0, -1]], [[3, 1]]])

CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("tril", lambda a: np.tril(a)), ("tril_k", lambda a: np.tril(a, k=-1)),
    ("triu_vector", lambda a: np.triu(a[0, 0], 1)), ("triu", lambda a: np.triu(a, 2)),
    ("roll_flat", lambda a: np.roll(a, 5)), ("roll_axis", lambda a: np.roll(a, -1, axis=2)),
    ("roll_broadcast", lambda a: np.roll(a, 1, axis=(0, 2))),
    ("roll_pairs", lambda a: np.roll(a, (1, 2), axis=(1, 2))),
    ("tile", lambda a: np.tile(a, 2)), ("tile_more", lambda a: np.tile(a, (2, 1, 1, 2))),
    ("repeat_flat", lambda a: np.repeat(a, 2)),
    ("repeat_axis", lambda a: np.repeat(a, [1, 0, 2], axis=1)),
    ("take_along_axis", lambda a: np.take_along_axis(a, IDX, axis=2)),
    ("take_along_none", lambda a: np.take_along_axis(a, np.array([3, -2, 0]), axis=None)),
    ("diagonal", lambda a: np.diagonal(a)), ("diagonal_args", lambda a: np.diagonal(a, 1, 1, 2)),
    ("meshgrid", lambda a: np.stack(np.meshgrid(a[0, 0], a[1, 0]))),
    ("meshgrid_ij", lambda a: np.stack(np.meshgrid(a[0, 0], a[1, 1], indexing="ij"))),
    ("meshgrid_nd", lambda a: np.meshgrid(a[0], a[1, 0], copy=False)[0]),
    ("atleast_1d", lambda a: np.atleast_1d(a[0, 0, 0])),
    ("atleast_2d", lambda a: np.atleast_2d(a[0, 0])), ("atleast_3d", lambda a: np.atleast_3d(a[0])),
    ("atleast_many", lambda a: np.concatenate(np.atleast_3d(a[0, 0], a[1, 1]))),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[n for n, _ in CALLS])
def test_numpy_function_on_a_tensor(name: str, call: Callable[[Any], Any]) -> None:
    expected = call(A)
    out = call(tg.tensor(A))
    assert isinstance(out, tg.Tensor), f"{name}: {type(out)}"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, err_msg=name)
    assert_gradients_match(call, A)


def test_numpy_meshgrid_copies_by_default() -> None:
    """numpy's copy=True: grids with their own memory; copy=False: views of the inputs."""
    x = tg.tensor(A[0, 0].copy())
    assert not np.shares_memory(np.meshgrid(x, x)[0].numpy(), x.numpy())
    assert np.shares_memory(np.meshgrid(x, x, copy=False)[0].numpy(), x.numpy())


def test_numpy_meshgrid_sparse_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="np.meshgrid"):
        np.meshgrid(tg.tensor(A[0, 0]), tg.tensor(A[0, 0]), sparse=True)
