"""Graph nodes (`Function`), the backward engine, and the global modes.

One `Function` instance is one node of the graph: it keeps its inputs strongly, its output
weakly (so a dropped graph is collected by reference counting, not the cyclic GC), the
shape/dtype of its output and the module path it was created under. The engine knows
nothing about particular ops.
"""

from __future__ import annotations

import traceback
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class _State:
    """Every global mode in one place; changed only through the context managers below."""

    __slots__ = ("grad_enabled", "default_dtype", "anomaly", "module_path", "generator", "tape")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.default_dtype: np.dtype = np.dtype(np.float32)
        self.anomaly = False
        self.module_path = ""
        self.generator = np.random.default_rng()
        self.tape: GradientTape | None = None


_state = _State()


class _TensorTypes:
    """Filled in by tensor.py once Tensor exists (tensor.py imports this module first)."""

    Tensor: Any = None
    as_tensor: Any = None
    new: Any = None


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


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Remember where each node was created and raise at the first NaN/Inf gradient."""
    previous = _state.anomaly
    _state.anomaly = True
    try:
        yield
    finally:
        _state.anomaly = previous


@contextmanager
def module_scope(path: str) -> Iterator[None]:
    """Nodes created inside record `path` (set by `nn.Module.__call__`)."""
    previous = _state.module_path
    _state.module_path = path
    try:
        yield
    finally:
        _state.module_path = previous


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
    """Records, during backward, the gradient that flows along every edge of the graph.

    `edges[(node, i)]` is the gradient handed to input `i` of `node`; `totals[key]` is the
    summed gradient of a tensor (key: its node, or the leaf tensor itself) and `paths[key]`
    how many contributions were summed there. `viz` reads it to label edges and to mark
    accumulation points.
    """

    def __init__(self) -> None:
        self.edges: dict[tuple[Function, int], np.ndarray] = {}
        self.totals: dict[Any, np.ndarray] = {}
        self.paths: dict[Any, int] = {}

    def _add(self, key: Any, g: np.ndarray) -> None:
        self.paths[key] = self.paths.get(key, 0) + 1
        previous = self.totals.get(key)
        self.totals[key] = g if previous is None else previous + g


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


# ----------------------------------------------------------------------------- Function


class Function:
    """One op of the graph, and the public way to add one.

    Subclass it and write `forward(self, *arrays, **attrs) -> ndarray` on numpy arrays and
    `backward(self, grad) -> Tensor | tuple` with Tensor operations (so the backward can be
    differentiated again). Read inputs back in backward as `self.inputs` (Tensors) and the
    output as `self.output`; `self.needs_input_grad[i]` says which gradients are wanted.
    Call it with `MyOp.apply(*tensors, **attrs)`.

    The PyTorch style also works: `forward(ctx, *tensors)` and `backward(ctx, grad)` as
    static methods, with `ctx.save_for_backward(...)` and `ctx.saved_tensors`.
    """

    __slots__ = (
        "inputs", "needs_input_grad", "_out", "shape", "dtype", "module_path",
        "version_sum", "released", "created_at", "saved", "__weakref__",
    )
    #: backward reads the values of the inputs / of the output (for the in-place check)
    reads_inputs = True
    reads_output = False
    #: the output views the first input's memory (shares its in-place versions)
    is_view = False
    _torch_style = False

    inputs: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    module_path: str
    version_sum: int
    released: bool
    created_at: str | None
    saved: Any
    _out: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            cls._torch_style = True

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:  # pragma: no cover
        raise TypeError(f"{type(self).__name__} must define forward()")

    def backward(self, grad: Tensor) -> Any:  # pragma: no cover
        raise TypeError(f"{type(self).__name__} has no backward(): it is not differentiable")

    @property
    def op(self) -> str:
        return type(self).__name__

    @property
    def output(self) -> Tensor:
        out = self._out() if self._out is not None else None
        if out is None:
            raise RuntimeError(f"{self.op}: its output tensor no longer exists")
        return out

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
        fn = object.__new__(cls)
        if cls._torch_style:
            return _apply_torch_style(fn, inputs, attrs)
        types = _tensor_types
        tensors = tuple([x if isinstance(x, types.Tensor) else types.as_tensor(x)
                         for x in inputs])
        n = len(tensors)
        # One and two inputs are nearly every op: spelled out, they skip a list per call.
        if n == 1:
            t0 = tensors[0]
            data = fn.forward(t0.data, **attrs)
            track = t0.requires_grad and _state.grad_enabled
        elif n == 2:
            t0, t1 = tensors
            data = fn.forward(t0.data, t1.data, **attrs)
            track = (t0.requires_grad or t1.requires_grad) and _state.grad_enabled
        else:
            data = fn.forward(*[t.data for t in tensors], **attrs)
            track = _state.grad_enabled and any([t.requires_grad for t in tensors])
        out = types.new(data if type(data) is np.ndarray else np.asarray(data))
        if cls.is_view:
            out._base = tensors[0]
        if track:
            if n == 1:
                fn.needs_input_grad = (True,)
                fn.version_sum = t0._version if t0._base is None else seen_version(t0)
            elif n == 2:
                fn.needs_input_grad = (t0.requires_grad, t1.requires_grad)
                fn.version_sum = (
                    (t0._version if t0._base is None else seen_version(t0))
                    + (t1._version if t1._base is None else seen_version(t1)))
            else:
                fn.needs_input_grad = tuple([t.requires_grad for t in tensors])
                fn.version_sum = sum([seen_version(t) for t in tensors])
            fn.inputs = tensors
            fn._out = weakref.ref(out)
            fn.shape = out.data.shape
            fn.dtype = out.data.dtype
            fn.module_path = _state.module_path
            fn.released = False
            fn.created_at = _creation_site() if _state.anomaly else None
            out.requires_grad = True
            out._ctx = fn
        return out

    def __repr__(self) -> str:
        return f"<{self.op} {getattr(self, 'shape', '?')} at {self.module_path or 'top'}>"


def seen_version(t: Any) -> int:
    """In-place changes seen by `t`: its own and those of every tensor it is a view of."""
    v = t._version
    base = t._base
    while base is not None:
        v += base._version
        base = base._base
    return v


def _creation_site() -> str:
    frames = traceback.extract_stack()[:-3]
    user = [f for f in frames if "tinygrad_edu" not in f.filename] or frames
    f = user[-1]
    return f"{f.filename}:{f.lineno} in {f.name}"


def _apply_torch_style(fn: Function, inputs: Sequence[Any], attrs: dict[str, Any]) -> Any:
    from tinygrad_edu.tensor import Tensor, as_tensor

    cls = type(fn)
    with no_grad():
        result = cls.forward(fn, *inputs, **attrs)  # type: ignore[call-arg]
    out = result if isinstance(result, Tensor) else as_tensor(result)
    tensor_inputs = [x for x in inputs if isinstance(x, Tensor)]
    fn._torch_positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor)]  # type: ignore[attr-defined]
    if not hasattr(fn, "saved"):
        fn.saved = None
    out = Tensor._wrap(out.data)
    needs = tuple(t.requires_grad for t in tensor_inputs)
    if _state.grad_enabled and any(needs):
        fn.inputs = tuple(tensor_inputs)
        fn.needs_input_grad = needs
        fn._out = weakref.ref(out)
        fn.shape, fn.dtype = out.data.shape, out.data.dtype
        fn.module_path = _state.module_path
        fn.version_sum = sum(seen_version(t) for t in tensor_inputs)
        fn.released = False
        fn.created_at = _creation_site() if _state.anomaly else None
        out.requires_grad = True
        out._ctx = fn
    return out


def _call_torch_backward(fn: Function, grad: Tensor) -> tuple[Any, ...]:
    result = type(fn).backward(fn, grad)  # type: ignore[call-arg]
    result = result if isinstance(result, tuple) else (result,)
    # PyTorch returns one gradient per forward argument; keep those of tensor arguments.
    positions = fn._torch_positions  # type: ignore[attr-defined]
    if len(result) > len(positions):
        result = tuple(result[p] for p in positions)
    return result


# ----------------------------------------------------------------------------- engine


def _consumer_counts(roots: Sequence[Function]) -> dict[Function, int]:
    """How many edges (that need a gradient) lead into each node reachable from roots."""
    counts: dict[Function, int] = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        if node.released:
            raise RuntimeError(
                f"backward: the graph through {node.op} (output shape {node.shape}) was "
                "already freed by an earlier backward(); pass retain_graph=True to the first "
                "backward() to go through it twice"
            )
        for t, needs in zip(node.inputs, node.needs_input_grad):
            parent = t._ctx
            if needs and parent is not None:
                counts[parent] = counts.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return counts


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    *,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    fill_retained: bool = True,
) -> dict[Any, Tensor]:
    """The engine. Returns the gradients of the leaves reached (keyed by tensor) and of the
    requested `inputs` (keyed by tensor); `.grad` is left for the caller to update."""

    tape = _state.tape
    wanted: dict[Function, Tensor] = {}
    if inputs is not None:
        for t in inputs:
            if t._ctx is not None:
                wanted[t._ctx] = t
    pending: dict[Function, Tensor] = {}
    leaf_grads: dict[Tensor, Tensor] = {}
    roots: list[Function] = []
    for out, g in zip(outputs, grad_outputs):
        node = out._ctx
        if node is None:
            _accumulate_leaf(leaf_grads, out, g, tape)
            continue
        if tape is not None:
            tape._add(node, g.data)
        if node in pending:
            pending[node] = pending[node] + g
        else:
            pending[node] = g
            roots.append(node)
    counts = _consumer_counts(roots)
    ready = [n for n in roots if counts.get(n, 0) == 0]
    visited: list[Function] = []
    results: dict[Any, Tensor] = {}
    anomaly = _state.anomaly
    tensor_type = _tensor_types.Tensor
    with _GradMode(create_graph):
        while ready:
            node = ready.pop()
            visited.append(node)
            grad = pending.pop(node)
            out = node._out()
            if fill_retained and out is not None and out._retains_grad:
                _set_retained_grad(out, grad, create_graph)
            if wanted and node in wanted:
                results[wanted[node]] = grad
            inputs = node.inputs
            if node.reads_inputs and node.version_sum != sum(
                    [t._version if t._base is None else seen_version(t) for t in inputs]):
                _raise_modified(node, "input")
            if node.reads_output and out is not None and out._version:
                _raise_modified(node, "output")
            if node._torch_style:
                input_grads = _call_torch_backward(node, grad)
            else:
                input_grads = node.backward(grad)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
            if len(input_grads) != len(inputs):
                raise RuntimeError(
                    f"{node.op}.backward returned {len(input_grads)} gradients for "
                    f"{len(inputs)} inputs"
                )
            for i, (t, needs, g) in enumerate(zip(inputs, node.needs_input_grad, input_grads)):
                if not needs:
                    continue
                parent = t._ctx
                if g is None:
                    if parent is not None:
                        _release_edge(parent, counts, ready)
                    continue
                if type(g) is not tensor_type:
                    g = g if isinstance(g, tensor_type) else tensor_type._wrap(
                        np.asarray(g, dtype=t.data.dtype))
                gd, td = g.data, t.data
                if gd.shape != td.shape or gd.dtype != td.dtype:
                    raise RuntimeError(
                        f"{node.op}.backward: gradient for input {i} has shape "
                        f"{gd.shape} and dtype {gd.dtype}, but that input has shape "
                        f"{td.shape} and dtype {td.dtype}"
                    )
                if anomaly and not np.all(np.isfinite(gd)):
                    raise FloatingPointError(
                        f"{node.op}.backward produced NaN/Inf in the gradient of input {i} "
                        f"(shape {td.shape}); the {node.op} was created at "
                        f"{node.created_at or 'an unknown place'}"
                    )
                if tape is not None:
                    tape.edges[(node, i)] = gd
                    if parent is not None:
                        tape._add(parent, gd)
                if parent is None:
                    _accumulate_leaf(leaf_grads, t, g, tape)
                    continue
                previous = pending.get(parent)
                # A new array, never `+=`: one upstream array may have gone to two inputs.
                pending[parent] = g if previous is None else previous + g
                left = counts[parent] - 1
                counts[parent] = left
                if left == 0:
                    ready.append(parent)
    if not retain_graph:
        for node in visited:
            _release(node)
    for leaf, g in leaf_grads.items():
        results.setdefault(leaf, g)
    return results


def _release_edge(parent: Function, counts: dict[Function, int], ready: list[Function]) -> None:
    left = counts[parent] - 1
    counts[parent] = left
    if left == 0:
        ready.append(parent)


def _accumulate_leaf(
    leaf_grads: dict[Any, Tensor], t: Tensor, g: Tensor, tape: GradientTape | None
) -> None:
    if tape is not None:
        tape._add(t, g.data)
    previous = leaf_grads.get(t)
    leaf_grads[t] = g if previous is None else previous + g


def _set_retained_grad(t: Tensor, g: Tensor, create_graph: bool) -> None:
    g = g if create_graph else g.detach()
    t.grad = g if t.grad is None else t.grad + g


def _raise_modified(node: Function, what: str) -> None:
    if what == "input":
        changed = [i for i, t in enumerate(node.inputs) if seen_version(t)]
        raise RuntimeError(
            f"backward: an input of {node.op} (output shape {node.shape}) was modified in place "
            f"after {node.op} saved it for backward (inputs {changed} have in-place changes); "
            "clone() it before changing it, or change it after backward()"
        )
    raise RuntimeError(
        f"backward: the output of {node.op} (shape {node.shape}) was modified in place "
        "after it was saved for backward; clone() it before changing it"
    )


def _release(node: Function) -> None:
    """Free what the node saved; keep the structure (op, shapes, parents) for drawing.

    Intermediate inputs are replaced by their producing nodes, so their arrays can go once
    the caller drops them; leaves stay (they belong to the caller anyway).
    """
    node.inputs = tuple(t if t._ctx is None else _Released(t) for t in node.inputs)
    node.released = True
    node.saved = None


class _Released:
    """What a freed graph keeps of an intermediate tensor: its node (which knows the shape
    and dtype) and its name."""

    __slots__ = ("_ctx", "name")
    requires_grad = True
    _version = 0
    _retains_grad = False
    _base = None

    def __init__(self, t: Tensor) -> None:
        self._ctx = t._ctx
        self.name = t.name

    @property
    def shape(self) -> tuple[int, ...]:
        return self._ctx.shape  # type: ignore[union-attr]

    @property
    def dtype(self) -> np.dtype:
        return self._ctx.dtype  # type: ignore[union-attr]

    @property
    def data(self) -> np.ndarray:
        raise RuntimeError(
            f"backward: this graph (through a tensor of shape {self.shape}) was already "
            "freed by an earlier backward(); pass retain_graph=True to keep it"
        )


# ----------------------------------------------------------------------------- public API


def _as_tensor_list(x: Any) -> list[Tensor]:
    from tinygrad_edu.tensor import Tensor

    if isinstance(x, Tensor):
        return [x]
    return list(x)


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate d(tensors)/d(leaves) into the leaves' `.grad` (as `torch.autograd.backward`)."""
    outputs = _as_tensor_list(tensors)
    seeds = _seed_gradients(outputs, grad_tensors, "backward")
    keep = create_graph if retain_graph is None else retain_graph
    only = _as_tensor_list(inputs) if inputs is not None else None
    results = run_backward(outputs, seeds, retain_graph=keep, create_graph=create_graph,
                           inputs=only)
    targets = only if only is not None else [t for t in results if t._ctx is None]
    handed_out: set[int] = set()
    for t in targets:
        g = results.get(t)
        if g is None or not t.requires_grad:
            continue
        if t._ctx is not None and not t._retains_grad:
            continue
        g = g if create_graph else g.detach()
        if t.grad is not None:
            t.grad = t.grad + g
            continue
        # Each leaf owns its .grad: `a + b` hands both the same array, and a view may share
        # memory with another gradient, so an in-place change to one must not reach another.
        arr = g.data
        if id(arr) in handed_out or arr.base is not None or not arr.flags.writeable:
            g = g.clone() if create_graph else _tensor_types.new(arr.copy())
        handed_out.add(id(g.data))
        t.grad = g


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) without touching `.grad` (as `torch.autograd.grad`)."""
    from tinygrad_edu.tensor import Tensor

    outs = _as_tensor_list(outputs)
    ins = _as_tensor_list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) does not require grad; "
                "create it with requires_grad=True"
            )
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad: output {i} (shape {o.shape}) does not require grad: it does not "
                "depend on any tensor that requires grad (was it computed under no_grad()?)"
            )
    seeds = _seed_gradients(outs, grad_outputs, "grad")
    keep = create_graph if retain_graph is None else retain_graph
    results = run_backward(outs, seeds, retain_graph=keep, create_graph=create_graph, inputs=ins,
                           fill_retained=False)
    answer: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = results.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            answer.append(None)
            continue
        answer.append(g if create_graph else g.detach())
    return tuple(answer)


def _seed_gradients(outputs: list[Tensor], grad_outputs: Any, op: str) -> list[Tensor]:
    from tinygrad_edu.tensor import Tensor, as_tensor

    if grad_outputs is None:
        seeds_in: list[Any] = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor | np.ndarray):
        seeds_in = [grad_outputs]
    else:
        seeds_in = list(grad_outputs)
    if len(seeds_in) != len(outputs):
        raise ValueError(f"{op}: got {len(seeds_in)} gradients for {len(outputs)} outputs")
    seeds: list[Tensor] = []
    for out, g in zip(outputs, seeds_in):
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{op}: output has shape {out.shape}; a gradient can only be created "
                    "implicitly for a scalar output. Pass gradient= (a tensor of that shape)"
                )
            seeds.append(Tensor._wrap(np.ones(out.data.shape, dtype=out.data.dtype)))
            continue
        g = g if isinstance(g, Tensor) else as_tensor(np.asarray(g, dtype=out.data.dtype))
        if g.shape != out.shape:
            raise RuntimeError(
                f"{op}: gradient has shape {g.shape} but the output has shape {out.shape}"
            )
        if g.dtype != out.dtype:
            g = g.to(out.dtype)
        seeds.append(g)
    return seeds
