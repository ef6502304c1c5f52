"""Values survive backward, opt-in: inside `record_gradients()` the tape keeps every forward
value, so a drawing made after an ordinary backward() shows them; outside it the picture
says they were not recorded, and nothing is kept (memory stays flat)."""

from __future__ import annotations

import gc
import re
import tracemalloc
import weakref

import numpy as np

import tinygrad_edu as tg
import viz
from tinygrad_edu.tensor import Tensor
from viz._walk import walk


def op_labels(source: str) -> dict[str, str]:
    """Title -> whole label of every op node."""
    found = re.findall(r'^\s*\w+ \[label="((?:[^"\\]|\\.)*)" class="?op', source, re.M)
    return {label.split("\\n")[0]: label for label in found}


def test_values_drawn_after_an_ordinary_backward_inside_a_recording() -> None:
    (loss,), params = viz.examples.build("autoencoder")
    W = params["W"]
    (x,) = [t for t in walk([loss]).leaves if t.name == "x"]
    with tg.record_gradients() as tape:
        loss.backward()  # retain_graph=False: the graph's arrays are freed
    labels = op_labels(viz.draw_graph(loss, params=params, tape=tape).source)
    assert len(labels) == 6
    assert all("\\ndata" in label for label in labels.values())
    assert [u for u in tape.values if isinstance(u, Tensor)] == [W]  # x wants no gradient
    wx = W.numpy() @ x.numpy()
    (kept,) = [v for k, v in tape.values.items() if not isinstance(k, Tensor) and v.shape == (3,)]
    np.testing.assert_array_equal(kept, wx)
    shown = labels["W x"].split("\\ndata ")[1].split("\\n")[0]
    assert shown == np.array2string(wx, precision=3, separator=", ", suppress_small=True)


def test_outside_a_recording_the_picture_says_values_were_not_recorded() -> None:
    (loss,), params = viz.examples.build("autoencoder")
    loss.backward()
    src = viz.draw_graph(loss, params=params).source
    assert "values: not recorded" in src
    labels = op_labels(src)
    assert sum("\\ndata" in label for label in labels.values()) == 1  # only the loss
    # before any backward the graph still holds its arrays: no note
    (fresh,), params = viz.examples.build("autoencoder")
    assert "not recorded" not in viz.draw_graph(fresh, params=params).source


def test_the_tape_copies_leaves_an_optimizer_changes_in_place() -> None:
    (loss,), params = viz.examples.build("autoencoder")
    W = params["W"]
    before = W.numpy().copy()
    with tg.record_gradients() as tape:
        loss.backward()
    with tg.no_grad():
        W -= 0.1 * W.grad  # type: ignore[operator]
    np.testing.assert_array_equal(tape.values[W], before)


def _step(w: Tensor, x: Tensor) -> None:
    h = (x @ w).relu()
    loss = ((h @ w.T) - x).abs().mean()
    loss.backward()
    w.grad = None


def test_nothing_is_kept_outside_a_recording() -> None:
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((64, 64)), requires_grad=True)
    x = Tensor(rng.standard_normal((32, 64)))
    # an intermediate is freed by backward() when nothing records
    h = (x @ w).relu()
    probe = weakref.ref(h)
    (h.sum()).backward()
    del h
    gc.collect()
    assert probe() is None
    for _ in range(5):  # warm caches
        _step(w, x)
    gc.collect()
    tracemalloc.start()
    try:
        _step(w, x)
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(40):
            _step(w, x)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one step's arrays are ~16 KB each (32x64 float64); 40 steps keeping them would be MBs
    assert after - base < 16_000, after - base


def test_a_recording_keeps_the_values_only_while_the_tape_lives() -> None:
    rng = np.random.default_rng(1)
    w = Tensor(rng.standard_normal((64, 64)), requires_grad=True)
    x = Tensor(rng.standard_normal((32, 64)))
    with tg.record_gradients() as tape:
        h = (x @ w).relu()
        (h.sum()).backward()
    probe = weakref.ref(h)
    kept = [v for k, v in tape.values.items() if k is not w]
    assert any(v is h.numpy() for v in kept)
    del h, kept, tape
    gc.collect()
    assert probe() is None


def test_a_value_overwritten_in_place_is_not_shown_as_the_new_one() -> None:
    """relu_ overwrites its input's array: the node that produced the old value must not
    show the new one (the tape keeps no value for it, and the picture says so)."""
    w = Tensor(np.array([[1.0, -2.0], [3.0, -4.0]]), requires_grad=True, name="w")
    x = Tensor(np.array([1.0, 1.0]), name="x")
    scaled = (w @ x) * 2.0
    scaled.relu_()
    loss = scaled.sum()
    with tg.record_gradients() as tape:
        loss.backward()
    (mul,) = [node for node in walk([loss]).ops if node.op == "Mul"]
    assert mul not in tape.values
    labels = op_labels(viz.draw_graph(loss, tape=tape, show_data=True).source)
    (mul_label,) = [v for v in labels.values() if "\\nMul " in v]
    assert "data" not in mul_label  # its old value, [-2, -2], is gone
    assert "\\ndata [-1., -1.]" in labels["w x"]
