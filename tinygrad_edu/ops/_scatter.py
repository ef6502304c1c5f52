"""`out[index] += x` with repeated indices accumulating: what `np.add.at` computes, faster for
the common shapes of a gradient scatter.

`np.add.at` adds one indexed element at a time. When the index is one integer array on one
axis (an embedding's rows `W[idx]`, the windows an adaptive pool or an interpolation
gathers, `x[:, idx]`), the same sums come from a few vectorised `+=`: the first occurrence
of every index in one pass, the second occurrences in the next, and so on (within a pass
no index repeats, so a fancy-indexed `+=` is exact). Each element receives its
contributions in the order the index lists them, as from `np.add.at`: the results are
identical, bit for bit. `tests/test_scatter_fast_path.py` holds the two equal on random
indices with repeats, negative indices and empty ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: above this many repeats of one index, np.add.at itself is used
MAX_PASSES = 16


def scatter_add(out: np.ndarray, index: Any, x: np.ndarray) -> None:
    """out[index] += x, a repeated index receiving every contribution (as np.add.at)."""
    axis = _single_array_axis(index)
    if axis is None or x.size == 0:
        np.add.at(out, index, x)
        return
    idx = index if isinstance(index, np.ndarray) else index[axis]
    n = idx.size
    flat = idx.reshape(n)
    flat = np.where(flat < 0, flat + out.shape[axis], flat)
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    first = np.concatenate(([True], ranked[1:] != ranked[:-1]))
    starts = np.flatnonzero(first)
    # the k-th occurrence of each index, in the order the index lists them
    occurrence = np.empty(n, dtype=np.int64)
    occurrence[order] = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    passes = int(occurrence.max()) + 1
    if passes > MAX_PASSES:  # one index repeated many times: np.add.at is as fast
        np.add.at(out, index, x)
        return
    rows = np.moveaxis(x, tuple(range(axis, axis + idx.ndim)), tuple(range(idx.ndim)))
    rows = rows.reshape((n,) + rows.shape[idx.ndim:])
    target = np.moveaxis(out, axis, 0)  # a view: writes go to `out`
    for k in range(passes):  # within a pass every index is distinct: one vector add
        pick = np.flatnonzero(occurrence == k)
        target[flat[pick]] += rows[pick]


def _single_array_axis(index: Any) -> int | None:
    """The axis of the one integer array in `index` when every other entry is a full slice
    `:` (so the array's dims replace that axis in place), else None."""
    if isinstance(index, np.ndarray):
        return 0 if index.dtype.kind in "iu" else None
    if not isinstance(index, tuple):
        return None
    arrays = [i for i, item in enumerate(index) if isinstance(item, np.ndarray)]
    if len(arrays) != 1 or index[arrays[0]].dtype.kind not in "iu":
        return None
    full = slice(None)
    if any(item != full for i, item in enumerate(index) if i != arrays[0]):
        return None
    return arrays[0]
