"""Graphs that look like the maths: 1-D matmul is one node in the engine, the autoencoder
draws with exactly its maths nodes, notation (a transpose, a constant factor) is folded
into the op that uses it."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu as tg
import viz
from tinygrad_edu.tensor import Tensor


def node_titles(source: str) -> list[str]:
    """The first label line of every node statement of a DOT source, in order."""
    titles = re.findall(r'^\s*(?:n|out)\d+ \[label="((?:[^"\\]|\\.)*?)(?:\\n|")', source, re.M)
    return [t.replace("\\\\", "\\") for t in titles]


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, re.M)


def ids_by_title(source: str) -> dict[str, str]:
    found = re.findall(r'^\s*((?:n|out)\d+) \[label="((?:[^"\\]|\\.)*?)(?:\\n|")', source, re.M)
    return {title: node for node, title in found}


@pytest.mark.parametrize(("sa", "sb"), [((5,), (5,)), ((5,), (5, 3)), ((3, 5), (5,)),
                                          ((5,), (2, 5, 3)), ((2, 3, 5), (5,))])
def test_matmul_with_a_1d_operand_is_one_node(sa: tuple, sb: tuple) -> None:
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal(sa), requires_grad=True)
    b = Tensor(rng.standard_normal(sb), requires_grad=True)
    y = a @ b
    assert y.grad_fn is not None and y.grad_fn.op == "MatMul"
    assert y.grad_fn.inputs[0] is a and y.grad_fn.inputs[1] is b  # no reshape in between
    assert y.shape == np.matmul(a.numpy(), b.numpy()).shape


def test_autoencoder_draws_exactly_its_maths_nodes() -> None:
    """0.5 ‖Wᵀ W x − x‖² with a 1-D x: W, x, W x, Wᵀ(W x), the residual, its square, the
    sum and the 1/2 (the loss), each drawn once; no Reshape, no Permute, no copy of x."""
    src = viz.examples.draw("autoencoder").source
    titles = node_titles(src)
    assert sorted(titles) == sorted([
        "W", "x", "W x", "Wᵀ(W x)", "Wᵀ(W x) − x", "(Wᵀ(W x) − x)²", "Σ(Wᵀ(W x) − x)²",
        "loss = 0.5 · Σ(Wᵀ(W x) − x)²"])
    assert "Reshape" not in src and "Permute" not in src and 'label="const' not in src
    ids = ids_by_title(src)
    pairs = set(edges(src))
    assert (ids["W"], ids["W x"]) in pairs and (ids["W"], ids["Wᵀ(W x)"]) in pairs
    assert (ids["x"], ids["W x"]) in pairs and (ids["x"], ids["Wᵀ(W x) − x"]) in pairs
    assert (ids["W x"], ids["Wᵀ(W x)"]) in pairs
    assert len(pairs) == 9  # the nine arrows of the maths, nothing else


def test_folded_transpose_edge_carries_the_gradient_through_it() -> None:
    """The edge W -> Wᵀ(W x) is labelled with W's gradient along that path, W x gᵀ; the
    two edge gradients add up to W.grad."""
    outputs, params = viz.examples.build("autoencoder")
    (loss,), W = outputs, params["W"]
    with tg.record_gradients() as tape:
        loss.backward()
    src = viz.draw_graph(loss, params=params, tape=tape, grad_format="value").source
    assert W.grad is not None
    edge_grads = {node.op: g for (node, i), g in tape.edges.items() if node.inputs[i] is W}
    assert set(edge_grads) == {"MatMul", "Permute"}
    np.testing.assert_allclose(edge_grads["MatMul"] + edge_grads["Permute"], W.grad.numpy())
    ids = ids_by_title(src)
    for target, op in (("W x", "MatMul"), ("Wᵀ(W x)", "Permute")):
        m = re.search(rf'{ids["W"]} -> {ids[target]} \[label="∇[₁₂] \(3, 5\)\\n([^"]*)"', src)
        assert m is not None
        shown = [float(v) for v in re.findall(r"-?\d+\.?\d*", m.group(1))]  # entries
        np.testing.assert_allclose(shown, edge_grads[op].ravel(), atol=5e-3)


def test_constants_and_transposes_fold_only_when_they_are_notation() -> None:
    """A named constant, a constant with several values and a transpose used twice stay
    drawn as their own nodes."""
    rng = np.random.default_rng(1)
    W = Tensor(rng.standard_normal((3, 3)), requires_grad=True, name="W")
    c = Tensor(np.array([1.0, 2.0, 3.0]))  # several values: drawn
    k = Tensor(np.array(2.0), name="k")  # named: drawn
    Wt = W.T
    y = ((Wt @ c) * k + (Wt @ c)).sum()
    titles = node_titles(viz.draw_graph(y, show_grad=False).source)
    assert "const" in titles and "k" in titles and "Wᵀ" in titles
