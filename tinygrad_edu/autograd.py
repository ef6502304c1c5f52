"""The public autograd API, as `torch.autograd` has it: `backward` and `grad`, with
`Function` (a graph node, `function.py`) and the modes (`modes.py`) re-exported.

`backward` and `grad` seed each output with its gradient (ones for a scalar), run the
engine (`engine.backpropagate`, with the per-node steps of `engine_steps.Step`), free the
graph unless asked to keep it, and hand the leaves' gradients to `.grad` (or return them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._hooks import forget_hooks
from tinygrad_edu.engine import backpropagate, release
from tinygrad_edu.engine_steps import Step
from tinygrad_edu.function import Function, Overwritten, Released, seen_version  # noqa: F401
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
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    module_scope,
    no_grad,
    record_gradients,
    set_default_dtype,
    set_grad_enabled,
)

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


# ----------------------------------------------------------------------------- public API


def mark_modified(*tensors: Tensor) -> None:
    """Tell autograd that these tensors' arrays were changed in place outside the graph
    (an optimizer's step, `Module.to`): a graph that saved one of them raises at backward
    instead of using the new values."""
    for t in tensors:
        t._bump_version()


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
    only = _as_tensor_list(inputs) if inputs is not None else None
    step = Step(create_graph=create_graph, requested=only or ())
    keep = create_graph if retain_graph is None else retain_graph
    results = _run(outputs, seeds, step, keep)
    targets = only if only is not None else [t for t in results if t._ctx is None]
    handed_out: set[int] = set()
    for t in targets:
        g = results.get(t)
        if g is None or not t.requires_grad or (t._ctx is not None and not t._retains_grad):
            continue
        if t._ctx is None:  # a leaf's hooks see its complete gradient (an intermediate's ran
            g = step.hooked(t, g)  # in the engine, before its node's backward)
        g = g if create_graph else g.detach()
        if t.grad is not None:
            t.grad = t.grad + g
            continue
        # Each leaf owns its .grad: `a + b` hands both the same array, and a view may share
        # memory with another gradient, so an in-place change to one must not reach another
        # (unless the gradient is private: kernels.py).
        arr = g.array
        if id(arr) in handed_out or not arr.flags.writeable or (
                arr.base is not None and results[t] not in step.private):
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
    outs = _as_tensor_list(outputs)
    ins = _as_tensor_list(inputs)
    _check_grad_arguments(outs, ins)
    seeds = _seed_gradients(outs, grad_outputs, "grad")
    keep = create_graph if retain_graph is None else retain_graph
    step = Step(create_graph=create_graph, requested=ins, fill_retained=False)
    results = _run(outs, seeds, step, keep)
    answer: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = results.get(t)
        if g is not None and t._ctx is None:  # a leaf's hooks (an intermediate's already ran)
            g = step.hooked(t, g)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        answer.append(g if g is None or create_graph else g.detach())
    return tuple(answer)


def _run(outputs: list[Tensor], seeds: list[Tensor], step: Step, retain_graph: bool
         ) -> dict[Any, Tensor]:
    """Backpropagate from the outputs; the gradients of the leaves reached and of the
    requested inputs, by tensor."""
    tape = _state.tape
    roots: dict[Function, Tensor] = {}
    leaves: dict[Any, Tensor] = {}
    for out, g in zip(outputs, seeds):
        if out._base is not None and out._ctx is not None:
            _tensor_types.refresh_view(out)
        if tape is not None:
            tape._add(out if out._ctx is None else out._ctx, g.array)
        if out._ctx is None:  # the output is a leaf itself
            leaves[out] = leaves[out] + g if out in leaves else g
        else:
            roots[out._ctx] = roots[out._ctx] + g if out._ctx in roots else g
    with _GradMode(step.create_graph):
        results = backpropagate(roots, step)
    for leaf, g in leaves.items():
        results[leaf] = results[leaf] + g if leaf in results else g
    if not retain_graph:
        release(step.visited)
        forget_hooks(step.visited)
    return {**results, **step.found}


def _as_tensor_list(x: Any) -> list[Tensor]:
    if isinstance(x, _tensor_types.Tensor):
        return [x]
    return list(x)


def _check_grad_arguments(outs: list[Tensor], ins: list[Tensor]) -> None:
    for i, t in enumerate(ins):
        if not isinstance(t, _tensor_types.Tensor):
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


def _seed_gradients(outputs: list[Tensor], grad_outputs: Any, op: str) -> list[Tensor]:
    """The gradient each output starts with: ones for a scalar, else the one given."""
    if grad_outputs is None:
        seeds_in: list[Any] = [None] * len(outputs)
    elif isinstance(grad_outputs, _tensor_types.Tensor | np.ndarray):
        seeds_in = [grad_outputs]
    else:
        seeds_in = list(grad_outputs)
    if len(seeds_in) != len(outputs):
        raise ValueError(f"{op}: got {len(seeds_in)} gradients for {len(outputs)} outputs")
    return [_seed(out, g, op) for out, g in zip(outputs, seeds_in)]


def _seed(out: Tensor, g: Any, op: str) -> Tensor:
    if g is None:
        if out.array.size != 1:
            raise RuntimeError(
                f"{op}: output has shape {out.shape}; a gradient can only be created "
                "implicitly for a scalar output. Pass gradient= (a tensor of that shape)"
            )
        return _tensor_types.new(np.ones(out.array.shape, dtype=out.array.dtype))
    types = _tensor_types
    g = g if isinstance(g, types.Tensor) else types.as_tensor(np.asarray(g, dtype=out.array.dtype))
    if g.shape != out.shape:
        raise RuntimeError(f"{op}: gradient has shape {g.shape} but the output has shape "
                           f"{out.shape}")
    return g if g.dtype == out.dtype else g.to(out.dtype)
