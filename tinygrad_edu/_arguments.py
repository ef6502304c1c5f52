"""Integer arguments (sizes, dims, counts) and dtypes, checked before numpy sees them.

`int(1.5)` is 1 and `int(True)` is 1: converting with `int` would let `x.repeat(1.5, 1)` or
`randn(2.5)` run with a size the caller did not write. PyTorch refuses floats and bools in a
size with a TypeError at the call; so do we. What is accepted is what Python accepts as an
index: ints, numpy integers, and one-element integer tensors (through `__index__`).

A dtype is what numpy reads as a numeric dtype (`tinygrad_edu.float32`, `np.int64`, `float`,
`"float64"`); anything else (`5`, `"float33"`, `str`) is a TypeError naming the op, instead
of numpy's "Cannot interpret '5' as a data type".
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np


def as_int(value: Any, op: str, what: str = "size") -> int:
    """`value` as an int, or TypeError naming the op, the argument and what was given."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{op}: {what} must be an int, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int, got {value!r} "
                        f"({type(value).__name__})") from None


def int_args(args: tuple[Any, ...], op: str, what: str = "size") -> tuple[int, ...]:
    """`f(2, 3)` and `f((2, 3))` (or a list) both read as the ints (2, 3)."""
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    return tuple(as_int(n, op, what) for n in args)


NUMERIC_KINDS = "biuf"


def as_dtype(value: Any, op: str) -> np.dtype:
    """`value` read as a numeric numpy dtype, or TypeError naming the op and what was given."""
    try:
        dt = np.dtype(value) if value is not None else None
    except TypeError:
        dt = None
    if dt is None or dt.kind not in NUMERIC_KINDS:
        raise TypeError(f"{op}: dtype must be a numeric dtype (e.g. tinygrad_edu.float32, "
                        f"tinygrad_edu.int64, bool), got {value!r}")
    return dt
