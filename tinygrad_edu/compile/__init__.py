"""`Compiled(fn_or_module)`: a model's forward and backward as plain numpy code.

The first call with given input shapes and dtypes *traces*: it runs the function with the
tracer on (`Function.apply` hands it every primitive), runs the backward through the engine
the same way, and writes both out as two numpy functions (`.source` shows them). Later calls
with the same shapes run the generated forward; `loss.backward()` through its output runs
the generated backward as one graph node (`runtime.CompiledFunction`), so optimizers,
`zero_grad`, schedulers and the Solver work unchanged. docs/compile.md has the whole story:
what cannot be traced (an error at trace time, never a silent wrong answer), the guards,
randomness, and the benchmarks.

This package is core: it imports nothing from nn and knows a module by what it calls on one
(`trace.is_module`). The entry point, `tinygrad_edu.compile(fn_or_module)`, and
`CompiledModule`, the Module that wraps a compiled module's forward (as PyTorch's
`OptimizedModule`), live in `tinygrad_edu.nn.compiled`, which builds on this one.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.compile.codegen import Program
from tinygrad_edu.compile.runtime import CompiledFunction
from tinygrad_edu.compile.trace import (
    Trace,
    argument_names,
    is_module,
    parameter_names,
    run_trace,
)
from tinygrad_edu.compile.tracer import Diverged, TraceError
from tinygrad_edu.compile.verify import compare, other_values
from tinygrad_edu.modes import _state, no_grad
from tinygrad_edu.tensor import Tensor

__all__ = ["Compiled", "TraceError", "is_module"]

#: makes the upstream gradient a backward is traced with, from its shape and dtype
Seed = Callable[[tuple[int, ...], np.dtype], np.ndarray]
#: one traced run of the compiled function: the tensor arguments' values (None: the
#: argument's own) and the seed of its backward -> the trace
Run = Callable[[list[np.ndarray | None], Seed], Trace]

#: traces of one compiled function after which a warning says it keeps retracing
RETRACE_WARNING = 8


class Compiled:
    """A compiled function or module (see the module docstring).

    `source` is the generated code of the last trace; `traces` counts the traces so far.
    Attributes other than these are the module's own (`compiled.fc1` is `model.fc1`).
    """

    def __init__(self, fn: Any) -> None:
        if not callable(fn):
            raise TypeError(f"compile: expected a function or an nn.Module, got "
                            f"{type(fn).__name__}")
        self.__dict__["_fn"] = fn
        self.__dict__["_module"] = fn if is_module(fn) else None
        self.__dict__["_cache"] = {}
        self.__dict__["traces"] = 0
        self.__dict__["source"] = ""
        self.__dict__["_warned"] = False
        self.__dict__["_own"] = {}  # id(tensor) -> version changes made by compiled calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_fn"], name)

    def __repr__(self) -> str:
        return f"Compiled({self._fn!r})"

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        target = self._module.forward if self._module is not None else self._fn
        if kwargs:
            args = tuple(inspect.signature(target).bind(*args, **kwargs).args)
        named = self._named()
        tensors = [a if isinstance(a, Tensor) else Tensor(a) if isinstance(a, np.ndarray)
                   else None for a in args]
        key = self._key(args, tensors, named)
        program = self._cache.get(key)
        if program is not None and not program.constants_unchanged():
            program = None  # a tensor baked in as a constant was changed: trace again
        if program is None:
            program = self._trace(args, tensors, named, target)
            self._cache[key] = program
        inputs = [t for t in tensors if t is not None] + [t for _, t in named] + \
            program.captured
        try:
            if "backward" not in program.namespace:  # no gradient flows: no graph, as eager
                with no_grad():
                    out = CompiledFunction.apply(*inputs, program=program)
            else:
                out = CompiledFunction.apply(*inputs, program=program)
        except Diverged:  # a library check's branch came out otherwise: run it eagerly
            return self._fn(*args)
        self._count_updates(program)
        return out

    def _count_updates(self, program: Any) -> None:
        """The generated forward wrote new values into tensors from outside (running
        statistics): count the change in their versions, as eager's in-place update does.
        This program reads them by reference, so its own record moves on with them; a
        cache key discounts the changes compiled calls made (`_own`)."""
        for t in program.updated_tensors():
            t._bump_version()
            program.refresh(t)
            self._own[id(t)] = self._own.get(id(t), 0) + 1

    def _named(self) -> list[tuple[str, Tensor]]:
        if self._module is None:
            return []
        return list(self._module.named_parameters())

    def _buffers(self) -> list[tuple[str, Tensor]]:
        """The module's buffers (running statistics): baked in as constants, their identity
        and version part of the cache key, so a change (training) traces again."""
        if self._module is None:
            return []
        return [(n, b) for n, b in self._module.named_buffers() if isinstance(b, Tensor)]

    def _key(self, args: tuple[Any, ...], tensors: list[Tensor | None],
             named: list[tuple[str, Tensor]]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for a, t in zip(args, tensors):
            parts.append((t.shape, t.dtype, t.requires_grad) if t is not None
                         else ("value", type(a), repr(a)))
        for name, t in named:
            parts.append((name, t.shape, t.dtype, t.requires_grad))
        if self._module is None:
            parts.append(bindings(self._fn))
        if self._module is not None:
            parts.append(tuple(m.training for m in self._module.modules()))
            parts.append(tuple((n, id(b.array), b._version - self._own.get(id(b), 0))
                               for n, b in self._buffers()))
        parts.append(_state.default_dtype)
        return tuple(parts)

    # ------------------------------------------------------------------ tracing
    def _trace(self, args: tuple[Any, ...], tensors: list[Tensor | None],
               named: list[tuple[str, Tensor]], target: Callable[..., Any]) -> Any:
        """Trace a call with these arguments into a program: once with the values given,
        then with other values (`_other_traces`), which must record the same primitives and
        constants (`verify.compare`); the first trace is written out as the program."""
        self._count_trace()
        names = argument_names(target, len(args))
        readable = parameter_names(self._module) if self._module is not None else {}
        named = [(readable.get(id(t), n), t) for n, t in named]
        slots = [i if t is not None else None for i, t in enumerate(tensors)]
        needs = [t.requires_grad for t in tensors if t is not None] + \
            [t.requires_grad for _, t in named]

        def run(values: list[np.ndarray | None], seed: Seed) -> Trace:
            trace, _ = run_trace(self._fn, _fresh_args(args, tensors, values), slots, named,
                                 names, needs, seed)
            return trace

        generators = _generator_states()
        buffers = [(n, t.array.copy()) for n, t in self._buffers()]
        first = run([None] * len(args), np.ones)
        _check_buffers(buffers, self._buffers())
        for other in _other_traces(run, tensors, named, generators):
            compare(first, other)
        program = Program(first)
        self.__dict__["source"] = program.build()
        return _Built(program)

    def _count_trace(self) -> None:
        """Count a trace; past `RETRACE_WARNING` retraces, warn once that it keeps
        retracing (at the caller of the compiled function)."""
        self.__dict__["traces"] = self.traces + 1
        if self.traces > RETRACE_WARNING + 1 and not self._warned:
            self.__dict__["_warned"] = True
            warnings.warn(f"compile: {self._name()} was traced {self.traces} times (new input "
                          "shapes, dtypes or Python arguments each time); each trace costs "
                          "about two eager calls", UserWarning, stacklevel=4)

    def _name(self) -> str:
        fn = self._fn
        return type(fn).__name__ if self._module is not None else getattr(fn, "__name__", "fn")


def _fresh_args(args: tuple[Any, ...], tensors: list[Tensor | None],
                values: list[np.ndarray | None]) -> list[Any]:
    """The arguments of one traced run: a fresh leaf per tensor argument (holding `values`'
    array, or the argument's own where that is None), requiring grad as the argument does
    (float only); other arguments as given."""
    out = []
    for a, t, v in zip(args, tensors, values):
        if t is None:
            out.append(a)
            continue
        fresh = Tensor._wrap(t.array if v is None else v)
        if t.requires_grad and t.dtype.kind == "f":
            fresh.requires_grad = True
        out.append(fresh)
    return out


def _check_buffers(before: list[tuple[str, np.ndarray]],
                   after: list[tuple[str, Tensor]]) -> None:
    """Refuse a call that changed a buffer in place (compile cannot replay the update)."""
    for (n, old), (_, t) in zip(before, after):
        if not np.array_equal(old, t.array, equal_nan=True):
            raise TraceError(f"compile: the buffer {n!r} changed during the call (e.g. "
                             "BatchNorm's running statistics in training mode): compile "
                             "cannot replay an update made in place; compile the model "
                             "in eval() mode or call it uncompiled")


def _other_traces(run: Run, tensors: list[Tensor | None], named: list[tuple[str, Tensor]],
                  generators: Any) -> list[Trace]:
    """The function traced again with four other sets of values (`verify.other_values`:
    permuted, scaled, negated, redrawn) for the tensor arguments and the parameters, to
    check that the constants do not depend on them. A set outside the function's domain
    (an exception other than TraceError) is skipped; afterwards the parameters' arrays and
    the random generator (`generators`, saved before the first trace) are restored."""
    rng = np.random.default_rng(0)
    arrays = [t.array for _, t in named]
    others = []
    try:
        for kind in range(4):
            for (_, t), a in zip(named, arrays):
                t.array = other_values(a, rng, kind)
            values = [None if t is None else other_values(t.array, rng, kind)
                      for t in tensors]
            other = _trace_quietly(run, values, rng)
            if other is not None:
                others.append(other)
    finally:
        for (_, t), a in zip(named, arrays):
            t.array = a
        _restore_generators(generators)
    if not others:
        raise TraceError("compile: tracing again with other input values (to check that "
                         "the constants do not depend on them) failed for every set of "
                         "values tried (permuted, scaled, negated, redrawn)")
    return others


def _trace_quietly(run: Run, values: list[np.ndarray | None],
                   rng: np.random.Generator) -> Trace | None:
    """One trace with other values and a random upstream gradient, numpy's warnings off
    (overflow in exp(1000 x) is expected); None if the values are outside the function's
    domain (it raised something other than a TraceError)."""
    def seed(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return run(values, seed)
    except TraceError:
        raise
    except Exception:  # noqa: BLE001  (outside the domain: try the next kind)
        return None


def bindings(fn: Any) -> tuple[Any, ...]:
    """What a function reads besides its arguments, by identity: the tensors and modules
    its globals and closure variables name (with each module's parameters, its training
    mode) and a bound method's module. Part of the cache key: a rebound variable (`model`
    now another model) or a replaced parameter traces again instead of running the code
    generated for the old one."""
    found: list[Any] = []
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        found.append(owner)
    code = getattr(fn, "__code__", None)
    if code is not None:
        globals_ = getattr(fn, "__globals__", {})
        found += [globals_.get(name) for name in code.co_names]
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                found.append(cell.cell_contents)
            except ValueError:  # an empty cell
                continue
    key: list[Any] = []
    for obj in found:
        if isinstance(obj, Tensor):
            key.append(id(obj))
        elif is_module(obj):
            key.append((id(obj), tuple(id(p) for p in obj.parameters()),
                        tuple(m.training for m in obj.modules())))
    return tuple(key)


class _Built:
    """A generated program and what its calls need besides the arrays: the captured
    leaves, and the constants that came from tensors still alive (checked unchanged)."""

    def __init__(self, program: Program) -> None:
        tracer = program.trace.tracer
        self.namespace = program.namespace
        self.source = program.source
        self.captured = list(tracer.captured)
        captured = {id(t) for t in tracer.captured}
        self.live = [(c.tensor, c.array, c.version) for c in tracer.consts
                     if c.tensor() is not None and id(c.tensor()) not in captured]
        self.pruned = False
        self.updated = [tracer.consts[k].tensor for k, _ in program.trace.updates]
        program.trace = None  # type: ignore[assignment]  # let the trace's values go

    def updated_tensors(self) -> list[Tensor]:
        """The outside tensors the generated forward changes in place, still alive."""
        return [t for t in (ref() for ref in self.updated) if t is not None]

    def refresh(self, t: Tensor) -> None:
        """t was changed by this program's own call: its new version is the one to see."""
        self.live = [(ref, array, t._version if ref() is t else version)
                     for ref, array, version in self.live]

    def constants_unchanged(self) -> bool:
        if not self.pruned:  # the trace's own references are gone by the first call
            self.live = [c for c in self.live if c[0]() is not None]
            self.pruned = True
        for ref, array, version in self.live:
            t = ref()
            if t is not None and (t.array is not array or t._version != version):
                return False
        return True


def _generator_states() -> Any:
    return copy.deepcopy(_state.generator.bit_generator.state)


def _restore_generators(state: Any) -> None:
    _state.generator.bit_generator.state = state

