"""Every op of `op_table.OPS`: forward vs numpy (float64), gradient vs central differences
under a random upstream gradient, second order for the primitives, non-contiguous inputs,
one tensor used twice; then the documented conventions at kinks, tested on purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_strategies import OFFGRID, arrays, small_shapes
from op_table import BINARY, OPS, PRIMITIVES, Op

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import assert_gradients_match


def _bind(op: Op, params: dict[str, Any]) -> Callable[..., Tensor]:
    def f(*ts: Tensor) -> Tensor:
        return op.fn(*ts, **params)

    f.__name__ = op.name
    return f


@pytest.mark.parametrize("op", OPS, ids=repr)
@given(data=st.data())
def test_forward_matches_numpy(op: Op, data: Any) -> None:
    arrays_, params = data.draw(op.inputs, label="inputs")
    expected = np.asarray(op.ref(*arrays_, **params))
    for requires_grad in (False, True):  # the recorded path must compute the same values
        out = op.fn(*[Tensor(a, requires_grad=requires_grad) for a in arrays_], **params)
        assert isinstance(out, Tensor)
        assert out.dtype == np.float64, f"{op.name}: float64 in, {out.dtype} out"
        assert out.shape == expected.shape, f"{op.name}: shape {out.shape} != {expected.shape}"
        assert out.requires_grad == requires_grad
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12,
                                   err_msg=op.name)


@pytest.mark.parametrize("op", OPS, ids=repr)
@given(data=st.data())
def test_gradient_matches_central_differences(op: Op, data: Any) -> None:
    arrays_, params = data.draw(op.inputs, label="inputs")
    assert_gradients_match(_bind(op, params), *arrays_)


@pytest.mark.parametrize("op", PRIMITIVES, ids=repr)
@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(data=st.data())
def test_second_order_of_primitives(op: Op, data: Any) -> None:
    arrays_, params = data.draw(op.inputs, label="inputs")
    assert_gradients_match(_bind(op, params), *arrays_, second_order=True)


def _non_contiguous(a: np.ndarray) -> np.ndarray:
    """The same values in a non-contiguous layout: a transposed view for matrices, a
    strided view otherwise."""
    if a.ndim >= 2:
        return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)
    if a.ndim == 1:
        return np.repeat(a, 2)[::2]
    return a


def _grads(op: Op, arrays_: list[np.ndarray], params: dict[str, Any], seed: int
           ) -> tuple[np.ndarray, list[np.ndarray]]:
    leaves = [Tensor(a, requires_grad=True) for a in arrays_]
    out = op.fn(*leaves, **params)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    gs = tg.grad(out, leaves, grad_outputs=Tensor(upstream), allow_unused=True)
    return out.numpy(), [np.zeros_like(a) if g is None else g.numpy()
                         for a, g in zip(arrays_, gs)]


@pytest.mark.parametrize("op", OPS, ids=repr)
@given(data=st.data())
def test_non_contiguous_inputs(op: Op, data: Any) -> None:
    arrays_, params = data.draw(op.inputs, label="inputs")
    views = [_non_contiguous(a) for a in arrays_]
    for a, v in zip(arrays_, views):
        assert a.shape == v.shape
        if a.ndim and min(a.shape[-2:]) > 1:
            assert not v.flags.c_contiguous
    out, grads = _grads(op, list(arrays_), params, seed=0)
    out_v, grads_v = _grads(op, views, params, seed=0)
    np.testing.assert_allclose(out_v, out, rtol=1e-12, atol=1e-14)
    for g, g_v, a in zip(grads, grads_v, arrays_):
        assert g_v.shape == a.shape
        np.testing.assert_allclose(g_v, g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", BINARY, ids=repr)
@given(a=arrays(small_shapes(), OFFGRID))
def test_one_tensor_used_twice(op: Op, a: np.ndarray) -> None:
    f = _bind(op, {})
    assert_gradients_match(lambda t: f(t, t), a, second_order=True)


_SHARED: list[tuple[str, Callable[[Tensor], Tensor]]] = [
    ("matmul", lambda t: t @ t),
    ("matmul_T", lambda t: t.T @ t),
    ("einsum", lambda t: tg.einsum("ij,jk->ik", t, t)),
    ("cat", lambda t: tg.cat([t, t * 2.0], dim=1)),
    ("stack", lambda t: tg.stack([t, t.T])),
    ("where", lambda t: tg.where(t.numpy() > 0, t * t, t)),
    ("getitem", lambda t: t[0] * t[:, 1]),
]


@pytest.mark.parametrize("name,f", _SHARED, ids=[n for n, _ in _SHARED])
@given(a=arrays(st.integers(2, 3).map(lambda n: (n, n)), OFFGRID))
def test_square_matrix_used_twice(name: str, f: Callable[[Tensor], Tensor], a: np.ndarray
                                  ) -> None:
    assert_gradients_match(f, a)


# ----------------------------------------------------------------------------- kinks


def _grad_of(f: Callable[[Tensor], Tensor], values: Any) -> np.ndarray:
    x = Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    f(x).sum().backward()
    assert x.grad is not None
    return x.grad.numpy()


def test_relu_derivative_at_zero_is_zero() -> None:
    np.testing.assert_array_equal(_grad_of(lambda t: t.relu(), [-1.0, 0.0, 2.0]), [0, 0, 1])


def test_leaky_relu_slope_at_zero_is_negative_slope() -> None:
    g = _grad_of(lambda t: t.leaky_relu(0.1), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(g, [0.1, 0.1, 1.0])


def test_abs_derivative_at_zero_is_zero() -> None:
    np.testing.assert_array_equal(_grad_of(lambda t: t.abs(), [-2.0, 0.0, 3.0]), [-1, 0, 1])


@pytest.mark.parametrize("method", ["maximum", "minimum"])
def test_elementwise_ties_split_the_gradient(method: str) -> None:
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    upstream = np.array([4.0, 6.0, 8.0])
    getattr(a, method)(b).backward(Tensor(upstream))
    assert a.grad is not None and b.grad is not None
    share = [0.5, 0.0, 1.0] if method == "maximum" else [0.5, 1.0, 0.0]
    np.testing.assert_allclose(a.grad.numpy(), upstream * share)
    np.testing.assert_allclose(b.grad.numpy(), upstream * (1 - np.array(share)))


def test_max_reduction_ties_share_equally() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(_grad_of(lambda t: t.max(axis=1), x),
                               [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(_grad_of(lambda t: t.max(), x), [[0, 0.5, 0.5], [0, 0, 0]])
    y = np.array([[2.0, 3.0, 2.0], [2.0, 5.0, 2.0]])
    np.testing.assert_allclose(_grad_of(lambda t: t.amin(dim=(0, 1)), y),
                               [[1 / 4, 0, 1 / 4], [1 / 4, 0, 1 / 4]])
    # the numeric derivative along a vector of ones agrees: shift every entry together
    shift = _grad_of(lambda t: t.max(axis=1), x).sum(axis=1)
    np.testing.assert_allclose(shift, [1.0, 1.0])


def test_clamp_gradient_is_one_at_the_bounds() -> None:
    g = _grad_of(lambda t: t.clamp(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])


def test_pow_tensor_exponent_gradient_at_zero_and_negative_base() -> None:
    # As PyTorch: a^b log a -> 0 at a = 0 (b >= 0); a negative base has no derivative in b,
    # and NaN says so instead of a made-up 0.
    a = Tensor(np.array([0.0, -2.0, 2.0]))
    b = Tensor(np.array([2.0, 2.0, 2.0]), requires_grad=True)
    (a**b).sum().backward()
    assert b.grad is not None
    np.testing.assert_allclose(b.grad.numpy(), [0.0, np.nan, 4 * np.log(2.0)])


# ----------------------------------------------------------------------------- others


def test_comparisons_have_no_gradient() -> None:
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for result, expected in [(a < 2.0, [True, False, False]), (a >= 2.0, [False, True, True]),
                             (a == Tensor(np.array([1.0, 0.0, 3.0])), [True, False, True]),
                             (a != 2.0, [True, False, True])]:
        assert result.dtype == np.bool_
        assert not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.numpy(), expected)


@pytest.mark.parametrize("method", ["max", "min"])
@given(data=st.data())
def test_max_min_with_dim_return_values_and_indices(method: str, data: Any) -> None:
    shape = data.draw(small_shapes(min_dims=1))
    a = data.draw(arrays(shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    values, indices = getattr(Tensor(a), method)(dim, keepdim)
    arg = np.argmax if method == "max" else np.argmin
    np.testing.assert_array_equal(indices.numpy(), arg(a, axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(values.numpy(), getattr(np, method)(a, axis=dim,
                                                                      keepdims=keepdim))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_is_finite_for_huge_logits(name: str) -> None:
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 3.0]])
    x = Tensor(logits, requires_grad=True)
    out = getattr(x, name)(-1) if name != "logsumexp" else x.logsumexp(dim=-1)
    assert np.all(np.isfinite(out.numpy()))
    out.backward(Tensor(np.random.default_rng(0).standard_normal(out.shape)))
    assert x.grad is not None and np.all(np.isfinite(x.grad.numpy()))
    if name == "softmax":
        np.testing.assert_allclose(out.numpy()[0], [1.0, 0.0, 0.0])
        np.testing.assert_allclose(out.numpy()[1], [1 / 3] * 3)
    if name == "logsumexp":
        np.testing.assert_allclose(out.numpy(), [1e4, -1e4 + np.log(3), 1e4 + np.log(2)])
