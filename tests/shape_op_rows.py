"""Rows of the op table (`op_table.OPS`) for the shape and indexing names of issue 19, with
their input strategies: each draws `(arrays, params)` as `op_strategies` does, the arrays
float64, the indices and dims as parameters. `rows(Op)` builds the rows (the Op class is
passed in, so this module does not import op_table)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_strategies import Case, arrays, one_dim, small_shapes

import tinygrad_edu as tg
from tinygrad_edu import Tensor


@st.composite
def matrices(draw: Any) -> Case:
    """A batch of matrices (2 or 3 dims) and a diagonal offset."""
    s = draw(small_shapes(min_dims=2, max_dims=3, max_side=4))
    return (draw(arrays(s)),), {"diagonal": draw(st.integers(-3, 3))}


@st.composite
def roll_args(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    if draw(st.booleans()):
        return (draw(arrays(s)),), {"shifts": draw(st.integers(-5, 5)), "dims": None}
    dims = draw(st.lists(st.integers(-len(s), len(s) - 1), min_size=1, max_size=2))
    shifts = tuple(draw(st.integers(-4, 4)) for _ in dims)
    return (draw(arrays(s)),), {"shifts": shifts, "dims": tuple(dims)}


@st.composite
def dim_and_picks(draw: Any) -> Case:
    """A dim and a 1-D index along it (repeats allowed: their gradients accumulate)."""
    s = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(s), len(s) - 1))
    n = s[dim]
    index = draw(hnp.arrays(np.int64, draw(st.integers(0, 4)), elements=st.integers(0, n - 1)))
    return (draw(arrays(s)),), {"dim": dim, "index": index}


@st.composite
def scatter_args(draw: Any, repeats: bool = True) -> Case:
    """Input, src (the index's shape, as PyTorch's backward wants), a dim and an index of
    the input's shape except along dim. Without `repeats` no place is written twice: an
    overwritten src entry still gets its gathered gradient, as in PyTorch, which is not
    the numeric derivative (0) of a value that was thrown away."""
    s = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(s), len(s) - 1))
    d = dim % len(s)
    k = draw(st.integers(1, 3 if repeats else s[d]))
    idx_shape = tuple(k if i == d else n for i, n in enumerate(s))
    if repeats:
        index = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, s[d] - 1)))
    else:  # the first k of a random order of 0..n-1 along d, at every other position
        keys = draw(hnp.arrays(np.float64, s, elements=st.floats(0, 1), unique=True))
        index = np.take(np.argsort(keys, axis=d), np.arange(k), axis=d)
    return (draw(arrays(s)), draw(arrays(idx_shape))), {"dim": dim, "index": index}


def _scatter_ref(a: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    out = a.copy()
    np.put_along_axis(out, index, src, axis=dim)
    return out


def _scatter_add_ref(a: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray
                     ) -> np.ndarray:
    out = a.copy()
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim % a.ndim] = index
    np.add.at(out, tuple(grid), src)
    return out


@st.composite
def take_args(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(s), len(s) - 1))
    d = dim % len(s)
    idx_shape = tuple(draw(st.integers(1, 3)) if i == d else draw(st.sampled_from([1, n]))
                      for i, n in enumerate(s))
    index = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(-s[d], s[d] - 1)))
    return (draw(arrays(s)),), {"dim": dim, "index": index}


def _take_ref(a: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    d = dim % a.ndim
    shape = np.broadcast_shapes(a.shape[:d] + (1,) + a.shape[d + 1:],
                                index.shape[:d] + (1,) + index.shape[d + 1:])
    full = np.broadcast_to(index, shape[:d] + (index.shape[d],) + shape[d + 1:])
    return np.take_along_axis(np.broadcast_to(a, shape[:d] + (a.shape[d],) + shape[d + 1:]),
                              full % a.shape[d], axis=d)


@st.composite
def mask_args(draw: Any) -> Case:
    s = draw(small_shapes())
    return (draw(arrays(s)),), {"mask": draw(hnp.arrays(np.bool_, s))}


@st.composite
def interleave_args(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(s), len(s) - 1))
    counts = draw(st.one_of(st.integers(0, 3), hnp.arrays(np.int64, s[dim],
                                                           elements=st.integers(0, 3))))
    return (draw(arrays(s)),), {"repeats": counts, "dim": dim}


@st.composite
def tile_args(draw: Any) -> Case:
    s = draw(small_shapes(max_side=2))
    reps = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, len(s) + 1))))
    return (draw(arrays(s)),), {"dims": reps}


@st.composite
def narrow_args(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1, max_side=4))
    dim = draw(st.integers(-len(s), len(s) - 1))
    n = s[dim]
    start = draw(st.integers(-n, n))
    length = draw(st.integers(0, n - (start % n if start < 0 else start)))
    return (draw(arrays(s)),), {"dim": dim, "start": start, "length": length}


@st.composite
def move_args(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    k = draw(st.integers(1, len(s)))
    src = draw(st.permutations(range(len(s))))[:k]
    dst = draw(st.permutations(range(len(s))))[:k]
    return (draw(arrays(s)),), {"source": tuple(src), "destination": tuple(-len(s) + d
                                                                            for d in dst)}


@st.composite
def two_axes(draw: Any) -> Case:
    """Two different dims (any sign) and an offset: for diagonal, or for diag_embed with
    dims of a result one dim larger."""
    s = draw(small_shapes(min_dims=2, max_side=4))
    a, b = draw(st.lists(st.integers(0, len(s) - 1), min_size=2, max_size=2, unique=True))
    return (draw(arrays(s)),), {"offset": draw(st.integers(-3, 3)),
                                "dim1": a - len(s) * draw(st.integers(0, 1)), "dim2": b}


@st.composite
def embed_axes(draw: Any) -> Case:
    """An offset and two different dims of diag_embed's result (one dim more than the
    input), either sign."""
    s = draw(small_shapes(min_dims=1, max_side=3))
    nd = len(s) + 1
    a, b = draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True))
    return (draw(arrays(s)),), {"offset": draw(st.integers(-2, 2)),
                                "dim1": a - nd * draw(st.integers(0, 1)), "dim2": b}


def _diag_embed_ref(a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    n = a.shape[-1] + abs(offset)
    out = np.zeros(a.shape[:-1] + (n, n))
    rows = np.arange(a.shape[-1]) + max(0, -offset)
    out[..., rows, rows + offset] = a
    nd = a.ndim + 1
    return np.moveaxis(out, (-2, -1), (dim1 % nd, dim2 % nd))


@st.composite
def vectors(draw: Any) -> Case:
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    return tuple(draw(arrays(st.just((n,)))) for n in sizes), {
        "indexing": draw(st.sampled_from(["ij", "xy"]))}


def _weighted(ts: Any) -> Tensor:
    """Pieces of a tuple result, weighted by position and joined, so a mixed-up piece shows."""
    return tg.stack([t * (k + 1.0) for k, t in enumerate(ts)])


def _weighted_np(xs: Any) -> np.ndarray:
    return np.stack([x * (k + 1.0) for k, x in enumerate(xs)])


def rows(op: Any) -> list[Any]:
    """The rows; `op` is op_table's Op class."""
    return [
        op("tril", lambda t, diagonal: t.tril(diagonal), lambda a, diagonal: np.tril(a, diagonal),
           matrices()),
        op("triu", lambda t, diagonal: tg.triu(t, diagonal=diagonal),
           lambda a, diagonal: np.triu(a, diagonal), matrices()),
        op("roll", lambda t, shifts, dims: t.roll(shifts, dims),
           lambda a, shifts, dims: np.roll(a, shifts, dims), roll_args()),
        op("index_select", lambda t, dim, index: t.index_select(dim, Tensor(index)),
           lambda a, dim, index: np.take(a, index, axis=dim), dim_and_picks()),
        op("scatter", lambda t, src, dim, index: t.scatter(dim, Tensor(index), src),
           _scatter_ref, scatter_args(repeats=False)),
        op("scatter_add", lambda t, src, dim, index: tg.scatter_add(t, dim, index, src),
           _scatter_add_ref, scatter_args()),
        op("scatter_inplace", lambda t, src, dim, index: (t * 1.0).scatter_(dim, index, src),
           _scatter_ref, scatter_args(repeats=False)),
        op("take_along_dim", lambda t, dim, index: t.take_along_dim(Tensor(index), dim),
           _take_ref, take_args()),
        op("masked_select", lambda t, mask: t.masked_select(Tensor(mask)),
           lambda a, mask: a[mask], mask_args()),
        op("masked_fill_", lambda t, mask: (t * 1.0).masked_fill_(Tensor(mask), 0.5),
           lambda a, mask: np.where(mask, 0.5, a), mask_args()),
        op("repeat_interleave", lambda t, repeats, dim: t.repeat_interleave(
            repeats if isinstance(repeats, int) else Tensor(repeats), dim),
           lambda a, repeats, dim: np.repeat(a, repeats, axis=dim), interleave_args()),
        op("tile", lambda t, dims: t.tile(dims), lambda a, dims: np.tile(a, dims), tile_args()),
        op("unbind", lambda t, dim: _weighted(t.unbind(dim)),
           lambda a, dim: _weighted_np(np.moveaxis(a, dim, 0)), one_dim(min_dims=1)),
        op("narrow", lambda t, dim, start, length: t.narrow(dim, start, length),
           lambda a, dim, start, length: np.moveaxis(np.moveaxis(a, dim, 0)[
               start % a.shape[dim] if start < 0 else start:][:length], 0, dim),
           narrow_args()),
        op("movedim", lambda t, source, destination: tg.movedim(t, source, destination),
           lambda a, source, destination: np.moveaxis(a, source, destination), move_args()),
        op("swapaxes", lambda t, dim1, dim2, offset: t.swapaxes(dim1, dim2),
           lambda a, dim1, dim2, offset: np.swapaxes(a, dim1, dim2), two_axes()),
        op("diagonal", lambda t, offset, dim1, dim2: t.diagonal(offset, dim1, dim2),
           lambda a, offset, dim1, dim2: np.diagonal(a, offset, dim1, dim2), two_axes(), True),
        op("diag_embed", lambda t, offset, dim1, dim2: t.diag_embed(offset, dim1, dim2),
           _diag_embed_ref, embed_axes(), True),
        op("atleast_3d", lambda t: tg.atleast_3d(t) * 1.0, lambda a: np.atleast_3d(a) * 1.0,
           st.tuples(st.tuples(arrays(small_shapes())), st.just({}))),
        op("meshgrid", lambda *ts, indexing: _weighted(tg.meshgrid(*ts, indexing=indexing)),
           lambda *xs, indexing: _weighted_np(np.meshgrid(*xs, indexing=indexing)), vectors()),
    ]
