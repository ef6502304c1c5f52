"""The backward engine: order the graph iteratively, run each node's backward once all
its consumers have handed in their gradient, sum contributions from several paths, and
free what the graph saved afterwards. It knows nothing about particular ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.modes import GradientTape, _GradMode, _state, _tensor_types

if TYPE_CHECKING:
    from tinygrad_edu.autograd import Function
    from tinygrad_edu.tensor import Tensor


def seen_version(t: Any) -> int:
    """In-place changes seen by `t`: its own and those of every tensor it is a view of."""
    v = t._version
    base = t._base
    while base is not None:
        v += base._version
        base = base._base
    return v




def _call_torch_backward(fn: Function, grad: Tensor) -> tuple[Any, ...]:
    result = type(fn).backward(fn, grad)  # type: ignore[call-arg]
    result = result if isinstance(result, tuple) else (result,)
    # PyTorch returns one gradient per forward argument; keep those of tensor arguments.
    positions = fn._torch_positions  # type: ignore[attr-defined]
    if len(result) > len(positions):
        result = tuple(result[p] for p in positions)
    return result



def _consumer_counts(roots: Sequence[Function]) -> dict[Function, int]:
    """How many edges (that need a gradient) lead into each node reachable from roots."""
    counts: dict[Function, int] = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        if node.released:
            raise RuntimeError(
                f"backward: the graph through {node.op} (output shape {node.shape}) was "
                "already freed by an earlier backward(); pass retain_graph=True to the first "
                "backward() to go through it twice"
            )
        for parent, needs in zip(node.parents, node.needs_input_grad):
            if needs and parent is not None:
                counts[parent] = counts.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return counts


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    *,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    fill_retained: bool = True,
    exclusive: dict[Any, np.ndarray] | None = None,
) -> dict[Any, Tensor]:
    """The engine. Returns the gradients of the leaves reached (keyed by tensor) and of the
    requested `inputs` (keyed by tensor); `.grad` is left for the caller to update. When
    given, `exclusive` receives, per leaf, its gradient array when nothing else holds it
    (it came from a `fresh_grads` producer, or is a sum): the caller may hand it out as is."""

    tape = _state.tape
    wanted: dict[Function, Tensor] = {}
    if inputs is not None:
        for t in inputs:
            if t._ctx is not None:
                wanted[t._ctx] = t
    pending: dict[Function, Tensor] = {}
    leaf_grads: dict[Tensor, Tensor] = {}
    roots: list[Function] = []
    for out, g in zip(outputs, grad_outputs):
        node = out._ctx
        if node is None:
            _accumulate_leaf(leaf_grads, out, g, tape)
            continue
        if tape is not None:
            tape._add(node, g.array)
        if node in pending:
            pending[node] = pending[node] + g
        else:
            pending[node] = g
            roots.append(node)
    counts = _consumer_counts(roots)
    ready = [n for n in roots if counts.get(n, 0) == 0]
    owned: set[Function] = set()  # nodes whose pending gradient array nothing else holds
    visited: list[Function] = []
    results: dict[Any, Tensor] = {}
    anomaly = _state.anomaly
    tensor_type = _tensor_types.Tensor
    with _GradMode(create_graph):
        while ready:
            node = ready.pop()
            visited.append(node)
            grad = pending.pop(node)
            own = node in owned and tape is None
            out = node._out()
            if fill_retained and out is not None and out._retains_grad:
                _set_retained_grad(out, grad, create_graph)
                own = False
            if wanted and node in wanted:
                results[wanted[node]] = grad
                own = False
            inputs = node.inputs
            if node.reads_inputs and node.version_sum != sum(
                    [t._version if t._base is None else seen_version(t) for t in inputs]):
                _raise_modified(node, "input")
            if (node.reads_output and out is not None
                    and out._version != node.output_version):
                _raise_modified(node, "output")
            _state.grad_owned = own
            try:
                if node._torch_style:
                    input_grads = _call_torch_backward(node, grad)
                else:
                    input_grads = node.backward(grad)
                    if type(input_grads) is not tuple:
                        input_grads = (input_grads,)
            finally:
                _state.grad_owned = False
            fresh = node.fresh_grads
            if len(input_grads) != len(inputs):
                raise RuntimeError(
                    f"{node.op}.backward returned {len(input_grads)} gradients for "
                    f"{len(inputs)} inputs"
                )
            parents = node.parents
            for i, (t, needs, g) in enumerate(zip(inputs, node.needs_input_grad, input_grads)):
                if not needs:
                    continue
                parent = parents[i]
                if g is None:
                    if parent is not None:
                        _release_edge(parent, counts, ready)
                    continue
                # An intermediate's shape and dtype are its node's: its array may be gone.
                shape, dtype = ((parent.shape, parent.dtype) if parent is not None
                                else (t.array.shape, t.array.dtype))
                if type(g) is not tensor_type:
                    g = g if isinstance(g, tensor_type) else tensor_type._wrap(
                        np.asarray(g, dtype=dtype))
                gd = g.array
                if gd.shape != shape or gd.dtype != dtype:
                    raise RuntimeError(
                        f"{node.op}.backward: gradient for input {i} has shape "
                        f"{gd.shape} and dtype {gd.dtype}, but that input has shape "
                        f"{shape} and dtype {dtype}"
                    )
                if anomaly and not np.all(np.isfinite(gd)):
                    raise FloatingPointError(
                        f"{node.op}.backward produced NaN/Inf in the gradient of input {i} "
                        f"(shape {shape}); the {node.op} was created at "
                        f"{node.created_at or 'an unknown place'}"
                    )
                if tape is not None:
                    tape.edges[(node, i)] = gd
                    if parent is not None:
                        tape._add(parent, gd)
                if parent is None:
                    _accumulate_leaf(leaf_grads, t, g, tape)
                    if exclusive is not None and tape is None:  # the tape keeps arrays
                        total = leaf_grads[t]
                        if fresh or total is not g:
                            exclusive[t] = total.array
                        else:
                            exclusive.pop(t, None)
                    continue
                previous = pending.get(parent)
                # A new array, never `+=`: one upstream array may have gone to two inputs.
                if previous is None:
                    pending[parent] = g
                    if fresh:
                        owned.add(parent)
                else:
                    pending[parent] = previous + g
                    owned.add(parent)
                left = counts[parent] - 1
                counts[parent] = left
                if left == 0:
                    ready.append(parent)
    if not retain_graph:
        for node in visited:
            _release(node)
    for leaf, g in leaf_grads.items():
        results.setdefault(leaf, g)
    return results


def _release_edge(parent: Function, counts: dict[Function, int], ready: list[Function]) -> None:
    left = counts[parent] - 1
    counts[parent] = left
    if left == 0:
        ready.append(parent)


def _accumulate_leaf(
    leaf_grads: dict[Any, Tensor], t: Tensor, g: Tensor, tape: GradientTape | None
) -> None:
    if tape is not None:
        tape._add(t, g.array)
    previous = leaf_grads.get(t)
    leaf_grads[t] = g if previous is None else previous + g


def _set_retained_grad(t: Tensor, g: Tensor, create_graph: bool) -> None:
    g = g if create_graph else g.detach()
    t.grad = g if t.grad is None else t.grad + g


def _raise_modified(node: Function, what: str) -> None:
    if what == "input":
        changed = [i for i, t in enumerate(node.inputs) if seen_version(t)]
        raise RuntimeError(
            f"backward: an input of {node.op} (output shape {node.shape}) was modified in place "
            f"after {node.op} saved it for backward (inputs {changed} have in-place changes); "
            "clone() it before changing it, or change it after backward()"
        )
    raise RuntimeError(
        f"backward: the output of {node.op} (shape {node.shape}) was modified in place "
        "after it was saved for backward; clone() it before changing it"
    )


def _release(node: Function) -> None:
    """Free what the node saved; keep the structure (op, shapes, parents) for drawing.

    Intermediate inputs are replaced by their producing nodes, so their arrays can go once
    the caller drops them; leaves stay (they belong to the caller anyway).
    """
    node.inputs = tuple(t if p is None else _Released(t, p)
                        for t, p in zip(node.inputs, node.parents))
    node.released = True
    node.saved = None


class _Released:
    """What a freed graph keeps of an intermediate tensor: its node (which knows the shape
    and dtype) and its name."""

    __slots__ = ("_ctx", "name")
    requires_grad = True
    _version = 0
    _retains_grad = False
    _base = None

    def __init__(self, t: Tensor, producer: Function | None = None) -> None:
        self._ctx = t._ctx if producer is None else producer
        self.name = t.name

    @property
    def shape(self) -> tuple[int, ...]:
        return self._ctx.shape  # type: ignore[union-attr]

    @property
    def dtype(self) -> np.dtype:
        return self._ctx.dtype  # type: ignore[union-attr]

    @property
    def array(self) -> np.ndarray:
        raise RuntimeError(
            f"backward: this graph (through a tensor of shape {self.shape}) was already "
            "freed by an earlier backward(); pass retain_graph=True to keep it"
        )
