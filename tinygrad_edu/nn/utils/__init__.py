"""Gradient clipping and parameter/vector conversion, as `torch.nn.utils`.

Every function takes what PyTorch takes: a single Tensor or any iterable of them, usually the
generator `model.parameters()`. A generator can be walked only once, so each function turns
its argument into a list first and reads only that list.

Clipping replaces each `.grad` by a new scaled tensor instead of writing into the old
array: the engine may hand one gradient array to several leaves (x + y gives both the
same upstream gradient), and scaling it in place would scale it twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["clip_grad_norm_", "clip_grads_with_norm_", "clip_grad_value_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "functional_call"]
__all__ += ["rnn"]  # the package's submodules: nn.utils.rnn (pad_sequence, unpad_sequence)


def _tensors(parameters: Any) -> list[Tensor]:
    """A single Tensor or an iterable of Tensors (a generator is consumed here, once)."""
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """The norm of all tensors taken together as one vector (nan if any element is nan)."""
    arrays = [t.array for t in _tensors(tensors)]
    p = float(norm_type)
    if not arrays:
        return as_tensor(np.asarray(0.0))
    if math.isinf(p):
        # np.max, not Python's max: max(3.0, nan) is 3.0, which would hide a NaN.
        total = float(np.max([np.max(np.abs(a)) if a.size else 0.0 for a in arrays]))
    else:
        total = float(np.sum([np.sum(np.abs(a.astype(np.float64)) ** p) for a in arrays])
                      ** (1 / p))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"get_total_norm: the total norm of order {norm_type} is {total}, "
                           "non-finite; set error_if_nonfinite=False to get it anyway")
    return as_tensor(np.asarray(total, dtype=arrays[0].dtype))


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Any,
                          foreach: Any = None) -> None:
    """Scale every gradient by max_norm / (total_norm + 1e-6) when that is below 1 (or nan:
    a NaN norm makes every gradient NaN, as in PyTorch, rather than hiding in one)."""
    value = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = float(max_norm) / (value + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        for p in _tensors(parameters):
            if p.grad is not None:
                p.grad = as_tensor(p.grad.array * np.asarray(coef, dtype=p.grad.dtype))


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most `max_norm`
    (`get_total_norm` of the gradients, then `clip_grads_with_norm_`). Returns the total
    norm before clipping, as a 0-d tensor."""
    params = _tensors(parameters)  # walked twice below: a generator must become a list
    total = get_total_norm([p.grad for p in params if p.grad is not None], norm_type)
    value = float(total.array)
    if error_if_nonfinite and not math.isfinite(value):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {value}; set error_if_nonfinite=False to clip anyway")
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    c = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            p.grad = as_tensor(np.clip(p.grad.array, -c, c))


def parameters_to_vector(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (in the graph)."""
    from tinygrad_edu.functional import cat

    return cat([p.reshape(-1) for p in _tensors(parameters)])


def vector_to_parameters(vec: Tensor, parameters: Tensor | Iterable[Tensor]) -> None:
    """Copy consecutive slices of `vec` into the parameters (in place, no graph)."""
    from tinygrad_edu.autograd import no_grad

    start = 0
    params = _tensors(parameters)
    needed = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != needed:
        shapes = ", ".join(str(p.shape) for p in params)
        raise ShapeError(f"vector_to_parameters: vector has {vec.numel()} elements (shape "
                         f"{vec.shape}), the parameters need {needed} in a vector of shape "
                         f"({needed},) (parameter shapes: {shapes})")
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec.array[start:start + n].reshape(p.shape))
            start += n


def functional_call(module: Any, parameters_and_buffers: dict[str, Any], args: Any = (),
                    kwargs: dict[str, Any] | None = None, strict: bool = False) -> Any:
    """Call `module` with some parameters/buffers replaced by the given tensors (by dotted
    name), restoring the originals afterwards, as `torch.func.functional_call`. The tensors
    need not be Parameters, so gradients flow to them: `grad` of a loss with respect to a
    model's weights, or a gradient check of a layer."""
    args = args if isinstance(args, tuple) else (args,)
    own = dict(module.state_dict(keep_vars=True))
    unknown = [k for k in parameters_and_buffers if k not in own]
    missing = [k for k in own if k not in parameters_and_buffers] if strict else []
    if unknown or missing:
        raise KeyError(f"functional_call: unknown names {unknown}, missing names {missing} "
                       f"(the module has {list(own)})")
    saved = []
    try:
        for key, value in parameters_and_buffers.items():
            owner_name, _, attr = key.rpartition(".")
            owner = module.get_submodule(owner_name)
            registry = owner._parameters if attr in owner._parameters else owner._buffers
            saved.append((owner, registry, attr, registry[attr]))
            value = value if isinstance(value, Tensor) else Tensor(value)
            registry[attr] = value  # bypasses __setattr__'s Parameter check on purpose
            owner.__dict__[attr] = value
        return module(*args, **(kwargs or {}))
    finally:
        for owner, registry, attr, original in reversed(saved):
            registry[attr] = original
            owner.__dict__[attr] = original


from tinygrad_edu.nn.utils import rnn  # noqa: E402  (a submodule, as torch.nn.utils.rnn)
