"""state_dict / load_state_dict / save / load for `Module` (the methods there call these):
PyTorch's keys, every mismatch listed before anything changes, `.npz` archives read
without unpickling, `.safetensors` files (by their suffix) for PyTorch and other tools."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.files import load_npz
from tinygrad_edu.safetensors_io import is_safetensors_path, load_file, save_file
from tinygrad_edu.tensor import Tensor

if TYPE_CHECKING:
    from tinygrad_edu.nn.module import Module


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` returns (as PyTorch's `_IncompatibleKeys`)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _array(value: Any) -> np.ndarray:
    return value.array if isinstance(value, Tensor) else np.asarray(value)


def state_dict(module: Module, destination: dict[str, Any] | None, prefix: str,
               keep_vars: bool) -> dict[str, Tensor]:
    out: dict[str, Any] = {} if destination is None else destination
    # Every path to a module counts, as in PyTorch: a sub-module reachable under two
    # attribute names has its tensors listed under both (named_parameters lists them once).
    for module_name, sub in module.named_modules(prefix=prefix.rstrip("."),
                                                 remove_duplicate=False):
        head = f"{module_name}." if module_name else ""
        for name, p in sub._parameters.items():
            if p is not None:
                out[head + name] = p if keep_vars else p.detach()
        for name, b in sub._buffers.items():
            if b is not None and name not in sub._non_persistent:
                out[head + name] = b if keep_vars else b.detach()
    return out


def load_state_dict(module: Module, state: Any, strict: bool) -> IncompatibleKeys:
    if isinstance(state, str | os.PathLike):  # else each character would be a missing key
        raise TypeError(f"{type(module).__name__}.load_state_dict: expected a dict of "
                        f"tensors or arrays, got the path '{state}'; use "
                        f"{type(module).__name__}.load(path) to read a file")
    own = state_dict(module, None, "", keep_vars=True)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    problems = []
    for key, target in own.items():
        if key in state:
            shape = tuple(np.shape(_array(state[key])))
            if shape != target.shape:
                problems.append(f"  size mismatch for '{key}': the checkpoint has shape "
                                f"{shape}, the model has {target.shape}")
    if strict:
        problems += [f"  missing key '{k}' (the model expects shape {own[k].shape})"
                     for k in missing]
        problems += [f"  unexpected key '{k}' (shape {tuple(np.shape(_array(state[k])))})"
                     for k in unexpected]
    if problems:
        raise RuntimeError(f"load_state_dict: {len(problems)} problem(s) loading into "
                           f"{type(module).__name__}:\n" + "\n".join(problems))
    with no_grad():
        for key, target in own.items():
            if key in state:
                target.copy_(_array(state[key]))
    return IncompatibleKeys(missing, unexpected)


def save(module: Module, path: Any) -> None:
    arrays = {k: v.array for k, v in state_dict(module, None, "", False).items()}
    if is_safetensors_path(path):
        save_file(arrays, path, f"{type(module).__name__}.save")
    else:
        np.savez(path, **arrays)  # type: ignore[arg-type]


def load(module: Module, path: Any, strict: bool) -> None:
    op = f"{type(module).__name__}.load"
    if is_safetensors_path(path):
        state = load_file(path, op)
    else:
        state = load_npz(path, op, "a file written by Module.save, tinygrad_edu.save or "
                         "numpy.savez")
    load_state_dict(module, state, strict)
