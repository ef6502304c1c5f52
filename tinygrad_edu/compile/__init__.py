"""`tinygrad_edu.compile(fn_or_module)`: a model's forward and backward as plain numpy code.

The first call with given input shapes and dtypes *traces*: it runs the function with the
tracer on (`Function.apply` hands it every primitive), runs the backward through the engine
the same way, and writes both out as two numpy functions (`.source` shows them). Later calls
with the same shapes run the generated forward; `loss.backward()` through its output runs
the generated backward as one graph node (`runtime.CompiledFunction`), so optimizers,
`zero_grad`, schedulers and the Solver work unchanged. docs/compile.md has the whole story:
what cannot be traced (an error at trace time, never a silent wrong answer), the guards,
randomness, and the benchmarks.
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
from tinygrad_edu.compile.trace import argument_names, parameter_names, run_trace
from tinygrad_edu.compile.tracer import Diverged, TraceError
from tinygrad_edu.compile.verify import compare, other_values
from tinygrad_edu.modes import _state, no_grad
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = ["Compiled", "CompiledModule", "TraceError", "compile"]

#: traces of one compiled function after which a warning says it keeps retracing
RETRACE_WARNING = 8


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: Any = None, mode: str | None = None, options: Any = None,
            disable: bool = False, **kwargs: Any) -> Any:
    """Compile a function of tensors, or an `nn.Module` (its forward, with its parameters
    as inputs), into generated numpy code; as `torch.compile`, it returns a callable (a
    Module for a Module), `torch.compile(**options)` returns a decorator, and
    `disable=True` returns the model itself. The other options are PyTorch's (`mode=`,
    `fullgraph=`, `dynamic=`, `backend=`...), accepted and changing nothing here."""
    if model is None:
        return lambda m: compile(m, disable=disable)
    if disable:
        return model
    fn = model
    if isinstance(fn, Module):
        return CompiledModule(fn)
    return Compiled(fn)


class CompiledModule(Module):
    """A compiled `nn.Module`, itself a Module (as PyTorch's `OptimizedModule`): its
    parameters, `state_dict` (keys prefixed `_orig_mod.`, as PyTorch's), `train()`/`eval()`
    are the original module's, so optimizers and the Solver take it as they take the model;
    calling it runs the generated code. Other attributes are the original module's."""

    def __init__(self, module: Module) -> None:
        super().__init__()
        self._orig_mod = module
        self.__dict__["_compiled"] = Compiled(module)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.__dict__["_compiled"](*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)  # no module scope: names are the module's own

    @property
    def source(self) -> str:
        """The generated code of the last trace."""
        return str(self.__dict__["_compiled"].source)

    @property
    def traces(self) -> int:
        return int(self.__dict__["_compiled"].traces)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_modules"]["_orig_mod"], name)


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
        self.__dict__["_module"] = fn if isinstance(fn, Module) else None
        self.__dict__["_cache"] = {}
        self.__dict__["traces"] = 0
        self.__dict__["source"] = ""
        self.__dict__["_warned"] = False

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
                    return CompiledFunction.apply(*inputs, program=program)
            return CompiledFunction.apply(*inputs, program=program)
        except Diverged:  # a library check's branch came out otherwise: run it eagerly
            return self._fn(*args)

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
            parts.append(tuple((n, id(b.array), b._version) for n, b in self._buffers()))
        parts.append(_state.default_dtype)
        return tuple(parts)

    # ------------------------------------------------------------------ tracing
    def _trace(self, args: tuple[Any, ...], tensors: list[Tensor | None],
               named: list[tuple[str, Tensor]], target: Callable[..., Any]) -> Any:
        self.__dict__["traces"] = self.traces + 1
        if self.traces > RETRACE_WARNING + 1 and not self._warned:
            self.__dict__["_warned"] = True
            warnings.warn(f"compile: {self._name()} was traced {self.traces} times (new input "
                          "shapes, dtypes or Python arguments each time); each trace costs "
                          "about two eager calls", UserWarning, stacklevel=3)
        names = argument_names(target, len(args))
        readable = parameter_names(self._module) if self._module is not None else {}
        named = [(readable.get(id(t), n), t) for n, t in named]
        slots = [i if t is not None else None for i, t in enumerate(tensors)]
        generators = _generator_states()
        buffers = [(n, t.array.copy()) for n, t in self._buffers()]

        def fresh_args(values: list[np.ndarray | None]) -> list[Any]:
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

        needs = [t.requires_grad for t in tensors if t is not None] + \
            [t.requires_grad for _, t in named]
        first, _ = run_trace(self._fn, fresh_args([None] * len(args)), slots, named, names,
                             needs, np.ones)
        for (n, before), (_, t) in zip(buffers, self._buffers()):
            if not np.array_equal(before, t.array, equal_nan=True):
                raise TraceError(f"compile: the buffer {n!r} changed during the call (e.g. "
                                 "BatchNorm's running statistics in training mode): compile "
                                 "cannot replay an update made in place; compile the model "
                                 "in eval() mode or call it uncompiled")
        rng = np.random.default_rng(0)
        arrays = [t.array for _, t in named]
        others = []
        try:
            for kind in range(4):
                for (_, t), a in zip(named, arrays):
                    t.array = other_values(a, rng, kind)
                values = [None if t is None else other_values(t.array, rng, kind)
                          for t in tensors]
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")  # overflow in exp(1000 x) is expected
                        other, _ = run_trace(self._fn, fresh_args(values), slots, named, names,
                                             needs, lambda shape, dtype:
                                             rng.standard_normal(shape).astype(dtype))
                except TraceError:
                    raise
                except Exception:  # noqa: BLE001  (outside the domain: try the next kind)
                    continue
                others.append(other)
        finally:
            for (_, t), a in zip(named, arrays):
                t.array = a
            _restore_generators(generators)
        if not others:
            raise TraceError("compile: tracing again with other input values (to check that "
                             "the constants do not depend on them) failed for every set of "
                             "values tried (permuted, scaled, negated, redrawn)")
        for other in others:
            compare(first, other)
        program = Program(first)
        self.__dict__["source"] = program.build()
        return _Built(program)

    def _name(self) -> str:
        fn = self._fn
        return type(fn).__name__ if self._module is not None else getattr(fn, "__name__", "fn")


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
        elif isinstance(obj, Module):
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
        program.trace = None  # type: ignore[assignment]  # let the trace's values go

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

