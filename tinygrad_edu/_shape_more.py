# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""More shape ops of Tensor (a mixin), as PyTorch names them: tril/triu, roll, tile, unbind,
narrow, movedim/moveaxis, swapaxes/swapdims, diagonal/diag_embed, and the in-place
squeeze_/unsqueeze_/t_.

All are composites of the movement primitives except the diagonal (`ops.indexing`).
Aliasing follows PyTorch: narrow, unbind, movedim, swapaxes and diagonal are views of the
input (in-place changes show through, and share its version counter); tril, triu, roll and
tile are new tensors.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._maths import where_tensors
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _state
from tinygrad_edu.ops.indexing import Diagonal, DiagonalScatter

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _dims_tuple(dims: Any) -> tuple[Any, ...]:
    return tuple(dims) if isinstance(dims, list | tuple) else (dims,)


def _int_arg(value: Any, op: str, name: str) -> int:
    """An int argument (a Python or numpy int, or a one-element integer tensor)."""
    if hasattr(value, "array") and value.array.dtype.kind in "iu" and value.array.size == 1:
        return int(value.array.item())
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


class ShapeMoreMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ triangles
    def _triangle(self: Tensor, diagonal: int, op: str, lower: bool) -> Tensor:
        if self.ndim < 2:
            raise ShapeError(f"{op}: needs a tensor of at least 2 dims (a batch of matrices), "
                             f"got shape {self.shape}")
        k = _int_arg(diagonal, op, "diagonal")
        rows, cols = self.shape[-2:]
        # np.tri(k) is 1 on and below diagonal k: the lower triangle; triu is its complement
        keep = np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1,
                                                                         dtype=bool)
        # a where, not a product with the mask: inf * 0 would put NaN where PyTorch has 0
        return where_tensors(keep, self, self._wrap(np.zeros((), self.dtype)))

    def tril(self: Tensor, diagonal: int = 0) -> Tensor:
        """The lower triangle (on and below `diagonal`) of each matrix in the last two dims;
        zeros above. The gradient passes where the value was kept."""
        return self._triangle(diagonal, "tril", lower=True)

    def triu(self: Tensor, diagonal: int = 0) -> Tensor:
        """The upper triangle (on and above `diagonal`) of each matrix in the last two dims."""
        return self._triangle(diagonal, "triu", lower=False)

    def tril_(self: Tensor, diagonal: int = 0) -> Tensor:
        return self._unary_inplace("tril_", lambda t: t._triangle(diagonal, "tril_", True))

    def triu_(self: Tensor, diagonal: int = 0) -> Tensor:
        return self._unary_inplace("triu_", lambda t: t._triangle(diagonal, "triu_", False))

    # ------------------------------------------------------------------ roll, tile
    def roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
        """Shift the entries by `shifts` along `dims`, wrapping around (a new tensor). With
        `dims=None` the tensor is rolled flattened and reshaped back."""
        steps = tuple(_int_arg(s, "roll", "shifts") for s in _dims_tuple(shifts))
        if dims is None:
            if len(steps) != 1:
                raise ValueError(f"roll: {len(steps)} shifts {steps} need as many dims; with "
                                 "dims=None give one shift (the flattened tensor is rolled)")
            return self.reshape(-1).roll(steps[0], 0).reshape(self.shape)
        axes = [self._axis(_int_arg(d, "roll", "dims"), "roll") for d in _dims_tuple(dims)]
        if self.ndim == 0:
            raise IndexError(f"roll: dim {dims!r} given for a 0-d tensor (shape ())")
        if len(axes) != len(steps):
            raise ValueError(f"roll: shifts {shifts!r} and dims {dims!r} must have the same "
                             "length (one shift per dim)")
        out = self
        for shift, a in zip(steps, axes):
            n = self.shape[a]
            cut = (n - shift % n) % n if n else 0
            if cut:  # out = out[cut:] followed by out[:cut] along axis a
                lead = (slice(None),) * a
                out = self._cat_along((out[lead + (slice(cut, None),)],
                                       out[lead + (slice(0, cut),)]), a)
        return self.clone() if out is self else out

    def _cat_along(self: Tensor, pieces: tuple[Tensor, ...], axis: int) -> Tensor:
        from tinygrad_edu.ops.movement import Concat

        return Concat.apply(*pieces, axis=axis)

    def tile(self: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
        """Repeat the tensor `dims` times along each dim; fewer dims than the tensor has are
        padded with ones in front (where `repeat` refuses them). `tile(2, 3)`,
        `tile((2, 3))` or `tile(dims=(2, 3))`."""
        dims = dims or ((kwargs.pop("dims"),) if "dims" in kwargs else ())
        if kwargs:
            raise TypeError(f"tile: unexpected keyword arguments {sorted(kwargs)}")
        reps = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], list | tuple) else dims
        reps = tuple(_int_arg(r, "tile", "dims") for r in reps)
        return self.repeat((1,) * (self.ndim - len(reps)) + reps)

    # ------------------------------------------------------------------ views
    def unbind(self: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, each a view without that dim."""
        if self.ndim == 0:
            raise IndexError("unbind: a 0-d tensor (shape ()) has no dim to unbind")
        d = self._axis(dim, "unbind")
        lead = (slice(None),) * d
        return tuple(self[lead + (i,)] for i in range(self.shape[d]))

    def narrow(self: Tensor, dim: int, start: Any, length: int) -> Tensor:
        """self[..., start:start + length, ...] along `dim`: a view. `start` may be
        negative (counted from the end) or a 0-d integer tensor."""
        d = self._axis(dim, "narrow")
        n = self.shape[d]
        begin, size = _int_arg(start, "narrow", "start"), _int_arg(length, "narrow", "length")
        if not -n <= begin <= n:
            raise IndexError(f"narrow: start {begin} is out of range for dim {d} of size {n} "
                             f"(shape {self.shape}; valid: {-n}..{n})")
        begin = begin + n if begin < 0 else begin
        if size < 0:
            raise ValueError(f"narrow: length must be non-negative, got {size}")
        if begin + size > n:
            raise ShapeError(f"narrow: start {begin} + length {size} exceeds the size {n} of "
                             f"dim {d} (shape {self.shape})")
        return self[(slice(None),) * d + (slice(begin, begin + size),)]

    def movedim(self: Tensor, source: Any, destination: Any) -> Tensor:
        """The dims `source` moved to the places `destination` (a view); the other dims keep
        their order."""
        src = [self._axis(_int_arg(s, "movedim", "source"), "movedim")
               for s in _dims_tuple(source)]
        dst = [self._axis(_int_arg(s, "movedim", "destination"), "movedim")
               for s in _dims_tuple(destination)]
        if len(src) != len(dst):
            raise ValueError(f"movedim: source {source!r} and destination {destination!r} "
                             "must name the same number of dims")
        for name, given, axes in (("source", source, src), ("destination", destination, dst)):
            if len(set(axes)) != len(axes):
                raise ValueError(f"movedim: repeated dim in {name} {given!r} for a tensor of "
                                 f"shape {self.shape}")
        rest = iter(a for a in range(self.ndim) if a not in src)
        where = dict(zip(dst, src))
        return self._fresh_view(self.permute(*[where[i] if i in where else next(rest)
                                               for i in range(self.ndim)]))

    moveaxis = movedim

    def swapaxes(self: Tensor, axis0: int, axis1: int) -> Tensor:
        return self._fresh_view(self.transpose(axis0, axis1))

    def swapdims(self: Tensor, dim0: int, dim1: int) -> Tensor:
        return self._fresh_view(self.transpose(dim0, dim1))

    def _fresh_view(self: Tensor, out: Tensor) -> Tensor:
        """out, or a new view of self when the op changed nothing (permute then returns
        self): PyTorch gives a new tensor, so an in-place shape change of the result
        (`unsqueeze_`) must not reach self."""
        return self[...] if out is self else out

    # ------------------------------------------------------------------ diagonals
    def diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal at `offset` over dims (dim1, dim2), a view: the other dims in order,
        then the diagonal."""
        a, b = self._axis(dim1, "diagonal"), self._axis(dim2, "diagonal")
        if self.ndim < 2 or a == b:
            raise ValueError(f"diagonal: dim1 {dim1} and dim2 {dim2} must be two different "
                             f"dims of the tensor (shape {self.shape})")
        return Diagonal.apply(self, offset=_int_arg(offset, "diagonal", "offset"), dim1=a,
                              dim2=b)

    def diag_embed(self: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Matrices with the last dim of self on their diagonal at `offset`, over the dims
        (dim1, dim2) of the result (which has one more dim); zeros elsewhere."""
        nd = self.ndim + 1
        a, b = (d % nd if -nd <= d < nd else None for d in (dim1, dim2))
        if a is None or b is None:
            raise IndexError(f"diag_embed: dims ({dim1}, {dim2}) out of range for a result of "
                             f"{nd} dims (input shape {self.shape}; valid: {-nd}..{nd - 1})")
        if a == b or self.ndim == 0:
            raise ValueError(f"diag_embed: dim1 {dim1} and dim2 {dim2} must differ and the "
                             f"input must have a dim (shape {self.shape})")
        k = _int_arg(offset, "diag_embed", "offset")
        side = self.shape[-1] + abs(k)
        rest = iter(self.shape[:-1])
        shape = tuple(side if i in (a, b) else next(rest) for i in range(nd))
        return DiagonalScatter.apply(self, shape=shape, offset=k, dim1=a, dim2=b)

    # ------------------------------------------------------------------ in place, shape only
    def _restride(self: Tensor, op: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
        """self takes the shape of the view `compute(self)`, in place, as PyTorch's
        squeeze_/unsqueeze_/t_: same memory, a new node in a graph, one version more (so a
        node that saved self raises at backward, as in PyTorch)."""
        track = _state.grad_enabled and self.requires_grad
        if track and self._ctx is None:
            raise RuntimeError(f"{op}: in-place change of a leaf tensor that requires grad "
                               f"(shape {self.shape}) while grad mode is on; wrap it in "
                               "`with no_grad():` or use the out-of-place op")
        old = self._wrap(self.array)  # self before the op: same memory and producer
        old._ctx, old.requires_grad = self._ctx, self.requires_grad
        new = compute(old)
        self.array = new.array
        self._bump_version()
        # self becomes the output of the view node; its producer's saved output (self
        # before the op) is now one version old, so a backward that reads it raises, as in
        # PyTorch
        if track and new is not old:
            self._ctx = new._ctx
            if new._ctx is not None:
                new._ctx._out = weakref.ref(self)
                new._ctx.output_version = self._version
        return self

    def squeeze_(self: Tensor, dim: Any = None) -> Tensor:
        return self._restride("squeeze_", lambda t: t.squeeze(dim))

    def unsqueeze_(self: Tensor, dim: int) -> Tensor:
        return self._restride("unsqueeze_", lambda t: t.unsqueeze(dim))

    def t_(self: Tensor) -> Tensor:
        if self.ndim > 2:
            raise ShapeError(f"t_: expects a tensor of at most 2 dims, got shape {self.shape}")
        return self._restride("t_", lambda t: t.t())
