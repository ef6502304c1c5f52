"""The global modes (grad mode, default dtype, anomaly detection, module path) in one
state object, changed only through context managers; and the gradient tape for drawing."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

if TYPE_CHECKING:
    from tinygrad_edu.autograd import Function

P = ParamSpec("P")
R = TypeVar("R")


class _State:
    """Every global mode in one place; changed only through the context managers below."""

    __slots__ = ("grad_enabled", "default_dtype", "anomaly", "module_path", "generator", "tape",
                 "inference", "composite", "trace")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.default_dtype: np.dtype = np.dtype(np.float32)
        self.anomaly = False
        self.module_path = ""
        self.generator = np.random.default_rng()
        self.tape: GradientTape | None = None
        self.inference = False
        self.composite: Composite | None = None
        #: the tracer of `tinygrad_edu.compile` while it records a function (else None):
        #: `Function.apply` hands it every primitive it runs
        self.trace: Any = None


_state = _State()


class _TensorTypes:
    """Filled in by tensor.py once Tensor exists (tensor.py imports this module first)."""

    Tensor: Any = None
    as_tensor: Any = None
    new: Any = None
    refresh_view: Any = None


_tensor_types = _TensorTypes()


# ----------------------------------------------------------------------------- modes


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it in `finally`."""

    __slots__ = ("enabled", "previous")

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.previous: list[bool] = []

    def __enter__(self) -> None:
        self.previous.append(_state.grad_enabled)
        _state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.previous.pop()

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        enabled = self.enabled

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(enabled):
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


def no_grad() -> _GradMode:
    """Record nothing inside this block (context manager or decorator)."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a `no_grad` block (context manager or decorator)."""
    return _GradMode(True)


class _SetGradEnabled(_GradMode):
    """As `torch.set_grad_enabled`, the mode changes at the call, so a plain call works
    too; as a context manager the previous mode comes back on exit, and as a decorator
    the call's change is undone at once (only the decorated function runs in `mode`)."""

    __slots__ = ()

    def __init__(self, enabled: bool) -> None:
        super().__init__(enabled)
        self.previous.append(_state.grad_enabled)
        _state.grad_enabled = enabled

    def __enter__(self) -> None:
        return None

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if self.previous:
            _state.grad_enabled = self.previous.pop()
        return super().__call__(fn)


def set_grad_enabled(mode: bool) -> _GradMode:
    """Grad mode on or off, as `torch.set_grad_enabled`: a call, a block or a decorator."""
    return _SetGradEnabled(bool(mode))


def is_grad_enabled() -> bool:
    return _state.grad_enabled


class _InferenceMode(_GradMode):
    """`inference_mode(True)` records nothing, as `no_grad`; `inference_mode(False)` turns
    recording on (PyTorch does the same, even inside `no_grad`). Both restore on exit."""

    __slots__ = ("mode", "previous_mode")

    def __init__(self, mode: bool) -> None:
        super().__init__(not mode)
        self.mode = mode
        self.previous_mode: list[bool] = []

    def __enter__(self) -> None:
        super().__enter__()
        self.previous_mode.append(_state.inference)
        _state.inference = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.inference = self.previous_mode.pop()
        super().__exit__(*exc)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self.mode

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _InferenceMode(mode):
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


def inference_mode(mode: Any = True) -> Any:
    """As `torch.inference_mode`: a context manager or decorator (`@inference_mode`,
    `@inference_mode()`) that records nothing, like `no_grad`. Tensors made inside are
    ordinary tensors here (PyTorch marks them; there is no `Tensor.is_inference`)."""
    if callable(mode):  # used bare as a decorator
        return _InferenceMode(True)(mode)
    return _InferenceMode(bool(mode))


def is_inference_mode_enabled() -> bool:
    return _state.inference


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Remember where each node was created and raise at the first NaN/Inf gradient."""
    previous = _state.anomaly
    _state.anomaly = True
    try:
        yield
    finally:
        _state.anomaly = previous


def value_check(check: Callable[..., R], *tensors: Any, **kwargs: Any) -> R:
    """Run a library check on tensor values, `check(*arrays, **kwargs)`: it raises its own
    error (a label out of range) or returns which branch the caller takes (all logits
    finite). While `tinygrad_edu.compile` traces, the check also becomes a *guard* that the
    generated code runs on every call: the same error, or, when a branch would come out
    otherwise, the call runs eagerly."""
    result = check(*[t.array for t in tensors], **kwargs)
    if _state.trace is not None:
        _state.trace.guard(check, tensors, kwargs, result)
    return result


def current_module_path() -> str:
    """The module path new nodes record ('' outside any `nn.Module` call)."""
    return _state.module_path


class module_scope:  # noqa: N801  (a context manager, named as the others)
    """Nodes created inside record `path` (set by `nn.Module.__call__`). A class, not a
    generator: every module call enters one."""

    __slots__ = ("path", "previous")

    def __init__(self, path: str) -> None:
        self.path = path
        self.previous = ""

    def __enter__(self) -> None:
        self.previous = _state.module_path
        _state.module_path = self.path

    def __exit__(self, *exc: object) -> None:
        _state.module_path = self.previous


class Composite:
    """One call of a composite (a loss built from several primitives): its name and its
    arguments, and the context manager that makes nodes created inside record it
    (`node.composite`), so `viz` can draw them as one box and label the box's inputs
    ("target"). Inside another composite nothing changes: the outermost one names the
    nodes. Enter it through `composite_scope` or the `composite` decorator."""

    __slots__ = ("name", "_params", "_args", "_kwargs", "_entered")

    def __init__(self, name: str, params: tuple[str, ...], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.name = name
        self._params, self._args, self._kwargs = params, args, kwargs
        self._entered = False

    @property
    def arguments(self) -> dict[str, Any]:
        """The tensor arguments by parameter name (worked out only when asked: a loss call
        only stores what it was given)."""
        pairs = (*zip(self._params, self._args), *self._kwargs.items())
        return {k: v for k, v in pairs if isinstance(v, _tensor_types.Tensor)}

    def __enter__(self) -> Composite:
        self._entered = _state.composite is None
        if self._entered:
            _state.composite = self
        return self

    def __exit__(self, *exc: object) -> None:
        if self._entered:
            _state.composite = None

    def __repr__(self) -> str:
        return f"<composite {self.name}>"


def composite_scope(name: str, **arguments: Any) -> Composite:
    """`with composite_scope("MyLoss", target=t):` groups the nodes created inside as one
    composite call (as `module_scope` groups a module's), its tensor `arguments` labelling
    the box's inputs in a drawing."""
    return Composite(name, (), (), arguments)


def composite(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a composite function: each call runs inside a `Composite` holding its
    arguments by parameter name, so the nodes it creates record it (the outermost one when
    composites nest: cross_entropy calling nll_loss is one CrossEntropy). Only a grouping
    for drawing and for `grad_fn`'s repr: the composite keeps no backward of its own."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        code = fn.__code__
        params = code.co_varnames[:code.co_argcount]

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if _state.composite is not None:  # inside another composite: that one names it
                return fn(*args, **kwargs)
            with Composite(name, params, args, kwargs):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


@contextmanager
def default_dtype(dtype: Any) -> Iterator[None]:
    previous = _state.default_dtype
    _state.default_dtype = np.dtype(dtype)
    try:
        yield
    finally:
        _state.default_dtype = previous


def set_default_dtype(dtype: Any) -> None:
    """Dtype that Python floats become (float32 unless changed), as `torch.set_default_dtype`."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _state.default_dtype = dt


def get_default_dtype() -> np.dtype:
    return _state.default_dtype


class GradientTape:
    """Records, during backward, the gradient that flows along every edge of the graph,
    and the forward value of every tensor it passes through.

    `edges[(node, i)]` is the gradient handed to input `i` of `node`; `totals[key]` is the
    summed gradient of a tensor (key: its node, or the leaf tensor itself) and `paths[key]`
    how many contributions were summed there; `values[key]` is that tensor's forward value
    (kept because backward() frees the intermediate ones; a leaf's is a copy, as an
    optimizer step changes it in place). `viz` reads it to label edges and nodes and to
    mark accumulation points. Nothing is kept outside a recording.
    """

    def __init__(self) -> None:
        self.edges: dict[tuple[Function, int], np.ndarray] = {}
        self.totals: dict[Any, np.ndarray] = {}
        self.paths: dict[Any, int] = {}
        self.values: dict[Any, np.ndarray] = {}

    def _add(self, key: Any, g: np.ndarray) -> None:
        self.paths[key] = self.paths.get(key, 0) + 1
        previous = self.totals.get(key)
        self.totals[key] = g if previous is None else previous + g
        if previous is None:
            self._keep_value(key)

    def _keep_value(self, key: Any) -> None:
        """The forward value of `key` (a node's output, alive while backward runs)."""
        if isinstance(key, _tensor_types.Tensor):
            self.values[key] = key.array.copy()
            return
        out = key.output_if_alive()
        if out is not None and out._ctx is key:  # else overwritten in place: value gone
            self.values[key] = out.array


@contextmanager
def record_gradients() -> Iterator[GradientTape]:
    """`with record_gradients() as tape: loss.backward()` keeps every edge's gradient."""
    previous = _state.tape
    tape = GradientTape()
    _state.tape = tape
    try:
        yield tape
    finally:
        _state.tape = previous
