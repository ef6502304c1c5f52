"""viz.draw_graph / viz.render: real SVGs rendered by Graphviz's dot, parsed with xml.etree."""

from __future__ import annotations

import re
import runpy
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import viz
from tinygrad_edu.autograd import module_scope
from tinygrad_edu.tensor import Tensor

SVG = "{http://www.w3.org/2000/svg}"


class Svg:
    """Nodes, edges and clusters of a rendered SVG, by the classes draw_graph sets."""

    def __init__(self, path: Path) -> None:
        root = ET.parse(path).getroot()
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: list[dict[str, Any]] = []
        self.clusters: list[dict[str, Any]] = []
        for g in root.iter(f"{SVG}g"):
            classes = (g.get("class") or "").split()
            title_el = g.find(f"{SVG}title")
            title = title_el.text if title_el is not None else ""
            texts = [t.text or "" for t in g.iter(f"{SVG}text")]
            item = {"title": title, "classes": classes, "texts": texts}
            if "node" in classes:
                self.nodes[title or ""] = item
            elif "edge" in classes:
                src, dst = (title or "").split("->")
                self.edges.append({**item, "src": src, "dst": dst})
            elif "cluster" in classes:
                self.clusters.append(item)

    def of_class(self, css: str) -> list[dict[str, Any]]:
        return [n for n in self.nodes.values() if css in n["classes"]]

    def find(self, first_line: str) -> list[dict[str, Any]]:
        return [n for n in self.nodes.values() if n["texts"] and n["texts"][0] == first_line]


def rendered(graph: Any, tmp_path: Path, name: str = "g.svg") -> Svg:
    return Svg(viz.render(graph, tmp_path / name))


def node_statements(source: str) -> list[str]:
    return re.findall(r"^\s*((?:n|out)\d+) \[", source, re.M)


def cluster_members(source: str) -> dict[str, set[str]]:
    """For each cluster label, the node ids declared anywhere inside its braces."""
    members: dict[str, set[str]] = {}
    stack: list[str] = []
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster"):
            stack.append("")
        elif s == "{" or (s.startswith("subgraph") and s.endswith("{")):
            stack.append("\0")  # a subgraph that is no cluster (rank=same)
        elif s.startswith("graph [") and stack and not stack[-1]:
            m = re.search(r'\blabel=("(?:[^"\\]|\\.)*"|[^ \]]+)', s)
            stack[-1] = m.group(1).strip('"') if m else "?"
        elif s == "}" and stack:
            stack.pop()
        else:
            m = re.match(r"((?:n|out)\d+) \[", s)
            if m:
                for label in stack:
                    if label != "\0":
                        members.setdefault(label, set()).add(m.group(1))
    return members


def autoencoder(seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    W = Tensor(rng.standard_normal((3, 5)), requires_grad=True, name="W")
    x = Tensor(rng.standard_normal((5, 1)), name="x")
    loss = 0.5 * ((W.T @ (W @ x) - x) ** 2).sum()
    return loss, W, x


# ----------------------------------------------------------------------------- autoencoder


def test_autoencoder_ops_two_edges_from_w_and_one_accumulation(tmp_path: Path) -> None:
    loss, W, x = autoencoder()
    with tg.record_gradients() as tape:
        loss.backward()
    svg = rendered(viz.draw_graph(loss, params={"W": W}, tape=tape), tmp_path)
    # titles are formulas, the op names on the second line; W.T is drawn inside its MatMul
    ops = Counter(n["texts"][1].split()[0] for n in svg.of_class("op"))
    assert ops == Counter({"MatMul": 2, "Sub": 1, "Pow": 1, "Sum": 1, "Mul": 1})
    (w_node,) = svg.find("W")
    assert "param" in w_node["classes"]
    leaving = [e for e in svg.edges if e["src"] == w_node["title"]]
    assert len(leaving) == 2
    targets = {svg.nodes[e["dst"]]["texts"][0] for e in leaving}
    assert targets == {"W x", "Wᵀ(W x)"}
    for e in leaving:  # each carries a (3, 5) gradient, drawn in the accumulation colour
        k = e["texts"][0][1]  # the contributions are numbered: ∇₁, ∇₂
        assert e["texts"][0] == f"∇{k} (3, 5)" and e["texts"][1].startswith(f"‖∇{k}‖ ")
        assert "accum" in e["classes"]
    assert sum("accum" in e["classes"] for e in svg.edges) == 2
    marked = svg.of_class("accum")
    assert [n["title"] for n in marked] == [w_node["title"]]
    (sigma,) = [t for t in w_node["texts"] if t.startswith("Σ")]
    assert sigma == "Σ 2 paths: ∇ = ∇₁ + ∇₂"
    # the mark shows the sum of the two contributions: the closed-form gradient's norm,
    # beside the two edge norms, which do not add up to it
    w, xv = W.numpy(), x.numpy()
    g = w.T @ w @ xv - xv
    closed = (w @ xv) @ g.T + (w @ g) @ xv.T
    parts = sorted(e["texts"][1].split()[1] for e in leaving)
    (line,) = [t for t in w_node["texts"] if t.startswith("‖∇‖")]
    assert line.startswith(f"‖∇‖ {np.linalg.norm(closed):.3g}, not ")
    assert sorted(line.split("not ")[1].rstrip(":").split(" + ")) == parts
    assert "norms of a sum do not add" in w_node["texts"]
    (out,) = svg.of_class("output")
    assert f"data {loss.item():.4g}" in out["texts"]


def test_edge_gradients_sum_to_the_accumulated_gradient() -> None:
    loss, W, _ = autoencoder(1)
    with tg.record_gradients() as tape:
        loss.backward()
    src = viz.draw_graph(loss, params={"W": W}, tape=tape, grad_format="value",
                         show_data=False).source
    w_id = re.search(r"^\s*(n\d+) \[label=\"W\\n", src, re.M).group(1)  # type: ignore[union-attr]
    edges = [k for k in tape.edges if k[0].inputs[k[1]] is W]
    assert len(edges) == 2
    assert np.allclose(sum(tape.edges[k] for k in edges), W.grad.numpy())  # type: ignore[union-attr]
    assert src.count(f"\t{w_id} -> ") == 2


def test_gradients_computed_without_tape_leave_grad_alone() -> None:
    loss, W, _ = autoencoder(2)
    h = W @ Tensor(np.ones(5))
    h.retain_grad()
    loss2 = loss + h.sum()
    src = viz.draw_graph(loss2, show_data=False).source
    assert W.grad is None and h.grad is None
    assert "‖∇‖" in src and "Σ 3 paths: ∇ = ∇₁ + ∇₂ + ∇₃\\n‖∇‖" in src
    loss2.backward()  # the graph was kept: a real backward still works afterwards
    assert W.grad is not None and h.grad is not None


def test_after_backward_without_tape_shapes_and_structure_remain(tmp_path: Path) -> None:
    loss, W, _ = autoencoder(3)
    loss.backward()  # frees the graph
    g = viz.draw_graph(loss, params={"W": W}, show_data=True)
    src = g.source
    edge_lines = [line for line in src.splitlines() if " -> " in line]
    assert any(re.search(r"∇. \(3, 5\)", line) for line in edge_lines)
    assert not any("‖∇‖" in line for line in edge_lines)  # no values without a tape
    assert "Σ 2 paths" in src
    assert "freed by backward()" in src  # the note says how to get gradient values
    assert "grad [[" in src or "grad\\n[[" in src  # W's .grad shown micrograd-style


def test_grad_formats_and_show_data_switches() -> None:
    loss, W, _ = autoencoder(4)
    shape_only = viz.draw_graph(loss, grad_format="shape", legend=False).source
    assert "∇₁ (3, 5)" in shape_only and "‖∇" not in shape_only
    values = viz.draw_graph(loss, grad_format="value", show_data=False).source
    assert re.search(r"∇ \(5, 1\)\\n\[\[", values)
    assert values.count("data") == 1  # only the output scalar keeps its value
    auto = viz.draw_graph(loss).source  # small graph of tiny tensors: values shown
    assert "data\\n[[" in auto and "grad\\n[[" in auto
    off = viz.draw_graph(loss, show_data=False, show_grad=False, legend=False).source
    assert "data" not in off and "∇" not in off and "paths" not in off


def test_tensor_used_twice_by_one_op_draws_two_paths() -> None:
    x = Tensor(np.array([1.5, -2.0]), requires_grad=True, name="x")
    y = (x * x).sum()
    src = viz.draw_graph(y, grad_format="value").source
    x_id = re.search(r"^\s*(n\d+) \[label=\"x\\n", src, re.M).group(1)  # type: ignore[union-attr]
    assert src.count(f"\t{x_id} -> ") == 2
    # d/dx sum(x*x) = 2x = [3, -4]: two equal parts x, whose norms (2.5) do add up
    assert "Σ 2 paths: ∇ = ∇₁ + ∇₂\\n‖∇‖ 5 = 2.5 + 2.5\\n(the parts point the same way)" in src


def test_outputs_leaves_and_non_scalar_outputs() -> None:
    a = Tensor(np.ones((2, 2)), requires_grad=True, name="a")
    b = a.exp()
    c = (b * 2).sum()
    src = viz.draw_graph(b, c).source  # two outputs, one non-scalar: no implicit seed
    assert src.count("output\"") >= 2 and "output 0" in src and "output 1" in src
    assert "not a scalar" in src
    assert "a\\n(2, 2) float64" in viz.draw_graph(a).source  # a leaf as the output
    assert "Mul" in viz.draw_graph([c]).source  # a list of outputs is accepted


# ----------------------------------------------------------------------------- modules


def test_parameter_names_and_module_clusters_with_nn(tmp_path: Path) -> None:
    outputs, params = viz.examples.build("two_layer")
    g = viz.draw_graph(*outputs, params=params)
    svg = rendered(g, tmp_path)
    firsts = {n["texts"][0] for n in svg.of_class("param")}
    assert firsts == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    labels = {c["texts"][0] for c in svg.clusters}
    assert {"fc1", "fc2", "relu"} <= labels
    members = cluster_members(g.source)
    ids = {n["texts"][0]: t for t, n in svg.nodes.items() if "param" in n["classes"]}
    assert ids["fc1.weight"] in members["fc1"] and ids["fc2.bias"] in members["fc2"]
    assert ids["fc1.weight"] not in members["fc2"]
    # no tensor of this net feeds two paths (cross-entropy is one fused LogSoftmax node)
    assert svg.of_class("accum") == []


def test_an_op_output_used_twice_inside_a_module_is_an_accumulation_point(
        tmp_path: Path) -> None:
    net = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    h = net(Tensor(np.ones((4, 3))))
    loss = (h * h + h).sum()
    svg = rendered(viz.draw_graph(loss, params=dict(net.named_parameters())), tmp_path)
    (acc,) = svg.of_class("accum")
    assert acc["texts"][0] == "Tanh" and "Σ 3 paths: ∇ = ∇₁ + ∇₂ + ∇₃" in acc["texts"]


def test_readme_images_script(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_readme_images.py"
    namespace = runpy.run_path(str(script))
    written = namespace["main"](tmp_path)
    assert [p.name for p in written] == ["autoencoder_graph.svg", "convnet_graph.svg",
                                         "mlp20_graph.svg"]
    autoencoder_svg, convnet_svg, mlp_svg = (Svg(p) for p in written)
    assert [n["texts"][0] for n in mlp_svg.of_class("repeat")] == ["Linear → ReLU ×20"]
    assert [n["texts"][0] for n in autoencoder_svg.of_class("accum")] == ["W"]
    assert {"features: Sequential", "0: Conv2d", "1: Linear"} <= {
        c["texts"][0] for c in convnet_svg.clusters}


def test_module_scope_clusters_nest_and_model_names_kinds() -> None:
    W1 = Tensor(np.ones((3, 2)), requires_grad=True)
    W2 = Tensor(np.ones((1, 3)), requires_grad=True)
    x = Tensor(np.ones(2), name="x")
    with module_scope("net"):
        with module_scope("net.layer1"):
            h = (W1 @ x).relu()
        with module_scope("net.layer2"):
            out = W2 @ h
    loss = out.sum()
    g = viz.draw_graph(loss, params={"net.layer1.w": W1, "net.layer2.w": W2})
    members = cluster_members(g.source)
    assert set(members) == {"net", "layer1", "layer2"}
    assert members["layer1"] < members["net"] and members["layer2"] < members["net"]
    assert not members["layer1"] & members["layer2"]
    _, _, model = viz.examples.convnet()
    src = viz.examples.draw("convnet").source
    assert model is not None and "features: Sequential" in src and "0: Conv2d" in src


def test_collapse_a_module_a_list_and_a_depth(tmp_path: Path) -> None:
    outputs, params = viz.examples.build("two_layer")
    full = viz.draw_graph(*outputs, params=params)
    one = viz.draw_graph(*outputs, params=params, collapse="fc1")
    assert len(node_statements(one.source)) < len(node_statements(full.source))
    svg = rendered(one, tmp_path)
    (box,) = svg.of_class("module")
    assert box["texts"][0] == "fc1" and "in: (4, 6)" in box["texts"]
    assert "out: (4, 5)" in box["texts"] and "35 params" in box["texts"][1]  # 5*6 + 5 scalars
    both = viz.draw_graph(*outputs, params=params, collapse=["fc1", "fc2"])
    depth0 = viz.draw_graph(*outputs, params=params, collapse=0)
    assert len(node_statements(depth0.source)) <= len(node_statements(both.source))
    assert len(node_statements(both.source)) < len(node_statements(one.source))
    conv = viz.examples.draw("convnet", collapse=1).source  # modules below depth 1 boxed
    assert "features.0: Conv2d" in conv and "classifier.1: Linear" in conv
    assert "features: Sequential" in conv  # the depth-1 module stays a cluster


def test_group_modules_off_draws_no_clusters() -> None:
    outputs, params = viz.examples.build("two_layer")
    src = viz.draw_graph(*outputs, params=params, group_modules=False).source
    assert "subgraph" not in src and "fc1.weight" in src


# ----------------------------------------------------------------------------- size


def chain(n_ops: int) -> Tensor:
    x = Tensor(np.linspace(-1, 1, 4), requires_grad=True, name="x")
    y = x
    for i in range(n_ops // 2):
        y = (y * 0.999).tanh() if i % 2 else y + 0.001
    return y.sum()


def test_thousand_op_graph_renders_under_max_nodes(tmp_path: Path) -> None:
    loss = chain(1000)
    for max_nodes in (300, 40):
        g = viz.draw_graph(loss, max_nodes=max_nodes, fold_repeats=False)
        svg = rendered(g, tmp_path, f"chain{max_nodes}.svg")
        assert 3 <= len(svg.nodes) <= max_nodes
        assert svg.find("x") and svg.of_class("chain")  # the input stays visible
        assert "collapsed automatically" in g.source


def test_wide_graph_and_deep_modules_collapse_under_max_nodes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ws = [Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(400)]
    total = ws[0].exp().sum()
    for w in ws[1:]:
        total = total + w.exp().sum()  # 1,200 ops, 400 leaves, no long single chain
    svg = rendered(viz.draw_graph(total, max_nodes=50), tmp_path, "wide.svg")
    assert len(svg.nodes) <= 50
    tg.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(40) for m in (nn.Linear(4, 4), nn.ReLU())])
    loss = model(tg.randn(2, 4)).sum()
    g = viz.draw_graph(loss, model=model, max_nodes=100, fold_repeats=False)
    nodes = node_statements(g.source)
    assert len(nodes) <= 100 and "0: Linear" in g.source and "1: ReLU" in g.source


def test_long_chain_walks_without_recursion() -> None:
    n = 4 * sys.getrecursionlimit() + 2000
    loss = chain(n)
    g = viz.draw_graph(loss, show_grad=False)
    assert len(node_statements(g.source)) <= 300


@given(n=st.integers(1, 160), fan=st.integers(1, 4), max_nodes=st.integers(10, 60),
       seed=st.integers(0, 2**16))
def test_random_graphs_respect_max_nodes(n: int, fan: int, max_nodes: int, seed: int) -> None:
    """Random DAGs (each op mixes up to `fan` earlier tensors): never more than max_nodes
    nodes, and every accumulation mark matches a tensor used along several paths."""
    rng = np.random.default_rng(seed)
    leaves = [Tensor(rng.standard_normal(2), requires_grad=True) for _ in range(3)]
    pool = list(leaves)
    for _ in range(n):
        picks = rng.integers(0, len(pool), size=fan)
        y = pool[picks[0]] * 0.5
        for p in picks[1:]:
            y = y + pool[p]
        pool.append(y)
    loss = pool[-1].sum()
    src = viz.draw_graph(loss, max_nodes=max_nodes).source
    assert len(node_statements(src)) <= max_nodes
    if len(node_statements(viz.draw_graph(loss, max_nodes=10**6).source)) <= max_nodes:
        assert "collapsed automatically" not in src


# ----------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("name", ['w"q', "b{1}|x", "<lambda>", "a<b>c", "back\\slash\\N",
                                  "two\\nlines", "{x: <y>}", 'end\\', "node"])
def test_labels_escape_dot_characters(name: str, tmp_path: Path) -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    with module_scope(f"m{name}"):
        y = (w * 2).sum()
    y.name = name
    svg = rendered(viz.draw_graph(y, params={name: w}), tmp_path)
    assert svg.find(name)  # the parameter node shows the name verbatim
    assert any(n["texts"][0].startswith(f"{name} = Σ") and n["texts"][1].startswith("Sum")
               for n in svg.nodes.values())
    assert any(c["texts"][0] == f"m{name}" for c in svg.clusters)


# ----------------------------------------------------------------------------- render


def test_render_formats_and_paths(tmp_path: Path) -> None:
    g = viz.draw_graph(autoencoder()[0])
    png = viz.render(g, tmp_path / "a.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = viz.render(g, tmp_path / "sub" / "b", format="pdf")
    assert pdf.name == "b.pdf" and pdf.read_bytes()[:4] == b"%PDF"
    svg = viz.render(g, str(tmp_path / "c"))
    assert svg.suffix == ".svg" and ET.parse(svg).getroot().tag == f"{SVG}svg"
    assert "image/svg+xml" in g._repr_mimebundle_()  # what Jupyter displays


def test_render_errors_and_missing_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g = viz.draw_graph(autoencoder()[0])
    with pytest.raises(ValueError, match=r"^render: format must be one of"):
        viz.render(g, tmp_path / "a", format="gif")
    with pytest.raises(ValueError, match=r"^render: path .*a.png' ends in .png but format"):
        viz.render(g, tmp_path / "a.png", format="svg")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere on PATH
    assert "digraph" in g.source and "MatMul" in g.source
    with pytest.raises(viz.GraphvizNotFoundError) as err:
        viz.render(g, tmp_path / "a.svg")
    message = str(err.value)
    assert message.startswith("render: Graphviz's `dot` program was not found")
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert isinstance(err.value, RuntimeError) and not (tmp_path / "a.svg").exists()


def test_draw_graph_argument_errors() -> None:
    loss = autoencoder()[0]
    cases: list[tuple[dict[str, Any], type, str]] = [
        ({"grad_format": "norms"}, ValueError, r"^draw_graph: grad_format must be one of"),
        ({"rankdir": "XY"}, ValueError, r"^draw_graph: rankdir must be one of"),
        ({"max_nodes": 5}, ValueError, r"^draw_graph: max_nodes must be an int >= 10, got 5"),
        ({"collapse": -1}, ValueError, r"^draw_graph: collapse must be .* got -1"),
        ({"collapse": ["a", 3]}, TypeError, r"^draw_graph: collapse paths must be strings"),
    ]
    for kwargs, exc, pattern in cases:
        with pytest.raises(exc, match=pattern):
            viz.draw_graph(loss, **kwargs)
    with pytest.raises(TypeError, match=r"^draw_graph: give at least one output tensor"):
        viz.draw_graph()
    with pytest.raises(TypeError, match=r"^draw_graph: output 1 is a ndarray, not a Tensor"):
        viz.draw_graph(loss, np.ones(2))
    with pytest.raises(ValueError, match=r"^examples.build: unknown example 'mlp'"):
        viz.examples.build("mlp")


def test_draw_graph_keywords_and_examples() -> None:
    loss, W, _ = autoencoder()
    g = viz.draw_graph(loss, params={"W": W}, rankdir="TB")
    assert "rankdir=TB" in g.source and "Σ 2 paths" in g.source
    for name in ("autoencoder", "two_layer", "convnet"):
        outputs, params = viz.examples.build(name)
        assert outputs[0].shape == () and all(p.requires_grad for p in params.values())
        assert "Σ" in viz.examples.draw(name).source or name != "autoencoder"
