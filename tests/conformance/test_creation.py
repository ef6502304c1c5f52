"""Creation and dtypes against PyTorch: `tensor`, `Tensor`, `as_tensor`, `from_numpy` from
Python scalars, (nested) lists and tuples, numpy scalars and arrays of every dtype, lists of
0-d tensors, with and without `dtype=`. Dtypes, shapes and values must match exactly. The
shape constructors, `*_like` and ranges are in test_creation_shapes.py; memory sharing
(`numpy()`, `np.array`, `.data`), devices and conversions (`to`, `double`, ...) in
test_creation_memory.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tests.conformance.oracle import exact

# ---------------------------------------------------------------- tensor(python data)

PY_DATA = {
    "int": 1,
    "neg_int": -3,
    "float": 1.5,
    "neg_zero": -0.0,
    "true": True,
    "false": False,
    "big_int": 2**40,
    "int64_max": [2**63 - 1],
    "float_overflows_float32": 1e300,
    "list_int": [1, 2, 3],
    "list_float": [0.1, 0.2, 0.3],
    "list_int_then_float": [1, 2.5],
    "list_float_then_int": [1.0, 2, 3],
    "nested_int": [[1, 2], [3, 4]],
    "nested_mixed": [[1, 2], [3, 4.5]],
    "tuple": (1, 2, 3),
    "tuple_of_tuples": ((1.5, 2), (3, 4)),
    "list_of_tuples": [(1, 2), (3, 4)],
    "empty": [],
    "empty_nested": [[]],
    "two_empty": [[], []],
    "bools": [True, False],
    "bool_and_int": [True, 2],
    "bool_and_float": [True, 2.5],
    "specials": [float("inf"), float("nan"), -0.0, -float("inf")],
    "size1": [[1.5]],
    "deep": [[[1], [2]], [[3], [4]]],
}


@pytest.mark.parametrize("name", list(PY_DATA))
def test_tensor_from_python_data(name: str) -> None:
    data = PY_DATA[name]
    exact(tg.tensor(data), torch.tensor(data), what=name)


@pytest.mark.parametrize("name", list(PY_DATA))
def test_tensor_constructor_and_as_tensor_agree(name: str) -> None:
    """`Tensor(data)` and `as_tensor(data)` infer as `torch.tensor(data)` does."""
    data = PY_DATA[name]
    exact(tg.as_tensor(data), torch.as_tensor(data), what=f"as_tensor {name}")
    exact(tg.Tensor(data), torch.tensor(data), what=f"Tensor {name}")


NUMPY_SCALAR_DATA = {
    "f64_scalar": np.float64(1.1),
    "f32_scalar": np.float32(2.5),
    "f16_scalar": np.float16(1.5),
    "i32_scalar": np.int32(7),
    "i64_scalar": np.int64(-7),
    "u8_scalar": np.uint8(200),
    "bool_scalar": np.bool_(True),
    "list_f64": [np.float64(1.1)],
    "list_f64_f32": [np.float64(1.1), np.float32(2.0)],
    "list_f32_pyint": [np.float32(1.1), 2],
    "list_f32_i64": [np.float32(1.0), np.int64(2)],
    "list_f16": [np.float16(1.5)],
    "list_i32": [np.int32(3), np.int32(4)],
    "list_i8_i16": [np.int8(3), np.int16(4)],
    "list_u8": [np.uint8(3)],
    "list_i32_pyfloat": [np.int32(3), 1.5],
    "list_i64_pyint": [np.int64(3), 1],
    "list_bools": [np.bool_(True), np.bool_(False)],
    "list_f64_pybool": [np.float64(1.5), True],
    "list_pybool_i32": [True, np.int32(1)],
    "nested_f64": [[np.float64(1.0)], [2.0]],
}


@pytest.mark.parametrize("name", list(NUMPY_SCALAR_DATA))
def test_tensor_from_numpy_scalars(name: str) -> None:
    """numpy scalars keep their dtype, alone or in lists (PyTorch: `tensor([np.float64(1.1)])`
    is float64, `tensor([np.float32(1.1), 2])` float32)."""
    data = NUMPY_SCALAR_DATA[name]
    exact(tg.tensor(data), torch.tensor(data), what=name)


ZERO_D_LISTS = {
    "floats": lambda lib: [lib.tensor(1.0), lib.tensor(2.0)],
    "ints": lambda lib: [lib.tensor(1), lib.tensor(2)],
    "int_and_float": lambda lib: [lib.tensor(1), lib.tensor(2.5)],
    "bool_and_int": lambda lib: [lib.tensor(True), lib.tensor(1)],
    "f64_and_f32": lambda lib: [lib.tensor(1.0, dtype=lib.float64), lib.tensor(2.0)],
    "f64_and_pyint": lambda lib: [lib.tensor(1.5, dtype=lib.float64), 2],
    "i32_and_pyint": lambda lib: [lib.tensor(1, dtype=lib.int32), 2],
    "float_and_pyfloat": lambda lib: [lib.tensor(1.5), 2.5],
}


@pytest.mark.parametrize("name", list(ZERO_D_LISTS))
def test_tensor_from_list_of_0d_tensors(name: str) -> None:
    make = ZERO_D_LISTS[name]
    exact(tg.tensor(make(tg)), torch.tensor(make(torch)), what=name)


DTYPE_DATA = [
    ([0.3, -0.7], "float64"),
    (0.1, "float64"),
    (1e300, "float64"),
    ([1e-310, 2.0**-1074], "float64"),
    ([1, 2], "float32"),
    ([1, 2], "float64"),
    ([1.7, -1.7, 2.5], "int64"),
    ([1.7, -1.7], "int32"),
    ([0.5, 0, -2], "bool"),
    ([1, 0, 3], "bool"),
    ([True, False], "float32"),
    ([True, False], "int64"),
    ([[1, 2], [3, 4]], "float16"),
    ([200, 3], "uint8"),
    ([], "int64"),
    ([], "float64"),
    (np.float32(0.1), "float64"),
    ([np.float64(0.1)], "float32"),
]


@pytest.mark.parametrize("data,dtype", DTYPE_DATA, ids=[f"{d}-{t}" for d, t in DTYPE_DATA])
def test_tensor_with_dtype(data: Any, dtype: str) -> None:
    """With `dtype=` the Python values are converted straight to that dtype: float64 keeps
    0.3 exactly (not 0.3 rounded through float32) and 1e300 stays finite."""
    ours = tg.tensor(data, dtype=getattr(tg, dtype))
    exact(ours, torch.tensor(data, dtype=getattr(torch, dtype)), what=f"{data} {dtype}")
    exact(tg.Tensor(data, dtype=getattr(tg, dtype)),
          torch.tensor(data, dtype=getattr(torch, dtype)), what=f"Tensor {data} {dtype}")


def test_float64_list_stores_the_python_floats_exactly() -> None:
    t = tg.tensor([0.3, -0.7], dtype=tg.float64)
    assert t.numpy().tolist() == [0.3, -0.7]
    assert np.isfinite(tg.tensor(1e300, dtype=tg.float64).item())
    assert tg.tensor(1e300, dtype=tg.float64).item() == 1e300


def test_dtype_keyword_accepts_torch_style_aliases() -> None:
    for name in ("float", "double", "half", "long", "int", "bool", "float32", "int64"):
        exact(tg.tensor([1, 0], dtype=getattr(tg, name)),
              torch.tensor([1, 0], dtype=getattr(torch, name)), what=name)


@pytest.mark.parametrize("data", [[[1, 2], [3]], [[1.5], [2.0, 3.0]]])
def test_ragged_lists_raise_value_error(data: Any) -> None:
    with pytest.raises(ValueError):
        torch.tensor(data)
    with pytest.raises(ValueError):
        tg.tensor(data)


def test_int_tensor_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        tg.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("data", [1.5, [1.0, 2.0], [[0.5]]])
def test_requires_grad_keyword(data: Any) -> None:
    ours, theirs = tg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    assert ours.requires_grad and ours.is_leaf and ours.grad is None
    assert theirs.requires_grad and theirs.is_leaf
    exact(ours, theirs)
    ours64 = tg.tensor(data, dtype=tg.float64, requires_grad=True)
    exact(ours64, torch.tensor(data, dtype=torch.float64, requires_grad=True))
    assert ours64.requires_grad


# ---------------------------------------------------------------- tensor(ndarray)

NP_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
             "bool"]


@pytest.mark.parametrize("dtype", NP_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 0, 4)])
def test_tensor_from_ndarray_keeps_dtype(dtype: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    a = np.array(rng.standard_normal(shape) * 50).astype(dtype)
    assert isinstance(a, np.ndarray)
    exact(tg.tensor(a), torch.tensor(a), what="tensor")
    exact(tg.as_tensor(a), torch.as_tensor(a), what="as_tensor")
    exact(tg.from_numpy(a), torch.from_numpy(a), what="from_numpy")


def test_tensor_of_ndarray_copies() -> None:
    """PyTorch's `tensor(ndarray)` copies: changing the array afterwards changes nothing."""
    a = np.array([1.0, 2.0, 3.0])
    t = tg.tensor(a)
    a[0] = 99.0
    assert t.numpy().tolist() == [1.0, 2.0, 3.0]
    b = np.array([1.0, 2.0])
    t2 = tg.tensor(b, dtype=tg.float64, requires_grad=True)
    b[1] = -5.0
    assert t2.detach().numpy().tolist() == [1.0, 2.0]
    # and the other way: changing the tensor leaves the array alone
    c = np.zeros(2)
    t3 = tg.tensor(c)
    t3.numpy()[0] = 7.0
    assert c.tolist() == [0.0, 0.0]


def test_tensor_of_tensor_copies() -> None:
    x = tg.tensor([1.0, 2.0])
    y = tg.tensor(x)
    y.numpy()[0] = 5.0
    assert x.numpy().tolist() == [1.0, 2.0]
    exact(tg.tensor(tg.tensor([1, 2]), dtype=tg.float64),
          torch.tensor(torch.tensor([1, 2]), dtype=torch.float64))


def test_from_numpy_shares_memory_both_ways() -> None:
    a = np.ones(3)
    t = tg.from_numpy(a)
    a[0] = 5.0
    assert t.numpy()[0] == 5.0
    t.numpy()[1] = 7.0
    assert a[1] == 7.0
    with tg.no_grad():
        t.mul_(2.0)
    assert a.tolist() == [10.0, 14.0, 2.0]
    # a transposed (non-contiguous) array keeps its values
    b = np.arange(6.0).reshape(2, 3).T
    exact(tg.from_numpy(b), torch.from_numpy(b))


def test_from_numpy_rejects_lists() -> None:
    with pytest.raises(TypeError):
        torch.from_numpy([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tg.from_numpy([1, 2])  # type: ignore[arg-type]


def test_as_tensor_shares_when_it_can() -> None:
    """PyTorch: `as_tensor(ndarray)` shares memory when no conversion is needed, copies
    otherwise; `as_tensor(tensor)` is the tensor itself."""
    a = np.ones(3)
    t = tg.as_tensor(a)
    a[0] = 5.0
    assert t.numpy()[0] == 5.0
    b = np.ones(3, dtype=np.float32)
    t2 = tg.as_tensor(b, dtype=tg.float64)
    b[0] = 5.0
    exact(t2, torch.ones(3, dtype=torch.float64))
    x = tg.ones(2)
    assert tg.as_tensor(x) is x
    exact(tg.as_tensor(x, dtype=tg.float64), torch.ones(2, dtype=torch.float64))


# ---------------------------------------------------------------- properties

_dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.bool_, np.uint8])


@given(hnp.arrays(_dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)))
def test_property_tensor_of_array_and_its_list(a: np.ndarray) -> None:
    """`tensor(a)` keeps a's dtype; `tensor(a.tolist())` infers as PyTorch does from
    the Python values."""
    exact(tg.tensor(a), torch.tensor(a), what="tensor(ndarray)")
    data = a.tolist()
    exact(tg.tensor(data), torch.tensor(data), what="tensor(list)")
