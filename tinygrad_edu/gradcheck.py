"""Numeric gradients and checks of analytic ones.

Everything here runs in float64 with central differences. The loops over elements are the
one place in the library where Python walks an array element by element.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.tensor import Tensor, _rng


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numeric one; the message is the report."""


def rel_error(x: Any, y: Any) -> float:
    """max(|x - y| / max(1e-8, |x| + |y|)), the deep-learning courses' relative error,
    elementwise then the largest (0.0 for empty arrays). x and y broadcast as in numpy (a
    scalar against an array is fine), but a pair like (N,) and (N, 1), which would silently
    compare every element with every other, is an error."""
    a = np.asarray(x.array if isinstance(x, Tensor) else x, dtype=np.float64)
    b = np.asarray(y.array if isinstance(y, Tensor) else y, dtype=np.float64)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"rel_error: shapes {a.shape} and {b.shape} differ and do not "
                         "broadcast") from None
    if shape not in (a.shape, b.shape):
        raise ShapeError(f"rel_error: shapes {a.shape} and {b.shape} broadcast to {shape}, "
                         "which compares every element of one with every element of the "
                         "other; reshape one of them")
    if not math.prod(shape):
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Elementwise |a - b| <= atol + rtol |b| (numpy's isclose, with b the reference): the
    tolerance test of gradcheck and of the derivation checks."""
    return np.asarray(np.abs(a - b) <= atol + rtol * np.abs(b))


def _float64(v: Any) -> np.ndarray:
    """v (a Tensor, array or number) as a new float64 array: a copy, so a later change of
    what f returned (a view of x) cannot reach it."""
    return np.array(v.array if isinstance(v, Tensor) else v, dtype=np.float64)


def central_difference(f: Callable[[np.ndarray], Any], x: np.ndarray, index: tuple[int, ...],
                       h: float = 1e-6, df: np.ndarray | None = None,
                       op: str = "central_difference") -> np.ndarray:
    """(f(x + h e) - f(x - h e)) / 2h, e the unit vector at `index`: the one numeric
    derivative of the library (numerical_grad, gradcheck, grad_check_sparse, the courses'
    helpers and the derivation checks all call it).

    f's values are taken as float64 arrays (copied, so f may return a view of x): the result
    has f's shape (a 0-d array for a scalar f, a Jacobian column for an array). With `df`
    (an upstream gradient of f's shape) it is d/dx[index] of sum(f(x) * df) as a 0-d array,
    the difference taken before the weighting; `op` names the caller in the error raised
    when the shapes differ. x is changed in place, in its own dtype, and restored, also
    when f raises; f receives x itself."""
    old = x[index].copy()
    try:
        x[index] = old + h
        plus = _float64(f(x))
        x[index] = old - h
        minus = _float64(f(x))
    finally:
        x[index] = old
    diff = plus - minus
    if df is not None:
        if plus.shape != df.shape:
            raise ShapeError(f"{op}: f returned shape {plus.shape} but df has shape "
                             f"{df.shape}; they must be equal")
        diff = np.sum(diff * df)
    return np.asarray(diff / (2 * h))


def numerical_grad(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = 1e-6,
                   df: Any = None, indices: Sequence[tuple[int, ...]] | None = None
                   ) -> np.ndarray:
    """Central differences of f at x for each element (or only `indices`; the others stay
    0), as a float64 array. f returns a scalar, or an array whose sum(f(x) * df) is
    differentiated (the sum is taken before the difference). x is changed in place during
    the loop and restored."""
    x = np.asarray(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    if df is not None:
        weights = np.asarray(df, dtype=np.float64)
        f = partial(_weighted_sum, f, weights)
    where = indices if indices is not None else list(np.ndindex(*x.shape))
    for idx in where:
        d = central_difference(f, x, idx, h)
        if d.size != 1:
            raise ShapeError(f"numerical_grad: f returned shape {d.shape}; pass df= (the "
                             "upstream gradient) for a non-scalar f")
        grad[idx] = d
    return grad


def _weighted_sum(f: Callable[[np.ndarray], Any], weights: np.ndarray, v: np.ndarray
                  ) -> np.ndarray:
    return np.sum(_float64(f(v)) * weights)


@dataclass
class InputReport:
    index: int
    shape: tuple[int, ...]
    max_abs_error: float
    rel_error: float
    worst: tuple[int, ...] | None
    analytic: float
    numeric: float
    ok: bool


@dataclass
class GradcheckReport:
    """Per input: max abs error, relative error, the worst element and both values there."""

    op: str
    inputs: list[InputReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.inputs)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"gradcheck of {self.op}: {'OK' if self.ok else 'MISMATCH'}"]
        for r in self.inputs:
            where = f"at {r.worst}" if r.worst is not None else ""
            lines.append(
                f"  input {r.index} {r.shape}: max abs err {r.max_abs_error:.3e}, rel err "
                f"{r.rel_error:.3e}; worst element {where}: analytic {r.analytic:.6g} vs "
                f"numeric {r.numeric:.6g} -> {'ok' if r.ok else 'FAIL'}"
            )
        return "\n".join(lines)


def _compare(i: int, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float,
             mask: np.ndarray | None = None) -> InputReport:
    diff = np.abs(analytic - numeric)
    if mask is not None:
        diff = np.where(mask, diff, 0.0)
    if diff.size == 0:
        return InputReport(i, analytic.shape, 0.0, 0.0, None, 0.0, 0.0, True)
    worst = np.unravel_index(int(np.argmax(diff - atol - rtol * np.abs(numeric))), diff.shape)
    within = close(analytic, numeric, rtol, atol)
    ok = bool(np.all(within if mask is None else within | ~mask))
    sel = Ellipsis if mask is None else mask  # `...` also indexes 0-d arrays
    return InputReport(i, analytic.shape, float(diff.max()),
                       rel_error(analytic[sel], numeric[sel]) if diff.size else 0.0,
                       tuple(int(k) for k in worst), float(analytic[worst]),
                       float(numeric[worst]), ok)


def _name(f: Any) -> str:
    return getattr(f, "__name__", type(f).__name__)


def gradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              sparse: int | None = None, seed: int = 0) -> GradcheckReport:
    """Compare backward() with central differences for every input (cast to float64).

    A non-scalar output is reduced with a random upstream gradient (ones would hide a
    backward that ignores its incoming gradient). `sparse=k` checks only k random elements
    of each input (for big tensors). Raises GradcheckError with the report, or returns it.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(x.array if isinstance(x, Tensor) else x, dtype=np.float64)
              for x in inputs]
    leaves = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    with autograd.enable_grad():
        out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: {_name(f)} must return a Tensor, got {type(out).__name__}")
    upstream = rng.standard_normal(out.shape) if out.numel() != 1 else np.ones(out.shape)
    if out.requires_grad:
        grads = autograd.grad(out, leaves, grad_outputs=Tensor(upstream), allow_unused=True)
    else:
        grads = (None,) * len(leaves)
    report = GradcheckReport(_name(f))
    for i, a in enumerate(arrays):
        gi = grads[i]
        analytic = np.zeros_like(a) if gi is None else np.asarray(gi.array)

        def fi(v: np.ndarray, i: int = i) -> float:
            args = [Tensor(v if j == i else arrays[j]) for j in range(len(arrays))]
            with autograd.no_grad():
                return float(np.sum(f(*args).array * upstream))

        indices = None
        mask = None
        if sparse is not None and a.size > sparse:
            flat = rng.choice(a.size, size=sparse, replace=False)
            indices = [tuple(int(k) for k in np.unravel_index(j, a.shape)) for j in flat]
            mask = np.zeros(a.shape, dtype=bool)
            for idx in indices:
                mask[idx] = True
        numeric = numerical_grad(fi, a.copy(), eps, indices=indices)
        report.inputs.append(_compare(i, analytic, numeric, atol, rtol, mask))
    if raise_exception and not report.ok:
        raise GradcheckError(str(report))
    return report


def gradgradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  seed: int = 0) -> GradcheckReport:
    """Check second derivatives: the gradient of <grad f(x) . w, 1> (w random) against
    central differences of that gradient."""
    rng = np.random.default_rng(seed + 1)
    arrays = [np.array(x.array if isinstance(x, Tensor) else x, dtype=np.float64)
              for x in inputs]
    with autograd.enable_grad():
        probe = f(*[Tensor(a, requires_grad=True) for a in arrays])
    upstream = rng.standard_normal(probe.shape)
    weights = [rng.standard_normal(a.shape) for a in arrays]

    def first_order(*xs: Tensor) -> Tensor:
        with autograd.enable_grad():
            leaves = [x if x.requires_grad else Tensor(x.array, requires_grad=True) for x in xs]
            out = f(*leaves)
            gs = autograd.grad(out, leaves, grad_outputs=Tensor(upstream), create_graph=True,
                               allow_unused=True)
        total: Tensor = Tensor(np.zeros(()))
        for g, w in zip(gs, weights):
            if g is not None:
                total = total + (g * Tensor(w)).sum()
        return total

    first_order.__name__ = f"grad of {_name(f)}"
    return gradcheck(first_order, arrays, eps, atol, rtol, raise_exception, seed=seed)


def grad_check_sparse(f: Callable[[np.ndarray], Any], x: np.ndarray, analytic_grad: Any,
                      num_checks: int = 10, h: float = 1e-5, seed: Any = None,
                      verbose: bool = True) -> list[float]:
    """The courses' sparse check: at `num_checks` random elements of x, the central
    difference of the scalar f against `analytic_grad`, printing
    `numerical: ... analytic: ..., relative error: ...` for each when verbose. The elements
    come from `seed` (an int, a numpy Generator or a tinygrad_edu.Generator), else from the
    library's default generator (`manual_seed` makes it repeatable). Returns the relative
    errors (`rel_error` of the two numbers)."""
    rng = _rng(seed)
    analytic = np.asarray(analytic_grad.array if isinstance(analytic_grad, Tensor)
                          else analytic_grad)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        d = central_difference(f, x, ix, h)
        if d.size != 1:
            raise ShapeError(f"grad_check_sparse: f returned shape {d.shape}, not a scalar")
        numeric = float(d)
        a = float(analytic[ix])
        err = rel_error(numeric, a)
        errors.append(err)
        if verbose:
            print(f"numerical: {numeric:f} analytic: {a:f}, relative error: {err:e}")
    return errors
