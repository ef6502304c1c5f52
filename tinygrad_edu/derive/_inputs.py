"""The inputs of a check: float64 copies, names, which ones are differentiated, and the
claimed derivatives lined up with them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_edu.creation import from_numpy
from tinygrad_edu.tensor import Tensor


def _param_names(f: Callable[..., Any]) -> list[str | None]:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return []
    names: list[str | None] = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        else:
            break
    return names


def function_name(f: Any) -> str:
    name = getattr(f, "__name__", type(f).__name__)
    return "f" if name == "<lambda>" else name


class Inputs:
    """Float inputs become float64 arrays (the ones differentiated, `wrt`, by default all of
    them); integer arrays stay integer constants; Python ints and other objects (a class
    index, a dict of settings) are passed through unchanged."""

    def __init__(self, op: str, f: Callable[..., Any], inputs: Sequence[Any], wrt: Any) -> None:
        self.op = op
        self.values: list[Any] = []
        self.is_float: list[bool] = []
        for x in inputs:
            value, is_float = _convert(x)
            self.values.append(value)
            self.is_float.append(is_float)
        params = _param_names(f)
        names = []
        for i, x in enumerate(inputs):
            name = x.name if isinstance(x, Tensor) and x.name else (
                params[i] if i < len(params) else None)
            names.append(name if name and name not in names else f"input {i}")
        self.names = names
        self.wrt = self._wrt(wrt)

    def _wrt(self, wrt: Any) -> list[int]:
        if wrt is None:
            chosen = [i for i, ok in enumerate(self.is_float) if ok]
            if not chosen:
                raise ValueError(f"{self.op}: no floating-point input to differentiate; got "
                                 f"{[type(v).__name__ for v in self.values]}")
            return chosen
        items = [wrt] if isinstance(wrt, int | str) else list(wrt)
        chosen = []
        for w in items:
            if isinstance(w, str):
                if w not in self.names:
                    raise ValueError(f"{self.op}: wrt={w!r} names no input; inputs are "
                                     f"{self.names}")
                i = self.names.index(w)
            else:
                if not -len(self.values) <= int(w) < len(self.values):
                    raise ValueError(f"{self.op}: wrt={w} is out of range for "
                                     f"{len(self.values)} inputs")
                i = int(w) % len(self.values)
            if not self.is_float[i]:
                raise TypeError(f"{self.op}: input {self.names[i]!r} is not floating point "
                                f"({type(self.values[i]).__name__}); it cannot be "
                                "differentiated")
            chosen.append(i)
        if not chosen:
            raise ValueError(f"{self.op}: wrt is empty")
        return chosen

    def args(self, replace: dict[int, Any] | None = None) -> list[Any]:
        """Arguments for f: Tensors for arrays (the `replace`d ones as given)."""
        replace = replace or {}
        return [replace[i] if i in replace else (
            from_numpy(v) if isinstance(v, np.ndarray) else v)
            for i, v in enumerate(self.values)]

    def claim_args(self) -> list[Any]:
        """Arguments for a claimed formula: fresh copies, so it may change them."""
        return [v.copy() if isinstance(v, np.ndarray) else v for v in self.values]

    def dims(self) -> list[tuple[str, int, int]]:
        return [(self.names[i], ax, n) for i, v in enumerate(self.values)
                if isinstance(v, np.ndarray) for ax, n in enumerate(v.shape)]

    def claims(self, claimed: Any, what: str) -> list[Any]:
        """The claimed derivative(s), one per `wrt` input, in order."""
        result = claimed(*self.claim_args()) if callable(claimed) else claimed
        n = len(self.wrt)
        if isinstance(result, dict):
            missing = [self.names[i] for i in self.wrt if self.names[i] not in result]
            if missing:
                raise KeyError(f"{self.op}: the claimed {what} has no entry for {missing}; "
                               f"keys are {list(result)}")
            result = [result[self.names[i]] for i in self.wrt]
        elif n == 1:
            single = isinstance(result, tuple) and len(result) == 1
            result = [result[0] if single else result]
        elif not isinstance(result, tuple | list) or len(result) != n:
            got = len(result) if isinstance(result, tuple | list) else 1
            raise ValueError(f"{self.op}: expected {n} claimed {what}s (for "
                             f"{[self.names[i] for i in self.wrt]}), got {got}; return one "
                             "per input in that order, or pass wrt= to choose the inputs")
        return [np.asarray(r.array if isinstance(r, Tensor) else r, dtype=np.float64)
                for r in result]


def _convert(x: Any) -> tuple[Any, bool]:
    if isinstance(x, Tensor):
        x = x.array
    if isinstance(x, bool | int | np.integer) or x is None or isinstance(x, str | dict):
        return x, False
    if isinstance(x, float | np.floating):
        return np.asarray(x, dtype=np.float64), True
    if isinstance(x, np.ndarray | list | tuple):
        arr = np.asarray(x)
        if arr.dtype.kind == "f":
            return arr.astype(np.float64, copy=True), True
        if arr.dtype.kind in "iub":
            return arr.copy(), False
    return x, False
