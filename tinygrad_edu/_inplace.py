# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""In-place methods of Tensor (a mixin): what optimizers and initializers use.

Each one writes into the tensor's own array and bumps its version (and that of every
tensor it views), so a graph that saved the old values raises at backward instead of
computing a wrong gradient. With grad mode on, changing a tensor that requires grad in
place is an error: wrap optimizer steps in `no_grad()`.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.modes import _state

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _scaled(other: Any, alpha: float) -> Any:
    if alpha == 1:
        return other
    return (other.array if isinstance(other, InplaceMixin) else other) * alpha


class InplaceMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ in-place
    def _inplace_check(self: Tensor, op: str) -> None:
        if _state.grad_enabled and self.requires_grad:
            kind = ("a leaf tensor that requires grad" if self._ctx is None
                    else "a tensor in a graph")
            raise RuntimeError(f"{op}: in-place change of {kind} (shape {self.shape}) while grad "
                               "mode is on; wrap it in `with no_grad():` or use the "
                               "out-of-place op")

    def _assign(self: Tensor, values: Any, op: str) -> Tensor:
        self._inplace_check(op)
        v = values.array if isinstance(values, type(self)) else values
        try:
            if not self.array.flags.writeable:
                self.array = self.array.copy()
            self.array[...] = v
        except ValueError as e:
            shape = np.shape(v)
            raise RuntimeError(f"{op}: cannot write values of shape {shape} into a tensor of "
                               f"shape {self.shape} ({e})") from None
        self._bump_version()
        return self

    def _bump_version(self: Tensor) -> None:
        """Count an in-place change here and in every tensor this one is a view of, so a
        graph that saved either notices."""
        t: Tensor | None = self
        while t is not None:
            t._version += 1
            t = t._base

    def zero_(self: Tensor) -> Tensor:
        return self._assign(0, "zero_")

    def fill_(self: Tensor, value: Any) -> Tensor:
        return self._assign(value, "fill_")

    def copy_(self: Tensor, src: Any) -> Tensor:
        return self._assign(src, "copy_")

    def _inplace_ufunc(self: Tensor, ufunc: Any, other: Any, op: str) -> Tensor:
        """Compute straight into our own array (no temporary copy), then bump the version."""
        self._inplace_check(op)
        o = other.array if isinstance(other, InplaceMixin) else other
        if not self.array.flags.writeable:
            self.array = self.array.copy()
        try:
            ufunc(self.array, o, out=self.array, casting="same_kind")
        except ValueError as e:
            raise RuntimeError(f"{op}: cannot combine a tensor of shape {self.shape} in place "
                               f"with values of shape {np.shape(o)} ({e})") from None
        self._bump_version()
        return self

    def add_(self: Tensor, other: Any, alpha: builtins.float = 1.0) -> Tensor:
        return self._inplace_ufunc(np.add, _scaled(other, alpha), "add_")

    def sub_(self: Tensor, other: Any, alpha: builtins.float = 1.0) -> Tensor:
        return self._inplace_ufunc(np.subtract, _scaled(other, alpha), "sub_")

    def mul_(self: Tensor, other: Any) -> Tensor:
        return self._inplace_ufunc(np.multiply, other, "mul_")

    def div_(self: Tensor, other: Any) -> Tensor:
        return self._inplace_ufunc(np.true_divide, other, "div_")

    def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
        return self._assign(np.clip(self.array, min, max), "clamp_")

    def normal_(self: Tensor, mean: builtins.float = 0.0, std: builtins.float = 1.0,
                generator: Any = None) -> Tensor:
        rng = _rng(generator)
        return self._assign(rng.normal(mean, std, self.shape), "normal_")

    def uniform_(self: Tensor, a: builtins.float = 0.0, b: builtins.float = 1.0,
                 generator: Any = None) -> Tensor:
        rng = _rng(generator)
        return self._assign(rng.uniform(a, b, self.shape), "uniform_")

    def __iadd__(self: Tensor, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self: Tensor, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self: Tensor, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self: Tensor, other: Any) -> Tensor:
        return self.div_(other)

    def __setitem__(self: Tensor, index: Any, value: Any) -> None:
        self._inplace_check("__setitem__")
        if not self.array.flags.writeable:
            self.array = self.array.copy()
        idx = _index_arrays(index)
        self.array[idx] = value.array if isinstance(value, InplaceMixin) else value
        self._bump_version()


def _index_arrays(index: Any) -> Any:
    """Tensors inside an index become arrays (integer tensors act as integer arrays)."""
    if isinstance(index, InplaceMixin):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, InplaceMixin) else i for i in index)
    if isinstance(index, list) and any(isinstance(i, InplaceMixin) for i in index):
        return np.asarray([i.array if isinstance(i, InplaceMixin) else i for i in index])
    return index


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
