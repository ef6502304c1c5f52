"""numpy's three protocols for Tensor, so numpy-style layer code keeps its gradients.

- `__array__` follows numpy 2's contract the way PyTorch's tensors do: `np.array(t)` (and
  `copy=True`) returns a new array, `np.asarray(t)` the tensor's own memory, `copy=False`
  raises ValueError when a dtype change needs a copy.
- `__array_ufunc__`: `np.exp(t)`, `ndarray * t`, `np.maximum(0, x @ W)` call the Tensor
  method of the same maths, so the result is a Tensor in the graph. `np.add.reduce` and
  friends are the matching reductions. Other ufunc methods, `out=` and ufuncs without a
  Tensor counterpart raise TypeError.
- `__array_function__`: `np.sum(t, axis=1)`, `np.concatenate([t, u])`, `np.var(t)` (numpy's
  ddof=0) ... go to the handlers in `_numpy_functions.py`, Tensor code with numpy's
  argument names and semantics. Functions whose answer cannot carry a gradient (shapes,
  comparisons, indices) are computed by numpy on the values (`_GRADIENT_FREE`, `_INSPECT`).
  Anything else raises TypeError naming the function. Never a silent detach.

Results that are arrays are Tensors (gradient-free ones as constants, as Tensor's own
`argmax` or `<` are); answers that are not arrays (a bool, a shape, a dtype) are numpy's.
Dtypes follow the Tensor's rules (PyTorch's: a Python scalar takes the tensor's dtype), as
`ndarray * t` always has.

Import order: tensor <- functional <- _numpy_functions <- this module. tensor.py cannot
import a module built on functional.py, so it holds a slot (`tensor._numpy`) that this
module fills at import; the package `__init__` imports this module first, so the slot is
filled before anyone calls numpy on a Tensor.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from tinygrad_edu import (  # noqa: F401  (each registers its handlers)
    _numpy_elementwise,
    _numpy_shapes,
    _numpy_shapes_more,
)
from tinygrad_edu._numpy_functions import _FUNCTIONS, _LEAVE, _unsupported, _values
from tinygrad_edu.tensor import Tensor, _numpy, as_tensor


def _public_name(func: Any) -> str:
    """`np.linalg.svd` for numpy.linalg.svd (the way users spell it)."""
    module = getattr(func, "__module__", None) or "numpy"
    prefix = "np" + module[len("numpy"):] if module.startswith("numpy") else module
    return f"{prefix}.{getattr(func, '__name__', repr(func))}"


def _out_error(name: str) -> TypeError:
    return TypeError(
        f"{name} with out= on a Tensor (also `ndarray += t` and friends): Tensors do not "
        "support out= (numpy would write a Tensor's values into an array, dropping its "
        f"gradient); use the returned Tensor (`y = {name}(...)`), or {_LEAVE}")


# ----------------------------------------------------------------------------- __array__


def to_array(t: Tensor, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
    """`Tensor.__array__`: numpy 2's contract. copy=True (what `np.array(t)` passes): a new
    array, never the live one (a snapshot must not follow later in-place updates); copy=None
    (`np.asarray`): the tensor's memory when the dtype matches; copy=False: the same, or
    ValueError when a dtype change needs a copy."""
    arr = t.array
    if dtype is not None and np.dtype(dtype) != arr.dtype:
        if copy is False:
            raise ValueError(f"__array__: a {arr.dtype} Tensor of shape {t.shape} cannot become "
                             f"{np.dtype(dtype)} without a copy, and copy=False forbids one; "
                             "use np.asarray(t, dtype) to allow it")
        return arr.astype(dtype)
    return arr.copy() if copy else arr


# ----------------------------------------------------------------------------- ufuncs

# ufunc -> the Tensor method that computes it, and the reflected one for a Tensor on the
# right (`ndarray * t` is `t.__rmul__(ndarray)`, exactly the path it took before numpy
# dispatched ndarray operators here).
_BINARY: dict[Any, tuple[str, str]] = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.floor_divide: ("__floordiv__", "__rfloordiv__"), np.remainder: ("__mod__", "__rmod__"),
    np.maximum: ("maximum", "maximum"), np.minimum: ("minimum", "minimum"),
    np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
    np.logical_and: ("logical_and", "logical_and"), np.logical_or: ("logical_or", "logical_or"),
    np.logical_xor: ("logical_xor", "logical_xor"),
    np.bitwise_and: ("__and__", "__rand__"), np.bitwise_or: ("__or__", "__ror__"),
    np.bitwise_xor: ("__xor__", "__rxor__"),
    np.arctan2: ("_numpy_atan2", "_numpy_ratan2"), np.hypot: ("_numpy_hypot", "_numpy_rhypot"),
}
_UNARY: dict[Any, str] = {
    np.negative: "__neg__", np.positive: "__pos__", np.exp: "exp", np.log: "log",
    np.log1p: "log1p", np.sqrt: "sqrt", np.square: "square", np.absolute: "abs",
    np.sign: "sign", np.tanh: "tanh", np.reciprocal: "reciprocal", np.isnan: "isnan",
    np.isfinite: "isfinite", np.logical_not: "logical_not", np.invert: "bitwise_not",
    np.sin: "sin", np.cos: "cos", np.tan: "tan", np.floor: "floor", np.ceil: "ceil",
    np.trunc: "trunc", np.rint: "round", np.exp2: "exp2", np.log2: "log2", np.log10: "log10",
    np.expm1: "expm1",
}
# Bool or integer results: no gradient can pass, so numpy computes them on the values and
# the answer is a constant Tensor (as the Tensor's own comparisons are).
_GRADIENT_FREE_UFUNCS = frozenset({
    np.isinf, np.signbit, np.left_shift, np.right_shift,
})
_KNOWN_OPERANDS = (Tensor, np.ndarray, int, float, bool, np.generic, list, tuple)

# How to stay differentiable, for the numpy functions users reach for most.
_WAYS = {
    "np.logaddexp": "tinygrad_edu.stack([a, b]).logsumexp(0)",
    "np.float_power": "t.double() ** p",
    "np.fmax": "t.maximum(u)",
    "np.fmin": "t.minimum(u)",
    "np.cbrt": "t.sign() * t.abs() ** (1 / 3)",
    "np.sinh": "(t.exp() - (-t).exp()) / 2",
    "np.cosh": "(t.exp() + (-t).exp()) / 2",
    "np.diff": "t[1:] - t[:-1]",
    "np.tile": "t.repeat(*reps)",
    "np.repeat": "t[np.repeat(np.arange(len(t)), k)]",
    "np.average": "(t * w).sum(axis) / w.sum(axis)",
    "np.add.accumulate": "np.cumsum(t, axis)",
    "np.multiply.outer": "np.outer(a, b)",
}
_REASONS = {f"np.linalg.{f}": "it is not differentiable here" for f in (
    "svd", "eig", "eigh", "eigvals", "eigvalsh", "qr", "pinv", "lstsq", "matrix_rank",
    "matrix_power")}


def _missing(name: str) -> TypeError:
    way = _WAYS.get(name)
    if way is not None:
        return TypeError(f"{name} on a Tensor: there is no Tensor counterpart; write {way} to "
                         f"stay differentiable, or {_LEAVE}")
    reason = _REASONS.get(name, "tinygrad_edu has no differentiable counterpart")
    return TypeError(f"{name} on a Tensor: {reason}; {_LEAVE}")


def _call_unary(method: str, x: Any) -> Any:
    return getattr(x, method)()


def _call_binary(methods: tuple[str, str], x: Any, y: Any) -> Any:
    """x.method(y), or y.reflected(x) when only y is a Tensor; NotImplemented for an
    operand of another library (its own __array_ufunc__ may know what to do)."""
    if isinstance(x, Tensor):
        return getattr(x, methods[0])(y) if isinstance(y, _KNOWN_OPERANDS) else NotImplemented
    if not isinstance(x, _KNOWN_OPERANDS):
        return NotImplemented
    return getattr(y, methods[1])(x)


def array_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]
                ) -> Any:
    """`Tensor.__array_ufunc__`. The common case (`ndarray * t`, `np.exp(t)`) is one dict
    lookup and the Tensor method; `_ufunc_special` handles keywords, reductions, errors."""
    if method == "__call__" and not kwargs:
        if len(inputs) == 2:
            methods = _BINARY.get(ufunc)
            if methods is not None:
                return _call_binary(methods, inputs[0], inputs[1])
        else:
            name = _UNARY.get(ufunc)
            if name is not None:
                return _call_unary(name, inputs[0])
    return _ufunc_special(ufunc, method, inputs, dict(kwargs))


def _ufunc_special(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]
                   ) -> Any:
    name = f"np.{ufunc.__name__}"
    if kwargs.get("out") is not None:  # numpy has already made it a tuple
        raise _out_error(name)
    kwargs.pop("out", None)
    if method == "reduce":
        return _ufunc_reduce(ufunc, inputs[0], kwargs)
    if method != "__call__":
        raise _missing(f"{name}.{method}")
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise _unsupported(name, f"the argument {sorted(kwargs)[0]}=")
    if ufunc in _GRADIENT_FREE_UFUNCS:
        return Tensor._wrap(np.asarray(ufunc(*_values(inputs), dtype=dtype)))
    if ufunc not in _BINARY and ufunc not in _UNARY:
        raise _missing(name)
    if dtype is not None:  # numpy's dtype= is the dtype the loop computes in
        inputs = tuple(_cast(x, dtype) for x in inputs)
    if len(inputs) == 2:
        return _call_binary(_BINARY[ufunc], inputs[0], inputs[1])
    return _call_unary(_UNARY[ufunc], inputs[0])


def _cast(x: Any, dtype: Any) -> Any:
    if isinstance(x, Tensor):
        return x.to(dtype)
    return np.asarray(x, dtype=dtype) if isinstance(x, np.ndarray | list | tuple) else x


# np.add.reduce(t, axis) is np.sum(t, axis) with numpy's default axis=0, and so on.
_REDUCTIONS: dict[Any, Any] = {
    np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min,
    np.logical_and: np.all, np.logical_or: np.any,
}


def _ufunc_reduce(ufunc: Any, x: Any, kwargs: dict[str, Any]) -> Any:
    name = f"np.{ufunc.__name__}.reduce"
    function = _REDUCTIONS.get(ufunc)
    if function is None:
        raise _missing(name)
    axis = kwargs.pop("axis", 0)
    keepdims = bool(kwargs.pop("keepdims", False))
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise _unsupported(name, f"the argument {sorted(kwargs)[0]}=")
    t = as_tensor(x) if dtype is None else as_tensor(x).to(dtype)
    return array_function(function, (Tensor,), (t,), {"axis": axis, "keepdims": keepdims})


# ----------------------------------------------------------------------------- functions

_SIGNATURES: dict[Any, inspect.Signature] = {}
# func -> (keyword names it takes or None for **kwargs, index of a positional `out`, most
# positional arguments): enough to see that a call is fine without binding it (binding costs
# more than most handlers).
_PLANS: dict[Any, tuple[frozenset[str] | None, int, float]] = {}


def _plan(func: Any) -> tuple[frozenset[str] | None, int, float]:
    params = list(inspect.signature(func).parameters.values())
    kinds = inspect.Parameter
    positional = [p.name for p in params
                  if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    names = None if any(p.kind is kinds.VAR_KEYWORD for p in params) else frozenset(
        p.name for p in params if p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY))
    most = float("inf") if any(p.kind is kinds.VAR_POSITIONAL for p in params) else len(
        positional)
    plan = _PLANS[func] = (names, positional.index("out") if "out" in positional else 1 << 30,
                           most)
    return plan


def _check_call(numpy_func: Any, callee: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                ) -> None:
    """Refuse out= and arguments callee does not take; a call that might be either is bound
    to callee's signature (`_bind`), which names the problem and numpy_func."""
    names, out_at, most = _PLANS.get(callee) or _plan(callee)
    if (len(args) > most or (names is not None and not names.issuperset(kwargs))
            or kwargs.get("out") is not None or (out_at < len(args) and args[out_at] is not None)):
        _bind(_public_name(numpy_func), callee, args, kwargs)


def _bind(name: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
          ) -> inspect.BoundArguments:
    """args bound to func's signature: an argument numpy has but we do not support is named
    in the error, and out= is refused whatever its position."""
    sig = _SIGNATURES.get(func)
    if sig is None:
        sig = _SIGNATURES[func] = inspect.signature(func)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:  # e.g. "got an unexpected keyword argument 'initial'"
        raise _unsupported(name, f"this call ({e})") from None
    if bound.arguments.get("out") is not None:
        raise _out_error(name)
    return bound


def array_function(func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                   ) -> Any:
    """`Tensor.__array_function__`: a Tensor for functions in `_FUNCTIONS`, numpy's answer on
    the values for `_GRADIENT_FREE` (wrapped as constant Tensors) and `_INSPECT`; anything
    else is a TypeError naming the function (never a silent detach)."""
    if not all(issubclass(t, Tensor | np.ndarray) for t in types):
        return NotImplemented  # another library's array: let it have a go
    handler = _FUNCTIONS.get(func)
    if handler is not None:
        _check_call(func, handler, args, kwargs)
        return handler(*args, **kwargs)
    if func in _GRADIENT_FREE or func in _INSPECT:
        _check_call(func, func, args, kwargs)
        try:
            result = func(*_values(args), **_values(kwargs))
        except (ValueError, IndexError) as e:  # numpy's text: name the call and the shapes
            raise _named_error(_public_name(func), e, args) from None
        return _constant(_public_name(func), result) if func in _GRADIENT_FREE else result
    raise _missing(_public_name(func))


def _named_error(name: str, e: Exception, args: tuple[Any, ...]) -> Exception:
    """numpy's error e from `name`, restated with the full shape of every array argument (as
    Python prints a tuple), in e's own class."""
    shapes = ", ".join(str(a.shape) for a in args if isinstance(a, Tensor | np.ndarray))
    msg = f"{name}: {e} (operands of shapes {shapes})" if shapes else f"{name}: {e}"
    try:
        return type(e)(msg)
    except Exception:  # an exception class that cannot be built from one message
        return e


def _constant(name: str, result: Any) -> Any:
    """A gradient-free numpy answer as constant Tensors (a tuple of them for `nonzero`)."""
    if isinstance(result, tuple | list):
        return type(result)(_constant(name, r) for r in result)
    arr = np.asarray(result)
    if arr.dtype.kind not in "biu":  # these answers are bools, counts, indices
        raise AssertionError(f"{name}: expected a gradient-free answer, got {arr.dtype}")
    return Tensor._wrap(arr.astype(np.int64) if arr.dtype.kind in "iu" else arr)


# The answer holds no gradient (bools, counts, indices): numpy on the values, a constant Tensor.
_GRADIENT_FREE = frozenset({
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.searchsorted, np.all, np.any, np.isclose, np.isin, np.isneginf,
    np.isposinf,
})
# Not arrays at all (a bool, a shape, a dtype, a file written): numpy's answer as it is.
_INSPECT = frozenset({
    np.shape, np.ndim, np.size, np.allclose, np.array_equal, np.array_equiv, np.result_type,
    np.may_share_memory, np.shares_memory, np.iscomplexobj, np.isrealobj, np.save, np.savez,
    np.savez_compressed, np.savetxt, np.array2string, np.array_repr, np.array_str,
})


# ----------------------------------------------------------------------------- install

_numpy.to_array = to_array
_numpy.array_ufunc = array_ufunc
_numpy.array_function = array_function
