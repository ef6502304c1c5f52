"""Tensor: a numpy array that remembers the op that made it.

Operators and methods follow PyTorch; where numpy and PyTorch disagree, the Tensor speaks
PyTorch and its docstring says so. Reductions, movement ops and the composite maths live in
mixins (`_reduce.py`, `_movement.py`, `_maths.py`) so each file reads in one sitting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu._arguments import as_dtype
from tinygrad_edu._convert import (  # noqa: F401  (TensorDataError and _to_array re-exported)
    TensorDataError,
    _dtype_of_python,
    _element_dtype,
    _to_array,
)
from tinygrad_edu._indexing_more import IndexingMoreMixin
from tinygrad_edu._inplace import InplaceMixin, _rng, refresh_view  # noqa: F401
from tinygrad_edu._logic import LogicMixin
from tinygrad_edu._maths import MathsMixin
from tinygrad_edu._movement import MovementMixin
from tinygrad_edu._reduce import ReduceMixin
from tinygrad_edu._reduce_more import ReduceMoreMixin
from tinygrad_edu._shape_more import ShapeMoreMixin
from tinygrad_edu._size import Size
from tinygrad_edu._unary import UnaryMixin
from tinygrad_edu._unary_more import ElementwiseMixin
from tinygrad_edu.autograd import Function, _state
from tinygrad_edu.device import CPU, check_device
from tinygrad_edu.device import device as device_type


class _NumpyProtocols:
    """Filled in by `_numpy_interop` when the package loads: that module builds on
    functional.py, which imports this one, so this one cannot import it."""

    to_array: Any = None
    array_ufunc: Any = None
    array_function: Any = None


_numpy = _NumpyProtocols()


_TYPE_NAMES = {np.dtype(k): f"torch.{v}Tensor" for k, v in (
    (np.float32, "Float"), (np.float64, "Double"), (np.float16, "Half"), (np.int64, "Long"),
    (np.int32, "Int"), (np.int16, "Short"), (np.int8, "Char"), (np.uint8, "Byte"),
    (np.bool_, "Bool"))}


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    """A constant Tensor for x (a Tensor is returned unchanged)."""
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(dtype)
    return Tensor._wrap(_to_array(x, dtype))


class Tensor(MathsMixin, LogicMixin, UnaryMixin, ElementwiseMixin, ReduceMixin, ReduceMoreMixin,
             MovementMixin, InplaceMixin, ShapeMoreMixin, IndexingMoreMixin):
    """An n-d array with autograd.

    `Tensor(data, requires_grad=False, dtype=None, name=None)`: numpy input keeps its dtype;
    Python floats become the default dtype (float32), ints int64, bools bool, as in PyTorch.
    """

    __slots__ = ("array", "grad", "requires_grad", "_ctx", "name", "_version", "_retains_grad",
                 "_base",
                 "__weakref__")
    # numpy itself sends `ndarray + Tensor` to __array_ufunc__; the priority is for libraries
    # that still look at it (PyTorch sets the same)
    __array_priority__ = 1000

    #: the numpy array this tensor holds (what `numpy()` returns; shares memory)
    array: np.ndarray
    grad: Tensor | None
    requires_grad: bool
    _ctx: Function | None
    name: str | None
    _version: int
    _base: Tensor | None  # the tensor whose memory this one views (shares its versions)
    _retains_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.array = _to_array(data, dtype)
        self.grad = None
        self._ctx = None
        self.name = name
        self._version = 0
        self._retains_grad = False
        self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(data: np.ndarray) -> Tensor:
        """A constant tensor around an array, without any conversion (internal fast path)."""
        t = Tensor.__new__(Tensor)
        t.array = data
        t.grad = None
        t.requires_grad = False
        t._ctx = None
        t.name = None
        t._version = 0
        t._retains_grad = False
        t._base = None
        return t

    # ------------------------------------------------------------------ basic properties
    __hash__ = object.__hash__

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    def size(self, dim: int | None = None) -> Any:
        """The shape as a `Size` (a tuple), or one dimension of it (PyTorch: a method, not
        numpy's `.size` count)."""
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[self._axis(dim, "size")]

    def numel(self) -> int:
        """Number of elements (numpy's `.size`)."""
        return int(self.array.size)

    def dim(self) -> int:
        return self.array.ndim

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        return self._ctx

    @property
    def device(self) -> device_type:
        """Always the CPU (numpy); a `device` object, as in PyTorch."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def _axis(self, axis: int, op: str) -> int:
        nd = self.array.ndim
        if not isinstance(axis, int | np.integer):
            raise TypeError(f"{op}: dim must be an int, got {type(axis).__name__}")
        if not -max(nd, 1) <= axis < max(nd, 1):
            raise IndexError(f"{op}: dim {axis} is out of range for a tensor of shape "
                             f"{self.shape} (valid: {-max(nd, 1)}..{max(nd, 1) - 1})")
        return int(axis) % max(nd, 1)

    # ------------------------------------------------------------------ autograd flags
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(f"requires_grad: only floating-point tensors can require "
                               f"gradients; this one is {self.dtype} with shape {self.shape}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad of a non-leaf "
                               "tensor; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> Tensor:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always get it)."""
        if not self.requires_grad:
            raise RuntimeError(f"retain_grad: tensor of shape {self.shape} does not require grad")
        if self._ctx is not None:
            self._retains_grad = True
        return self

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and in-place versions, as in
        PyTorch)."""
        t = Tensor._wrap(self.array)
        t._base = self
        if _state.trace is not None:  # compile: the same value, computed on every call
            _state.trace.alias(t, self)
        return t

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate gradients into the leaves' `.grad`. A non-scalar output needs `gradient`."""
        if not self.requires_grad:
            raise RuntimeError(f"backward: tensor of shape {self.shape} does not require grad "
                               "and has no graph (no input had requires_grad=True, or it was "
                               "made under no_grad())")
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def zero_grad_(self) -> None:
        self.grad = None

    # ------------------------------------------------------------------ conversion
    @property
    def data(self) -> Tensor:
        """As in PyTorch: the same storage as an untracked Tensor (no graph, no version
        sharing), so `p.data.add_(g, alpha=-lr)` updates p without autograd seeing it."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value: Any) -> None:
        self.array = value.array if isinstance(value, Tensor) else _to_array(value)

    def numpy(self) -> np.ndarray:
        """The array itself (shares memory, as PyTorch's `numpy()`)."""
        if _state.trace is not None:  # compile: a value read leaves the traced graph
            _state.trace.read_value(self, "numpy()")
        return self.array

    def item(self) -> Any:
        if _state.trace is not None:  # compile: a value read leaves the traced graph
            _state.trace.read_value(self, "item()")
        if self.array.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"scalar; this one has shape {self.shape}")
        return self.array.item()

    def tolist(self) -> Any:
        if _state.trace is not None:  # compile: a value read leaves the traced graph
            _state.trace.read_value(self, "tolist()")
        return self.array.tolist()

    # numpy's protocols: `_numpy_interop` (installed in `_numpy`) says how each one works.
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """numpy 2's contract, as PyTorch's: `np.array(t)` (copy=True) is a new array,
        `np.asarray(t)` shares memory, copy=False raises ValueError if a copy is needed."""
        return _numpy.to_array(self, dtype, copy)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """`np.exp(t)`, `ndarray * t`, `np.maximum(0, t)` are Tensors in the graph; a ufunc
        without a Tensor counterpart, or out=, raises TypeError."""
        return _numpy.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """`np.sum(t, axis=1)`, `np.concatenate([t, u])` are Tensors in the graph; a numpy
        function without a counterpart raises TypeError naming it (never a silent detach)."""
        return _numpy.array_function(func, types, args, kwargs)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError(f"only integer tensors of one element can be used as an index "
                            f"(got {self.dtype}, shape {self.shape})")
        return int(self.item())

    def __bool__(self) -> bool:
        if _state.trace is not None:  # compile: a branch on a value cannot be traced
            _state.trace.read_value(self, "bool()")
        if self.array.size != 1:
            raise RuntimeError(f"bool: a tensor of shape {self.shape} has more than one value; "
                               "use .any() or .all()")
        return bool(self.array.item())

    def __repr__(self) -> str:
        body = np.array2string(self.array, precision=4, separator=", ", prefix="tensor(",
                               threshold=200, edgeitems=3)
        extras = []
        if self.array.dtype != _state.default_dtype and self.array.dtype != np.int64:
            extras.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")  # <Einsum in CrossEntropy>
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def to(self, *args: Any, dtype: Any = None, device: Any = None,
           non_blocking: bool = False, copy: bool = False) -> Tensor:
        """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other)`, as PyTorch: the same
        tensor when nothing changes (a copy with `copy=True`), else a cast in the graph. The
        only device is the CPU; another one is an error naming what exists."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype if dtype is None else dtype
            elif isinstance(a, str | device_type):
                device = a
            else:
                dtype = a
        if device is not None:
            check_device(device, "to")
        dt = self.array.dtype if dtype is None else as_dtype(dtype, "to")
        if dt == self.array.dtype:
            return self.clone() if copy else self
        from tinygrad_edu.ops.elementwise import Cast

        if self.requires_grad and dt.kind != "f":
            return Tensor._wrap(self.array.astype(dt))
        return Cast.apply(self, dtype=dt)

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        check_device("cuda" if device is None else device, "cuda")
        return self

    def type(self, dtype: Any = None) -> Any:
        """With no argument PyTorch's type name ('torch.FloatTensor'); else `to(dtype)`."""
        if dtype is None:
            return _TYPE_NAMES.get(self.array.dtype, f"torch.{self.array.dtype}")
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        if not isinstance(other, Tensor):
            raise TypeError(f"type_as: other must be a Tensor, got {type(other).__name__}")
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def cpu(self, memory_format: Any = None) -> Tensor:
        return self

    def clone(self) -> Tensor:
        """A copy with its own memory, still in the graph (its gradient passes through)."""
        from tinygrad_edu.ops.elementwise import Copy

        return Copy.apply(self)

    def contiguous(self) -> Tensor:
        return self


autograd._tensor_types.Tensor = Tensor
autograd._tensor_types.as_tensor = as_tensor
autograd._tensor_types.new = Tensor._wrap
autograd._tensor_types.refresh_view = refresh_view
