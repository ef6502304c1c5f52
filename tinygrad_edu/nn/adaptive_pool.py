"""Adaptive pooling: `F.adaptive_avg_pool1d/2d/3d`, `F.adaptive_max_pool1d/2d/3d` and the
modules `AdaptiveAvgPool1d/2d/3d`, `AdaptiveMaxPool1d/2d/3d`, as PyTorch.

The output has a fixed size; output position i along an axis of length n pools PyTorch's
window [floor(i * n / out), ceil((i + 1) * n / out)), so windows may differ in length and
overlap. Both are composites of getitem: each window is gathered (padded to the longest
window by repeating its last index, the repeats masked out), then
- average: summed per axis (a separable window sum) and divided by the window's length;
- max: the source of each window's maximum is found on the arrays, with PyTorch's rule
  (the first maximum in row-major order, or the last NaN if any), and the output is that
  element, gathered: its whole gradient goes there, as in PyTorch (ties are not shared as
  in `max_pool2d`), and indices are its flat position in the input plane.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import where
from tinygrad_edu.nn._layer_name import named_call
from tinygrad_edu.nn.module import Module
from tinygrad_edu.ops.values import held
from tinygrad_edu.return_types import ValuesIndices
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"]


def _windows(n: int, out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index (out, K), valid mask (out, K), lengths (out,)) of the windows along an axis."""
    i = np.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    k = int((end - start).max()) if out else 1
    taps = start[:, None] + np.arange(k)
    valid = taps < end[:, None]
    return np.where(valid, taps, (end - 1)[:, None]), valid, end - start


def _output_size(op: str, d: int, x: Tensor, output_size: Any) -> tuple[int, ...]:
    """PyTorch's output_size: an int, or d entries each an int or None (keep that size)."""
    layout = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)",
              3: "(N, C, D, H, W) or (C, D, H, W)"}[d]
    if x.ndim not in (d + 1, d + 2):
        raise ShapeError(f"{op}: expected a {d + 1}-D or {d + 2}-D input {layout}, got shape "
                         f"{x.shape}")
    # PyTorch's checks: 1-D and 2-D average pooling need non-empty spatial dims, the others
    # every dim but the first (so (N, 0, H, W) averages to (N, 0, ...) but does not max-pool)
    spatial_only = op.startswith("adaptive_avg") and d < 3
    needed = x.shape[-d:] if spatial_only else x.shape[1:]
    ones = output_size == 1 or isinstance(output_size, tuple | list) and all(
        s == 1 for s in output_size)
    if any(n == 0 for n in needed) and not (ones and op.startswith("adaptive_avg")):
        # (to size 1 PyTorch takes the mean, NaN for an empty plane, as here)
        which = "spatial dims" if spatial_only else "dims after the first"
        raise ShapeError(f"{op}: expected input with non-zero {which}, got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point input, got {x.dtype} (shape "
                        f"{x.shape})")
    if output_size is None:
        raise TypeError(f"{op}: output_size must be an int or a tuple of {d} (ints or None), "
                        f"got None (input shape {x.shape})")
    sizes = tuple(output_size) if isinstance(output_size, tuple | list) else (output_size,) * d
    if len(sizes) != d:
        raise ValueError(f"{op}: output_size must be an int or {d} ints (or None), got "
                         f"{output_size!r} for input of shape {x.shape}")
    outs = []
    for s, n in zip(sizes, x.shape[-d:]):
        if s is None:
            outs.append(n)
        elif isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 0:
            outs.append(int(s))
        else:
            raise ValueError(f"{op}: output_size entries must be ints >= 0 or None, got "
                             f"{output_size!r} for input of shape {x.shape}")
    return tuple(outs)


def adaptive_avg_pool(op: str, d: int, x: Tensor, outs: tuple[int, ...]) -> Tensor:
    """The mean of each window, one spatial axis at a time (the last d axes of x)."""
    if all(o == 1 for o in outs):  # PyTorch's shortcut: the plane's mean (NaN if empty)
        return x.mean(axis=tuple(range(x.ndim - d, x.ndim)), keepdims=True)
    for axis in range(x.ndim - d, x.ndim):
        index, valid, lengths = _windows(x.shape[axis], outs[axis - x.ndim + d])
        taps = x[(slice(None),) * axis + (index,)]  # (..., out, K, ...)
        mask = valid.reshape(valid.shape + (1,) * (x.ndim - 1 - axis))
        summed = where(mask, taps, 0.0).sum(axis=axis + 1)
        count = lengths.reshape(lengths.shape + (1,) * (x.ndim - 1 - axis))
        x = summed / as_tensor(count.astype(x.array.dtype))
    return x


def _max_sources(a: np.ndarray, d: int, outs: tuple[int, ...]) -> np.ndarray:
    """For each output position of the array `a` (..., *spatial), the flat index in its
    spatial block of the window's maximum: the first in row-major order, or, if the window
    holds a NaN, the last NaN (PyTorch's scan: `val > max || isnan(val)`)."""
    spatial, lead = a.shape[a.ndim - d:], a.shape[:a.ndim - d]
    grids = [_windows(n, o) for n, o in zip(spatial, outs)]
    # every window gathered, padded taps masked: (..., o1, K1, ..., od, Kd)
    shape = tuple(s for index, _, _ in grids for s in index.shape)
    windows = a[(...,) + np.ix_(*[index.reshape(-1) for index, _, _ in grids])]
    windows = windows.reshape(lead + shape)
    valid, flat = np.ones((), dtype=bool), np.zeros((), dtype=np.int64)
    for t, (index, ok, _) in enumerate(grids):
        expand = [1] * (2 * d)
        expand[2 * t:2 * t + 2] = index.shape
        valid = valid & ok.reshape(expand)
        flat = flat * spatial[t] + index.reshape(expand)  # row-major position in the block
    # -> (..., o1, ..., od, K1 * ... * Kd), the taps of a window in row-major order
    order = [*range(0, 2 * d, 2), *range(1, 2 * d, 2)]
    taps = int(np.prod(shape[1::2]))
    nl = len(lead)
    windows = windows.transpose(*range(nl), *(nl + o for o in order))
    values = np.where(np.broadcast_to(valid, shape).transpose(order).reshape(outs + (taps,)),
                      windows.reshape(lead + outs + (taps,)), -np.inf)
    flat = np.broadcast_to(flat, shape).transpose(order).reshape(outs + (taps,))
    nan = np.isnan(values)
    tap = np.where(nan.any(axis=-1), taps - 1 - np.argmax(nan[..., ::-1], axis=-1),
                   np.argmax(values, axis=-1))
    return np.take_along_axis(np.broadcast_to(flat, tap.shape + (taps,)), tap[..., None],
                              axis=-1)[..., 0]


def _adaptive_max(op: str, d: int, input: Any, output_size: Any, return_indices: bool) -> Any:
    x = as_tensor(input)
    outs = _output_size(op, d, x, output_size)
    lead, block = x.shape[:x.ndim - d], int(np.prod(x.shape[x.ndim - d:]))
    rows = int(np.prod(lead))
    # held: compile recomputes the sources (an index of the GetItem below) on every call
    sources = held(max_source_rows, x, d=d, outs=outs, rows=rows)
    picked = x.reshape(rows, block)[np.arange(rows)[:, None], sources.array]
    out = picked.reshape(*lead, *outs)
    if not return_indices:
        return out
    return ValuesIndices(out, held(max_source_indices, x, d=d, outs=outs))


def max_source_rows(a: np.ndarray, d: int, outs: tuple[int, ...], rows: int) -> np.ndarray:
    """`_max_sources` as (rows, outputs per row), the GetItem's index."""
    return _max_sources(a, d, outs).reshape(rows, int(np.prod(outs)))


def max_source_indices(a: np.ndarray, d: int, outs: tuple[int, ...]) -> np.ndarray:
    return _max_sources(a, d, outs).astype(np.int64)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:
    """The mean over PyTorch's adaptive windows of (N, C, H, W) or (C, H, W) input;
    output_size an int or (H_out, W_out), None keeping that size."""
    x = as_tensor(input)
    return adaptive_avg_pool("adaptive_avg_pool2d", 2, x,
                             _output_size("adaptive_avg_pool2d", 2, x, output_size))


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Tensor:
    """The mean over PyTorch's adaptive windows of (N, C, L) or (C, L) input."""
    x = as_tensor(input)
    return adaptive_avg_pool("adaptive_avg_pool1d", 1, x,
                             _output_size("adaptive_avg_pool1d", 1, x, output_size))


def adaptive_avg_pool3d(input: Any, output_size: Any) -> Tensor:
    """The mean over PyTorch's adaptive windows of (N, C, D, H, W) or (C, D, H, W) input."""
    x = as_tensor(input)
    return adaptive_avg_pool("adaptive_avg_pool3d", 3, x,
                             _output_size("adaptive_avg_pool3d", 3, x, output_size))


def adaptive_max_pool3d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum over PyTorch's adaptive windows of (N, C, D, H, W) or (C, D, H, W) input;
    indices are flat positions in the input volume ((d * H + h) * W + w)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum over PyTorch's adaptive windows of (N, C, H, W) or (C, H, W) input;
    return_indices=True also gives its flat index in the input plane (h * W + w)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum over PyTorch's adaptive windows of (N, C, L) or (C, L) input."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


class _AdaptivePool(Module):
    _d = 2

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size!r}"

    def _call(self, fn: Any, *args: Any) -> Any:
        return named_call(self, lambda: fn(*args))


class AdaptiveAvgPool2d(_AdaptivePool):
    """`F.adaptive_avg_pool2d` as a layer (output_size an int, a pair, None entries kept)."""

    def forward(self, input: Tensor) -> Tensor:
        return self._call(adaptive_avg_pool2d, input, self.output_size)  # type: ignore[no-any-return]


class AdaptiveAvgPool1d(_AdaptivePool):
    """`F.adaptive_avg_pool1d` as a layer."""

    def forward(self, input: Tensor) -> Tensor:
        return self._call(adaptive_avg_pool1d, input, self.output_size)  # type: ignore[no-any-return]


class _AdaptiveMax(_AdaptivePool):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool2d(_AdaptiveMax):
    """`F.adaptive_max_pool2d` as a layer (return_indices as there)."""

    def forward(self, input: Tensor) -> Any:
        return self._call(adaptive_max_pool2d, input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMax):
    """`F.adaptive_max_pool1d` as a layer."""

    def forward(self, input: Tensor) -> Any:
        return self._call(adaptive_max_pool1d, input, self.output_size, self.return_indices)


class AdaptiveAvgPool3d(_AdaptivePool):
    """`F.adaptive_avg_pool3d` as a layer."""

    def forward(self, input: Tensor) -> Tensor:
        return self._call(adaptive_avg_pool3d, input, self.output_size)  # type: ignore[no-any-return]


class AdaptiveMaxPool3d(_AdaptiveMax):
    """`F.adaptive_max_pool3d` as a layer."""

    def forward(self, input: Tensor) -> Any:
        return self._call(adaptive_max_pool3d, input, self.output_size, self.return_indices)
