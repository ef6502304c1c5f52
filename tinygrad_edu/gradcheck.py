"""Numeric gradients and checks of analytic ones.

Everything here runs in float64 with central differences. The loops over elements are the
one place in the library where Python walks an array element by element.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numeric one; the message is the report."""


def rel_error(x: Any, y: Any) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), the deep-learning courses' relative error."""
    a = np.asarray(x.array if isinstance(x, Tensor) else x, dtype=np.float64)
    b = np.asarray(y.array if isinstance(y, Tensor) else y, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes {a.shape} and {b.shape} differ")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_grad(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = 1e-6,
                   df: Any = None, indices: Sequence[tuple[int, ...]] | None = None
                   ) -> np.ndarray:
    """Central differences of f at x: (f(x + h e_i) - f(x - h e_i)) / 2h for each element
    (or only `indices`). f returns a scalar, or an array that is dotted with `df`.
    x is changed in place during the loop and restored."""
    x = np.asarray(x)
    grad = np.zeros(x.shape, dtype=np.float64)

    def value(v: Any) -> float:
        arr = np.asarray(v.array if isinstance(v, Tensor) else v, dtype=np.float64)
        if df is not None:
            return float(np.sum(arr * np.asarray(df, dtype=np.float64)))
        if arr.size != 1:
            raise ValueError(f"numerical_grad: f returned shape {arr.shape}; pass df= (the "
                             "upstream gradient) for a non-scalar f")
        return float(arr.reshape(()))

    where = indices if indices is not None else list(np.ndindex(*x.shape))
    for idx in where:
        old = x[idx].copy()
        x[idx] = old + h
        plus = value(f(x))
        x[idx] = old - h
        minus = value(f(x))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


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
    ok = bool(np.all(diff <= atol + rtol * np.abs(numeric)))
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


def grad_check_sparse(f: Callable[[np.ndarray], float], x: np.ndarray, analytic_grad: Any,
                      num_checks: int = 10, h: float = 1e-5, seed: int | None = None,
                      verbose: bool = True) -> list[float]:
    """The courses' sparse check: k random elements, numeric vs analytic, relative errors."""
    rng = np.random.default_rng(seed)
    analytic = np.asarray(analytic_grad.array if isinstance(analytic_grad, Tensor)
                          else analytic_grad)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix].copy()
        x[ix] = old + h
        plus = float(np.asarray(f(x)))
        x[ix] = old - h
        minus = float(np.asarray(f(x)))
        x[ix] = old
        numeric = (plus - minus) / (2 * h)
        a = float(analytic[ix])
        err = abs(numeric - a) / max(1e-12, abs(numeric) + abs(a))
        errors.append(err)
        if verbose:
            print(f"numerical: {numeric:f} analytic: {a:f}, relative error: {err:e}")
    return errors
