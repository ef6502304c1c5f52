"""Turn a walked graph, its layout and its gradients into a graphviz.Digraph."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from tinygrad_edu.tensor import Tensor
from viz import _labels as L
from viz._group import Group, Layout, parent_path
from viz._walk import Gradients, GraphData, unit_of

CLUSTER_FILLS = ("#f7f7fc", "#ededf7", "#e3e3f1", "#d9d9eb")


@dataclass(frozen=True)
class Options:
    show_data: bool  # values of tiny tensors in node labels
    scalars: bool  # output scalars show their value (unless show_data=False was asked)
    show_grad: bool
    grad_format: str
    group_modules: bool
    formulas: dict[Any, str] = field(default_factory=dict)  # unit -> short maths title


class Drawing:
    """Turns a walked graph and its layout into DOT statements."""

    def __init__(self, data: GraphData, lay: Layout, grads: Gradients, names: dict[Any, str],
                 kinds: dict[str, str], opts: Options) -> None:
        self.data, self.lay, self.grads, self.names, self.kinds = data, lay, grads, names, kinds
        self.show_data, self.show_grad = opts.show_data, opts.show_grad
        self.grad_format, self.group_modules = opts.grad_format, opts.group_modules
        self.scalars = opts.scalars
        self.formulas = opts.formulas
        # An output drawn as its own op node (not a separate octagon): unit -> tensor.
        self.merged: dict[Any, tuple[int, Tensor]] = {}
        self.ids: dict[int, str] = {}
        self.inputs: dict[int, dict[Any, tuple[int, ...]]] = {}  # box -> tensors entering
        self.outs: dict[int, dict[Any, tuple[int, ...]]] = {}  # box -> tensors leaving
        self.clusters_by_path: dict[str, Any] = {}
        self.values_missing = 0  # op nodes whose value was asked for but is gone
        #: accumulation point -> the gradients of its edges, in the order they are numbered
        self.contributions: dict[Any, list[np.ndarray | None]] = {}

    def module_title(self, path: str, last_only: bool) -> str:
        name = path.rsplit(".", 1)[-1] if last_only else path
        kind = self.kinds.get(path)
        return f"{name}: {kind}" if kind else name

    def location(self, rep: Any) -> str:
        return self.lay.location(rep) if self.group_modules else ""

    def node_id(self, rep: Any) -> str:
        key = id(rep)
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
        return self.ids[key]

    def paths(self, unit: Any) -> int:
        return self.grads.paths(unit, self.data.fanout.get(unit, 0)) if self.show_grad else 0

    # ---------------------------------------------------------------- assembling
    def build(self, rankdir: str, legend: bool) -> graphviz.Digraph:
        g = graphviz.Digraph("graph", graph_attr={
            "rankdir": rankdir, "fontname": "Helvetica", "fontsize": "10", "labelloc": "b",
            "labeljust": "l", "nodesep": "0.25", "ranksep": "0.35"})
        g.attr("node", fontname="Helvetica", fontsize="11")
        g.attr("edge", fontname="Helvetica", fontsize="9")
        edge_lines = self.edges()  # first: it collects the boundaries of the boxes
        for k, (t, unit) in enumerate(self.data.outputs):
            self.outs.setdefault(id(self.lay.rep[unit]), {})[unit] = t.shape
            if unit in self.lay.merged_outputs(self.data.outputs):
                self.merged[unit] = (k, t)
        reps: list[Any] = []
        seen: set[int] = set()
        for unit in [*self.data.leaves, *self.data.ops]:
            rep = self.lay.rep[unit]
            if id(rep) not in seen:
                seen.add(id(rep))
                reps.append(rep)
        clusters = self.clusters(g, [self.location(r) for r in reps])
        self.clusters_by_path = clusters
        for rep in reps:
            name = self.node_id(rep)
            attrs = self.group_attrs(rep) if isinstance(rep, Group) else self.unit_attrs(rep)
            clusters[self.location(rep)].node(name, **attrs)
        self.beside_consumers(clusters, reps)
        for k, (t, unit) in enumerate(self.data.outputs):
            if unit not in self.merged:
                self.output(g, k, t, unit)
        for group in self.lay.groups:
            if group.kind == "composite":
                self.arguments_outside(g, group)
        for path in sorted(clusters, key=lambda p: -len(p.split("."))):
            if path:
                clusters[parent_path(path)].subgraph(clusters[path])
        for src, dst, attrs in edge_lines:
            g.edge(src, dst, **attrs)
        notes = list(self.lay.notes)
        if self.grads.note:
            notes.append(self.grads.note)
        if self.values_missing:
            notes.append(L.VALUES_NOT_RECORDED)
        if legend and self.show_grad:
            notes.append(L.LEGEND)
        if notes:
            g.attr(label=L.label(notes))
        return g

    def beside_consumers(self, clusters: dict[str, Any], reps: list[Any]) -> None:
        """A parameter used by one box only is drawn on the same rank, beside it: the chain
        of ops then runs straight (a deep net is not a staircase)."""
        users: dict[int, set[int]] = {}
        for e in self.data.edges:
            a, b = self.lay.rep[e.src], self.lay.rep[e.dst]
            if isinstance(a, Tensor) and a.requires_grad and a is not b:
                users.setdefault(id(a), set()).add(id(b))
        by_id = {id(r): r for r in reps}
        beside: dict[int, list[Any]] = {}
        for r in reps:
            used = users.get(id(r), set())
            if len(used) == 1:
                (b,) = used
                if self.location(by_id[b]) == self.location(r):
                    beside.setdefault(b, []).append(r)
        for b, params in beside.items():
            with clusters[self.location(by_id[b])].subgraph() as same:
                same.attr(rank="same")
                for r in (*params, by_id[b]):
                    same.node(self.node_id(r))

    def clusters(self, g: graphviz.Digraph, locations: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"": g}
        for path in sorted(set(locations)):
            while path and path not in out:
                depth = len(path.split("."))
                out[path] = graphviz.Digraph(f"cluster_{len(out)}", graph_attr={
                    "label": L.label([self.module_title(path, True)]),
                    "style": "rounded,filled",
                    "color": "#9e9e9e", "fillcolor": CLUSTER_FILLS[(depth - 1) % 4],
                    "fontcolor": "#4b3b78", "labeljust": "l", "labelloc": "t",
                    "tooltip": L.label([f"module {path}"])})
                path = parent_path(path)
        return out

    # ---------------------------------------------------------------- nodes
    def unit_attrs(self, unit: Any) -> dict[str, str]:
        if isinstance(unit, Tensor):
            return self.leaf_attrs(unit)
        node = unit
        out = node.output_if_alive()
        if out is not None and out._ctx is not node:  # overwritten in place since (relu_)
            out = None
        merged = self.merged.get(node)
        given = merged[1] if merged is not None else None
        name = out.name if out is not None else None
        if merged is not None:
            name = merged[1].name or self.output_title(merged[0])
        formula = self.formulas.get(node)
        title = formula or node.op
        lines = [f"{name} = {title}" if name else title]
        lines.append((f"{node.op} " if formula else "") + L.shape_dtype(node.shape, node.dtype))
        if self.show_data or (given is not None and self.scalars and math.prod(node.shape) == 1):
            value = out.array if out is not None else self.grads.value(node)
            if value is None:
                self.values_missing += 1
            lines += L.data_lines("data", value)
        if self.show_data:
            lines += L.data_lines("grad", self.grads.total(node))
        where = node.module_path or "top level"
        tip = [f"{node.op} -> {L.shape_dtype(node.shape, node.dtype)}", f"module: {where}"]
        if node.composite is not None:
            tip.append(f"part of {node.composite.name}")
        if getattr(node, "created_at", None):
            tip.append(f"created at {node.created_at}")
        attrs = self.finish("op", lines, tip, self.paths(node), self.grads.total(node), node)
        if given is not None:  # the output is this node: drawn in the output's style
            attrs.update({k: v for k, v in L.NODE_STYLES["output"].items() if k != "shape"})
            attrs["class"] = attrs["class"].replace("op", "op output", 1)
        return attrs

    def leaf_attrs(self, t: Tensor) -> dict[str, str]:
        kind = "param" if t.requires_grad else "const"
        name = self.names.get(t) or t.name or ("param" if t.requires_grad else "const")
        lines = [name, L.shape_dtype(t.shape, t.dtype)]
        g = self.grads.total(t) if t.requires_grad else None
        if g is None and t.requires_grad and t.grad is not None:
            g = t.grad.array
        if self.show_data:
            lines += L.data_lines("data", t.array)
            lines += L.data_lines("grad", g)
        tip = [f"{'parameter' if t.requires_grad else 'constant'} {name}",
               L.shape_dtype(t.shape, t.dtype)]
        return self.finish(kind, lines, tip, self.paths(t) if t.requires_grad else 0, g, t)

    def finish(self, kind: str, lines: list[str], tip: list[str], paths: int,
               total: np.ndarray | None, unit: Any = None) -> dict[str, str]:
        attrs = dict(L.NODE_STYLES[kind])
        css = kind
        if paths > 1:
            lines = [*lines, *L.accumulation_text(paths, total, self.grad_format,
                                                  self.contributions.get(unit, []))]
            tip = [*tip, f"gradients from {paths} paths are summed here"]
            attrs.update(L.ACCUM_STYLE)
            css += " accum"
        attrs.update({"label": L.label(lines), "tooltip": L.label(tip), "class": css})
        return attrs

    def group_attrs(self, group: Group) -> dict[str, str]:
        ops = Counter(u.op for u in group.members if not isinstance(u, Tensor))
        params = [u for u in group.members if isinstance(u, Tensor) and u.requires_grad]
        n_ops = sum(ops.values())
        kinds = ", ".join(f"{op} ×{n}" for op, n in ops.most_common(3))
        if len(ops) > 3:
            kinds += ", …"
        scalars = sum(p.array.size for p in params)  # as print(model) counts them
        if group.kind == "module":
            head = [self.module_title(group.title, False), f"{n_ops} ops, {scalars:,} params"]
        elif group.kind == "repeat":
            head = [group.title, f"{n_ops} ops, {scalars:,} params"]
        elif group.kind == "composite":
            order = list(dict.fromkeys(u.op for u in group.members if not isinstance(u, Tensor)))
            steps = " → ".join(order[:4]) + (" → …" if len(order) > 4 else "")
            head = [group.title, steps]
        elif group.kind == "chain":
            head = [f"chain of {n_ops} ops" + (f", {scalars:,} params" if params else ""), kinds]
        else:
            head = [f"{n_ops} ops ({group.title})" + (f", {scalars:,} params" if params else ""),
                    kinds]
        lines = [*head, "in: " + _shapes(self.inputs.get(id(group), {})),
                 "out: " + _shapes(self.outs.get(id(group), {}))]
        attrs = dict(L.NODE_STYLES[group.kind])
        tip = [f"{group.kind} {group.title}: {n_ops} ops", kinds,
               "params: " + ", ".join(self.names.get(p) or p.name or "?" for p in params[:8])]
        attrs.update({"label": L.label(lines), "tooltip": L.label(tip), "class": group.kind})
        return attrs

    def arguments_outside(self, g: graphviz.Digraph, group: Group) -> None:
        """A composite's tensor arguments that are not in the graph (integer class labels):
        drawn as constants with an edge named after the argument ("target")."""
        for arg, t in group.call.arguments.items():
            if unit_of(t) in self.data.position:
                continue
            name = self.node_id(t)
            lines = [t.name or arg, L.shape_dtype(t.shape, t.dtype)]
            if self.show_data:
                lines += L.data_lines("data", t.array)
            attrs = dict(L.NODE_STYLES["const"])
            attrs.update({"label": L.label(lines), "class": "const",
                          "tooltip": L.label([f"{arg} of {group.title}"])})
            self.clusters_by_path.get(group.path, g).node(name, **attrs)
            g.edge(name, self.node_id(group), label=L.label([arg]), **L.CONST_EDGE,
                   **{"class": "const"})

    def output_title(self, k: int) -> str:
        return "output" if len(self.data.outputs) == 1 else f"output {k}"

    def output(self, g: graphviz.Digraph, k: int, t: Tensor, unit: Any) -> None:
        name = f"out{k}"
        title = t.name or self.output_title(k)
        lines = [title, L.shape_dtype(t.shape, t.dtype)]
        if self.show_data or (self.scalars and t.array.size == 1):
            lines += L.data_lines("data", t.array)
        attrs = dict(L.NODE_STYLES["output"])
        attrs.update({"label": L.label(lines), "class": "output"})
        g.node(name, **attrs)
        rep = self.lay.rep[unit]
        edge: dict[str, str] = {"class": "output"}
        if self.show_grad and t.requires_grad:
            seed = self.grads.total(unit)
            edge["label"] = L.label(L.grad_text(t.shape, seed, self.grad_format))
            edge.update(L.GRAD_EDGE)
        g.edge(self.node_id(rep), name, **edge)

    # ---------------------------------------------------------------- edges
    def edges(self) -> list[tuple[str, str, dict[str, str]]]:
        """One DOT edge per (source box, target box, source tensor); edges into and out
        of merged chains/parts are bundled per pair of boxes. Bundled gradients of one
        tensor are summed, which is the gradient of that tensor from the box."""
        rep = self.lay.rep
        bundles: dict[tuple[int, int, int, int], list[Any]] = {}
        for e in self.data.edges:
            a, b = rep[e.src], rep[e.dst]
            if a is b:
                continue
            if isinstance(b, Group):
                self.inputs.setdefault(id(b), {})[e.src] = e.shape
            if isinstance(a, Group):
                self.outs.setdefault(id(a), {})[e.src] = e.shape
            merged = any(isinstance(r, Group) and r.kind in ("chain", "chunk", "repeat")
                         for r in (a, b))
            # Two inputs of one op fed by the same tensor (x * x) stay two edges: two paths.
            key = (id(a), id(b), 0 if merged else id(e.src),
                   -1 if isinstance(b, Group) else e.slot)
            if key not in bundles:
                bundles[key] = [a, b, []]
            bundles[key][2].append(e)
        lines = []
        for a, b, group in bundles.values():
            attrs = self.edge_attrs(a, group)
            if not isinstance(a, Tensor):  # data flowing op to op: kept short and straight
                attrs["weight"] = "8"
            if isinstance(b, Group) and b.kind == "composite":
                self.name_argument(attrs, b, group[0].src)
            lines.append((self.node_id(a), self.node_id(b), attrs))
        return lines

    def name_argument(self, attrs: dict[str, str], box: Group, src: Any) -> None:
        """Put the composite's parameter name ("input", "target") on an edge into its box."""
        for arg, t in box.call.arguments.items():
            if unit_of(t) is src:
                text = str(attrs.get("label", ""))  # already DOT text: prepend a line
                head = L.label([arg])
                attrs["label"] = graphviz.nohtml(f"{head}\\n{text}" if text else head)
                return

    def edge_attrs(self, src_rep: Any, edges: list[Any]) -> dict[str, str]:
        needs = [e for e in edges if e.needs_grad]
        if not needs:
            return {**L.CONST_EDGE, "class": "const"}
        if not self.show_grad:
            return {"class": "grad"}
        sources = {id(e.src) for e in needs}
        accumulates = not isinstance(src_rep, Group) and self.paths(src_rep) > 1
        if len(sources) > 1:
            text = [f"{len(sources)} tensors"]
        else:
            parts = [self.grads.edge(e.dst, e.slot) for e in needs]
            total = None if any(p is None for p in parts) else _sum(parts)
            k = 0
            if accumulates:  # number the contributions, as the sum at the node names them
                k = len(self.contributions.setdefault(src_rep, [])) + 1
                self.contributions[src_rep].append(total)
            text = L.grad_text(needs[0].shape, total, self.grad_format, k)
        attrs = {"label": L.label(text), "class": "grad accum" if accumulates else "grad"}
        attrs.update(L.ACCUM_EDGE if accumulates else L.GRAD_EDGE)
        return attrs


def _sum(parts: list[Any]) -> np.ndarray:
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return np.asarray(total)


def _shapes(shapes: dict[Any, tuple[int, ...]]) -> str:
    texts = [L.shape_text(s) for s in shapes.values()]
    if not texts:
        return "-"
    return ", ".join(texts[:3]) + (f", … ({len(texts)} tensors)" if len(texts) > 3 else "")
