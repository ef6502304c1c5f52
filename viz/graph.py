"""Draw the graph behind a tensor with Graphviz: ops, leaves, gradients, accumulation, modules.

    import viz
    with tinygrad_edu.record_gradients() as tape:
        loss.backward()
    g = viz.draw_graph(loss, params=dict(model.named_parameters()), tape=tape)
    viz.render(g, "graph.svg")        # or just `g` as the last line of a Jupyter cell

Arrows point the way data flows forward; each edge is labelled with the gradient that flows
back along it; a node whose gradient is a sum over several paths is marked `Σ n paths`.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import graphviz

from tinygrad_edu.autograd import GradientTape
from tinygrad_edu.tensor import Tensor
from viz import _labels as L
from viz._draw import Drawing, Options
from viz._group import Layout, composite_clusters, homes
from viz._layout import layout
from viz._maths import fold, formulas
from viz._walk import Gradients, GraphData, compute_gradients, walk

GRAD_FORMATS = ("norm", "value", "shape")
#: a picture more boxes deep than this is laid out top to bottom (rankdir=None)
DEEP = 6
RANKDIRS = ("LR", "TB", "RL", "BT")
RENDER_FORMATS = ("svg", "png", "pdf")


class GraphvizNotFoundError(RuntimeError):
    """Raised by `render` when Graphviz's `dot` program is not installed."""


def draw_graph(
    *outputs: Tensor,
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    show_data: bool | None = None,
    show_grad: bool = True,
    tape: GradientTape | None = None,
    grad_format: str = "norm",
    group_modules: bool = True,
    collapse: str | Iterable[str] | int | None = None,
    max_nodes: int = 300,
    rankdir: str | None = None,
    legend: bool = True,
    model: Any = None,
    expand_composites: bool = False,
    fold_repeats: bool = True,
) -> graphviz.Digraph:
    """The graph that produced `outputs`, as a `graphviz.Digraph` (shows inline in Jupyter).

    Nodes: grey dashed boxes are constants/data, blue boxes leaves that require grad
    (named from `params`, e.g. `dict(model.named_parameters())`, else `Tensor.name`),
    yellow ellipses ops (op name, output shape and dtype), green octagons the outputs,
    3-d boxes collapsed modules, folders merged chains or parts of a large graph.

    - `show_data`: values of tiny tensors (at most 16 elements) in the labels, micrograd
      style (data, and grad when known); `None` turns it on for graphs of at most 30 nodes.
    - `show_grad`: label every edge with the gradient that flows back along it (its shape,
      and with `grad_format` 'norm' its norm or 'value' its entries) and mark every tensor
      where contributions from several paths are summed (red double border, `Σ n paths`).
      The values come from `tape` (`with record_gradients() as tape: loss.backward()`).
      Without a tape, while the graph still holds its arrays and the outputs are scalars,
      they are computed here by one extra pass, `autograd.grad(outputs, leaves,
      retain_graph=True)` inside `record_gradients()`: `.grad` is not touched. After a
      `backward()` that freed the graph, edges show gradient shapes only.
    - `group_modules`: nodes created inside `nn.Module`s go into nested clusters by module
      path. `collapse` draws modules as single boxes showing their input and output
      shapes: a module path, a list of paths, or an int k (every module nested deeper than
      k levels; 0 = every top-level module).
    - `max_nodes`: a larger graph is collapsed automatically (modules deepest first, then
      the longest chains of ops, then consecutive parts), with a note in the graph label.
    - `model`: the `nn.Module` that was called; its class names label the clusters and
      boxes (`fc1: Linear`) and its `named_parameters()` are used when `params` is None.
    - `expand_composites`: draw each composite (a loss such as cross_entropy, built from
      several primitives) as its primitives, in a cluster named after it, instead of one
      named box (`CrossEntropy`, its tensor arguments on the edges going in: input, target).
    - `fold_repeats`: a block repeated at least 3 times in a row (the 20 Linear -> ReLU
      of a deep MLP) is one box "Linear → ReLU ×20" with the parameters it holds;
      False opens it.
    - `rankdir`: "LR", "TB", "RL" or "BT"; None (the default) lays a picture more than
      6 boxes deep out top to bottom, a shallower one left to right.
    - `legend`: a line under the picture that explains arrows, edge labels and `Σ`.
    """
    tensors = _check(outputs, grad_format, rankdir, max_nodes, collapse)
    names: dict[Any, str] = {}
    kinds: dict[str, str] = {}
    if model is not None:
        kinds = {p: type(m).__name__ for p, m in model.named_modules() if p}
        if params is None:
            params = model.named_parameters()
    if params is not None:
        items = params.items() if isinstance(params, Mapping) else params
        for name, t in items:
            names[t] = str(name)
    data = walk(tensors)
    if not show_grad:
        grads = Gradients(None)
    elif tape is not None:
        grads = Gradients(tape)
    else:
        grads = compute_gradients(data)
    folded = fold(data, names)
    opened = composite_clusters(data) if expand_composites else None
    lay = layout(data, homes(data, names, opened), collapse, max_nodes, folded,
                 composites=not expand_composites, repeats=fold_repeats, kinds=kinds)
    scalars = show_data is not False  # an output scalar shows its value unless told not to
    if show_data is None:
        units: list[Any] = [*data.ops, *data.leaves]
        show_data = data.size <= L.AUTO_DATA_NODES and all(
            math.prod(u.shape) <= L.VALUE_LIMIT for u in units)
    opts = Options(show_data, scalars, show_grad, grad_format, group_modules,
                   formulas(data, names, folded))
    if rankdir is None:
        rankdir = "TB" if ranks(data, lay) > DEEP else "LR"
    return Drawing(data, lay, grads, names, kinds, opts).build(rankdir, legend)


def ranks(data: GraphData, lay: Layout) -> int:
    """The number of boxes on the longest path of the drawing (the depth of the picture)."""
    level: dict[int, int] = {}
    for e in data.edges:  # edges come in topological order of their target op
        a, b = lay.rep[e.src], lay.rep[e.dst]
        if a is not b:
            level[id(b)] = max(level.get(id(b), 1), level.get(id(a), 1) + 1)
    return max(level.values(), default=1) + 1  # the output node


def _check(outputs: tuple[Any, ...], grad_format: str, rankdir: str | None, max_nodes: int,
           collapse: Any) -> list[Tensor]:
    flat: list[Any] = []
    for x in outputs:
        flat.extend(x if isinstance(x, list | tuple) else [x])
    if not flat:
        raise TypeError("draw_graph: give at least one output tensor, e.g. draw_graph(loss)")
    for i, t in enumerate(flat):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: output {i} is a {type(t).__name__}, not a Tensor")
    if grad_format not in GRAD_FORMATS:
        raise ValueError(f"draw_graph: grad_format must be one of {GRAD_FORMATS}, "
                         f"got {grad_format!r}")
    if rankdir is not None and rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 10:
        raise ValueError(f"draw_graph: max_nodes must be an int >= 10, got {max_nodes!r}")
    if isinstance(collapse, bool) or (isinstance(collapse, int) and collapse < 0):
        raise ValueError(f"draw_graph: collapse must be a module path, a list of paths or an "
                         f"int depth >= 0, got {collapse!r}")
    if collapse is not None and not isinstance(collapse, int | str):
        bad = [p for p in collapse if not isinstance(p, str)]
        if bad:
            raise TypeError(f"draw_graph: collapse paths must be strings, got {bad[0]!r}")
    return flat


def render(graph: graphviz.Digraph, path: str | Path, format: str | None = None) -> Path:
    """Write `graph` to `path` as svg, png or pdf (from `format`, else the suffix, else svg)
    and return the file's path. Needs Graphviz's `dot`; `graph.source` works without it."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    fmt = format or (suffix if suffix in RENDER_FORMATS else "svg")
    if fmt not in RENDER_FORMATS:
        raise ValueError(f"render: format must be one of {RENDER_FORMATS}, got {fmt!r}")
    if suffix in RENDER_FORMATS and suffix != fmt:
        raise ValueError(f"render: path {str(path)!r} ends in .{suffix} but format is {fmt!r}")
    if suffix != fmt:
        path = path.with_name(path.name + "." + fmt)
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(_MISSING_DOT)
    try:
        image = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound as e:
        raise GraphvizNotFoundError(_MISSING_DOT) from e
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image)
    return path


_MISSING_DOT = (
    "render: Graphviz's `dot` program was not found on PATH, so the graph cannot be drawn to "
    "a file. Install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install "
    "graphviz` (macOS), `conda install graphviz`, or https://graphviz.org/download/ "
    "(`make dot` tries apt-get). The DOT text is still available as `graph.source`."
)
