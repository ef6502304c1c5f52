"""The layout pipeline: modules, composites, repeated blocks, then size limits.

`layout()` gives every unit its representative (itself or a `Group` box, see `_group`):
1. the caller's `collapse` (modules as boxes), each composite call (a loss) as one box;
2. repeated blocks: where the same block (the same ops with the same output shapes, e.g.
   Linear -> ReLU) follows itself at least `MIN_REPEATS` times inside one module, the run
   is one box "Linear → ReLU ×20" (`fold_repeats=False` keeps them open);
3. while the picture has more than `max_nodes` nodes: modules from the deepest up, the
   longest chains, then consecutive parts of the topological order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tinygrad_edu.tensor import Tensor
from viz._group import (
    Group,
    Layout,
    _chunk,
    _collapse_composites,
    _collapse_modules,
    _common_path,
    _merge,
    _merge_chains,
    parent_path,
)
from viz._walk import GraphData

#: a block must follow itself this many times to be folded
MIN_REPEATS = 3
#: the longest block (in items: child modules or single ops) looked for
MAX_PERIOD = 6


def _item(home: str, parent: str) -> str | None:
    """The child of `parent` a unit homed at `home` belongs to ('' = the parent itself)."""
    if home == parent:
        return ""
    prefix = parent + "." if parent else ""
    if parent and not home.startswith(prefix):
        return None
    return prefix + home[len(prefix):].split(".", 1)[0]


def _runs(signatures: list[Any]) -> list[tuple[int, int, int]]:
    """(start, period, repeats) of the longest repetitions, left to right, no overlap."""
    runs = []
    i = 0
    while i < len(signatures):
        best = (0, 0)
        for p in range(1, MAX_PERIOD + 1):
            k = 1
            while (i + (k + 1) * p <= len(signatures)
                   and signatures[i + k * p:i + (k + 1) * p] == signatures[i:i + p]):
                k += 1
            if k >= MIN_REPEATS and p * k > best[0] * best[1]:
                best = (p, k)
        if best[0]:
            runs.append((i, *best))
            i += best[0] * best[1]
        else:
            i += 1
    return runs


def fold_repeats(data: GraphData, lay: Layout, kinds: Mapping[str, str]) -> None:
    """Fold runs of a repeated block into one 'repeat' box per run (see the module doc)."""
    parents = sorted({parent_path(h) for h in lay.home.values() if h} | {""},
                     key=lambda p: len(p.split(".")) if p else 0)
    done: set[Any] = set()
    for parent in parents:
        items: dict[Any, list[Any]] = {}  # item -> its ops, in topological order
        for node in data.ops:
            key = _item(lay.home[node], parent)
            rep = lay.rep[node]
            if key is None or node in done or (isinstance(rep, Group) and rep.kind == "composite"):
                continue  # a composite (a loss, an L2 term) is drawn as its own box
            items.setdefault(key if key else node, []).append(node)
        order = list(items)
        sigs = [tuple((n.op, n.shape) for n in items[k]) for k in order]
        for start, period, repeats in _runs(sigs):
            keys = order[start:start + period * repeats]
            ops = [n for k in keys for n in items[k]]
            block = [kinds.get(k, k.rsplit(".", 1)[-1]) if isinstance(k, str) else k.op
                     for k in keys[:period]]
            paths = {k for k in keys if isinstance(k, str)}
            _fold_run(data, lay, ops, paths, f"{' → '.join(block)} ×{repeats}", parent)
            done.update(ops)


def _fold_run(data: GraphData, lay: Layout, ops: list[Any], paths: set[str], title: str,
              parent: str) -> None:
    """One box for `ops`, with the parameters of the run's modules (`paths`) and the
    unnamed parameters only the run uses; data and named inputs stay outside."""
    inside = set(ops)
    reps = {id(lay.rep[n]): lay.rep[n] for n in ops}
    users: dict[Any, set[bool]] = {}
    for e in data.edges:
        if isinstance(e.src, Tensor):
            users.setdefault(e.src, set()).add(e.dst in inside)
    for t, where in users.items():
        own = any(lay.home[t] == p or lay.home[t].startswith(p + ".") for p in paths)
        if t.requires_grad and (own or (where == {True} and not t.name)):
            reps.setdefault(id(lay.rep[t]), lay.rep[t])
    group = Group("repeat", title, parent)
    _merge(lay, list(reps.values()), group)
    group.path = _common_path({lay.home[u] for u in group.members}) if parent else ""
    if parent and not group.path.startswith(parent):
        group.path = parent


def layout(data: GraphData, home: dict[Any, str], collapse: Any, max_nodes: int,
           folded: Mapping[Any, Any] | None = None, composites: bool = True,
           repeats: bool = True, kinds: Mapping[str, str] | None = None) -> Layout:
    """What each unit is drawn as; `folded` units are drawn inside the op they map to;
    `composites`: each composite call (a loss) is one box; `repeats`: runs of a repeated
    block are one box."""
    folded = folded or {}
    chosen: frozenset[str] = frozenset()
    depth: int | None = None
    if isinstance(collapse, int) and not isinstance(collapse, bool):
        depth = collapse
    elif isinstance(collapse, str):
        chosen = frozenset([collapse])
    elif collapse is not None:
        chosen = frozenset(collapse)

    def modules(k: int | None) -> Layout:
        lay = _collapse_modules(data, home, chosen, k)
        if composites:
            _collapse_composites(data, lay)
        if repeats:
            fold_repeats(data, lay, kinds or {})
        lay.absorb(folded)
        return lay

    outs = data.outputs
    lay = modules(depth)
    full = lay.count(outs)
    if full <= max_nodes:
        return lay
    deepest = max((len(p.split(".")) for p in home.values() if p), default=0)
    for k in range(deepest - 1, -1, -1):
        if depth is not None and k >= depth:
            continue
        lay = modules(k)
        if lay.count(outs) <= max_nodes:
            break
    if deepest and lay.count(outs) < full:
        lay.notes.append("modules drawn as boxes, deepest first")
    budget = max_nodes - len(outs)
    if lay.count(outs) > max_nodes:
        _merge_chains(data, lay, budget)
        lay.absorb(folded)
    if lay.count(outs) > max_nodes:
        _chunk(data, lay, max(1, budget // 2))
        lay.absorb(folded)
    lay.notes.insert(0, f"{full} nodes > max_nodes={max_nodes}, collapsed automatically:")
    return lay
