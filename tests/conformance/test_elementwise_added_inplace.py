"""In-place elementwise maths against PyTorch (issue 19): the new `sin_`, `floor_`,
`round_(decimals=)`, `atan2_`, `lerp_`, `nan_to_num_` ... and the older `exp_`, `sqrt_`,
`abs_`, `pow_`, `sigmoid_`, `tanh_`: values, the same object back, views seeing the change,
the version counter, gradients and second derivatives through them, the backward that must
raise because a saved value was overwritten, integer tensors and the refusals. Then the
`new_*` constructors and `type_as`, and numpy's ufuncs and functions on Tensors
(`np.sin(t)`, `np.round(t, 1)`, `np.nansum(t)`) against the PyTorch ops they stand for."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import same
from tests.conformance.oracle import assert_close, check_function, pair

Op = Callable[[Any, Any, Any], Any]  # (tensor, other, weight) -> the in-place call

# name -> (the call, whether `other` is used); other is a tensor of the same shape
INPLACE: dict[str, tuple[Op, bool]] = {
    "sin_": (lambda t, o, w: t.sin_(), False), "cos_": (lambda t, o, w: t.cos_(), False),
    "tan_": (lambda t, o, w: t.tan_(), False), "floor_": (lambda t, o, w: t.floor_(), False),
    "ceil_": (lambda t, o, w: t.ceil_(), False), "round_": (lambda t, o, w: t.round_(), False),
    "round_decimals": (lambda t, o, w: t.round_(decimals=1), False),
    "trunc_": (lambda t, o, w: t.trunc_(), False), "fix_": (lambda t, o, w: t.fix_(), False),
    "frac_": (lambda t, o, w: t.frac_(), False), "exp2_": (lambda t, o, w: t.exp2_(), False),
    "expm1_": (lambda t, o, w: t.expm1_(), False), "log2_": (lambda t, o, w: t.log2_(), False),
    "log10_": (lambda t, o, w: t.log10_(), False), "erf_": (lambda t, o, w: t.erf_(), False),
    "erfc_": (lambda t, o, w: t.erfc_(), False), "exp_": (lambda t, o, w: t.exp_(), False),
    "sqrt_": (lambda t, o, w: t.sqrt_(), False), "abs_": (lambda t, o, w: t.abs_(), False),
    "pow_2": (lambda t, o, w: t.pow_(2), False), "pow_half": (lambda t, o, w: t.pow_(0.5), False),
    "pow_tensor": (lambda t, o, w: t.pow_(o), True),
    "sigmoid_": (lambda t, o, w: t.sigmoid_(), False), "tanh_": (lambda t, o, w: t.tanh_(), False),
    "atan2_": (lambda t, o, w: t.atan2_(o), True),
    "arctan2_": (lambda t, o, w: t.arctan2_(o), True),
    "hypot_": (lambda t, o, w: t.hypot_(o), True),
    "lerp_scalar": (lambda t, o, w: t.lerp_(o, 0.3), True),
    "lerp_tensor": (lambda t, o, w: t.lerp_(o, w), True),
    "nan_to_num_": (lambda t, o, w: t.nan_to_num_(), False),
    "nan_to_num_args": (lambda t, o, w: t.nan_to_num_(1.0, posinf=2.0, neginf=-3.0), False),
}
# positive values off the jumps of the rounding functions: in every op's domain
X = np.array([1.37, 0.62, 2.21, 0.29, 1.83, 3.14])
OTHER = np.array([0.8, -1.3, 0.45, 2.2, -0.7, 1.1])
WEIGHT = np.array([0.2, 0.9, 0.5, -0.3, 1.4, 0.45])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(INPLACE))
def test_values_identity_views_and_version(name: str, dtype: str) -> None:
    f, _ = INPLACE[name]
    (o, t), (oo, to), (wo, wt) = (pair(a.astype(dtype)) for a in (X, OTHER, WEIGHT))
    view_o, view_t = o[2:], t[2:]
    r_o, r_t = f(o, oo, wo), f(t, to, wt)
    assert r_o is o and r_t is t, f"{name} must return the tensor itself"
    assert_close(o, t, what=name)
    assert_close(view_o, view_t, what=f"{name}: a view sees the change")
    assert o._version == t._version, f"{name}: version {o._version}, PyTorch {t._version}"


@pytest.mark.parametrize("name", list(INPLACE))
def test_gradient_and_second_derivative_through_the_inplace_op(name: str) -> None:
    """On a non-leaf (`x * 1`), the tensor takes over the op's node: the gradient of the old
    value, of `other` and of `weight` (and their derivatives) are PyTorch's."""
    f, _ = INPLACE[name]
    check_function(lambda x, y, w: f(x * 1.0, y, w) * x, lambda x, y, w: f(x * 1.0, y, w) * x,
                   [X, OTHER, WEIGHT], what=name)


@pytest.mark.parametrize("name", list(INPLACE))
def test_overwriting_a_value_that_backward_needs_raises(name: str) -> None:
    """exp saves its output; changing that output in place makes backward raise in both."""
    f, _ = INPLACE[name]
    for lib in (torch, tg):
        x = lib.tensor(X, requires_grad=True)
        y = x.exp()
        f(y, lib.tensor(OTHER), lib.tensor(WEIGHT))
        with pytest.raises(RuntimeError):
            y.sum().backward()


@pytest.mark.parametrize("name", list(INPLACE))
def test_refused_on_a_leaf_that_requires_grad(name: str) -> None:
    f, _ = INPLACE[name]
    for lib in (torch, tg):
        x = lib.tensor(X, requires_grad=True)
        with pytest.raises(RuntimeError):
            f(x, lib.tensor(OTHER), lib.tensor(WEIGHT))
        with lib.no_grad():
            f(x, lib.tensor(OTHER), lib.tensor(WEIGHT))
        assert x.requires_grad and x.is_leaf


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", list(INPLACE))
def test_integer_tensors(name: str, dtype: str) -> None:
    """floor_/round_/abs_ keep an integer tensor; sin_/exp_ raise (a float result cannot be
    written into it); frac_/lerp_/hypot_ refuse integers at all (PyTorch)."""
    f, _ = INPLACE[name]
    x = np.array([1, 0, 3, 2, 1, 4]).astype(dtype)

    def call(lib: Any, a: np.ndarray) -> Any:
        t = lib.tensor(a)
        return f(t, lib.tensor(a), lib.tensor(a))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = call(torch, x)
        except Exception:
            with pytest.raises(Exception):  # noqa: B017 - any error, as long as it raises
                call(tg, x)
            return
    assert_close(call(tg, x), expected, what=f"{dtype} {name}")


@pytest.mark.parametrize("name", [n for n, (_, binary) in INPLACE.items() if binary])
def test_operands_cannot_grow_the_tensor(name: str) -> None:
    f, _ = INPLACE[name]
    for lib in (torch, tg):
        small = lib.tensor(X[:3])
        with pytest.raises(RuntimeError):
            f(small, lib.tensor(np.tile(OTHER[:3], (2, 1))), lib.tensor(WEIGHT[:3]))
        assert small.numpy().tolist() == X[:3].tolist(), "nothing was written"
        f(lib.tensor(np.tile(X[:3], (2, 1))), lib.tensor(OTHER[:3]), lib.tensor(WEIGHT[:3]))


@pytest.mark.parametrize("name", ["sin_", "floor_", "atan2_", "lerp_tensor", "nan_to_num_"])
def test_inplace_on_a_view_inside_a_graph(name: str) -> None:
    f, _ = INPLACE[name]
    check_function(lambda x, y, w: _on_view(f, x, y, w), lambda x, y, w: _on_view(f, x, y, w),
                   [X, OTHER, WEIGHT], what=f"view {name}")


def _on_view(f: Op, x: Any, y: Any, w: Any) -> Any:
    z = x * 1.0
    f(z[1:4], y[1:4], w[1:4])
    return z * x


MODULE_INPLACE = ["sin_", "cos_", "tan_", "floor_", "ceil_", "round_", "trunc_", "fix_",
                  "frac_", "exp2_", "expm1_", "log2_", "log10_", "erf_", "erfc_", "nan_to_num_",
                  "exp_", "sqrt_", "abs_", "sigmoid_", "tanh_", "log_", "neg_"]


@pytest.mark.parametrize("name", MODULE_INPLACE)
def test_module_level_inplace_functions(name: str) -> None:
    """`torch.sin_(x)` is `x.sin_()`: x itself comes back, changed; a non-tensor raises."""
    for dtype in ("float64", "float32"):
        o, t = pair(X.astype(dtype))
        assert getattr(tg, name)(o) is o and getattr(torch, name)(t) is t
        assert_close(o, t, what=f"torch.{name}(x)")
        o, t = pair(X.astype(dtype))
        assert getattr(tg, name)(input=o) is o and getattr(torch, name)(input=t) is t
    same(f"torch.{name}([1.0, 2.0])")
    check_function(lambda a: getattr(tg, name)(a * 1.0) * a,
                   lambda a: getattr(torch, name)(a * 1.0) * a, [X], what=f"torch.{name}")


def test_module_level_round_and_nan_to_num_take_their_arguments() -> None:
    o, t = pair(np.array([1.25, 2.5, 0.125]))
    assert_close(tg.round_(o, decimals=1), torch.round_(t, decimals=1))
    o, t = pair(np.array([np.nan, np.inf, -np.inf, 1.0]))
    assert_close(tg.nan_to_num_(o, 1.0, neginf=-2.0), torch.nan_to_num_(t, 1.0, neginf=-2.0))


# ---------------------------------------------------------------- new_* and type_as

NEW = [
    "x.new_zeros(2, 3)", "x.new_zeros((2, 3))", "x.new_zeros([2, 3])", "x.new_zeros(size=(2, 3))",
    "x.new_zeros(())", "x.new_zeros(0)", "x.new_zeros()", "x.new_zeros(-1)", "x.new_zeros(2.5)",
    "x.new_zeros(2, dtype=torch.int64)", "x.new_zeros(2, device='cpu')", "x.new_ones(2, 3)",
    "x.new_ones((1,), dtype=torch.float64)", "x.new_ones(size=[3])", "x.new_empty(2, 3).zero_()",
    "x.new_empty((0, 2), dtype=torch.bool)", "x.new_full((2,), 3)", "x.new_full((2,), 3.5)",
    "x.new_full(2, 3)", "x.new_full((2,), fill_value=3)", "x.new_full(size=(2,), fill_value=True)",
    "x.new_full([2, 1], -1, dtype=torch.float64)", "x.new_tensor([1, 2])",
    "x.new_tensor([1.5, 2])", "x.new_tensor(3.7)", "x.new_tensor(True)", "x.new_tensor([])",
    "x.new_tensor([[1, 2], [3, 4]], dtype=torch.int32)", "x.new_tensor(np.array([1, 2]))",
    "x.new_tensor(np.array([1.5, 2.5], dtype=np.float16))", "x.new_tensor(x)",
    "x.new_tensor(x, dtype=torch.float64)", "x.type_as(x.double())", "x.type_as(x.long())",
    "x.type_as(x)",
]


@pytest.mark.parametrize("dtype", ["float32", "int64", "float64"])
@pytest.mark.parametrize("src", NEW)
def test_new_constructors(src: str, dtype: str) -> None:
    """The dtype is self's unless `dtype=` is given (a float becomes an int truncated)."""
    with warnings.catch_warnings():  # PyTorch warns that new_tensor(tensor) copies
        warnings.simplefilter("ignore")
        same(src, np.array([1.5, -2.0, 3.0]).astype(dtype))


def test_new_constructors_make_leaves_and_never_alias() -> None:
    for lib in (torch, tg):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = x.new_zeros(2, 2, requires_grad=True)
        assert z.requires_grad and z.is_leaf and z.dtype == x.dtype
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = x.new_tensor(x)
        assert not c.requires_grad and c.is_leaf
        assert not np.shares_memory(c.numpy(), x.detach().numpy())
        data = np.array([1.0, 2.0], dtype=np.float32)
        d = x.new_tensor(data)
        data[0] = 9.0
        assert d.numpy().tolist() == [1.0, 2.0], f"{lib.__name__}: new_tensor aliased"
        assert x.new_tensor([1.0], requires_grad=True).requires_grad
        with pytest.raises(RuntimeError):
            x.new_zeros(2, dtype=lib.int64, requires_grad=True)
    for lib in (torch, tg):  # Python data goes straight to float64, not through float32
        x = lib.tensor([1.0], dtype=lib.float64)
        assert x.new_tensor([0.1, 1e300]).tolist() == [0.1, 1e300], lib.__name__
        assert x.new_full((1,), 0.1).tolist() == [0.1], lib.__name__
    f = tg.tensor([1.0])
    assert f.type_as(tg.tensor([2.0])) is f  # the same dtype: the tensor itself, as PyTorch


# ---------------------------------------------------------------- numpy's protocol

UFUNCS: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[[np.ndarray], Any]]] = {
    "sin": (np.sin, torch.sin, lambda x: x), "cos": (np.cos, torch.cos, lambda x: x),
    "tan": (np.tan, torch.tan, np.tanh), "exp2": (np.exp2, torch.exp2, lambda x: x),
    "log2": (np.log2, torch.log2, lambda x: x * x + 0.5),
    "log10": (np.log10, torch.log10, lambda x: x * x + 0.5),
    "expm1": (np.expm1, torch.expm1, lambda x: x), "floor": (np.floor, torch.floor, lambda x: x),
    "ceil": (np.ceil, torch.ceil, lambda x: x), "trunc": (np.trunc, torch.trunc, lambda x: x),
    "rint": (np.rint, torch.round, lambda x: x), "fix": (np.fix, torch.fix, lambda x: x),
    "round": (lambda t: np.round(t, 1), lambda t: torch.round(t, decimals=1), lambda x: x),
    "around": (np.around, torch.round, lambda x: x),
    "nansum": (lambda t: np.nansum(t, axis=1), lambda t: torch.nansum(t, 1), lambda x: x),
    "nan_to_num": (np.nan_to_num, torch.nan_to_num, lambda x: x),
}


@pytest.mark.parametrize("name", list(UFUNCS))
def test_numpy_functions_are_the_tensor_ops(name: str) -> None:
    """`np.sin(t)` is a Tensor in the graph with torch.sin's values and derivatives."""
    ours, theirs, domain = UFUNCS[name]
    x = domain(np.random.default_rng(3).standard_normal((3, 4)) * 2.0)
    check_function(ours, theirs, [x], what=f"np.{name}")
    check_function(ours, theirs, [x.astype(np.float32)], second=False, what=f"np.{name} f32")


@pytest.mark.parametrize("name", ["arctan2", "hypot"])
def test_numpy_binary_ufuncs(name: str) -> None:
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    ufunc, op = getattr(np, name), getattr(torch, "atan2" if name == "arctan2" else name)
    check_function(ufunc, op, [a, b], what=f"np.{name}")
    check_function(lambda t: ufunc(t, b), lambda t: op(t, torch.tensor(b)), [a],
                   what=f"np.{name}(t, ndarray)")
    check_function(lambda t: ufunc(b, t), lambda t: op(torch.tensor(b), t), [a],
                   what=f"np.{name}(ndarray, t)")
    check_function(lambda t: ufunc(t, 2.0), lambda t: op(t, torch.tensor(2.0)), [a],
                   what=f"np.{name}(t, 2.0)")


def test_numpy_rounding_of_integer_tensors_keeps_the_dtype() -> None:
    """Tensor rules (PyTorch's), not numpy's: np.floor of an int64 Tensor stays int64."""
    o, t = pair(np.array([3, -2, 0]))
    for ours, theirs in ((np.floor, torch.floor), (np.rint, torch.round), (np.fix, torch.fix)):
        assert_close(ours(o), theirs(t), what=ours.__name__)


def test_numpy_nan_to_num_without_copy_is_in_place() -> None:
    o, t = pair(np.array([1.0, np.nan, np.inf]))
    before = o._version
    assert np.nan_to_num(o, copy=False, posinf=5.0) is o
    assert o._version == before + 1
    assert_close(o, t.nan_to_num_(posinf=5.0))
