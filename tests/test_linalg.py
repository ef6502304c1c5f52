"""tinygrad_edu.linalg: values against numpy.linalg, first and second derivatives against
central differences on well-conditioned matrices built by construction (never filtered),
and the error paths."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, linalg
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.testing import assert_gradients_match, float_arrays

sizes = st.integers(1, 4)
batches = st.sampled_from([(), (2,)])


@st.composite
def well_conditioned(draw, symmetric=False):
    """A = Q1 diag(s) Q2^T with orthogonal Q1, Q2 (QR of random matrices) and singular values
    s in [1, 3]: condition number at most 3 whatever the draw. Symmetric positive definite
    (Q diag(s) Q^T) with `symmetric=True`."""
    n, batch = draw(sizes), draw(batches)
    shape = batch + (n, n)
    q1 = np.linalg.qr(draw(float_arrays(shape)))[0]
    q2 = q1 if symmetric else np.linalg.qr(draw(float_arrays(shape)))[0]
    s = draw(float_arrays(batch + (n,), low=1.0, high=3.0))
    return q1 @ (s[..., :, None] * np.swapaxes(q2, -1, -2))


def sym(t):
    return 0.5 * (t + t.mT)


# ----------------------------------------------------------------------------- values


@given(a=well_conditioned())
def test_forward_values_match_numpy(a):
    b = np.arange(a.shape[-1] * 3, dtype=np.float64).reshape(a.shape[-1], 3)  # never A.shape[:-1]
    np.testing.assert_allclose(linalg.inv(a).numpy(), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(linalg.det(a).numpy(), np.linalg.det(a), rtol=1e-10)
    sign, logabs = linalg.slogdet(a)
    ref_sign, ref_logabs = np.linalg.slogdet(a)
    np.testing.assert_array_equal(sign.numpy(), ref_sign)
    np.testing.assert_allclose(logabs.numpy(), ref_logabs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(linalg.solve(a, b).numpy(), np.linalg.solve(a, b), atol=1e-10)


@given(a=well_conditioned(symmetric=True))
def test_cholesky_values(a):
    low = linalg.cholesky(a).numpy()
    np.testing.assert_allclose(low, np.linalg.cholesky(a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(low @ np.swapaxes(low, -1, -2), a, atol=1e-10)
    np.testing.assert_allclose(linalg.cholesky(a, upper=True).numpy(), np.swapaxes(low, -1, -2))


def test_solve_vector_and_broadcast_batches():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal(3)
    np.testing.assert_allclose(linalg.solve(a, b).numpy(), np.linalg.solve(a, b[:, None])[..., 0])
    bb = rng.standard_normal((2, 3))  # shape A.shape[:-1]: a batch of vectors
    x = linalg.solve(a, bb).numpy()
    np.testing.assert_allclose(np.einsum("bij,bj->bi", a, x), bb, atol=1e-12)
    m = rng.standard_normal((4, 1, 3, 2))  # batch (4, 1) broadcasts with (2,)
    x = linalg.solve(a, m).numpy()
    assert x.shape == (4, 2, 3, 2)
    np.testing.assert_allclose(a @ x, np.broadcast_to(m, (4, 2, 3, 2)), atol=1e-12)


def test_solve_left_false_solves_x_a_equals_b():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((5, 3))
    x = linalg.solve(a, b, left=False).numpy()
    np.testing.assert_allclose(x @ a, b, atol=1e-12)


def test_logdet_nan_for_negative_determinant():
    assert np.isnan(linalg.logdet(np.diag([-1.0, 2.0])).item())
    assert linalg.logdet(np.zeros((2, 2))).item() == -np.inf
    np.testing.assert_allclose(linalg.logdet(np.diag([2.0, 3.0])).item(), np.log(6.0))


# ----------------------------------------------------------------------------- derivatives


@given(a=well_conditioned())
def test_inv_first_and_second_derivatives(a):
    assert_gradients_match(linalg.inv, a, second_order=True)


@given(a=well_conditioned(), k=st.integers(1, 2))
def test_solve_first_and_second_derivatives(a, k):
    b = np.linspace(-1, 1, a.shape[-1] * k).reshape(a.shape[-1], k)
    assert_gradients_match(linalg.solve, a, b, second_order=True)


@given(a=well_conditioned())
def test_solve_vector_right_hand_side_gradient(a):
    b = np.linspace(-1, 2, a.shape[-1])
    assert_gradients_match(linalg.solve, a, b)


@given(a=well_conditioned())
def test_det_first_and_second_derivatives(a):
    assert_gradients_match(linalg.det, a, second_order=True)


@given(a=well_conditioned())
def test_slogdet_first_and_second_derivatives(a):
    assert_gradients_match(lambda t: linalg.slogdet(t).logabsdet, a, second_order=True)


@given(a=well_conditioned(symmetric=True))
def test_cholesky_first_and_second_derivatives(a):
    # numpy reads only the lower triangle; through sym() the numeric gradient sees the
    # symmetric convention the primitive documents.
    assert_gradients_match(lambda t: linalg.cholesky(sym(t)), a, second_order=True)


def test_closed_forms_of_matrix_calculus():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    g = rng.standard_normal((3, 3))
    inv = np.linalg.inv(a)
    t = Tensor(a, requires_grad=True)
    (linalg.inv(t) * Tensor(g)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), -inv.T @ g @ inv.T, atol=1e-12)
    t = Tensor(a, requires_grad=True)
    linalg.slogdet(t).logabsdet.backward()
    np.testing.assert_allclose(t.grad.numpy(), inv.T, atol=1e-12)
    t = Tensor(a, requires_grad=True)
    linalg.det(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), np.linalg.det(a) * inv.T, atol=1e-12)


@given(x=float_arrays((3, 4), low=0.2, high=3.0), ord=st.sampled_from([1, 2, 3, 0.5]))
def test_vector_norm_gradient(x, ord):
    # mixed signs, never zero (|x| >= 0.2): ord < 1 has an infinite slope at 0
    assert_gradients_match(lambda t: linalg.vector_norm(t, ord, dim=-1), np.where(x < 1.5, -x, x))


@given(x=float_arrays((3, 3), low=-2, high=2), ord=st.sampled_from(["fro", 1, np.inf]))
def test_matrix_norm_gradient(x, ord):
    # away from kinks by construction: distinct magnitudes, no zeros
    x = x + np.arange(9).reshape(3, 3) * 7.0 + 1.0
    assert_gradients_match(lambda t: linalg.matrix_norm(t, ord), x)


@given(x=float_arrays((3, 3)))
def test_trace_diag_outer_diagonal(x):
    np.testing.assert_allclose(linalg.trace(x).numpy(), np.trace(x))
    np.testing.assert_allclose(linalg.diag(x).numpy(), np.diag(x))
    np.testing.assert_allclose(linalg.diag(x[0]).numpy(), np.diag(x[0]))
    np.testing.assert_allclose(linalg.diagonal(np.stack([x, 2 * x])).numpy(),
                               np.stack([np.diag(x), np.diag(2 * x)]))
    np.testing.assert_allclose(linalg.outer(x[0], x[1]).numpy(), np.outer(x[0], x[1]))
    np.testing.assert_allclose(linalg.vecdot(x, x).numpy(), (x * x).sum(-1))
    assert_gradients_match(linalg.trace, x)
    assert_gradients_match(lambda t: linalg.diag(linalg.diag(t)), x)
    assert_gradients_match(lambda a, b: linalg.outer(a, b), x[0], x[1])


# ----------------------------------------------------------------------------- norms: values


@pytest.mark.parametrize("ord", [1, 2, 3, 0.5, np.inf, -np.inf, 0])
def test_vector_norm_values(ord):
    x = np.array([[3.0, -4.0, 0.0], [1.0, 2.0, -2.0]])
    np.testing.assert_allclose(linalg.vector_norm(x, ord, dim=1).numpy(),
                               np.linalg.norm(x, ord, axis=1))


@pytest.mark.parametrize("ord", ["fro", 1, -1, np.inf, -np.inf])
def test_matrix_norm_values(ord):
    x = np.array([[[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], [[0.5, 0.0, 1.0], [2.0, -1.0, 3.0]]])
    np.testing.assert_allclose(linalg.matrix_norm(x, ord).numpy(), np.linalg.norm(x, ord, (1, 2)))
    assert linalg.matrix_norm(x, ord, keepdim=True).shape == (2, 1, 1)


def test_norm_dispatch_like_torch():
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_allclose(linalg.norm(x).item(), np.linalg.norm(x))
    np.testing.assert_allclose(linalg.norm(x, 1).item(), np.linalg.norm(x, 1))
    np.testing.assert_allclose(linalg.norm(x[0], 1).item(), 3.0)
    np.testing.assert_allclose(linalg.norm(x, dim=0).numpy(), np.linalg.norm(x, axis=0))
    np.testing.assert_allclose(linalg.norm(x, np.inf, dim=(0, 1)).item(), 7.0)
    np.testing.assert_allclose(linalg.norm(x, dim=(0, 1)).item(), np.linalg.norm(x))


def test_two_norm_neither_overflows_nor_underflows():
    assert linalg.vector_norm(np.array([3e200, 4e200])).item() == pytest.approx(5e200)
    assert linalg.vector_norm(np.array([3e-200, 4e-200])).item() == pytest.approx(5e-200)
    t = Tensor(np.array([3e200, 4e200]), requires_grad=True)
    linalg.vector_norm(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), [0.6, 0.8])


# ----------------------------------------------------------------------------- errors


def test_inv_of_singular_matrix_names_op_and_shape():
    with pytest.raises(linalg.LinAlgError, match=r"^inv: the matrix of shape \(2, 2\) is singular"):
        linalg.inv(np.array([[1.0, 2.0], [2.0, 4.0]]))


def test_singular_batch_element_is_named():
    a = np.stack([np.eye(2), np.zeros((2, 2))])
    with pytest.raises(linalg.LinAlgError, match=r"batch element \(1,\)"):
        linalg.inv(a)


def test_linalg_error_is_valueerror_and_runtimeerror():
    with pytest.raises(ValueError):
        linalg.inv(np.zeros((2, 2)))
    with pytest.raises(RuntimeError):
        linalg.inv(np.zeros((2, 2)))


@pytest.mark.parametrize("fn", [linalg.inv, linalg.det, linalg.cholesky, linalg.trace,
                                lambda a: linalg.slogdet(a)])
def test_non_square_input_names_op_and_shape(fn):
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        fn(np.ones((2, 3)))


def test_non_square_message_says_what_is_valid():
    with pytest.raises(ShapeError, match=r"^det: expected a square matrix .*\(\.\.\., n, n\); "
                                         r"got shape \(3,\)"):
        linalg.det(np.ones(3))


def test_solve_errors():
    with pytest.raises(ShapeError, match=r"^solve: A of shape \(3, 3\) and B of shape \(4, 2\)"):
        linalg.solve(np.eye(3), np.ones((4, 2)))
    with pytest.raises(ShapeError, match=r"^solve: batch shapes \(2,\)"):
        linalg.solve(np.stack([np.eye(3)] * 2), np.ones((3, 3, 1)))
    with pytest.raises(linalg.LinAlgError, match=r"^solve: the matrix of shape \(2, 2\) is "
                                                 "singular"):
        linalg.solve(np.zeros((2, 2)), np.ones(2))


def test_cholesky_of_indefinite_matrix():
    with pytest.raises(linalg.LinAlgError,
                       match=r"^cholesky: the matrix of shape \(2, 2\) is not positive definite"):
        linalg.cholesky(np.diag([1.0, -1.0]))


def test_det_gradient_at_singular_matrix_raises_naming_det():
    a = Tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), requires_grad=True)
    d = linalg.det(a)
    assert d.item() == pytest.approx(0.0)
    with pytest.raises(linalg.LinAlgError, match=r"^det .*singular"):
        d.backward()


def test_integer_input_is_rejected():
    with pytest.raises(TypeError, match=r"^inv: expected a floating-point tensor, got int64"):
        linalg.inv(tg.tensor([[1, 0], [0, 1]]))


def test_norm_argument_errors():
    with pytest.raises(ValueError, match=r"^matrix_norm: ord 2 is not supported"):
        linalg.matrix_norm(np.eye(2), 2)
    with pytest.raises(ShapeError, match=r"^norm: with ord=1 and dim=None the input must be 1-D "
                                         r"or 2-D; got shape \(2, 2, 2\)"):
        linalg.norm(np.ones((2, 2, 2)), 1)
    with pytest.raises(IndexError, match=r"^vector_norm: dim 3 is out of range"):
        linalg.vector_norm(np.ones((2, 2)), dim=3)
    with pytest.raises(ShapeError, match=r"^outer: expected two vectors, got shapes \(2, 2\)"):
        linalg.outer(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ShapeError, match=r"^diag: expected a vector or a square matrix"):
        linalg.diag(np.ones((2, 2, 2)))
