# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""Reductions of Tensor (a mixin). Primitives: sum and max; the rest is composed.

Every reduction takes numpy's `axis=`/`keepdims=` and PyTorch's `dim=`/`keepdim=`.
Where they disagree, PyTorch wins and the docstring says so: `max/min` given a `dim`
return `(values, indices)`; `var/std` default to the unbiased estimate (correction=1).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._arguments import as_dtype, as_int
from tinygrad_edu.modes import _state, _tensor_types
from tinygrad_edu.ops.movement import Concat
from tinygrad_edu.ops.reduce import Max, Sum
from tinygrad_edu.ops.values import held
from tinygrad_edu.return_types import ValuesIndices

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _pick(axis: Any, dim: Any, keepdims: Any, keepdim: Any) -> tuple[Any, bool]:
    return (axis if axis is not None else dim), bool(keepdims if keepdims is not None else keepdim)


class ReduceMixin:
    __slots__ = ()

    def _axes(self: Tensor, axis: Any, op: str) -> tuple[int, ...]:
        """Normalized, validated axes (None = all)."""
        nd = self.array.ndim
        if axis is None:
            return tuple(range(nd))
        items = tuple(axis) if isinstance(axis, list | tuple) else (axis,)
        out = []
        for a in items:
            if not isinstance(a, int | np.integer) or isinstance(a, bool):
                raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
            if not -max(nd, 1) <= a < max(nd, 1):
                raise IndexError(f"{op}: axis {a} is out of range for a tensor of shape "
                                 f"{self.shape} (valid: {-max(nd, 1)}..{max(nd, 1) - 1})")
            out.append(int(a) % nd if nd else 0)
        if len(set(out)) != len(out):
            raise ValueError(f"{op}: axis {axis!r} repeats an axis of a tensor of shape "
                             f"{self.shape}; give each axis at most once")
        return tuple(sorted(out)) if nd else ()

    def sum(self: Tensor, axis: Any = None, keepdims: bool | None = None, *, dim: Any = None,
            keepdim: bool = False, dtype: Any = None) -> Tensor:
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        x = self
        if dtype is not None or self.array.dtype.kind != "f":
            x = self.to(as_dtype(dtype, "sum") if dtype is not None
                        else _accumulator(self.array.dtype))
        return Sum.apply(x, axis=self._axes(ax, "sum"), keepdims=kd)

    def mean(self: Tensor, axis: Any = None, keepdims: bool | None = None, *, dim: Any = None,
             keepdim: bool = False, dtype: Any = None) -> Tensor:
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        axes = self._axes(ax, "mean")
        if dtype is not None:
            x = self.to(as_dtype(dtype, "mean"))
        else:
            x = self if self.array.dtype.kind == "f" else self.to(_state.default_dtype)
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        # The mean of nothing is NaN (as PyTorch and numpy), not 0.
        return Sum.apply(x, axis=axes, keepdims=kd) * (1.0 / count if count else float("nan"))

    def _max_like(self: Tensor, op: str, sign: float, dim: Any, keepdim: bool, axis: Any,
                  keepdims: Any) -> Any:
        if isinstance(dim, _tensor_types.Tensor):  # torch.max(a, b): elementwise
            return self.maximum(dim) if sign > 0 else self.minimum(dim)
        values_only = dim is None
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        axes = self._nonempty(self._axes(ax, op), op)
        if self.array.dtype.kind != "f":  # no gradient to keep (and bool has no negation)
            # held, as the indices below: compile recomputes them on every call
            values = held(extreme_values, self, sign=sign, axes=axes, keepdims=kd)
        else:
            x = self if sign > 0 else -self
            values = Max.apply(x, axis=axes, keepdims=kd)
            values = values if sign > 0 else -values
        if values_only:
            return values
        if not self.array.ndim:  # a 0-d tensor's one element is at index 0 (as PyTorch)
            return ValuesIndices(values, self._wrap(np.zeros((), dtype=np.int64)))
        if len(axes) != 1:
            raise ValueError(f"{op}: dim= must be a single int to get (values, indices); use "
                             f"axis= (numpy style) or amax for several axes (got dim {axes} "
                             f"of a tensor of shape {self.shape})")
        return ValuesIndices(values, held(extreme_indices, self, sign=sign, axis=axes[0],
                                          keepdims=kd))

    def _nonempty(self: Tensor, axes: tuple[int, ...], op: str) -> tuple[int, ...]:
        """`axes`, unless one of them is empty: a max over nothing has no value (sum has 0,
        mean NaN), so PyTorch refuses it, and so do we, before numpy's own words."""
        empty = [a for a in axes if self.shape[a] == 0]
        if empty:
            raise IndexError(f"{op}: cannot reduce over dim {empty[0]} of size 0 (tensor of "
                             f"shape {self.shape}); reduce over a non-empty dim")
        return axes

    def max(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Largest value. PyTorch semantics: with `dim` (positional or keyword) it returns
        `(values, indices)`; numpy's `axis=` returns values only; with neither, the overall
        max. Tied maxima share the gradient equally. `max(other_tensor)` is elementwise."""
        return self._max_like("max", 1.0, dim, keepdim, axis, keepdims)

    def min(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Smallest value; `dim` gives `(values, indices)` as PyTorch, `axis=` values only."""
        return self._max_like("min", -1.0, dim, keepdim, axis, keepdims)

    def amax(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        """Largest value over one or several axes; always values only."""
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        return Max.apply(self, axis=self._nonempty(self._axes(ax, "amax"), "amax"), keepdims=kd)

    def amin(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        self._nonempty(self._axes(ax, "amin"), "amin")
        if self.array.dtype.kind != "f":  # no gradient; and -x wraps for unsigned and bool
            return held(extreme_values, self, sign=-1, axes=self._axes(ax, "amin"),
                        keepdims=kd)
        return -Max.apply(-self, axis=self._axes(ax, "amin"), keepdims=kd)

    def argmax(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: bool | None = None) -> Tensor:
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        self._nonempty(self._axes(ax, "argmax"), "argmax")
        if ax is None or self.array.ndim == 0:
            return held(extreme_indices, self, sign=1, axis=None, keepdims=kd)
        return held(extreme_indices, self, sign=1, axis=self._axes(ax, "argmax")[0],
                    keepdims=kd)

    def argmin(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: bool | None = None) -> Tensor:
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        self._nonempty(self._axes(ax, "argmin"), "argmin")
        if ax is None or self.array.ndim == 0:
            return held(extreme_indices, self, sign=-1, axis=None, keepdims=kd)
        return held(extreme_indices, self, sign=-1, axis=self._axes(ax, "argmin")[0],
                    keepdims=kd)

    def var(self: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: Any = None, axis: Any = None, keepdims: bool | None = None,
            ddof: int | None = None) -> Tensor:
        """Variance, with PyTorch's positional order `var(dim, unbiased, keepdim)` (and
        `var(unbiased)`). PyTorch's default: unbiased (correction=1); numpy's `ddof=0` and
        `correction=0` give the biased one the courses' batch norm uses."""
        if isinstance(dim, bool):  # `x.var(False)`: the one positional is `unbiased`
            dim, unbiased = None, dim
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        axes = self._axes(ax, "var")
        if ddof is not None:
            corr = ddof
        elif correction is not None:
            corr = correction
        elif unbiased is not None:
            corr = 1 if unbiased else 0
        else:
            corr = 1
        n = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        if n - corr <= 0:  # PyTorch's answer too: nan, with a warning
            warnings.warn(f"var: {n} values with correction={corr} leave {n - corr} degrees "
                          "of freedom; the result is nan", RuntimeWarning, stacklevel=2)
        scale = 1.0 / (n - corr) if n - corr > 0 else float("nan")
        centered = self - self.mean(axis=axes, keepdims=True)
        return (centered * centered).sum(axis=axes, keepdims=kd) * scale

    def std(self: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: Any = None, axis: Any = None, keepdims: bool | None = None,
            ddof: int | None = None) -> Tensor:
        """Standard deviation; same positional order and defaults as `var` (unbiased, as
        PyTorch). Where the variance is 0 the gradient is 0 (as PyTorch), not 0/0."""
        var = self.var(dim, unbiased, keepdim, correction=correction, axis=axis,
                       keepdims=keepdims, ddof=ddof)
        return root_zero_safe(var, 2.0)

    def norm(self: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
             dtype: Any = None) -> Tensor:
        """Vector p-norm over `dim` (all elements by default); 'fro' is the 2-norm. The
        gradient of a zero norm is 0 (PyTorch's subgradient), not 0/0."""
        if dtype is not None:
            return self.to(dtype).norm(p, dim, keepdim)
        if p == 0:  # the number of nonzeros, in the graph with gradient 0 (as PyTorch)
            return self.sign().abs().sum(dim=dim, keepdim=keepdim)
        if p in ("fro", 2, 2.0):
            return root_zero_safe((self * self).sum(dim=dim, keepdim=keepdim), 2.0)
        if p in (1, 1.0):
            return self.abs().sum(dim=dim, keepdim=keepdim)
        if p in (float("inf"), "inf"):
            return self.abs().amax(dim=dim, keepdim=keepdim)
        powered = abs_pow_zero_safe(self, float(p))
        return root_zero_safe(powered.sum(dim=dim, keepdim=keepdim), float(p))

    def prod(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
             axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """Product over `dim` (all elements by default), as a tree of pairwise products:
        exact with zeros, so d/dx_i is the product of the other entries (one zero gets the
        product of the rest, as PyTorch), to every order. Integers and bools give int64."""
        dim, keepdim = _pick(axis, dim, keepdims, keepdim)
        x = self.to(as_dtype(dtype, "sum") if dtype is not None
                        else _accumulator(self.array.dtype))
        axes = self._axes(dim, "prod")
        if isinstance(dim, list | tuple):
            raise TypeError(f"prod: dim must be one int (as PyTorch), got {dim!r}")
        rest = [a for a in range(x.ndim) if a not in axes]
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        flat = x.permute(*rest, *axes).reshape(*[x.shape[a] for a in rest], n)
        while flat.shape[-1] > 1:
            half = flat.shape[-1] // 2
            odd = flat[..., 2 * half:]  # the unpaired last entry rides along
            flat = cat_last(flat[..., :half] * flat[..., half:2 * half], odd)
        out = flat.sum(dim=-1) if n else self._wrap(np.ones(flat.shape[:-1], x.dtype))
        if keepdim:
            out = out.reshape([1 if a in axes else x.shape[a] for a in range(x.ndim)])
        return out

    def all(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        """True where every entry is nonzero (uint8 in, uint8 out, as PyTorch)."""
        return self._logical_reduce(np.all, "all", dim, keepdim, axis, keepdims)

    def any(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        """True where some entry is nonzero (uint8 in, uint8 out, as PyTorch)."""
        return self._logical_reduce(np.any, "any", dim, keepdim, axis, keepdims)

    def _logical_reduce(self: Tensor, fn: Any, op: str, dim: Any, keepdim: bool, axis: Any,
                        keepdims: bool | None) -> Tensor:
        ax, kd = _pick(axis, dim, keepdims, keepdim)
        # held: compile recomputes it on every call (and `if x.any():` on it is refused)
        return held(logical_reduce, self, every=fn is np.all, axes=self._axes(ax, op),
                    keepdims=kd)

    def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
             ) -> ValuesIndices:
        """The k largest (or smallest) entries along `dim` and their indices."""
        k = as_int(k, "topk", "k")
        a = self._axis(dim, "topk")
        if not self.array.ndim:  # a 0-d tensor is its own one entry, at index 0
            if k not in (0, 1):
                raise ValueError(f"topk: k={k} is out of range for a 0-d tensor (shape ()); "
                                 f"k must be 0 or 1")
            return ValuesIndices(self.clone(), self._wrap(np.zeros((), np.int64)))
        if not 0 <= k <= self.shape[a]:
            raise ValueError(f"topk: k={k} is out of range for dim {dim} of shape {self.shape} "
                             f"(valid: 0..{self.shape[a]})")
        index = held(topk_indices, self, k=k, axis=a, largest=largest)  # compile: per call
        return ValuesIndices(self.gather(a, index), index)

    def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
             ) -> ValuesIndices:
        a = self._axis(dim, "sort")
        if not self.array.ndim:
            return self.topk(1, a)
        return self.topk(self.shape[a], a, largest=descending)

    def cumsum(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        """Running sum along `dim`, as a product with a triangular matrix of ones; integers
        and bools sum in int64 (as PyTorch)."""
        a = self._axis(dim, "cumsum")
        self = self.to(dtype if dtype is not None else _accumulator(self.array.dtype))
        if not self.array.ndim:  # one element: the running sum is the tensor (as PyTorch)
            return self.clone()
        n = self.shape[a]
        tri = self._wrap(np.triu(np.ones((n, n), dtype=self.array.dtype)))
        moved = self.transpose(a, -1) if a != self.ndim - 1 else self
        out = moved @ tri
        return out.transpose(a, -1) if a != self.ndim - 1 else out


def topk_indices(x: np.ndarray, k: int, axis: int, largest: bool) -> np.ndarray:
    """The indices of the k largest (smallest) entries along `axis`, stable for ties."""
    key = x.astype(np.int64) if x.dtype.kind in "ub" else x
    order = np.argsort(-key if largest else key, axis=axis, kind="stable")  # -x wraps: uint8
    return np.take(order, np.arange(k), axis=axis).astype(np.int64)


def _accumulator(dtype: np.dtype) -> np.dtype:
    """The dtype PyTorch sums in: the tensor's own for floats, int64 for ints and bools."""
    return dtype if dtype.kind == "f" else np.dtype(np.int64)


def cat_last(a: Tensor, b: Tensor) -> Tensor:
    """a and b joined along the last axis (b may be empty)."""
    if b.shape[-1] == 0:
        return a
    return Concat.apply(a, b, axis=a.ndim - 1)


def abs_pow_zero_safe(x: Tensor, p: float) -> Tensor:
    """|x|^p with gradient 0 where x == 0 (for p < 1 the slope there is infinite and the
    chain rule would give nan; PyTorch's norms take 0), by the same trick as below."""
    # Under compile always the masked form (the same values and gradients when nothing is
    # 0), its mask held: the generated code recomputes it on every call.
    if _state.trace is None and not (x.array == 0).any():
        return x.abs() ** p
    nonzero = held(is_nonzero, x)
    return (x.abs().where(nonzero, 1.0) ** p).where(nonzero, 0.0)


def root_zero_safe(s: Tensor, p: float) -> Tensor:
    """s^(1/p) for s >= 0, with gradient 0 where s == 0 (the root's slope there is infinite
    and the chain rule would give inf * 0 = nan): those entries go through the root as 1
    and are then replaced by the constant 0, so no gradient reaches them."""
    root = (lambda t: t.sqrt()) if p == 2.0 else (lambda t: t ** (1.0 / p))
    if _state.trace is None and not (s.array == 0).any():  # compile: the masked form
        return root(s)
    nonzero = held(is_nonzero, s)
    return root(s.where(nonzero, 1.0)).where(nonzero, 0.0)


def extreme_values(a: np.ndarray, sign: int, axes: tuple[int, ...], keepdims: bool
                   ) -> np.ndarray:
    """max (sign 1) or min (sign -1) of integers or bools, which carry no gradient."""
    return np.asarray((np.max if sign > 0 else np.min)(a, axis=axes, keepdims=keepdims))


def extreme_indices(a: np.ndarray, sign: int, axis: int | None, keepdims: bool) -> np.ndarray:
    """argmax (sign 1) or argmin (sign -1) as int64, over `axis` or (None) all entries;
    keepdims keeps every axis then."""
    arg = np.argmax if sign > 0 else np.argmin
    if axis is None:
        shape = (1,) * a.ndim if keepdims else ()
        return np.asarray(arg(a), dtype=np.int64).reshape(shape)
    return np.asarray(arg(a, axis=axis, keepdims=keepdims), dtype=np.int64)


def logical_reduce(a: np.ndarray, every: bool, axes: tuple[int, ...], keepdims: bool
                   ) -> np.ndarray:
    """all (every) or any over axes: bool, uint8 for uint8 input (as PyTorch)."""
    out = np.asarray((np.all if every else np.any)(a, axis=axes, keepdims=keepdims))
    return out.astype(np.uint8) if a.dtype == np.uint8 else out


def is_nonzero(a: np.ndarray) -> np.ndarray:
    """The entries that are not 0 (NaN included), a held mask."""
    return a != 0
