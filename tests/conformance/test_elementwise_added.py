"""The elementwise maths issue 19 adds, against PyTorch: sin, cos, tan, atan2/arctan2, hypot,
floor, ceil, round (with decimals=), trunc, fix, frac, exp2, log2, log10, expm1, erf, erfc,
isinf/isposinf/isneginf, lerp, nansum, nan_to_num, count_nonzero. Each as a method and a
module function (positional and keyword), values and dtypes for float64/float32/int/bool
and 0-d/empty inputs, NaN and infinities, gradients and second derivatives, and the errors
PyTorch raises. erf is checked against torch.erf and Python's math.erf over a wide range,
tails included. In-place forms, `new_*` and numpy's protocol are in
test_elementwise_added_inplace.py."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import grads, same
from tests.conformance.oracle import assert_close, check_function, exact, pair

Domain = Callable[[np.ndarray], np.ndarray]


def _ident(x: np.ndarray) -> np.ndarray:
    return x


def _positive(x: np.ndarray) -> np.ndarray:
    return np.abs(x) + 0.1


def _off_grid(x: np.ndarray) -> np.ndarray:
    """3x, moved at least 0.1 off the integers and the halves (the jumps of the rounding
    functions; their derivative is 0 on either side)."""
    y = 3.0 * x
    whole = np.floor(y)
    return whole + np.clip(y - whole, 0.1, 0.4)


# name -> input domain; `x.name()` on both sides and `lib.name(x)` at module level
UNARY: dict[str, Domain] = {
    "sin": lambda x: 3.0 * x, "cos": lambda x: 3.0 * x, "tan": lambda x: np.tanh(x),
    "exp2": _ident, "log2": _positive, "log10": _positive, "expm1": _ident,
    "erf": lambda x: 2.0 * x, "erfc": lambda x: 2.0 * x,
    "floor": _off_grid, "ceil": _off_grid, "round": _off_grid, "trunc": _off_grid,
    "fix": _off_grid, "frac": _off_grid,
}
SHAPES = [(), (7,), (3, 4), (2, 1, 3)]


def _input(shape: tuple[int, ...], name: str, seed: int = 0, dtype: Any = np.float64
           ) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray(UNARY[name](rng.standard_normal(shape))).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_method_float64(name: str, shape: tuple[int, ...]) -> None:
    check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(),
                   [_input(shape, name)], what=f"x.{name}()")


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_module_function_positional_and_keyword(name: str) -> None:
    x = _input((4, 3), name, seed=1)
    check_function(lambda t: getattr(tg, name)(t), lambda t: getattr(torch, name)(t), [x],
                   what=f"{name}(x)")
    o, t = pair(x)
    assert_close(getattr(tg, name)(input=o), getattr(torch, name)(input=t), what=name)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_float32_and_empty(name: str) -> None:
    x = _input((5, 4), name, seed=3, dtype=np.float32)
    check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x],
                   second=False, what=f"float32 {name}")
    for shape in [(0,), (2, 0)]:
        check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(),
                       [np.zeros(shape)], what=f"empty {name}")


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_integer_and_bool_inputs(name: str, dtype: str) -> None:
    """sin/exp2/erf/... of an integer or bool tensor are float32; floor/ceil/round/trunc keep
    an integer dtype and refuse bool; frac refuses both (PyTorch)."""
    x = np.array([0, 1, 2, 3, 5], dtype=dtype) if dtype != "bool" else np.array([True, False])
    with np.errstate(divide="ignore"):  # log2(0) = -inf
        same(f"x.{name}()", x)
        same(f"torch.{name}(x)", x)


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-300, 0.5, -2.5, 50.0,
                     -50.0, 800.0, -800.0, 1e17])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", [*UNARY, "isinf", "isposinf", "isneginf"])
def test_nan_inf_and_extremes(name: str, dtype: str) -> None:
    """Values and first derivatives on NaN, +-inf, signed zeros, ties and huge arguments."""
    with np.errstate(all="ignore"):
        x = SPECIALS.astype(dtype)
    o, t = pair(x)
    with np.errstate(all="ignore"):
        exact(getattr(o, name)(), getattr(t, name)(), what=f"{name} on specials") if name in (
            "isinf", "isposinf", "isneginf", "floor", "ceil", "round", "trunc", "fix",
        ) else assert_close(getattr(o, name)(), getattr(t, name)(), what=f"{name} on specials")
        if name.startswith("is"):
            return
        (go,), (gt,) = [lib.autograd.grad(getattr(v, name)().sum(), [v]) for lib, v in (
            (tg, tg.tensor(x, requires_grad=True)), (torch, torch.tensor(x, requires_grad=True)))]
        assert_close(go, gt, what=f"{name}' on specials")


# ---------------------------------------------------------------- rounding

def test_rounding_is_in_the_graph_with_zero_gradient() -> None:
    """PyTorch: floor/ceil/round/trunc of a tensor that requires grad require grad (their
    gradient is 0), so a loss on them backpropagates zeros."""
    for name in ("floor", "ceil", "round", "trunc", "fix"):
        for lib in (torch, tg):
            x = lib.tensor([1.5, -2.0, 0.25], dtype=lib.float64, requires_grad=True)
            y = getattr(x, name)()
            assert y.requires_grad, f"{lib.__name__}.{name}: output does not require grad"
            (y * 3.0).sum().backward()
            assert x.grad is not None and x.grad.numpy().tolist() == [0.0, 0.0, 0.0]


HALVES = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 1e15 + 0.5, 0.49999999999999994])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("decimals", [-3, -1, 0, 1, 2, 4])
def test_round_decimals_matches_bit_for_bit(decimals: int, dtype: str) -> None:
    """Halves to even, on the scaled binary value (0.125 to 2 places is 0.12) as PyTorch."""
    rng = np.random.default_rng(decimals + 10)
    x = np.concatenate([rng.standard_normal(200) * 10.0 ** rng.integers(-2, 5, 200),
                        HALVES, HALVES / 100, [0.125, 1.25, 2.675, 1234.5678, 15.0, 25.0]])
    o, t = pair(x.astype(dtype))
    exact(o.round(decimals=decimals), t.round(decimals=decimals), what=f"round({decimals})")
    exact(tg.round(o, decimals=decimals), torch.round(t, decimals=decimals))
    exact(tg.round(input=o, decimals=decimals), torch.round(input=t, decimals=decimals))


@pytest.mark.parametrize("src", ["x.round(1)", "torch.round(x, 2)", "x.round(decimals=1.5)"])
def test_round_decimals_is_keyword_only(src: str) -> None:
    same(src, np.array([1.25, 2.5]))


@pytest.mark.parametrize("decimals", [1, -1])
def test_round_decimals_of_integers_raises(decimals: int) -> None:
    same(f"torch.round(x, decimals={decimals})", np.array([15, 25]))


def test_round_decimals_zero_of_integers_is_a_copy() -> None:
    """Deliberate difference (docs/pytorch_surface.md): PyTorch refuses any explicit
    `decimals=` on an integer tensor, even 0; here decimals=0 is the default rounding, which
    leaves integers as they are (a copy, as `torch.round(x)` gives)."""
    with pytest.raises(NotImplementedError):
        torch.round(torch.tensor([15, 25]), decimals=0)
    o = tg.tensor([15, 25])
    r = tg.round(o, decimals=0)
    assert r.dtype == np.int64 and r.tolist() == [15, 25]
    assert not np.shares_memory(r.numpy(), o.numpy())


def test_round_gradient_with_decimals() -> None:
    grads("torch.round(x, decimals=1) * x", _off_grid(np.linspace(-2, 2, 7)) / 10.0)


def test_frac_keeps_the_sign() -> None:
    grads("torch.frac(x) * x", np.array([1.25, -1.25, -0.75, 3.5, -7.125]))


# ---------------------------------------------------------------- erf

def test_erf_and_erfc_are_accurate_over_a_wide_range() -> None:
    """Within 1e-14 relative of torch.erf/erfc and of Python's math.erf/erfc (fdlibm's error
    is under an ulp), from denormals to the tails where erfc is 1e-300."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-6.0, 6.0, 20000), rng.uniform(-27.0, 27.0, 5000),
                        np.logspace(-320, 1.43, 3000), -np.logspace(-320, 1.43, 3000),
                        [0.84375, 1.25, 1 / 0.35, 6.0, 28.0, 0.25, -0.84375, -1.25, 2.0**-28]])
    o, t = pair(x)
    for name, ref in (("erf", math.erf), ("erfc", math.erfc)):
        ours, theirs = getattr(o, name)().numpy(), getattr(t, name)().numpy()
        python = np.array([ref(v) for v in x])
        normal = np.abs(theirs) > 1e-300  # denormal results keep fewer digits
        np.testing.assert_allclose(ours[normal], theirs[normal], rtol=1e-14, err_msg=name)
        np.testing.assert_allclose(ours[normal], python[normal], rtol=1e-14, err_msg=name)
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-320, err_msg=name)


def test_erf_second_derivative_far_out() -> None:
    grads("torch.erf(x)", np.array([-5.0, -1.0, 0.0, 0.3, 2.0, 4.0]))
    grads("torch.erfc(x) * x", np.array([-5.0, -1.0, 0.0, 0.3, 2.0, 4.0]))


# ---------------------------------------------------------------- atan2, hypot

PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (5,)), ((3,), ())]


@pytest.mark.parametrize("op", ["atan2", "arctan2", "hypot"])
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_binary_values_gradients_and_second_derivatives(op: str,
                                                        shapes: tuple[tuple[int, ...], ...]
                                                        ) -> None:
    rng = np.random.default_rng(len(str(shapes)))
    a, b = (rng.standard_normal(s) for s in shapes)
    grads(f"x.{op}(y)", a, b, args="x, y")
    grads(f"torch.{op}(x, y)", a, b, args="x, y")
    grads(f"torch.{op}(input=x, other=y)", a, b, args="x, y")
    grads(f"torch.{op}(x, x)", a)  # one tensor on both sides
    check_function(lambda u, v: getattr(u, op)(v), lambda u, v: getattr(u, op)(v),
                   [a.astype(np.float32), b.astype(np.float32)], second=False,
                   what=f"float32 {op}")


DTYPE_MIXES = [("float32", "float64"), ("int64", "float32"), ("int64", "int64"),
               ("bool", "bool"), ("int32", "uint8"), ("float64", "bool")]


@pytest.mark.parametrize("op", ["atan2", "hypot"])
@pytest.mark.parametrize("dtypes", DTYPE_MIXES, ids=str)
def test_binary_dtypes(op: str, dtypes: tuple[str, str]) -> None:
    """atan2 of integers or bools is float32; hypot refuses them; floats promote (a 0-d
    float64 beside a float32 vector stays float32)."""
    x, y = (np.array([1, 0, 3, 2]).astype(d) for d in dtypes)
    same(f"torch.{op}(x, y)", x, y, args="x, y")
    same(f"torch.{op}(x, y[0])", x, y, args="x, y")


@pytest.mark.parametrize("src", ["torch.atan2(x, 2.0)", "x.atan2(2)", "torch.hypot(x, 2.0)",
                                 "x.hypot(1)", "torch.atan2(x, np.ones(3))",
                                 "torch.atan2(x, torch.ones(4))",
                                 "torch.hypot(x, torch.ones(2, 2))"])
def test_binary_refusals(src: str) -> None:
    """A number as `other` is a TypeError in PyTorch; shapes must broadcast."""
    same(src, np.array([1.0, -2.0, 0.5]))


def test_atan2_second_derivative_at_the_origin() -> None:
    """The first derivatives at (0, 0) are 0; differentiating them again gives NaN in both
    (the replaced 1/(a^2 + b^2) still has an infinite derivative there)."""
    for lib in (torch, tg):
        a = lib.tensor([0.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0], dtype=lib.float64, requires_grad=True)
        (ga, _) = lib.autograd.grad(lib.atan2(a, b).sum(), [a, b], create_graph=True)
        assert ga.detach().numpy().tolist() == [0.0]
        with np.errstate(all="ignore"):
            (h,) = lib.autograd.grad(ga.sum(), [b])
        assert np.isnan(h.numpy()).all(), lib.__name__


@pytest.mark.parametrize("op", ["atan2", "hypot"])
def test_atan2_and_hypot_at_the_origin_and_far_out(op: str) -> None:
    """atan2's gradient at (0, 0) is 0 (PyTorch's choice), hypot's NaN; signed zeros pick the
    quadrant; hypot(1e200, 1e200) is finite."""
    a, b = np.array([0.0, 1.0, 0.0, -0.0, 0.0]), np.array([0.0, 0.0, -1.0, -0.0, -0.0])
    with np.errstate(all="ignore"):
        check_function(lambda u, v: getattr(u, op)(v), lambda u, v: getattr(u, op)(v),
                       [a, b], second=False, what=f"{op} at the origin")
    grads("torch.hypot(x, y)", np.array([1e200, -3e-200]), np.array([1e200, 4e-200]),
          args="x, y", second=False)  # second derivatives there over/underflow (1/y^3)
    same("torch.atan2(x, y)", np.array([np.inf, -np.inf, np.nan, 1.0]),
         np.array([np.inf, 1.0, 1.0, -np.inf]), args="x, y")


# ---------------------------------------------------------------- lerp

WEIGHTS = ["0.3", "0.7", "1", "0", "True", "-0.2", "1.5", "0.5", "np.float64(0.25)"]


@pytest.mark.parametrize("weight", WEIGHTS)
def test_lerp_scalar_weight(weight: str) -> None:
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    grads(f"torch.lerp(x, y, {weight})", a, b, args="x, y")
    grads(f"x.lerp(y, {weight})", b, a, args="x, y")
    grads(f"torch.lerp(input=x, end=y, weight={weight})", a, a[1], args="x, y")


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((4,), (3, 1), (3, 4)),
                                    ((1,), (1,), (5,)), ((), (), ()), ((2, 3), (3,), ())],
                         ids=str)
def test_lerp_tensor_weight(shapes: tuple[tuple[int, ...], ...]) -> None:
    """Gradients 1 - w, w and end - start, to all three (weights on both sides of 1/2)."""
    rng = np.random.default_rng(sum(map(len, shapes)))
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    w = rng.uniform(-0.5, 1.5, shapes[2])
    grads("torch.lerp(x, y, w)", a, b, w, args="x, y, w")
    check_function(lambda x, y, v: x.lerp(y, v), lambda x, y, v: x.lerp(y, v),
                   [a.astype(np.float32), b.astype(np.float32), w.astype(np.float32)],
                   second=False, what="float32 lerp")


@pytest.mark.parametrize("src", [
    "torch.lerp(x, x.double(), 0.5)", "torch.lerp(x.double(), x, 0.5)",
    "torch.lerp(x, x, x.double())", "torch.lerp(x, x, x[0].double())",
    "torch.lerp(x, x, torch.tensor(1))", "torch.lerp(x.long(), x.long(), 0.5)",
    "torch.lerp(x, 2.0, 0.5)", "torch.lerp(x, x[:2], 0.5)", "torch.lerp(x, x, x[:2])",
    "torch.lerp(x, torch.ones(2, 3), 0.5)", "torch.lerp(x, x, [0.5, 0.5, 0.5])",
    "torch.lerp(torch.tensor([1e30, -1.0]), torch.tensor([1.0, 1e30]), 0.9)",
])
def test_lerp_dtypes_broadcasting_and_errors(src: str) -> None:
    same(src, np.array([1.5, -2.0, 0.25], dtype=np.float32))


# ---------------------------------------------------------------- NaN helpers, counting

NANS = np.array([[1.0, np.nan, 3.0, np.inf], [-np.inf, -2.0, np.nan, 0.5],
                 [np.nan, np.nan, np.nan, 4.0]])


@pytest.mark.parametrize("src", [
    "torch.nansum(x)", "x.nansum()", "torch.nansum(x, 1)", "torch.nansum(x, dim=0)",
    "torch.nansum(x, (0, 1), True)", "torch.nansum(input=x, dim=[-1], keepdim=True)",
    "torch.nansum(x, dtype=torch.float32)", "torch.nansum(x[:, :0], 0)",
])
def test_nansum(src: str) -> None:
    """NaN counts as 0; the gradient is 1 elsewhere (at the infinities too) and 0 at NaN."""
    with np.errstate(invalid="ignore"):  # inf + -inf is NaN, in PyTorch too
        same(src, NANS)
        same(src, NANS.astype(np.float32))
    grads(src, np.where(np.isinf(NANS), 7.0, NANS))


@pytest.mark.parametrize("src", ["torch.nansum(x, 2)", "torch.nansum(x, (0, 0))",
                                 "torch.nansum(x, 1.5)", "torch.nansum(x, axis=0)",
                                 "x.nansum(axis=1, keepdims=True)"])
def test_nansum_refusals_and_aliases(src: str) -> None:
    same(src, NANS)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_nansum_integers_sum_in_int64(dtype: str) -> None:
    x = np.array([[1, 0, 3], [2, 1, 0]]).astype(dtype)
    for src in ("torch.nansum(x)", "x.nansum(1)", "torch.nansum(x, dtype=torch.float64)"):
        same(src, x)


@pytest.mark.parametrize("src", [
    "torch.nan_to_num(x)", "x.nan_to_num()", "torch.nan_to_num(x, 1.0, 2.0, -3.0)",
    "torch.nan_to_num(x, nan=-1.0)", "torch.nan_to_num(input=x, posinf=9.0, neginf=None)",
    "torch.nan_to_num(x, nan=None)", "torch.nan_to_num(x, posinf=1e300)",
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_nan_to_num(src: str, dtype: str) -> None:
    """By default the infinities become the dtype's largest and lowest finite values."""
    with np.errstate(over="ignore"):
        same(src, NANS.astype(dtype))


def test_nan_to_num_gradient_passes_where_finite_only() -> None:
    x = NANS.copy()
    for lib in (torch, tg):
        t = lib.tensor(x, requires_grad=True)
        lib.nan_to_num(t, posinf=5.0).sum().backward()
        assert t.grad.numpy().tolist() == np.isfinite(x).astype(float).tolist(), lib.__name__
    grads("torch.nan_to_num(x) * x", np.array([1.0, -2.0, 0.5]))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_nan_to_num_integers_unchanged_and_copied(dtype: str) -> None:
    x = np.array([1, 0, 3]).astype(dtype)
    same("torch.nan_to_num(x, nan=1.5)", x)
    o = tg.tensor(x)
    assert not np.shares_memory(tg.nan_to_num(o).numpy(), o.numpy())


@pytest.mark.parametrize("src", [
    "torch.count_nonzero(x)", "x.count_nonzero()", "torch.count_nonzero(x, 0)",
    "torch.count_nonzero(x, dim=-1)", "torch.count_nonzero(x, dim=(0, 1))",
    "torch.count_nonzero(input=x, dim=[1])", "torch.count_nonzero(x, dim=2)",
    "torch.count_nonzero(x, dim=(0, 0))", "torch.count_nonzero(x, keepdim=True)",
    "torch.count_nonzero(x[0, 0], dim=0)", "torch.count_nonzero(x[:0], 0)",
    "torch.count_nonzero(x, axis=1)", "torch.count_nonzero(x, 1.0)",
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
def test_count_nonzero(src: str, dtype: str) -> None:
    """int64 counts; NaN counts as nonzero."""
    x = np.where(np.isnan(NANS), 0.0, NANS) if dtype != "float64" else NANS
    with np.errstate(invalid="ignore"):
        same(src, x.astype(dtype) if dtype != "float64" else x)


@pytest.mark.parametrize("name", ["isinf", "isposinf", "isneginf"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool"])
def test_infinity_tests(name: str, dtype: str) -> None:
    x = NANS.reshape(-1) if dtype.startswith("float") else np.array([0, 1, 2])
    same(f"torch.{name}(x)", x.astype(dtype))
    same(f"torch.{name}(input=x)", x.astype(dtype))
    same(f"x.{name}()", x.astype(dtype))
