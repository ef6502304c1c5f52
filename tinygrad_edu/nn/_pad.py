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
    'circular' (wrap around). The non-constant modes pad any number of trailing dims of an
    input of any rank (PyTorch: 1-3 dims of a (C, ...) or (N, C, ...) input, else
    NotImplementedError); each dim is padded on its own, so the values are PyTorch's on the
    input reshaped to (-1, *padded dims) and numpy.pad's."""
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
        if mode in ("constant", "circular") and n + min(lo, 0) + min(hi, 0) < 0:
            # PyTorch crops before it pads in these modes (reflect and replicate pad first)
            raise ValueError(f"pad: widths {(lo, hi)} would crop dim {axis} of size {n} to "
                             f"{n + min(lo, 0) + min(hi, 0)} before padding it (input shape "
                             f"{x.shape}, pad {tuple(widths)}, mode {mode!r})")
    if mode == "constant":
        grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
        out = x.pad(grow, 0.0 if value is None else value) if any(map(any, grow)) else x
        return _crop(out, pairs)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    if mode == "circular":
        return _circular(x, pairs, widths)
    _check_edges(mode, pairs, widths, x)
    out = x
    for axis, (lo, hi) in enumerate(pairs):
        lo, hi = max(lo, 0), max(hi, 0)
        if lo or hi:
            out = out[(slice(None),) * axis + (_edge_index(out.shape[axis], lo, hi, mode),)]
    return _crop(out, pairs)


def _check_edges(mode: str, pairs: list[tuple[int, int]], widths: list[int], x: Tensor) -> None:
    """reflect and replicate, as PyTorch: every dim but a batch dim is non-empty, a
    reflection is shorter than its dim, and some padded dim keeps an element."""
    k = len(widths) // 2
    channel = x.ndim - k - 1  # the dim before the padded ones; those before it are batch dims
    sizes = [n + lo + hi for (lo, hi), n in zip(pairs[-k:], x.shape[-k:])]
    if not any(sizes):  # PyTorch's test: some padded dim keeps an element
        raise ValueError(f"pad: {mode} padding {tuple(widths)} leaves every padded dim of the "
                         f"input of shape {x.shape} empty (sizes {tuple(sizes)}); PyTorch "
                         "needs one of them non-empty")
    for axis, ((lo, hi), n) in enumerate(zip(pairs, x.shape)):
        if n == 0 and axis >= channel:
            raise ValueError(f"pad: {mode} padding {(lo, hi)} needs non-empty dims (but the "
                             f"batch dims), got dim {axis} empty in input of shape {x.shape} "
                             f"(pad {tuple(widths)})")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"pad: reflect padding {(lo, hi)} must be smaller than the "
                             f"dim it pads (dim {axis} of shape {x.shape})")


def _circular(x: Tensor, pairs: list[tuple[int, int]], widths: list[int]) -> Tensor:
    """PyTorch's circular mode crops every dim first and wraps the cropped tensor
    ([0..5] with (-1, 2) gives [1 2 3 4 5 1 2]), at most once: a width may not exceed
    the cropped size. (Beyond it, PyTorch's own copy overlaps its destination: it raises,
    or returns uninitialized or order-dependent values. We raise.)"""
    for axis, ((lo, hi), n) in enumerate(zip(pairs, x.shape)):
        kept = n + min(lo, 0) + min(hi, 0)
        if max(lo, hi) > kept:
            raise ValueError(f"pad: circular padding {(lo, hi)} would wrap around more than "
                             f"once: dim {axis} has size {kept} (after cropping) in input "
                             f"of shape {x.shape} (pad {tuple(widths)}); each width must be "
                             "at most that size")
    out = _crop(x, pairs)
    for axis, (lo, hi) in enumerate(pairs):
        lo, hi = max(lo, 0), max(hi, 0)
        if lo or hi:
            out = out[(slice(None),) * axis + (_edge_index(out.shape[axis], lo, hi, "circular"),)]
    return out


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
