# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""In-place methods of Tensor (a mixin): what optimizers, initializers and user code use.

Outside a graph (nothing involved requires grad, or grad mode is off) each one writes into
the tensor's own array and bumps its version (and that of every tensor it views), so a graph
that saved the old values raises at backward instead of computing a wrong gradient.

Inside a graph they follow PyTorch: `y += 1`, `y[y < 0] = 0`, `out[t] = h`, `y.mul_(w)`
compute the new value from the old one with ordinary ops, write it into y's memory, and y
takes over the node that computed it (`_rebind`). A leaf that requires grad cannot be changed
in place while grad mode is on (wrap optimizer steps in `no_grad()`), nor can a view that
is part of a graph (write through its base instead).
"""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._movement import (
    _check_bool_masks,
    _index_note,
    _index_to_numpy,
    _ints_first,
)
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _state
from tinygrad_edu.ops.movement import IndexPut

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _scaled(other: Any, alpha: float) -> Any:
    if alpha == 1:
        return other
    return other * alpha


def _needs_graph(self: Tensor, others: tuple[Any, ...]) -> bool:
    """Whether an in-place op on self with these operands must be recorded (always while
    `compile` traces: the generated code replays the change, as running statistics need)."""
    if _state.trace is not None:
        if self._ctx is None and self.requires_grad and not _state.grad_enabled:
            _state.trace.refuse(f"an in-place change of a tensor that requires grad (shape "
                                f"{self.shape}, a parameter?) under no_grad()",
                                "change it outside the compiled function")
        return True
    if not _state.grad_enabled:
        return False
    return self.requires_grad or any(isinstance(o, InplaceMixin) and o.requires_grad
                                     for o in others)


def _raw(x: Any) -> Any:
    return x.array if isinstance(x, InplaceMixin) else x



def _number(value: Any, op: str, what: str) -> float:
    """A Python or numpy number as a float; a tensor or array is a TypeError (as PyTorch)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{op}: {what} must be a number, got {type(value).__name__}")
    return float(value)

class InplaceMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ in a graph
    def _rebind(self: Tensor, op: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
        """self <- compute(old self), in self's own memory, recorded in the graph.

        `old` is a snapshot of self that stands for its value before the op (its producer
        is self's producer), so the new node's backward reads the right values. Nodes that
        consumed the old self keep their edges (fixed at creation); if they saved its value
        they raise at backward, through the version counter, as in PyTorch."""
        if self._ctx is None and self.requires_grad:
            raise RuntimeError(f"{op}: in-place change of a leaf tensor that requires grad "
                               f"(shape {self.shape}) while grad mode is on; wrap it in "
                               "`with no_grad():` or use the out-of-place op")
        if self._base is not None:
            return self._rebind_view(op, compute)
        new = compute(self._snapshot())
        if new.shape != self.shape:
            raise RuntimeError(f"{op}: the result has shape {new.shape} but the tensor changed "
                               f"in place has shape {self.shape}; in-place ops cannot "
                               "broadcast the tensor they write into")
        if _state.trace is not None:  # compile: self now holds new's value
            _state.trace.changing(self)
            self._write(new.array, op)
            _state.trace.alias(self, new)
        else:
            self._write(new.array, op)
        self._ctx = new._ctx
        if new._ctx is not None:
            new._ctx._out = weakref.ref(self)
            new._ctx.output_version = self._version
            self.requires_grad = True
        return self

    def _rebind_view(self: Tensor, op: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
        """In place on a view inside a graph (`y[1:] *= 3`, `z[1:4].copy_(x)`), as PyTorch:
        the new values are written into the base as `base.flat[positions] = new`, recorded,
        and the view becomes a fresh view of the new base (it still shares its memory)."""
        base = self._base
        assert base is not None
        positions = _flat_positions(self.array, base.array)
        if positions is None:
            raise RuntimeError(f"{op}: in-place change of a view (shape {self.shape}) inside a "
                               f"graph, whose base (shape {base.shape}) is not contiguous; "
                               "use the out-of-place op")
        new = compute(self._snapshot())
        if new.shape != self.shape:
            raise RuntimeError(f"{op}: the result has shape {new.shape} but the view changed "
                               f"in place has shape {self.shape}")
        base._rebind(op, lambda b: IndexPut.apply(
            b.reshape(-1), new.to(b.dtype).reshape(-1), index=positions).reshape(base.shape))
        _view_node(self, base, positions)
        return self

    def _snapshot(self: Tensor) -> Tensor:
        """A copy of self's value that keeps self's producer: what an in-place op reads."""
        old = self._wrap(self.array.copy())
        old._ctx = self._ctx
        old.requires_grad, old.name = self.requires_grad, self.name
        if _state.trace is not None:  # compile: old holds self's value
            _state.trace.alias(old, self)
        return old

    def _write(self: Tensor, values: np.ndarray, op: str) -> None:
        if not self.array.flags.writeable:
            self.array = self.array.copy()
        try:
            np.copyto(self.array, values, casting="same_kind")
        except TypeError:
            raise RuntimeError(f"{op}: a result of dtype {values.dtype} cannot be written in "
                               f"place into a tensor of dtype {self.dtype} "
                               f"(shape {self.shape})") from None
        self._bump_version()

    def _put(self: Tensor, index: Any, value: Any, op: str) -> Tensor:
        """self[index] = value: in place, recorded in the graph when value or self needs it."""
        _check_bool_masks(self.shape, index, op)
        if _needs_graph(self, (value,)):
            return self._rebind(op, lambda old: _index_put(old, index, value, op))
        if not self.array.flags.writeable:
            self.array = self.array.copy()
        try:
            self.array[index] = _raw(value)
        except IndexError as e:
            raise IndexError(f"{op}: index {index!r} is invalid for a tensor of shape "
                             f"{self.shape} ({e}{_index_note(index)})") from None
        except (ValueError, TypeError) as e:
            try:
                sel = f" (the selection has shape {self.array[index].shape})"
            except (IndexError, ValueError, TypeError):
                sel = ""
            raise RuntimeError(f"{op}: cannot write values of shape {np.shape(_raw(value))} "
                               f"into a tensor of shape {self.shape} at index {index!r}{sel} "
                               f"({e})") from None
        self._bump_version()
        return self

    def _bump_version(self: Tensor) -> None:
        """Count an in-place change here and in every tensor this one is a view of, so a
        graph that saved either notices."""
        t: Tensor | None = self
        while t is not None:
            t._version += 1
            t = t._base

    # ------------------------------------------------------------------ the methods
    def zero_(self: Tensor) -> Tensor:
        return self._put(Ellipsis, 0, "zero_")

    def fill_(self: Tensor, value: Any) -> Tensor:
        return self._put(Ellipsis, value, "fill_")

    def copy_(self: Tensor, src: Any, non_blocking: builtins.bool = False) -> Tensor:
        return self._put(Ellipsis, src, "copy_")

    def _inplace_ufunc(self: Tensor, ufunc: Any, other: Any, op: str,
                       compute: Callable[[Tensor], Tensor]) -> Tensor:
        """Compute straight into our own array (no temporary copy), then bump the version;
        inside a graph, record `compute(old)` instead."""
        if _needs_graph(self, (other,)):
            try:
                return self._rebind(op, compute)
            except ShapeError as e:  # name the in-place op, not the out-of-place one inside
                raise ShapeError(f"{op}: {e}; the values must broadcast to the shape "
                                 f"{self.shape} of the tensor changed in place") from None
        o = _raw(other)
        if not self.array.flags.writeable:
            self.array = self.array.copy()
        try:
            ufunc(self.array, o, out=self.array, casting="same_kind")
        except (ValueError, TypeError) as e:
            raise RuntimeError(f"{op}: cannot combine a tensor of shape {self.shape} and dtype "
                               f"{self.dtype} in place with values of shape {np.shape(o)} and "
                               f"dtype {np.result_type(o)} ({e}); the values must "
                               f"broadcast to shape {self.shape}") from None
        self._bump_version()
        return self

    def add_(self: Tensor, other: Any, alpha: builtins.float = 1.0) -> Tensor:
        other = _scaled(other, alpha)
        return self._inplace_ufunc(np.add, other, "add_", lambda old: old + other)

    def sub_(self: Tensor, other: Any, alpha: builtins.float = 1.0) -> Tensor:
        other = _scaled(other, alpha)
        return self._inplace_ufunc(np.subtract, other, "sub_", lambda old: old - other)

    def mul_(self: Tensor, other: Any) -> Tensor:
        return self._inplace_ufunc(np.multiply, other, "mul_", lambda old: old * other)

    def div_(self: Tensor, other: Any) -> Tensor:
        return self._inplace_ufunc(np.true_divide, other, "div_", lambda old: old / other)

    def _unary_inplace(self: Tensor, op: str, compute: Callable[[Tensor], Tensor],
                       *others: Any) -> Tensor:
        """self <- compute(self) in place; inside a graph, recorded (`_rebind`)."""
        if _needs_graph(self, others):
            return self._rebind(op, compute)
        new = compute(self)
        if new.shape != self.shape:  # `x.atan2_(wider)`: numpy would raise mid-copy
            raise RuntimeError(f"{op}: the result has shape {new.shape} but the tensor changed "
                               f"in place has shape {self.shape}; in-place ops cannot "
                               "broadcast the tensor they write into")
        self._write(new.array, op)
        return self

    def exp_(self: Tensor) -> Tensor:
        return self._unary_inplace("exp_", lambda t: t.exp())

    def log_(self: Tensor) -> Tensor:
        return self._unary_inplace("log_", lambda t: t.log())

    def sqrt_(self: Tensor) -> Tensor:
        return self._unary_inplace("sqrt_", lambda t: t.sqrt())

    def abs_(self: Tensor) -> Tensor:
        return self._unary_inplace("abs_", lambda t: t.abs())

    def neg_(self: Tensor) -> Tensor:
        return self._unary_inplace("neg_", lambda t: -t)

    def sigmoid_(self: Tensor) -> Tensor:
        return self._unary_inplace("sigmoid_", lambda t: t.sigmoid())

    def tanh_(self: Tensor) -> Tensor:
        return self._unary_inplace("tanh_", lambda t: t.tanh())

    def pow_(self: Tensor, exponent: Any) -> Tensor:
        return self._unary_inplace("pow_", lambda t: t**exponent, exponent)

    def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
        if _needs_graph(self, (min, max)):
            return self._rebind("clamp_", lambda old: old.clamp(min, max))
        return self._put(Ellipsis, self.clamp(min, max).array, "clamp_")

    def normal_(self: Tensor, mean: builtins.float = 0.0, std: builtins.float = 1.0,
                generator: Any = None) -> Tensor:
        rng = _rng(generator)
        mean, std = _number(mean, "normal_", "mean"), _number(std, "normal_", "std")
        return self._put(Ellipsis, rng.normal(mean, std, self.shape), "normal_")

    def uniform_(self: Tensor, a: builtins.float = 0.0, b: builtins.float = 1.0,
                 generator: Any = None) -> Tensor:
        rng = _rng(generator)
        a, b = _number(a, "uniform_", "a"), _number(b, "uniform_", "b")
        return self._put(Ellipsis, rng.uniform(a, b, self.shape), "uniform_")

    def __iadd__(self: Tensor, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self: Tensor, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self: Tensor, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self: Tensor, other: Any) -> Tensor:
        return self.div_(other)

    def __setitem__(self: Tensor, index: Any, value: Any) -> None:
        """`t[index] = value`, selecting what `t[index]` reads (PyTorch's reading of an index
        that mixes ints with arrays: the ints first)."""
        idx = _index_to_numpy(index)
        split = _ints_first(idx)
        if split is not None:
            self[split[0]][split[1]] = value
            return
        self._put(idx, value, "__setitem__")


def _view_node(view: Tensor, base: Tensor, positions: np.ndarray) -> None:
    """Give `view` a node that reads it out of `base`'s current value (one GetItem whose
    input is base), keeping its array, which still shares base's memory."""
    index = np.unravel_index(positions.reshape(view.shape), base.shape)
    fresh = base[index]
    if _state.trace is not None:  # compile: the view now reads fresh's value
        _state.trace.alias(view, fresh)
    view._ctx = fresh._ctx
    if fresh._ctx is not None:
        fresh._ctx._out = weakref.ref(view)
        view.requires_grad = True


def refresh_view(view: Tensor) -> None:
    """A view taken before its base was changed in place inside a graph has the base's new
    values but a node made from the old one; PyTorch regenerates the view's node from the
    base's, and so do we the next time the view is used (else its gradient would skip the
    in-place op: `v = y[1:]; y.mul_(3); v.sum()` must give 3 per element)."""
    base, node = view._base, view._ctx
    if base is None or node is None or node.parents[0] is base._ctx or not _state.grad_enabled:
        return
    positions = _flat_positions(view.array, base.array)
    if positions is None:
        raise RuntimeError(f"a view (shape {view.shape}) of a tensor (shape {base.shape}) "
                           "that was changed in place inside a graph after the view was "
                           "taken; take the view again after the in-place op")
    _view_node(view, base, positions)


def _flat_positions(view: np.ndarray, base: np.ndarray) -> np.ndarray | None:
    """For each element of `view`, its position in the flattened C-contiguous `base` (None
    when base is not contiguous or the view's strides do not fall on its elements)."""
    if not base.flags.c_contiguous or base.itemsize != view.itemsize:
        return None
    item = base.itemsize
    offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if offset % item or any(st % item for st in view.strides):
        return None
    start = offset // item
    steps = [st // item for st in view.strides]
    grids: Any = np.indices(view.shape, sparse=True) if view.ndim else []
    flat = start + sum((g * st for g, st in zip(grids, steps)), np.zeros(view.shape, np.int64))
    return np.asarray(flat, dtype=np.int64).reshape(-1)


def _index_put(old: Tensor, index: Any, value: Any, op: str) -> Tensor:
    """old with old[index] = value, as a graph node: value is cast to old's dtype and
    broadcast to the indexed shape first (broadcasting is undone only by `expand`)."""
    try:
        target = old.array[index].shape
    except IndexError as e:
        raise IndexError(f"{op}: index {index!r} is invalid for a tensor of shape "
                         f"{old.shape} ({e}{_index_note(index)})") from None
    v: Any = value if isinstance(value, InplaceMixin) else old._wrap(np.asarray(value, old.dtype))
    if v.dtype != old.dtype:
        v = v.to(old.dtype)
    if v.shape != target:
        try:
            np.broadcast_shapes(v.shape, target)
        except ValueError:
            raise RuntimeError(f"{op}: cannot write values of shape {v.shape} into the "
                               f"selection of shape {target} of a tensor of shape "
                               f"{old.shape}") from None
        v = v.reshape((1,) * (len(target) - v.ndim) + v.shape) if v.ndim < len(target) else v
        v = v.expand(target) if v.ndim == len(target) else v.reshape(target)
    return IndexPut.apply(old, v, index=index)


def _rng(generator: Any) -> np.random.Generator:
    if generator is None:
        return _state.generator
    if isinstance(generator, np.random.Generator):
        return generator
    inner = getattr(generator, "rng", None)
    if isinstance(inner, np.random.Generator):
        return inner
    if isinstance(generator, int | np.integer):
        return np.random.default_rng(int(generator))
    raise TypeError(f"expected a numpy Generator, a tinygrad_edu.Generator or a seed, "
                    f"got {type(generator).__name__}")
