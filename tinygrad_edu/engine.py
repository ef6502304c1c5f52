"""The backward engine: reverse-mode differentiation of a recorded graph.

Each node waits until every consumer of its output has handed in a gradient (its count of
consumers still to come reaches zero); then it runs its backward once, on the sum of what
it received, and hands a gradient to each of its inputs' producers. A leaf collects the sum
of what reaches it. The order comes from the counts, so no recursion: a chain of 100,000
ops works. Everything that is not the algorithm (checks, retained gradients, the drawing
tape, fast kernels) happens in `step.run`, described in `engine_steps.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tinygrad_edu.function import Released

if TYPE_CHECKING:
    from tinygrad_edu.engine_steps import Step
    from tinygrad_edu.function import Function
    from tinygrad_edu.tensor import Tensor


def backpropagate(seeds: dict[Function, Tensor], step: Step) -> dict[Any, Tensor]:
    """From `seeds` (the gradient of the result with respect to each output node), the
    gradient of the result with respect to every leaf the graph reaches, keyed by leaf."""
    counts = consumer_counts(seeds)  # consumers whose gradient has not arrived yet
    pending: dict[Any, Tensor] = dict(seeds)  # gradient summed so far, per node or leaf
    ready = [node for node in seeds if counts.get(node, 0) == 0]
    while ready:
        node = ready.pop()
        grad = pending.pop(node, None)  # None: no path handed this node a gradient
        input_grads = step.run(node, grad)  # node.backward(grad), and the checks
        for t, parent, g in zip(node.inputs, node.parents, input_grads):
            key = t if parent is None else parent  # a leaf sums under its own name
            if g is not None:
                pending[key] = step.add(pending[key], g) if key in pending else g
            if parent is not None:  # the edge has delivered: one consumer less
                counts[parent] -= 1
                if counts[parent] == 0:
                    ready.append(parent)
    return pending  # every node has run: what is left are the leaves' gradients


def consumer_counts(roots: Iterable[Function]) -> dict[Function, int]:
    """How many edges lead into each node reachable from roots (the inputs' producers)."""
    counts: dict[Function, int] = {}
    stack = list(roots)
    seen = set(stack)
    while stack:
        node = stack.pop()
        if node.released:
            raise RuntimeError(
                f"backward: the graph through {node.op} (output shape {node.shape}) was "
                "already freed by an earlier backward(); pass retain_graph=True to the first "
                "backward() to go through it twice"
            )
        for parent in node.parents:
            if parent is not None:
                counts[parent] = counts.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return counts


def release(nodes: Iterable[Function]) -> None:
    """Free what the nodes saved; keep the structure (op, shapes, parents) for drawing.

    Intermediate inputs are replaced by their producing nodes, so their arrays can go once
    the caller drops them; leaves stay (they belong to the caller anyway).
    """
    for node in nodes:
        node.inputs = tuple(t if p is None else Released(t, p)
                            for t, p in zip(node.inputs, node.parents))
        node.released = True
        node.saved = None
