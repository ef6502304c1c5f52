"""From a `Trace` to two plain numpy functions, as Python source, compiled with `exec`.

    def forward(x, fc1_weight, ...):        # one line per primitive, in the order run
        ...
        return loss, (values the backward reads)

    def backward(grad_out, x, fc1_weight, ...):   # the engine's order
        ...
        return (d_fc1_weight, ...)          # one gradient per input (None: not wanted)

Names come from the inputs (arguments by their Python names, parameters by their module
names with `_` for `.`), from the module path and op of each intermediate (`fc1_out`, the
last value computed inside `fc1`; `fc1_linear` otherwise) and `d_<name>` for a gradient;
where the gradients from several paths meet, the sum is marked (`# dL/dW: sum of 2 paths`).
"""

from __future__ import annotations

import builtins
import keyword
import re
import types
from typing import Any

import numpy as np

from tinygrad_edu.compile import runtime
from tinygrad_edu.compile.buffers import IN_PLACE, BufferRules
from tinygrad_edu.compile.emitters import spell, template_line
from tinygrad_edu.compile.trace import Trace, backward_mode
from tinygrad_edu.compile.tracer import Entry, TraceError
from tinygrad_edu.kernels import KERNELS
from tinygrad_edu.ops import elementwise as el
from tinygrad_edu.ops.values import VALUE_NAMES, ValueConstant

#: shorter names for the values of a few primitives (`crossentropy_log_probs`)
SHORT_NAMES = {"LogSoftmax": "log_probs",
               "DropoutMask": "mask", "ConvIm2col": "conv", "WindowMax": "pool"}


def held_name(compute: Any) -> str:
    """The value of a held computation: `target_coef` (`ops.values.value_name`), or
    `held_<function>`."""
    return VALUE_NAMES.get(compute, f"held_{compute.__name__.lstrip('_')}")


def identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text).strip("_") or "t"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = "v_" + name
    if hasattr(builtins, name):  # `sum`, `pow`: readable, but not shadowing Python's
        name += "_"
    return name


class Program(BufferRules):
    """The generated source and the namespace it runs in."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.names: dict[int, str] = {}
        self.taken: set[str] = {"np", "grad_out"}
        self.namespace: dict[str, Any] = {"np": np}
        self.const_names: dict[int, str] = {}
        self.arrays: dict[int, int] = {}  # the entry being written: its arrays that are slots
        self.instance: dict[int, str] = {}  # forward entry -> name of its Function instance
        self.forward_lines: list[str] = []
        self.backward_lines: list[str] = []
        self.saved: list[int] = []  # forward slots the backward reads
        self.saved_instances: list[int] = []
        self.source = ""
        self.header: list[str] = []

    # ------------------------------------------------------------------ names
    def fresh(self, base: str) -> str:
        base = identifier(base)
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def const(self, array: Any) -> str:
        """The name of a constant in the namespace (listed with its value in the header),
        or of the value computed on every call when the array is a slot's (a condition
        `ValueConstant` made, an index tensor's array)."""
        if isinstance(array, types.FunctionType):
            return self.function_name(array)
        slot = self.arrays.get(id(array))
        if slot is not None:
            return self.names[slot]
        key = id(array)
        if key not in self.const_names:
            name = self.fresh(self.constant_name(array) or f"c{len(self.const_names)}")
            self.namespace[name] = array
            self.namespace.setdefault("_keep", []).append(array)  # its id() stays unique
            self.const_names[key] = name
            a = np.asarray(array)
            value = (repr(a.item()) if a.ndim == 0 else
                     f"array of shape {a.shape}" if a.size > 6 else str(a.tolist()))
            self.header.append(f"# {name} = {value} ({a.dtype})")
        return self.const_names[key]

    def constant_name(self, array: np.ndarray) -> str | None:
        """A constant from a named tensor (a module's buffer) is named after it."""
        tracer = self.trace.tracer
        for c in tracer.consts:
            t = c.tensor() if c.tensor is not None else None
            if c.array is array and t is not None and id(t) in tracer.captured_names:
                return tracer.captured_names[id(t)]
        return None

    def arg(self, ref: tuple[str, int]) -> str:
        kind, k = ref
        if kind == "const":
            return self.const(self.trace.tracer.consts[k].array)
        return self.names[k]

    def name_forward(self) -> None:
        tracer, trace = self.trace.tracer, self.trace
        for slot, name in zip(tracer.input_slots, tracer.input_names):
            self.names[slot] = self.fresh(name)
        last_of: dict[str, int] = {}
        for i, e in enumerate(tracer.entries[:trace.backward_start]):
            if e.op is not None and e.where:
                last_of[e.where] = i
        for i, e in enumerate(tracer.entries[:trace.backward_start]):
            if e.op is None or e.out is None:
                continue
            op = (held_name(e.attrs["compute"]) if e.op is ValueConstant
                  else SHORT_NAMES.get(e.op.__name__, e.op.__name__.lower()))
            where = tracer.path_names.get(e.where, e.where)
            if e.where and last_of.get(e.where) == i:
                base = f"{where}_out"
            else:
                base = f"{where}_{op}" if e.where else op
            self.names[e.out] = self.fresh(base)

    # ------------------------------------------------------------------ lines
    def primitive_line(self, index: int, e: Entry, out_name: str) -> str:
        assert e.op is not None
        self.arrays = e.arrays  # what `const` reads: the attribute arrays that are slots
        args = [self.arg(r) for r in e.ins]
        where = f" in {e.where}" if e.where else ""
        comment = f"  # {e.op.__name__}{where}"
        target = self.in_place_target(e)
        if target is not None:  # a fresh array nothing else reads: write the result into it
            return (f"{out_name} = {IN_PLACE[e.op]}({', '.join(args)}, out={self.arg(target)})"
                    f"{comment}, in place")
        expr = None if self.bound_per_call(e) else template_line(e.op, args, e.attrs,
                                                                 self.const)
        if e.op is ValueConstant:
            expr = self.held_expression(e, args)
            comment += ", held constant (no gradient)"
        if expr is not None:
            return f"{out_name} = {expr}{comment}"
        node = self.fresh(f"{out_name}_node")
        self.instance[index] = node
        op = e.op.__name__
        self.namespace[op] = e.op
        spelled = {k: spell(v, self.const) for k, v in e.attrs.items()}
        if all(s for s in spelled.values()):
            kwargs = ", ".join(f"{k}={v}" for k, v in spelled.items())
        else:
            if e.arrays:  # the dict would hold the trace's arrays, not this call's
                raise TraceError(f"compile: {op} holds a value computed per call in an "
                                 "attribute the generated code cannot spell out; call the "
                                 "function uncompiled")
            attrs_name = self.fresh(f"{out_name}_attrs")
            self.namespace[attrs_name] = e.attrs
            kwargs = f"**{attrs_name}"
        call_args = ", ".join([*args, kwargs] if kwargs else args)
        return (f"{node} = {op}.__new__({op}){comment}\n"
                f"{out_name} = np.asarray({node}.forward({call_args}))")

    def held_expression(self, e: Entry, args: list[str]) -> str | None:
        """`ValueConstant`: a call of its numpy function by name (`_finite_max(x,
        axes=(1,))`), or None when an option cannot be spelled."""
        compute, options = e.attrs["compute"], e.attrs["options"]
        spelled = {k: spell(v, self.const) for k, v in options.items()}
        if any(v == "" for v in spelled.values()):
            return None
        name = self.function_name(compute)
        call_args = [*args, *(f"{k}={v}" for k, v in spelled.items())]
        return f"np.asarray({name}({', '.join(call_args)}))"

    def function_name(self, fn: Any) -> str:
        """A function's name in the generated code: `np.isfinite`, or the library's own
        (`finite_max`), bound in the namespace."""
        name = identifier(fn.__name__)
        if getattr(np, name, None) is fn:
            return f"np.{name}"
        if name in self.taken and self.namespace.get(name) is not fn:
            name = self.fresh(name)
        self.taken.add(name)
        self.namespace[name] = fn
        return name

    def bound_per_call(self, e: Entry) -> bool:
        """A primitive whose attributes hold this call's values (a slot's array) and whose
        backward is a kernel or a call: its backward must get the instance this call's
        forward made, not a node rebuilt from the trace's attributes."""
        return (e.op is not None and backward_mode(e.op) != "traced"
                and bool(e.arrays))

    def guard_line(self, e: Entry) -> str:
        check, kwargs, outcome = e.guard
        name = self.fresh(f"guard_{e.note.lstrip('_')}")
        self.namespace[name] = (check, kwargs, outcome)
        args = ", ".join(self.arg(r) for r in e.ins)
        return f"check({name}, {args})  # the library's {e.note}, on every call"

    def emit_updates(self) -> None:
        """Tensors from outside the function that it changes in place (a BatchNorm's
        running statistics in training mode): their new values written into them."""
        tracer = self.trace.tracer
        for k, slot in self.trace.updates:
            target = self.const(tracer.consts[k].array)
            self.forward_lines.append(f"np.copyto({target}, {self.names[slot]}, "
                                      "casting='same_kind')  # changed in place, as eager")

    def emit_forward(self) -> None:
        tracer = self.trace.tracer
        for i, e in enumerate(tracer.entries[:self.trace.backward_start]):
            if e.guard is not None:
                self.forward_lines.append(self.guard_line(e))
            elif e.op is el.ReLU and e.out is not None and self.writable(e.ins[0], e.out):
                # its input is a fresh array nothing else reads: overwrite it, as relu_
                x = self.arg(e.ins[0])
                where = f" in {e.where}" if e.where else ""
                self.forward_lines.append(f"{self.names[e.out]} = np.maximum({x}, 0, out={x})"
                                          f"  # ReLU{where}, in place")
            else:
                assert e.out is not None
                self.forward_lines.append(self.primitive_line(i, e, self.names[e.out]))

    def emit_backward(self, entries: list[Entry]) -> None:
        trace, tracer = self.trace, self.trace.tracer
        assert trace.grad_slot is not None
        self.names[trace.grad_slot] = "grad_out"
        forward_slots = set(tracer.input_slots)
        forward_slots.update(e.out for e in tracer.entries[:trace.backward_start]
                             if e.out is not None)
        for e in entries:
            for kind, k in [*e.ins, *(("slot", k) for k in e.arrays.values())]:
                if kind == "slot" and k in forward_slots and k not in self.saved:
                    self.saved.append(k)
            if e.op is None:
                self.backward_lines.extend(self.node_backward_lines(e, forward_slots))
                continue
            assert e.out is not None
            self.names[e.out] = self.grad_name(e.out)
            line = self.primitive_line(-1 - len(self.backward_lines), e, self.names[e.out])
            paths = trace.paths.get(e.out, 1)
            if paths > 1 and e.out in trace.grad_of:
                line = f"# dL/d{self.names[trace.grad_of[e.out]]}: sum of {paths} paths\n" + line
            self.backward_lines.append(line)

    def live_backward(self) -> list[Entry]:
        """The backward's entries that lead to a wanted gradient (the trace computed every
        float input's gradient; see `trace.run_trace`), in order."""
        trace = self.trace
        needed = {k for r in trace.input_grads if r is not None for kind, k in [r]
                  if kind == "slot"}
        live: list[Entry] = []
        for e in reversed(trace.tracer.entries[trace.backward_start:]):
            outs = e.outs if e.op is None else [e.out]
            if not any(o is not None and o in needed for o in outs):
                continue
            live.append(e)
            needed.update(k for kind, k in e.ins if kind == "slot")
            needed.update(e.arrays.values())
        self.needed = needed
        return live[::-1]

    def grad_name(self, slot: int) -> str:
        of = self.trace.grad_of.get(slot)
        return self.fresh(f"d_{self.names[of]}" if of is not None else f"t{slot}")

    def node_backward_lines(self, e: Entry, forward_slots: set[int]) -> list[str]:
        """A node whose backward is a kernel or a call of the primitive's own backward."""
        tracer = self.trace.tracer
        assert e.node is not None
        fe = tracer.entries[e.node]
        assert fe.op is not None and fe.out is not None
        # a kernel reads what its primitive `saves` (kernels.py): the inputs of one that
        # saves only its output (ReLU, LogSoftmax) are not kept for it
        reads_inputs = e.note != "kernel" or "inputs" in fe.op.saves
        for kind, k in [*(fe.ins if reads_inputs else []), ("slot", fe.out)]:
            if kind == "slot" and k not in self.saved:
                self.saved.append(k)
        inputs = ", ".join(self.arg(r) if reads_inputs else "None" for r in fe.ins)
        inputs = f"({inputs},)" if len(fe.ins) == 1 else f"({inputs})"
        wanted = [slot is not None and slot in self.needed for slot in e.outs]
        needs = f"({', '.join(map(str, wanted))},)" if len(wanted) == 1 else \
            f"({', '.join(map(str, wanted))})"
        if e.node in self.instance:
            node = self.instance[e.node]
            if e.node not in self.saved_instances:
                self.saved_instances.append(e.node)
            made = f"bind({node}, {inputs}, {self.names[fe.out]}, {needs})"
        else:
            template = self.fresh(f"{self.names[fe.out]}_template")
            self.namespace[template] = runtime.Template(stripped(fe.fn))
            made = f"rebuild({template}, {inputs}, {self.names[fe.out]}, {needs})"
        outs = []
        for slot, want in zip(e.outs, wanted):
            if slot is None or not want:
                outs.append("_")
            else:
                self.names[slot] = self.grad_name(slot)
                outs.append(self.names[slot])
        grad = self.arg(e.ins[0])
        where = f" in {fe.where}" if fe.where else ""
        if e.note == "kernel":
            kernel = KERNELS[fe.op]
            self.namespace[kernel.__name__] = kernel
            call = f"{kernel.__name__}({made}, {grad}, {self.private(e.ins[0])})"
            comment = f"  # {fe.op.__name__}{where}: its kernel"
        else:
            call = f"call_backward({made}, {grad})"
            comment = f"  # {fe.op.__name__}{where}: its own backward (value-dependent)"
        return [f"{', '.join(outs)}, = {call}{comment}"]

    # ------------------------------------------------------------------ the whole
    def build(self) -> str:
        self.namespace.update(check=runtime.check, bind=runtime.bind, rebuild=runtime.rebuild,
                              call_backward=runtime.call_backward)
        self.name_forward()
        trace = self.trace
        live = self.live_backward() if trace.grad_slot is not None else []
        self.count_uses(live)
        self.emit_forward()
        self.emit_updates()
        if trace.grad_slot is not None:
            self.emit_backward(live)
        inputs = [self.names[s] for s in trace.input_slots]
        saved = [self.names[s] for s in self.saved] + [self.instance[i]
                                                        for i in self.saved_instances]
        lines = [f"def forward({', '.join(inputs)}):"]
        lines += ["    " + ln for text in self.forward_lines for ln in text.split("\n")]
        keep = f"({', '.join(saved)},)" if saved else "()"
        lines.append(f"    return {self.names[trace.out]}, {keep}")
        if trace.grad_slot is not None:
            lines += ["", "", f"def backward(grad_out, {', '.join(saved)}):".replace(", )", ")")]
            lines += ["    " + ln for text in self.backward_lines for ln in text.split("\n")]
            grads = [self.arg(r) if r is not None else "None" for r in trace.input_grads]
            lines.append(f"    return ({', '.join(grads)},)")
        self.source = "\n".join(self.header + lines) + "\n"
        exec(compile(self.source, "<tinygrad_edu.compile>", "exec"), self.namespace)  # noqa: S102
        return self.source


def stripped(fn: Any) -> Any:
    """A copy of a traced Function instance without the trace's values (inputs, output,
    saved arrays): the attributes its forward set (axes, shapes) are all a rebuilt node
    needs from it."""
    new = object.__new__(type(fn))
    for klass in type(fn).__mro__:
        for name in getattr(klass, "__slots__", ()):
            if name in ("inputs", "_out", "saved", "__weakref__") or not hasattr(fn, name):
                continue
            setattr(new, name, getattr(fn, name))
    for name, value in getattr(fn, "__dict__", {}).items():
        if name not in ("inputs", "_out", "saved"):
            setattr(new, name, value)
    return new
