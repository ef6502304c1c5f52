"""Unary elementwise maths against PyTorch: every unary op the Tensor shares with PyTorch,
called as a method and as a module-level function; values, gradients and second
derivatives in float64 (inputs mapped into each op's domain), values in float32, integer
and bool inputs, NaN and infinities. The activations of `nn.functional` close the file.
Binary operators are in test_elementwise_binary.py, type promotion in
test_elementwise_promotion.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tests.conformance.oracle import assert_close, check_function, pair

Domain = Callable[[np.ndarray], np.ndarray]


def _positive(x: np.ndarray) -> np.ndarray:
    return np.abs(x) + 0.1


def _above_minus_one(x: np.ndarray) -> np.ndarray:
    return np.abs(x) * 2.0 - 0.9


def _away_from_zero(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * (np.abs(x) + 0.2) + (x == 0) * 0.3


def _ident(x: np.ndarray) -> np.ndarray:
    return x


# name -> input domain; the op is `x.name()` on both sides and `lib.name(x)` at module level
UNARY: dict[str, Domain] = {
    "exp": _ident,
    "log": _positive,
    "sqrt": _positive,
    "rsqrt": _positive,
    "abs": _away_from_zero,
    "neg": _ident,
    "sign": _away_from_zero,
    "relu": _away_from_zero,
    "sigmoid": lambda x: 3.0 * x,
    "tanh": _ident,
    "log1p": _above_minus_one,
    "reciprocal": _away_from_zero,
    "square": _ident,
}

SHAPES = [(), (7,), (3, 4), (2, 1, 3)]
# sign's gradient is zero everywhere; whether its output is part of the graph (PyTorch: yes)
# is checked once, in test_sign_is_in_the_graph_with_zero_gradient, not in every test
_GRAD = {name: name != "sign" for name in UNARY}


def _input(shape: tuple[int, ...], domain: Domain, seed: int = 0,
           dtype: Any = np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray(domain(rng.standard_normal(shape))).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_method_float64(name: str, shape: tuple[int, ...]) -> None:
    x = _input(shape, UNARY[name])
    check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x],
                   grad=_GRAD[name], what=f"x.{name}()")


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_module_function_float64(name: str) -> None:
    x = _input((4, 3), UNARY[name], seed=1)
    check_function(lambda t: getattr(tg, name)(t), lambda t: getattr(torch, name)(t), [x],
                   grad=_GRAD[name], what=f"{name}(x)")


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_module_function_keyword_input(name: str) -> None:
    x = _input((3,), UNARY[name], seed=2)
    o, t = pair(x)
    assert_close(getattr(tg, name)(input=o), getattr(torch, name)(input=t), what=name)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_float32_values_and_grads(name: str) -> None:
    x = _input((5, 4), UNARY[name], seed=3, dtype=np.float32)
    check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x],
                   grad=_GRAD[name], second=False, what=f"float32 {name}")


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_empty(name: str) -> None:
    for shape in [(0,), (2, 0)]:
        x = np.zeros(shape)
        check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x],
                       grad=_GRAD[name], what=f"empty {name}")


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_integer_and_bool_inputs(name: str, dtype: str) -> None:
    """PyTorch: exp/log/sqrt/sigmoid/tanh/... of an int or bool tensor give the default
    float; abs/neg/sign/relu/square keep integer dtypes; some refuse bool."""
    x = np.array([0, 1, 2, 3, 5], dtype=dtype) if dtype != "bool" else np.array([True, False])
    o, t = pair(x)
    try:
        expected = getattr(t, name)()
    except (RuntimeError, NotImplementedError, TypeError):
        with pytest.raises((RuntimeError, NotImplementedError, TypeError)):
            getattr(o, name)()
        return
    assert_close(getattr(o, name)(), expected, what=f"{dtype} {name}")
    assert_close(getattr(tg, name)(o), getattr(torch, name)(t), what=f"tg.{name}({dtype})")


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-300, 50.0, -50.0,
                     800.0, -800.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_nan_inf_and_extremes(name: str, dtype: str) -> None:
    """Values on NaN, +-inf, signed zeros and huge arguments. Deliberate difference
    (docs/pytorch.md): sign(NaN) is NaN here, 0 in PyTorch (never turn NaN into a number)."""
    o, t = pair(SPECIALS.astype(dtype))
    with np.errstate(all="ignore"):
        ours = getattr(o, name)()
        if name == "sign":
            assert np.isnan(ours.numpy()[np.isnan(SPECIALS)]).all()
            keep = ~np.isnan(SPECIALS)
            ours, t = ours[tg.tensor(keep)], t[torch.tensor(keep)]
        assert_close(ours, getattr(t, name)() if name != "sign" else t.sign(),
                     what=f"{name} on specials")


def test_unary_operators() -> None:
    x = _input((3, 2), _ident, seed=4)
    check_function(lambda t: -t, lambda t: -t, [x], what="-x")
    check_function(lambda t: abs(t), lambda t: abs(t), [_away_from_zero(x)], what="abs(x)")
    check_function(lambda t: +t, lambda t: +t, [x], what="+x")
    oi, ti = pair(np.array([1, -2, 0]))
    assert_close(-oi, -ti)
    assert_close(abs(oi), abs(ti))


# ---------------------------------------------------------------- kinks

def test_sign_is_in_the_graph_with_zero_gradient() -> None:
    """PyTorch: `x.sign()` of a tensor that requires grad requires grad itself (SignBackward,
    gradient 0), so `x.sign().sum().backward()` works and leaves zeros in x.grad."""
    for lib in (torch, tg):
        x = lib.tensor([1.5, -2.0, 0.0], dtype=lib.float64, requires_grad=True)
        y = x.sign()
        assert y.requires_grad, f"{lib.__name__}: sign output does not require grad"
        (y * 3.0).sum().backward()
        assert x.grad is not None and x.grad.numpy().tolist() == [0.0, 0.0, 0.0]
    x = np.array([1.5, -2.0, 0.0, 3.0])
    check_function(lambda t: t.sign() * t, lambda t: t.sign() * t, [x], what="sign(x) * x")


@pytest.mark.parametrize("name", ["abs", "relu", "sqrt", "square", "neg"])
def test_unary_gradient_at_zero(name: str) -> None:
    """abs'(0) = 0, relu'(0) = 0, sqrt'(0) = inf, as PyTorch."""
    x = np.array([0.0, -0.0, 1.0, -1.0]) if name != "sqrt" else np.array([0.0, 1.0])
    with np.errstate(all="ignore"):
        check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x],
                       second=name != "sqrt", what=f"{name} at 0")


# ---------------------------------------------------------------- clamp / clip

CLAMPS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "positional": ((-0.5, 0.5), {}),
    "keywords": ((), {"min": -0.5, "max": 0.5}),
    "min_only_kw": ((), {"min": 0.2}),
    "max_only_kw": ((), {"max": -0.1}),
    "min_only_positional": ((0.2,), {}),
    "max_only_none_min": ((None, 0.3), {}),
    "int_bounds": ((-1, 1), {}),
    "equal_bounds": ((0.25, 0.25), {}),
    "min_above_max": ((0.5, -0.5), {}),
    "numpy_scalar_bounds": ((np.float64(-0.5), np.float32(0.5)), {}),
}


@pytest.mark.parametrize("fn", ["clamp", "clip"])
@pytest.mark.parametrize("case", list(CLAMPS))
def test_clamp(fn: str, case: str) -> None:
    args, kwargs = CLAMPS[case]
    x = _input((4, 5), _ident, seed=5)
    x[0, :3] = [-0.5, 0.5, 0.25]  # values exactly at the bounds: gradient 1 (PyTorch)
    for dtype in (np.float64, np.float32):
        check_function(lambda t: getattr(t, fn)(*args, **kwargs),
                       lambda t: getattr(t, fn)(*args, **kwargs), [x.astype(dtype)],
                       what=f"x.{fn}{args}{kwargs}")
        check_function(lambda t: getattr(tg, fn)(t, *args, **kwargs),
                       lambda t: getattr(torch, fn)(t, *args, **kwargs), [x.astype(dtype)],
                       what=f"{fn}(x, {args}, {kwargs})")


def test_clamp_with_tensor_bounds() -> None:
    """`clamp(min=Tensor, max=Tensor)` broadcasts and passes gradients to the bounds too."""
    rng = np.random.default_rng(6)
    x, lo, hi = rng.standard_normal((3, 4)), rng.standard_normal(4) - 1.0, rng.standard_normal(
        (3, 1)) + 1.0
    check_function(lambda a, b, c: a.clamp(b, c), lambda a, b, c: a.clamp(b, c), [x, lo, hi],
                   what="clamp(tensor, tensor)")
    check_function(lambda a, b: a.clamp(min=b), lambda a, b: a.clamp(min=b), [x, lo],
                   what="clamp(min=tensor)")
    check_function(lambda a, c: tg.clamp(a, max=c), lambda a, c: torch.clamp(a, max=c),
                   [x, hi], what="torch.clamp(max=tensor)")


def test_clamp_nan_stays_nan() -> None:
    x = np.array([np.nan, 2.0, -2.0, 0.0, np.inf, -np.inf])
    for args, kwargs in [((-1.0, 1.0), {}), ((), {"min": 0.0}), ((), {"max": 0.0})]:
        for dtype in (np.float64, np.float32):
            o, t = pair(x.astype(dtype))
            assert_close(o.clamp(*args, **kwargs), t.clamp(*args, **kwargs),
                         what=f"clamp{args}{kwargs} of NaN")


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("bounds", [{"min": 1}, {"max": 1}, {"min": 0.5},
                                    {"min": 1, "max": 1.5}, {"min": -1, "max": 2}])
def test_clamp_integer_inputs(dtype: str, bounds: dict[str, Any]) -> None:
    """An int tensor clamped with int bounds stays int; a float bound makes it the default
    float; a bool tensor becomes int64 (PyTorch's promotion)."""
    x = np.array([0, 1, 2, 3], dtype=dtype) if dtype != "bool" else np.array([True, False])
    o, t = pair(x)
    assert_close(o.clamp(**bounds), t.clamp(**bounds), what=f"{dtype} clamp {bounds}")


def test_clamp_without_bounds_raises() -> None:
    with pytest.raises(RuntimeError):
        torch.ones(2).clamp()
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        tg.ones(2).clamp()


# ---------------------------------------------------------------- nn.functional activations

ACTIVATIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "relu": (lambda t: F.relu(t), lambda t: TF.relu(t)),
    "sigmoid": (lambda t: F.sigmoid(t), lambda t: TF.sigmoid(t)),
    "tanh": (lambda t: F.tanh(t), lambda t: TF.tanh(t)),
    "silu": (lambda t: F.silu(t), lambda t: TF.silu(t)),
    "elu": (lambda t: F.elu(t), lambda t: TF.elu(t)),
    "elu_alpha": (lambda t: F.elu(t, 0.5), lambda t: TF.elu(t, 0.5)),
    "elu_alpha_kw": (lambda t: F.elu(t, alpha=2.0), lambda t: TF.elu(t, alpha=2.0)),
    "leaky_relu": (lambda t: F.leaky_relu(t), lambda t: TF.leaky_relu(t)),
    "leaky_relu_slope": (lambda t: F.leaky_relu(t, 0.2), lambda t: TF.leaky_relu(t, 0.2)),
    "leaky_relu_kw": (lambda t: F.leaky_relu(t, negative_slope=0.3),
                      lambda t: TF.leaky_relu(t, negative_slope=0.3)),
    "softplus": (lambda t: F.softplus(t), lambda t: TF.softplus(t)),
    "softplus_beta": (lambda t: F.softplus(t, beta=2.0, threshold=3.0),
                      lambda t: TF.softplus(t, beta=2.0, threshold=3.0)),
    "softplus_positional": (lambda t: F.softplus(t, 0.5, 1.0),
                            lambda t: TF.softplus(t, 0.5, 1.0)),
    "hardtanh": (lambda t: F.hardtanh(t), lambda t: TF.hardtanh(t)),
    "hardtanh_bounds": (lambda t: F.hardtanh(t, -0.5, 2.0), lambda t: TF.hardtanh(t, -0.5, 2.0)),
    "hardtanh_kw": (lambda t: F.hardtanh(t, min_val=-2.0, max_val=0.5),
                    lambda t: TF.hardtanh(t, min_val=-2.0, max_val=0.5)),
    "gelu": (lambda t: F.gelu(t), lambda t: TF.gelu(t)),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda t: TF.gelu(t, approximate="tanh")),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_float64(name: str) -> None:
    ours, theirs = ACTIVATIONS[name]
    x = _input((4, 6), lambda v: 3.0 * _away_from_zero(v), seed=7)
    check_function(ours, theirs, [x], what=name)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_float32(name: str) -> None:
    ours, theirs = ACTIVATIONS[name]
    x = _input((4, 6), lambda v: 3.0 * _away_from_zero(v), seed=8, dtype=np.float32)
    check_function(ours, theirs, [x], second=False, what=f"float32 {name}")


_KINKS = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1.5, 3.0, 20.0, 25.0])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradient_at_kinks(name: str) -> None:
    """Gradients at 0 and at the hardtanh/softplus switch points, as PyTorch's kink rules
    (relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha, hardtanh'(+-1) = 0, softplus
    switching to x only strictly above the threshold)."""
    ours, theirs = ACTIVATIONS[name]
    check_function(ours, theirs, [_KINKS], second=False, what=f"{name} at kinks")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_second_derivative_at_kinks(name: str) -> None:
    """Second derivatives at the same points (PyTorch: elu'' is 0 at x = 0, softplus'' is
    0 at beta * x == threshold)."""
    ours, theirs = ACTIVATIONS[name]
    check_function(ours, theirs, [_KINKS], what=f"{name} at kinks")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_nan_inf(name: str) -> None:
    """F.elu(NaN) is NaN, relu(NaN) NaN, hardtanh(NaN) NaN, ... (values only). Not
    checked: exact gelu at +-inf in float32, where PyTorch's vectorised erf gives NaN (its
    float64 kernel gives inf and 0, as ours does)."""
    ours, theirs = ACTIVATIONS[name]
    for dtype in ("float64", "float32"):
        x = SPECIALS
        if name == "gelu" and dtype == "float32":
            x = x[np.isfinite(x) | np.isnan(x)]
        o, t = pair(x.astype(dtype))
        with np.errstate(all="ignore"):
            assert_close(ours(o), theirs(t), what=f"{name} on specials {dtype}")


def test_activation_inplace_keyword() -> None:
    for name in ("relu", "elu", "leaky_relu", "silu"):
        o, t = pair(np.array([-1.0, 0.5, 2.0]))
        ro, rt = getattr(F, name)(o, inplace=True), getattr(TF, name)(t, inplace=True)
        assert_close(ro, rt, what=f"{name}(inplace=True) result")
        assert_close(o, t, what=f"{name}(inplace=True) input after")


# ---------------------------------------------------------------- properties

_floats = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=1,
                                                  max_side=4),
                     elements=st.floats(-5, 5, allow_subnormal=False))


@given(_floats, st.sampled_from(list(UNARY)))
def test_property_unary(x: np.ndarray, name: str) -> None:
    x = UNARY[name](x)
    if name in ("abs", "relu", "sign"):
        x = np.where(np.abs(x) < 1e-3, 0.5, x)  # the kinks are tested on their own
    check_function(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x],
                   grad=_GRAD[name], what=f"{name} on {x.shape}")


@given(_floats, st.floats(-3, 3), st.floats(0, 3))
def test_property_clamp(x: np.ndarray, low: float, width: float) -> None:
    check_function(lambda t: t.clamp(low, low + width), lambda t: t.clamp(low, low + width),
                   [x], what=f"clamp({low}, {low + width})")
