"""`F.pad`: PyTorch's widths (last axis first) in every mode: constant, reflect, replicate
and circular, with negative widths cropping."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor, as_tensor


def _edge_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """Source index of each position of an axis of length n padded by (lo, hi)."""
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
    j = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(j < n, j, period - j)


def pad(input: Any, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad with PyTorch's tuple: (left, right) for the last dim, then (top, bottom) for the
    one before, and so on. Negative widths crop. Modes: 'constant' (with `value`, default 0),
    'reflect' (mirror without repeating the edge), 'replicate' (repeat the edge),
    'circular' (wrap around)."""
    x = as_tensor(input)
    widths = _pad_widths(pad, x)
    if len(widths) % 2 or len(widths) // 2 > x.ndim:
        raise ValueError(f"pad: the pad tuple needs an even length of at most 2 * ndim = "
                         f"{2 * x.ndim}, got {tuple(widths)} for shape {x.shape}")
    pairs = [(0, 0)] * x.ndim
    for k in range(len(widths) // 2):
        pairs[x.ndim - 1 - k] = (widths[2 * k], widths[2 * k + 1])
    for axis, ((lo, hi), n) in enumerate(zip(pairs, x.shape)):
        if n + lo + hi < 0:
            raise ValueError(f"pad: widths {(lo, hi)} would crop dim {axis} of size {n} to "
                             f"{n + lo + hi} (input shape {x.shape}, pad {tuple(widths)}); "
                             f"negative widths may remove at most the {n} elements there are")
    if mode == "constant":
        grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
        out = x.pad(grow, 0.0 if value is None else value) if any(map(any, grow)) else x
        return _crop(out, pairs)
    if mode in ("reflect", "replicate", "circular"):
        # PyTorch's circular mode crops first and wraps the cropped tensor
        # ([0..5] with (-1, 2) gives [1 2 3 4 5 1 2]); reflect and replicate pad the whole
        # tensor and crop afterwards.
        out = _crop(x, pairs) if mode == "circular" else x
        for axis, (lo, hi) in enumerate(pairs):
            lo, hi = max(lo, 0), max(hi, 0)
            if not (lo or hi):
                continue
            n = out.shape[axis]
            if mode == "replicate" and n == 0:
                raise ValueError(f"pad: replicate padding {pairs[axis]} needs an element to "
                                 f"repeat, but dim {axis} is empty (input shape {x.shape})")
            if mode == "reflect" and (lo >= n or hi >= n):
                raise ValueError(f"pad: reflect padding {pairs[axis]} must be smaller than the "
                                 f"dim it pads (dim {axis} of shape {x.shape})")
            if mode == "circular" and (lo > n or hi > n):
                raise ValueError(f"pad: circular padding {pairs[axis]} would wrap around "
                                 f"more than once: dim {axis} has size {n} (after cropping) "
                                 f"in input of shape {x.shape}")
            idx = _edge_index(n, lo, hi, mode)
            out = out[(slice(None),) * axis + (idx,)]
        return out if mode == "circular" else _crop(out, pairs)
    raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                     f"got {mode!r}")


def _pad_widths(pad: Any, x: Tensor) -> list[int]:
    """PyTorch's pad argument as a list of ints; anything else is a TypeError (int(1.5)
    would silently pad by 1)."""
    if isinstance(pad, Tensor) or not isinstance(pad, tuple | list):
        raise TypeError(f"pad: pad must be a tuple of ints (left, right, top, bottom, ...), "
                        f"got {type(pad).__name__} {pad!r} for input of shape {x.shape}")
    for i, p in enumerate(pad):
        if not isinstance(p, int | np.integer) or isinstance(p, bool):
            raise TypeError(f"pad: pad must be a tuple of ints, got {type(p).__name__} "
                            f"{p!r} at position {i} of {tuple(pad)} (input shape {x.shape})")
    return [int(p) for p in pad]


def _crop(x: Tensor, pairs: list[tuple[int, int]]) -> Tensor:
    """x without the elements that negative pad widths remove."""
    if not any(lo < 0 or hi < 0 for lo, hi in pairs):
        return x
    return x[tuple(slice(-min(lo, 0), n + min(hi, 0)) for (lo, hi), n in zip(pairs, x.shape))]


__all__ = ["pad"]
