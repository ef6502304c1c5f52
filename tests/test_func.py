"""Function transforms in `tinygrad_edu.func`: grad, value_and_grad, grad_and_value, vjp,
jvp, jacrev/jacfwd/jacobian, hessian, hvp - against closed forms and each other."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, func
from tinygrad_edu.gradcheck import numerical_grad
from tinygrad_edu.testing import float_arrays

vectors = st.integers(1, 4).flatmap(lambda n: float_arrays((n,)))


def _np(t: Any) -> np.ndarray:
    assert isinstance(t, Tensor)
    return t.numpy()


def _quadratic(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)), rng.standard_normal(n), rng.standard_normal(n)


# ----------------------------------------------------------------------------- grad family


@given(x=vectors)
def test_grad_of_a_scalar_function(x: np.ndarray) -> None:
    leaf = Tensor(x, requires_grad=True)
    g = func.grad(lambda t: (t**3).sum())(leaf)
    np.testing.assert_allclose(_np(g), 3 * x**2)
    assert leaf.grad is None  # transforms never touch .grad
    np.testing.assert_allclose(_np(func.grad(lambda t: (t**3).sum())(x)), 3 * x**2)


@given(x=vectors)
def test_argnums_int_negative_and_tuple(x: np.ndarray) -> None:
    y = x[::-1].copy()

    def f(a: Tensor, b: Tensor) -> Tensor:
        return (a * b).sum() + (b * b).sum()

    np.testing.assert_allclose(_np(func.grad(f)(x, y)), y)
    np.testing.assert_allclose(_np(func.grad(f, argnums=1)(x, y)), x + 2 * y)
    np.testing.assert_allclose(_np(func.grad(f, argnums=-1)(x, y)), x + 2 * y)
    ga, gb = func.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(_np(ga), y)
    np.testing.assert_allclose(_np(gb), x + 2 * y)


def test_value_and_grad_and_grad_and_value() -> None:
    x = np.array([1.0, -2.0, 0.5])

    def f(t: Tensor) -> Tensor:
        return (t * t).sum()

    value, g = func.value_and_grad(f)(x)
    assert value.item() == pytest.approx(5.25)
    np.testing.assert_allclose(_np(g), 2 * x)
    g2, value2 = func.grad_and_value(f)(x)
    assert value2.item() == pytest.approx(5.25)
    np.testing.assert_allclose(_np(g2), 2 * x)
    value3, (ga, gb) = func.value_and_grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, 2 * x)
    assert value3.item() == pytest.approx(2 * 5.25)
    np.testing.assert_allclose(_np(ga), 2 * x)
    np.testing.assert_allclose(_np(gb), x)


def test_has_aux() -> None:
    x = np.array([1.0, 3.0])

    def f(t: Tensor) -> tuple[Tensor, dict[str, float]]:
        loss = (t * t).sum()
        return loss, {"loss": loss.item(), "n": 2}

    g, aux = func.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(_np(g), 2 * x)
    assert aux == {"loss": 10.0, "n": 2}
    (value, aux2), g2 = func.value_and_grad(f, has_aux=True)(x)
    assert value.item() == 10.0 and aux2["n"] == 2
    np.testing.assert_allclose(_np(g2), 2 * x)
    g3, (value3, aux3) = func.grad_and_value(f, has_aux=True)(x)
    assert value3.item() == 10.0 and aux3["loss"] == 10.0
    np.testing.assert_allclose(_np(g3), 2 * x)


@given(x=st.floats(-2, 2, allow_nan=False))
def test_nested_grad_on_scalars(x: float) -> None:
    def f(t: Tensor) -> Tensor:
        return t * t.exp()  # f' = (x + 1) e^x, f'' = (x + 2) e^x, f''' = (x + 3) e^x

    x64 = np.float64(x)
    d1 = func.grad(f)(x64)
    d2 = func.grad(func.grad(f))(x64)
    d3 = func.grad(func.grad(func.grad(f)))(x64)
    assert d1.item() == pytest.approx((x + 1) * np.exp(x), rel=1e-10, abs=1e-12)
    assert d2.item() == pytest.approx((x + 2) * np.exp(x), rel=1e-10, abs=1e-12)
    assert d3.item() == pytest.approx((x + 3) * np.exp(x), rel=1e-10, abs=1e-12)


def test_grad_of_a_function_that_ignores_its_input_is_zero() -> None:
    g = func.grad(lambda t: Tensor(np.float64(3.0)))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(_np(g), [0.0, 0.0])


# ----------------------------------------------------------------------------- vjp / jvp


def _nonlinear(x: Tensor) -> Tensor:
    W = Tensor(np.arange(1.0, 7.0).reshape(3, 2) / 4.0)
    return (W @ x).tanh() * (x * x).sum()


@given(x=float_arrays((2,)), v=float_arrays((3,)))
def test_vjp_equals_v_transpose_jacobian(x: np.ndarray, v: np.ndarray) -> None:
    out, vjp_fn = func.vjp(_nonlinear, x)
    np.testing.assert_allclose(_np(out), _np(_nonlinear(Tensor(x))))
    (g,) = vjp_fn(v)
    jac = _np(func.jacrev(_nonlinear)(x))
    np.testing.assert_allclose(_np(g), v @ jac, atol=1e-12)
    (g_again,) = vjp_fn(2 * v)  # the function can be called again
    np.testing.assert_allclose(_np(g_again), 2 * (v @ jac), atol=1e-12)


def test_vjp_of_two_primals() -> None:
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = np.array([0.5, -1.0])
    out, vjp_fn = func.vjp(lambda a, b: a @ b, A, x)
    np.testing.assert_allclose(_np(out), A @ x)
    v = np.array([1.0, 0.0, -1.0])
    gA, gx = vjp_fn(v)
    np.testing.assert_allclose(_np(gA), np.outer(v, x))
    np.testing.assert_allclose(_np(gx), A.T @ v)


@given(x=float_arrays((2,)), t=float_arrays((2,)))
def test_jvp_equals_jacobian_times_tangent(x: np.ndarray, t: np.ndarray) -> None:
    out, jt = func.jvp(_nonlinear, (x,), (t,))
    np.testing.assert_allclose(_np(out), _np(_nonlinear(Tensor(x))))
    jac = _np(func.jacrev(_nonlinear)(x))
    np.testing.assert_allclose(_np(jt), jac @ t, atol=1e-12)


def test_jvp_of_two_primals() -> None:
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ta, tb = np.array([0.5, 0.0]), np.array([1.0, 2.0])
    _, jt = func.jvp(lambda x, y: x * y, (a, b), (ta, tb))
    np.testing.assert_allclose(_np(jt), ta * b + a * tb)


# ----------------------------------------------------------------------------- jacobians


def _numeric_jacobian(f: Any, x: np.ndarray) -> np.ndarray:
    out = f(Tensor(x)).numpy()
    rows = []
    for i in range(out.size):
        df = np.zeros(out.size)
        df[i] = 1.0
        rows.append(numerical_grad(lambda v: f(Tensor(v)), x.copy(), df=df.reshape(out.shape)))
    return np.stack(rows).reshape(out.shape + x.shape)


@pytest.mark.parametrize("name", ["jacrev", "jacfwd", "jacobian"])
@given(x=float_arrays((2,)))
def test_jacobians_match_numeric(name: str, x: np.ndarray) -> None:
    jac = getattr(func, name)(_nonlinear)(x)
    assert jac.shape == (3, 2)
    np.testing.assert_allclose(_np(jac), _numeric_jacobian(_nonlinear, x), atol=1e-6)


def test_jacobian_shapes_and_argnums() -> None:
    x = np.arange(6.0).reshape(2, 3)
    jac = func.jacrev(lambda t: t * t)(x)
    assert jac.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(_np(jac).reshape(6, 6), np.diag(2 * x.ravel()))
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([1.0, -1.0])
    jA, jv = func.jacrev(lambda a, b: a @ b, argnums=(0, 1))(A, v)
    np.testing.assert_allclose(_np(jv), A)
    expected_jA = np.zeros((2, 2, 2))
    for i in range(2):
        expected_jA[i, i, :] = v
    np.testing.assert_allclose(_np(jA), expected_jA)


# ----------------------------------------------------------------------------- hessians


@given(n=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_hessian_of_quadratic_form(n: int, seed: int) -> None:
    A, x, _ = _quadratic(seed, n)
    H = func.hessian(lambda t: t @ (Tensor(A) @ t))(x)
    np.testing.assert_allclose(_np(H), A + A.T, atol=1e-12)


@given(x=float_arrays((3,)))
def test_hessian_of_sum_exp_is_diagonal(x: np.ndarray) -> None:
    H = func.hessian(lambda t: t.exp().sum())(x)
    np.testing.assert_allclose(_np(H), np.diag(np.exp(x)), rtol=1e-12)
    H2 = func.jacrev(func.grad(lambda t: t.exp().sum()))(x)
    np.testing.assert_allclose(_np(H2), np.diag(np.exp(x)), rtol=1e-12)


@given(n=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_hvp_of_quadratic_form(n: int, seed: int) -> None:
    A, x, v = _quadratic(seed, n)
    g, hv = func.hvp(lambda t: t @ (Tensor(A) @ t), x, v)
    np.testing.assert_allclose(_np(g), (A + A.T) @ x, atol=1e-12)
    np.testing.assert_allclose(_np(hv), (A + A.T) @ v, atol=1e-12)
