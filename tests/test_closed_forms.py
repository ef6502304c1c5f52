"""Gradients from backward() against hand derivations: the autoencoder W^T W x, a
two-logit softmax, einsum's trace / matrix-vector / outer product, softmax cross-entropy,
and sigmoid/tanh far out in their tails."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.gradcheck import numerical_grad, rel_error

sizes = st.integers(2, 6).flatmap(lambda n: st.tuples(st.integers(1, n - 1), st.just(n)))
seeds = st.integers(0, 2**16)


def _assert_near_numeric(analytic: np.ndarray, numeric: np.ndarray, loss: float) -> None:
    """Central differences carry an absolute error ~ eps |L| / h (2.2e-10 |L| at h = 1e-6),
    so they are compared relative to the gradient's scale plus that rounding, not entry by
    entry (a small entry of a large gradient is all rounding; and a gradient far smaller
    than L, e.g. W of shape (1, 6), is mostly rounding); the closed forms are the exact
    check."""
    scale = np.max(np.abs(numeric))
    assert np.max(np.abs(analytic - numeric)) <= 1e-6 * scale + 1e-9 * abs(loss)


def _grad(t: Tensor) -> np.ndarray:
    assert t.grad is not None
    return t.grad.numpy()


# ----------------------------------------------------------------------------- autoencoder


def _autoencoder_loss(W: Tensor, x: Tensor) -> Tensor:
    """L = 1/2 ||W^T W x - x||^2 (summed over the columns of x when x is a batch)."""
    r = W.T @ (W @ x) - x
    return 0.5 * (r * r).sum()


@given(mn=sizes, seed=seeds)
def test_autoencoder_gradient_closed_form_and_numeric(mn: tuple[int, int], seed: int) -> None:
    m, n = mn
    rng = np.random.default_rng(seed)
    Wv, xv = rng.standard_normal((m, n)), rng.standard_normal(n)
    W, x = Tensor(Wv, requires_grad=True), Tensor(xv, requires_grad=True)
    loss = _autoencoder_loss(W, x)
    g = Wv.T @ Wv @ xv - xv
    assert loss.item() == pytest.approx(0.5 * g @ g)
    loss.backward()
    closed = np.outer(Wv @ xv, g) + np.outer(Wv @ g, xv)
    numeric = numerical_grad(lambda w: _autoencoder_loss(Tensor(w), Tensor(xv)), Wv.copy())
    assert _grad(W).shape == (m, n)
    assert rel_error(_grad(W), closed) < 1e-9
    _assert_near_numeric(_grad(W), numeric, loss.item())
    # and for x: dL/dx = (W^T W - I) g
    np.testing.assert_allclose(_grad(x), (Wv.T @ Wv - np.eye(n)) @ g, atol=1e-12)


@given(mn=sizes, batch=st.integers(1, 5), seed=seeds)
def test_autoencoder_batch_gradient(mn: tuple[int, int], batch: int, seed: int) -> None:
    m, n = mn
    rng = np.random.default_rng(seed)
    Wv, Xv = rng.standard_normal((m, n)), rng.standard_normal((n, batch))
    W = Tensor(Wv, requires_grad=True)
    loss = _autoencoder_loss(W, Tensor(Xv))
    loss.backward()
    G = Wv.T @ Wv @ Xv - Xv
    closed = Wv @ Xv @ G.T + Wv @ G @ Xv.T  # the sum over the batch of the per-column form
    per_column = sum(np.outer(Wv @ Xv[:, b], G[:, b]) + np.outer(Wv @ G[:, b], Xv[:, b])
                     for b in range(batch))
    np.testing.assert_allclose(closed, per_column, atol=1e-12)
    numeric = numerical_grad(lambda w: _autoencoder_loss(Tensor(w), Tensor(Xv)), Wv.copy())
    assert rel_error(_grad(W), closed) < 1e-9
    _assert_near_numeric(_grad(W), numeric, loss.item())


# ----------------------------------------------------------------------------- softmax


@given(s=st.tuples(st.floats(-20, 20), st.floats(-20, 20)))
def test_two_logit_softmax_with_scalar_tensors(s: tuple[float, float]) -> None:
    s1 = Tensor(np.float64(s[0]), requires_grad=True)
    s2 = Tensor(np.float64(s[1]), requires_grad=True)
    e1, e2 = s1.exp(), s2.exp()
    p1 = e1 / (e1 + e2)
    loss = -p1.log()  # the true class is class 1
    loss.backward()
    p1v = 1.0 / (1.0 + np.exp(s[1] - s[0]))
    p2v = 1.0 - p1v
    assert s1.grad is not None and s2.grad is not None
    assert s1.grad.shape == () and s2.grad.shape == ()
    assert s1.grad.item() == pytest.approx(p1v - 1.0, abs=1e-12)
    assert s2.grad.item() == pytest.approx(p2v, abs=1e-12)


@given(batch=st.integers(1, 5), classes=st.integers(2, 5), seed=seeds)
def test_softmax_cross_entropy_gradient_is_p_minus_onehot(batch: int, classes: int,
                                                          seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = Tensor(rng.standard_normal((batch, classes)) * 3, requires_grad=True)
    labels = rng.integers(0, classes, size=batch)
    loss = -logits.log_softmax(dim=1)[np.arange(batch), labels].mean()
    loss.backward()
    z = logits.numpy()
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(classes)[labels]
    assert loss.item() == pytest.approx(-np.mean(np.log(p[np.arange(batch), labels])))
    np.testing.assert_allclose(_grad(logits), (p - onehot) / batch, atol=1e-12)


# ----------------------------------------------------------------------------- einsum


@given(n=st.integers(1, 5), seed=seeds)
def test_einsum_trace(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = Tensor(rng.standard_normal((n, n)), requires_grad=True)
    tr = tg.einsum("ii->", A)
    assert tr.item() == pytest.approx(np.trace(A.numpy()))
    upstream = rng.standard_normal()
    tr.backward(Tensor(np.float64(upstream)))
    np.testing.assert_allclose(_grad(A), upstream * np.eye(n))


@given(n=st.integers(1, 5), m=st.integers(1, 5), seed=seeds)
def test_einsum_matrix_vector(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = Tensor(rng.standard_normal((n, m)), requires_grad=True)
    x = Tensor(rng.standard_normal(m), requires_grad=True)
    y = tg.einsum("ij,j->i", A, x)
    np.testing.assert_allclose(y.numpy(), A.numpy() @ x.numpy())
    u = rng.standard_normal(n)
    y.backward(Tensor(u))
    np.testing.assert_allclose(_grad(A), np.outer(u, x.numpy()), atol=1e-12)
    np.testing.assert_allclose(_grad(x), A.numpy().T @ u, atol=1e-12)


@given(n=st.integers(1, 5), m=st.integers(1, 5), seed=seeds)
def test_einsum_outer_product(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = Tensor(rng.standard_normal(n), requires_grad=True)
    b = Tensor(rng.standard_normal(m), requires_grad=True)
    out = tg.einsum("i,j->ij", a, b)
    np.testing.assert_allclose(out.numpy(), np.outer(a.numpy(), b.numpy()))
    G = rng.standard_normal((n, m))
    out.backward(Tensor(G))
    np.testing.assert_allclose(_grad(a), G @ b.numpy(), atol=1e-12)
    np.testing.assert_allclose(_grad(b), G.T @ a.numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- tails

_TAILS = [-1e4, -1000.0, -710.0, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 710.0, 1000.0, 1e4]


def _sigmoid_reference(x: np.ndarray) -> np.ndarray:
    """1/(1+e^-x) without overflow: e^x/(1+e^x) for negative x."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@pytest.mark.filterwarnings("error")  # no overflow or invalid-value warning either
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_tanh_are_finite_far_out(dtype: type) -> None:
    x_np = np.array(_TAILS, dtype=dtype)
    for name, value, slope in [
        ("sigmoid", _sigmoid_reference, lambda y: y * (1 - y)),
        ("tanh", np.tanh, lambda y: 1 - y * y),
    ]:
        x = Tensor(x_np.copy(), requires_grad=True)
        y = getattr(x, name)()
        upstream = np.linspace(0.5, 1.5, x_np.size).astype(dtype)
        y.backward(Tensor(upstream))
        expected = value(x_np.astype(np.float64))
        assert y.dtype == dtype and _grad(x).dtype == dtype
        assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(_grad(x)))
        tol = 1e-6 if dtype == np.float32 else 1e-14
        np.testing.assert_allclose(y.numpy(), expected, rtol=tol, atol=tol, err_msg=name)
        np.testing.assert_allclose(_grad(x), upstream * slope(expected), rtol=tol * 10,
                                   atol=tol, err_msg=name)


def test_sigmoid_keeps_tiny_values() -> None:
    y = Tensor(np.array([-700.0, -50.0])).sigmoid().numpy()
    np.testing.assert_allclose(y, np.exp([-700.0, -50.0]), rtol=1e-12)
