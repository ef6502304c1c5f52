# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""More indexing ops of Tensor (a mixin), as PyTorch names them: index_select, scatter,
scatter_add (and in place), take_along_dim, masked_select, masked_fill_, nonzero, argsort,
unique, repeat_interleave.

The differentiable ones are composites of the indexing primitives (`GetItem`, whose
gradient scatters with accumulation, `IndexAdd`, `IndexPut`), so their first and second
derivatives come from those. An index is an integer tensor, numpy array or list; a float or
bool index is a TypeError naming the op, and an index outside the dim an IndexError naming
the index and the size (numpy's wrap-around of negative indices is not taken where PyTorch
refuses them).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _tensor_types
from tinygrad_edu.ops.indexing import NoDerivative
from tinygrad_edu.ops.movement import IndexAdd, IndexPut
from tinygrad_edu.ops.values import held

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

def index_array(index: Any, op: str, name: str = "index") -> np.ndarray:
    """An index given as a tensor, array, list or int, as an int64 array; anything but
    integers is a TypeError naming the op."""
    raw = index.array if isinstance(index, _tensor_types.Tensor) else index
    arr = np.asarray(raw)
    if arr.size == 0 and isinstance(raw, list | tuple):
        arr = arr.astype(np.int64)  # `[]` selects nothing (numpy would make it float)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integers (an int64 or int32 tensor), got "
                        f"dtype {arr.dtype} (shape {arr.shape})")
    return arr.astype(np.int64, copy=False)


def check_range(idx: np.ndarray, size: int, op: str, where: str, negative: bool = False
                ) -> np.ndarray:
    """idx, each entry inside 0..size-1 (or -size..size-1 when `negative`, returned as
    positions), else an IndexError naming the first bad index and the size."""
    low = -size if negative else 0
    bad = (idx < low) | (idx >= size)
    if bad.any():
        raise IndexError(f"{op}: index {int(idx[bad].flat[0])} is out of range for {where} of "
                         f"size {size} (valid: {low}..{size - 1})")
    return idx % size if negative and size else idx


def argsort_indices(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The stable sorting indices of x along axis (int64); NaN counts as the largest."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable").astype(np.int64)
    # descending and stable: sort the reversed axis ascending, then reverse back; NaNs
    # (last when ascending) come first, equal entries in their original order
    n = x.shape[axis]
    rev = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
    return (n - 1 - rev).astype(np.int64)


class IndexingMoreMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ selecting
    def index_select(self: Tensor, dim: int, index: Any) -> Tensor:
        """The entries at `index` (a 1-D or one-element integer tensor) along `dim`, in that
        order; an entry picked twice gets both gradients."""
        d = self._axis(dim, "index_select")
        idx = index_array(index, "index_select")
        if idx.ndim > 1:
            raise ShapeError(f"index_select: index must be 1-D (or 0-d), got shape {idx.shape}"
                             f" for an input of shape {self.shape}")
        if self.ndim == 0:
            if idx.size != 1:
                raise ShapeError(f"index_select: a 0-d input takes one index, got shape "
                                 f"{idx.shape}")
            check_range(idx, 1, "index_select", "a 0-d input")
            return self.clone()
        idx = check_range(idx.reshape(-1), self.shape[d], "index_select",
                          f"dim {d} of the input of shape {self.shape}")
        return self[(slice(None),) * d + (idx,)]

    def take_along_dim(self: Tensor, indices: Any, dim: int | None = None) -> Tensor:
        """out[..., i, ...] = self[..., indices[..., i, ...], ...] along `dim` (input and
        indices broadcast in the other dims); with dim=None on the flattened tensors.
        Negative indices count from the end, as in PyTorch."""
        idx = index_array(indices, "take_along_dim", "indices")
        if dim is None:  # PyTorch refuses negative indices here (and takes them with a dim)
            flat = self.reshape(-1)
            pos = check_range(idx.reshape(-1), flat.shape[0], "take_along_dim",
                              f"the flattened input of shape {self.shape}")
            return flat[pos]
        d = self._axis(dim, "take_along_dim")
        if idx.ndim != self.ndim:
            raise ShapeError(f"take_along_dim: input of shape {self.shape} and indices of "
                             f"shape {idx.shape} must have the same number of dims")
        try:
            both = np.broadcast_shapes(self.shape[:d] + (1,) + self.shape[d + 1:],
                                       idx.shape[:d] + (1,) + idx.shape[d + 1:])
        except ValueError:
            raise ShapeError(f"take_along_dim: input of shape {self.shape} and indices of "
                             f"shape {idx.shape} do not broadcast outside dim {d}") from None
        pos = check_range(idx, self.shape[d], "take_along_dim",
                          f"dim {d} of the input of shape {self.shape}", negative=True)
        x = self.expand(both[:d] + (self.shape[d],) + both[d + 1:])
        return x.gather(d, np.broadcast_to(pos, both[:d] + (idx.shape[d],) + both[d + 1:]))

    def masked_select(self: Tensor, mask: Any) -> Tensor:
        """The entries where `mask` (bool, broadcast with self) holds, as a 1-D tensor."""
        m = np.asarray(mask.array if isinstance(mask, _tensor_types.Tensor) else mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_select: mask must be bool, got {m.dtype} (shape "
                            f"{m.shape})")
        try:
            shape = np.broadcast_shapes(self.shape, m.shape)
        except ValueError:
            raise ShapeError(f"masked_select: mask of shape {m.shape} does not broadcast with "
                             f"the input of shape {self.shape}") from None
        return self.expand(shape)[np.broadcast_to(m, shape)].reshape(-1)

    def nonzero(self: Tensor, *, as_tuple: bool = False) -> Any:
        """The indices of the non-zero entries: an int64 tensor of shape (count, ndim), or
        with `as_tuple=True` one 1-D tensor per dim (a 0-d tensor counts as 1-D)."""
        if as_tuple:
            return tuple(self._wrap(i.astype(np.int64))
                         for i in np.nonzero(np.atleast_1d(self.array)))
        return self._wrap(np.argwhere(self.array).astype(np.int64))

    def argsort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
                ) -> Tensor:
        """The indices that sort `dim` (int64). Ties keep their order; NaN counts as the
        largest value, as in PyTorch."""
        a = self._axis(dim, "argsort")
        if self.ndim == 0:
            return self._wrap(np.zeros((), np.int64))
        return held(argsort_indices, self, axis=a, descending=descending)  # compile: per call

    def unique(self: Tensor, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: int | None = None) -> Any:
        """The distinct values, sorted (also for sorted=False, as PyTorch on the CPU), with
        optionally the inverse (where each entry went) and the counts. With `dim`, the
        distinct slices along it. No derivative, as in PyTorch."""
        a = self.array
        if dim is None:
            values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True,
                                                return_counts=True, equal_nan=False)
            inverse = inverse.reshape(a.shape)
        else:
            d = self._axis(dim, "unique")
            if a.size == 0 and a.shape[d] != 0:
                raise ValueError(f"unique: dim {dim} of a tensor of shape {self.shape}: the "
                                 "other dims are empty, so there is nothing to compare")
            if a.ndim == 0 or a.size == 0:
                values, inverse, counts = a, np.zeros(0, np.int64), np.zeros(0, np.int64)
            else:
                values, inverse, counts = np.unique(a, return_inverse=True,
                                                    return_counts=True, axis=d)
            inverse = inverse.reshape(-1)
        out = self._unrecorded_result(values, "unique")
        extras = [self._wrap(x.astype(np.int64)) for x, wanted in
                  ((inverse, return_inverse), (counts, return_counts)) if wanted]
        return (out, *extras) if extras else out

    def _unrecorded_result(self: Tensor, values: np.ndarray, op: str) -> Tensor:
        """`values` computed from self by an op without a derivative: in a graph, a node
        whose backward raises (as PyTorch's), never a silently dropped gradient."""
        return NoDerivative.apply(self, fn=lambda _: values, name=op)

    def repeat_interleave(self: Tensor, repeats: Any = None, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        """Each entry (or slice along `dim`) repeated `repeats` times in place (an int, or
        one count per entry); dim=None works on the flattened tensor."""
        if dim is not None and self.ndim == 0:
            raise IndexError(f"repeat_interleave: dim {dim} given for a 0-d tensor (shape ())")
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else self._axis(dim, "repeat_interleave")
        if x.ndim == 0:
            x = x.reshape(1)
        n = x.shape[d]
        if isinstance(repeats, int | np.integer) and not isinstance(repeats, bool):
            counts = np.full(n, int(repeats), np.int64)
        else:
            counts = index_array(repeats, "repeat_interleave", "repeats")
            if counts.ndim > 1 or counts.size not in (1, n):
                raise ShapeError(f"repeat_interleave: repeats of shape {counts.shape} must be "
                                 f"one count or one per entry ({n}) along dim {d} of the "
                                 f"input of shape {self.shape}")
            counts = np.broadcast_to(counts.reshape(-1), (n,))
        if (counts < 0).any():
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got "
                             f"{int(counts.min())}")
        if output_size is not None and int(counts.sum()) != output_size:
            raise ValueError(f"repeat_interleave: output_size {output_size} but the repeats "
                             f"add up to {int(counts.sum())}")
        return x[(slice(None),) * d + (np.repeat(np.arange(n), counts),)]

    # ------------------------------------------------------------------ scattering
    def _scatter_index(self: Tensor, dim: int, index: Any, src: Any, op: str
                       ) -> tuple[int, np.ndarray, tuple[np.ndarray, ...]] | None:
        """The checked dim, index, and the advanced index naming the places written
        (`index` along dim, the index's own position elsewhere); None for an empty index."""
        d = self._axis(dim, op)
        idx = index_array(index, op)
        if idx.size == 0:
            return None
        nd = max(self.ndim, 1)
        idx = idx.reshape(idx.shape or (1,))
        if idx.ndim != nd or (src is not None and src.ndim != idx.ndim):
            raise ShapeError(f"{op}: index of shape {idx.shape} must have as many dims as "
                             f"the input (shape {self.shape})"
                             + ("" if src is None else f" and src (shape {src.shape})"))
        shape, picked = self.shape or (1,), tuple(map(int, idx.shape))
        too_big = any(k != d and picked[k] > shape[k] for k in range(nd))
        if too_big or src is not None and any(picked[k] > src.shape[k] for k in range(nd)):
            raise ShapeError(f"{op}: index of shape {idx.shape} must be no larger than the "
                             f"input (shape {self.shape}) outside dim {d}"
                             + ("" if src is None else f", nor than src (shape {src.shape})"))
        check_range(idx, shape[d], op, f"dim {d} of the input of shape {self.shape}")
        grid: list[np.ndarray] = list(np.indices(idx.shape, sparse=True))
        grid[d] = idx
        return d, idx, tuple(grid)

    def _scatter_src(self: Tensor, src: Any, value: Any, op: str) -> Any:
        if src is None and value is None:
            raise TypeError(f"{op}: give src (a tensor) or value (a number)")
        if src is None or not isinstance(src, _tensor_types.Tensor):
            v = value if src is None else src
            if isinstance(v, _tensor_types.Tensor) or np.ndim(v):
                raise TypeError(f"{op}: value must be a number, got {type(v).__name__}")
            return v
        if src.dtype != self.dtype:
            raise TypeError(f"{op}: src has dtype {src.dtype} but the input has {self.dtype}; "
                            "they must be equal")
        return src.reshape(1) if src.ndim == 0 else src  # a 0-d src counts as 1-D (PyTorch)

    def scatter(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:
        """A copy of self with out[index[i][j]][j] = src[i][j] for dim 0 (and so on), or the
        number `value`. The gradient to self is zero where it was overwritten; src's is the
        gradient gathered at `index`. `reduce='add'|'multiply'` combines instead (no
        derivative, as in PyTorch)."""
        source = self._scatter_src(src, value, "scatter")
        where = self._scatter_index(dim, index, source if hasattr(source, "array") else None,
                                    "scatter")
        if where is None:
            return self.clone()
        d, idx, grid = where
        flat = self.reshape(self.shape or (1,))
        if hasattr(source, "array"):
            part = source[tuple(slice(0, m) for m in idx.shape)]
        else:
            part = self._wrap(np.full(idx.shape, source, dtype=self.dtype))
        if reduce is not None:
            if hasattr(source, "array"):
                warnings.warn("The reduce argument of torch.scatter with Tensor src is "
                              "deprecated and will be removed in a future PyTorch release. "
                              "Use torch.scatter_reduce instead for more reduction options.",
                              UserWarning, stacklevel=2)
            return self._scatter_reduce(flat, part, grid, reduce).reshape(self.shape)
        return IndexPut.apply(flat, part, index=grid).reshape(self.shape)

    def _scatter_reduce(self: Tensor, flat: Tensor, part: Tensor, grid: Any, reduce: str
                        ) -> Tensor:
        ufunc = {"add": np.add, "multiply": np.multiply}.get(reduce)
        if ufunc is None:
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")

        def combine(x: np.ndarray, v: np.ndarray) -> np.ndarray:
            y = x.copy()
            ufunc.at(y, grid, v)
            return y

        return NoDerivative.apply(flat, part, fn=combine, name=f"scatter(reduce={reduce!r})")

    def scatter_add(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
        """self plus src added in at `index` (repeated places accumulate); the gradient to
        self passes unchanged, src's is the gradient gathered at `index`."""
        if not isinstance(src, _tensor_types.Tensor):
            raise TypeError(f"scatter_add: src must be a tensor, got {type(src).__name__}")
        source = self._scatter_src(src, None, "scatter_add")
        where = self._scatter_index(dim, index, source, "scatter_add")
        if where is None:
            return self.clone()
        _, idx, grid = where
        part = source[tuple(slice(0, m) for m in idx.shape)]
        flat = self.reshape(self.shape or (1,))
        return (flat + IndexAdd.apply(part, index=grid, shape=flat.shape)).reshape(self.shape)

    def scatter_(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        return self._unary_inplace(
            "scatter_", lambda t: t.scatter(dim, index, src, value=value, reduce=reduce), src)

    def scatter_add_(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
        return self._unary_inplace("scatter_add_",
                                   lambda t: t.scatter_add(dim, index, src), src)

    def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
        """masked_fill in place; the mask must broadcast to self's shape, and the value is
        cast to self's dtype (2.7 into an int64 tensor writes 2, as PyTorch)."""
        m_shape = np.shape(mask.array if isinstance(mask, _tensor_types.Tensor) else mask)
        try:
            fits = np.broadcast_shapes(self.shape, m_shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"masked_fill_: mask of shape {m_shape} does not broadcast to the "
                             f"shape {self.shape} of the tensor filled in place")
        return self._unary_inplace("masked_fill_",
                                   lambda t: t.masked_fill(mask, value).to(t.dtype), value)
