"""The checkers themselves: numerical_grad, rel_error, gradcheck (and its report),
gradgradcheck, and the sparse modes. A checker that cannot fail proves nothing, so each is
also shown a deliberately wrong backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from tinygrad_edu import Function, Tensor
from tinygrad_edu.course import gradient_check as course_check
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.gradcheck import (
    GradcheckError,
    central_difference,
    grad_check_sparse,
    gradcheck,
    gradgradcheck,
    numerical_grad,
    rel_error,
)
from tinygrad_edu.testing import assert_gradients_match, float_arrays, shapes


class Square(Function):
    """y = x^2;  dy/dx = 2x (correct)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * x

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * x * 2.0


class SquareWrongAt12(Function):
    """y = x^2 with a backward that is off by 0.5 at element (1, 2) only."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * x

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        bump = np.zeros(x.shape)
        bump[1, 2] = 0.5
        return grad * x * 2.0 + Tensor(bump)


class SquareIgnoresUpstream(Function):
    """y = x^2 with a backward that forgets to multiply by the incoming gradient."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * x

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return x * 2.0


class CubeConstantDerivative(Function):
    """y = x^3 whose backward re-wraps 3x^2 as a constant: right to first order, but the
    second derivative is lost (the trap the style guide warns about)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x**3

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * Tensor(3.0 * x.numpy() ** 2)


X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


# ----------------------------------------------------------------------------- numeric


def test_numerical_grad_of_a_scalar_function() -> None:
    x = X.copy()
    g = numerical_grad(lambda v: np.sum(v**3), x)
    np.testing.assert_allclose(g, 3 * X**2, rtol=1e-8)
    np.testing.assert_array_equal(x, X)  # restored after the loop


def test_numerical_grad_with_upstream_and_indices() -> None:
    df = np.arange(6.0).reshape(2, 3)
    g = numerical_grad(lambda v: v * v, X.copy(), df=df)
    np.testing.assert_allclose(g, 2 * X * df, rtol=1e-8, atol=1e-9)
    some = numerical_grad(lambda v: np.sum(v * v), X.copy(), indices=[(0, 1), (1, 2)])
    expected = np.zeros_like(X)
    expected[0, 1], expected[1, 2] = 2 * X[0, 1], 2 * X[1, 2]
    np.testing.assert_allclose(some, expected, rtol=1e-8)
    t = numerical_grad(lambda v: Tensor(v).exp().sum(), X.copy())  # f may return a Tensor
    np.testing.assert_allclose(t, np.exp(X), rtol=1e-8)


def test_numerical_grad_needs_df_for_a_non_scalar_f() -> None:
    with pytest.raises(ValueError, match=r"numerical_grad: f returned shape \(2, 3\); pass df="):
        numerical_grad(lambda v: v * 2, X.copy())


def test_central_difference_of_an_array_valued_f_is_a_jacobian_column() -> None:
    x = X.copy()
    column = central_difference(np.tanh, x, (1, 2))
    expected = np.zeros_like(X)
    expected[1, 2] = 1 - np.tanh(X[1, 2]) ** 2
    np.testing.assert_allclose(column, expected, atol=1e-9)
    # f may return x itself: its values are copied before x is perturbed the other way
    expected = np.zeros_like(X)
    expected[0, 0] = 1.0
    np.testing.assert_allclose(central_difference(lambda v: v, x, (0, 0), 1e-3), expected,
                               rtol=1e-9)
    np.testing.assert_array_equal(x, X)


def test_central_difference_restores_x_and_checks_df() -> None:
    x = X.copy()

    def boom(v: np.ndarray) -> float:
        raise RuntimeError("f failed")

    with pytest.raises(RuntimeError, match="f failed"):
        central_difference(boom, x, (1, 1))
    np.testing.assert_array_equal(x, X)
    with pytest.raises(ShapeError, match=r"mine: f returned shape \(2, 3\) but df has shape "
                       r"\(3,\); they must be equal"):
        central_difference(lambda v: v, x, (0, 0), df=np.ones(3), op="mine")
    weighted = central_difference(lambda v: v * v, x, (0, 1), df=np.arange(6.0).reshape(2, 3))
    assert weighted.shape == () and weighted == pytest.approx(2 * X[0, 1] * 1.0, rel=1e-8)


def test_the_numeric_helpers_share_one_central_difference() -> None:
    """The courses' helpers and numerical_grad give the same numbers to the last bit."""
    def f(v: np.ndarray) -> float:
        return float(np.sum(np.sin(v) * v**2))

    ours = numerical_grad(f, X.copy(), 1e-5)
    np.testing.assert_array_equal(
        course_check.eval_numerical_gradient(f, X.copy(), verbose=False), ours)
    df = np.arange(6.0).reshape(2, 3)
    expected = np.zeros_like(X)
    for ix in np.ndindex(X.shape):
        expected[ix] = central_difference(np.tanh, X.copy(), ix, 1e-5, df=df)
    np.testing.assert_array_equal(
        course_check.eval_numerical_gradient_array(np.tanh, X.copy(), df), expected)
    assert course_check.rel_error is rel_error


def test_rel_error_is_the_courses_formula() -> None:
    assert rel_error(1.0, 1.0) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(0.0, 1e-9) == pytest.approx(0.1)  # the floor of 1e-8 in the denominator
    assert rel_error(Tensor(np.array([3.0])), np.array([-3.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"rel_error: shapes \(2,\) and \(3,\) differ"):
        rel_error(np.ones(2), np.ones(3))
    assert rel_error(np.array([2.0, 2.0]), 2.0) == 0.0  # a scalar broadcasts


@given(a=float_arrays(shapes(min_dims=0)), b=float_arrays(shapes(min_dims=0)))
def test_rel_error_is_symmetric_and_bounded(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape == b.shape:
        assert rel_error(a, b) == rel_error(b, a)
        assert 0.0 <= rel_error(a, b) <= 1.0
    assert rel_error(a, a) == 0.0


# ----------------------------------------------------------------------------- gradcheck


def test_gradcheck_passes_on_correct_ops() -> None:
    report = gradcheck(lambda t: Square.apply(t), [X])
    assert report.ok and bool(report)
    assert "OK" in str(report)
    report2 = gradcheck(lambda a, b: (a @ b).tanh(), [X, X.T])
    assert report2.ok and len(report2.inputs) == 2


def test_gradcheck_names_the_worst_element_of_a_wrong_backward() -> None:
    f = lambda t: SquareWrongAt12.apply(t)  # noqa: E731
    with pytest.raises(GradcheckError, match=r"input 0 \(2, 3\).*worst element at \(1, 2\)"
                                             r".*FAIL") as info:
        gradcheck(f, [X])
    assert "MISMATCH" in str(info.value)
    report = gradcheck(f, [X], raise_exception=False)
    assert not report.ok
    (r,) = report.inputs
    assert r.worst == (1, 2)
    assert r.analytic - r.numeric == pytest.approx(0.5, abs=1e-6)
    assert r.max_abs_error == pytest.approx(0.5, abs=1e-6)


def test_gradcheck_uses_a_random_upstream_gradient() -> None:
    # with an upstream of ones this wrong backward would look right
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: SquareIgnoresUpstream.apply(t), [X])
    assert gradcheck(lambda t: SquareIgnoresUpstream.apply(t).sum(), [X]).ok


def test_assert_gradients_match_raises_with_the_report() -> None:
    assert_gradients_match(lambda t: Square.apply(t), X)
    with pytest.raises(GradcheckError, match=r"worst element at \(1, 2\)"):
        assert_gradients_match(lambda t: SquareWrongAt12.apply(t), X)


def test_gradcheck_works_on_0d_inputs() -> None:
    assert gradcheck(lambda t: (t * t).exp(), [np.array(0.3)]).ok
    with pytest.raises(GradcheckError, match=r"input 0 \(\)"):
        gradcheck(lambda t: SquareIgnoresUpstream.apply(t) * 3.0, [np.array(0.3)])


# ----------------------------------------------------------------------------- second order


def test_gradgradcheck_passes_on_a_differentiable_backward() -> None:
    assert gradgradcheck(lambda t: Square.apply(t) * t, [X]).ok
    assert_gradients_match(lambda t: (t * t).log1p(), X, second_order=True)


def test_gradgradcheck_catches_a_backward_built_from_constants() -> None:
    f = lambda t: CubeConstantDerivative.apply(t)  # noqa: E731
    assert gradcheck(f, [X]).ok  # first order is right...
    with pytest.raises(GradcheckError, match="grad of"):
        gradgradcheck(f, [X])  # ...the second is not
    with pytest.raises(GradcheckError):
        assert_gradients_match(f, X, second_order=True)


# ----------------------------------------------------------------------------- sparse


def test_sparse_gradcheck_checks_k_elements_of_a_big_tensor() -> None:
    big = np.random.default_rng(0).standard_normal((60, 50))
    report = gradcheck(lambda t: (t * t).tanh(), [big], sparse=12)
    assert report.ok
    report_wrong = gradcheck(lambda t: SquareIgnoresUpstream.apply(t), [big], sparse=12,
                             raise_exception=False)
    assert not report_wrong.ok
    assert report_wrong.inputs[0].shape == (60, 50)
    assert_gradients_match(lambda t: t.exp(), big, sparse=5)


def test_grad_check_sparse_in_the_courses_style(capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    W = rng.standard_normal((5, 4))

    def loss(w: np.ndarray) -> float:
        return float(np.sum(np.tanh(w) ** 2))

    analytic = 2 * np.tanh(W) * (1 - np.tanh(W) ** 2)
    errors = grad_check_sparse(loss, W, analytic, num_checks=6, seed=0)
    assert len(errors) == 6 and max(errors) < 1e-7
    out = capsys.readouterr().out
    assert out.count("relative error") == 6 and "numerical:" in out and "analytic:" in out
    wrong = grad_check_sparse(loss, W, analytic + 1.0, num_checks=3, seed=0, verbose=False)
    assert min(wrong) > 1e-3
