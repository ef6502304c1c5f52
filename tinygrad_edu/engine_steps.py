"""What the engine does at each node besides the algorithm of `engine.backpropagate`.

`Step.run(node, grad)` is one node's turn:
0. `hooked`: the output's `register_hook` hooks see its gradient and may replace it
   (leaves get the same step in `autograd.py`, when their gradient is complete);
1. `hand_out`: give the node's gradient to whoever asked for it (a tensor that called
   `retain_grad()`, a tensor in `inputs=` or `grad()`'s inputs);
2. `check_saved`: what the node's backward reads was not changed in place since;
3. call the node's `backward(grad)`, or its fast kernel (`kernels.py`) when the backward
   is not itself being recorded;
4. `checked`: one gradient per input, each of the input's shape and dtype, and finite
   under `detect_anomaly()`; None for an input that wants no gradient;
5. `record`: under `record_gradients()`, the gradient on every edge, for drawing.

A subclass changes a step without touching the algorithm: `derive` blocks nodes with one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._hooks import LIVE, hooks_of, run_hooks
from tinygrad_edu.function import seen_version, version_sum
from tinygrad_edu.kernels import KERNELS
from tinygrad_edu.modes import _state, _tensor_types

if TYPE_CHECKING:
    from tinygrad_edu.function import Function
    from tinygrad_edu.tensor import Tensor


class Step:
    """One node's turn in the backward pass (see the module docstring)."""

    def __init__(self, *, create_graph: bool = False, requested: Sequence[Any] = (),
                 fill_retained: bool = True) -> None:
        self.create_graph = create_graph
        self.kernels = {} if create_graph else KERNELS
        self.tape = _state.tape
        self.anomaly = _state.anomaly
        self.fill_retained = fill_retained
        self.requested = {t._ctx: t for t in requested if t._ctx is not None}
        #: the gradients of the requested intermediate tensors, by tensor
        self.found: dict[Any, Tensor] = {}
        #: the nodes that have run, in order (the caller frees what they saved)
        self.visited: list[Function] = []
        #: gradients whose array nothing else holds (the rule is in kernels.py)
        self.private: set[Tensor] = set()

    def run(self, node: Function, grad: Tensor | None) -> Sequence[Tensor | None]:
        self.visited.append(node)
        if grad is None:  # no path reached this node: it hands on nothing
            return [None] * len(node.inputs)
        if LIVE.count:  # some tensor has a `register_hook` hook
            grad = self.hooked(node, grad)
        private = self.hand_out(node, grad)
        check_saved(node)
        kernel = self.kernels.get(type(node))
        if kernel is None:
            grads = checked(node, node.backward(grad), self.anomaly)
        else:
            new = _tensor_types.new
            arrays = kernel(node, grad.array, private)
            grads = checked(node, tuple([a if a is None else new(a) for a in arrays]),
                            self.anomaly)
            if self.tape is None:
                self.private.update([g for g in grads if g is not None])
        if self.tape is not None:
            self.record(node, grads)
        return grads

    def add(self, a: Tensor, b: Tensor) -> Tensor:
        """Two gradients for the same tensor: their sum, a new array (never `+=`, which
        would change an array that may also have gone to another input)."""
        total = a + b
        self.private.discard(a)
        self.private.discard(b)
        if self.tape is None:
            self.private.add(total)
        return total

    def hooked(self, owner: Function | Tensor, grad: Tensor) -> Tensor:
        """The gradient after the hooks (`Tensor.register_hook`) of a leaf, or of the
        tensor a node made: each sees it and may return a replacement, before anyone else
        receives it."""
        hooks = hooks_of(owner)
        if not hooks:
            return grad
        self.private.discard(grad)  # a hook may keep it: no kernel may overwrite it
        return run_hooks(hooks, grad)

    def hand_out(self, node: Function, grad: Tensor) -> bool:
        """Give `grad` to whoever asked for the node's output; True when nothing else
        holds its array (so the node's kernel may overwrite it)."""
        private = grad in self.private
        if private:
            self.private.discard(grad)
        if self.fill_retained:
            out = node._out()
            if out is not None and out._retains_grad:
                g = grad if self.create_graph else grad.detach()
                out.grad = g if out.grad is None else out.grad + g
                private = False
        if node in self.requested:
            self.found[self.requested[node]] = grad
            private = False
        return private and self.tape is None

    def record(self, node: Function, grads: Sequence[Tensor | None]) -> None:
        """The gradient tape: each edge's gradient, and the sum at each tensor."""
        tape = self.tape
        assert tape is not None
        for i, (t, parent, g) in enumerate(zip(node.inputs, node.parents, grads)):
            if g is not None:
                tape.edges[(node, i)] = g.array
                tape._add(t if parent is None else parent, g.array)


def check_saved(node: Function) -> None:
    """Raise if an input or the output that backward reads was changed in place after
    the node was made (their versions moved on)."""
    saves = node.saves
    if "inputs" in saves and node.version_sum != version_sum(node.inputs):
        changed = [i for i, t in enumerate(node.inputs) if seen_version(t)]
        raise RuntimeError(
            f"backward: an input of {node.op} (output shape {node.shape}) was modified in place "
            f"after {node.op} saved it for backward (inputs {changed} have in-place changes); "
            "clone() it before changing it, or change it after backward()"
        )
    if "output" in saves:
        out = node.output_if_alive()
        if out is not None and out._version != node.output_version:
            raise RuntimeError(
                f"backward: the output of {node.op} (shape {node.shape}) was modified in "
                "place after it was saved for backward; clone() it before changing it"
            )


def checked(node: Function, grads: Any, anomaly: bool) -> list[Tensor | None]:
    """The node's gradients, one per input, each a Tensor of the input's shape and dtype
    (None where the input wants no gradient)."""
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(node.inputs):
        raise RuntimeError(f"{node.op}.backward returned {len(grads)} gradients for "
                           f"{len(node.inputs)} inputs")
    tensor = _tensor_types.Tensor
    result: list[Tensor | None] = []
    for i, (t, parent, needs, g) in enumerate(zip(node.inputs, node.parents,
                                                  node.needs_input_grad, grads)):
        if g is None or not needs:
            result.append(None)
            continue
        # An intermediate's shape and dtype are its node's: its array may be gone.
        shape, dtype = ((parent.shape, parent.dtype) if parent is not None
                        else (t.array.shape, t.array.dtype))
        if not isinstance(g, tensor):
            g = tensor._wrap(np.asarray(g, dtype=dtype))
        if g.array.shape != shape or g.array.dtype != dtype:
            raise RuntimeError(f"{node.op}.backward: gradient for input {i} has shape "
                               f"{g.array.shape} and dtype {g.array.dtype}, but that input "
                               f"has shape {shape} and dtype {dtype}")
        if anomaly and not np.all(np.isfinite(g.array)):
            raise FloatingPointError(
                f"{node.op}.backward produced NaN/Inf in the gradient of input {i} "
                f"(shape {shape}); the {node.op} was created at "
                f"{node.created_at or 'an unknown place'}")
        result.append(g)
    return result
