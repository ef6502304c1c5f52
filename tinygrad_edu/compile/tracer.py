"""The tracer: while `modes._state.trace` holds one, `Function.apply` hands it every
primitive it runs, and it writes them down as a list of `Entry`s over numbered *slots*.

A slot is a value the compiled code computes on every call: an input (an argument, a
parameter, a buffer) or the output of a recorded primitive. Anything else that enters a
primitive is a *constant*, baked into the generated code (a Python scalar turned into a
tensor, a padding of zeros, a mask). Whether a constant really is constant (it does not
depend on the inputs) is checked afterwards by tracing again with other input values
(`compile.checks`).

Reading a traced tensor's value (`item()`, `bool()`, `tolist()`, `numpy()`) raises: the
trace is a straight line and cannot take the other branch. The library's own value checks
(a label out of range, probabilities outside [0, 1]) register instead as *guards*
(`modes.value_check`), which the generated code evaluates on every call.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu.function import Function
from tinygrad_edu.ops.movement import GetItem, IndexAdd, IndexPut
from tinygrad_edu.ops.values import ValueConstant

#: indexing primitives, whose integer index arrays may be arguments read per call
INDEXING = frozenset({GetItem, IndexAdd, IndexPut})


class TraceError(RuntimeError):
    """What `compile` cannot capture, raised at trace time with what and why."""


#: the slot reference of an entry's input: ("slot", k) or ("const", index into consts)
Ref = tuple[str, int]


@dataclass
class Entry:
    """One recorded step: a primitive `op` on `ins` giving slot `out`, or (op None) a
    node's whole backward, or a guard (`guard` set)."""

    op: type[Function] | None
    ins: list[Ref]
    attrs: dict[str, Any]
    out: int | None
    fn: Any = None  # the Function instance (its forward set attributes backward reads)
    where: str = ""  # module path, or the composite's name
    guard: Any = None  # (check, kwargs, outcome) for a guard entry
    outs: list[int | None] = field(default_factory=list)  # a backward entry's gradients
    node: int | None = None  # a backward entry: the index of the forward entry it undoes
    note: str = ""  # a comment for the generated line
    #: attribute arrays that are slots' values (id of the array -> slot): computed per call
    arrays: dict[int, int] = field(default_factory=dict)


@dataclass
class Constant:
    """A value that entered a primitive without being a slot."""

    array: np.ndarray
    tensor: Any  # weakref to the Tensor it came in (None if it did not live past the trace)
    version: int


class Tracer:
    """Records primitives into `entries` (see the module docstring)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.tensors: list[Any] = []  # slot -> Tensor (kept alive: ids stay unique)
        self.aliases: list[Any] = []  # tensors that share a slot (detach()), kept alive
        self.alias_versions: dict[int, int] = {}  # their versions then
        self.const_alias: dict[int, int] = {}  # id -> constant: reads an outside tensor
        self.saved: list[tuple[Any, np.ndarray, int]] = []  # (tensor, value, version)
        self.updated: list[Any] = []  # outside tensors changed in place
        self.generators: list[tuple[Any, Any]] = []  # (generator, state before the trace)
        self.versions: list[int] = []
        self.slot_of: dict[int, int] = {}
        #: id of the array a `ValueConstant` made -> its slot: an attribute that *is* such
        #: an array (a `Where` condition, topk's indices) is that slot, computed per call.
        #: (Other arrays in attributes, an index tensor passed in, stay constants that the
        #: second traces must find unchanged: the library checks their range on values.)
        self.array_slot: dict[int, int] = {}
        self.index_slot: dict[int, int] = {}  # the same for integer arguments' arrays
        self.consts: list[Constant] = []
        self.const_of: dict[int, int] = {}
        self.input_names: list[str] = []
        self.input_slots: list[int] = []
        self.captured: list[Any] = []  # leaves requiring grad met as constants
        #: names for captured leaves (the parameters of modules the function refers to)
        self.captured_names: dict[int, str] = {}
        #: module paths as names for the generated code (`0` -> `linear0`)
        self.path_names: dict[str, str] = {}
        self.phase = "forward"

    # ------------------------------------------------------------------ slots
    def add_input(self, t: Any, name: str) -> int:
        slot = self.new_slot(t)
        if t.array.dtype.kind in "iu":  # an index array an indexing node may read per call
            self.index_slot[id(t.array)] = slot
        self.input_names.append(name)
        self.input_slots.append(slot)
        return slot

    def new_slot(self, t: Any) -> int:
        self.tensors.append(t)
        self.versions.append(t._version)
        self.slot_of[id(t)] = len(self.tensors) - 1
        return len(self.tensors) - 1

    def alias(self, t: Any, of: Any) -> None:
        """`t` now holds the value of `of` (`detach()`; an in-place op's snapshot of the old
        value, then the tensor changed in place holding the new one): it reads what `of`
        reads, a slot, or a tensor from outside the function (a running statistic) as a
        constant by reference. (One changed in place unseen since stays `t`'s own.)"""
        slot = self.slot_of.get(id(of))
        self.aliases.append(t)  # kept alive, so that its id stays unique
        if slot is None:
            kind, k = self.ref(of, "a view or copy")
            if kind == "const":
                self.const_alias[id(t)] = k
                return
            slot = k
        if of._version == self.version_of(of, slot):
            self.slot_of[id(t)] = slot
            self.alias_versions[id(t)] = t._version

    def changing(self, t: Any) -> None:
        """`t` is about to be changed in place. An argument, or a tensor from outside the
        function (a running statistic, read as a constant by reference), gets its value and
        version back after the trace (`restore`); the generated forward writes an outside
        tensor's new value into it on every call (`updates`)."""
        slot = self.slot_of.get(id(t))
        if slot is not None and slot not in self.input_slots or \
                any(u is t for u, _, _ in self.saved):
            return
        self.saved.append((t, t.array.copy(), t._version))
        if slot is None:
            self.ref(t, "an in-place op")  # its array becomes a constant, by reference
            self.updated.append(t)

    def updates(self) -> list[tuple[int, int]]:
        """(constant, slot): each outside tensor changed in place, and its new value."""
        out = []
        for t in self.updated:
            slot = self.slot_of.get(id(t))
            if slot is None:
                raise TraceError(f"compile: a tensor of shape {t.shape} from outside the "
                                 "function was changed in place in a way compile cannot "
                                 "replay; change it outside the compiled function")
            out.append((self.const_of[id(t)], slot))
        return out

    def drawing(self, rng: np.random.Generator) -> None:
        """A random op is about to draw from `rng`: keep its state to restore (the compiled
        call draws afterwards, from where eager would)."""
        if all(r is not rng for r, _ in self.generators):
            self.generators.append((rng, copy.deepcopy(rng.bit_generator.state)))

    def restore(self) -> None:
        """Undo the trace's in-place changes to arguments and outside tensors, and its
        random draws."""
        for rng, state in self.generators:
            rng.bit_generator.state = state
        for t, array, version in self.saved:
            if t.array.shape == array.shape and t.array.flags.writeable:
                np.copyto(t.array, array)
            t._version = version

    def version_of(self, t: Any, slot: int) -> int:
        """The version t had when it came to stand for `slot`."""
        return self.alias_versions.get(id(t), self.versions[slot])

    def slot_arrays(self, cls: type[Function], attrs: dict[str, Any]) -> dict[int, int]:
        """The attribute arrays of a `cls` node that are slots' values, by id: arrays a
        `ValueConstant` made (a where condition, topk's indices), and for indexing the
        integer index arrays passed in as arguments (`weight[ids]`, as numpy and PyTorch
        index: no range check to repeat). Any other array stays a constant."""
        found: dict[int, int] = {}
        for value in _arrays_in(attrs):
            slot = self.array_slot.get(id(value))
            if slot is None and cls in INDEXING:
                slot = self.index_slot.get(id(value))
            if slot is None or self.tensors[slot].array is not value:
                continue
            if cls is GetItem and value.dtype == np.bool_:
                raise TraceError(f"compile: indexing with a boolean mask computed in the "
                                 f"function (shape {value.shape}) gives a result whose shape "
                                 "depends on the values; the generated code has fixed "
                                 "shapes: use torch.where or masked_fill instead")
            found[id(value)] = slot
        return found

    def ref(self, t: Any, op: str) -> Ref:
        slot = self.slot_of.get(id(t))
        if slot is not None:
            if t._version != self.version_of(t, slot):
                raise TraceError(f"compile: an input of {op} (shape {t.shape}) was changed in "
                                 "place during the trace; compile cannot replay in-place "
                                 "changes: use the out-of-place op")
            return ("slot", slot)
        if self.phase == "forward" and t.requires_grad:
            if t._ctx is not None:
                raise TraceError(
                    f"compile: {op} uses a tensor of shape {t.shape} that has a graph but was "
                    "not made by a recorded primitive: it was changed in place (x[i] = v, "
                    "masked_fill_, scatter_...; compile cannot replay in-place changes: use "
                    "the out-of-place op) or computed outside the compiled function (pass it "
                    "as an argument)")
            if t.array.dtype.kind == "f":  # a leaf that wants a gradient: an extra input
                self.captured.append(t)
                name = self.captured_names.get(id(t), f"captured_{len(self.captured)}")
                return ("slot", self.add_input(t, name))
        key = id(t)
        if key in self.const_alias:
            return ("const", self.const_alias[key])
        if key in self.const_of and self.consts[self.const_of[key]].tensor() is t:
            return ("const", self.const_of[key])
        self.consts.append(Constant(t.array, weakref.ref(t), t._version))
        self.const_of[key] = len(self.consts) - 1
        return ("const", len(self.consts) - 1)

    # ------------------------------------------------------------------ hooks
    def record(self, cls: type[Function], tensors: list[Any], attrs: dict[str, Any],
               out: Any, fn: Any) -> None:
        """`Function.apply` ran `cls` on `tensors`: write it down."""
        from tinygrad_edu.modes import _state

        ins = [self.ref(t, cls.__name__) for t in tensors]
        where = _state.module_path or (_state.composite.name.lower() if _state.composite
                                       else "")
        arrays = self.slot_arrays(cls, attrs)
        self.entries.append(Entry(cls, ins, dict(attrs), self.new_slot(out), fn, where,
                                  arrays=arrays))
        if cls is ValueConstant:
            self.array_slot[id(out.array)] = len(self.tensors) - 1

    def record_inplace(self, cls: type[Function], ref: Ref, attrs: dict[str, Any], t: Any,
                       fn: Any) -> None:
        """`Function.apply_inplace` changed t (`relu_`): recorded as the out-of-place op,
        t's new value a new slot (the generated code never writes in place)."""
        from tinygrad_edu.modes import _state

        where = _state.module_path or (_state.composite.name.lower() if _state.composite
                                       else "")
        self.entries.append(Entry(cls, [ref], dict(attrs), self.new_slot(t), fn, where))

    def refuse(self, what: str,
               hint: str = "use the out-of-place op inside a compiled function") -> None:
        raise TraceError(f"compile: {what} cannot be traced: the generated code would not "
                         f"repeat it; {hint}")

    def read_value(self, t: Any, how: str) -> None:
        """A tensor's value is read back into Python: an error for a traced tensor."""
        if id(t) in self.slot_of:
            raise TraceError(
                f"compile: {how} reads the value of a traced tensor of shape {t.shape}: a "
                "branch on a tensor's value (if, while, item(), float(), bool()) is traced "
                "once with the values of the first call, as torch.jit.trace, and would "
                "silently take the same branch on every later call; so it is an error. Use "
                "tensor ops instead (torch.where, clamp, masks), or call the function "
                "uncompiled")

    def guard(self, check: Callable[..., Any], tensors: tuple[Any, ...],
              kwargs: dict[str, Any], outcome: Any) -> None:
        """A library value check ran on `tensors`: repeat it on every call."""
        ins = [self.ref(t, getattr(check, "__name__", "check")) for t in tensors]
        if all(kind == "const" for kind, _ in ins):
            return  # on constants only: its outcome cannot change
        self.entries.append(Entry(None, ins, {}, None, guard=(check, kwargs, outcome),
                                  note=getattr(check, "__name__", "check")))


def _arrays_in(value: Any) -> list[np.ndarray]:
    """The arrays in an attribute value (nested in tuples, lists and dicts, as an index)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, tuple | list):
        return [a for v in value for a in _arrays_in(v)]
    return []


class Diverged(Exception):  # noqa: N818  (control flow, not an error the user sees)
    """A guard's branch came out otherwise than at trace time: run this call eagerly."""
