"""numpy on Tensors (DESIGN.md, "Interoperability"): `np.array(t)` copies and `np.asarray(t)`
shares (numpy 2's copy= contract); every ufunc and numpy function with a Tensor counterpart
returns a Tensor equal to numpy's answer on the arrays, whose gradient matches central
differences (float64), with ndarrays and scalars in either position; gradient-free answers
are constant Tensors, inspection answers stay numpy's; everything else, and out=, raises a
TypeError naming the function. Never a silent detach.

Every entry of the dispatch tables must appear in a row here (`test_every_*_is_tested`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, no_grad
from tinygrad_edu._numpy_functions import _FUNCTIONS
from tinygrad_edu._numpy_interop import (
    _BINARY,
    _GRADIENT_FREE,
    _GRADIENT_FREE_UFUNCS,
    _INSPECT,
    _REDUCTIONS,
    _UNARY,
)
from tinygrad_edu.testing import assert_gradients_match, broadcastable_shapes, float_arrays

RNG = np.random.default_rng(20240611)


def r(*shape: int) -> np.ndarray:
    return RNG.uniform(-2.0, 2.0, shape)


def away(*shape: int) -> np.ndarray:
    """Entries at least 0.3 from 0 (off the kinks of abs, sign, 1/x)."""
    x = r(*shape)
    return np.where(x >= 0, x + 0.3, x - 0.3)


def pos(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


def apart(x: np.ndarray) -> np.ndarray:
    """An array at least 0.2 from x everywhere (off the ties of maximum/minimum)."""
    return x + away(*x.shape)


def off_grid(y: np.ndarray) -> np.ndarray:
    """x with x / y at least 0.2 from an integer (off the jumps of remainder)."""
    return (RNG.integers(-3, 3, y.shape) + RNG.uniform(0.2, 0.8, y.shape)) * y


def assert_same(got: Any, expected: Any) -> None:
    """got is a Tensor equal to numpy's answer, with numpy's dtype and shape."""
    assert isinstance(got, Tensor), f"expected a Tensor, got {type(got).__name__}"
    want = np.asarray(expected)
    assert got.shape == want.shape, f"shape {got.shape} != numpy's {want.shape}"
    assert got.dtype == want.dtype, f"dtype {got.dtype} != numpy's {want.dtype}"
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


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


# ============================================================================== ufuncs


@dataclass(frozen=True)
class U:
    """A ufunc and the arrays (in its domain) it is tested on."""

    ufunc: Any
    args: tuple[np.ndarray, ...]
    differentiable: bool = True

    def __repr__(self) -> str:
        return self.ufunc.__name__


A, B = r(3, 4), r(3, 4)
UNARY = [
    U(np.negative, (A,)), U(np.positive, (A,)), U(np.exp, (A,)), U(np.log, (pos(3, 4),)),
    U(np.log1p, (pos(3, 4),)), U(np.sqrt, (pos(3, 4),)), U(np.square, (A,)),
    U(np.absolute, (away(3, 4),)), U(np.tanh, (A,)), U(np.reciprocal, (away(3, 4),)),
    U(np.sign, (away(3, 4),), differentiable=False),
    U(np.isnan, (np.array([1.0, np.nan, -np.inf]),), differentiable=False),
    U(np.isfinite, (np.array([1.0, np.nan, -np.inf]),), differentiable=False),
]
BINARY = [
    U(np.add, (A, r(4))), U(np.subtract, (A, r(3, 1))), U(np.multiply, (A, B)),
    U(np.true_divide, (A, away(4))), U(np.power, (pos(3, 4), r(3, 4))),
    U(np.matmul, (r(3, 4), r(4, 2))), U(np.maximum, (A, apart(A))),
    U(np.minimum, (A, apart(A))), U(np.remainder, (off_grid(pos(3, 4)), pos(3, 4))),
    U(np.floor_divide, (off_grid(pos(3, 4)), pos(3, 4)), differentiable=False),
]
BINARY += [U(f, (A, np.round(A, 1) + np.eye(3, 4)), differentiable=False) for f in (
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal)]
BINARY += [U(f, (A > 0, B > 0), differentiable=False) for f in (np.logical_and,
                                                                 np.logical_or)]
# issue 19's ufuncs (fixed data: no draws from RNG, so the arrays after these stay as they were)
GRID = np.array([[-2.33, -1.71, -1.18, -0.62], [-0.27, 0.13, 0.42, 0.87],
                 [1.22, 1.67, 2.08, 2.91]])  # off the jumps of floor, ceil, rint and round(., 1)
UNARY += [U(np.sin, (A,)), U(np.cos, (A,)), U(np.tan, (A,)), U(np.exp2, (A,)),
          U(np.log2, (A * A + 0.5,)), U(np.log10, (A * A + 0.5,)), U(np.expm1, (A,)),
          U(np.floor, (GRID,)), U(np.ceil, (GRID,)), U(np.trunc, (GRID,)), U(np.rint, (GRID,))]
BINARY += [U(np.arctan2, (A, B)), U(np.hypot, (A, B))]
INTS = RNG.integers(0, 16, (3, 4))
GRADIENT_FREE_UFUNCS = [
    U(np.isinf, (np.array([1.0, np.nan, -np.inf]),), False), U(np.signbit, (A,), False),
    U(np.logical_not, (A > 0,), False), U(np.logical_xor, (A > 0, B > 0), False),
    U(np.bitwise_and, (INTS, INTS + 3), False), U(np.bitwise_or, (INTS, 5), False),
    U(np.bitwise_xor, (INTS, INTS.T.reshape(3, 4)), False), U(np.invert, (INTS,), False),
    U(np.left_shift, (INTS, 2), False), U(np.right_shift, (INTS, 1), False),
]


def test_every_ufunc_of_the_tables_is_tested() -> None:
    tested = {u.ufunc for u in UNARY + BINARY + GRADIENT_FREE_UFUNCS}
    assert set(_UNARY) | set(_BINARY) | _GRADIENT_FREE_UFUNCS <= tested


def _as_tensors(args: tuple[Any, ...]) -> list[Any]:
    return [Tensor(a) if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("u", UNARY + BINARY + GRADIENT_FREE_UFUNCS, ids=repr)
def test_ufunc_value_is_numpys_as_a_tensor(u: U) -> None:
    expected = u.ufunc(*u.args)
    assert_same(u.ufunc(*_as_tensors(u.args)), expected)
    if len(u.args) == 2:  # an ndarray in either position
        assert_same(u.ufunc(u.args[0], Tensor(u.args[1])), expected)
        if isinstance(u.args[1], np.ndarray):
            assert_same(u.ufunc(Tensor(u.args[0]), u.args[1]), expected)


@pytest.mark.parametrize("u", [u for u in UNARY + BINARY if u.differentiable], ids=repr)
def test_ufunc_gradient(u: U) -> None:
    assert_gradients_match(lambda *ts: u.ufunc(*ts), *u.args, second_order=True)
    if len(u.args) == 2:  # only one operand a Tensor, the other an ndarray
        x, y = u.args
        assert_gradients_match(lambda t: u.ufunc(x, t), y)
        assert_gradients_match(lambda t: u.ufunc(t, y), x)


SCALAR_BINARY = [u for u in BINARY if u.differentiable and u.ufunc is not np.matmul]


@pytest.mark.parametrize("u", SCALAR_BINARY, ids=repr)
@pytest.mark.parametrize("scalar", [1.5, np.float64(1.5), 2], ids=["float", "np.float64", "int"])
def test_ufunc_with_a_scalar_in_either_position(u: U, scalar: Any) -> None:
    x = pos(3, 4) if u.ufunc in (np.power, np.true_divide, np.remainder) else u.args[0]
    if u.ufunc is np.remainder:
        x = off_grid(np.full((3, 4), float(scalar)))
    for f in (lambda t: u.ufunc(t, scalar), lambda t: u.ufunc(scalar, t)):
        assert_same(f(Tensor(x)), f(x))
        assert_gradients_match(f, x)


def test_scalars_are_weak_and_ndarrays_are_not() -> None:
    # a Python or numpy scalar takes the Tensor's dtype; an ndarray brings its own (PyTorch's
    # rules, as `t * 2` and `ndarray * t` have always had)
    t = Tensor(np.ones(3, dtype=np.float32))
    assert np.multiply(2.0, t).dtype == np.float32
    assert np.multiply(t, np.float64(2.0)).dtype == np.float32
    assert (np.float64(2.0) * t).dtype == np.float32
    assert np.multiply(np.ones(3), t).dtype == np.float64
    assert np.add(Tensor(np.arange(3)), 1).dtype == np.int64


def test_ndarray_operators_give_tensors_in_the_graph() -> None:
    x, w = r(5, 3), Tensor(r(3, 2), requires_grad=True)
    for out in (x @ w, x * w[:, 0], x[:, :2] + w[0], x[:, :2] - w[0], 2.0 / (1 + w * w),
                np.float64(3.0) ** w, x[:, :2] > w[0]):
        assert isinstance(out, Tensor)
    assert (x @ w).requires_grad and not (x[:, :2] > w[0]).requires_grad


def test_maximum_with_zero_is_relu_with_the_tie_rule() -> None:
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    np.maximum(0, x).sum().backward()
    # maximum's ties share the gradient (0.5 at exactly 0); x.relu() gives 0 there
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 1.0])


def test_ufunc_dtype_argument_computes_in_that_dtype() -> None:
    t = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    out = np.multiply(t, 2.0, dtype=np.float64)
    assert out.dtype == np.float64 and out.requires_grad
    assert np.exp(t, dtype=np.float64).dtype == np.float64


def test_zero_dim() -> None:
    assert_same(np.exp(Tensor(np.array(0.5))), np.exp(np.array(0.5)))
    assert_same(np.add(Tensor(np.array(0.5)), np.ones((2,))), np.add(0.5, np.ones(2)))


@given(shapes=broadcastable_shapes(), data=st.data())
def test_broadcasting_with_an_ndarray_on_the_left(shapes: Any, data: Any) -> None:
    left = data.draw(float_arrays(shapes[0]), label="left")
    right = data.draw(float_arrays(shapes[1]), label="right")
    for ufunc in (np.add, np.subtract, np.multiply):
        assert_same(ufunc(left, Tensor(right)), ufunc(left, right))
        assert_gradients_match(lambda t, u=ufunc: u(left, t), right)


# ----------------------------------------------------------------------------- ufunc methods

C = r(2, 3, 4)
REDUCE_CALLS = [
    (np.add, {}), (np.add, {"axis": None}), (np.add, {"axis": 1, "keepdims": True}),
    (np.add, {"axis": (0, 2)}), (np.maximum, {}), (np.maximum, {"axis": -1}),
    (np.minimum, {"axis": 1}), (np.multiply, {"axis": 2}),
]


@pytest.mark.parametrize("ufunc, kwargs", REDUCE_CALLS,
                         ids=[f"{u.__name__}-{k}" for u, k in REDUCE_CALLS])
def test_ufunc_reduce(ufunc: Any, kwargs: dict[str, Any]) -> None:
    x = away(*C.shape) if ufunc is np.multiply else C
    assert_same(ufunc.reduce(Tensor(x), **kwargs), ufunc.reduce(x, **kwargs))
    assert_gradients_match(lambda t: ufunc.reduce(t, **kwargs), x)


@pytest.mark.parametrize("ufunc", [np.logical_and, np.logical_or])
def test_logical_reduce(ufunc: Any) -> None:
    x = C > 0
    assert_same(ufunc.reduce(Tensor(x), axis=1), ufunc.reduce(x, axis=1))


def test_every_reduction_is_tested() -> None:
    assert set(_REDUCTIONS) <= {u for u, _ in REDUCE_CALLS} | {np.logical_and, np.logical_or}


def test_reduce_with_dtype() -> None:
    t = Tensor(np.ones((2, 3), dtype=np.float32))
    assert np.add.reduce(t, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("call, name", [
    (lambda t: np.add.accumulate(t), "np.add.accumulate"),
    (lambda t: np.multiply.outer(t, t), "np.multiply.outer"),
    (lambda t: np.add.at(t, [0], 1.0), "np.add.at"),
    (lambda t: np.add.reduceat(t, [0, 1]), "np.add.reduceat"),
    (lambda t: np.subtract.reduce(t), "np.subtract.reduce"),
    (lambda t: np.add.reduce(t, initial=1.0), "np.add.reduce"),
])
def test_other_ufunc_methods_raise(call: Callable[[Tensor], Any], name: str) -> None:
    with pytest.raises(TypeError, match=name.replace(".", "\\.") + " on a Tensor") as e:
        call(Tensor(r(3)))
    assert "t.detach().numpy()" in str(e.value)


# ============================================================================== functions


@dataclass(frozen=True)
class F:
    """A numpy call, written as a student writes it, and the arrays it is called with."""

    func: Any
    name: str
    f: Callable[..., Any]
    args: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        return f"{self.func.__name__}-{self.name}"


def _join(pieces: Any) -> Any:
    """One array from a split's pieces, each weighted differently (so the gradient sees which
    piece went where)."""
    return np.concatenate([p.reshape(-1) * (i + 1.0) for i, p in enumerate(pieces)])


K = r(3, 4)  # an ndarray constant inside the numpy code
EYE3 = np.eye(3)
FUNCTIONS = [
    F(np.sum, "all", lambda x: np.sum(x), (C,)),
    F(np.sum, "axis", lambda x: np.sum(x, axis=1), (C,)),
    F(np.sum, "positional-axis", lambda x: np.sum(x, -1), (C,)),
    F(np.sum, "axes-keepdims", lambda x: np.sum(x, axis=(0, 2), keepdims=True), (C,)),
    F(np.sum, "0-d", lambda x: np.sum(x), (np.array(1.5),)),
    F(np.mean, "axis", lambda x: np.mean(x, axis=0), (C,)),
    F(np.mean, "keepdims", lambda x: np.mean(x, axis=(1, 2), keepdims=True), (C,)),
    F(np.max, "axis", lambda x: np.max(x, axis=1), (C,)),
    F(np.max, "all", lambda x: np.max(x), (C,)),
    F(np.amax, "axes", lambda x: np.amax(x, axis=(0, 2), keepdims=True), (C,)),
    F(np.min, "axis", lambda x: np.min(x, axis=-1), (C,)),
    F(np.amin, "all", lambda x: np.amin(x), (C,)),
    F(np.prod, "axis", lambda x: np.prod(x, axis=1), (away(2, 3, 4),)),
    F(np.prod, "all", lambda x: np.prod(x), (away(2, 3),)),
    F(np.var, "default-ddof0", lambda x: np.var(x), (C,)),
    F(np.var, "ddof1-axis", lambda x: np.var(x, axis=1, ddof=1), (C,)),
    F(np.var, "correction-keepdims", lambda x: np.var(x, 0, keepdims=True, correction=1), (C,)),
    F(np.std, "default-ddof0", lambda x: np.std(x, axis=2), (C,)),
    F(np.std, "ddof1", lambda x: np.std(x, ddof=1), (C,)),
    F(np.cumsum, "flattened", lambda x: np.cumsum(x), (A,)),
    F(np.cumsum, "axis", lambda x: np.cumsum(x, axis=1), (C,)),
    F(np.dot, "vectors", lambda x, y: np.dot(x, y), (r(4), r(4))),
    F(np.dot, "matrices", lambda x, y: np.dot(x, y), (r(3, 4), r(4, 2))),
    F(np.dot, "nd-vector", lambda x, y: np.dot(x, y), (C, r(4))),
    F(np.dot, "matrix-nd", lambda x, y: np.dot(x, y), (r(3, 4), r(2, 4, 5))),
    F(np.dot, "scalar", lambda x: np.dot(2.5, x), (A,)),
    F(np.dot, "ndarray-left", lambda x: np.dot(K.T, x), (r(3, 2),)),
    F(np.inner, "matrices", lambda x, y: np.inner(x, y), (r(3, 4), r(5, 4))),
    F(np.inner, "ndarray-right", lambda x: np.inner(x, K), (r(2, 4),)),
    F(np.vdot, "matrices", lambda x, y: np.vdot(x, y), (r(3, 4), r(4, 3))),
    F(np.outer, "flattens", lambda x, y: np.outer(x, y), (r(2, 3), r(3))),
    F(np.outer, "ndarray-left", lambda x: np.outer(K[0], x), (r(3),)),
    F(np.einsum, "matmul", lambda x, y: np.einsum("ij,jk->ik", x, y), (r(3, 4), r(4, 2))),
    F(np.einsum, "trace", lambda x: np.einsum("ii->", x), (r(3, 3),)),
    F(np.einsum, "ellipsis", lambda x, y: np.einsum("...j,j->...", x, y), (C, r(4))),
    F(np.einsum, "interleaved", lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [0, 2]),
      (r(3, 4), r(4, 2))),
    F(np.einsum, "ndarray", lambda x: np.einsum("ij,ij->i", K, x), (r(3, 4),)),
    F(np.tensordot, "axes2", lambda x, y: np.tensordot(x, y), (C, r(3, 4, 2))),
    F(np.tensordot, "axes1", lambda x, y: np.tensordot(x, y, axes=1), (r(3, 4), r(4, 2))),
    F(np.tensordot, "pairs", lambda x, y: np.tensordot(x, y, axes=([1, 0], [0, 1])),
      (C, r(3, 2, 5))),
    F(np.tensordot, "ndarray-left", lambda x: np.tensordot(K, x, axes=([0], [0])), (r(3, 2),)),
    F(np.trace, "matrix", lambda x: np.trace(x), (r(3, 3),)),
    F(np.trace, "axes", lambda x: np.trace(x, axis1=1, axis2=2), (r(2, 3, 3),)),
    F(np.trace, "default-axes-3d", lambda x: np.trace(x), (r(3, 3, 2),)),
    F(np.diag, "vector", lambda x: np.diag(x), (r(3),)),
    F(np.diag, "matrix", lambda x: np.diag(x), (r(3, 3),)),
    F(np.reshape, "shape", lambda x: np.reshape(x, (4, 6)), (C,)),
    F(np.reshape, "minus-one", lambda x: np.reshape(x, (-1, 2)), (C,)),
    F(np.reshape, "keyword", lambda x: np.reshape(x, shape=(6, 4)), (C,)),
    F(np.ravel, "default", lambda x: np.ravel(x), (C,)),
    F(np.transpose, "reverse", lambda x: np.transpose(x), (C,)),
    F(np.transpose, "axes", lambda x: np.transpose(x, (1, 0, 2)), (C,)),
    F(np.transpose, "negative-axes", lambda x: np.transpose(x, axes=(-1, 0, 1)), (C,)),
    F(np.permute_dims, "axes", lambda x: np.permute_dims(x, (2, 0, 1)), (C,)),
    F(np.matrix_transpose, "batch", lambda x: np.matrix_transpose(x), (C,)),
    F(np.moveaxis, "one", lambda x: np.moveaxis(x, 0, -1), (C,)),
    F(np.moveaxis, "two", lambda x: np.moveaxis(x, [0, 1], [-1, -2]), (C,)),
    F(np.swapaxes, "ends", lambda x: np.swapaxes(x, 0, 2), (C,)),
    F(np.squeeze, "all", lambda x: np.squeeze(x), (r(3, 1, 4, 1),)),
    F(np.squeeze, "axis", lambda x: np.squeeze(x, axis=1), (r(3, 1, 4, 1),)),
    F(np.squeeze, "axes", lambda x: np.squeeze(x, axis=(1, -1)), (r(3, 1, 4, 1),)),
    F(np.expand_dims, "axis", lambda x: np.expand_dims(x, 0), (A,)),
    F(np.expand_dims, "axes", lambda x: np.expand_dims(x, axis=(0, 3)), (A,)),
    F(np.broadcast_to, "rows", lambda x: np.broadcast_to(x, (3, 4)), (r(4),)),
    F(np.broadcast_to, "new-axes", lambda x: np.broadcast_to(x, (2, 3, 5)), (r(3, 1),)),
    F(np.flip, "all", lambda x: np.flip(x), (A,)),
    F(np.flip, "axis", lambda x: np.flip(x, axis=1), (C,)),
    F(np.copy, "default", lambda x: np.copy(x), (A,)),
    F(np.concatenate, "axis0", lambda x, y: np.concatenate([x, y]), (r(3, 4), r(2, 4))),
    F(np.concatenate, "axis1", lambda x, y: np.concatenate((x, y), axis=1), (A, r(3, 2))),
    F(np.concatenate, "axis-none", lambda x, y: np.concatenate([x, y], axis=None), (A, r(3))),
    F(np.concatenate, "with-ndarray", lambda x: np.concatenate([K, x, K]), (r(2, 4),)),
    F(np.concat, "axis1", lambda x, y: np.concat([x, y], axis=1), (A, r(3, 2))),
    F(np.stack, "axis0", lambda x, y: np.stack([x, y]), (A, B)),
    F(np.stack, "last", lambda x: np.stack([x, K], axis=-1), (A,)),
    F(np.vstack, "vectors", lambda x, y: np.vstack([x, y]), (r(4), r(2, 4))),
    F(np.hstack, "vectors", lambda x, y: np.hstack((x, y)), (r(3), r(2))),
    F(np.hstack, "matrices", lambda x: np.hstack([x, K]), (r(3, 2),)),
    F(np.split, "sections", lambda x: _join(np.split(x, 3)), (r(6, 4),)),
    F(np.split, "indices", lambda x: _join(np.split(x, [1, 3], axis=1)), (r(2, 4),)),
    F(np.array_split, "unequal", lambda x: _join(np.array_split(x, 4)), (r(6, 2),)),
    F(np.where, "both-tensors", lambda x, y: np.where(x > y, x, y), (A, apart(A))),
    F(np.where, "scalar", lambda x: np.where(x > 0, x, 0.0), (away(3, 4),)),
    F(np.where, "ndarray", lambda x: np.where(K > 0, K, x), (A,)),
    F(np.clip, "scalars", lambda x: np.clip(x, -1.0, 1.0), (away(3, 4) * 1.7,)),
    F(np.clip, "keywords", lambda x: np.clip(x, min=-0.5, max=None), (away(3, 4),)),
    F(np.clip, "ndarray-bound", lambda x: np.clip(x, K - 0.25, 1.0), (A,)),
    F(np.clip, "tensor-bound", lambda x, low: np.clip(x, low, 1.5), (A, apart(A))),
    F(np.pad, "int", lambda x: np.pad(x, 1), (A,)),
    F(np.pad, "pairs", lambda x: np.pad(x, ((1, 0), (2, 1))), (A,)),
    F(np.pad, "value", lambda x: np.pad(x, (0, 2), constant_values=2.0), (C,)),
    F(np.sort, "last", lambda x: np.sort(x), (C,)),
    F(np.sort, "axis0", lambda x: np.sort(x, axis=0), (C,)),
    F(np.sort, "flattened", lambda x: np.sort(x, axis=None), (A,)),
    F(np.linalg.inv, "matrix", lambda x: np.linalg.inv(x + 4 * EYE3), (r(3, 3),)),
    F(np.linalg.det, "matrix", lambda x: np.linalg.det(x + 4 * EYE3), (r(3, 3),)),
    F(np.linalg.slogdet, "logabsdet", lambda x: np.linalg.slogdet(x + 4 * EYE3)[1],
      (r(3, 3),)),
    F(np.linalg.cholesky, "lower", lambda x: np.linalg.cholesky(x @ x.T + 3 * EYE3),
      (r(3, 3),)),
    F(np.linalg.cholesky, "upper", lambda x: np.linalg.cholesky(x @ x.T + 3 * EYE3,
                                                                 upper=True), (r(3, 3),)),
    F(np.linalg.solve, "vector", lambda a, b: np.linalg.solve(a + 4 * EYE3, b), (r(3, 3), r(3))),
    F(np.linalg.solve, "matrix", lambda a, b: np.linalg.solve(a + 4 * EYE3, b),
      (r(3, 3), r(3, 2))),
    F(np.linalg.norm, "default", lambda x: np.linalg.norm(x), (C,)),
    F(np.linalg.norm, "axis", lambda x: np.linalg.norm(x, axis=1, keepdims=True), (A,)),
    F(np.linalg.norm, "ord1", lambda x: np.linalg.norm(x, ord=1), (away(4),)),
    F(np.linalg.norm, "fro", lambda x: np.linalg.norm(x, "fro"), (A,)),
]
FUNCTIONS += [  # issue 19
    F(np.round, "decimals", lambda x: np.round(x, 1), (GRID,)),
    F(np.around, "default", lambda x: np.around(x), (GRID,)),
    F(np.fix, "default", lambda x: np.fix(x), (GRID,)),
    F(np.nansum, "axis", lambda x: np.nansum(x, axis=1, keepdims=True), (C,)),
    F(np.nansum, "all", lambda x: np.nansum(x), (A,)),
    F(np.nan_to_num, "default", lambda x: np.nan_to_num(x), (A,)),
]
FUNCTIONS += [  # issue 19's shape handlers (more cases: tests/test_shape_added_numpy.py)
    F(np.tril, "k", lambda x: np.tril(x, -1), (C,)),
    F(np.triu, "k", lambda x: np.triu(x, 1), (C,)),
    F(np.roll, "axis", lambda x: np.roll(x, 2, axis=-1), (C,)),
    F(np.tile, "reps", lambda x: np.tile(x, (2, 1)), (C,)),
    F(np.repeat, "axis", lambda x: np.repeat(x, 2, axis=1), (C,)),
    F(np.take_along_axis, "axis", lambda x: np.take_along_axis(x, np.argsort(x, 2), 2), (C,)),
    F(np.diagonal, "axes", lambda x: np.diagonal(x, 1, 1, 2), (C,)),
    F(np.meshgrid, "xy", lambda x, y: np.stack(np.meshgrid(x, y), -1), (r(3), r(2))),
    F(np.atleast_1d, "0-d", lambda x: np.atleast_1d(x), (r(),)),
    F(np.atleast_2d, "1-d", lambda x: np.atleast_2d(x), (r(3),)),
    F(np.atleast_3d, "2-d", lambda x: np.atleast_3d(x), (r(2, 3),)),
]
CONSTANT_LIKE = [
    F(np.zeros_like, "default", lambda x: np.zeros_like(x), (A,)),
    F(np.ones_like, "dtype", lambda x: np.ones_like(x, dtype=np.float32), (A,)),
    F(np.empty_like, "shape", lambda x: np.zeros_like(np.empty_like(x)), (A,)),
    F(np.full_like, "value", lambda x: np.full_like(x, 7.0), (C,)),
]
TIES = np.array([[3.0, 1.0, 3.0], [0.0, -2.0, 5.0]])
GRADIENT_FREE = [
    F(np.argmax, "axis", lambda x: np.argmax(x, axis=1), (C,)),
    F(np.argmax, "ties-keepdims", lambda x: np.argmax(x, axis=1, keepdims=True), (TIES,)),
    F(np.argmin, "all", lambda x: np.argmin(x), (C,)),
    F(np.argsort, "last", lambda x: np.argsort(x), (C,)),
    F(np.argwhere, "mask", lambda x: np.argwhere(x > 0), (A,)),
    F(np.flatnonzero, "values", lambda x: np.flatnonzero(x), (TIES,)),
    F(np.count_nonzero, "all", lambda x: np.count_nonzero(x), (TIES,)),
    F(np.count_nonzero, "axis", lambda x: np.count_nonzero(x, axis=0), (TIES,)),
    F(np.searchsorted, "sorted", lambda x: np.searchsorted(np.sort(x), K[0]), (r(6),)),
    F(np.all, "axis", lambda x: np.all(x > -1.5, axis=1), (A,)),
    F(np.any, "all", lambda x: np.any(x > 1.9), (A,)),
    F(np.isclose, "values", lambda x: np.isclose(x, x + np.where(K > 0, 1.0, 0.0)), (A,)),
    F(np.isin, "values", lambda x: np.isin(x, [3.0, 5.0]), (TIES,)),
    F(np.isneginf, "values", lambda x: np.isneginf(x), (np.array([-np.inf, 1.0, np.inf]),)),
    F(np.isposinf, "values", lambda x: np.isposinf(x), (np.array([-np.inf, 1.0, np.inf]),)),
]
NONZERO = F(np.nonzero, "mask", lambda x: np.nonzero(x > 0), (A,))


def test_every_function_of_the_tables_is_tested() -> None:
    tested = {f.func for f in FUNCTIONS + CONSTANT_LIKE + GRADIENT_FREE + [NONZERO]}
    assert set(_FUNCTIONS) <= tested, set(_FUNCTIONS) - tested
    assert _GRADIENT_FREE <= tested, _GRADIENT_FREE - tested
    assert _INSPECT <= {f for f, _ in INSPECT} | {np.save, np.savez, np.savez_compressed,
                                                  np.savetxt}


@pytest.mark.parametrize("row", FUNCTIONS, ids=repr)
def test_function_value_is_numpys_as_a_tensor(row: F) -> None:
    assert_same(row.f(*[Tensor(a) for a in row.args]), row.f(*row.args))


@pytest.mark.parametrize("row", FUNCTIONS, ids=repr)
def test_function_gradient(row: F) -> None:
    out = row.f(*[Tensor(a, requires_grad=True) for a in row.args])
    assert out.requires_grad, f"{row!r}: the result left the graph"
    assert_gradients_match(row.f, *row.args)


@pytest.mark.parametrize("row", CONSTANT_LIKE, ids=repr)
def test_like_functions_give_constant_tensors(row: F) -> None:
    out = row.f(*[Tensor(a, requires_grad=True) for a in row.args])
    assert_same(out, row.f(*row.args))
    assert not out.requires_grad


@pytest.mark.parametrize("row", GRADIENT_FREE, ids=repr)
def test_gradient_free_answers_are_constant_tensors(row: F) -> None:
    out = row.f(*[Tensor(a, requires_grad=True) for a in row.args])
    expected = np.asarray(row.f(*row.args))
    assert isinstance(out, Tensor) and not out.requires_grad
    assert out.dtype == (np.int64 if expected.dtype.kind in "iu" else expected.dtype)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_nonzero_and_one_argument_where_give_index_tensors() -> None:
    for call in (lambda x: np.nonzero(x > 0), lambda x: np.where(x > 0)):
        got, expected = call(Tensor(A, requires_grad=True)), call(A)
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert isinstance(g, Tensor) and g.dtype == np.int64
            np.testing.assert_array_equal(g.numpy(), e)
    assert np.all(A[np.nonzero(Tensor(A) > 0)] > 0)  # they index an ndarray as numpy's do


INSPECT = [
    (np.shape, lambda x: np.shape(x)), (np.ndim, lambda x: np.ndim(x)),
    (np.size, lambda x: np.size(x)), (np.allclose, lambda x: np.allclose(x, x + 1e-12)),
    (np.array_equal, lambda x: np.array_equal(x, K)),
    (np.array_equiv, lambda x: np.array_equiv(x, x[0])),
    (np.result_type, lambda x: np.result_type(x, np.float32)),
    (np.may_share_memory, lambda x: np.may_share_memory(x, K)),
    (np.shares_memory, lambda x: np.shares_memory(x, K)),
    (np.iscomplexobj, lambda x: np.iscomplexobj(x)), (np.isrealobj, lambda x: np.isrealobj(x)),
    (np.array2string, lambda x: np.array2string(x)), (np.array_repr, lambda x: np.array_repr(x)),
    (np.array_str, lambda x: np.array_str(x)),
]


@pytest.mark.parametrize("func, call", INSPECT, ids=[f.__name__ for f, _ in INSPECT])
def test_inspection_answers_stay_numpys(func: Any, call: Callable[[Any], Any]) -> None:
    got, expected = call(Tensor(A, requires_grad=True)), call(A)
    assert not isinstance(got, Tensor) and type(got) is type(expected)
    assert got == expected


def test_shares_memory_sees_the_tensors_own_array() -> None:
    t = Tensor(A)
    assert np.shares_memory(t, t.numpy()) and np.may_share_memory(t, t.numpy()[0])


def test_saving_writes_the_values(tmp_path: Path) -> None:
    t = Tensor(A, requires_grad=True)
    np.save(tmp_path / "a.npy", t)
    np.savez(tmp_path / "b.npz", w=t)
    np.savez_compressed(tmp_path / "c.npz", w=t)
    np.savetxt(tmp_path / "d.txt", t)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), A)
    np.testing.assert_array_equal(np.load(tmp_path / "b.npz")["w"], A)
    np.testing.assert_array_equal(np.load(tmp_path / "c.npz")["w"], A)
    np.testing.assert_allclose(np.loadtxt(tmp_path / "d.txt"), A)


def test_numpy_testing_helpers_compare_values() -> None:
    np.testing.assert_allclose(Tensor(A), A)
    np.testing.assert_array_equal(Tensor(A), A)


def test_split_gives_a_list_of_tensors() -> None:
    pieces = np.split(Tensor(r(6, 2), requires_grad=True), 3)
    assert isinstance(pieces, list) and len(pieces) == 3
    assert all(isinstance(p, Tensor) and p.requires_grad and p.shape == (2, 2) for p in pieces)


def test_max_gives_values_not_values_and_indices() -> None:
    assert isinstance(np.max(Tensor(C), axis=1), Tensor)  # PyTorch's t.max(1) gives both
    assert isinstance(np.min(Tensor(C), 1), Tensor)


def test_var_and_std_default_to_numpys_ddof_0() -> None:
    t = Tensor(C)
    np.testing.assert_allclose(np.var(t).item(), np.var(C))
    np.testing.assert_allclose(np.std(t, axis=0).numpy(), np.std(C, axis=0))
    assert not np.isclose(np.var(t).item(), t.var().item())  # the method is PyTorch's ddof=1
    with pytest.raises(ValueError, match="ddof and correction"):
        np.var(t, ddof=1, correction=1)


def test_sum_and_mean_with_dtype() -> None:
    t = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    for out in (np.sum(t, dtype=np.float64), np.mean(t, axis=0, dtype=np.float64)):
        assert out.dtype == np.float64 and out.requires_grad


# ============================================================================== layers


def test_a_numpy_affine_relu_layer_has_the_closed_form_gradient() -> None:
    x, b = r(5, 3), r(4)
    w = Tensor(r(3, 4), requires_grad=True)
    pre = x @ w + b
    out = np.maximum(0, pre)
    loss = np.sum(out ** 2)
    loss.backward()
    pre_ = x @ w.numpy() + b
    expected = x.T @ (2 * np.maximum(0, pre_) * (pre_ > 0))
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-10)


def test_a_numpy_softmax_loss_has_the_gradient_p_minus_onehot() -> None:
    x, y = r(6, 3), RNG.integers(0, 4, 6)
    w = Tensor(r(3, 4), requires_grad=True)
    scores = x @ w
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(6), y]))
    loss.backward()
    p = probs.numpy().copy()
    p[np.arange(6), y] -= 1
    np.testing.assert_allclose(w.grad.numpy(), x.T @ p / 6, rtol=1e-10)


# ============================================================================== errors


@pytest.mark.parametrize("call, message", [
    (lambda t: np.linalg.svd(t), "np.linalg.svd on a Tensor: it is not differentiable here"),
    (lambda t: np.median(t), "np.median on a Tensor: tinygrad_edu has no differentiable"),
    (lambda t: np.arcsin(t), "np.arcsin on a Tensor: tinygrad_edu has no differentiable"),
    (lambda t: np.logaddexp2(t, 1.0), "np.logaddexp2 on a Tensor"),
    (lambda t: np.sinh(t), "write \\(t.exp\\(\\) - \\(-t\\).exp\\(\\)\\) / 2 to stay"),
    (lambda t: np.diff(t), "write t\\[1:\\] - t\\[:-1\\]"),
])
def test_a_function_without_a_counterpart_raises_naming_it(call: Callable[[Tensor], Any],
                                                           message: str) -> None:
    with pytest.raises(TypeError, match=message) as e:
        call(Tensor(r(3, 3), requires_grad=True))
    assert "call t.detach().numpy() to leave autograd explicitly" in str(e.value)


def test_out_arguments_raise() -> None:
    t, arr = Tensor(A), np.zeros((3, 4))
    calls = [
        lambda: np.add(t, 1.0, out=t), lambda: np.exp(t, out=arr),
        lambda: np.add(arr, arr, out=(t,)), lambda: np.sum(t, axis=0, out=arr[0]),
        lambda: np.sum(t, 0, None, arr[0]), lambda: np.add.reduce(t, out=arr[0]),
        lambda: np.concatenate([t, t], out=np.zeros((6, 4))),
        lambda: np.argmax(t, axis=0, out=np.zeros(4, dtype=np.int64)),
        lambda: np.clip(t, 0, 1, out=arr), lambda: np.dot(t, t.T, out=np.zeros((3, 3))),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="with out= on a Tensor.*do not support out="):
            call()
    np.testing.assert_array_equal(arr, 0.0)


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_in_place_ndarray_operators_with_a_tensor_raise(op: str) -> None:
    arr = np.ones((3, 4))
    with pytest.raises(TypeError, match="ndarray \\+= t"):
        exec(f"arr {op} t", {"arr": arr, "t": Tensor(A)})
    np.testing.assert_array_equal(arr, 1.0)  # nothing was written


@pytest.mark.parametrize("call, what", [
    (lambda t: np.sum(t, initial=1.0), "np.sum on a Tensor: this call .*initial"),
    (lambda t: np.max(t, where=t.numpy() > 0, initial=-1), "np.max on a Tensor"),
    (lambda t: np.add(t, 1.0, where=t.numpy() > 0), "np.add on a Tensor: the argument where="),
    (lambda t: np.reshape(t, (4, 3), order="F"), "np.reshape on a Tensor: order='F'"),
    (lambda t: np.ravel(t, order="F"), "np.ravel on a Tensor: order='F'"),
    (lambda t: np.pad(t, 1, mode="reflect"), "np.pad on a Tensor: mode='reflect'"),
    (lambda t: np.pad(t, 1, constant_values=((0, 1), (2, 3))), "a different constant"),
    (lambda t: np.trace(t, offset=1), "np.trace on a Tensor: offset=1"),
    (lambda t: np.diag(t, k=1), "np.diag on a Tensor: k=1"),
    (lambda t: np.concatenate([t, t], casting="unsafe"), "np.concatenate on a Tensor"),
])
def test_unsupported_arguments_raise_naming_them(call: Callable[[Tensor], Any],
                                                 what: str) -> None:
    with pytest.raises(TypeError, match=what):
        call(Tensor(A))


def test_numpy_value_errors_keep_numpys_meaning() -> None:
    with pytest.raises(ValueError, match="np.squeeze: axis 0 of shape \\(3, 4\\) has size 3"):
        np.squeeze(Tensor(A), axis=0)
    with pytest.raises(ValueError, match="np.split: 3 entries along axis 0 of a tensor of "
                       "shape \\(3, 4\\) do not split"):
        np.split(Tensor(A), 2)
    with pytest.raises(ValueError, match="np.clip: give a lower or an upper bound"):
        np.clip(Tensor(A), None, None)


def test_another_librarys_array_is_left_to_it() -> None:
    class Other:
        def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> str:
            return "other"

        def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> str:
            return "other"

    t, o = Tensor(A), Other()
    assert np.add(t, o) == "other" and np.add(o, t) == "other"
    assert np.concatenate([t, o]) == "other"
