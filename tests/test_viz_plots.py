"""viz.plots: PNG files of nonzero size and Figures with the expected axes and images."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure

import tinygrad_edu as tg
import viz
from viz.plots import smooth_curve, tile_images

PNG = b"\x89PNG\r\n\x1a\n"


def history(epochs: int = 4, iters: int = 200, val_loss: bool = True) -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    h = {"loss_history": list(2 * np.exp(-np.arange(iters) / 50) + 0.2 * rng.random(iters)),
         "train_acc_history": list(np.linspace(0.3, 0.9, epochs)),
         "val_acc_history": list(np.linspace(0.25, 0.8, epochs))}
    if val_loss:
        h["val_loss_history"] = list(np.linspace(1.5, 0.6, epochs))
    return h


def check_png(path: Any) -> np.ndarray:
    path = Path(path)
    assert path.suffix == ".png" and path.stat().st_size > 0
    assert path.read_bytes()[:8] == PNG
    return mpimg.imread(path)


# ----------------------------------------------------------------------------- curves


def test_history_png_and_axes(tmp_path: Path) -> None:
    written = viz.plot_history(history(), tmp_path / "out" / "curves.png")
    assert written == tmp_path / "out" / "curves.png"
    image = check_png(written)
    assert image.shape[1] > image.shape[0]  # three panels side by side
    fig = viz.plot_history(history())
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    loss_ax, acc_ax, val_ax = fig.axes
    raw, smoothed = loss_ax.lines  # raw and moving average, one point per iteration
    assert len(raw.get_xdata()) == len(smoothed.get_xdata()) == 200
    assert np.allclose(smoothed.get_ydata(), smooth_curve(history()["loss_history"], 8))
    assert [len(line.get_xdata()) for line in acc_ax.lines] == [4, 4]
    assert list(acc_ax.lines[1].get_xdata()) == [0, 1, 2, 3]  # after iteration 1, then epochs
    assert len(val_ax.lines) == 1
    two = viz.plot_history(history(val_loss=False), smooth=0)
    assert isinstance(two, Figure) and len(two.axes) == 2 and len(two.axes[0].lines) == 1


def test_history_from_an_object_and_errors(tmp_path: Path) -> None:
    solver = SimpleNamespace(**history(val_loss=False))
    check_png(viz.plot_history(solver, tmp_path / "s.png", smooth=5, title="run 1"))
    only_loss = viz.plot_history({"loss_history": [3.0, 2.0, 1.0]})
    assert isinstance(only_loss, Figure) and len(only_loss.axes) == 1
    with pytest.raises(ValueError, match=r"^plot_history: the history has no 'loss_history'"):
        viz.plot_history({"loss": [1.0]})
    with pytest.raises(ValueError, match=r"^plot_history: smooth must be an int >= 0"):
        viz.plot_history(history(), smooth=-2)


@given(values=st.lists(st.floats(-1e3, 1e3), min_size=0, max_size=40),
       window=st.integers(0, 12))
def test_smooth_curve_is_a_trailing_mean(values: list[float], window: int) -> None:
    got = smooth_curve(values, window)
    w = max(window, 1)
    expected = [np.mean(values[max(0, i - w + 1): i + 1]) for i in range(len(values))]
    assert np.allclose(got, expected, atol=1e-9)


# ----------------------------------------------------------------------------- weights


@given(n=st.integers(1, 13), h=st.integers(1, 4), w=st.integers(1, 4),
       c=st.sampled_from([1, 3]), ncols=st.one_of(st.none(), st.integers(1, 6)),
       padding=st.integers(0, 2))
def test_tile_images_places_each_tile(n: int, h: int, w: int, c: int, ncols: int | None,
                                      padding: int) -> None:
    tiles = np.random.default_rng(n).random((n, h, w, c))
    grid = tile_images(tiles, ncols, padding, fill=-1.0)
    cols = ncols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    assert grid.shape == (rows * (h + padding) - padding, cols * (w + padding) - padding, c)
    for k in range(n):
        r, q = divmod(k, cols)
        top, left = r * (h + padding), q * (w + padding)
        assert np.array_equal(grid[top:top + h, left:left + w], tiles[k])
    assert np.count_nonzero(grid == -1.0) == grid.size - tiles.size


def test_weight_grid_linear_rows_as_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    weight = tg.Tensor(rng.standard_normal((10, 3 * 4 * 5)))  # (out, in), images (3, 4, 5)
    check_png(viz.plot_weight_grid(weight, tmp_path / "w.png", image_shape=(3, 4, 5)))
    fig = viz.plot_weight_grid(weight, image_shape=(3, 4, 5), ncols=5)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (2 * 5 - 1, 5 * 6 - 1, 3)  # 2 rows x 5 cols of 4x5 RGB tiles
    first = weight.numpy()[0].reshape(3, 4, 5).transpose(1, 2, 0)
    scaled = (first - first.min()) / (first.max() - first.min())
    assert np.allclose(shown[:4, :5], scaled)
    grey = viz.plot_weight_grid(rng.standard_normal((6, 49)))  # square inputs: 7x7 grey
    assert grey.axes[0].images[0].get_array().shape == (2 * 8 - 1, 3 * 8 - 1)  # type: ignore[union-attr]


def test_weight_grid_conv_filters(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    check_png(viz.plot_weight_grid(rng.standard_normal((8, 3, 5, 5)), tmp_path / "c.png"))
    rgb = viz.plot_weight_grid(rng.standard_normal((8, 3, 5, 5)), padding=0, ncols=4)
    assert rgb.axes[0].images[0].get_array().shape == (10, 20, 3)  # type: ignore[union-attr]
    w = rng.standard_normal((4, 2, 3, 3))
    multi = viz.plot_weight_grid(w, normalize="all")
    grid = multi.axes[0].images[0].get_array()  # type: ignore[union-attr]
    assert grid.shape == (4 * 4 - 1, 2 * 4 - 1)  # a row per filter, a column per channel
    scaled = (w - w.min()) / (w.max() - w.min())  # one scale for all tiles
    assert np.allclose(grid[4:7, 4:7], scaled[1, 1]) and np.allclose(grid[12:, :3], scaled[3, 0])


def test_weight_grid_non_images_and_errors(tmp_path: Path) -> None:
    matrix = viz.plot_weight_grid(np.random.default_rng(3).standard_normal((8, 2)))
    assert isinstance(matrix, Figure) and len(matrix.axes) == 2  # the matrix and a colorbar
    assert matrix.axes[0].images[0].get_array().shape == (8, 2)
    with pytest.raises(ValueError, match=r"^plot_weight_grid: image_shape \(5, 5\) has 25 "
                                         r"pixels but each weight row has 16 entries"):
        viz.plot_weight_grid(np.ones((3, 16)), image_shape=(5, 5))
    with pytest.raises(ValueError, match=r"^plot_weight_grid: expected a Linear weight .*"
                                         r"got shape \(2, 3, 4\)"):
        viz.plot_weight_grid(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"^plot_weight_grid: image_shape must be"):
        viz.plot_weight_grid(np.ones((2, 32)), image_shape=(2, 4, 4))
    with pytest.raises(ValueError, match=r"^plot_weight_grid: normalize must be"):
        viz.plot_weight_grid(np.ones((2, 4)), normalize="global")


def test_class_templates_both_layouts(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    names = [f"class {i}" for i in range(7)]
    course = rng.standard_normal((6 * 6 * 3, 7))  # (D, C) with images (H, W, C)
    check_png(viz.plot_class_templates(course, names, (6, 6, 3), tmp_path / "t.png"))
    fig = viz.plot_class_templates(course.T, names, (6, 6, 3))
    assert isinstance(fig, Figure) and len(fig.axes) == 7
    assert [ax.get_title() for ax in fig.axes] == names
    assert fig.axes[2].images[0].get_array().shape == (6, 6, 3)
    with pytest.raises(ValueError, match=r"^plot_class_templates: W has shape \(5, 7\); with "
                                         r"7 classes and image_shape \(6, 6, 3\) expected"):
        viz.plot_class_templates(np.ones((5, 7)), names, (6, 6, 3))


# ----------------------------------------------------------------------------- sweeps


def test_heatmap_from_rows_and_from_the_course_dict(tmp_path: Path) -> None:
    rows = [{"lr": lr, "reg": reg, "val_acc": lr * 100 + reg}
            for lr in (1e-4, 1e-3, 1e-2) for reg in (0.0, 0.5) if (lr, reg) != (1e-2, 0.5)]
    check_png(viz.plot_heatmap(rows, "lr", "reg", "val_acc", tmp_path / "h.png"))
    fig = viz.plot_heatmap(rows, "lr", "reg", "val_acc")
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # the map and its colorbar
    grid = np.ma.filled(fig.axes[0].images[0].get_array(), np.nan)
    assert grid.shape == (2, 3)  # rows: reg, columns: lr
    assert np.allclose(grid[0], [0.01, 0.1, 1.0]) and np.allclose(grid[1, :2], [0.51, 0.6])
    assert np.isnan(grid[1, 2])  # the pair that was not run stays blank
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1e-04", "1e-03", "1e-02"]
    results = {(1e-3, 1e-4): (0.30, 0.40), (1e-2, 1e-4): (0.50, 0.45)}
    course = viz.plot_heatmap(results, "lr", "reg", 1)
    assert np.allclose(course.axes[0].images[0].get_array(), [[0.40, 0.45]])  # type: ignore[union-attr]
    with pytest.raises(KeyError, match=r"plot_heatmap: row 0 has no 'val_acc'"):
        viz.plot_heatmap([{"lr": 1, "reg": 2}], "lr", "reg", "val_acc")
    with pytest.raises(ValueError, match=r"^plot_heatmap: the table is empty"):
        viz.plot_heatmap([], "lr", "reg", "val_acc")
