"""viz.backprop_steps without a browser: the steps are the engine's, in its order; the running
sums end at the engine's gradients; the page is one self-contained file; bad calls raise.
(tests/browser/ clicks through the same page in headless Chromium.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
import viz
from viz import steps_examples


def _steps(html: str) -> list[dict[str, Any]]:
    m = re.search(r'id="steps-data">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def _engine(name: str) -> tuple[list[Any], dict[str, np.ndarray]]:
    """The tape of a plain backward() and each named leaf's .grad."""
    loss, params = steps_examples.EXAMPLES[name]()
    with tg.record_gradients() as tape:
        loss.backward()
    grads = {k: p.grad.numpy() for k, p in params.items() if p.grad is not None}
    return list(tape.edges.items()), grads


@pytest.mark.parametrize("name", list(steps_examples.EXAMPLES))
def test_steps_follow_the_engine_and_sums_end_at_its_gradients(name: str) -> None:
    loss, params = steps_examples.EXAMPLES[name]()
    steps = _steps(viz.backprop_steps(loss, params).html)
    edges, grads = _engine(name)
    order = [node.op for node in dict.fromkeys(node for (node, _), _g in edges)]
    assert [s["op"] for s in steps] == order
    sent = [e for s in steps for e in s["sent"]]
    assert len(sent) == len(edges)
    for e, ((_node, slot), g) in zip(sent, edges):
        assert e["slot"] == slot
        assert e["label"].startswith("∇ = " if g.size == 1 else "‖∇‖ = ")
    last: dict[str, Any] = {}
    for e in sent:
        last[e["to_title"]] = e
    for key, g in grads.items():
        final = last[key]
        assert final["path"] == final["paths"], f"{key}: every path arrived"
        np.testing.assert_allclose(final["sum_exact"], g.ravel(), rtol=1e-12, atol=0)


def test_the_reused_input_sums_two_paths() -> None:
    loss, params = steps_examples.reused_input()
    steps = _steps(viz.backprop_steps(loss, params).html)
    at_x = [e for s in steps for e in s["sent"] if e["to_title"] == "x"]
    assert [(e["path"], e["paths"]) for e in at_x] == [(1, 2), (2, 2)]
    w, b, x = (float(params[k].item()) for k in "wbx")
    t = np.tanh(w * x + b)
    # dL/dx = tanh(wx + b) + x (1 - tanh^2) w: the two paths, in closed form
    np.testing.assert_allclose(at_x[-1]["sum_exact"], [t + x * (1 - t * t) * w], rtol=1e-12)


def test_formulas_come_from_the_docstrings() -> None:
    loss, params = steps_examples.autoencoder()
    steps = _steps(viz.backprop_steps(loss, params).html)
    pow_step = next(s for s in steps if s["op"] == "Pow")
    assert pow_step["formula"].startswith("y = a ** b;  dy/da = b a^(b-1)")


def test_grad_is_not_touched_and_the_graph_survives() -> None:
    loss, params = steps_examples.autoencoder()
    viz.backprop_steps(loss, params)
    assert params["W"].grad is None
    loss.backward()  # the graph was kept: an ordinary backward still works afterwards
    assert params["W"].grad is not None


def test_large_tensors_show_shape_and_norm_with_the_full_array_a_click_away() -> None:
    x = tg.randn(8, 5, dtype=tg.float64, requires_grad=True)
    loss = (x * x).sum()
    steps = _steps(viz.backprop_steps(loss, {"x": x}).html)
    first, second = steps[-1]["sent"]  # x * x: x reaches the Mul twice
    assert first["grad"]["text"].startswith("shape (8, 5), norm ")
    full = np.array(json.loads(first["grad"]["full"].replace("\n", "")))
    np.testing.assert_allclose(full, x.numpy(), rtol=1e-15)  # d(a b)/da = b = x
    total = np.array(json.loads(second["sum"]["full"].replace("\n", "")))
    np.testing.assert_allclose(total, 2 * x.numpy(), rtol=1e-15)


def test_the_page_is_self_contained() -> None:
    loss, params = steps_examples.mlp()
    page = viz.backprop_steps(loss, params).html
    assert "<svg" in page and "<script>" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "no network references"
    view = viz.backprop_steps(*steps_examples.softmax2())
    assert view._repr_html_().startswith("<iframe srcdoc=")


def test_bad_calls_raise() -> None:
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"loss must be a scalar .* got shape \(3,\)"):
        viz.backprop_steps(x * 2)
    with pytest.raises(TypeError, match="loss must be a Tensor"):
        viz.backprop_steps(np.ones(()))  # type: ignore[arg-type]
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="already freed by backward"):
        viz.backprop_steps(loss)


def test_cli_writes_every_step_example(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", "graph", "--steps",
                          "--out", str(tmp_path)], capture_output=True, text=True, check=True)
    written = sorted(Path(p).name for p in out.stdout.split())
    assert written == sorted(f"{n}.html" for n in steps_examples.EXAMPLES)
    bad = subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", "graph", "--steps",
                          "--example", "convnet"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--steps draws" in bad.stderr


def test_backpropagation_through_time_folds_by_time_step() -> None:
    """An nn.RNN over 6 steps draws its six identical steps as one box (issue 19)."""
    source = viz.examples.draw("rnn").source
    assert "Tanh → Reshape ×6" in source
    opened = viz.examples.draw("rnn", fold_repeats=False).source
    assert "×6" not in opened and opened.count("Tanh") >= 6
