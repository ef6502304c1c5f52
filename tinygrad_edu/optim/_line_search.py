"""The strong-Wolfe line search of `LBFGS(line_search_fn='strong_wolfe')`, on numpy vectors,
step for step as PyTorch's (`torch/optim/lbfgs.py`, itself after minFunc): a bracketing
phase that grows the step by cubic extrapolation, then a zoom phase that shrinks the bracket
by cubic interpolation, safeguarded against steps too close to its ends.

A step t along the direction d is accepted when it decreases the loss enough and flattens
the slope enough (the strong Wolfe conditions):

    f(x + t d) <= f(x) + c1 t g.d        and        |g(x + t d).d| <= -c2 g.d
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# obj_func(x, t, d) -> (loss at x + t d, flat gradient there)
Objective = Callable[[Any, Any, np.ndarray], tuple[float, np.ndarray]]


def cubic_interpolate(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
                      bounds: tuple[Any, Any] | None = None) -> Any:
    """The minimiser, clipped to `bounds` (default: the two points), of the cubic through
    (x1, f1) and (x2, f2) with slopes g1 and g2; the middle of the bounds when the cubic has
    no minimum (Nocedal & Wright, eq. 3.59)."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(obj_func: Objective, x: Any, t: Any, d: np.ndarray, f: float,
                 g: np.ndarray, gtd: Any, c1: float = 1e-4, c2: float = 0.9,
                 tolerance_change: float = 1e-9, max_ls: int = 25
                 ) -> tuple[float, np.ndarray, Any, int]:
    """Search along d from x (loss f, gradient g, slope gtd = g.d) starting at step t;
    returns (loss, gradient, step, number of evaluations). The bracketing phase looks for
    an interval that holds an acceptable step, then (unless it found one already) the zoom
    phase shrinks it; both together make at most max_ls evaluations after the first."""

    def evaluate(step: Any) -> tuple[float, np.ndarray, Any]:
        f_step, g_step = obj_func(x, step, d)
        return f_step, g_step, g_step.dot(d)

    d_norm = np.abs(d).max()
    g = g.copy()
    wolfe = _Wolfe(f, gtd, c1, c2)
    bracket, done, ls_iter = _bracket_phase(evaluate, wolfe, t, g, max_ls)
    low_pos, high_pos = bracket.low_high()
    if not done:
        low_pos, ls_iter = _zoom_phase(evaluate, wolfe, bracket, low_pos, high_pos, ls_iter,
                                       max_ls, tolerance_change, d_norm)
    # one evaluation before the phases, then one per iteration of either phase
    return bracket.f[low_pos], bracket.g[low_pos], bracket.t[low_pos], ls_iter + 1


# evaluate(t) -> (loss, flat gradient, slope g.d) at x + t d: one call of the objective
_Evaluate = Callable[[Any], tuple[float, np.ndarray, Any]]


@dataclass(frozen=True)
class _Wolfe:
    """The two strong Wolfe conditions of a search that starts from loss f with slope gtd
    (negative: d descends). Written as PyTorch writes them, so that a NaN fails alike."""

    f: float
    gtd: Any
    c1: float
    c2: float

    def too_little_decrease(self, t: Any, f_new: Any) -> bool:
        """The sufficient-decrease (Armijo) condition fails at step t."""
        return bool(f_new > (self.f + self.c1 * t * self.gtd))

    def flat_enough(self, gtd_new: Any) -> bool:
        """The curvature condition holds: the slope has shrunk to at most c2 times."""
        return bool(abs(gtd_new) <= -self.c2 * self.gtd)


@dataclass
class _Bracket:
    """Steps with their loss f, gradient g and slope gtd = g.d (PyTorch's `bracket`,
    `bracket_f`, `bracket_g`, `bracket_gtd`): the two ends, in either order, of an interval
    that holds an acceptable step; or the single step found acceptable."""

    t: list[Any]
    f: list[Any]
    g: list[np.ndarray]
    gtd: list[Any] = field(default_factory=list)

    def set_end(self, pos: int, t: Any, f: Any, g: np.ndarray, gtd: Any) -> None:
        """Replace the end at position pos (0 or 1)."""
        self.t[pos], self.f[pos], self.g[pos], self.gtd[pos] = t, f, g, gtd

    def low_high(self) -> tuple[int, int]:
        """The positions of the end with the lower loss and of the other end."""
        return (0, 1) if self.f[0] <= self.f[-1] else (1, 0)


def _bracket_phase(evaluate: _Evaluate, wolfe: _Wolfe, t: Any, g: np.ndarray,
                   max_ls: int) -> tuple[_Bracket, bool, int]:
    """Bracketing phase: evaluate step t and, while it decreases the loss enough but the
    slope is still steep and negative, grow it by cubic extrapolation. Returns the bracket,
    whether its single step is already acceptable (done), and the number of extrapolations.

    An acceptable step lies between the previous step and t once t decreases the loss too
    little (or, after two extrapolations, no more than the previous step) or the slope at t
    is no longer negative; t itself is acceptable when it is flat enough. After max_ls
    extrapolations the bracket is [0, t]."""
    f_new, g_new, gtd_new = evaluate(t)
    t_prev, f_prev, g_prev, gtd_prev = 0, wolfe.f, g, wolfe.gtd
    ls_iter = 0
    while ls_iter < max_ls:
        if wolfe.too_little_decrease(t, f_new) or (ls_iter > 1 and f_new >= f_prev):
            return _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()],
                            [gtd_prev, gtd_new]), False, ls_iter
        if wolfe.flat_enough(gtd_new):
            return _Bracket([t], [f_new], [g_new]), True, ls_iter
        if gtd_new >= 0:  # the loss rises again beyond t: a minimum lies before it
            return _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()],
                            [gtd_prev, gtd_new]), False, ls_iter
        # extrapolate, at least 1% beyond t and at most 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new, gtd_new = evaluate(t)
        ls_iter += 1
    if ls_iter == max_ls:  # reached the maximum number of evaluations
        return _Bracket([0, t], [wolfe.f, f_new], [g, g_new]), False, ls_iter
    return _Bracket([], [], []), False, ls_iter  # max_ls < 0: no bracket (PyTorch fails too)


def _zoom_phase(evaluate: _Evaluate, wolfe: _Wolfe, bracket: _Bracket, low_pos: int,
                high_pos: int, ls_iter: int, max_ls: int, tolerance_change: float,
                d_norm: Any) -> tuple[int, int]:
    """Zoom phase: shrink the bracket (in place) until a step in it is acceptable, it is too
    narrow to move x by tolerance_change, or the evaluations reach max_ls. Returns the
    position of the low end (the result) and the number of iterations of both phases.

    Each trial step (see `_zoom_trial_step`) replaces the high end when it decreases the
    loss too little or no more than the low end, else the low end; when the slope at the
    trial step points back towards the high end, the old low end becomes the high end, so
    that the bracket still holds a minimum."""
    insuf_progress = False
    done = False
    while not done and ls_iter < max_ls:
        if abs(bracket.t[1] - bracket.t[0]) * d_norm < tolerance_change:
            break
        t, insuf_progress = _zoom_trial_step(bracket, insuf_progress)
        f_new, g_new, gtd_new = evaluate(t)
        ls_iter += 1
        if wolfe.too_little_decrease(t, f_new) or f_new >= bracket.f[low_pos]:
            bracket.set_end(high_pos, t, f_new, g_new.copy(), gtd_new)
            low_pos, high_pos = bracket.low_high()
        else:
            if wolfe.flat_enough(gtd_new):
                done = True
            elif gtd_new * (bracket.t[high_pos] - bracket.t[low_pos]) >= 0:
                bracket.set_end(high_pos, bracket.t[low_pos], bracket.f[low_pos],
                                bracket.g[low_pos], bracket.gtd[low_pos])
            bracket.set_end(low_pos, t, f_new, g_new.copy(), gtd_new)
    return low_pos, ls_iter


def _zoom_trial_step(bracket: _Bracket, insuf_progress: bool) -> tuple[Any, bool]:
    """The next step to try inside the two-ended bracket: the minimiser of the cubic through
    its ends, safeguarded. A point within 10% of an end makes little progress; after two
    such points in a row (or one outside the bracket) it moves to 10% inside. Returns the
    step and the new `insuf_progress` (whether this step was such a point, left as is)."""
    t = cubic_interpolate(bracket.t[0], bracket.f[0], bracket.gtd[0],
                          bracket.t[1], bracket.f[1], bracket.gtd[1])
    eps = 0.1 * (max(bracket.t) - min(bracket.t))
    if min(max(bracket.t) - t, t - min(bracket.t)) < eps:
        if insuf_progress or t >= max(bracket.t) or t <= min(bracket.t):
            if abs(t - max(bracket.t)) < abs(t - min(bracket.t)):
                t = max(bracket.t) - eps
            else:
                t = min(bracket.t) + eps
            return t, False
        return t, True
    return t, False
