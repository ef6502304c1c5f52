"""Is a trace's constant really constant? Trace again with other input values (same shapes
and dtypes: the values permuted; scaled by 1000; negated; drawn afresh, see `other_values`) and
compare the traces: the
same primitives with the same attributes, and equal constants. A constant that differs was
computed from the inputs outside the primitives (numpy code on `.array`, a comparison
`x > 0` used as a mask): baking it in would give later calls the first call's value, so it
is an error naming the op that consumed it. Other ops for other values: control flow on a
value read around the tracer; an error too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tinygrad_edu.compile.trace import Trace
from tinygrad_edu.compile.tracer import TraceError


def other_values(a: np.ndarray, rng: np.random.Generator, kind: int) -> np.ndarray:
    """Values of a's shape and dtype, different from a's, for the `kind`-th check:
    0: a permutation of its elements (labels stay valid labels, probabilities stay
       probabilities); a single value, or all-equal ones, halved (floats);
    1: floats times 1000 (a threshold such as clamp's bounds now cuts elsewhere);
    2: floats negated (every sign changes, so a mask such as x > 0 does);
    3: floats drawn afresh from a normal distribution.
    Integers are permuted (kinds 0 and 3), or moved by +1 (kind 1) and -1 (kind 2): labels
    that are all equal change too (a trace whose values are out of range raises in the
    library's checks and is skipped); bools are permuted or negated."""
    flat = a.reshape(-1)
    if a.dtype.kind == "b" and kind in (1, 2):
        return ~a
    if a.dtype.kind in "iu" and kind in (1, 2):
        return (a + (1 if kind == 1 else -1)).astype(a.dtype)
    if kind in (0, 3) or a.dtype.kind != "f":
        if flat.size >= 2 and not np.all(flat == flat[0]):
            order = rng.permutation(flat.size)
            if np.array_equal(flat[order], flat):
                order = np.roll(np.arange(flat.size), 1)
            return flat[order].reshape(a.shape).copy()
        if a.dtype.kind == "f":
            return np.where(a == 0, np.asarray(0.5, a.dtype), a * np.asarray(0.5, a.dtype))
        return a.copy()
    if kind == 1:
        return (a * np.asarray(1000.0, a.dtype)).astype(a.dtype)
    if kind == 2:
        return -a
    return rng.standard_normal(a.shape).astype(a.dtype)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return (a.shape == b.shape and a.dtype == b.dtype
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, slice) and isinstance(b, slice):
        return same((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    try:
        return bool(a is b or a == b)
    except Exception:  # noqa: BLE001  (an object without a plain ==)
        return False


def compare(first: Trace, second: Trace) -> None:
    """Raise TraceError where the two traces differ (see the module docstring)."""
    a, b = first.tracer, second.tracer
    if first.updates != second.updates:
        raise TraceError("compile: the function changed different tensors in place for other "
                         "input values (value-dependent control flow); call it uncompiled")
    for i in range(max(len(a.entries), len(b.entries))):
        ea = _slots_named(a, a.entries[i]) if i < len(a.entries) else None
        eb = _slots_named(b, b.entries[i]) if i < len(b.entries) else None
        if ea is not None and eb is not None and ea.op is eb.op and ea.attrs.keys() == \
                eb.attrs.keys() and not same(ea.attrs, eb.attrs) and all(
                    same(v, eb.attrs[k]) or isinstance(v, np.ndarray)
                    for k, v in ea.attrs.items()):
            raise TraceError(_changing(ea, "an array argument (a mask or an index)"))
        if ea is None or eb is None or ea.op is not eb.op or ea.note != eb.note or \
                [k for k, _ in ea.ins] != [k for k, _ in eb.ins] or \
                not same(ea.attrs, eb.attrs) or not _same_guard(ea.guard, eb.guard):
            what = _describe(ea) if ea is not None else _describe(eb)
            raise TraceError(
                f"compile: the function ran different operations for other input values "
                f"(at step {i}: {what}): a branch on a tensor's value (an if or while on a "
                "comparison such as x.sum() > 0, or on numpy code reading .array) is traced "
                "once, as torch.jit.trace, and would silently take the first call's branch "
                "on every later call; so it is an error. Use tensor ops (torch.where, "
                "clamp, masks) or call the function uncompiled")
        for (kind, ka), (_, kb) in zip(ea.ins, eb.ins):
            if kind == "slot" and ka != kb:
                raise TraceError(f"compile: {_describe(ea)} reads different values for other "
                                 "inputs (value-dependent control flow); call it uncompiled")
            if kind == "const" and not same(a.consts[ka].array, b.consts[kb].array):
                shape = np.shape(a.consts[ka].array)
                raise TraceError(_changing(ea, f"a constant of shape {shape}"))


class _SlotArray:
    """An attribute array that is a slot's value (computed on every call): equal to
    another when it is the same slot."""

    def __init__(self, slot: int) -> None:
        self.slot = slot

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SlotArray) and other.slot == self.slot

    __hash__ = None  # type: ignore[assignment]


def _slots_named(tracer: Any, e: Any) -> Any:
    """The entry with each attribute array that is a slot's value replaced by its slot
    number: those may differ between traces, as any computed value does."""
    if not e.arrays:
        return e

    def named(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            slot = e.arrays.get(id(v))
            return v if slot is None else _SlotArray(slot)
        if isinstance(v, dict):
            return {k: named(x) for k, x in v.items()}
        if isinstance(v, tuple | list):
            return type(v)(named(x) for x in v)
        return v

    return dataclasses.replace(e, attrs=named(e.attrs))


def _changing(e: Any, what: str) -> str:
    return (f"compile: {_describe(e)} uses {what} that changes with the input values: it was "
            "computed from the inputs outside the primitives (numpy code on .array or "
            ".numpy(), a comparison such as x > 0 used as a mask, torch.tensor() of tensor "
            "values; the library's clamp, leaky_relu, softmax's max shift do this), so compile "
            "would bake in the first call's value. Compute it with primitive tensor ops (relu, "
            "maximum, log_softmax, where with a traced condition) or call the function "
            "uncompiled")


def _same_guard(g: Any, h: Any) -> bool:
    if g is None or h is None:
        return g is h
    return bool(g[0] is h[0] and same(g[1], h[1]) and same(g[2], h[2]))


def _describe(e: Any) -> str:
    name = e.op.__name__ if e.op is not None else (f"a {e.note}" if e.guard is not None
                                                     else f"a backward ({e.note})")
    return f"{name} in {e.where}" if e.where else name
