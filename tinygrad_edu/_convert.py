"""How Python data, numpy arrays and scalars become the array of a tensor, with PyTorch's
dtype rules (a Python float is the default dtype, an int int64, a bool bool)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu._arguments import as_dtype
from tinygrad_edu.modes import _state, _tensor_types


class TensorDataError(TypeError, ValueError):
    """Data that cannot become a tensor (strings, None, objects, ragged lists). Both a
    TypeError and a ValueError, so either PyTorch habit of catching it works."""


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _element_dtype(x: Any) -> np.dtype:
    """PyTorch's dtype for one element of Python data: a Python float is the default float,
    an int int64, a bool bool; a numpy scalar, array or Tensor keeps its own dtype."""
    if isinstance(x, np.generic | np.ndarray | _tensor_types.Tensor) and x.dtype.kind in _CATEGORY:
        return np.dtype(x.dtype)  # first: np.float64 is also a Python float
    if isinstance(x, bool):
        return np.dtype(np.bool_)
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return _state.default_dtype
    if isinstance(x, complex | np.complexfloating):
        raise TensorDataError("tensor: complex numbers are not supported")
    raise TensorDataError(f"tensor: cannot make a tensor from a {type(x).__name__} "
                          f"({x!r:.40}); expected numbers (int, float, bool), numpy arrays "
                          "or Tensors, in possibly nested lists of equal lengths")


def _dtype_of_python(data: Any) -> np.dtype:
    """PyTorch's rule for (nested) Python data: the elements' dtypes promoted, where a float
    beats any int (int64 with float32 gives float32) and the wider type of a category wins."""
    result: np.dtype | None = None
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, list | tuple):
            stack.extend(x)
            continue
        dt = _element_dtype(x)
        if result is None or _CATEGORY[dt.kind] > _CATEGORY[result.kind]:
            result = dt
        elif _CATEGORY[dt.kind] == _CATEGORY[result.kind]:
            result = np.promote_types(result, dt)
    return _state.default_dtype if result is None else result  # `tensor([])` is float


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    if isinstance(data, _tensor_types.Tensor):
        arr = data.array
    elif isinstance(data, np.ndarray):
        if data.dtype.kind not in _CATEGORY:
            _element_dtype(data)  # raises, naming what was given
        arr = data
    elif isinstance(data, np.generic):  # a numpy scalar keeps its dtype, as an array does
        arr = np.asarray(data)
    else:
        tensor = _tensor_types.Tensor
        if isinstance(data, list | tuple) and any(isinstance(x, tensor) for x in data):
            data = [x.array if isinstance(x, tensor) else x for x in data]
        # Python data goes straight to the dtype asked for: through float32 first, 0.3
        # would become 0.30000001192 and 1e300 inf in a float64 tensor.
        inferred = _dtype_of_python(data) if dtype is None else as_dtype(dtype, "tensor")
        try:
            arr = np.asarray(data, dtype=inferred)
        except (ValueError, TypeError) as e:
            raise TensorDataError(f"tensor: cannot make a tensor from this data ({e}); "
                                  "nested lists must have equal lengths") from None
    if dtype is not None:
        dt = as_dtype(dtype, "tensor")
        if arr.dtype != dt:
            arr = arr.astype(dt)
    return arr
