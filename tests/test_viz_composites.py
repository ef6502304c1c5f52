"""Composites (losses built from several primitives) draw as one named box, recorded as a
grouping on the nodes (not a primitive: no backward of their own)."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import viz
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.function import Function
from tinygrad_edu.modes import composite_scope
from tinygrad_edu.tensor import Tensor


def titles(source: str) -> list[str]:
    return re.findall(r'^\s*\w+ \[label="((?:[^"\\]|\\.)*?)(?:\\n|")', source, re.M)


def logits_and_labels() -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="logits")
    y = Tensor(np.array([0, 2, 1, 1]), name="y")
    return x, y


def test_cross_entropy_is_one_box_with_the_target_labelled() -> None:
    x, y = logits_and_labels()
    loss = F.cross_entropy(x, y)
    src = viz.draw_graph(loss).source
    found = titles(src)
    assert found.count("CrossEntropy") == 1 and 'class=op ' not in src  # no op node left
    assert sorted(found) == ["CrossEntropy", "logits", "output", "y"]
    ids = dict(re.findall(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*?)\\n', src, re.M))
    by_title = {t: i for i, t in ids.items()}
    # the integer labels (not in the graph: a one-hot constant is) enter as "target"
    assert re.search(rf'{by_title["y"]} -> {by_title["CrossEntropy"]} \[label=target', src)
    assert re.search(rf'{by_title["logits"]} -> {by_title["CrossEntropy"]} \[label="input\\n∇',
                     src)
    assert 'label="const' not in src  # the one-hot matrix is inside the box


def test_expand_composites_draws_the_primitives() -> None:
    x, y = logits_and_labels()
    src = viz.draw_graph(F.cross_entropy(x, y), expand_composites=True).source
    found = titles(src)
    assert "LogSoftmax" in found and "output = Einsum" in found and "CrossEntropy" not in found
    assert "part of CrossEntropy" in src  # the tooltips still say where the ops belong
    cluster = src[src.index("subgraph cluster"):]
    assert "label=CrossEntropy" in cluster.split("}")[0]  # ... and a cluster holds them
    assert "LogSoftmax" in cluster.split("}")[0]
    two = viz.draw_graph(F.cross_entropy(x, y) + F.cross_entropy(x * 2, y),
                         expand_composites=True).source
    assert "label=CrossEntropy " in two and 'label="CrossEntropy 2"' in two
    boxes = titles(viz.draw_graph(F.cross_entropy(x, y) + F.cross_entropy(x * 2, y)).source)
    assert boxes.count("CrossEntropy") == 2  # one box per call


def test_grad_fn_repr_names_the_composite() -> None:
    x, y = logits_and_labels()
    loss = F.cross_entropy(x, y)
    assert repr(loss.grad_fn) == "<Einsum in CrossEntropy>"
    assert "grad_fn=<Einsum in CrossEntropy>" in repr(loss)
    assert repr((x * 2).grad_fn) == "<Mul>"
    module_loss = nn.CrossEntropyLoss()(x, y)  # the module calls the same function
    assert repr(module_loss.grad_fn) == "<Einsum in CrossEntropy>"


LOSSES = [
    ("CrossEntropy", lambda x, t: F.cross_entropy(x, t.argmax(1))),
    ("NLLLoss", lambda x, t: F.nll_loss(x.log_softmax(1), t.argmax(1))),
    ("MSELoss", lambda x, t: F.mse_loss(x, t)),
    ("L1Loss", lambda x, t: F.l1_loss(x, t)),
    ("HuberLoss", lambda x, t: F.huber_loss(x, t)),
    ("SmoothL1Loss", lambda x, t: F.smooth_l1_loss(x, t)),
    ("BCELoss", lambda x, t: F.binary_cross_entropy(x.sigmoid(), t)),
    ("BCEWithLogitsLoss", lambda x, t: F.binary_cross_entropy_with_logits(x, t)),
    ("MultiMarginLoss", lambda x, t: F.multi_margin_loss(x, t.argmax(1))),
    ("SVMLoss", lambda x, t: F.svm_loss(x, t.argmax(1))),
    ("L2Penalty", lambda x, t: F.l2_penalty([x, t], 0.1)),
]


@pytest.mark.parametrize(("name", "fn"), LOSSES, ids=[n for n, _ in LOSSES])
def test_every_loss_records_its_composite_and_keeps_the_gradient(name: str, fn: object) -> None:
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="x")
    t = Tensor((rng.random((4, 3)) > 0.5).astype(np.float64), name="t")
    loss = fn(x, t)  # type: ignore[operator]
    assert loss.grad_fn is not None and loss.grad_fn.composite is not None
    assert loss.grad_fn.composite.name == name
    assert repr(loss.grad_fn).endswith(f" in {name}>")
    src = viz.draw_graph(loss).source
    assert name in titles(src)
    # a grouping only: the gradient is the composite's, checked against central differences
    tg.testing.assert_gradients_match(lambda a: fn(a, t), x)  # type: ignore[operator]
    # no primitive of that name was added
    assert not any(c.__name__ == name for c in _subclasses(Function))


def _subclasses(cls: type) -> list[type]:
    out, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            out.append(sub)
            stack.append(sub)
    return out


def test_nested_composites_record_the_outermost_and_scopes_end() -> None:
    x, y = logits_and_labels()
    loss = F.cross_entropy(x, y)
    stack = [loss.grad_fn]
    while stack:
        node = stack.pop()
        assert node is not None and node.composite is not None
        assert node.composite.name == "CrossEntropy"
        stack.extend(p for p in node.parents if p is not None)
    after = x * 3  # made after the call: in no composite
    assert after.grad_fn is not None and after.grad_fn.composite is None
    with pytest.raises(ShapeError, match="cross_entropy"):
        F.cross_entropy(x, Tensor(np.array([0, 1])))  # a bad call must not leak its scope
    assert (x * 3).grad_fn.composite is None  # type: ignore[union-attr]


def test_wrapped_losses_keep_their_signatures_and_docs() -> None:
    sig = inspect.signature(F.cross_entropy)
    assert list(sig.parameters)[:2] == ["input", "target"]
    assert F.cross_entropy.__name__ == "cross_entropy" and "Softmax" in (F.cross_entropy.__doc__
                                                                         or "")
    x, y = logits_and_labels()
    by_keyword = F.cross_entropy(input=x, target=y, reduction="sum")
    assert by_keyword.grad_fn.composite.arguments == {"input": x, "target": y}  # type: ignore


def test_composite_scope_groups_a_users_own_composite() -> None:
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True, name="w")
    t = Tensor(np.array([0.5, 0.5]), name="t")
    with composite_scope("MyLoss", target=t) as call:
        loss = ((w - t) ** 2).sum()
        with composite_scope("Inner"):  # nested: the outer one names the nodes
            loss = loss * 2
    assert repr(loss.grad_fn) == "<Mul in MyLoss>" and call.arguments == {"target": t}
    assert (w * 1).grad_fn.composite is None  # type: ignore[union-attr]
    src = viz.draw_graph(loss).source
    assert "MyLoss" in titles(src) and re.search(r"-> \w+ \[label=\"?target", src)
