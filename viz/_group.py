"""Decide what is drawn as what: module clusters, collapsed modules, merged chains, chunks.

Every unit of the graph (an op node or a leaf) gets a representative: itself, when drawn as
its own node, or a `Group` box that stands for many units. The steps are here; `_layout`
runs them: the caller's `collapse`, composites, then, while the picture has more than
`max_nodes` nodes, modules from the deepest up, the longest chains of ops, and finally
consecutive chunks of the topological order (contracting consecutive chunks of a
topological order cannot create a cycle).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tinygrad_edu.tensor import Tensor
from viz._walk import GraphData


@dataclass(eq=False)
class Group:
    """One box standing for several units (`kind`: 'module', 'composite', 'chain',
    'chunk' or 'repeat')."""

    kind: str
    title: str
    path: str  # the module cluster the box is drawn in ('' = top level)
    members: list[Any] = field(default_factory=list)
    call: Any = None  # a composite box: the `Composite` call it stands for


@dataclass
class Layout:
    rep: dict[Any, Any]  # unit -> itself or its Group
    home: dict[Any, str]  # unit -> module path of the cluster it is drawn in
    groups: list[Group]
    notes: list[str]

    def location(self, rep: Any) -> str:
        return rep.path if isinstance(rep, Group) else self.home[rep]

    def absorb(self, host: Mapping[Any, Any]) -> None:
        """Draw each unit of `host` inside the box of the op it is folded into."""
        for unit, into in host.items():
            old, new = self.rep[unit], self.rep[into]
            if isinstance(old, Group) and old is not new and unit in old.members:
                old.members.remove(unit)
            if isinstance(new, Group) and old is not new:
                new.members.append(unit)
            self.rep[unit] = new
            self.home[unit] = self.location(new)

    def merged_outputs(self, outputs: list[tuple[Any, Any]]) -> set[Any]:
        """Output units drawn as their own op node (no separate output node): an op shown
        by itself that produces one output."""
        owners = Counter(id(self.rep[unit]) for _, unit in outputs)
        return {unit for _, unit in outputs if self.rep[unit] is unit
                and not isinstance(unit, Tensor) and owners[id(unit)] == 1}

    def count(self, outputs: list[tuple[Any, Any]]) -> int:
        return len(set(self.rep.values())) + len(outputs) - len(self.merged_outputs(outputs))


def parent_path(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def homes(data: GraphData, names: Mapping[Any, str],
          clusters: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """Module path of each unit: an op's own (or its path in `clusters`); a leaf's from its
    dotted name in `params` ('encoder.weight' -> 'encoder'), else the one module all its
    consumers share, except that named constants (data inputs such as
    `Tensor(x, name='x')`) stay at the top level."""
    clusters = clusters or {}
    home: dict[Any, str] = {node: clusters.get(node, node.module_path) for node in data.ops}
    known: set[str] = set()
    for path in set(home.values()):
        while path and path not in known:
            known.add(path)
            path = parent_path(path)
    consumers: dict[Any, set[str]] = {}
    for e in data.edges:
        if e.src not in home:
            consumers.setdefault(e.src, set()).add(home[e.dst])
    for t in data.leaves:
        paths = consumers.get(t, set())
        name = names.get(t, "")
        where = ""
        if "." in name and parent_path(name) in known:
            where = parent_path(name)
        elif len(paths) == 1 and (t.requires_grad or not (name or t.name)):
            where = next(iter(paths))
        home[t] = where
    return home


def composite_clusters(data: GraphData) -> dict[Any, str]:
    """For drawing composites opened: each call's ops in a cluster of their own inside
    their module, named after the composite ('CrossEntropy', 'CrossEntropy 2', ...)."""
    titles: dict[Any, str] = {}
    counts: dict[str, int] = {}
    out: dict[Any, str] = {}
    for node in data.ops:
        call = node.composite
        if call is None:
            continue
        if call not in titles:
            counts[call.name] = counts.get(call.name, 0) + 1
            n = counts[call.name]
            titles[call] = call.name if n == 1 else f"{call.name} {n}"
        base = node.module_path
        out[node] = f"{base}.{titles[call]}" if base else titles[call]
    return out


def _targets(paths: Iterable[str], chosen: frozenset[str], depth: int | None) -> dict[str, str]:
    """For each module path, the outermost collapsed module containing it (if any)."""
    target: dict[str, str] = {}
    for path in paths:
        if not path:
            continue
        parts = path.split(".")
        for k in range(1, len(parts) + 1):
            prefix = ".".join(parts[:k])
            if prefix in chosen or (depth is not None and k > depth):
                target[path] = prefix
                break
    return target


def _collapse_modules(data: GraphData, home: dict[Any, str], chosen: frozenset[str],
                      depth: int | None) -> Layout:
    target = _targets(set(home.values()), chosen, depth)
    boxes: dict[str, Group] = {}
    rep: dict[Any, Any] = {}
    for unit, path in home.items():
        box_path = target.get(path)
        if box_path is None:
            rep[unit] = unit
            continue
        box = boxes.get(box_path)
        if box is None:
            box = boxes[box_path] = Group("module", box_path, parent_path(box_path))
        box.members.append(unit)
        rep[unit] = box
    return Layout(rep, home, list(boxes.values()), [])


def _collapse_composites(data: GraphData, lay: Layout) -> None:
    """Each composite call (a loss) drawn as one box: its ops not already inside a collapsed
    module, and the unnamed constants only those ops use (a one-hot matrix); the
    composite's own tensor arguments stay outside, so their edges can be labelled."""
    boxes: dict[Any, Group] = {}
    for node in data.ops:
        call = node.composite
        if call is None or lay.rep[node] is not node:
            continue
        box = boxes.get(call)
        if box is None:
            box = boxes[call] = Group("composite", call.name, "", call=call)
        box.members.append(node)
        lay.rep[node] = box
    if not boxes:
        return
    users: dict[Any, set[int]] = {}
    for e in data.edges:
        if isinstance(e.src, Tensor):
            users.setdefault(e.src, set()).add(id(lay.rep[e.dst]))
    by_id = {id(b): b for b in boxes.values()}
    outputs = {unit for _, unit in data.outputs}
    for t in data.leaves:
        ids = users.get(t, set())
        box = by_id.get(next(iter(ids))) if len(ids) == 1 else None
        if (box is not None and not t.requires_grad and not t.name and t not in outputs
                and not any(a is t for a in box.call.arguments.values())):
            box.members.append(t)
            lay.rep[t] = box
    for box in boxes.values():
        box.path = _common_path({lay.home[u] for u in box.members})
    lay.groups += list(boxes.values())


def _rep_graph(data: GraphData, lay: Layout) -> tuple[dict[Any, set[Any]], dict[Any, set[Any]]]:
    succ: dict[Any, set[Any]] = {}
    pred: dict[Any, set[Any]] = {}
    for e in data.edges:
        a, b = lay.rep[e.src], lay.rep[e.dst]
        if a is not b:
            succ.setdefault(a, set()).add(b)
            pred.setdefault(b, set()).add(a)
    return succ, pred


def _is_leaf(rep: Any) -> bool:
    return isinstance(rep, Tensor)  # ops are Functions, boxes are Groups


def _units(rep: Any) -> list[Any]:
    return rep.members if isinstance(rep, Group) else [rep]


def _merge(lay: Layout, reps: list[Any], group: Group) -> None:
    """Point every unit represented by one of `reps` at `group`."""
    for r in reps:
        for unit in _units(r):
            lay.rep[unit] = group
            group.members.append(unit)
    absorbed = {id(r) for r in reps if isinstance(r, Group)}
    lay.groups = [g for g in lay.groups if id(g) not in absorbed] + [group]


def _common_path(paths: Iterable[str]) -> str:
    parts: list[str] | None = None
    for path in paths:
        p = path.split(".") if path else []
        if parts is None:
            parts = p
            continue
        k = 0
        while k < min(len(parts), len(p)) and parts[k] == p[k]:
            k += 1
        parts = parts[:k]
    return ".".join(parts or [])


def _merge_chains(data: GraphData, lay: Layout, budget: int) -> int:
    """Merge the inside of maximal chains (each box feeds only the next, which has no
    other non-leaf input), longest first, with the leaves only they use, until `budget`
    is met."""
    succ, pred = _rep_graph(data, lay)
    nxt: dict[Any, Any] = {}
    has_prev: set[Any] = set()
    for a, bs in succ.items():
        if _is_leaf(a) or len(bs) != 1:
            continue
        (b,) = bs
        if not _is_leaf(b) and len([p for p in pred[b] if not _is_leaf(p)]) == 1:
            nxt[a] = b
            has_prev.add(b)
    chains: list[list[Any]] = []
    for start in nxt:
        if start in has_prev:
            continue
        chain = [start]
        while chain[-1] in nxt:
            chain.append(nxt[chain[-1]])
        if len(chain) >= 4:  # the ends stay visible, so the reader sees what goes in and out
            chains.append(chain[1:-1])
    chains.sort(key=len, reverse=True)
    count = len(set(lay.rep.values()))
    merged = 0
    for chain in chains:
        if count <= budget:
            break
        members = set(chain)
        only_here = [r for r in _pred_union(pred, chain) if _is_leaf(r)
                     and succ.get(r, set()) <= members]
        reps = chain + only_here
        group = Group("chain", "", _common_path({lay.location(r) for r in reps}))
        _merge(lay, reps, group)
        count -= len(reps) - 1
        merged += 1
    if merged:
        lay.notes.append(f"{merged} chain{'s' * (merged > 1)} of ops merged into boxes")
    return count


def _pred_union(pred: dict[Any, set[Any]], reps: list[Any]) -> set[Any]:
    out: set[Any] = set()
    for r in reps:
        out |= pred.get(r, set())
    return out


def _chunk(data: GraphData, lay: Layout, budget: int) -> None:
    """Cut the topological order into at most `budget` consecutive boxes, leaves included
    in the box of their first consumer."""
    first: dict[Any, int] = {}
    for unit, r in lay.rep.items():
        pos = data.position[unit]
        if first.get(r, pos + 1) > pos:
            first[r] = pos
    succ, _ = _rep_graph(data, lay)
    order = sorted((r for r in first if not _is_leaf(r)), key=first.__getitem__)
    n_boxes = max(1, min(budget, len(order)))
    size = -(-len(order) // n_boxes)
    box_of: dict[Any, Group] = {}
    boxes: list[Group] = []
    for k in range(0, len(order), size):
        reps = order[k:k + size]
        box = Group("chunk", "", "")
        boxes.append(box)
        for r in reps:
            box_of[r] = box
    for r in first:
        if _is_leaf(r):
            consumers = succ.get(r)
            if consumers:
                box_of[r] = box_of[min(consumers, key=first.__getitem__)]
    for i, box in enumerate(boxes):
        box.title = f"part {i + 1} of {len(boxes)}"
    for r, box in box_of.items():
        for unit in _units(r):
            lay.rep[unit] = box
            box.members.append(unit)
    for box in boxes:
        box.path = _common_path({lay.home[u] for u in box.members})
    lay.groups = boxes
    lay.notes.append(f"the rest cut into {len(boxes)} consecutive parts of the graph")
