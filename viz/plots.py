"""Training pictures with matplotlib (Agg, no display needed): curves, weight grids,
class templates, hyperparameter heatmaps.

Every function builds a `matplotlib.figure.Figure` without pyplot (no global state, nothing
left open). With `path` it writes a PNG (or whatever the suffix says) and returns the
`Path`; without `path` it returns the Figure, to inspect or to show in Jupyter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x)


def _finish(fig: Figure, path: str | Path | None, dpi: int) -> Path | Figure:
    if path is None:
        return fig
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


class InlineFigure(Figure):
    """A Figure that Jupyter shows as a PNG without pyplot or `%matplotlib inline`."""

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def _new_figure(width: float, height: float) -> Figure:
    fig = InlineFigure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


# ----------------------------------------------------------------------------- curves


def _per_epoch(ax: Any, series: Any, quantity: str) -> None:
    """One line per (name, values, colour), at x = 0, 1, ...: the Solver checks first after
    its first iteration (epoch 0, as the courses' Solver does), then after each epoch."""
    for name, values, color in series:
        if values:
            ax.plot(np.arange(len(values)), values, "o-", color=color, ms=3, label=name)
    ax.set_xlabel("epoch (0 = after the first iteration)")
    ax.set_ylabel(quantity)
    ax.set_title(f"{quantity} per epoch")


def smooth_curve(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average: entry i is the mean of values[max(0, i-window+1) : i+1]."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or v.size == 0:
        return v
    csum = np.concatenate([[0.0], np.cumsum(v)])
    i = np.arange(1, v.size + 1)
    lo = np.maximum(0, i - window)
    return (csum[i] - csum[lo]) / (i - lo)


def plot_history(history: Mapping[str, Sequence[float]] | Any, path: str | Path | None = None,
                 smooth: int | None = None, title: str | None = None,
                 dpi: int = 110) -> Path | Figure:
    """Training curves from a solver's histories (a dict, or an object with the attributes):
    `loss_history` per iteration (raw and smoothed) on the first axes, `train_acc_history` /
    `val_acc_history` per epoch on the second, and `train_loss_history` (the Solver's mean
    minibatch loss per epoch) with `val_loss_history`, when present, on a third. `smooth`:
    moving-average window in iterations (None: about 1/25 of the run; 0 or 1: none)."""
    get = history.get if isinstance(history, Mapping) else (
        lambda k, d=None: getattr(history, k, d))
    loss = np.asarray(get("loss_history", None) or [], dtype=np.float64)
    train_acc = list(get("train_acc_history", None) or [])
    val_acc = list(get("val_acc_history", None) or [])
    val_loss = list(get("val_loss_history", None) or [])
    train_loss = list(get("train_loss_history", None) or [])
    if loss.size == 0 and not train_acc and not val_acc:
        keys = sorted(history) if isinstance(history, Mapping) else type(history).__name__
        raise ValueError("plot_history: the history has no 'loss_history', "
                         f"'train_acc_history' or 'val_acc_history' entries (got {keys})")
    if smooth is not None and (not isinstance(smooth, int) or smooth < 0):
        raise ValueError(f"plot_history: smooth must be an int >= 0 or None, got {smooth!r}")
    panels = [p for p, present in (("loss", loss.size > 0), ("acc", train_acc or val_acc),
                                   ("val_loss", val_loss or train_loss)) if present]
    fig = _new_figure(5.0 * len(panels), 3.8)
    axes = [fig.add_subplot(1, len(panels), k + 1) for k in range(len(panels))]
    for ax, panel in zip(axes, panels):
        if panel == "loss":
            window = max(1, loss.size // 25) if smooth is None else smooth
            it = np.arange(1, loss.size + 1)
            ax.plot(it, loss, color="#9ecae1", lw=0.8, label="loss")
            if window > 1:
                ax.plot(it, smooth_curve(loss, window), color="#08519c", lw=1.8,
                        label=f"moving average ({window})")
            ax.set_xlabel("iteration")
            ax.set_ylabel("training loss")
            ax.set_title("loss per iteration")
        elif panel == "acc":
            _per_epoch(ax, (("train", train_acc, "#e6550d"), ("val", val_acc, "#31a354")),
                       "accuracy")
        else:
            _per_epoch(ax, (("train", train_loss, "#e6550d"), ("val", val_loss, "#756bb1")),
                       "loss")
        if panel != "loss":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path, dpi)


# ----------------------------------------------------------------------------- images


def _normalize(tiles: np.ndarray, mode: str) -> np.ndarray:
    """Scale to [0, 1]: each tile by its own min and max ('each') or all together ('all')."""
    axes = tuple(range(1, tiles.ndim)) if mode == "each" else None
    lo = tiles.min(axis=axes, keepdims=True)
    hi = tiles.max(axis=axes, keepdims=True)
    return (tiles - lo) / np.where(hi > lo, hi - lo, 1.0)


def tile_images(tiles: np.ndarray, ncols: int | None = None, padding: int = 1,
                fill: float = 1.0) -> np.ndarray:
    """Arrange N images (N, h, w, c) in a grid with `padding` pixels between them."""
    n, h, w, c = tiles.shape
    cols = ncols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.full((rows * cols, h + padding, w + padding, c), fill, dtype=np.float64)
    grid[:n, :h, :w] = tiles
    grid = grid.reshape(rows, cols, h + padding, w + padding, c).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * (h + padding), cols * (w + padding), c)
    return grid[: grid.shape[0] - padding, : grid.shape[1] - padding]


def _as_images(w: np.ndarray, image_shape: Sequence[int] | None, op: str) -> np.ndarray:
    """Rows of w (N, D) as images (N, h, w, c), from image_shape (H, W), (C, H, W) or
    (H, W, C) with C in {1, 3}; (C, H, W) wins when both fit, as in PyTorch."""
    n, d = w.shape
    if image_shape is None or len(image_shape) == 1:
        side = math.isqrt(d)
        if side * side != d:
            return np.empty((0,))
        image_shape = (side, side)
    shape = tuple(int(s) for s in image_shape)
    if math.prod(shape) != d:
        raise ValueError(f"{op}: image_shape {shape} has {math.prod(shape)} pixels but each "
                         f"weight row has {d} entries")
    if len(shape) == 2:
        return w.reshape(n, *shape, 1)
    if len(shape) == 3 and shape[0] in (1, 3):
        return w.reshape(n, *shape).transpose(0, 2, 3, 1)
    if len(shape) == 3 and shape[2] in (1, 3):
        return w.reshape(n, *shape)
    raise ValueError(f"{op}: image_shape must be (H, W), (C, H, W) or (H, W, C) with C 1 or "
                     f"3, got {shape}")


def _show(ax: Any, image: np.ndarray) -> None:
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", interpolation="nearest", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_weight_grid(weights: Any, path: str | Path | None = None,
                     image_shape: Sequence[int] | None = None, ncols: int | None = None,
                     normalize: str = "each", padding: int = 1, max_images: int = 256,
                     title: str | None = None, dpi: int = 110) -> Path | Figure:
    """First-layer weights tiled into one image.

    - Linear weight (out, in), PyTorch layout: each row reshaped by `image_shape` ((H, W),
      (C, H, W) or (H, W, C); None: square grey images when `in` is a square). Weights
      that are not images (e.g. 2 input features) are shown as the matrix itself.
    - Conv2d weight (O, C, kh, kw): one tile per filter, RGB when C == 3, grey when C == 1,
      else one grey tile per (filter, channel), a row per filter.
    `normalize`: 'each' scales every tile to its own [min, max], 'all' uses one scale.
    """
    w = _array(weights).astype(np.float64)
    if normalize not in ("each", "all"):
        raise ValueError(f"plot_weight_grid: normalize must be 'each' or 'all', "
                         f"got {normalize!r}")
    if w.ndim == 4:
        o, c, kh, kw = w.shape
        if c in (1, 3):
            tiles = w.transpose(0, 2, 3, 1)
        else:
            tiles = w.reshape(o * c, kh, kw, 1)
            ncols = ncols or c
        kind = f"{o} filters {c}x{kh}x{kw}"
    elif w.ndim == 2:
        tiles = _as_images(w, image_shape, "plot_weight_grid")
        kind = f"{w.shape[0]} rows of {w.shape[1]}"
    else:
        raise ValueError(f"plot_weight_grid: expected a Linear weight (out, in) or a Conv2d "
                         f"weight (O, C, kh, kw), got shape {w.shape}")
    fig = _new_figure(6.0, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    if tiles.size == 0:  # not images: the matrix itself
        im = ax.imshow(w, cmap="RdBu_r", aspect="auto", interpolation="nearest")
        fig.colorbar(im, ax=ax)
        ax.set_xlabel("input")
        ax.set_ylabel("output unit")
    else:
        tiles = _normalize(tiles[:max_images], normalize)
        _show(ax, tile_images(tiles, ncols, padding))
    ax.set_title(title or f"weights ({kind})")
    return _finish(fig, path, dpi)


def plot_class_templates(W: Any, class_names: Sequence[str], image_shape: Sequence[int],
                         path: str | Path | None = None, title: str | None = None,
                         dpi: int = 110) -> Path | Figure:
    """A linear classifier's weights as one image per class (the learned templates).
    `W` is (num_classes, D) (PyTorch Linear) or (D, num_classes) (the course layout)."""
    w = _array(W).astype(np.float64)
    k, d = len(class_names), math.prod(int(s) for s in image_shape)
    if w.ndim != 2 or (w.shape != (k, d) and w.shape != (d, k)):
        raise ValueError(f"plot_class_templates: W has shape {w.shape}; with {k} classes and "
                         f"image_shape {tuple(image_shape)} expected ({k}, {d}) or ({d}, {k})")
    rows = w if w.shape == (k, d) else w.T
    images = _normalize(_as_images(rows, image_shape, "plot_class_templates"), "each")
    cols = min(k, 5)
    nrows = int(math.ceil(k / cols))
    fig = _new_figure(2.0 * cols, 2.2 * nrows)
    for i, name in enumerate(class_names):
        ax = fig.add_subplot(nrows, cols, i + 1)
        _show(ax, images[i])
        ax.set_title(str(name), fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path, dpi)


# ----------------------------------------------------------------------------- sweeps


def plot_heatmap(table: Iterable[Mapping[str, Any]] | Mapping[tuple[Any, Any], Any],
                 x_key: str, y_key: str, value_key: str | int,
                 path: str | Path | None = None, log_x: bool | None = None,
                 log_y: bool | None = None, title: str | None = None,
                 dpi: int = 110) -> Path | Figure:
    """A hyperparameter sweep as a heatmap: one cell per (x, y) pair, coloured and written
    with its value; missing pairs are blank. `table` is a list of rows (dicts), or the
    course's dict {(x, y): value or tuple}, where an int `value_key` picks from the tuple.
    Axes with positive values spanning more than a factor 100 get log-style labels."""
    points: list[tuple[Any, Any, float]] = []
    key: Any = value_key
    if isinstance(table, Mapping):
        for (x, y), v in table.items():
            pick = v[value_key] if isinstance(v, Sequence) and isinstance(value_key, int) else v
            points.append((x, y, float(pick)))
    else:
        for i, row in enumerate(table):
            missing = [k for k in (x_key, y_key, key) if k not in row]
            if missing:
                raise KeyError(f"plot_heatmap: row {i} has no {missing[0]!r} "
                               f"(it has {sorted(row)})")
            points.append((row[x_key], row[y_key], float(row[key])))
    if not points:
        raise ValueError("plot_heatmap: the table is empty")
    xs = sorted({p[0] for p in points})
    ys = sorted({p[1] for p in points})
    grid = np.full((len(ys), len(xs)), np.nan)
    col = {x: i for i, x in enumerate(xs)}
    row_of = {y: i for i, y in enumerate(ys)}
    for x, y, v in points:
        grid[row_of[y], col[x]] = v
    fig = _new_figure(1.2 + 0.9 * len(xs), 1.2 + 0.6 * len(ys))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    fig.colorbar(im, ax=ax, label=str(value_key))
    finite = grid[np.isfinite(grid)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (r, c), v in np.ndenumerate(grid):  # one text per cell: the sweep is small
        if np.isfinite(v):
            ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=8,
                    color="black" if v > mid else "white")
    ax.set_xticks(range(len(xs)), [_tick(x, log_x, xs) for x in xs], rotation=45)
    ax.set_yticks(range(len(ys)), [_tick(y, log_y, ys) for y in ys])
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    ax.set_title(title or f"{value_key} by {x_key} and {y_key}")
    fig.tight_layout()
    return _finish(fig, path, dpi)


def _tick(value: Any, log: bool | None, values: list[Any]) -> str:
    if not isinstance(value, int | float | np.number):
        return str(value)
    if log is None:
        nums = [float(v) for v in values if isinstance(v, int | float | np.number)]
        log = min(nums) > 0 and max(nums) / min(nums) >= 100
    return f"{float(value):.0e}" if log else f"{value:.3g}"
