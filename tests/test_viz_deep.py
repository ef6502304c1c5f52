"""Deep graphs stay legible: repeated blocks fold into one "×20" box, deep pictures run top
to bottom, and every model in `tinygrad_edu.models` (and every built-in example) renders
within a 1,600 px wide, 4,000 px tall page at Graphviz's default 96 dpi (so no text is
scaled down). Rendered with the real `dot`; the PNG's size is read from its header."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
import viz
from tinygrad_edu import models

MAX_WIDTH, MAX_HEIGHT = 1600, 4000


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def course_loss(model: Any, shape: tuple[int, ...], classes: int) -> Any:
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal(shape), dtype=model.dtype, name="X")
    y = tg.tensor(rng.integers(0, classes, shape[0]), name="y")
    return model.loss(x, y)


def module_loss(model: Any, shape: tuple[int, ...], classes: int) -> Any:
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal(shape).astype(np.float32), name="x")
    y = tg.tensor(rng.integers(0, classes, shape[0]), name="y")
    return F.cross_entropy(model(x), y)


MODELS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "TwoLayerNet": lambda: (m := models.TwoLayerNet(input_dim=12, hidden_dim=8,
                                                    num_classes=4, reg=0.1),
                            course_loss(m, (6, 12), 4)),
    "FullyConnectedNet": lambda: (m := models.FullyConnectedNet([8, 8], input_dim=12,
                                                                num_classes=4, reg=0.1),
                                  course_loss(m, (6, 12), 4)),
    "FullyConnectedNet batchnorm dropout": lambda: (
        m := models.FullyConnectedNet([8] * 5, input_dim=12, num_classes=4,
                                      normalization="batchnorm", dropout=0.5, reg=0.1),
        course_loss(m, (6, 12), 4)),
    "FullyConnectedNet 20 layernorm": lambda: (
        m := models.FullyConnectedNet([16] * 20, input_dim=12, num_classes=4,
                                      normalization="layernorm", reg=0.1),
        course_loss(m, (6, 12), 4)),
    "SmallConvNet": lambda: (m := models.SmallConvNet(), module_loss(m, (2, 1, 28, 28), 10)),
    "MLP 20 layers": lambda: (m := models.MLP([784] + [256] * 20 + [10]),
                              module_loss(m, (8, 784), 10)),
    "MLP tanh dropout": lambda: (m := models.MLP([20, 16, 16, 16, 3], activation="tanh",
                                                 dropout=0.2), module_loss(m, (8, 20), 3)),
}


def test_every_model_class_is_drawn_here() -> None:
    drawn = {name.split()[0] for name in MODELS}
    assert drawn == set(models.__all__)


@pytest.mark.parametrize("name", list(MODELS))
def test_models_fit_a_1600_px_page(name: str, tmp_path: Path) -> None:
    tg.manual_seed(0)
    model, loss = MODELS[name]()
    with tg.record_gradients() as tape:
        loss.backward()
    graph = viz.draw_graph(loss, model=model, tape=tape)
    assert not re.search(r"[\s\[](size|dpi|ratio)=", graph.source)  # nothing scaled down
    width, height = png_size(viz.render(graph, tmp_path / "g.png"))
    assert width <= MAX_WIDTH and height <= MAX_HEIGHT, (width, height)


@pytest.mark.parametrize("name", list(viz.examples.EXAMPLES))
def test_examples_fit_a_1600_px_page(name: str, tmp_path: Path) -> None:
    width, height = png_size(viz.render(viz.examples.draw(name), tmp_path / "g.png"))
    assert width <= MAX_WIDTH and height <= MAX_HEIGHT, (width, height)


def mlp20() -> tuple[Any, Any, Any]:
    tg.manual_seed(0)
    model = models.MLP([784] + [256] * 20 + [10])
    loss = module_loss(model, (8, 784), 10)
    with tg.record_gradients() as tape:
        loss.backward()
    return model, loss, tape


def test_twenty_identical_blocks_fold_into_one_box_that_can_be_opened() -> None:
    model, loss, tape = mlp20()
    src = viz.draw_graph(loss, model=model, tape=tape).source
    boxes = re.findall(r'\[label="([^"]*)" class=repeat', src)
    assert len(boxes) == 1
    title, ops, _, _ = boxes[0].split("\\n")
    assert title == "Linear → ReLU ×20"
    # parameters counted as scalars, as print(model) / summary count them
    count = sum(p.numel() for i in range(0, 40, 2) for p in model[i].parameters())
    assert ops == f"40 ops, {count:,} params" and count == 1_451_008
    assert 'label="0: Linear"' not in src and 'label="40: Linear"' in src  # the last differs
    opened = viz.draw_graph(loss, model=model, tape=tape, fold_repeats=False).source
    assert "class=repeat" not in opened
    assert all(f'label="{2 * i}: Linear"' in opened for i in range(21))


def test_deep_pictures_run_top_to_bottom_shallow_ones_left_to_right() -> None:
    model, loss, tape = mlp20()
    opened = viz.draw_graph(loss, model=model, tape=tape, fold_repeats=False).source
    assert "rankdir=TB" in opened
    folded = viz.draw_graph(loss, model=model, tape=tape).source
    assert "rankdir=LR" in folded
    assert "rankdir=RL" in viz.draw_graph(loss, model=model, rankdir="RL").source


def test_a_block_must_repeat_three_times_to_fold() -> None:
    tg.manual_seed(0)
    two = models.MLP([4, 4, 4, 2])  # Linear, ReLU, Linear, ReLU, Linear: 2 repeats
    src = viz.draw_graph(module_loss(two, (3, 4), 2), model=two).source
    assert "class=repeat" not in src
    three = models.MLP([4, 4, 4, 4, 2])
    src = viz.draw_graph(module_loss(three, (3, 4), 2), model=three).source
    assert "Linear → ReLU ×3" in src
    # the data input stays outside the box, its edge going in
    assert re.search(r'label="x\\n\(3, 4\) float32', src)


def test_collapsed_modules_count_scalars() -> None:
    model, loss, tape = mlp20()
    src = viz.draw_graph(loss, model=model, tape=tape, collapse=0, fold_repeats=False).source
    assert "0: Linear\\n1 ops, 200,960 params" in src  # 784 * 256 + 256
    assert "40: Linear\\n1 ops, 2,570 params" in src
