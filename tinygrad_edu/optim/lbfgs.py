"""L-BFGS (as `torch.optim.LBFGS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu.autograd import enable_grad, mark_modified, no_grad
from tinygrad_edu.optim._line_search import strong_wolfe
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _writable
from tinygrad_edu.tensor import Tensor


class LBFGS(Optimizer):
    """`LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None)`: limited-memory BFGS,
    PyTorch's algorithm (after minFunc) step for step. One `step(closure)` runs up to
    `max_iter` iterations (and `max_eval`, default max_iter * 5 // 4, loss evaluations);
    the closure clears the gradients, computes the loss, calls backward and returns it.

    All parameters form one flat vector x with gradient g. Each iteration:

        d = -H g   (two-loop recursion over the last `history_size` pairs
                    s = x_k+1 - x_k, y = g_k+1 - g_k with y.s > 1e-10; H_0 = (y.s / y.y) I)
        t = min(1, 1 / |g|_1) * lr on the first iteration, else lr
        x <- x + t d   (line_search_fn=None), or with t from the strong-Wolfe line search

    and stops when max|g| <= tolerance_grad, max|t d| <= tolerance_change, the loss changes
    by less than tolerance_change, or the budgets run out. Returns the closure's first
    loss. Only one parameter group; the state (directions, steps, counters) is kept under
    the first parameter, as PyTorch does.

    Unlike PyTorch (which fails at the first step), an unknown `line_search_fn` is refused
    at construction.
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        _check_range("LBFGS", "learning rate", lr, 0.0)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn should be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             f"got {len(self.param_groups)} groups")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    # ------------------------------------------------------------------ the flat vector
    def _gather_flat_grad(self) -> np.ndarray:
        """All gradients as one new vector (zeros for a parameter without one)."""
        return np.concatenate([np.zeros(p.numel(), p.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in self._params])

    def _add_grad(self, step_size: Any, update: np.ndarray) -> None:
        """x <- x + step_size * update, parameter by parameter."""
        offset = 0
        for p in self._params:
            n = p.numel()
            array = _writable(p)
            array += step_size * update[offset:offset + n].reshape(p.shape)
            offset += n
        mark_modified(*self._params)

    def _clone_param(self) -> list[np.ndarray]:
        return [p.array.copy() for p in self._params]

    def _set_param(self, params_data: list[np.ndarray]) -> None:
        for p, data in zip(self._params, params_data):
            _writable(p)[...] = data
        mark_modified(*self._params)

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[np.ndarray],
                              t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss and gradient at x + t d (the parameters are put back to x after)."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ the step
    @no_grad()
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Up to `max_iter` L-BFGS iterations; returns the closure's first loss."""
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step: a closure is required (a function that clears the "
                            "gradients, computes the loss, calls backward and returns it)")

        def evaluate() -> Any:
            with enable_grad():  # the closure builds a graph and calls backward
                return closure()

        group = self.param_groups[0]
        # read once, before the closure runs, as PyTorch does
        settings = _Settings(**{name: group[name] for name in _Settings._fields})
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= settings.tolerance_grad:  # already optimal
            return orig_loss
        self._iterate(evaluate, group, settings, state, loss, flat_grad)
        return orig_loss

    def _iterate(self, evaluate: Callable[[], Any], group: dict[str, Any],
                 settings: _Settings, state: dict[str, Any], loss: float,
                 flat_grad: np.ndarray) -> None:
        """The iterations of one step, from the current point's loss and flat gradient:
        each picks a direction d and a step length t, moves x (by t d, or where the line
        search stops) and checks the stopping tests. The memory kept from one step to the
        next is read from `state` first and written back last."""
        memory = _Memory.load(state)
        current_evals = 1  # the step's first evaluation, made by `step`
        n_iter = 0
        while n_iter < settings.max_iter:
            n_iter += 1
            state["n_iter"] += 1
            self._choose_direction(memory, state, flat_grad, loss, settings.history_size)
            # the first step is scaled down by the gradient's size; later ones are lr
            memory.t = (min(1.0, 1.0 / np.abs(flat_grad).sum()) * settings.lr
                        if state["n_iter"] == 1 else settings.lr)
            gtd = flat_grad.dot(memory.d)  # the slope of the loss along d
            if gtd > -settings.tolerance_change:  # not a descent direction
                break
            loss, flat_grad, memory.t, ls_func_evals, opt_cond = self._move(
                evaluate, group["line_search_fn"], memory.d, memory.t, loss, flat_grad, gtd,
                settings.max_eval - current_evals, n_iter == settings.max_iter,
                settings.tolerance_grad)
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if _should_stop(settings, n_iter, current_evals, opt_cond, memory, loss):
                break
        memory.save(state)

    def _choose_direction(self, memory: _Memory, state: dict[str, Any],
                          flat_grad: np.ndarray, loss: float, history_size: int) -> None:
        """Set memory.d: the steepest descent -g on the optimizer's very first iteration
        (which starts an empty history), else the quasi-Newton direction -H g. Then keep
        the gradient and the loss as the previous ones."""
        if state["n_iter"] == 1:
            memory.d = -flat_grad
            memory.old_dirs, memory.old_stps, memory.ro = [], [], []
            memory.h_diag = 1
        else:
            memory.d, memory.h_diag = self._direction(
                state, flat_grad, memory.prev_flat_grad, memory.d, memory.t, memory.h_diag,
                memory.old_dirs, memory.old_stps, memory.ro, history_size)
        if memory.prev_flat_grad is None:
            memory.prev_flat_grad = flat_grad.copy()
        else:
            memory.prev_flat_grad[...] = flat_grad  # in place, as PyTorch's copy_
        memory.prev_loss = loss

    def _move(self, evaluate: Callable[[], Any], line_search_fn: str | None, d: np.ndarray,
              t: Any, loss: float, flat_grad: np.ndarray, gtd: Any, max_ls: int,
              last_iteration: bool, tolerance_grad: float
              ) -> tuple[float, np.ndarray, Any, int, Any]:
        """Move x along d; returns the new loss, flat gradient and step length, the number
        of closure calls made, and whether the gradient is now small enough (opt_cond).

        With the strong-Wolfe line search (at most max_ls evaluations), x moves by the step
        it finds; without, x moves by t d and is evaluated once, except after the last
        iteration (the loss and gradient are then those before the move)."""
        if line_search_fn == "strong_wolfe":
            x_init = self._clone_param()

            def obj_func(x: Any, t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
                return self._directional_evaluate(evaluate, x, t, d)

            loss, flat_grad, t, ls_func_evals = strong_wolfe(
                obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_ls)
            self._add_grad(t, d)
            return loss, flat_grad, t, ls_func_evals, np.abs(flat_grad).max() <= tolerance_grad
        self._add_grad(t, d)
        if last_iteration:  # no re-evaluation after the last iteration
            return loss, flat_grad, t, 0, False
        loss = float(evaluate())
        flat_grad = self._gather_flat_grad()
        return loss, flat_grad, t, 1, np.abs(flat_grad).max() <= tolerance_grad

    @staticmethod
    def _direction(state: dict[str, Any], flat_grad: np.ndarray, prev_flat_grad: Any,
                   d: Any, t: Any, h_diag: Any, old_dirs: list[Any], old_stps: list[Any],
                   ro: list[Any], history_size: int) -> tuple[np.ndarray, Any]:
        """Record the last pair (s, y) when y.s > 1e-10 (positive curvature), then
        d = -H g by the two-loop recursion; returns d and the scale H_0 = h_diag I. Updates
        the histories in place."""
        y = flat_grad - prev_flat_grad
        s = d * t
        ys = y.dot(s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:  # forget the oldest pair
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            h_diag = ys / y.dot(y)
        if "al" not in state:
            state["al"] = [None] * history_size
        al = state["al"]
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q += -al[i] * old_dirs[i]
        r = q * h_diag
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r, h_diag

    def _restore_entry(self, name: str, index: int, key: str, value: Any, p: Tensor) -> Any:
        """LBFGS's state is flat vectors, lists of them, numbers and counters."""
        return _restore_plain(value, key in ("func_evals", "n_iter"))


class _Settings(NamedTuple):
    """The hyperparameters one `LBFGS.step` uses, read at its start."""

    lr: float
    max_iter: int
    max_eval: int
    tolerance_grad: float
    tolerance_change: float
    history_size: int


@dataclass
class _Memory:
    """What L-BFGS carries from one iteration to the next, and between steps in its state
    (under PyTorch's names): the last direction d and step length t; the curvature pairs,
    old_dirs (y = g_k+1 - g_k), old_stps (s = x_k+1 - x_k) and ro (1 / y.s); the scale
    h_diag of H_0 = h_diag I; and the previous flat gradient and loss."""

    d: Any
    t: Any
    old_dirs: list[Any]
    old_stps: list[Any]
    ro: list[Any]
    h_diag: Any
    prev_flat_grad: Any
    prev_loss: Any

    @classmethod
    def load(cls, state: dict[str, Any]) -> _Memory:
        """The memory in `state` (None, or empty histories, before the first step)."""
        return cls(state.get("d"), state.get("t"), state.get("old_dirs", []),
                   state.get("old_stps", []), state.get("ro", []), state.get("H_diag"),
                   state.get("prev_flat_grad"), state.get("prev_loss"))

    def save(self, state: dict[str, Any]) -> None:
        state.update(d=self.d, t=self.t, old_dirs=self.old_dirs, old_stps=self.old_stps,
                     ro=self.ro, H_diag=self.h_diag, prev_flat_grad=self.prev_flat_grad,
                     prev_loss=self.prev_loss)


def _should_stop(settings: _Settings, n_iter: int, current_evals: int, opt_cond: Any,
                 memory: _Memory, loss: float) -> bool:
    """The convergence tests after a move, in PyTorch's order: the iteration budget, the
    evaluation budget, a gradient small enough (opt_cond), a move shorter than
    tolerance_change, a loss that changed by less than tolerance_change."""
    tolerance_change = settings.tolerance_change
    return bool(n_iter == settings.max_iter or current_evals >= settings.max_eval or opt_cond
                or np.abs(memory.d * memory.t).max() <= tolerance_change
                or abs(loss - memory.prev_loss) < tolerance_change)


def _restore_plain(value: Any, integer: bool = False) -> Any:
    if isinstance(value, Tensor):
        value = value.array
    elif hasattr(value, "__array__") and not isinstance(value, np.ndarray | np.generic):
        value = np.asarray(value)  # e.g. a torch.Tensor from a state dict PyTorch saved
    if isinstance(value, list | tuple):
        return [_restore_plain(v) for v in value]
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return value.copy()
    if isinstance(value, np.ndarray | np.generic):
        value = value.item()
    return int(value) if integer else value
