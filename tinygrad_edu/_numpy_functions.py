"""numpy functions on Tensors: the handlers `Tensor.__array_function__` dispatches to (see
`_numpy_interop`), each with numpy's parameter names and semantics, built from Tensor ops so
the result is in the graph: `np.sum(t, axis=1)`, `np.var(t)` (numpy's ddof=0),
`np.concatenate([t, u])`, `np.tensordot(a, b, axes)` ...

`_FUNCTIONS` maps each numpy function to its handler. A handler keeps numpy's positional
order, so one that has `out` only holds its place: the dispatcher refuses any out= first.
Dtypes follow the Tensor's rules (PyTorch's), as `ndarray * t` always has.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_edu._maths import _operand
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import diag, einsum
from tinygrad_edu.tensor import Tensor, as_tensor

_LEAVE = "call t.detach().numpy() to leave autograd explicitly (a plain ndarray, no gradient)"


def _unsupported(name: str, what: str) -> TypeError:
    return TypeError(f"{name} on a Tensor: {what} is not supported; {_LEAVE}")


def _values(obj: Any) -> Any:
    """obj with every Tensor replaced by its array (for numpy functions that answer about the
    values only); lists, tuples and dicts are walked one level at a time."""
    if isinstance(obj, Tensor):
        return obj.array
    if isinstance(obj, list | tuple):
        return type(obj)(_values(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _values(v) for k, v in obj.items()}
    return obj


_FUNCTIONS: dict[Any, Callable[..., Any]] = {}


def _implements(*functions: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler for numpy functions (None: a function this numpy lacks)."""
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        for f in functions:
            if f is not None:
                _FUNCTIONS[f] = handler
        return handler
    return register


def _both(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two operands as Tensors; a non-Tensor one follows the Tensor's rules (as in `t * 2`)."""
    if isinstance(a, Tensor):
        return a, _operand(a, b)
    if isinstance(b, Tensor):
        return _operand(b, a), b
    return as_tensor(a), as_tensor(b)


def _cast_tensor(t: Tensor, dtype: Any) -> Tensor:
    return t if dtype is None else t.to(dtype)


def _axes_tuple(axis: Any, ndim: int, name: str, shape: tuple[int, ...] | None = None
                ) -> tuple[int, ...]:
    """numpy's normalize_axis_tuple, with our error messages (naming `shape`, the tensor's
    shape, when given)."""
    of = f" of a tensor of shape {shape}" if shape is not None else ""
    items = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise IndexError(f"{name}: axis {a} is out of range for {ndim} dims{of} "
                             f"(valid: {-ndim}..{ndim - 1})")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis{of}; give each axis at most "
                         "once")
    return tuple(out)


def _moveaxis(t: Tensor, source: Any, destination: Any) -> Tensor:
    src = _axes_tuple(source, t.ndim, "np.moveaxis", t.shape)
    dst = _axes_tuple(destination, t.ndim, "np.moveaxis", t.shape)
    if len(src) != len(dst):
        raise ValueError(f"np.moveaxis: source {source!r} and destination {destination!r} "
                         f"need the same number of axes (tensor of shape {t.shape})")
    order = [n for n in range(t.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return t.permute(*order)



# ----------------------------------------------------------------------------- reductions


@_implements(np.sum)
def _sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
         keepdims: bool = False) -> Tensor:
    return as_tensor(a).sum(axis=axis, keepdims=keepdims, dtype=dtype)


@_implements(np.mean)
def _mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
          keepdims: bool = False) -> Tensor:
    return _cast_tensor(as_tensor(a), dtype).mean(axis=axis, keepdims=keepdims)


@_implements(np.max, np.amax)
def _max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Tensor:
    """numpy's max: values only, over any axes (PyTorch's max(dim) would give indices too);
    tied maxima share the gradient."""
    return as_tensor(a).amax(axis=axis, keepdims=keepdims)


@_implements(np.min, np.amin)
def _min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Tensor:
    return as_tensor(a).amin(axis=axis, keepdims=keepdims)


@_implements(np.prod)
def _prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
          keepdims: bool = False) -> Tensor:
    """Tensor.prod (its gradient needs nonzero entries); integers have no gradient, so numpy
    multiplies them exactly."""
    t = _cast_tensor(as_tensor(a), dtype)
    if t.dtype.kind != "f":
        return Tensor._wrap(np.asarray(np.prod(t.array, axis=axis, keepdims=keepdims)))
    return t.prod(axis, keepdims)


def _ddof(ddof: Any, correction: Any, name: str) -> Any:
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"{name}: ddof and correction cannot both be given")
    return correction


@_implements(np.var)
def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
         keepdims: bool = False, *, correction: Any = None) -> Tensor:
    """numpy's default is the biased variance (ddof=0); Tensor.var's is PyTorch's unbiased."""
    t = _cast_tensor(as_tensor(a), dtype)
    return t.var(axis=axis, keepdims=keepdims, ddof=_ddof(ddof, correction, "np.var"))


@_implements(np.std)
def _std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
         keepdims: bool = False, *, correction: Any = None) -> Tensor:
    t = _cast_tensor(as_tensor(a), dtype)
    return t.std(axis=axis, keepdims=keepdims, ddof=_ddof(ddof, correction, "np.std"))


@_implements(np.cumsum)
def _cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Tensor:
    """With axis=None numpy runs over the flattened array."""
    t = _cast_tensor(as_tensor(a), dtype)
    return t.reshape(t.numel()).cumsum(0) if axis is None else t.cumsum(axis)


# ----------------------------------------------------------------------------- products


def _contract(x: Tensor, y: Tensor, axes_x: Sequence[int], axes_y: Sequence[int],
              name: str) -> Tensor:
    """Sum over axes_x of x against axes_y of y; the free axes of x, then those of y.
    One matmul between two permuted, flattened operands, so the gradient is matmul's."""
    ax = _axes_tuple(axes_x, x.ndim, name, x.shape) if axes_x else ()
    ay = _axes_tuple(axes_y, y.ndim, name, y.shape) if axes_y else ()
    summed = [x.shape[i] for i in ax]
    if len(ax) != len(ay) or summed != [y.shape[j] for j in ay]:
        raise ShapeError(f"{name}: axes {list(ax)} of shape {x.shape} and {list(ay)} of shape "
                         f"{y.shape} do not match")
    free_x = [i for i in range(x.ndim) if i not in ax]
    free_y = [j for j in range(y.ndim) if j not in ay]
    out_shape = tuple(x.shape[i] for i in free_x) + tuple(y.shape[j] for j in free_y)
    k = int(np.prod(summed))
    lhs = x.permute(*free_x, *ax).reshape(int(np.prod(out_shape[:len(free_x)])), k)
    rhs = y.permute(*ay, *free_y).reshape(k, int(np.prod(out_shape[len(free_x):])))
    return (lhs @ rhs).reshape(out_shape)


@_implements(np.tensordot)
def _tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    x, y = _both(a, b)
    if isinstance(axes, int | np.integer):
        n = int(axes)
        if not 0 <= n <= min(x.ndim, y.ndim):
            raise ValueError(f"np.tensordot: axes={n} does not fit shapes {x.shape} and "
                             f"{y.shape}")
        return _contract(x, y, range(x.ndim - n, x.ndim), range(n), "np.tensordot")
    ax, ay = axes
    ax = [ax] if isinstance(ax, int | np.integer) else list(ax)
    ay = [ay] if isinstance(ay, int | np.integer) else list(ay)
    return _contract(x, y, ax, ay, "np.tensordot")


@_implements(np.dot)
def _dot(a: Any, b: Any, out: Any = None) -> Tensor:
    """numpy's dot: a product with a scalar, matmul while b has at most 2 dims, else the sum
    over the last axis of a and the second-to-last of b (not matmul's batch broadcasting)."""
    x, y = _both(a, b)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if y.ndim <= 2:
        return x.matmul(y)
    return _contract(x, y, [-1], [-2], "np.dot")


@_implements(np.inner)
def _inner(a: Any, b: Any) -> Tensor:
    x, y = _both(a, b)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    return _contract(x, y, [-1], [-1], "np.inner")


@_implements(np.vdot)
def _vdot(a: Any, b: Any) -> Tensor:
    x, y = _both(a, b)
    if x.numel() != y.numel():
        raise ShapeError(f"np.vdot: operands of shapes {x.shape} and {y.shape} have {x.numel()} "
                         f"and {y.numel()} elements; they need the same number")
    return x.reshape(x.numel()).matmul(y.reshape(y.numel()))


@_implements(np.outer)
def _outer(a: Any, b: Any, out: Any = None) -> Tensor:
    """numpy flattens both operands first."""
    x, y = _both(a, b)
    return x.reshape(x.numel(), 1) * y.reshape(1, y.numel())


def _sublist(labels: Any) -> str:
    return "".join("..." if s is Ellipsis else string.ascii_letters[int(s)] for s in labels)


@_implements(np.einsum)
def _einsum(*operands: Any, out: Any = None, optimize: Any = False, dtype: Any = None
            ) -> Tensor:
    """tinygrad_edu.einsum, in numpy's string form or its interleaved form
    (op0, sublist0, op1, sublist1, ..., [sublist_out]). `optimize` only changes speed in
    numpy; our einsum picks its own contraction order."""
    if isinstance(operands[0], str):
        spec, arrays = operands[0], list(operands[1:])
    else:
        pairs = operands[: len(operands) // 2 * 2]
        spec = ",".join(_sublist(s) for s in pairs[1::2])
        if len(operands) % 2:
            spec += "->" + _sublist(operands[-1])
        arrays = list(pairs[0::2])
    if dtype is not None:
        arrays = [as_tensor(x).to(dtype) for x in arrays]
    return einsum(spec, *arrays)


@_implements(np.trace)
def _trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
           out: Any = None) -> Tensor:
    if offset != 0:
        raise _unsupported("np.trace", f"offset={offset}")
    t = _moveaxis(_cast_tensor(as_tensor(a), dtype), (axis1, axis2), (-2, -1))
    if t.shape[-1] != t.shape[-2]:
        raise ShapeError(f"np.trace: axes {axis1} and {axis2} of a tensor of shape "
                         f"{as_tensor(a).shape} have sizes {t.shape[-2]} and {t.shape[-1]}; "
                         f"only a square trace is supported")
    return einsum("...ii->...", t)


@_implements(np.diag)
def _diag(v: Any, k: int = 0) -> Tensor:
    if k != 0:
        raise _unsupported("np.diag", f"k={k}")
    return diag(v)


# ----------------------------------------------------------------------------- linalg


def _linalg() -> Any:
    # tinygrad_edu.linalg loads on first use, as the package's other submodules do.
    from tinygrad_edu import linalg

    return linalg


@_implements(np.linalg.inv)
def _inv(a: Any) -> Tensor:
    return _linalg().inv(a)


@_implements(np.linalg.det)
def _det(a: Any) -> Tensor:
    return _linalg().det(a)


@_implements(np.linalg.slogdet)
def _slogdet(a: Any) -> Any:
    return _linalg().slogdet(a)


@_implements(np.linalg.cholesky)
def _cholesky(a: Any, *, upper: bool = False) -> Tensor:
    return _linalg().cholesky(a, upper=upper)


@_implements(np.linalg.solve)
def _solve(a: Any, b: Any) -> Tensor:
    """numpy 2 reads b as a vector only when it is 1-D (PyTorch also when b.shape ==
    a.shape[:-1]); that one ambiguous shape is refused rather than guessed."""
    sa, sb = np.shape(_values(a)), np.shape(_values(b))
    if len(sb) > 1 and sb == sa[:-1]:
        raise _unsupported("np.linalg.solve", f"b of shape {sb} with a of shape {sa} "
                           "(numpy reads it as a matrix, PyTorch as vectors; pass "
                           "b[..., None])")
    return _linalg().solve(a, b)


@_implements(np.linalg.norm)
def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """tinygrad_edu.linalg.norm, which follows the same rules as numpy's."""
    return _linalg().norm(x, ord, dim=axis, keepdim=keepdims)
