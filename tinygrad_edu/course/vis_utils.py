"""The courses' `vis_utils.visualize_grid`, numpy only (drawing is the caller's
`plt.imshow(grid.astype('uint8'))`; `viz.plot_weight_grid` draws with matplotlib)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.course._graph import as_array
from tinygrad_edu.errors import ShapeError

__all__ = ["visualize_grid"]


def visualize_grid(Xs: Any, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile the N images of Xs (N, H, W, C) row by row into a square grid of
    ceil(sqrt(N)) x ceil(sqrt(N)) cells, `padding` zero pixels between cells, each image
    scaled on its own to [0, ubound] ((x - min) / (max - min)). Returns the grid, float64, of
    shape (G H + (G - 1) padding, G W + (G - 1) padding, C). Unused cells stay 0. A constant
    image (max = min), which the courses' division turns into NaN, becomes 0."""
    op = "visualize_grid"
    x = as_array(Xs, op, "Xs").astype(np.float64)
    if x.ndim != 4 or x.shape[0] < 1:
        raise ShapeError(f"{op}: Xs must be N >= 1 images of shape (N, H, W, C) (add a "
                         f"channel axis to gray images: Xs[..., None]), got shape {x.shape}")
    if not isinstance(padding, int | np.integer) or padding < 0:
        raise ValueError(f"{op}: padding must be a non-negative int, got {padding!r}")
    n, h, w, c = x.shape
    low = x.min(axis=(1, 2, 3), keepdims=True)
    span = x.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = np.where(span > 0, ubound * (x - low) / np.where(span > 0, span, 1.0), 0.0)
    g = math.ceil(math.sqrt(n))
    cells = np.zeros((g * g, h + padding, w + padding, c))
    cells[:n, :h, :w] = scaled
    grid = cells.reshape(g, g, h + padding, w + padding, c).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(g * (h + padding), g * (w + padding), c)
    return grid[:g * (h + padding) - padding, :g * (w + padding) - padding].copy()
