"""Shape constructors against PyTorch: `zeros/ones/empty/full(shape)` with the shape as
ints, a tuple or a list, `*_like`, `arange/linspace/eye`; dtype, shape and values exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tests.conformance.oracle import assert_close, exact, same_dtype

# ---------------------------------------------------------------- shape constructors

SHAPES = {
    "ints": (2, 3),
    "one_int": (4,),
    "tuple": ((2, 3),),
    "list": ([2, 3],),
    "empty_tuple": ((),),
    "empty_list": ([],),
    "zero_rows": (0, 3),
    "zero_tuple": ((0,),),
    "numpy_ints": (np.int64(2), np.int32(3)),
    "tuple_of_numpy_ints": ((np.int64(2), 3),),
}


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("name", list(SHAPES))
def test_shape_constructors(fn: str, name: str) -> None:
    args = SHAPES[name]
    ours, theirs = getattr(tg, fn)(*args), getattr(torch, fn)(*args)
    if fn == "empty":
        same_dtype(ours, theirs)
        assert tuple(ours.shape) == tuple(theirs.shape)
    else:
        exact(ours, theirs, what=f"{fn}{args}")


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "uint8"])
def test_shape_constructors_dtype(fn: str, dtype: str) -> None:
    ours = getattr(tg, fn)(2, 3, dtype=getattr(tg, dtype))
    theirs = getattr(torch, fn)(2, 3, dtype=getattr(torch, dtype))
    same_dtype(ours, theirs)
    if fn != "empty":
        exact(ours, theirs)
    ours = getattr(tg, fn)((2, 3), dtype=getattr(tg, dtype))
    same_dtype(ours, getattr(torch, fn)((2, 3), dtype=getattr(torch, dtype)))
    assert ours.shape == (2, 3)


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "full", "eye", "linspace", "arange"])
def test_constructors_requires_grad_keyword(fn: str) -> None:
    args: dict[str, tuple[Any, ...]] = {"full": ((2,), 1.5), "eye": (2,), "linspace": (0, 1, 3),
                                        "arange": (0.0, 1.0, 0.5)}
    a = args.get(fn, (2, 3))
    ours, theirs = getattr(tg, fn)(*a, requires_grad=True), getattr(torch, fn)(*a,
                                                                               requires_grad=True)
    assert ours.requires_grad == theirs.requires_grad is True
    assert ours.is_leaf
    same_dtype(ours, theirs)


def test_shape_constructors_device_keyword() -> None:
    for fn in ("zeros", "ones", "empty"):
        ours = getattr(tg, fn)(2, device="cpu")
        same_dtype(ours, getattr(torch, fn)(2, device="cpu"))
    exact(tg.full((2,), 3, device="cpu"), torch.full((2,), 3, device="cpu"))
    exact(tg.arange(3, device="cpu"), torch.arange(3, device="cpu"))
    exact(tg.tensor([1.5], device="cpu"), torch.tensor([1.5], device="cpu"))


FULL_CASES = [
    ((2, 3), 1.5, None),
    ((2,), 7, None),
    ((2,), True, None),
    ([2], 1.5, "float64"),
    ((), 2, None),
    ((0, 2), 1.0, None),
    ((3,), np.float64(1.5), None),
    ((3,), np.int32(4), None),
    ((2,), 7, "float32"),
    ((2,), 2.7, "int64"),
    ((2,), float("nan"), None),
]


@pytest.mark.parametrize("size,value,dtype", FULL_CASES,
                         ids=[f"{s}-{v!r}-{d}" for s, v, d in FULL_CASES])
def test_full(size: Any, value: Any, dtype: str | None) -> None:
    """`full`'s dtype comes from the fill value as Python data (a numpy float64 scalar gives
    the default float, as in PyTorch), unless `dtype=` says otherwise."""
    kw_ours = {} if dtype is None else {"dtype": getattr(tg, dtype)}
    kw_theirs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    exact(tg.full(size, value, **kw_ours), torch.full(size, value, **kw_theirs))
    exact(tg.full(size=size, fill_value=value, **kw_ours),
          torch.full(size=size, fill_value=value, **kw_theirs))


LIKE_SOURCES = {
    "f32": lambda lib: lib.tensor([[1.5, 2.0], [3.0, 4.0]]),
    "f64": lambda lib: lib.tensor([1.5, 2.0], dtype=lib.float64),
    "i64": lambda lib: lib.tensor([1, 2, 3]),
    "bool": lambda lib: lib.tensor([True, False]),
    "0d": lambda lib: lib.tensor(2.5),
    "empty": lambda lib: lib.zeros(0, 3),
}


@pytest.mark.parametrize("src", list(LIKE_SOURCES))
def test_like_constructors(src: str) -> None:
    x_o, x_t = LIKE_SOURCES[src](tg), LIKE_SOURCES[src](torch)
    exact(tg.zeros_like(x_o), torch.zeros_like(x_t), what="zeros_like")
    exact(tg.ones_like(x_o), torch.ones_like(x_t), what="ones_like")
    exact(tg.full_like(x_o, 2.7), torch.full_like(x_t, 2.7), what="full_like 2.7")
    exact(tg.full_like(x_o, 3), torch.full_like(x_t, 3), what="full_like 3")
    e_o, e_t = tg.empty_like(x_o), torch.empty_like(x_t)
    same_dtype(e_o, e_t)
    assert tuple(e_o.shape) == tuple(e_t.shape)
    for dt in ("float64", "int64", "bool"):
        exact(tg.zeros_like(x_o, dtype=getattr(tg, dt)),
              torch.zeros_like(x_t, dtype=getattr(torch, dt)), what=f"zeros_like {dt}")
        exact(tg.ones_like(x_o, dtype=getattr(tg, dt)),
              torch.ones_like(x_t, dtype=getattr(torch, dt)), what=f"ones_like {dt}")
        exact(tg.full_like(x_o, 1, dtype=getattr(tg, dt)),
              torch.full_like(x_t, 1, dtype=getattr(torch, dt)), what=f"full_like {dt}")


def test_like_constructors_requires_grad_and_independence() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    z = tg.zeros_like(x)
    assert not z.requires_grad and z.is_leaf  # PyTorch: *_like does not copy requires_grad
    o = tg.ones_like(x, requires_grad=True)
    assert o.requires_grad and o.is_leaf
    z.numpy()[0] = 5.0
    assert x.detach().numpy().tolist() == [1.0, 2.0]


ARANGE_CASES = [
    ((5,), {}),
    ((1, 5), {}),
    ((1, 10, 3), {}),
    ((0, -5, -1), {}),
    ((5.0,), {}),
    ((0, 1, 0.1), {}),
    ((1, 2.5, 0.5), {}),
    ((-1.0, 1.0, 0.25), {}),
    ((0,), {}),
    ((3, 3), {}),
    ((5,), {"dtype": "float64"}),
    ((0, 1, 0.1), {"dtype": "float64"}),
    ((5,), {"dtype": "float32"}),
    ((0.0, 4.0), {"dtype": "int64"}),
    ((np.int64(4),), {}),
    ((np.float64(4),), {}),
    ((), {"start": 2, "end": 5}),
    ((), {"end": 5}),
    ((), {"start": 0, "end": 1, "step": 0.25}),
]


@pytest.mark.parametrize("args,kwargs", ARANGE_CASES,
                         ids=[f"{a}-{k}" for a, k in ARANGE_CASES])
def test_arange(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    kw_o = {k: getattr(tg, v) if k == "dtype" else v for k, v in kwargs.items()}
    kw_t = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    ours, theirs = tg.arange(*args, **kw_o), torch.arange(*args, **kw_t)
    assert_close(ours, theirs, what=f"arange{args}{kwargs}")


def test_arange_of_0d_tensor() -> None:
    exact(tg.arange(tg.tensor(4)), torch.arange(torch.tensor(4)))


LINSPACE_CASES = [
    ((0, 1, 5), {}),
    ((-1, 1, 7), {}),
    ((0, 10, 1), {}),
    ((0, 10, 0), {}),
    ((0, 1), {"steps": 5}),
    ((0.0, 1.0, 5), {"dtype": "float64"}),
    ((0, 10, 5), {"dtype": "int64"}),
    ((2.5, -2.5, 3), {}),
    ((), {"start": 0, "end": 2, "steps": 3}),
]


@pytest.mark.parametrize("args,kwargs", LINSPACE_CASES,
                         ids=[f"{a}-{k}" for a, k in LINSPACE_CASES])
def test_linspace(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    kw_o = {k: getattr(tg, v) if k == "dtype" else v for k, v in kwargs.items()}
    kw_t = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    assert_close(tg.linspace(*args, **kw_o), torch.linspace(*args, **kw_t),
                 what=f"linspace{args}{kwargs}")


EYE_CASES = [((3,), {}), ((2, 3), {}), ((3, 2), {}), ((0,), {}), ((1,), {}),
             ((3,), {"dtype": "int64"}), ((2,), {"dtype": "bool"}),
             ((), {"n": 2, "m": 3, "dtype": "float64"})]


@pytest.mark.parametrize("args,kwargs", EYE_CASES, ids=[f"{a}-{k}" for a, k in EYE_CASES])
def test_eye(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    kw_o = {k: getattr(tg, v) if k == "dtype" else v for k, v in kwargs.items()}
    kw_t = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    exact(tg.eye(*args, **kw_o), torch.eye(*args, **kw_t))


# ---------------------------------------------------------------- properties

@given(st.integers(-20, 20), st.integers(-20, 20),
       st.sampled_from([1, 2, 3, -1, -2, 0.5, -0.25, 1.5]))
def test_property_arange(start: int, end: int, step: float) -> None:
    if (end - start) * step <= 0:
        return
    assert_close(tg.arange(start, end, step), torch.arange(start, end, step))


@given(st.floats(-100, 100), st.floats(-100, 100), st.integers(0, 12))
def test_property_linspace(start: float, end: float, steps: int) -> None:
    assert_close(tg.linspace(start, end, steps), torch.linspace(start, end, steps),
                 atol=1e-5 * max(1.0, abs(start), abs(end)))
    assert_close(tg.linspace(start, end, steps, dtype=tg.float64),
                 torch.linspace(start, end, steps, dtype=torch.float64))
