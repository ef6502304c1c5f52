"""numpy's rounding and NaN functions on Tensors (`np.round`, `np.fix`, `np.nansum`,
`np.nan_to_num`): handlers for `Tensor.__array_function__`, registered like those of
`_numpy_shapes`, with numpy's parameter names and the Tensor methods' gradients (the ufuncs
`np.floor`, `np.sin`, `np.arctan2` ... map straight to methods in `_numpy_interop`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu._numpy_functions import _axes_tuple, _implements
from tinygrad_edu.tensor import Tensor, as_tensor


@_implements(np.round, getattr(np, "around", None))
def _round(a: Any, decimals: int = 0, out: Any = None) -> Tensor:
    return as_tensor(a).round(decimals=decimals)


@_implements(np.fix)
def _fix(x: Any, out: Any = None) -> Tensor:
    return as_tensor(x).trunc()


@_implements(np.nansum)
def _nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> Tensor:
    t = as_tensor(a)
    axes = None if axis is None else _axes_tuple(axis, t.ndim, "np.nansum", t.shape)
    return t.nansum(dim=axes, keepdim=bool(keepdims), dtype=dtype)


@_implements(np.nan_to_num)
def _nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Tensor:
    """copy=False replaces in place, as numpy does (nan_to_num_, version bumped)."""
    t = as_tensor(x)
    return t.nan_to_num(nan, posinf, neginf) if copy else t.nan_to_num_(nan, posinf, neginf)
