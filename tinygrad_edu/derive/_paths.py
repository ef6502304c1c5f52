"""Where a gradient is a sum over several paths, and what it would be with a path left out.

Built from a `GradientTape` (`record_gradients()`): `tape.edges[(node, i)]` is the gradient
handed to input i of node, so the edges leaving one tensor are the contributions summed
into its gradient. A claimed gradient that equals the total minus one contribution has a
missing path. For a contribution at an interior tensor, its effect on the input is one
more backward pass from that tensor (the graph is kept for this).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.autograd import Function, GradientTape
from tinygrad_edu.creation import from_numpy
from tinygrad_edu.derive._report import PathContribution
from tinygrad_edu.engine import backpropagate
from tinygrad_edu.engine_steps import Step
from tinygrad_edu.tensor import Tensor

#: at most this many extra backward passes while looking for a missing path (per kind)
MAX_PASSES = 40
MAX_HELD_CONSTANT = 150
#: all subsets of the paths into an input are tried up to this many paths
MAX_SUBSET_PATHS = 6


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


class PathFinder:
    """The contributions summed at every tensor of a graph, from one recorded backward."""

    def __init__(self, tape: GradientTape, output: Tensor, names: dict[Any, str],
                 upstream: np.ndarray | None = None) -> None:
        self.tape = tape
        self.output = output  # keeps the graph (retained by the caller's backward) alive
        self.upstream = upstream if upstream is not None else np.ones(output.shape)
        self.names = names
        self.consumers: dict[Any, list[tuple[Function, int]]] = {}
        for node, i in tape.edges:
            t = node.inputs[i]
            key = node.parents[i] if node.parents[i] is not None else t
            self.consumers.setdefault(key, []).append((node, i))

    def tensor_label(self, key: Any) -> str:
        if isinstance(key, Function):
            out = key.output_if_alive()
            if out is not None and out.name:
                return out.name
            return f"{key.op} output {_shape(key.shape)}"
        return self.names.get(key) or key.name or f"tensor {_shape(key.shape)}"

    def edge_label(self, node: Function, i: int) -> str:
        out = node.output_if_alive()
        named = f" ({out.name})" if out is not None and out.name else ""
        slot = f" input {i}" if len(node.inputs) > 1 else ""
        return f"{node.op}{slot}{named} -> {_shape(node.shape)}"

    def contributions(self, leaf: Tensor) -> list[PathContribution]:
        return [PathContribution(self.edge_label(n, i), self.tape.edges[(n, i)])
                for n, i in self.consumers.get(leaf, [])]

    def candidates(self, leaf: Tensor, total: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
        """(explanation, gradient of `leaf` with some path left out): subsets of the paths
        into `leaf` itself first, then one path at a time at the interior tensors."""
        name = self.tensor_label(leaf)
        own = self.contributions(leaf)
        k = len(own)
        if 2 <= k <= MAX_SUBSET_PATHS:
            for r in range(1, k):
                for kept in combinations(range(k), r):
                    missing = [own[j].label for j in range(k) if j not in kept]
                    through = " + ".join(own[j].label for j in kept)
                    yield (f"missing path: the claim equals the gradient through {through} "
                           f"alone; {k} paths leave {name} and their gradients are summed, "
                           f"the one(s) through {', '.join(missing)} are missing",
                           sum((own[j].gradient for j in kept), np.zeros_like(total)))
        passes = 0
        for key, edges in self.consumers.items():
            if not isinstance(key, Function) or len(edges) < 2:
                continue
            out = key.output_if_alive()
            if out is None:
                continue
            for node, i in edges:
                if passes >= MAX_PASSES:
                    return
                passes += 1
                seed = from_numpy(self.tape.edges[(node, i)])
                (g,) = autograd.grad(out, [leaf], grad_outputs=seed, retain_graph=True,
                                     allow_unused=True)
                if g is None:  # the input does not feed this tensor
                    break
                label = self.tensor_label(key)
                yield (f"missing path: the claim equals autograd without the gradient that "
                       f"reaches {label} through {self.edge_label(node, i)}; {len(edges)} "
                       f"paths leave {label} and their gradients must be summed",
                       total - g.array)
        yield from self._held_constant(leaf)

    def _held_constant(self, leaf: Tensor) -> Iterator[tuple[str, np.ndarray]]:
        """The gradient with one or two interior tensors held constant (no gradient through
        them), e.g. a batch's mean and variance: named tensors are tried first."""
        root = self.output.grad_fn
        if root is None:
            return
        nodes = [n for n in _reachable(root) if n is not root]
        nodes.sort(key=lambda n: not getattr(n.output_if_alive(), "name", None))
        groups = [(n,) for n in nodes] + list(combinations(nodes, 2))
        for group in groups[:MAX_HELD_CONSTANT]:
            g = self._gradient_without(leaf, set(group))
            if g is None:
                continue
            labels = " and ".join(sorted(self.tensor_label(n) for n in group))
            yield (f"missing paths: holding {labels} constant (no gradient through "
                   f"{'them' if len(group) > 1 else 'it'}) gives the claim; the paths "
                   f"through {'them' if len(group) > 1 else 'it'} are missing", g)

    def _gradient_without(self, leaf: Tensor, blocked: set[Function]) -> np.ndarray | None:
        """d output / d leaf by a backward pass (the engine, with the nodes' own backward
        methods) that stops at the `blocked` nodes; None when no gradient reaches the leaf."""
        root = self.output.grad_fn
        assert root is not None
        with autograd.no_grad():
            grads = backpropagate({root: from_numpy(self.upstream)}, _Blocking(blocked))
        g = grads.get(leaf)
        return None if g is None else g.array


class _Blocking(Step):
    """A backward step that hands nothing on from the blocked nodes (held constant) and
    frees nothing (the graph is walked again for the next group)."""

    def __init__(self, blocked: set[Function]) -> None:
        super().__init__(fill_retained=False)
        self.kernels = {}
        self.tape = None
        self.blocked = blocked

    def run(self, node: Function, grad: Tensor | None) -> Sequence[Tensor | None]:
        return super().run(node, None if node in self.blocked else grad)


def _reachable(root: Function, blocked: set[Function] | frozenset[Function] = frozenset()
               ) -> list[Function]:
    """Nodes reachable from root through edges that need a gradient, not past `blocked`."""
    order, stack, seen = [], [root], {root}
    while stack:
        node = stack.pop()
        order.append(node)
        if node in blocked:
            continue
        for parent, needs in zip(node.parents, node.needs_input_grad):
            if needs and parent is not None and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return order
