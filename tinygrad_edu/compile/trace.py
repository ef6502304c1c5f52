"""Running a function under the tracer: the forward as the user wrote it, then the
backward through the engine, node by node, so that the backward's primitives are recorded
too (every backward is written in Tensor ops: the derivative comes from the one place it is
written, never from a second copy here).

How each node's backward reaches the generated code (`backward_mode`):
- "kernel": the primitive has a fast kernel (`kernels.KERNELS`); the code calls it by name;
- "traced": the primitive's backward only combines its inputs, output and gradient with
  constants that depend on shapes alone (the `TRACED_BACKWARDS` list below, read op by op):
  its recorded primitives are emitted line by line;
- "call": any other backward (one that builds a mask from values, as `Max`, `Abs`,
  `Maximum` do, or a user's `Function`): the code calls the primitive's own `backward` on
  the arrays of this call, so a value-dependent mask is rebuilt every time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu._hooks import hooks_of
from tinygrad_edu.compile.tracer import Entry, TraceError, Tracer
from tinygrad_edu.engine import backpropagate
from tinygrad_edu.engine_steps import Step
from tinygrad_edu.function import Function
from tinygrad_edu.kernels import KERNELS
from tinygrad_edu.modes import _GradMode, _state
from tinygrad_edu.ops import elementwise as el
from tinygrad_edu.ops import (
    indexing,
    linalg,
    matrix,
    movement,
    reduce,
    rounding,
    special,
    trig,
    windows,
)
from tinygrad_edu.tensor import Tensor

#: primitives whose backward uses only Tensor ops on (inputs, output, grad) and constants
#: that depend on shapes alone (checked by reading each backward; the second trace with
#: other values checks it again)
TRACED_BACKWARDS: frozenset[type[Function]] = frozenset({
    el.Add, el.Sub, el.Mul, el.Div, el.Neg, el.Exp, el.Log, el.Log1p, el.Sqrt, el.Sigmoid,
    el.Tanh, el.Where, el.Cast, el.Copy, el.Sign,
    reduce.Sum, movement.Reshape, movement.Permute, movement.Expand, movement.GetItem,
    movement.IndexAdd, movement.IndexPut, movement.Pad, movement.Concat,
    linalg.MatMul, linalg.Einsum,
    special.Exp2, special.Log2, special.Log10, special.Expm1, special.Erf, special.Erfc,
    trig.Sin, trig.Cos, trig.Tan, trig.Hypot,
    rounding.Floor, rounding.Ceil, rounding.Trunc, rounding.Round,
    indexing.Diagonal, indexing.DiagonalScatter,
    windows.SlidingWindows, windows.FoldWindows,
    matrix.Inv, matrix.Solve, matrix.Det, matrix.LogAbsDet, matrix.Cholesky,
})


def backward_mode(op: type[Function]) -> str:
    if op in KERNELS:
        return "kernel"
    return "traced" if op in TRACED_BACKWARDS else "call"


@dataclass
class Trace:
    """One run of the function under the tracer."""

    tracer: Tracer
    out: int  # the output's slot
    n_inputs: int  # slots 0 .. n_inputs - 1 are the inputs (captured leaves come later)
    input_slots: list[int]
    needs: list[bool]  # per input: does its gradient reach the backward
    grad_slot: int | None = None  # the upstream gradient's slot
    input_grads: list[Any] = field(default_factory=list)  # per input: its gradient's ref
    backward_start: int = 0  # entries from here on are the backward's
    grad_of: dict[int, int] = field(default_factory=dict)  # gradient slot -> forward slot
    paths: dict[int, int] = field(default_factory=dict)  # a summed gradient's path count
    entry_of_node: dict[int, int] = field(default_factory=dict)  # id(node) -> entry index
    #: (constant, slot): a tensor from outside changed in place, and its new value
    updates: list[tuple[int, int]] = field(default_factory=list)


class TracingStep(Step):
    """The engine's per-node step, writing down how each node's backward was computed."""

    def __init__(self, trace: Trace) -> None:
        super().__init__(create_graph=False, fill_retained=False)
        self.tape = None  # a drawing tape around the call must not see the trace's pass
        self.trace = trace
        self.summed: dict[int, int] = {}  # forward slot -> gradients summed for it so far
        self.target: dict[int, int] = {}  # id of a gradient -> the forward slot it is for

    def run(self, node: Function, grad: Tensor | None) -> Sequence[Tensor | None]:
        tracer, trace = self.trace.tracer, self.trace
        index = trace.entry_of_node.get(id(node))
        if index is None:
            raise TraceError(f"compile: the backward reached a {node.op} node that was not "
                             "recorded in the trace (a graph built outside the function)")
        out = node.output_if_alive()
        if hooks_of(node) or (out is not None and out._retains_grad):
            raise TraceError(f"compile: the output of {node.op} has a hook or retain_grad(); "
                             "the compiled backward cannot call it")
        start = len(tracer.entries)
        grads = super().run(node, grad)
        if grad is None:
            return grads
        entry = tracer.entries[index]
        forward_ins = entry.ins
        mode = backward_mode(type(node))
        for e in tracer.entries[start:]:  # the backward's lines carry the node's place
            e.where = entry.where
        if mode != "traced":
            del tracer.entries[start:]
            outs = [None if g is None else tracer.new_slot(g) for g in grads]
            for g in grads:  # arrays from a kernel: later ops on them must be recorded
                if g is not None and g.array.dtype.kind == "f":
                    g.requires_grad = True
            tracer.entries.append(Entry(None, [tracer.ref(grad, node.op)], {}, None,
                                        where=entry.where, outs=outs, node=index, note=mode))
        for g, (kind, k) in zip(grads, forward_ins):
            if g is not None and kind == "slot":
                # the engine sums a gradient into its input's right after this run: `add`
                # reads which input (one tensor may be the gradient of two: x - m passes
                # its gradient on unchanged)
                self.target[id(g)] = k
                slot = tracer.slot_of.get(id(g))
                if slot is not None and slot not in trace.grad_of:
                    trace.grad_of[slot] = k
                    trace.paths.setdefault(slot, 1)
        return grads

    def add(self, a: Tensor, b: Tensor) -> Tensor:
        total = super().add(a, b)
        st = self.trace.tracer.slot_of.get(id(total))
        k = self.target.get(id(b))
        if st is not None and k is not None:  # the sum of the paths that reached k so far
            self.summed[k] = self.summed.get(k, 1) + 1
            self.trace.grad_of[st] = k
            self.trace.paths[st] = self.summed[k]
        return total


def readable_paths(module: Any) -> dict[str, str]:
    """Module paths as names: a numbered child of a Sequential is named after its class
    (`0` -> `linear0`, `body.1` -> `body.relu1`)."""
    names: dict[str, str] = {}
    for path, m in module.named_modules():
        if not path:
            continue
        parent, _, last = path.rpartition(".")
        label = f"{type(m).__name__.lower()}{last}" if last.isdigit() else last
        names[path] = f"{names[parent]}.{label}" if parent else label
    return names


def parameter_names(module: Any, prefix: str = "") -> dict[int, str]:
    """`fc1.weight` -> `fc1_weight` (`0.weight` -> `linear0_weight`), by id."""
    paths = readable_paths(module)
    out = {}
    named = [*module.named_parameters(), *module.named_buffers()]
    for name, p in named:
        if p is None:
            continue
        owner, _, last = name.rpartition(".")
        readable = f"{paths.get(owner, owner)}.{last}" if owner else last
        out[id(p)] = f"{prefix}{readable}".replace(".", "_")
    return out


#: what compile calls on a module: an object whose class has all of these is one
_MODULE_METHODS = ("named_buffers", "named_parameters", "named_modules", "modules",
                   "parameters", "forward")


def is_module(obj: Any) -> bool:
    """Is `obj` an `nn.Module`, recognised by what compile uses of one (its class's
    `forward`, `parameters`, `named_parameters`, `named_buffers`, `modules`,
    `named_modules`, and its boolean `training`) rather than by importing nn: the compile
    package is core, below nn, and nn's `compiled` module builds on it. A class is not a
    module (its methods are looked up on the type of `obj`)."""
    cls = type(obj)
    return all(callable(getattr(cls, m, None)) for m in _MODULE_METHODS) and \
        isinstance(getattr(obj, "training", None), bool)


def referenced_modules(fn: Any) -> dict[str, Any]:
    """The modules a function refers to by a global or a closure variable, by variable
    name (`net` in `lambda x, y: F.cross_entropy(net(x), y)`); a bound method's module as
    ''."""
    owner = getattr(fn, "__self__", None)
    if is_module(owner):  # a bound method (model.loss): the module's own names
        return {"": owner}
    if is_module(fn):
        return {"": fn}
    code = getattr(fn, "__code__", None)
    if code is None:
        return {}
    found: dict[str, Any] = {}
    globals_ = getattr(fn, "__globals__", {})
    for name in code.co_names:
        if is_module(globals_.get(name)):
            found[name] = globals_[name]
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            if is_module(cell.cell_contents):
                found[name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    return found


def argument_names(fn: Callable[..., Any], count: int) -> list[str]:
    """The Python parameter names of the first `count` positional arguments."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(count):
        if i < len(params) and params[i].kind != params[i].VAR_POSITIONAL:
            names.append(params[i].name)
        else:
            names.append(f"arg{i}")
    return names


def run_trace(call: Callable[..., Any], args: list[Any], arg_slots: list[int | None],
              named: list[tuple[str, Tensor]], arg_names: list[str], needs: list[bool],
              seed: Callable[[tuple[int, ...], np.dtype], np.ndarray] | None
              ) -> tuple[Trace, Any]:
    """Trace `call(*args)`: `args` holds fresh tensors at the positions in `arg_slots`
    (None: a non-tensor argument), `named` the parameters and buffers (read live); `needs`
    says, per input, whether the compiled backward must give its gradient.
    `seed(shape, dtype)` makes the upstream gradient the backward is traced with.

    Every float input requires grad during the trace, and the backward is traced with the
    gradients requiring grad too: the Tensor front end skips the primitives for tensors
    that need no gradient (a broadcast becomes a bare numpy view), and the tracer must see
    every one. The gradients nobody asked for are dropped from the generated code."""
    tracer = Tracer()
    for var, module in referenced_modules(call).items():
        tracer.captured_names.update(parameter_names(module, f"{var}_" if var else ""))
        tracer.path_names.update(readable_paths(module))
    slots: list[int] = []
    for i, a in enumerate(args):
        if arg_slots[i] is not None:
            slots.append(tracer.add_input(a, arg_names[i]))
    for name, t in named:
        slots.append(tracer.add_input(t, name.replace(".", "_")))
    n_inputs = len(slots)
    flags = [t.requires_grad for _, t in named]
    previous = _state.trace
    _state.trace = tracer
    try:
        for s in slots:
            t = tracer.tensors[s]
            if t.dtype.kind == "f" and not t.requires_grad:
                t.requires_grad = True
        with _GradMode(True):
            result = call(*args)
        _check_arguments_unchanged(tracer, slots)
        if not isinstance(result, Tensor):
            raise TraceError(f"compile: the function returned a {type(result).__name__}; a "
                             "compiled function returns one Tensor")
        out = tracer.slot_of.get(id(result))
        if out is not None and out in slots:
            raise TraceError("compile: the function returns one of its inputs unchanged; "
                             "there is nothing to compile")
        if out is None:
            raise TraceError("compile: the function's result is not computed from its inputs "
                             "by tensor ops (it is a constant); there is nothing to compile")
        trace = Trace(tracer, out, n_inputs, slots, list(needs), updates=tracer.updates())
        trace.input_slots = slots + [tracer.slot_of[id(t)] for t in tracer.captured]
        trace.needs = list(needs) + [True] * len(tracer.captured)
        trace.entry_of_node = {id(e.fn): i for i, e in enumerate(tracer.entries)
                               if e.op is not None}
        trace.backward_start = len(tracer.entries)
        if result._ctx is not None and seed is not None and any(trace.needs):
            _trace_backward(trace, result, seed(result.shape, result.dtype))
    finally:
        _state.trace = previous
        tracer.restore()
        for (_, t), flag in zip(named, flags):
            t.requires_grad = flag
    return trace, result


def _check_arguments_unchanged(tracer: Tracer, slots: list[int]) -> None:
    """An argument or parameter changed in place by the function (`labels.add_(1)`): the
    generated code computes on values and would not change the caller's tensor."""
    for s in slots:
        t = tracer.tensors[s]
        if t._version != tracer.versions[s]:
            raise TraceError(f"compile: the function changes its input "
                             f"{tracer.input_names[s]!r} (shape {t.shape}) in place; the "
                             "generated code would not repeat that change on the caller's "
                             "tensor: change a copy (x = x.clone()) or use the out-of-place op")


def _trace_backward(trace: Trace, result: Tensor, seed: np.ndarray) -> None:
    tracer = trace.tracer
    tracer.phase = "backward"
    grad = Tensor._wrap(seed)
    grad.requires_grad = True  # so every op on gradients goes through a primitive
    trace.grad_slot = tracer.new_slot(grad)
    assert result._ctx is not None
    with _GradMode(True):
        grads = backpropagate({result._ctx: grad}, TracingStep(trace))
    trace.input_grads = []
    for slot, needs in zip(trace.input_slots, trace.needs):
        g = grads.get(tracer.tensors[slot]) if needs else None
        trace.input_grads.append(None if g is None else tracer.ref(g, "backward"))
