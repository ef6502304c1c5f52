"""What the generated code calls at run time, and the one graph node a compiled call makes.

`CompiledFunction` runs the generated forward; its backward runs the generated backward,
so `loss.backward()`, optimizers and schedulers see an ordinary node. The helpers give a
kernel or a primitive's own backward the node it expects (`bind`, `rebuild`), re-run a
library check (`check`), and call a backward on this call's arrays (`call_backward`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.compile.tracer import Diverged
from tinygrad_edu.engine_steps import checked
from tinygrad_edu.function import Function
from tinygrad_edu.modes import _GradMode, _state
from tinygrad_edu.tensor import Tensor


def check(guard: tuple[Any, dict[str, Any], Any], *arrays: np.ndarray) -> None:
    """A library value check on this call's values: it raises its own error; a branch
    that comes out otherwise than when traced makes the call run eagerly."""
    fn, kwargs, outcome = guard
    if fn(*arrays, **kwargs) != outcome:
        raise Diverged


def bind(node: Function, inputs: tuple[Any, ...], output: Any, needs: tuple[bool, ...]
         ) -> Function:
    """Give a Function instance this call's inputs and output, and the gradients wanted,
    as the engine would."""
    wrap = Tensor._wrap
    out = wrap(output if type(output) is np.ndarray else np.asarray(output))
    node.needs_input_grad = needs
    node.parents = (None,) * len(inputs)  # `checked` then reads the shapes off the inputs
    node.inputs = tuple([wrap(a if type(a) is np.ndarray else np.asarray(a)) for a in inputs])
    node._out = lambda: out
    return node


class Template:
    """A traced node's type and the attributes its forward set (axes, shapes; not the
    trace's values: `codegen.stripped`), read once so `rebuild` only copies them."""

    __slots__ = ("kind", "items")

    def __init__(self, fn: Function) -> None:
        self.kind = type(fn)
        names = [name for klass in self.kind.__mro__ for name in getattr(klass, "__slots__", ())
                 if name != "__weakref__" and hasattr(fn, name)]
        items = [(name, getattr(fn, name)) for name in names]
        items += list(getattr(fn, "__dict__", {}).items())
        self.items = tuple(items)


def rebuild(template: Template, inputs: tuple[Any, ...], output: Any,
            needs: tuple[bool, ...]) -> Function:
    """A fresh node with the template's attributes (those its forward set) and this
    call's values."""
    node = object.__new__(template.kind)
    for name, value in template.items:
        setattr(node, name, value)
    return bind(node, inputs, output, needs)


def call_backward(node: Function, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
    """The primitive's own backward on this call's arrays (not recorded)."""
    with _GradMode(False):
        grads = checked(node, node.backward(Tensor._wrap(np.asarray(grad))), False)
    return tuple(None if g is None else g.array for g in grads)


class CompiledFunction(Function):
    """One node for a whole compiled call: forward and backward are the generated code."""

    __slots__ = ()
    # The generated backward reads the inputs' arrays and may read the output's: an
    # in-place change to either before backward (an optimizer step) raises, as eager does.
    saves = ("inputs", "output")

    def forward(self, *arrays: np.ndarray, program: Any) -> np.ndarray:
        out, saved = program.namespace["forward"](*arrays)
        self.saved = (program, saved)
        return np.asarray(out)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        if _state.grad_enabled:
            raise RuntimeError("compile: backward(create_graph=True) through a compiled "
                               "function is not supported (its backward is generated numpy "
                               "code, not recorded); call the function uncompiled for higher "
                               "derivatives")
        if self.saved is None:
            raise RuntimeError("compile: this compiled call's saved values were freed by an "
                               "earlier backward(); pass retain_graph=True to go through it "
                               "twice")
        program, saved = self.saved
        upstream = np.asarray(grad.array)
        grads = program.namespace["backward"](upstream, *saved)
        # Each leaf owns its .grad: an array the generated code made is handed over as it
        # is; one shared with the caller's upstream gradient, read-only (a broadcast) or
        # handed to two inputs is copied (kernels.py's rule for private gradients).
        taken = {id(upstream), id(upstream.base)}
        out: list[Tensor | None] = []
        for g, needs in zip(grads, self.needs_input_grad):
            if g is None or not needs:
                out.append(None)
                continue
            g = np.asarray(g)
            root = g if g.base is None else g.base
            if not g.flags.writeable or id(root) in taken:
                g = root = g.copy()
            taken.add(id(root))
            out.append(Tensor._wrap(g))
        return tuple(out)
