"""L-BFGS (as `torch.optim.LBFGS`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs: list[Any] = state.get("old_dirs", [])
        old_stps: list[Any] = state.get("old_stps", [])
        ro: list[Any] = state.get("ro", [])
        H_diag = state.get("H_diag")  # noqa: N806 (PyTorch's name)
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1  # noqa: N806
            else:
                d, H_diag = self._direction(state, flat_grad, prev_flat_grad, d, t,  # noqa: N806
                                            H_diag, old_dirs, old_stps, ro, history_size)
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss
            # the first step is scaled down by the gradient's size; later ones are lr
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction
                break
            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = self._clone_param()

                def obj_func(x: Any, t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
                    return self._directional_evaluate(evaluate, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # re-evaluate, except after the last iteration
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if (n_iter == max_iter or current_evals >= max_eval or opt_cond
                    or np.abs(d * t).max() <= tolerance_change
                    or abs(loss - prev_loss) < tolerance_change):
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

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
