"""The derivation workbench: check a derivative you worked out by hand in one call.

    import numpy as np
    from tinygrad_edu import check_derivation

    def loss(W, x):                          # L = 1/2 ||W^T W x - x||^2, built from Tensors
        return 0.5 * ((W.T @ (W @ x) - x) ** 2).sum()

    def claimed(W, x):                       # the closed form, on numpy arrays
        g = W.T @ W @ x - x
        return np.outer(W @ x, g) + np.outer(W @ g, x)

    W, x = np.random.randn(3, 5), np.random.randn(5)
    print(check_derivation(loss, claimed, W, x, wrt="W"))

The claimed derivative is compared with autograd and with central differences (float64).
The report (a table; HTML in Jupyter) gives, per input, the largest absolute and relative
error, the worst element with the three values there, and a verdict. When the claim is
wrong it says whether a sign, a constant factor (2, 1/N, ...), a transpose or a missing
path (one of the contributions that are summed where a tensor feeds several ops) explains
it, and lists each path's contribution where an input's gradient is such a sum.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from tinygrad_edu import autograd, func
from tinygrad_edu.creation import from_numpy
from tinygrad_edu.derive._compare import Tolerance, compare
from tinygrad_edu.derive._inputs import Inputs, function_name
from tinygrad_edu.derive._paths import PathFinder
from tinygrad_edu.derive._report import DerivationReport, InputCheck, PathContribution
from tinygrad_edu.gradcheck import central_difference, numerical_grad
from tinygrad_edu.tensor import Tensor

__all__ = ["check_derivation", "assert_derivation", "check_jacobian", "check_hessian",
           "DerivationReport", "DerivationError", "InputCheck", "PathContribution"]


class DerivationError(AssertionError):
    """A claimed derivative disagrees with autograd; the message is the report."""


def _float64() -> Any:
    return autograd.default_dtype(np.float64)


def _settings(eps: float, rtol: float, atol: float) -> str:
    return (f"numeric: central differences, eps={eps:g}; match: |claimed - autograd| <= "
            f"{atol:g} + {rtol:g} |autograd|")


def _value(f: Callable[..., Any], prep: Inputs) -> Callable[[int, np.ndarray], Any]:
    """f at the inputs with input i replaced by an array, without recording a graph."""

    def at(i: int, v: np.ndarray) -> np.ndarray:
        with autograd.no_grad(), _float64():
            out = f(*prep.args({i: from_numpy(v)}))
        return np.asarray(out.array if isinstance(out, Tensor) else out, dtype=np.float64)

    return at


def _scalar_at(at: Callable[[int, np.ndarray], np.ndarray], i: int, v: np.ndarray) -> float:
    return float(at(i, v).reshape(()))


def _scalar(out: Any, op: str, hint: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: f must return a Tensor, got {type(out).__name__}")
    if out.numel() != 1:
        raise ValueError(f"{op}: f must return a scalar; it returned shape {out.shape}. "
                         f"{hint}")
    return out


def check_derivation(f: Callable[..., Tensor], claimed: Any, *inputs: Any, wrt: Any = None,
                     eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8
                     ) -> DerivationReport:
    """Check a claimed gradient of the scalar `f(*tensors)` at `inputs`.

    `claimed(*arrays)` returns the claimed gradient for each input in `wrt` (an array, a
    tuple of arrays in `wrt` order, or a dict by input name); a precomputed array (or tuple)
    works too. Inputs: float arrays, Tensors, lists or Python floats are differentiated
    (all of them unless `wrt` picks some, by index or by name: f's parameter names or
    `Tensor.name`); integer arrays, Python ints and other objects are constants. Everything
    runs in float64; `claimed` gets fresh copies of the arrays.
    """
    op = "check_derivation"
    prep = Inputs(op, f, inputs, wrt)
    with _float64(), autograd.enable_grad():
        leaves = {i: Tensor(prep.values[i].copy(), requires_grad=True) for i in prep.wrt}
        out = _scalar(f(*prep.args(leaves)), op, "Use check_jacobian, or reduce it with a "
                      "random upstream gradient v: (f(x) * v).sum()")
        with autograd.record_gradients() as tape:
            if out.requires_grad:
                grads = autograd.grad(out, list(leaves.values()), retain_graph=True,
                                      allow_unused=True)
            else:
                grads = (None,) * len(leaves)
    auto = [np.zeros_like(prep.values[i]) if g is None else np.asarray(g.array, np.float64)
            for i, g in zip(prep.wrt, grads)]
    value = float(out.array.reshape(()))
    at = _value(f, prep)
    numeric = [numerical_grad(partial(_scalar_at, at, i), prep.values[i].copy(), eps)
               for i in prep.wrt]
    claims = prep.claims(claimed, "gradient")
    finder = PathFinder(tape, out, {leaves[i]: prep.names[i] for i in prep.wrt})
    grad_scale = max([float(np.max(np.abs(a))) if a.size else 0.0 for a in auto])
    tol = Tolerance.make(rtol, atol, eps, abs(value), grad_scale)
    rows = []
    for k, i in enumerate(prep.wrt):
        leaf = leaves[i]
        rows.append(compare(
            prep.names[i], prep.values[i].shape, claims[k], auto[k], numeric[k], tol,
            prep.dims(), paths=finder.contributions(leaf),
            candidates=partial(finder.candidates, leaf, auto[k])))
    return DerivationReport(f"check_derivation of {function_name(f)}", "gradient", rows,
                            value=value, settings=_settings(eps, rtol, atol))


def assert_derivation(f: Callable[..., Tensor], claimed: Any, *inputs: Any, wrt: Any = None,
                      eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8
                      ) -> DerivationReport:
    """`check_derivation`, raising `DerivationError` (an AssertionError) with the report
    when any input is not ok; returns the report otherwise."""
    report = check_derivation(f, claimed, *inputs, wrt=wrt, eps=eps, rtol=rtol, atol=atol)
    if not report.ok:
        raise DerivationError(str(report))
    return report


def check_jacobian(f: Callable[..., Tensor], claimed_jacobian: Any, *inputs: Any,
                   wrt: Any = None, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8
                   ) -> DerivationReport:
    """Check a claimed Jacobian of `f(*tensors)` (any output shape) against `func.jacrev`
    and central differences. The Jacobian for input x has shape `out.shape + x.shape`
    (numerator layout: row i is the gradient of output element i). Arguments as
    `check_derivation`."""
    op = "check_jacobian"
    prep = Inputs(op, f, inputs, wrt)

    def g(*ws: Tensor) -> Tensor:
        return f(*prep.args(dict(zip(prep.wrt, ws))))

    with _float64():
        jac = func.jacrev(g, argnums=tuple(range(len(prep.wrt))))(
            *[prep.values[i].copy() for i in prep.wrt])
    auto = [np.asarray(j.array, np.float64) for j in jac]
    at = _value(f, prep)
    out0 = at(prep.wrt[0], prep.values[prep.wrt[0]].copy())
    numeric = [_numeric_jacobian(partial(at, i), prep.values[i], out0.shape, eps)
               for i in prep.wrt]
    claims = prep.claims(claimed_jacobian, "Jacobian")
    scale = float(np.max(np.abs(out0))) if out0.size else 0.0
    grad_scale = max([float(np.max(np.abs(a))) if a.size else 0.0 for a in auto])
    tol = Tolerance.make(rtol, atol, eps, scale, grad_scale)
    dims = prep.dims() + [("f's output", ax, n) for ax, n in enumerate(out0.shape)]
    rows = [compare(prep.names[i], out0.shape + prep.values[i].shape, claims[k], auto[k],
                    numeric[k], tol, dims, square=out0.shape == prep.values[i].shape)
            for k, i in enumerate(prep.wrt)]
    return DerivationReport(f"check_jacobian of {function_name(f)}", "jacobian", rows,
                            settings=_settings(eps, rtol, atol))


def _numeric_jacobian(at: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                      out_shape: tuple[int, ...], eps: float) -> np.ndarray:
    """Central differences, one column (input element) at a time; the loop over elements
    belongs to the numeric check only."""
    x = x.copy()
    jac = np.zeros((int(np.prod(out_shape)), x.size))
    for j, index in enumerate(np.ndindex(x.shape)):
        jac[:, j] = central_difference(at, x, index, eps).reshape(-1)
    return jac.reshape(out_shape + x.shape)


def check_hessian(f: Callable[..., Tensor], claimed_hessian: Any, *inputs: Any,
                  wrt: Any = None, diagonal: bool = False, eps: float = 1e-6,
                  rtol: float = 1e-5, atol: float = 1e-8) -> DerivationReport:
    """Check a claimed Hessian (second derivative) of the scalar `f(*tensors)` against
    `func.hessian` and central differences of the gradient.

    For each input x in `wrt` the claimed Hessian is the block d^2 f / dx dx of shape
    `x.shape + x.shape`; for a scalar x it is the second derivative f''(x). With
    `diagonal=True` the claim is only its diagonal, shaped like x: the elementwise second
    derivative g''(x) when f = sum(g(x)) for an elementwise g."""
    op = "check_hessian"
    prep = Inputs(op, f, inputs, wrt)
    auto, numeric, scales = [], [], [0.0, 0.0]
    for i in prep.wrt:
        def g(x: Tensor, i: int = i) -> Tensor:
            return _scalar(f(*prep.args({i: x})), op, "The Hessian needs a scalar f.")

        with _float64():
            hess = np.asarray(func.hessian(g)(prep.values[i].copy()).array, np.float64)
        num = _numeric_jacobian(partial(_gradient, g), prep.values[i],
                                prep.values[i].shape, eps)
        scales[0] = max(scales[0], float(np.max(np.abs(_gradient(g, prep.values[i])))))
        scales[1] = max(scales[1], float(np.max(np.abs(hess))) if hess.size else 0.0)
        if diagonal:
            n = prep.values[i].size
            hess = np.diagonal(hess.reshape(n, n)).reshape(prep.values[i].shape).copy()
            num = np.diagonal(num.reshape(n, n)).reshape(prep.values[i].shape).copy()
        auto.append(hess)
        numeric.append(num)
    claims = prep.claims(claimed_hessian, "Hessian")
    tol = Tolerance.make(rtol, atol, eps, scales[0], scales[1])
    rows = [compare(prep.names[i], auto[k].shape, claims[k], auto[k], numeric[k], tol,
                    prep.dims(), square=not diagonal) for k, i in enumerate(prep.wrt)]
    what = "Hessian diagonal" if diagonal else "Hessian"
    return DerivationReport(f"check_hessian ({what}) of {function_name(f)}", "hessian", rows,
                            settings=_settings(eps, rtol, atol))


def _gradient(g: Callable[[Tensor], Tensor], v: np.ndarray) -> np.ndarray:
    with _float64(), autograd.enable_grad():
        x = Tensor(np.array(v, dtype=np.float64), requires_grad=True)
        out = g(x)
        if not out.requires_grad:
            return np.zeros_like(v)
        (gx,) = autograd.grad(out, [x], allow_unused=True)
    return np.zeros_like(v) if gx is None else np.asarray(gx.array, np.float64)
