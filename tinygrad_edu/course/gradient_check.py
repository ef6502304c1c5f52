"""The courses' numeric gradient helpers (cs231n's `gradient_check.py`), same signatures,
defaults, printing and in-place protocol, plus `rel_error`.

The protocol students rely on: `x` itself is perturbed in place, one element at a time, and
restored (also when f raises). So `f` may ignore its argument and read the array through
something else, as the courses' model checks do:

    f = lambda _: model.loss(X, y)[0]
    dW1 = eval_numerical_gradient(f, model.params['W1'], verbose=False)

What is safer than the courses: f is handed a *copy* of the perturbed x, `df` is copied
once at the start and f's outputs are copied, so code that writes into the arrays it is
given (an in-place ReLU, a backward that writes into dout) cannot corrupt the check.
Central differences, (f(x + h) - f(x - h)) / 2h; loops over elements, by design.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.tensor import Tensor, _rng

__all__ = ["eval_numerical_gradient", "eval_numerical_gradient_array",
           "grad_check_sparse", "rel_error"]


def _array(v: Any) -> np.ndarray:
    return np.asarray(v.array if isinstance(v, Tensor) else v)


def _as_float_array(x: Any, op: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{op}: x must be a numpy array (it is perturbed in place), got "
                        f"{type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: x must be a floating-point array to be perturbed by h, got "
                        f"dtype {x.dtype} with shape {x.shape}")
    return x


def _at(f: Callable[[np.ndarray], Any], x: np.ndarray, ix: tuple[int, ...], value: Any
        ) -> np.ndarray:
    """f at x with x[ix] = value (in place), restored afterwards; f gets a copy of x."""
    old = x[ix].copy()
    x[ix] = value
    try:
        return np.array(_array(f(x.copy())), dtype=np.float64, copy=True)
    finally:
        x[ix] = old


def eval_numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray,
                            verbose: bool = True, h: float = 0.00001) -> np.ndarray:
    """The gradient of a scalar f at x by central differences, one element at a time;
    prints `(index) value` per element when verbose (the courses' default). Returns an array
    like x (np.zeros_like(x), so x's dtype)."""
    x = _as_float_array(x, "eval_numerical_gradient")
    f(x.copy())  # the courses evaluate f at x first; some f's set state on that call
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        plus = _at(f, x, ix, x[ix] + h)
        minus = _at(f, x, ix, x[ix] - h)
        if plus.size != 1:
            raise ShapeError(f"eval_numerical_gradient: f returned shape {plus.shape}, not a "
                             "scalar; use eval_numerical_gradient_array(f, x, df)")
        grad[ix] = (plus.reshape(()) - minus.reshape(())) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f: Callable[[np.ndarray], Any], x: np.ndarray, df: Any,
                                  h: float = 1e-5) -> np.ndarray:
    """The gradient of sum(f(x) * df) at x by central differences: the numeric version of a
    layer's backward with upstream gradient df (f returns an array of df's shape)."""
    op = "eval_numerical_gradient_array"
    x = _as_float_array(x, op)
    upstream = np.array(_array(df), dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        pos = _at(f, x, ix, x[ix] + h)
        neg = _at(f, x, ix, x[ix] - h)
        if pos.shape != upstream.shape:
            raise ShapeError(f"{op}: f returned shape {pos.shape} but df has shape "
                             f"{upstream.shape}; they must be equal")
        grad[ix] = np.sum((pos - neg) * upstream) / (2 * h)
    return grad


def grad_check_sparse(f: Callable[[np.ndarray], Any], x: np.ndarray, analytic_grad: Any,
                      num_checks: int = 10, h: float = 1e-5, seed: Any = None
                      ) -> list[float]:
    """Compare `analytic_grad` with central differences of scalar f at `num_checks` random
    elements of x, printing `numerical: ... analytic: ..., relative error: ...` for each,
    as the courses do. The elements come from `seed` (an int or Generator), else from
    tinygrad_edu's default generator (`manual_seed` makes it repeatable). Returns the
    relative errors |n - a| / max(1e-8, |n| + |a|) (the floor makes two zeros 0, not nan)."""
    x = _as_float_array(x, "grad_check_sparse")
    analytic = _array(analytic_grad)
    if analytic.shape != x.shape:
        raise ShapeError(f"grad_check_sparse: analytic_grad has shape {analytic.shape} but x "
                         f"has shape {x.shape}; they must be equal")
    rng = _rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(m)) for m in x.shape)
        plus = float(_at(f, x, ix, x[ix] + h).reshape(()))
        minus = float(_at(f, x, ix, x[ix] - h).reshape(()))
        numeric = (plus - minus) / (2 * h)
        a = float(analytic[ix])
        err = abs(numeric - a) / max(1e-8, abs(numeric) + abs(a))
        errors.append(err)
        print(f"numerical: {numeric:f} analytic: {a:f}, relative error: {err:e}")
    return errors


def rel_error(x: Any, y: Any) -> float:
    """max(|x - y| / max(1e-8, |x| + |y|)), the courses' relative error, elementwise then
    the largest. x and y broadcast as in numpy (a scalar against an array is fine), but a
    pair like (N,) and (N, 1), which would silently compare every element with every other,
    is an error."""
    a = np.asarray(_array(x), dtype=np.float64)
    b = np.asarray(_array(y), dtype=np.float64)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"rel_error: shapes {a.shape} and {b.shape} do not broadcast") from None
    if shape not in (a.shape, b.shape):
        raise ShapeError(f"rel_error: shapes {a.shape} and {b.shape} broadcast to {shape}, "
                         "which compares every element of one with every element of the "
                         "other; reshape one of them")
    if not np.prod(shape):
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
