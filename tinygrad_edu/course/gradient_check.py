"""The courses' numeric gradient helpers (cs231n's `gradient_check.py`), same signatures,
defaults, printing and in-place protocol, plus `rel_error`. The numbers come from
`tinygrad_edu.gradcheck` (its `central_difference`, `grad_check_sparse` and `rel_error`);
this module adds the courses' names, checks and printing.

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

from tinygrad_edu import gradcheck
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.gradcheck import central_difference, rel_error
from tinygrad_edu.tensor import Tensor

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


def _on_a_copy(f: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """f called with a copy of the (perturbed) x, so f cannot change x."""
    return lambda v: f(v.copy())


def eval_numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray,
                            verbose: bool = True, h: float = 0.00001) -> np.ndarray:
    """The gradient of a scalar f at x by central differences, one element at a time;
    prints `(index) value` per element when verbose (the courses' default). Returns an array
    like x (np.zeros_like(x), so x's dtype)."""
    x = _as_float_array(x, "eval_numerical_gradient")
    f(x.copy())  # the courses evaluate f at x first; some f's set state on that call
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        d = central_difference(_on_a_copy(f), x, ix, h)
        if d.size != 1:
            raise ShapeError(f"eval_numerical_gradient: f returned shape {d.shape}, not a "
                             "scalar; use eval_numerical_gradient_array(f, x, df)")
        grad[ix] = d
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
        grad[ix] = central_difference(_on_a_copy(f), x, ix, h, df=upstream, op=op)
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
    return gradcheck.grad_check_sparse(_on_a_copy(f), x, analytic, num_checks, h, seed)
