"""Grad modes (no_grad, enable_grad, set_grad_enabled), detach, requires_grad_, the dtype
rules for Python and numpy data, and `tinygrad_edu.grad(...)`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def _leaf(values: Any) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ----------------------------------------------------------------------------- modes


def test_no_grad_context_manager_records_nothing() -> None:
    x = _leaf([1.0, 2.0])
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2.0
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_allclose(y.numpy(), [2.0, 4.0])


def test_no_grad_decorator_keeps_name_and_restores_mode() -> None:
    @tg.no_grad()
    def double(t: Tensor) -> Tensor:
        """Doubles."""
        assert not tg.is_grad_enabled()
        return t * 2.0

    assert double.__name__ == "double" and double.__doc__ == "Doubles."
    y = double(_leaf([1.0]))
    assert not y.requires_grad
    assert tg.is_grad_enabled()


def test_nesting_and_exceptions_restore_the_previous_mode() -> None:
    with tg.no_grad():
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            with tg.no_grad():
                assert not tg.is_grad_enabled()
            assert tg.is_grad_enabled()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    with pytest.raises(KeyError):
        with tg.no_grad():
            raise KeyError("boom")
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def failing() -> None:
        raise ValueError("inside")

    with pytest.raises(ValueError):
        failing()
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad_records() -> None:
    x = _leaf([3.0])
    with tg.no_grad():
        with tg.enable_grad():
            y = x * x
        z = x * x
    assert y.requires_grad and not z.requires_grad
    y.sum().backward()
    assert x.grad is not None and x.grad.item() == 6.0

    @tg.enable_grad()
    def square(t: Tensor) -> Tensor:
        return t * t

    with tg.no_grad():
        assert square(x).requires_grad


def test_set_grad_enabled_as_context_call_and_decorator() -> None:
    x = _leaf([1.0])
    with tg.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert tg.is_grad_enabled()
    with tg.no_grad():
        with tg.set_grad_enabled(True):
            assert (x * 2.0).requires_grad
        assert not tg.is_grad_enabled()
    try:
        tg.set_grad_enabled(False)  # a plain call switches the mode, as in PyTorch
        assert not tg.is_grad_enabled()
        assert not (x * 2.0).requires_grad
    finally:
        tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def f(t: Tensor) -> Tensor:
        return t * 2.0

    assert tg.is_grad_enabled()  # decorating does not switch the mode
    assert not f(x).requires_grad


# ----------------------------------------------------------------------------- detach etc.


def test_detach_cuts_the_graph_and_shares_memory() -> None:
    x = _leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), x.numpy())
    y = (x * x.detach()).sum()  # only the first factor carries a gradient
    y.backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), x.numpy())


def test_detached_branch_gets_no_gradient() -> None:
    x = _leaf([2.0])
    h = x * 3.0
    y = (h.detach() * x).sum()
    y.backward()
    assert x.grad is not None and x.grad.item() == 6.0


def test_requires_grad_underscore() -> None:
    x = Tensor(np.array([1.0, 2.0]))
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    assert x.grad is not None
    x.requires_grad_(False)
    assert not (x * 2.0).requires_grad
    h = _leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="requires_grad_.*non-leaf.*detach"):
        h.requires_grad_(False)
    with pytest.raises(RuntimeError, match="requires_grad.*floating.*int64"):
        Tensor([1, 2]).requires_grad_()


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("data,dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([1, 2.5], np.float32), (3, np.int64),
    ([[1, 2], [3, 4]], np.int64), (True, np.bool_), ([True, False], np.bool_),
    (np.ones(2, dtype=np.float64), np.float64), (np.ones(2, dtype=np.int32), np.int32),
    (np.ones(2, dtype=np.float16), np.float16), (np.float64(2.0), np.float64),
])
def test_dtype_of_python_and_numpy_data(data: Any, dtype: Any) -> None:
    assert Tensor(data).dtype == dtype
    assert tg.tensor(data).dtype == dtype


def test_dtype_of_mixed_arithmetic() -> None:
    f32 = Tensor(np.ones(2, dtype=np.float32))
    f64 = Tensor(np.ones(2))
    i64 = Tensor([1, 2])
    assert (f32 * 2.5).dtype == np.float32
    assert (2.5 * f32).dtype == np.float32
    assert (f32 + 1).dtype == np.float32
    assert (f64 * 2.5).dtype == np.float64
    assert (f32 + f64).dtype == np.float64
    assert (i64 + 1).dtype == np.int64
    assert (i64 * 1.5).dtype == np.float32
    assert (i64 / 2).dtype == np.float32
    assert (i64 / i64).dtype == np.float32
    np.testing.assert_allclose((Tensor([3]) / 2).numpy(), [1.5])
    assert (i64 + f64).dtype == np.float64


def test_gradient_dtype_follows_each_input() -> None:
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad is not None and b.grad is not None
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


def test_integer_tensors_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError, match=r"requires_grad.*int64.*\(3,\)"):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires_grad.*bool"):
        Tensor([True], requires_grad=True)


# ----------------------------------------------------------------------------- grad()


def test_grad_returns_gradients_without_touching_dot_grad() -> None:
    x, y = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    out = (x * y).sum()
    gx, gy = tg.grad(out, [x, y])
    assert gx is not None and gy is not None
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gy.numpy(), [1.0, 2.0])
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad


def test_grad_with_grad_outputs_for_a_non_scalar_output() -> None:
    x = _leaf([1.0, 2.0, 3.0])
    out = x * x
    v = np.array([1.0, -1.0, 0.5])
    (g,) = tg.grad(out, x, grad_outputs=Tensor(v))
    assert g is not None
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() * v)


def test_grad_of_several_outputs_sums_them() -> None:
    x = _leaf([1.0, 2.0])
    (g,) = tg.grad([(x * x).sum(), (x * 3.0).sum()], x)
    assert g is not None
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() + 3.0)


def test_grad_of_an_intermediate() -> None:
    x = _leaf([1.0, 2.0])
    h = x * 2.0
    out = (h * h).sum()
    gh, gx = tg.grad(out, [h, x])
    assert gh is not None and gx is not None
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(gx.numpy(), 4 * h.numpy())


def test_grad_allow_unused_gives_none() -> None:
    x, unused = _leaf([1.0]), _leaf([5.0])
    out = (x * 2.0).sum()
    gx, gu = tg.grad(out, [x, unused], allow_unused=True)
    assert gu is None and gx is not None and gx.item() == 2.0


def test_grad_retain_graph() -> None:
    x = _leaf([1.0, 2.0])
    out = (x * x).sum()
    (first,) = tg.grad(out, x, retain_graph=True)
    (second,) = tg.grad(out, x)
    assert first is not None and second is not None
    np.testing.assert_allclose(first.numpy(), second.numpy())
    with pytest.raises(RuntimeError, match="already freed"):
        tg.grad(out, x)


def test_grad_create_graph_gives_differentiable_gradients() -> None:
    x = _leaf([1.0, -2.0])
    (g,) = tg.grad((x**3).sum(), x, create_graph=True)
    assert g is not None and g.requires_grad
    (h,) = tg.grad(g.sum(), x)
    assert h is not None
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())
