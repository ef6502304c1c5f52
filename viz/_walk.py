"""Read a recorded graph: nodes in topological order, leaves, edges, and edge gradients.

Everything here is iterative (an explicit stack), so a chain of 100,000 ops walks fine.
A unit of the graph is either a `Function` node (it stands for the op and its output) or a
leaf: a Tensor with `grad_fn is None` (a constant or a parameter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.autograd import Function, GradientTape
from tinygrad_edu.tensor import Tensor


class Edge(NamedTuple):
    """Input `slot` of op `dst` is the tensor produced by `src` (a node or a leaf)."""

    src: Any
    dst: Function
    slot: int
    needs_grad: bool
    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass
class GraphData:
    ops: list[Function]  # topological order: every op after the ops that feed it
    leaves: list[Tensor]  # each leaf once, in order of first use
    edges: list[Edge]
    outputs: list[tuple[Tensor, Any]]  # (output tensor, its unit)
    position: dict[Any, int] = field(default_factory=dict)  # unit -> topological position
    fanout: dict[Any, int] = field(default_factory=dict)  # unit -> edges that carry gradient

    @property
    def size(self) -> int:
        return len(self.ops) + len(self.leaves)

    @property
    def released(self) -> bool:
        return any(node.released for node in self.ops)


def unit_of(t: Any) -> Any:
    return t.grad_fn if t.grad_fn is not None else t


def walk(outputs: Sequence[Tensor]) -> GraphData:
    """Collect the graph behind `outputs` with one iterative post-order traversal."""
    ops: list[Function] = []
    done: set[Function] = set()
    for out in outputs:
        root = out.grad_fn
        if root is None or root in done:
            continue
        done.add(root)
        stack: list[tuple[Function, int]] = [(root, 0)]
        while stack:
            node, i = stack[-1]
            if i < len(node.inputs):
                stack[-1] = (node, i + 1)
                parent = node.parents[i]
                if parent is not None and parent not in done:
                    done.add(parent)
                    stack.append((parent, 0))
            else:
                stack.pop()
                ops.append(node)
    leaves: list[Tensor] = []
    seen_leaves: set[Tensor] = set()
    edges: list[Edge] = []
    position: dict[Any, int] = {}
    fanout: dict[Any, int] = {}
    for out in outputs:
        if out.grad_fn is None and out not in seen_leaves:
            seen_leaves.add(out)
            leaves.append(out)
            position[out] = len(position)
    for node in ops:
        for i, (t, needs) in enumerate(zip(node.inputs, node.needs_input_grad)):
            parent = node.parents[i]
            src = parent if parent is not None else t
            if parent is None and t not in seen_leaves:
                seen_leaves.add(t)
                leaves.append(t)
                position[t] = len(position)
            if needs:
                fanout[src] = fanout.get(src, 0) + 1
            edges.append(Edge(src, node, i, needs, t.shape, t.dtype))
        position[node] = len(position)
    unique: list[tuple[Tensor, Any]] = []
    seen_units: set[Any] = set()
    for out in outputs:
        unit = unit_of(out)
        if unit not in seen_units:
            seen_units.add(unit)
            unique.append((out, unit))
    return GraphData(ops, leaves, edges, unique, position, fanout)


class Gradients:
    """Edge gradients, summed gradients and path counts, from a tape when there is one."""

    def __init__(self, tape: GradientTape | None, note: str = "") -> None:
        self.tape = tape
        self.note = note

    def edge(self, node: Function, index: int) -> np.ndarray | None:
        return None if self.tape is None else self.tape.edges.get((node, index))

    def value(self, unit: Any) -> np.ndarray | None:
        """The forward value the tape kept (backward frees the intermediate ones)."""
        return None if self.tape is None else self.tape.values.get(unit)

    def total(self, unit: Any) -> np.ndarray | None:
        return None if self.tape is None else self.tape.totals.get(unit)

    def paths(self, unit: Any, structural: int) -> int:
        """Contributions summed at `unit`: for a leaf the tape's count when it has one, else
        the number of edges that carry gradient out of the unit.

        The tape counts one entry per backward visit for a non-leaf node (its
        contributions are summed before the visit), so nodes always use the structure.
        """
        if isinstance(unit, Tensor) and self.tape is not None and unit in self.tape.paths:
            return self.tape.paths[unit]
        return structural


def compute_gradients(data: GraphData) -> Gradients:
    """Record every edge gradient with one extra backward pass that leaves `.grad` alone.

    Runs `autograd.grad(outputs, leaves, retain_graph=True)` inside `record_gradients()`.
    Only possible while the graph still holds its arrays and when every output that requires
    grad is a scalar (the seed is then 1, as in `loss.backward()`).
    """
    outs = [t for t, _ in data.outputs if t.requires_grad]
    wanted = [t for t in data.leaves if t.requires_grad]
    if not outs or not wanted:
        return Gradients(None)
    if data.released:
        return Gradients(None, "gradient values: the graph was freed by backward(); record "
                               "them with `with record_gradients() as tape:` and pass tape=")
    big = [t.shape for t in outs if t.array.size != 1]
    if big:
        return Gradients(None, f"gradient values: output shape {big[0]} is not a scalar; "
                               "pass tape= from a backward you ran")
    # run_backward also fills `.grad` of tensors marked retain_grad(); put those back.
    retained: list[tuple[Tensor, Any]] = []
    for node in data.ops:
        out = node.output_if_alive()
        if out is not None and out.retains_grad:
            retained.append((out, out.grad))
    try:
        with autograd.record_gradients() as tape:
            autograd.grad(outs, wanted, retain_graph=True, allow_unused=True)
    except (RuntimeError, ValueError, FloatingPointError) as e:
        return Gradients(None, f"gradient values unavailable: {e}")
    finally:
        for t, g in retained:
            t.grad = g
    return Gradients(tape)
