"""numpy's protocols for Tensor. `__array__` follows numpy 2's contract the way PyTorch's
tensors do: `np.array(t)` (and `copy=True`) returns a new array, `np.asarray(t)` the
tensor's own memory, `copy=False` raises ValueError when a dtype change needs a copy.

tensor.py holds a slot (`tensor._numpy`) that this module fills at import (the package
`__init__` imports it first), so tensor.py never imports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor, _numpy


def to_array(t: Tensor, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
    """`Tensor.__array__`: numpy 2's contract. copy=True (what `np.array(t)` passes): a new
    array, never the live one (a snapshot must not follow later in-place updates); copy=None
    (`np.asarray`): the tensor's memory when the dtype matches; copy=False: the same, or
    ValueError when a dtype change needs a copy."""
    arr = t.array
    if dtype is not None and np.dtype(dtype) != arr.dtype:
        if copy is False:
            raise ValueError(f"__array__: a {arr.dtype} Tensor of shape {t.shape} cannot become "
                             f"{np.dtype(dtype)} without a copy, and copy=False forbids one; "
                             "use np.asarray(t, dtype) to allow it")
        return arr.astype(dtype)
    return arr.copy() if copy else arr


_numpy.to_array = to_array
