"""The step-through page in a real browser: click through every backward step of the
autoencoder and check what the page shows against the engine's own numbers, computed here
by an independent `loss.backward()` and `record_gradients()` tape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_edu as tg
import viz
from viz import steps_examples


def _engine_run() -> tuple[list[str], list[tuple[str, float]], np.ndarray]:
    """The ops in the engine's order, each edge's gradient norm in that order, and W.grad,
    from a plain backward() (not the page's code)."""
    loss, params = steps_examples.autoencoder()
    with tg.record_gradients() as tape:
        loss.backward()
    order: list[str] = []
    seen: set[Any] = set()
    edges = []
    for (node, _i), g in tape.edges.items():
        if node not in seen:
            seen.add(node)
            order.append(node.op)
        edges.append((node.op, float(np.linalg.norm(g))))
    W = params["W"]
    assert W.grad is not None
    return order, edges, W.grad.numpy()


def _open(browser: Any, tmp_path: Path) -> Any:
    loss, params = steps_examples.autoencoder()
    path = viz.backprop_steps(loss, params).save(tmp_path / "autoencoder.html")
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(path.as_uri())
    return page


def _label_norm(text: str) -> float:
    return float(text.split("=")[1])


def test_clicking_through_every_step_matches_the_engine(browser: Any, tmp_path: Path,
                                                        artifacts: Path) -> None:
    order, edges, w_grad = _engine_run()
    page = _open(browser, tmp_path)
    assert page.get_attribute("body", "data-step") == "0"
    assert int(page.get_attribute("body", "data-steps")) == len(order)
    sent_seen = 0
    for k, op in enumerate(order, start=1):
        page.click("#next")
        assert page.get_attribute("body", "data-step") == str(k)
        current = page.query_selector_all("#graph g.node.current")
        assert len(current) == 1, f"step {k}: {len(current)} highlighted nodes"
        title = current[0].query_selector("text").text_content()
        assert title == op, f"step {k}: highlighted {title!r}, engine ran {op!r}"
        assert op in page.text_content("#where")
        for edge in page.query_selector_all("#graph g.edge.sent"):
            texts = edge.query_selector_all("text")
            norm = _label_norm(texts[-1].text_content())
            engine_op, engine_norm = edges[sent_seen]
            assert engine_op == op
            np.testing.assert_allclose(norm, engine_norm, rtol=1e-3)
            sent_seen += 1
        if k == len(order) // 2:
            page.screenshot(path=str(artifacts / "backprop_steps_autoencoder.png"))
    assert sent_seen == len(edges), "every edge's gradient appeared on its edge"
    # W is where the two paths meet: its running sum after the last step is the engine's W.grad
    w_node = page.query_selector("#graph g.node:has(text:text-is('W'))")
    assert w_node is not None
    assert w_node.query_selector_all("text")[-1].text_content() == "Σ 2 of 2 paths"
    total = np.array(json.loads(w_node.get_attribute("data-sum")))
    np.testing.assert_allclose(total, w_grad.ravel(), rtol=1e-12)
    assert "path 2 of 2 arrived at W" in page.text_content("#panel")


def test_previous_and_keys_replay_exactly(browser: Any, tmp_path: Path) -> None:
    page = _open(browser, tmp_path)
    n = int(page.get_attribute("body", "data-steps"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("body", "data-step") == "2"
    two = page.inner_html("#graph")
    page.click("#next")
    page.click("#prev")
    assert page.inner_html("#graph") == two, "going back restores the picture exactly"
    page.keyboard.press("Home")
    assert page.get_attribute("body", "data-step") == "0"
    assert page.query_selector_all("#graph g.current") == []
    for _ in range(n + 3):  # past the end stays at the last step
        page.keyboard.press("ArrowRight")
    assert page.get_attribute("body", "data-step") == str(n)


def test_running_sum_fills_up_at_the_accumulation_point(browser: Any, tmp_path: Path) -> None:
    page = _open(browser, tmp_path)
    n = int(page.get_attribute("body", "data-steps"))
    labels = []
    for _ in range(n):
        page.click("#next")
        w_node = page.query_selector("#graph g.node:has(text:text-is('W'))")
        labels.append(w_node.query_selector_all("text")[-1].text_content())
    assert labels[0] == "Σ 0 of 2 paths"
    assert "Σ 1 of 2 paths" in labels and labels[-1] == "Σ 2 of 2 paths"
    assert labels.index("Σ 1 of 2 paths") < labels.index("Σ 2 of 2 paths")


def test_play_runs_to_the_end(browser: Any, tmp_path: Path) -> None:
    page = _open(browser, tmp_path)
    n = page.get_attribute("body", "data-steps")
    page.click("#play")  # one step every 1.2 s
    page.wait_for_function(f"() => document.body.dataset.step === '{n}'",
                           timeout=1500 * int(n) + 5000)
