# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""Movement ops of Tensor (a mixin): reshape, permute, expand, indexing, padding, splits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._arguments import as_int, int_args
from tinygrad_edu._indexing_more import check_range, index_array
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _state, _tensor_types
from tinygrad_edu.ops.movement import Expand, GetItem, Pad, Permute, Reshape

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _shape_args(args: tuple[Any, ...], op: str, what: str = "size") -> tuple[int, ...]:
    return int_args(args, op, what)


def _other_tensor(other: Any, op: str) -> Any:
    if not isinstance(other, _tensor_types.Tensor):
        raise TypeError(f"{op}: other must be a Tensor, got {type(other).__name__}")
    return other


def _is_dtype(value: Any) -> bool:
    """A dtype spelling (`float32`, `np.int64`, `"float64"`), not a size."""
    if isinstance(value, int | np.integer | tuple | list | _tensor_types.Tensor):
        return False
    if isinstance(value, np.dtype | type):
        return True
    raise TypeError(f"view: expected a shape (ints) or a dtype, got {value!r} "
                    f"({type(value).__name__})")


def _index_to_numpy(index: Any) -> Any:
    Tensor = _tensor_types.Tensor

    def conv(i: Any) -> Any:
        if isinstance(i, Tensor):
            return i.array
        if isinstance(i, list):
            arr = np.asarray([x.array if isinstance(x, Tensor) else x for x in i])
            return arr.astype(np.int64) if arr.size == 0 else arr  # `x[[]]` picks nothing
        return i

    return tuple(conv(i) for i in index) if isinstance(index, tuple) else conv(index)


def _check_bool_masks(shape: tuple[int, ...], index: Any, op: str) -> None:
    """A boolean mask must have exactly the shape of the axes it covers; say so with both
    shapes (numpy's own message gives one axis and neither shape)."""
    items = index if isinstance(index, tuple) else (index,)

    def width(i: Any) -> int:
        if i is None or i is Ellipsis:
            return 0
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            return i.ndim
        return 1

    if any(i is Ellipsis for i in items):
        cut = next(k for k, i in enumerate(items) if i is Ellipsis)
        starts, pos = {}, 0
        for k in range(cut):
            starts[k] = pos
            pos += width(items[k])
        pos = len(shape)
        for k in range(len(items) - 1, cut, -1):
            pos -= width(items[k])
            starts[k] = pos
    else:
        starts, pos = {}, 0
        for k, i in enumerate(items):
            starts[k] = pos
            pos += width(i)
    for k, i in enumerate(items):
        if isinstance(i, np.ndarray) and i.dtype == np.bool_ and i.ndim:
            lo = starts[k]
            covered = shape[lo:lo + i.ndim] if lo >= 0 else ()
            if lo < 0 or covered != i.shape:
                where = (f"axes {lo}..{lo + i.ndim - 1}" if i.ndim > 1 else f"axis {lo}")
                raise IndexError(f"{op}: boolean mask of shape {i.shape} does not match the "
                                 f"tensor of shape {shape} at {where} (covering shape "
                                 f"{covered}); the mask must have exactly the shape of the "
                                 "axes it indexes")


def _index_note(index: Any) -> str:
    """The shapes of the array parts of an index, as Python prints them, for an error
    message (numpy's own text prints `(2,3)`); empty when the index has no arrays."""
    items = index if isinstance(index, tuple) else (index,)
    shapes = [str(np.shape(i.array if isinstance(i, _tensor_types.Tensor) else i))
              for i in items if isinstance(i, np.ndarray | list | _tensor_types.Tensor)]
    return f"; index arrays of shapes {', '.join(shapes)}" if shapes else ""


def _as_view_index(idx: Any) -> Any:
    """A basic index with `...` appended: same selection, but numpy then returns a 0-d view
    instead of a scalar copy, so `t[0].fill_(5)` writes into t as in PyTorch."""
    items = idx if isinstance(idx, tuple) else (idx,)
    basic = all(i is None or isinstance(i, int | np.integer | slice) and not isinstance(i, bool)
                for i in items)
    return (*items, Ellipsis) if basic else idx


def _ints_first(idx: Any) -> tuple[Any, Any] | None:
    """For an index mixing ints with integer/boolean arrays, PyTorch's reading: select with
    the ints first, then index the rest (`x[0, :, [1, 3]]` has shape (3, 2), where numpy's
    rule moves the broadcast axes first and gives (2, 3))."""
    if not isinstance(idx, tuple) or any(i is None or i is Ellipsis for i in idx):
        return None
    ints = [isinstance(i, int | np.integer) and not isinstance(i, bool) for i in idx]
    arrays = [isinstance(i, np.ndarray) and i.ndim > 0 for i in idx]
    if not any(ints) or not any(arrays):
        return None
    first = tuple(i if is_int else slice(None) for i, is_int in zip(idx, ints))
    rest = tuple(i for i, is_int in zip(idx, ints) if not is_int)
    return first, rest


def _resolve_shape(shape: tuple[int, ...], size: int) -> tuple[int, ...] | None:
    """`shape` with one -1 filled in, or None if it cannot hold `size` elements."""
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in shape):
        return None
    known = int(np.prod([n for n in shape if n != -1]))
    if unknown:
        if known == 0 or size % known:
            return None
        return tuple(size // known if n == -1 else n for n in shape)
    return shape if known == size else None


class MovementMixin:
    __slots__ = ()

    def _expand_to(self: Tensor, shape: tuple[int, ...]) -> Tensor:
        # a bare numpy view when no gradient is wanted (unless compile records every op)
        if self.requires_grad and _state.grad_enabled or _state.trace is not None:
            return Expand.apply(self, shape=shape)
        view = self._wrap(np.broadcast_to(self.array, shape))
        view._base = self
        return view

    def reshape(self: Tensor, *shape: Any) -> Tensor:
        """A view with the given shape (-1 inferred). Even an unchanged shape gives a new
        tensor object, as PyTorch's view does: the result may be reshaped in place
        (`unsqueeze_`) or given its own `requires_grad_` without touching `self`."""
        new = _shape_args(shape, "reshape")
        target = new if new == self.array.shape else _resolve_shape(new, self.array.size)
        if target is None:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"({self.numel()} elements) into {new}")
        return Reshape.apply(self, shape=target)

    def view(self: Tensor, *shape: Any) -> Tensor:
        """`view(2, 3)` / `view((2, 3))` reshapes; `view(dtype)` converts (PyTorch's two
        overloads). Anything else (a float, a string) is a TypeError naming both."""
        if len(shape) == 1 and _is_dtype(shape[0]):
            return self.to(shape[0])
        return self.reshape(*shape)

    def view_as(self: Tensor, other: Tensor) -> Tensor:
        return self.reshape(_other_tensor(other, "view_as").shape)

    def reshape_as(self: Tensor, other: Tensor) -> Tensor:
        return self.reshape(_other_tensor(other, "reshape_as").shape)

    def flatten(self: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = self._axis(start_dim, "flatten"), self._axis(end_dim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"for a tensor of shape {self.shape}")
        shape = self.shape
        return self.reshape(shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])

    def unflatten(self: Tensor, dim: int, sizes: tuple[int, ...]) -> Tensor:
        d = self._axis(dim, "unflatten")
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])

    def squeeze(self: Tensor, dim: Any = None) -> Tensor:
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = self._axes(dim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if not (i in axes and n == 1)))

    def unsqueeze(self: Tensor, dim: int) -> Tensor:
        dim = as_int(dim, "unsqueeze", "dim")
        nd = self.ndim + 1
        if not -nd <= dim < nd:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for a tensor of shape "
                             f"{self.shape} (valid: {-nd}..{nd - 1})")
        d = dim % nd
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def permute(self: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
        """`permute(1, 0, 2)`, `permute((1, 0, 2))` or `permute(dims=(1, 0, 2))`."""
        axes = _shape_args(dims or ((kwargs["dims"],) if "dims" in kwargs else ()), "permute",
                           "dim")
        if sorted(a % max(self.ndim, 1) for a in axes) != list(range(self.ndim)):
            raise ValueError(f"permute: {axes} is not a permutation of the {self.ndim} dims "
                             f"of a tensor of shape {self.shape}")
        axes = tuple(a % self.ndim for a in axes)
        if axes == tuple(range(self.ndim)):
            return self.reshape(self.shape)  # a view that changes nothing: a new alias
        return Permute.apply(self, axes=axes)

    def transpose(self: Tensor, *dims: int, dim0: int | None = None,
                  dim1: int | None = None) -> Tensor:
        """`transpose(d0, d1)` (or `dim0=, dim1=`) swaps two dims (PyTorch); with no
        arguments it reverses all dims (numpy)."""
        if dim0 is not None or dim1 is not None:
            dims = (*dims, *(d for d in (dim0, dim1) if d is not None))
        if not dims:
            return self.permute(*reversed(range(self.ndim)))
        if len(dims) != 2:
            return self.permute(*dims)
        a, b = self._axis(dims[0], "transpose"), self._axis(dims[1], "transpose")
        order = list(range(self.ndim))
        order[a], order[b] = order[b], order[a]
        return self.permute(*order)

    def t(self: Tensor) -> Tensor:
        if self.ndim > 2:
            raise ShapeError(f"t: expects a tensor of at most 2 dims, got shape {self.shape} "
                             "(use transpose(d0, d1) or mT)")
        return self.transpose() if self.ndim == 2 else self.reshape(self.shape)

    @property
    def T(self: Tensor) -> Tensor:  # noqa: N802 (numpy/PyTorch name)
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self: Tensor) -> Tensor:  # noqa: N802
        if self.ndim < 2:
            raise ShapeError(f"mT: needs at least 2 dims, got shape {self.shape}")
        return self.transpose(-2, -1)

    def expand(self: Tensor, *sizes: Any) -> Tensor:
        """Broadcast to `sizes` (a view); -1 keeps a dim (PyTorch)."""
        target = _shape_args(sizes, "expand")
        lead = len(target) - self.ndim
        if lead < 0:
            raise ShapeError(f"expand: cannot expand shape {self.shape} to {target} (fewer dims)")
        full = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                     for i, n in enumerate(target))
        try:
            np.broadcast_shapes(self.shape, full)
            ok = np.broadcast_shapes(self.shape, full) == full
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(f"expand: cannot broadcast shape {self.shape} to {full}; each dim "
                             f"must be 1 or equal the target's (-1 keeps a dim)")
        return self.reshape(full) if full == self.shape else self._expand_to(full)

    def broadcast_to(self: Tensor, shape: Any) -> Tensor:
        return self.expand(*_shape_args((shape,), "broadcast_to"))

    def expand_as(self: Tensor, other: Tensor) -> Tensor:
        return self.expand(_other_tensor(other, "expand_as").shape)

    def __getitem__(self: Tensor, index: Any) -> Tensor:
        idx = _as_view_index(_index_to_numpy(index))
        _check_bool_masks(self.shape, idx, "getitem")
        split = _ints_first(idx)
        if split is not None:  # PyTorch selects with the ints first (numpy broadcasts them)
            return self[split[0]][split[1]]
        try:
            if self.requires_grad and _state.grad_enabled or _state.trace is not None:
                return GetItem.apply(self, index=idx)
            picked = np.asarray(self.array[idx])
            view = self._wrap(picked)
            if picked.base is not None:
                view._base = self
            return view
        except IndexError as e:
            raise IndexError(f"getitem: index {index!r} is invalid for a tensor of shape "
                             f"{self.shape} ({e}{_index_note(idx)})") from None

    def pad(self: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
        """numpy-style constant padding: an int, one (before, after) pair, or a pair per axis."""
        try:
            given = np.asarray(pad_width, dtype=np.int64)
        except (TypeError, ValueError):
            given = None
        if (given is None or given.ndim > 2 or given.shape[-1:] not in ((), (1,), (2,))
                or given.ndim == 2 and given.shape[0] not in (1, self.ndim)):
            raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape "
                             f"{self.shape}: give an int, one (before, after) pair, or "
                             f"{self.ndim} (before, after) pairs (one per axis)")
        widths = np.broadcast_to(given, (self.ndim, 2))
        if (widths < 0).any():
            raise ValueError(f"pad: widths must be non-negative, got {pad_width!r}")
        return Pad.apply(self, widths=tuple(map(tuple, widths.tolist())), value=value)

    def repeat(self: Tensor, *sizes: Any) -> Tensor:
        """Tile the tensor `sizes` times along each dim (PyTorch's repeat, numpy's tile)."""
        reps = _shape_args(sizes, "repeat")
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: {len(reps)} sizes for a tensor of shape {self.shape}; "
                             f"give at least {self.ndim} (one per dim), got {reps}")
        if any(r < 0 for r in reps):
            raise ValueError(f"repeat: sizes must be >= 0, got {reps} (tensor of shape "
                             f"{self.shape})")
        x = self.reshape((1,) * (len(reps) - self.ndim) + self.shape)
        if all(r == 1 for r in reps):  # a copy, as PyTorch (the chain below would be a view)
            return x.clone()
        inter = tuple(v for n in x.shape for v in (1, n))
        big = tuple(v for r, n in zip(reps, x.shape) for v in (r, n))
        return x.reshape(inter).expand(big).reshape(tuple(r * n for r, n in zip(reps, x.shape)))

    def flip(self: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
        """Reverse the order along `dims` (`flip(0, 1)`, `flip((0, 1))`, `flip(dims=[0])`)."""
        if not dims and "dims" not in kwargs:
            raise TypeError(f"flip: missing the dims to reverse (tensor of shape {self.shape}); "
                            "e.g. flip(0) or flip(dims=(0, 1))")
        dims = dims or (kwargs["dims"],)
        axes = self._axes(dims[0] if len(dims) == 1 else dims, "flip")
        return self[tuple(slice(None, None, -1) if i in axes else slice(None)
                          for i in range(self.ndim))]

    def split(self: Tensor, split_size_or_sections: Any = None, dim: int = 0, *,
              split_size: Any = None) -> tuple[Tensor, ...]:
        """Pieces of `split_size` along `dim` (the last may be smaller), or given sizes."""
        if split_size_or_sections is None:
            split_size_or_sections = split_size
        d = self._axis(dim, "split")
        n = self.shape[d]
        if not isinstance(split_size_or_sections, tuple | list):
            size = as_int(split_size_or_sections, "split", "split_size")
            if size <= 0:
                raise ValueError(f"split: split_size must be positive, got {size}")
            # an empty axis still gives one (empty) piece, as PyTorch
            sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
        else:
            sizes = list(int_args((split_size_or_sections,), "split", "split_sizes"))
            if any(s < 0 for s in sizes):
                raise ValueError(f"split: sizes must be non-negative, got {sizes} (dim {dim} "
                                 f"of shape {self.shape})")
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} do not sum to {n} (dim {dim} of shape "
                                 f"{self.shape})")
        lead = (slice(None),) * d
        out, start = [], 0
        for s in sizes:
            out.append(self[lead + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        chunks = as_int(chunks, "chunk", "chunks")
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks} (tensor of shape "
                             f"{self.shape})")
        n = self.shape[self._axis(dim, "chunk")]
        if n == 0:  # PyTorch: `chunks` empty pieces of an empty axis
            return tuple(self for _ in range(chunks))
        return self.split(max(1, -(-n // chunks)), dim)

    def gather(self: Tensor, dim: int, index: Any) -> Tensor:
        """out[i][j] = self[index[i][j]][j] for dim 0 (and so on), as PyTorch's gather."""
        d = self._axis(dim, "gather")
        idx = index_array(index, "gather")
        if idx.ndim != self.ndim:
            raise ShapeError(f"gather: index has {idx.ndim} dims but input has {self.ndim} "
                             f"(shapes {idx.shape} and {self.shape})")
        # PyTorch refuses a negative index here (numpy would count it from the end)
        check_range(idx, self.shape[d] if self.ndim else 1, "gather",
                    f"dim {d} of the input of shape {self.shape}")
        grids = list(np.ix_(*[np.arange(n) for n in idx.shape]))
        grids[d] = idx
        try:
            return self[tuple(grids)]
        except IndexError:
            raise IndexError(f"gather: index of shape {idx.shape} does not fit input of shape "
                             f"{self.shape} along dim {d}: its entries must lie in "
                             f"0..{self.shape[d] - 1} and its other dims must not exceed "
                             f"the input's") from None
