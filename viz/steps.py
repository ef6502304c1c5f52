"""Backpropagation one node at a time: a self-contained HTML page of the engine's real steps.

    import viz
    view = viz.backprop_steps(loss, params={"W": W})
    view.save("steps.html")        # one file: SVG, data and script inline; no server
    view                           # as the last line of a Jupyter cell: shown inline

The page shows the forward graph, then backward in the order the engine ran it. At each
step the node being processed is highlighted and the panel shows its local derivative as
its op's docstring states it, beside the numbers the engine used and produced: the
upstream gradient, the node's inputs and output, and the gradient it sent along each input
edge. Edges are labelled as their gradients arrive; a tensor where several paths meet
shows its running sum filling up ("path 1 of 2 arrived").

Nothing here computes a derivative. The numbers are the engine's own: one
`autograd.grad(loss, leaves, retain_graph=True)` inside `record_gradients()` (so `.grad` is
not touched), whose tape keeps every edge's gradient in the order the engine handed them
out. Running sums add those recorded contributions in that same order.
"""

from __future__ import annotations

import html
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.autograd import Function, grad
from tinygrad_edu.modes import record_gradients
from tinygrad_edu.tensor import Tensor
from viz import _steps_page
from viz._walk import GraphData, walk

#: arrays with at most this many elements are shown by value; larger ones by shape and norm
SMALL = 12
#: the "full array" text of a larger tensor stops after this many elements
FULL_LIMIT = 4000


def backprop_steps(loss: Tensor, params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]
                   | None = None, title: str | None = None) -> StepsView:
    """The step-through view of `loss`'s backward pass (see the module docstring).

    `loss` must be a scalar whose graph still holds its arrays (call this before
    `backward()`, or after `backward(retain_graph=True)`). `params` names leaves as
    `draw_graph` does (`dict(model.named_parameters())`); otherwise `Tensor.name` is used.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"backprop_steps: loss must be a Tensor, got {type(loss).__name__}")
    if loss.numel() != 1 or loss.grad_fn is None:
        raise ValueError(f"backprop_steps: loss must be a scalar computed from tensors that "
                         f"require grad; got shape {loss.shape}, grad_fn {loss.grad_fn}")
    data = walk([loss])
    if data.released:
        raise RuntimeError("backprop_steps: the graph was already freed by backward(); call "
                           "backprop_steps(loss) first, or backward(retain_graph=True)")
    names = _names(params)
    trace = _Trace.run(loss, data)
    units = _units(data, names, trace)
    steps = trace.steps(units)
    page = _steps_page.page(title or "backpropagation, step by step", units, data, steps)
    return StepsView(page, len(steps))


@dataclass
class StepsView:
    """The page: `html` (one self-contained document), `save(path)`, inline in Jupyter."""

    html: str
    n_steps: int

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.write_text(self.html, encoding="utf-8")
        return out

    def _repr_html_(self) -> str:
        # an iframe keeps the page's script and styles apart from the notebook's
        return (f'<iframe srcdoc="{html.escape(self.html)}" style="width:100%;height:720px;'
                f'border:1px solid #ccc" sandbox="allow-scripts"></iframe>')


@dataclass
class Unit:
    """A drawn node: an op (standing for its output) or a leaf tensor."""

    id: str
    kind: str  # "op", "param" (a leaf that requires grad), "const"
    title: str
    shape: tuple[int, ...]
    value: np.ndarray | None
    paths: int = 0  # gradient contributions summed here (2+ = an accumulation point)
    formula: str = ""


@dataclass
class _Trace:
    """The engine's run: each edge's gradient, in the order the engine handed them out."""

    edges: list[tuple[Function, int, np.ndarray]]
    outputs: dict[Function, Tensor] = field(default_factory=dict)
    seed: np.ndarray = field(default_factory=lambda: np.ones(()))
    root: Function | None = None

    @classmethod
    def run(cls, loss: Tensor, data: GraphData) -> _Trace:
        leaves = [t for t in data.leaves if t.requires_grad]
        with record_gradients() as tape:
            grad(loss, leaves, retain_graph=True, allow_unused=True)
        trace = cls([(node, i, g) for (node, i), g in tape.edges.items()])
        trace.root = loss.grad_fn
        trace.seed = np.ones(loss.shape, dtype=loss.dtype)
        trace.outputs[loss.grad_fn] = loss  # type: ignore[index]
        for e in data.edges:  # an op's output is the input tensor of the ops that read it
            if isinstance(e.src, Function):
                trace.outputs.setdefault(e.src, e.dst.inputs[e.slot])
        return trace

    def order(self) -> list[Function]:
        seen: dict[Function, None] = {}
        for node, _, _ in self.edges:
            seen.setdefault(node, None)
        return list(seen)

    def steps(self, units: dict[Any, Unit]) -> list[dict[str, Any]]:
        """One record per node, in the engine's order: what it received, read and sent."""
        arrived: dict[Any, list[np.ndarray]] = {}
        received: dict[Any, np.ndarray] = {}
        out = []
        for node in self.order():
            upstream = self.seed if node is self.root else received[node]
            sent = []
            for n, i, g in self.edges:
                if n is not node:
                    continue
                src = node.parents[i] if node.parents[i] is not None else node.inputs[i]
                parts = arrived.setdefault(src, [])
                parts.append(g)
                total = parts[0] if len(parts) == 1 else received[src] + g
                received[src] = total
                sent.append(_sent(units, node, i, src, g, total, len(parts)))
            out.append(_step(units[node], node, upstream, sent))
        return out


def _names(params: Any) -> dict[Any, str]:
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else params
    return {t: str(name) for name, t in items}


def _units(data: GraphData, names: dict[Any, str], trace: _Trace) -> dict[Any, Unit]:
    paths: dict[Any, int] = {}
    for node, i, _ in trace.edges:
        src = node.parents[i] if node.parents[i] is not None else node.inputs[i]
        paths[src] = paths.get(src, 0) + 1
    units: dict[Any, Unit] = {}
    for k, leaf in enumerate(data.leaves):
        kind = "param" if leaf.requires_grad else "const"
        title = names.get(leaf) or leaf.name or ("const" if kind == "const" else "leaf")
        units[leaf] = Unit(f"u{k}", kind, title, leaf.shape, leaf.array, paths.get(leaf, 0))
    for k, node in enumerate(data.ops, start=len(data.leaves)):
        t = trace.outputs.get(node)
        value = t.array if t is not None else None
        units[node] = Unit(f"u{k}", "op", node.op, node.shape, value, paths.get(node, 0),
                           formula(node))
    return units


def formula(node: Function) -> str:
    """The local derivative as the op's docstring states it (its first paragraph)."""
    doc = inspect.getdoc(type(node)) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip() or f"{node.op} (no docstring)"


def _step(unit: Unit, node: Function, upstream: np.ndarray, sent: list[dict[str, Any]]
          ) -> dict[str, Any]:
    inputs = [{"slot": i, "shape": list(t.shape), **show(t.array)}
              for i, t in enumerate(node.inputs)]
    return {"node": unit.id, "op": node.op, "formula": unit.formula,
            "upstream": show(upstream), "output": show(unit.value), "inputs": inputs,
            "sent": sent}


def _sent(units: dict[Any, Unit], node: Function, slot: int, src: Any, g: np.ndarray,
          total: np.ndarray, k: int) -> dict[str, Any]:
    target = units[src]
    return {"edge": f"e{units[node].id}_{slot}", "slot": slot, "to": target.id,
            "to_title": target.title, "grad": show(g), "label": edge_label(g),
            "path": k, "paths": target.paths, "sum": show(total),
            "sum_exact": np.asarray(total, dtype=np.float64).ravel().tolist()}


def show(array: np.ndarray | None) -> dict[str, Any]:
    """How the page shows an array: values when tiny, else shape and norm plus full text."""
    if array is None:
        return {"text": "(not kept)", "full": ""}
    a = np.asarray(array)
    if a.size <= SMALL:
        return {"text": _values(a), "full": ""}
    norm = float(np.linalg.norm(a.astype(np.float64).ravel()))
    full = np.array2string(a.ravel()[:FULL_LIMIT].reshape(-1) if a.size > FULL_LIMIT else a,
                           floatmode="unique", separator=", ", threshold=FULL_LIMIT + 1)
    if a.size > FULL_LIMIT:
        full += f"\n... (first {FULL_LIMIT} of {a.size} elements)"
    return {"text": f"shape {tuple(a.shape)}, norm {norm:.4g}", "full": full}


def edge_label(g: np.ndarray) -> str:
    a = np.asarray(g)
    if a.size == 1:
        return f"∇ = {a.item():.4g}"
    return f"‖∇‖ = {float(np.linalg.norm(a.astype(np.float64).ravel())):.4g}"


def _values(a: np.ndarray) -> str:
    if a.ndim == 0:
        return f"{a.item():.6g}"
    return np.array2string(a, precision=4, separator=", ", suppress_small=True)
