"""Graph nodes (`Function`) and the public autograd API: `backward`, `grad`, the modes.

One `Function` instance is one node of the graph: it keeps its inputs strongly, its output
weakly (so a dropped graph is collected by reference counting, not the cyclic GC), the
shape/dtype of its output and the module path it was created under. The engine that walks
the graph is in `engine.py`, the modes in `modes.py`; both are re-exported here, as
`torch.autograd` has them.
"""

from __future__ import annotations

import traceback
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.engine import (  # noqa: F401  (re-exported)
    _call_torch_backward,
    _Released,
    run_backward,
    seen_version,
)
from tinygrad_edu.modes import (  # noqa: F401  (re-exported)
    GradientTape,
    _GradMode,
    _SetGradEnabled,
    _state,
    _tensor_types,
    default_dtype,
    detect_anomaly,
    enable_grad,
    get_default_dtype,
    is_grad_enabled,
    module_scope,
    no_grad,
    record_gradients,
    set_default_dtype,
    set_grad_enabled,
)

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


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
        "inputs", "parents", "needs_input_grad", "_out", "shape", "dtype", "module_path",
        "version_sum", "released", "created_at", "saved", "output_version", "__weakref__",
    )
    #: backward reads the values of the inputs / of the output (for the in-place check)
    reads_inputs = True
    reads_output = False
    #: the output views the first input's memory (shares its in-place versions)
    is_view = False
    #: an unrecorded backward returns, for each input, an array nothing else references
    #: (or the gradient it received, when that was its own: `_state.grad_owned`); the
    #: engine then lets the producer of that input reuse it in place
    fresh_grads = False
    _torch_style = False

    inputs: tuple[Any, ...]
    #: the node that produced each input when this node was made (None for a leaf): the
    #: edges of the graph, fixed at creation, so an in-place op that later gives an input
    #: a new producer does not re-route this node's gradient
    parents: tuple[Function | None, ...]
    needs_input_grad: tuple[bool, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    module_path: str
    version_sum: int
    released: bool
    created_at: str | None
    saved: Any
    output_version: int
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
            if t0._base is not None and t0._ctx is not None:  # a view: is its node current?
                types.refresh_view(t0)
            data = fn.forward(t0.array, **attrs)
            track = t0.requires_grad and _state.grad_enabled
        elif n == 2:
            t0, t1 = tensors
            if t0._base is not None and t0._ctx is not None:
                types.refresh_view(t0)
            if t1._base is not None and t1._ctx is not None:
                types.refresh_view(t1)
            data = fn.forward(t0.array, t1.array, **attrs)
            track = (t0.requires_grad or t1.requires_grad) and _state.grad_enabled
        else:
            for t in tensors:
                if t._base is not None and t._ctx is not None:
                    types.refresh_view(t)
            data = fn.forward(*[t.array for t in tensors], **attrs)
            track = _state.grad_enabled and any([t.requires_grad for t in tensors])
        out = types.new(data if type(data) is np.ndarray else np.asarray(data))
        if cls.is_view and data.base is not None:  # a copy (advanced indexing) is no view
            out._base = tensors[0]
        if track:
            if n == 1:
                fn.needs_input_grad = (True,)
                fn.version_sum = t0._version if t0._base is None else seen_version(t0)
                fn.parents = (t0._ctx,)
            elif n == 2:
                fn.needs_input_grad = (t0.requires_grad, t1.requires_grad)
                fn.version_sum = (
                    (t0._version if t0._base is None else seen_version(t0))
                    + (t1._version if t1._base is None else seen_version(t1)))
                fn.parents = (t0._ctx, t1._ctx)
            else:
                fn.needs_input_grad = tuple([t.requires_grad for t in tensors])
                fn.version_sum = sum([seen_version(t) for t in tensors])
                fn.parents = tuple([t._ctx for t in tensors])
            # `_link`, inline: this is the hottest path of the library
            fn.inputs = tensors
            fn._out = weakref.ref(out)
            fn.output_version = 0
            fn.shape = out.array.shape
            fn.dtype = out.array.dtype
            fn.module_path = _state.module_path
            fn.released = False
            fn.created_at = _creation_site() if _state.anomaly else None
            out.requires_grad = True
            out._ctx = fn
        return out

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
        op = getattr(cls, "inplace_name", cls.__name__)
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
        if not track:
            return t
        _link(fn, (_Overwritten(t, op),), (True,), 0, t)
        return t

    def __repr__(self) -> str:
        return f"<{self.op} {getattr(self, 'shape', '?')} at {self.module_path or 'top'}>"


def _creation_site() -> str:
    frames = traceback.extract_stack()[:-3]
    user = [f for f in frames if "tinygrad_edu" not in f.filename] or frames
    f = user[-1]
    return f"{f.filename}:{f.lineno} in {f.name}"


class _Overwritten(_Released):
    """The old value of a tensor changed by an in-place op: its producer, shape and dtype."""

    __slots__ = ("op",)

    def __init__(self, t: Tensor, op: str) -> None:
        super().__init__(t)
        self.op = op

    @property
    def array(self) -> np.ndarray:
        raise RuntimeError(f"{self.op}: this value (shape {self.shape}) was overwritten in "
                           f"place by {self.op}(); use the out-of-place op to keep it")


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
    out = Tensor._wrap(out.array)
    needs = tuple(t.requires_grad for t in tensor_inputs)
    if _state.grad_enabled and any(needs):
        _link(fn, tuple(tensor_inputs), needs,
              sum(seen_version(t) for t in tensor_inputs), out)
    return out


def _link(fn: Function, inputs: tuple[Any, ...], needs: tuple[bool, ...], version_sum: int,
          out: Tensor) -> None:
    """Make `fn` the node that produced `out` (`Function.apply` spells this out inline:
    it is the hottest path of the library)."""
    fn.inputs = inputs
    fn.parents = tuple([t._ctx for t in inputs])
    fn.needs_input_grad = needs
    fn.version_sum = version_sum
    fn._out = weakref.ref(out)
    fn.output_version = out._version
    fn.shape, fn.dtype = out.array.shape, out.array.dtype
    fn.module_path = _state.module_path
    fn.released = False
    fn.created_at = _creation_site() if _state.anomaly else None
    out.requires_grad = True
    out._ctx = fn


# ----------------------------------------------------------------------------- public API


def mark_modified(*tensors: Tensor) -> None:
    """Tell autograd that these tensors' arrays were changed in place outside the graph
    (an optimizer's step, `Module.to`): a graph that saved one of them raises at backward
    instead of using the new values."""
    for t in tensors:
        t._bump_version()


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
    for t in outputs:
        if t._base is not None and t._ctx is not None:
            _tensor_types.refresh_view(t)
    seeds = _seed_gradients(outputs, grad_tensors, "backward")
    keep = create_graph if retain_graph is None else retain_graph
    only = _as_tensor_list(inputs) if inputs is not None else None
    exclusive: dict[Any, np.ndarray] = {}
    results = run_backward(outputs, seeds, retain_graph=keep, create_graph=create_graph,
                           inputs=only, exclusive=exclusive)
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
        # memory with another gradient, so an in-place change to one must not reach another
        # (unless the engine knows nothing else holds it: `exclusive`).
        arr = g.array
        if id(arr) in handed_out or not arr.flags.writeable or (
                arr.base is not None and exclusive.get(t) is not arr):
            g = g.clone() if create_graph else _tensor_types.new(arr.copy())
        handed_out.add(id(g.array))
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
            if out.array.size != 1:
                raise RuntimeError(
                    f"{op}: output has shape {out.shape}; a gradient can only be created "
                    "implicitly for a scalar output. Pass gradient= (a tensor of that shape)"
                )
            seeds.append(Tensor._wrap(np.ones(out.array.shape, dtype=out.array.dtype)))
            continue
        g = g if isinstance(g, Tensor) else as_tensor(np.asarray(g, dtype=out.array.dtype))
        if g.shape != out.shape:
            raise RuntimeError(
                f"{op}: gradient has shape {g.shape} but the output has shape {out.shape}"
            )
        if g.dtype != out.dtype:
            g = g.to(out.dtype)
        seeds.append(g)
    return seeds
