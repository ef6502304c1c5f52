"""numpy on Tensors (DESIGN.md, "Interoperability"): `np.array(t)` copies and `np.asarray(t)`
shares, as numpy 2's copy= contract and PyTorch's tensors have it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, no_grad

# ============================================================================== __array__


def test_np_array_copies() -> None:
    t = tg.tensor([1.0, 2.0, 3.0])
    a = np.array(t)
    assert not np.shares_memory(a, t.numpy())
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    assert a.dtype == np.float32


def test_np_asarray_shares() -> None:
    t = tg.tensor([1.0, 2.0, 3.0])
    assert np.asarray(t) is t.numpy()
    assert np.asanyarray(t) is t.numpy()


def test_copy_true_always_copies() -> None:
    t = tg.tensor([1.0, 2.0])
    assert not np.shares_memory(np.asarray(t, copy=True), t.numpy())
    assert not np.shares_memory(t.__array__(copy=True), t.numpy())
    assert not np.shares_memory(np.array(t, dtype=np.float32, copy=True), t.numpy())


def test_copy_false_shares_when_it_can_and_raises_when_it_cannot() -> None:
    t = tg.tensor([1.0, 2.0])
    assert np.array(t, copy=False) is t.numpy()
    assert np.asarray(t, dtype=np.float32, copy=False) is t.numpy()  # no change needed
    with pytest.raises(ValueError, match="float32 Tensor of shape \\(2,\\) cannot become "
                       "float64 without a copy"):
        np.asarray(t, dtype=np.float64, copy=False)


@pytest.mark.parametrize("convert", [np.array, np.asarray])
def test_dtype_conversion(convert: Callable[..., np.ndarray]) -> None:
    t = tg.tensor([1.5, -2.5])
    a = convert(t, dtype=np.float64)
    assert a.dtype == np.float64 and not np.shares_memory(a, t.numpy())
    np.testing.assert_array_equal(a, [1.5, -2.5])
    np.testing.assert_array_equal(convert(t, dtype=np.int64), [1, -2])


def test_a_snapshot_does_not_follow_in_place_updates() -> None:
    # the Solver's best-parameters bug: np.array(param) aliased the live weights
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    snapshot = np.array(w)
    (w * w).sum().backward()
    with no_grad():
        w -= 0.5 * w.grad
    np.testing.assert_array_equal(snapshot, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.asarray(w), [0.0, 0.0, 0.0])  # asarray: the live values


def test_the_solvers_best_parameters_snapshot_is_a_copy() -> None:
    from tinygrad_edu.train import Solver

    r2 = np.random.default_rng(0)
    data = {"X_train": r2.standard_normal((8, 4)), "y_train": r2.integers(0, 3, 8),
            "X_val": r2.standard_normal((4, 4)), "y_val": r2.integers(0, 3, 4)}
    model = tg.nn.Linear(4, 3)
    solver = Solver(model, data, verbose=False)
    before = {k: np.array(v.numpy(), copy=True) for k, v in model.state_dict().items()}
    snapshot = solver._params_snapshot()
    with no_grad():
        for p in model.parameters():
            p.add_(1.0)
    for k, v in snapshot.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
