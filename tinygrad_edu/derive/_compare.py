"""Compare a claimed derivative with autograd and central differences, and when it is wrong,
look for the usual reasons: a sign, a constant factor, a transpose, a missing path."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from tinygrad_edu.derive._report import InputCheck, PathContribution
from tinygrad_edu.gradcheck import close, rel_error

#: (input name, axis, size) for every axis of every input: names for a constant factor
Dims = list[tuple[str, int, int]]
Candidates = Callable[[], Iterable[tuple[str, np.ndarray]]]


@dataclass(frozen=True)
class Tolerance:
    """`rtol`/`atol` judge claimed against autograd (both exact up to rounding); the numeric
    estimate gets extra absolute slack for what central differences lose to rounding
    (about machine-eps * |f| / eps) and truncation (about eps^2 * |f'''|)."""

    rtol: float
    atol: float
    numeric_rtol: float
    numeric_atol: float

    @staticmethod
    def make(rtol: float, atol: float, eps: float, value_scale: float,
             grad_scale: float) -> Tolerance:
        slack = (1e3 * np.finfo(np.float64).eps * max(1.0, value_scale) / eps
                 + 10 * eps * eps * max(1.0, grad_scale))
        return Tolerance(rtol, atol, max(rtol, 1e-6), atol + slack)


def _same(x: np.ndarray, ref: np.ndarray, tol: Tolerance) -> bool:
    if x.shape != ref.shape:
        return False
    # A pattern found by a least-squares ratio carries its rounding: a little more room.
    return bool(np.all(close(x, ref, max(tol.rtol, 1e-7) * 10, tol.atol * 10)))


def _nice_fraction(k: float) -> Fraction | None:
    if not math.isfinite(k) or k == 0:
        return None
    fr = Fraction(k).limit_denominator(1000)
    return fr if abs(float(fr) - k) <= 1e-6 * abs(k) else None


def _factor_text(k: float, dims: Dims, claim: str) -> str:
    if abs(k + 1) <= 1e-6:
        return f"sign flip: {claim} = -autograd"
    fr = _nice_fraction(k)
    text = f"constant factor: autograd = {fr if fr is not None else f'{k:.6g}'} x {claim}"
    text += " at every element"
    if fr is not None:
        named = []
        for n in sorted({abs(fr.numerator), fr.denominator} - {0, 1}):
            where = [f"axis {ax} of {name}" for name, ax, size in dims if size == n]
            if where:
                named.append(f"{n} is the size of {', '.join(where[:3])}")
        if named:
            text += " (" + "; ".join(named) + ": a sum or mean over it?)"
    return text


def _square_text(c: np.ndarray, a: np.ndarray, tol: Tolerance, claim: str) -> list[str]:
    n = int(round(math.sqrt(c.size)))
    if n * n != c.size or n < 2:
        return []
    cm, am = c.reshape(n, n), a.reshape(n, n)
    ok = close(cm, am, tol.rtol, tol.atol)
    diag = np.eye(n, dtype=bool)
    out = []
    if ok[diag].all() and not ok[~diag].all():
        i, j = np.unravel_index(np.argmax(np.where(diag, 0, np.abs(cm - am))), (n, n))
        out.append(f"the diagonal (i = j) entries match, the off-diagonal ones do not (e.g. "
                   f"({i}, {j}): {claim} {cm[i, j]:.6g} vs autograd {am[i, j]:.6g})")
    elif ok[~diag].all() and not ok[diag].all():
        out.append("the off-diagonal entries match, the diagonal (i = j) ones do not")
    sym_a = _same(am.T, am, tol)
    if sym_a and not _same(cm.T, cm, tol):
        out.append(f"autograd's matrix is symmetric (entry (i, j) = entry (j, i)) but "
                   f"{claim}'s is not")
    return out


def diagnose(c: np.ndarray, a: np.ndarray, tol: Tolerance, dims: Dims, claim: str,
             square: bool = False, candidates: Candidates | None = None) -> list[str]:
    """Reasons why `c` (claimed, lined up with a's shape) differs from `a` (autograd)."""
    if not np.any(np.abs(a) > tol.atol):
        return [f"autograd's gradient is zero here (f does not depend on this input at this "
                f"point) but {claim} is not"]
    if not np.any(np.abs(c) > tol.atol):
        return [f"{claim} is zero but autograd's gradient is not"]
    k = float(np.vdot(c, a) / np.vdot(c, c))
    if _same(k * c, a, tol):
        return [_factor_text(k, dims, claim)]
    out: list[str] = []
    if c.ndim >= 2 and c.shape[-1] == c.shape[-2]:
        ct = np.swapaxes(c, -1, -2)
        kt = float(np.vdot(ct, a) / np.vdot(ct, ct))
        if _same(ct, a, tol):
            return [f"transpose: {claim}.T matches autograd (a layout mix-up: numerator vs "
                    "denominator layout, or (in, out) vs (out, in) weights?)"]
        if _same(kt * ct, a, tol):
            return [f"transpose and a factor: {claim}.T matches after a "
                    + _factor_text(kt, dims, f"{claim}.T")]
    if square:
        out += _square_text(c, a, tol, claim)
    if candidates is not None:
        for text, g in candidates():
            if _same(c, g, tol):
                out.append(text)
                break
    zero_a, zero_c = np.abs(a) <= tol.atol, np.abs(c) <= tol.atol
    if not out and np.any(zero_a & ~zero_c) and close(c, a, tol.rtol, tol.atol)[zero_c].all():
        out.append(f"autograd's gradient is zero at {int(np.sum(zero_a & ~zero_c))} of {a.size} "
                   f"elements where {claim}'s is not: the gradient reaches fewer elements "
                   "(routed to a max, or blocked by a relu?)")
    if not out:
        agree = int(np.sum(close(c, a, tol.rtol, tol.atol)))
        out.append(f"no simple pattern (sign, constant factor, transpose"
                   f"{', missing path' if candidates is not None else ''}) explains it; "
                   f"{claim} matches autograd at {agree} of {a.size} elements")
    return out


def _align(claimed: np.ndarray, shape: tuple[int, ...], autograd: np.ndarray, tol: Tolerance,
           claim: str, notes: list[str]) -> tuple[np.ndarray | None, str]:
    """Claimed lined up with the input's shape, and how ('' same shape, 'T' transposed,
    'reshape'); None when it cannot be lined up (then `notes` says why)."""
    if claimed.shape == shape:
        return claimed, ""
    if claimed.ndim >= 2 and np.swapaxes(claimed, -1, -2).shape == shape:
        notes.append(f"{claim} has shape {claimed.shape}, the input {shape}: transposed. "
                     f"Compared as {claim}.T; a gradient has its input's shape")
        return np.swapaxes(claimed, -1, -2), "T"
    if claimed.size == math.prod(shape):
        notes.append(f"{claim} has shape {claimed.shape} but the input has {shape}; compared "
                     "after a reshape")
        return claimed.reshape(shape), "reshape"
    text = f"{claim} has shape {claimed.shape} but the input has shape {shape}"
    try:
        fits = np.broadcast_shapes(shape, claimed.shape) == claimed.shape
    except ValueError:
        fits = False
    if fits:
        lead = claimed.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and claimed.shape[lead + i] != 1)
        summed = claimed.sum(axis=axes).reshape(shape)
        if _same(summed, autograd, tol):
            text += (f"; summed over axes {axes} it matches: the sum over the broadcast "
                     "(batch) axes is missing")
    notes.append(text)
    return None, ""


def compare(name: str, shape: tuple[int, ...], claimed_raw: object, autograd: np.ndarray,
            numeric: np.ndarray, tol: Tolerance, dims: Dims, claim: str = "claimed",
            square: bool = False, paths: list[PathContribution] | None = None,
            candidates: Candidates | None = None) -> InputCheck:
    """One input's row: errors, worst element, verdict, diagnosis."""
    claimed = np.asarray(claimed_raw, dtype=np.float64)
    notes: list[str] = []
    aligned, how = _align(claimed, shape, autograd, tol, claim, notes)
    num_ok = close(autograd, numeric, tol.numeric_rtol, tol.numeric_atol)
    numeric_error = float(np.max(np.abs(autograd - numeric))) if autograd.size else 0.0
    nan = float("nan")
    if aligned is None:
        return InputCheck(name, shape, claimed, autograd, numeric, nan, nan, numeric_error,
                          None, nan, nan, nan, "WRONG", notes, paths or [])
    ok = close(aligned, autograd, tol.rtol, tol.atol)
    ok_numeric = close(aligned, numeric, tol.numeric_rtol, tol.numeric_atol)
    if aligned.size == 0:
        worst: tuple[int, ...] | None = None
        at = (nan, nan, nan)
        max_abs = rel = 0.0
    else:
        excess = np.abs(aligned - autograd) - tol.atol - tol.rtol * np.abs(autograd)
        if ok.all():  # then show where autograd and the numeric estimate differ most
            excess = np.abs(autograd - numeric) - tol.numeric_atol
        flat = int(np.argmax(excess))
        worst = tuple(int(i) for i in np.unravel_index(flat, shape))
        at = (float(aligned[worst]), float(autograd[worst]), float(numeric[worst]))
        max_abs = float(np.max(np.abs(aligned - autograd)))
        rel = rel_error(aligned, autograd)
    if ok.all() and num_ok.all():
        verdict = {"": "ok", "reshape": "SHAPE", "T": "WRONG"}[how]
        if how == "T":
            notes.append(f"transpose: {claim}.T matches autograd")
    elif ok.all():
        verdict = "UNSURE"
    elif ok_numeric.all():
        verdict = "AUTOGRAD?"
    else:
        verdict = "WRONG"
        notes += diagnose(aligned, autograd, tol, dims, claim, square, candidates)
    if not num_ok.all():
        bad = int(np.sum(~num_ok))
        notes.append(f"autograd and the numeric estimate differ at {bad} of {autograd.size} "
                     f"elements (max {numeric_error:.3g})")
    for p in paths or []:
        p.matches_claimed = len(paths or []) > 1 and _same(aligned, p.gradient, tol)
    return InputCheck(name, shape, claimed, autograd, numeric, max_abs, rel, numeric_error,
                      worst, *at, verdict, notes, paths or [])
