"""Comparisons, `& | ^ ~`, maximum/minimum and where against PyTorch: tensors, Python and
numpy scalars on either side, NaN, ties, `t == None`; values, dtypes, gradients."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance.oracle import assert_close, check_function, pair


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- maximum, minimum, where

@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_minimum(fn: str) -> None:
    rng = _rng(8)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    check_function(lambda x, y: getattr(tg, fn)(x, y), lambda x, y: getattr(torch, fn)(x, y),
                   [a, b], what=fn)
    check_function(lambda x, y: getattr(x, fn)(y), lambda x, y: getattr(x, fn)(y), [a, b],
                   what=f"x.{fn}(y)")
    # ties: PyTorch splits the gradient equally between the two inputs, as ours does
    t = np.array([1.0, 2.0, 3.0, -1.0])
    check_function(lambda x, y: getattr(x, fn)(y), lambda x, y: getattr(x, fn)(y),
                   [t, np.array([1.0, 1.0, 4.0, -1.0])], what=f"{fn} ties")
    # NaN propagates from either side
    n = np.array([np.nan, 1.0, np.nan])
    o1, t1 = pair(n)
    o2, t2 = pair(np.array([1.0, np.nan, np.nan]))
    assert_close(getattr(tg, fn)(o1, o2), getattr(torch, fn)(t1, t2), what=f"{fn} NaN")
    oi, ti = pair(np.array([1, 5, -3]))
    of, tf = pair(np.array([2.0, 1.0, -3.0], dtype=np.float32))
    assert_close(getattr(tg, fn)(oi, of), getattr(torch, fn)(ti, tf), what=f"{fn} int, float")
    assert_close(getattr(tg, fn)(oi, oi * 2), getattr(torch, fn)(ti, ti * 2), what=f"{fn} int")


WHERE_CASES: dict[str, Callable[[Any, Any, Any, Any], Any]] = {
    "tensors": lambda lib, c, a, b: lib.where(c, a, b),
    "method": lambda lib, c, a, b: a.where(c, b),
    "scalar_other": lambda lib, c, a, b: lib.where(c, a, 0.5),
    "scalar_input": lambda lib, c, a, b: lib.where(c, -1.0, b),
    "int_scalar_other": lambda lib, c, a, b: lib.where(c, a, 2),
    "keywords": lambda lib, c, a, b: lib.where(condition=c, input=a, other=b),
    "method_scalar": lambda lib, c, a, b: a.where(c, 0.0),
    "broadcast_cond": lambda lib, c, a, b: lib.where(c[:1], a, b),
}


@pytest.mark.parametrize("case", list(WHERE_CASES))
def test_where(case: str) -> None:
    rng = _rng(9)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    cond = rng.standard_normal((3, 4)) > 0
    co, ct = tg.tensor(cond), torch.tensor(cond)
    f = WHERE_CASES[case]
    check_function(lambda x, y: f(tg, co, x, y), lambda x, y: f(torch, ct, x, y), [a, b],
                   what=f"where {case}")
    check_function(lambda x, y: f(tg, co, x, y), lambda x, y: f(torch, ct, x, y),
                   [a.astype(np.float32), b.astype(np.float32)], second=False,
                   what=f"float32 where {case}")


def test_where_dtypes() -> None:
    cond = np.array([True, False, True])
    co, ct = tg.tensor(cond), torch.tensor(cond)
    assert_close(tg.where(co, 1, 0), torch.where(ct, 1, 0))
    assert_close(tg.where(co, 1.0, 0), torch.where(ct, 1.0, 0))
    oi, ti = pair(np.array([1, 2, 3]))
    assert_close(tg.where(co, oi, 2.5), torch.where(ct, ti, 2.5))
    of, tf = pair(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    od, td = pair(np.array([4.0, 5.0, 6.0]))
    assert_close(tg.where(co, of, od), torch.where(ct, tf, td))
    assert_close(tg.where(co, of, 2), torch.where(ct, tf, 2))
    assert_close(tg.where(co, of, np.float64(2.5)), torch.where(ct, tf, np.float64(2.5)))


# ---------------------------------------------------------------- comparisons

COMPARISONS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
               "eq": operator.eq, "ne": operator.ne}


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_comparisons(name: str) -> None:
    op = COMPARISONS[name]
    a = np.array([[1.0, 2.0, np.nan, -1.0], [0.0, -0.0, np.inf, 3.0]])
    b = np.array([1.0, 3.0, np.nan, -2.0])
    (oa, ta), (ob, tb) = pair(a, requires_grad=True), pair(b)
    r_o, r_t = op(oa, ob), op(ta, tb)
    assert_close(r_o, r_t, what=f"{name} tensor")
    assert not r_o.requires_grad and not r_t.requires_grad
    for s in (1.0, 2, np.float64(3.0), np.int64(-1), True):
        assert_close(op(oa, s), op(ta, s), what=f"t {name} {s!r}")
        assert_close(op(s, oa), op(s, ta), what=f"{s!r} {name} t")
    assert_close(getattr(oa, name)(ob), getattr(ta, name)(tb), what=f"x.{name}(y)")
    oi, ti = pair(np.array([1, 2, 3]))
    assert_close(op(oi, 2.5), op(ti, 2.5), what=f"int {name} 2.5")
    ob2, tb2 = pair(np.array([True, False]))
    assert_close(op(ob2, 0), op(tb2, 0), what=f"bool {name} 0")
    assert_close(op(ob2, ob2), op(tb2, tb2), what=f"bool {name} bool")


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_comparison_module_functions(name: str) -> None:
    (oa, ta), (ob, tb) = pair(np.array([1.0, 2.0, 3.0])), pair(np.array([2.0, 2.0, 2.0]))
    assert_close(getattr(tg, name)(oa, ob), getattr(torch, name)(ta, tb), what=f"{name}(x, y)")
    assert_close(getattr(tg, name)(oa, 2), getattr(torch, name)(ta, 2), what=f"{name}(x, 2)")


def test_comparison_with_numpy_array_and_empty() -> None:
    """`t == ndarray` as PyTorch; `t < ndarray` raises TypeError in PyTorch (numpy takes over),
    ours compares as with `from_numpy(ndarray)` (DESIGN: numpy interoperability)."""
    o, t = pair(np.array([1.0, 2.0, 3.0]))
    arr = np.array([2.0, 2.0, 2.0])
    assert_close(o == arr, t == arr)
    # PyTorch 2.13's `t != ndarray` is the Python bool True (not elementwise): not copied
    assert_close(o != arr, t != torch.from_numpy(arr))
    assert_close(o < arr, t < torch.from_numpy(arr))
    assert_close(arr > o, torch.from_numpy(arr) > t)
    e_o, e_t = pair(np.zeros((0, 3)))
    assert_close(e_o < e_o, e_t < e_t)
    assert_close(e_o == 1.0, e_t == 1.0)


def test_eq_none_and_other_objects() -> None:
    """PyTorch: `t == None` is False and `t != None` True (plain bools), as `t == 'a'`."""
    for lib in (torch, tg):
        t = lib.tensor([1.0, 2.0])
        assert (t == None) is False, lib.__name__  # noqa: E711
        assert (t != None) is True, lib.__name__  # noqa: E711
        assert (t == "a") is False
        assert t is not None
        assert t in [t]


# ---------------------------------------------------------------- bitwise and logical

BITWISE = {"and": operator.and_, "or": operator.or_, "xor": operator.xor}


@pytest.mark.parametrize("name", list(BITWISE))
def test_bitwise_on_integers(name: str) -> None:
    """Integer `&`, `|`, `^` are bitwise in PyTorch (5 & 3 == 1), not logical."""
    op = BITWISE[name]
    (oa, ta), (ob, tb) = pair(np.array([5, 12, -1, 0, 7])), pair(np.array([3, 10, 6, 9, 7]))
    assert_close(op(oa, ob), op(ta, tb), what=f"int {name} int")
    for s in (3, np.int64(6), True):
        assert_close(op(oa, s), op(ta, s), what=f"int {name} {s!r}")
        assert_close(op(s, oa), op(s, ta), what=f"{s!r} {name} int")
    (o32, t32) = pair(np.array([5, 12], dtype=np.int32))
    assert_close(op(o32, o32), op(t32, t32), what=f"int32 {name}")
    assert_close(op(o32, 3), op(t32, 3), what=f"int32 {name} 3")


@pytest.mark.parametrize("name", list(BITWISE))
def test_logical_on_bools(name: str) -> None:
    op = BITWISE[name]
    (oa, ta) = pair(np.array([True, True, False, False]))
    (ob, tb) = pair(np.array([True, False, True, False]))
    assert_close(op(oa, ob), op(ta, tb), what=f"bool {name} bool")
    assert_close(op(oa, True), op(ta, True), what=f"bool {name} True")
    assert_close(op(False, oa), op(False, ta), what=f"False {name} bool")
    oi, ti = pair(np.array([1, 2, 3, 4]))
    assert_close(op(oa, oi), op(ta, ti), what=f"bool {name} int")
    comp_o, comp_t = (oi > 1) & (oi < 4), (ti > 1) & (ti < 4)
    assert_close(comp_o, comp_t, what="mask & mask")


def test_invert() -> None:
    for arr in (np.array([True, False]), np.array([0, 5, -3]), np.array([1, 2], dtype=np.int32)):
        o, t = pair(arr)
        assert_close(~o, ~t, what=f"~{arr.dtype}")
    with pytest.raises(TypeError):
        ~torch.tensor([1.0])  # noqa: B018
    with pytest.raises(TypeError):
        ~tg.tensor([1.0])  # noqa: B018
