"""Binary arithmetic against PyTorch: `+ - * / // % ** @` with tensors, Python and numpy
scalars and numpy arrays on either side, broadcasting and empty shapes; values, gradients
and second derivatives. Comparisons, `& | ^ ~`, maximum/minimum/where are in
test_elementwise_logic.py, result dtypes over every dtype pair in
test_elementwise_promotion.py."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tests.conformance.oracle import assert_close, check_function, pair


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _away(x: np.ndarray, margin: float = 0.3) -> np.ndarray:
    return np.sign(x) * (np.abs(x) + margin) + (x == 0) * margin


def _positive(x: np.ndarray) -> np.ndarray:
    return np.abs(x) + 0.2


def _off_integer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a moved so that a / b is not within 0.1 of an integer (// and % jump there)."""
    q = a / b
    frac = q - np.floor(q)
    shift = np.where(frac < 0.1, 0.2, 0.0) - np.where(frac > 0.9, 0.2, 0.0)
    return (q + shift) * b


# name -> (operator, maps (a, b) into the op's domain)
BINARY: dict[str, tuple[Callable[[Any, Any], Any],
                        Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]] = {
    "add": (operator.add, lambda a, b: (a, b)),
    "sub": (operator.sub, lambda a, b: (a, b)),
    "mul": (operator.mul, lambda a, b: (a, b)),
    "truediv": (operator.truediv, lambda a, b: (a, _away(b))),
    "pow": (operator.pow, lambda a, b: (_positive(a), b)),
    "floordiv": (operator.floordiv, lambda a, b: (_off_integer(a, _away(b)), _away(b))),
    "mod": (operator.mod, lambda a, b: (_off_integer(a, _away(b)), _away(b))),
}

# PyTorch has no derivative for floor_divide (backward raises) nor for remainder with a
# scalar dividend; their values are compared, and our documented gradient is checked in
# test_floordiv_passes_no_gradient.
NO_TORCH_GRAD = {"floordiv"}

BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (3,)),
             ((3,), ()), ((), ()), ((2, 3, 4), (3, 1)), ((0, 3), (3,)), ((2, 0), (2, 1))]


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_tensor_tensor_float64(name: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    op, domain = BINARY[name]
    rng = _rng(0)
    a, b = domain(rng.standard_normal(shapes[0]) * 2.0, rng.standard_normal(shapes[1]) * 2.0)
    check_function(op, op, [np.asarray(a), np.asarray(b)], grad=name not in NO_TORCH_GRAD,
                   what=f"{name}{shapes}")


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_tensor_tensor_float32(name: str) -> None:
    op, domain = BINARY[name]
    rng = _rng(1)
    a, b = domain(rng.standard_normal((4, 5)), rng.standard_normal((5,)))
    check_function(op, op, [a.astype(np.float32), b.astype(np.float32)], second=False,
                   grad=name not in NO_TORCH_GRAD, what=f"float32 {name}")


METHODS = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "pow": "pow",
           "floordiv": "floor_divide", "mod": "remainder"}


@pytest.mark.parametrize("name", list(METHODS))
def test_binary_method_and_module_forms(name: str) -> None:
    _, domain = BINARY[name]
    rng = _rng(2)
    a, b = domain(rng.standard_normal((3, 4)), rng.standard_normal((4,)))
    meth = METHODS[name]
    grad = name not in NO_TORCH_GRAD
    check_function(lambda x, y: getattr(x, meth)(y), lambda x, y: getattr(x, meth)(y), [a, b],
                   grad=grad, what=f"x.{meth}(y)")
    check_function(lambda x: getattr(x, meth)(1.5), lambda x: getattr(x, meth)(1.5), [a],
                   grad=grad, what=f"x.{meth}(1.5)")
    check_function(lambda x, y: getattr(tg, meth)(x, y), lambda x, y: getattr(torch, meth)(x, y),
                   [a, b], grad=grad, what=f"{meth}(x, y)")


def test_floordiv_passes_no_gradient() -> None:
    """Ours: `//` is piecewise constant and passes no gradient (its docstring), so it can sit
    in a graph: d/dx [(x // 2) * x] = x // 2. PyTorch raises at backward instead ('derivative
    for aten::floor_divide is not implemented'). Asserted as ours."""
    x = tg.tensor([1.5, 3.0, -2.5], dtype=tg.float64, requires_grad=True)
    (g,) = tg.grad(((x // 2) * x).sum(), [x])
    assert g.numpy().tolist() == [0.0, 1.0, -2.0]
    xt = torch.tensor([1.5, 3.0, -2.5], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_divide"):
        ((xt // 2) * xt).sum().backward()


@pytest.mark.parametrize("alpha", [2, -0.5])
def test_add_sub_alpha(alpha: float) -> None:
    rng = _rng(3)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((2,))
    check_function(lambda x, y: x.add(y, alpha=alpha), lambda x, y: x.add(y, alpha=alpha),
                   [a, b], what=f"add alpha={alpha}")
    check_function(lambda x, y: x.sub(y, alpha=alpha), lambda x, y: x.sub(y, alpha=alpha),
                   [a, b], what=f"sub alpha={alpha}")
    check_function(lambda x, y: tg.add(x, y, alpha=alpha),
                   lambda x, y: torch.add(x, y, alpha=alpha), [a, b],
                   what=f"torch.add alpha={alpha}")
    oi, ti = pair(np.array([1, 2, 3]))
    assert_close(oi.add(oi, alpha=3), ti.add(ti, alpha=3))


# ---------------------------------------------------------------- scalars on either side

SCALARS = {
    "int": 3,
    "neg_int": -2,
    "float": 2.5,
    "true": True,
    "np_float64": np.float64(2.0),
    "np_float32": np.float32(1.5),
    "np_int64": np.int64(3),
    "np_int32": np.int32(-2),
}


# PyTorch refuses `t - True` and fails an internal assert on `t ** True`; `int ** -2` is
# refused too. Those pairs are left out here (the refusals are in
# test_elementwise_promotion.py).
_FLOAT_SCALAR_CASES = [(n, s) for n in BINARY for s in SCALARS
                       if not (s == "true" and n in ("sub", "pow"))]
_INT_SCALAR_CASES = [(n, s) for n in ("add", "sub", "mul", "floordiv", "mod", "pow")
                     for s in SCALARS
                     if not (n == "sub" and s == "true")
                     and not (n == "pow" and s in ("neg_int", "np_int32"))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,scalar", _FLOAT_SCALAR_CASES)
def test_binary_with_scalar_both_sides(name: str, scalar: str, dtype: str) -> None:
    """`t op s` and `s op t` for Python and numpy scalars: values, dtype (a scalar never
    widens a float tensor), and the gradient with respect to t."""
    op = BINARY[name][0]
    s = SCALARS[scalar]
    x = _rng(4).standard_normal((3, 4)) * 2.0
    left = x
    if name == "pow":
        left = _positive(x)
    elif name in ("floordiv", "mod"):
        left = _off_integer(x, np.full(x.shape, float(s)))
    check_function(lambda t: op(t, s), lambda t: op(t, s), [left.astype(dtype)],
                   grad=name not in NO_TORCH_GRAD, second=dtype == "float64",
                   what=f"t {name} {scalar}")
    if name == "pow" and float(s) <= 0:
        return  # a non-positive base: see test_pow_gradient_for_non_positive_base
    right = _away(x) if name in ("truediv", "floordiv", "mod") else x
    check_function(lambda t: op(s, t), lambda t: op(s, t), [right.astype(dtype)],
                   grad=name not in ("floordiv", "mod"), second=dtype == "float64",
                   what=f"{scalar} {name} t")


@pytest.mark.parametrize("name,scalar", _INT_SCALAR_CASES)
def test_integer_tensor_with_scalar_both_sides(name: str, scalar: str) -> None:
    op = BINARY[name][0]
    s = SCALARS[scalar]
    x = np.array([1, 2, 3, 7, 4])
    o, t = pair(x)
    assert_close(op(o, s), op(t, s), what=f"int t {name} {scalar}")
    assert_close(op(s, o), op(s, t), what=f"{scalar} {name} int t")


@pytest.mark.parametrize("scalar", list(SCALARS))
def test_integer_true_division_with_scalar(scalar: str) -> None:
    s = SCALARS[scalar]
    o, t = pair(np.array([1, 2, -3, 7]))
    assert_close(o / s, t / s, what=f"int / {scalar}")
    assert_close(s / o, s / t, what=f"{scalar} / int")


# ---------------------------------------------------------------- numpy arrays

@pytest.mark.parametrize("arr_dtype", ["float64", "float32", "int64", "bool"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "truediv", "pow"])
def test_tensor_op_numpy_array_values(name: str, arr_dtype: str) -> None:
    """`t op ndarray` without grad. Deliberate difference (docs/pytorch.md): an ndarray
    operand counts as a tensor of its dtype, under PyTorch's own promotion rules (so equal to
    `t op torch.from_numpy(ndarray)`); PyTorch itself hands `t op ndarray` to numpy, whose
    rules make a float32 tensor plus an int64 or 0-d float64 array float64."""
    op = BINARY[name][0]
    rng = _rng(5)
    arr = (_positive(rng.standard_normal(4)) * 3).astype(arr_dtype)
    x = _positive(rng.standard_normal((3, 4))).astype(np.float32)
    o, t = pair(x)
    arr0 = arr[1:2].reshape(())
    for a, kind in ((arr, ""), (arr0, "0-d ")):
        if name == "sub" and arr_dtype == "bool":  # PyTorch's tensor rule: refused
            with pytest.raises(TypeError):
                op(o, a)
            continue
        assert_close(op(o, a), op(t, torch.from_numpy(a.copy())),
                     what=f"t {name} {kind}ndarray[{arr_dtype}]")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "truediv", "pow"])
def test_tensor_op_numpy_array_gradient(name: str, dtype: str) -> None:
    """`t op ndarray` with t requiring grad is differentiable in t (DESIGN: never a silent
    detach; PyTorch raises 'Can't call numpy() on Tensor that requires grad'); compared with
    PyTorch's `t op from_numpy(ndarray)`, same dtypes on both sides."""
    op = BINARY[name][0]
    rng = _rng(5)
    arr = (_positive(rng.standard_normal(4)) * 3).astype(dtype)
    x = _positive(rng.standard_normal((3, 4))).astype(dtype)
    check_function(lambda t: op(t, arr), lambda t: op(t, torch.from_numpy(arr)), [x],
                   second=dtype == "float64", what=f"t {name} ndarray")


@pytest.mark.parametrize("name", ["add", "sub", "mul", "truediv", "pow"])
def test_numpy_array_op_tensor(name: str) -> None:
    """`ndarray op t`. PyTorch raises TypeError here (numpy takes over the operator); ours
    implements `__array_ufunc__` (DESIGN: Interoperability), so the result is the Tensor
    `tensor(ndarray) op t`, differentiable in t. Asserted as ours."""
    op = BINARY[name][0]
    rng = _rng(6)
    arr = _positive(rng.standard_normal(4))
    x = _positive(rng.standard_normal((3, 4)))
    check_function(lambda t: op(arr, t), lambda t: op(torch.from_numpy(arr), t), [x],
                   what=f"ndarray {name} t")


# ---------------------------------------------------------------- numpy ufuncs on tensors

UFUNCS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "exp": (np.exp, torch.exp),
    "log": (np.log, torch.log),
    "sqrt": (np.sqrt, torch.sqrt),
    "abs": (np.abs, torch.abs),
    "tanh": (np.tanh, torch.tanh),
    "negative": (np.negative, torch.neg),
    "square": (np.square, torch.square),
    "add_scalar": (lambda t: np.add(t, 2.0), lambda t: torch.add(t, 2.0)),
    "multiply_self": (lambda t: np.multiply(t, t), lambda t: torch.mul(t, t)),
    "maximum_scalar": (lambda t: np.maximum(t, 1.0), lambda t: torch.clamp(t, min=1.0)),
    "power": (lambda t: np.power(t, 3.0), lambda t: torch.pow(t, 3.0)),
}


@pytest.mark.parametrize("name", list(UFUNCS))
def test_numpy_ufunc_on_tensor(name: str) -> None:
    """`np.exp(t)` is a Tensor in PyTorch too (numpy wraps the result back); ours is also
    differentiable (DESIGN: `__array_ufunc__`, never a silent detach)."""
    ours, theirs = UFUNCS[name]
    x = _positive(_rng(11).standard_normal((3, 4)))
    o, t = pair(x.astype(np.float32))
    with np.errstate(all="ignore"):
        assert_close(ours(o), ours(t), what=f"np.{name}(t) value")
    check_function(ours, theirs, [x], what=f"np.{name}(t) gradient")


# ---------------------------------------------------------------- pow

POW_CASES = {
    "x**0": lambda t: t**0,
    "x**1": lambda t: t**1,
    "x**2": lambda t: t**2,
    "x**3": lambda t: t**3,
    "x**2.0": lambda t: t**2.0,
    "x**-1": lambda t: t**-1,
    "x**0.5": lambda t: t**0.5,
    "x.pow(2)": lambda t: t.pow(2),
    "2**x": lambda t: 2**t,
    "2.5**x": lambda t: 2.5**t,
    "x**x": lambda t: t**t,
}


@pytest.mark.parametrize("case", list(POW_CASES))
def test_pow_at_and_around_zero(case: str) -> None:
    """x**0 has gradient 0 everywhere (also at 0), x**1 gradient 1 at 0 and second
    derivative 0, x**2 gradient 0 at 0 (PyTorch's pow_backward)."""
    f = POW_CASES[case]
    x = np.array([0.0, 1.0, -1.0, 2.0, -0.5, 3.0])
    if case in ("x**0.5", "x**x", "x**-1"):
        x = np.array([1.0, 2.0, 0.5, 3.0])
    check_function(f, f, [x], what=case)
    if case in ("x**0.5", "x**-1"):
        with np.errstate(all="ignore"):
            check_function(f, f, [np.array([0.0, 4.0])], what=f"{case} at 0")


def test_pow_tensor_exponent() -> None:
    rng = _rng(7)
    a, b = _positive(rng.standard_normal((3, 4))), rng.standard_normal((4,))
    check_function(lambda x, y: x**y, lambda x, y: x**y, [a, b], what="x**y")
    check_function(lambda x, y: tg.pow(x, y), lambda x, y: torch.pow(x, y), [a, b],
                   what="pow(x, y)")
    # 0 ** y for y >= 0: PyTorch masks the log(0) in dy, so both gradients are finite
    check_function(lambda x, y: x**y, lambda x, y: x**y,
                   [np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.5])], second=False,
                   what="0**y")


def test_pow_gradient_for_non_positive_base() -> None:
    """d(a**b)/db at a <= 0 as PyTorch: NaN for a negative base (log of a negative number;
    never a made-up 0), 0 at a = 0 for b >= 0 and -inf for b < 0."""
    for base in (-2.0, 0.0):
        x = tg.tensor([-1.0, 0.5, 2.0], dtype=tg.float64, requires_grad=True)
        xt = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
        with np.errstate(all="ignore"):
            (g,) = tg.grad((base**x).sum(), [x])
        (gt,) = torch.autograd.grad((base**xt).sum(), [xt])
        assert_close(g, gt, what=f"d/dx {base}**x")


# ---------------------------------------------------------------- matmul

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 2)),
                 ((0, 3), (3, 2)), ((2, 0), (0, 3))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_operator(shapes: tuple[tuple[int, ...], ...]) -> None:
    rng = _rng(10)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check_function(operator.matmul, operator.matmul, [a, b], what=f"@ {shapes}")
    check_function(lambda x, y: tg.matmul(x, y), lambda x, y: torch.matmul(x, y),
                   [a.astype(np.float32), b.astype(np.float32)], second=False,
                   what=f"matmul {shapes}")


def test_matmul_integers_and_numpy_operand() -> None:
    (oa, ta), (ob, tb) = pair(np.array([[1, 2], [3, 4]])), pair(np.array([5, 6]))
    assert_close(oa @ ob, ta @ tb)
    arr = np.array([[1.0], [2.0]], dtype=np.float32)
    of, tf = pair(np.ones((3, 2), dtype=np.float32))
    assert_close(of @ arr, tf @ torch.from_numpy(arr))


# ---------------------------------------------------------------- properties

_shape_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                 max_side=3)


@given(_shape_pairs, st.sampled_from(list(BINARY)), st.integers(0, 2**16))
def test_property_broadcasting(shapes: Any, name: str, seed: int) -> None:
    op, domain = BINARY[name]
    rng = _rng(seed)
    a, b = domain(rng.standard_normal(shapes.input_shapes[0]) * 2,
                  rng.standard_normal(shapes.input_shapes[1]) * 2)
    check_function(op, op, [np.asarray(a), np.asarray(b)], grad=name not in NO_TORCH_GRAD,
                   what=f"{name} {shapes}")


@given(hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(-50, 50)),
       hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(-50, 50)
                  .filter(lambda v: v != 0)))
def test_property_integer_floordiv_mod(a: np.ndarray, b: np.ndarray) -> None:
    """Python's floor rule with the divisor's sign, as torch's // and %."""
    n = min(a.size, b.size)
    (oa, ta), (ob, tb) = pair(a[:n]), pair(b[:n])
    assert_close(oa // ob, ta // tb, what="//")
    assert_close(oa % ob, ta % tb, what="%")
