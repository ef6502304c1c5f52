"""`Function`: one node of the graph, and the public way to add an op.

A node keeps its inputs strongly and its output weakly (so a graph the caller drops is
freed by reference counting, not the cyclic GC), the edges to the nodes that produced its
inputs, the shape and dtype of its output and the module path it was created under. The
engine (`engine.py`) walks these nodes backwards; it knows nothing about particular ops.
"""

from __future__ import annotations

import traceback
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.modes import _GradMode, _state, _tensor_types

if TYPE_CHECKING:
    from tinygrad_edu.modes import Composite
    from tinygrad_edu.tensor import Tensor


def seen_version(t: Any) -> int:
    """In-place changes seen by `t`: its own and those of every tensor it is a view of."""
    v = t._version
    base = t._base
    while base is not None:
        v += base._version
        base = base._base
    return v


def version_sum(tensors: Any) -> int:
    """The in-place changes seen by all of `tensors` (a node saves it at creation; the
    engine compares before backward reads them)."""
    total = 0
    for t in tensors:  # most tensors view nothing: their own version is all they see
        total += t._version if t._base is None else seen_version(t)
    return total


class Function:
    """One op of the graph, and the public way to add one.

    Subclass it and write `forward(self, *arrays, **attrs) -> ndarray` on numpy arrays and
    `backward(self, grad) -> Tensor | tuple` with Tensor operations (so the backward can be
    differentiated again). Read inputs back in backward as `self.inputs` (Tensors) and the
    output as `self.output`; `self.needs_input_grad[i]` says which gradients are wanted.
    Call it with `MyOp.apply(*tensors, **attrs)`.

    Two class attributes describe the op to the in-place checks: `saves` names what
    backward reads ("inputs", "output"; an in-place change to one of those before backward
    is an error), and `is_view` says the output shares the first input's memory.

    The PyTorch style also works: `forward(ctx, *tensors)` and `backward(ctx, grad)` as
    static methods, with `ctx.save_for_backward(...)` and `ctx.saved_tensors`.
    """

    __slots__ = (
        "inputs", "parents", "needs_input_grad", "_out", "shape", "dtype", "module_path",
        "version_sum", "released", "created_at", "saved", "output_version", "composite",
        "__weakref__",
    )
    #: what backward reads: "inputs" and/or "output" (checked against in-place changes)
    saves: tuple[str, ...] = ("inputs",)
    #: the output views the first input's memory (shares its in-place versions)
    is_view = False

    inputs: tuple[Any, ...]
    #: the node that produced each input when this node was made (None for a leaf): the
    #: edges of the graph, fixed at creation, so an in-place op that later gives an input
    #: a new producer does not re-route this node's gradient
    parents: tuple[Function | None, ...]
    needs_input_grad: tuple[bool, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    module_path: str
    #: the composite call (a loss) that created the node, or None: a grouping for drawing
    composite: Composite | None
    version_sum: int
    released: bool
    created_at: str | None
    saved: Any
    output_version: int
    _out: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            _adopt_torch_style(cls)

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:  # pragma: no cover
        raise TypeError(f"{type(self).__name__} must define forward()")

    def backward(self, grad: Tensor) -> Any:  # pragma: no cover
        raise TypeError(f"{type(self).__name__} has no backward(): it is not differentiable")

    @property
    def op(self) -> str:
        return type(self).__name__

    @property
    def output(self) -> Tensor:
        out = self.output_if_alive()
        if out is None:
            raise RuntimeError(f"{self.op}: its output tensor no longer exists")
        return out

    def output_if_alive(self) -> Tensor | None:
        """The output tensor, or None once the caller has dropped it (the node keeps it
        weakly, so a dropped graph is freed)."""
        return self._out() if self._out is not None else None

    # PyTorch-style context helpers
    def save_for_backward(self, *tensors: Any) -> None:
        self.saved = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        saved = getattr(self, "saved", None)
        if saved is None and getattr(self, "released", False):
            raise RuntimeError(f"{self.op}: saved tensors were freed by an earlier backward()")
        return tuple(saved or ())

    def mark_non_differentiable(self, *tensors: Any) -> None:  # accepted for compatibility
        return None

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any) -> Any:
        """out = forward(input arrays); when an input wants a gradient (and grad mode is
        on), this node becomes out's producer."""
        types = _tensor_types
        tensors, arrays, wants_grad = [], [], False
        for x in inputs:  # a loop, not comprehensions: this runs for every op
            t = x if isinstance(x, types.Tensor) else types.as_tensor(x)
            if t._base is not None and t._ctx is not None:  # a view: is its node current?
                types.refresh_view(t)
            tensors.append(t)
            arrays.append(t.array)
            wants_grad = wants_grad or t.requires_grad
        fn = object.__new__(cls)
        data = fn.forward(*arrays, **attrs)
        if _state.anomaly:
            check_forward(cls.__name__, arrays, data)
        out = types.new(data if type(data) is np.ndarray else np.asarray(data))
        if cls.is_view and data.base is not None:  # a copy (advanced indexing) is no view
            out._base = tensors[0]
        if wants_grad and _state.grad_enabled:
            fn.link(tuple(tensors), out)
        if _state.trace is not None:  # tinygrad_edu.compile is recording this function
            _state.trace.record(cls, tensors, attrs, out, fn)
        return out

    def link(self, inputs: tuple[Any, ...], out: Tensor) -> None:
        """Make this node the producer of `out`: the edges to the inputs' producers, and
        what the engine and the in-place checks need to know about it."""
        parents, needs, versions = [], [], 0
        for t in inputs:  # one pass: `version_sum(inputs)`, with the parents and needs
            parents.append(t._ctx)
            needs.append(t.requires_grad)
            versions += t._version if t._base is None else seen_version(t)
        self.inputs = inputs
        self.parents = tuple(parents)
        self.needs_input_grad = tuple(needs)
        self.version_sum = versions
        self._out = weakref.ref(out)
        self.output_version = out._version
        array = out.array
        self.shape, self.dtype = array.shape, array.dtype
        self.module_path = _state.module_path
        self.composite = _state.composite
        self.released = False
        self.created_at = _creation_site() if _state.anomaly else None
        out.requires_grad = True
        out._ctx = self

    @classmethod
    def apply_inplace(cls, t: Tensor, **attrs: Any) -> Tensor:
        """Run the op into t's own array and make t its output, as PyTorch's in-place ops
        do (`relu_`). The op must define `forward_inplace(self, x, **attrs)` and must not
        read its input in backward (its old value is gone).

        In a graph, t's old value becomes the node's input in name only (a stub that keeps
        its producer, shape and dtype); t's version is bumped, so a producer or another
        consumer that needed the old value raises at backward instead of using the new one.
        Views are refused: other tensors sharing the memory would change without an edge.
        """
        op = cls.__name__.lower() + "_"
        # compile records the change as the out-of-place op giving t a new value
        traced = _state.trace.ref(t, op) if _state.trace is not None else None
        track = _state.grad_enabled and t.requires_grad
        if track and t._ctx is None:
            raise RuntimeError(f"{op}: in-place change of a leaf tensor that requires grad "
                               f"(shape {t.shape}); use the out-of-place op")
        if track and t._base is not None:
            raise RuntimeError(f"{op}: in-place change of a view (shape {t.shape}) of a tensor "
                               "in a graph is not supported; use the out-of-place op")
        if not t.array.flags.writeable:
            t.array = t.array.copy()
        fn = object.__new__(cls)
        fn.forward_inplace(t.array, **attrs)  # type: ignore[attr-defined]
        t._bump_version()
        if track:
            fn.link((Overwritten(t, op),), t)
        if traced is not None:
            _state.trace.record_inplace(cls, traced, attrs, t, fn)
        return t

    def __repr__(self) -> str:
        group = getattr(self, "composite", None)
        return f"<{self.op} in {group.name}>" if group is not None else f"<{self.op}>"


def check_forward(op: str, arrays: list[np.ndarray], data: Any) -> None:
    """Under `detect_anomaly()`: raise where a NaN first appears, i.e. at an op whose output
    has one while none of its inputs did. (Inf is left alone: -inf padding and masks are
    ordinary; the backward check catches what an Inf does to a gradient.)"""
    out = np.asarray(data)
    if out.dtype.kind != "f" or not np.isnan(out).any():
        return
    if any(a.dtype.kind == "f" and np.isnan(a).any() for a in arrays):
        return
    shapes = ", ".join(str(a.shape) for a in arrays)
    raise FloatingPointError(f"{op} produced NaN in its forward (inputs of shape {shapes}, "
                             f"output {out.shape}) at {_creation_site()}")


def _creation_site() -> str:
    frames = traceback.extract_stack()[:-3]
    user = [f for f in frames if "tinygrad_edu" not in f.filename] or frames
    f = user[-1]
    return f"{f.filename}:{f.lineno} in {f.name}"


# ----------------------------------------------------------------------------- freed values


class Released:
    """What a freed graph keeps of an intermediate tensor: its node (which knows the shape
    and dtype) and its name."""

    __slots__ = ("_ctx", "name")
    requires_grad = True
    _version = 0
    _retains_grad = False
    _base = None

    def __init__(self, t: Tensor, producer: Function | None = None) -> None:
        self._ctx = t._ctx if producer is None else producer
        self.name = t.name

    @property
    def shape(self) -> tuple[int, ...]:
        return self._ctx.shape  # type: ignore[union-attr]

    @property
    def dtype(self) -> np.dtype:
        return self._ctx.dtype  # type: ignore[union-attr]

    @property
    def array(self) -> np.ndarray:
        raise RuntimeError(
            f"backward: this graph (through a tensor of shape {self.shape}) was already "
            "freed by an earlier backward(); pass retain_graph=True to keep it"
        )


class Overwritten(Released):
    """The old value of a tensor changed by an in-place op: its producer, shape and dtype."""

    __slots__ = ("op",)

    def __init__(self, t: Tensor, op: str) -> None:
        super().__init__(t)
        self.op = op

    @property
    def array(self) -> np.ndarray:
        raise RuntimeError(f"{self.op}: this value (shape {self.shape}) was overwritten in "
                           f"place by {self.op}(); use the out-of-place op to keep it")


# ----------------------------------------------------------------------------- PyTorch style


def _adopt_torch_style(cls: type[Function]) -> None:
    """A Function written as PyTorch's (static forward(ctx, ...)/backward(ctx, grad) on
    Tensors) gets an `apply` that runs forward unrecorded and a `backward` that keeps the
    gradients of the tensor arguments, so the engine calls it like any other node."""
    user_forward: Callable[..., Any] = cls.__dict__["forward"].__func__
    user_backward: Callable[..., Any] = cls.__dict__["backward"].__func__

    def apply(cls: type[Function], *inputs: Any, **attrs: Any) -> Any:
        types = _tensor_types
        fn = object.__new__(cls)
        fn.saved = None
        with _GradMode(False):
            result = user_forward(fn, *inputs, **attrs)
        out = types.new(types.as_tensor(result).array)
        tensors = tuple([x for x in inputs if isinstance(x, types.Tensor)])
        fn.positions = [i for i, x in enumerate(inputs) if isinstance(x, types.Tensor)]  # type: ignore[attr-defined]
        if _state.grad_enabled and any([t.requires_grad for t in tensors]):
            fn.link(tensors, out)
        return out

    def backward(self: Function, grad: Tensor) -> tuple[Any, ...]:
        result = user_backward(self, grad)
        result = result if isinstance(result, tuple) else (result,)
        positions = self.positions  # type: ignore[attr-defined]
        # PyTorch returns one gradient per forward argument; keep those of tensor arguments
        return tuple(result[p] for p in positions) if len(result) > len(positions) else result

    cls.apply = classmethod(apply)  # type: ignore[assignment,method-assign]
    cls.backward = backward  # type: ignore[method-assign]
