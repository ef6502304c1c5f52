"""Type promotion of the binary operators against PyTorch: every dtype pair in
{float32, float64, int64, int32, bool}, as vectors and as 0-d tensors (a 0-d tensor does not
widen a tensor of the same kind: float32 vector * 0-d float64 stays float32, an int64 vector
plus a 0-d float64 becomes float64), and every tensor dtype against Python and numpy scalars
on either side. Each test collects every disagreeing combination, so one failure lists them
all. What PyTorch refuses (bool - bool, int ** negative int, float & float, ...) is
collected separately in the `refusals` tests."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance.oracle import NUMPY_DTYPES, assert_close

DTYPES = ["float32", "float64", "int64", "int32", "bool"]

A = np.array([-5, 3, 7, 0, 2, 1])
B = np.array([2, -2, 3, 5, 1, 4])  # no zero: integer // and % by zero raise in PyTorch
B_POW = np.array([2, 0, 3, 1, 1, 4])  # int ** negative int is refused by PyTorch

Op = Callable[[Any, Any, Any], Any]  # (lib, a, b) -> result

OPS: dict[str, Op] = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "truediv": lambda lib, a, b: a / b,
    "floordiv": lambda lib, a, b: a // b,
    "mod": lambda lib, a, b: a % b,
    "pow": lambda lib, a, b: a**b,
    "lt": lambda lib, a, b: a < b,
    "ge": lambda lib, a, b: a >= b,
    "eq": lambda lib, a, b: a == b,
    "ne": lambda lib, a, b: a != b,
    "and": lambda lib, a, b: a & b,
    "or": lambda lib, a, b: a | b,
    "xor": lambda lib, a, b: a ^ b,
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "where": lambda lib, a, b: lib.where(lib.tensor([True, False, True, False, True, False])
                                         if a.dim() or b.dim() else lib.tensor(True), a, b),
    "add_method": lambda lib, a, b: a.add(b),
    "mul_method": lambda lib, a, b: a.mul(b),
    "div_method": lambda lib, a, b: a.div(b),
    "matmul": lambda lib, a, b: a @ b,
}

SHAPE_KINDS = {"vec,vec": (False, False), "vec,0d": (False, True), "0d,vec": (True, False),
               "0d,0d": (True, True)}


def _array(values: np.ndarray, dtype: str, zero_d: bool) -> np.ndarray:
    arr = values[1:2].reshape(()) if zero_d else values
    return np.asarray(arr).astype(dtype)


def _run(f: Callable[..., Any], *args: Any) -> tuple[Any, BaseException | None]:
    try:
        with np.errstate(all="ignore"):
            return f(*args), None
    except Exception as e:  # noqa: BLE001 - any refusal counts
        return None, e


def _compare(ours: Any, theirs: Any, what: str) -> str | None:
    """None if ours equals PyTorch's result, else one line saying how they differ."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, tg.Tensor):
            return f"{what}: got {type(ours).__name__}, PyTorch a tensor of {theirs.dtype}"
        if ours.dtype != NUMPY_DTYPES[theirs.dtype]:
            return f"{what}: dtype {ours.dtype}, PyTorch {str(theirs.dtype)[6:]}"
        try:
            assert_close(ours, theirs, what=what)
        except AssertionError as e:
            return f"{what}: values differ ({str(e).strip().splitlines()[-1][:80]})"
        return None
    return None if ours == theirs else f"{what}: {ours!r}, PyTorch {theirs!r}"


def _pairs(name: str) -> list[tuple[str, str, str, bool, bool]]:
    return [(da, db, kind, za, zb) for da in DTYPES for db in DTYPES
            for kind, (za, zb) in SHAPE_KINDS.items()
            if not (name == "matmul" and (za or zb))]


def _operands(name: str, da: str, db: str, za: bool, zb: bool) -> tuple[np.ndarray, ...]:
    b_values = B_POW if name == "pow" else B
    return _array(A, da, za), _array(b_values, db, zb)


@pytest.mark.parametrize("name", list(OPS))
def test_dtype_pairs(name: str) -> None:
    """Result dtype and values for every dtype pair PyTorch accepts."""
    op, diffs = OPS[name], []
    for da, db, kind, za, zb in _pairs(name):
        a, b = _operands(name, da, db, za, zb)
        theirs, err = _run(op, torch, torch.tensor(a), torch.tensor(b))
        if err is not None:
            continue  # refusals: test_dtype_pair_refusals
        ours, err = _run(op, tg, tg.tensor(a), tg.tensor(b))
        what = f"{da} {name} {db} [{kind}]"
        if err is not None:
            diffs.append(f"{what}: raised {type(err).__name__}: {str(err)[:70]}")
            continue
        diff = _compare(ours, theirs, what)
        if diff:
            diffs.append(diff)
    assert not diffs, f"{len(diffs)} combinations differ from PyTorch:\n" + "\n".join(diffs)


@pytest.mark.parametrize("name", list(OPS))
def test_dtype_pair_refusals(name: str) -> None:
    """Where PyTorch raises (bool - bool, float & float, ...), ours raises too. Deliberate
    difference (docs/pytorch.md): matmul of mixed dtypes promotes here (PyTorch refuses);
    test_linalg_ops.py::test_mixed_dtypes_promoted checks those values."""
    op, diffs = OPS[name], []
    for da, db, kind, za, zb in _pairs(name):
        if name == "matmul" and da != db and "bool" not in (da, db):
            continue
        a, b = _operands(name, da, db, za, zb)
        _, err = _run(op, torch, torch.tensor(a), torch.tensor(b))
        if err is None:
            continue
        ours, ours_err = _run(op, tg, tg.tensor(a), tg.tensor(b))
        if ours_err is None:
            dt = getattr(ours, "dtype", type(ours).__name__)
            diffs.append(f"{da} {name} {db} [{kind}]: ours gives {dt}, PyTorch raises "
                         f"{type(err).__name__}: {str(err)[:60]}")
    assert not diffs, f"{len(diffs)} combinations PyTorch refuses:\n" + "\n".join(diffs)


# ---------------------------------------------------------------- scalars

SCALARS: dict[str, Any] = {
    "int": 2,
    "neg_int": -3,
    "float": 2.5,
    "true": True,
    "false": False,
    "np.float64": np.float64(2.0),
    "np.float32": np.float32(2.5),
    "np.int64": np.int64(2),
    "np.int32": np.int32(3),
}
# Not here: np.bool_. PyTorch 2.13 reads it as a float scalar (bool tensor + np.bool_(True)
# is float32, int64 tensor * np.bool_(True) float32), which looks accidental.

SCALAR_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "pow": operator.pow, "lt": operator.lt, "eq": operator.eq, "and": operator.and_,
    "or": operator.or_, "xor": operator.xor,
}


def _scalar_cases(name: str) -> list[tuple[str, str, str]]:
    return [(dt, s, side) for dt in DTYPES for s in SCALARS for side in ("right", "left")
            if not (name in ("floordiv", "mod", "truediv") and s == "false")]


def _scalar_call(name: str, lib: Any, x: np.ndarray, s: Any, side: str) -> Any:
    op = SCALAR_OPS[name]
    t = lib.tensor(x)
    return op(t, s) if side == "right" else op(s, t)


def _scalar_input(name: str, dtype: str, side: str) -> np.ndarray:
    # left side: the tensor is the divisor/exponent, so keep it nonzero and non-negative
    values = np.array([1, 3, 7, 2, 4]) if side == "left" else A
    return values.astype(dtype)


@pytest.mark.parametrize("name", list(SCALAR_OPS))
def test_scalar_operands(name: str) -> None:
    """`t op s` and `s op t` for Python and numpy scalars: a scalar of the same kind never
    widens the tensor (float32 * 2.5 stays float32, int32 + 2 stays int32), a float meeting
    an integer or bool tensor gives the default float."""
    diffs = []
    for dt, s_name, side in _scalar_cases(name):
        x, s = _scalar_input(name, dt, side), SCALARS[s_name]
        theirs, err = _run(_scalar_call, name, torch, x, s, side)
        if err is not None:
            continue
        ours, err = _run(_scalar_call, name, tg, x, s, side)
        what = f"{dt} {name} {s_name}" if side == "right" else f"{s_name} {name} {dt}"
        if err is not None:
            diffs.append(f"{what}: raised {type(err).__name__}: {str(err)[:70]}")
            continue
        diff = _compare(ours, theirs, what)
        if diff:
            diffs.append(diff)
    assert not diffs, f"{len(diffs)} combinations differ from PyTorch:\n" + "\n".join(diffs)


@pytest.mark.parametrize("name", list(SCALAR_OPS))
def test_scalar_operand_refusals(name: str) -> None:
    """Where PyTorch raises for a scalar operand (bool tensor - True, int ** -3, 2.5 & int
    tensor, ...), ours raises too."""
    diffs = []
    for dt, s_name, side in _scalar_cases(name):
        x, s = _scalar_input(name, dt, side), SCALARS[s_name]
        _, err = _run(_scalar_call, name, torch, x, s, side)
        if err is None:
            continue
        ours, ours_err = _run(_scalar_call, name, tg, x, s, side)
        if ours_err is None:
            what = f"{dt} {name} {s_name}" if side == "right" else f"{s_name} {name} {dt}"
            dtype = getattr(ours, "dtype", type(ours).__name__)
            diffs.append(f"{what}: ours gives {dtype}, PyTorch raises {type(err).__name__}: "
                         f"{str(err)[:60]}")
    assert not diffs, f"{len(diffs)} combinations PyTorch refuses:\n" + "\n".join(diffs)


# ---------------------------------------------------------------- the named examples

def test_zero_d_float64_times_float32_vector_stays_float32() -> None:
    x = tg.tensor([1.0, 2.0]) * tg.tensor(3.0, dtype=tg.float64)
    assert x.dtype == tg.float32
    assert (torch.tensor([1.0, 2.0]) * torch.tensor(3.0, dtype=torch.float64)).dtype == \
        torch.float32


def test_int_vector_plus_zero_d_float64_is_float64() -> None:
    x = tg.tensor([1, 2]) + tg.tensor(0.5, dtype=tg.float64)
    assert x.dtype == tg.float64 and x.tolist() == [1.5, 2.5]


def test_int32_vector_plus_zero_d_int64_stays_int32() -> None:
    x = tg.tensor([1, 2], dtype=tg.int32) + tg.tensor(5)
    assert x.dtype == tg.int32 and x.tolist() == [6, 7]


def test_gradient_flows_through_promotion() -> None:
    """A float32 leaf used with float64 data gets a float32 gradient (PyTorch casts the
    gradient back to the leaf's dtype)."""
    for lib in (torch, tg):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.tensor([3.0, 4.0], dtype=lib.float64)
        y = (w * x).sum()
        assert y.dtype == lib.float64
        y.backward()
        assert w.grad is not None and w.grad.dtype == lib.float32, lib.__name__
        assert w.grad.tolist() == [3.0, 4.0]
