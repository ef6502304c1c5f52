"""How a course layer function runs on the engine: `forward` records a small graph and hands
it to the caller as the `cache`; `backward(dout, cache)` runs `tinygrad_edu.grad` through it.

Ownership rules that make student code harmless:
- the forward copies its inputs into fresh leaf Tensors, so a caller who later changes `x` in
  place (a numeric gradient check does) does not change what the backward differentiates;
- the forward returns a copy of its output, and the backward seeds with a copy of `dout`, so
  student code that writes into either (a course ReLU backward writes into `dout`) cannot
  reach the graph;
- every gradient returned is an array nobody else holds.
The graph is kept (`retain_graph=True`): one cache can be back-propagated more than once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.creation import from_numpy
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.tensor import Tensor


class Cache:
    """What a course forward returns as its `cache`: the recorded graph and its inputs.

    Pass it unchanged to the matching `*_backward`. `cache.inputs` maps the forward's
    argument names to copies of the arrays it was given (iterating yields them in order, so
    `x, w, b = cache` works for `affine_forward` as in the courses); any other record (the
    dropout `mask`, batchnorm's `xhat`, ...) is an attribute.
    """

    __slots__ = ("op", "out", "leaves", "extras")

    def __init__(self, op: str, out: Tensor, leaves: dict[str, Tensor],
                 extras: dict[str, Any] | None = None) -> None:
        self.op = op
        self.out = out
        self.leaves = leaves
        self.extras = dict(extras or {})

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        """Read-only views of the inputs' copies (writing into them would change the graph)."""
        return {name: _read_only(t.array) for name, t in self.leaves.items()}

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.inputs.values())

    def __len__(self) -> int:
        return len(self.leaves)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        extras = object.__getattribute__(self, "extras")
        if name in extras:
            return extras[name]
        leaves = object.__getattribute__(self, "leaves")
        if name in leaves:
            return _read_only(leaves[name].array)
        raise AttributeError(f"{type(self).__name__} of {self.op} has no {name!r} (it holds "
                             f"{', '.join([*leaves, *extras]) or 'nothing'})")

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={t.shape}" for k, t in self.leaves.items())
        return f"Cache({self.op}: {shapes} -> out {self.out.shape})"


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def as_array(value: Any, op: str, name: str) -> np.ndarray:
    arr = np.asarray(value.array if isinstance(value, Tensor) else value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} must be a numeric array, got dtype {arr.dtype} with "
                        f"shape {arr.shape}")
    return arr


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The common dtype of the inputs; integer inputs compute in float64 (as numpy would)."""
    dt = np.result_type(*arrays)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def record(op: str, fn: Callable[..., Tensor], arrays: dict[str, Any],
           extras: dict[str, Any] | None = None, dtype: Any = None
           ) -> tuple[np.ndarray, Cache]:
    """Run `fn(**tensors)` on fresh leaf copies of `arrays` with grad mode on."""
    checked = {k: as_array(v, op, k) for k, v in arrays.items()}
    dt = np.dtype(dtype) if dtype is not None else float_dtype(*checked.values())
    leaves = {k: Tensor(np.array(v, dtype=dt, copy=True), requires_grad=True)
              for k, v in checked.items()}
    with autograd.enable_grad():
        out = fn(**leaves)
    return out.array.copy(), Cache(op, out, leaves, extras)


def backprop(op: str, forward: str, dout: Any, cache: Any) -> tuple[np.ndarray, ...]:
    """The gradients of `cache`'s output (seeded with dout) for each of its inputs, in order."""
    if not isinstance(cache, Cache):
        raise TypeError(f"{op}: cache must be the cache returned by {forward} in this "
                        f"module, got {type(cache).__name__}")
    if cache.op != forward:
        raise ValueError(f"{op}: this cache comes from {cache.op}, not from {forward}")
    d = as_array(dout, op, "dout")
    out = cache.out
    if d.shape != out.shape:
        raise ShapeError(f"{op}: dout has shape {d.shape} but {forward} returned an output "
                         f"of shape {out.shape}; they must be equal")
    leaves = list(cache.leaves.values())
    seed = np.array(d, dtype=out.dtype, copy=True)
    if out.grad_fn is None:  # the forward was the identity (dropout in test mode)
        return tuple(seed if t is out else np.zeros_like(t.array) for t in leaves)
    grads = autograd.grad(out, leaves, grad_outputs=from_numpy(seed), retain_graph=True,
                          allow_unused=True)
    return owned([t.array for t in leaves], grads)


def owned(like: list[np.ndarray], grads: tuple[Tensor | None, ...]) -> tuple[np.ndarray, ...]:
    """numpy gradients, zeros for unused inputs, each an array no other result shares."""
    result: list[np.ndarray] = []
    seen: set[int] = set()
    for x, g in zip(like, grads):
        if g is None:
            result.append(np.zeros_like(x))
            continue
        arr = g.array
        if id(arr) in seen or arr.base is not None or not arr.flags.writeable:
            arr = arr.copy()
        seen.add(id(arr))
        result.append(arr)
    return tuple(result)


def _fits(name: str, value: Any) -> bool:
    if name.endswith("_param"):
        return value is None or isinstance(value, dict)
    if name == "G":
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    return isinstance(value, np.ndarray)


def describe(value: Any) -> str:
    """A short account of what a caller passed, for error messages."""
    if isinstance(value, tuple | list):
        kinds = ", ".join(type(v).__name__ for v in value)
        return f"a {type(value).__name__} of {len(value)} ({kinds})"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return type(value).__name__


def course_args(op: str, forward: str, cache: Any, names: tuple[str, ...]) -> list[Any]:
    """The forward's arguments `names` from a cache the courses build by hand: a tuple whose
    first items are those arguments, in order (the courses' naive layers cache exactly their
    arguments; their fast layers append work arrays, which are not needed here). Arrays must
    be numpy arrays, `*_param` entries dicts, `G` an int."""
    if isinstance(cache, tuple | list) and len(cache) >= len(names):
        args = list(cache[: len(names)])
        if all(_fits(name, value) for name, value in zip(names, args)):
            return args
    raise TypeError(f"{op}: cache must be the cache returned by {forward} (ours) or the "
                    f"courses' tuple ({', '.join(names)}); got {describe(cache)}")


class ParamError(KeyError, ValueError):
    """A course parameter dict (conv_param, bn_param, ...) lacks a key or has a bad value."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


def param_dict(param: Any, op: str, name: str) -> dict[str, Any]:
    if param is None:
        return {}
    if not isinstance(param, dict):
        raise TypeError(f"{op}: {name} must be a dict, got {type(param).__name__}")
    return param


def require(param: dict[str, Any], keys: tuple[str, ...], op: str, name: str) -> list[Any]:
    missing = [k for k in keys if k not in param]
    if missing:
        raise ParamError(f"{op}: {name} is missing {', '.join(repr(k) for k in missing)} "
                       f"(needs {', '.join(keys)}; got {sorted(param)})")
    return [param[k] for k in keys]
