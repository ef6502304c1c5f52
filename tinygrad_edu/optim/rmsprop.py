"""RMSprop (as `torch.optim.RMSprop`, with the courses' placement of eps as an option)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _gradients


class RMSprop(Optimizer):
    """`RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False, eps_inside_sqrt=False)`. Per step, with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p
        s <- alpha * s + (1 - alpha) * g^2                 (square_avg, starts at 0)
        a <- s - m^2 with m <- alpha * m + (1 - alpha) * g  (centered only; grad_avg)
        r <- sqrt(a) + eps        (PyTorch, and cs231n's rmsprop: `optim.course.rmsprop`)
        r <- sqrt(a + eps)        (eps_inside_sqrt=True: the rule `x -= lr*g/sqrt(cache+eps)`
                                   of CS189 and of Hinton's lecture notes)
        b <- momentum * b + g / r; p <- p - lr * b      (momentum > 0; momentum_buffer)
        p <- p - lr * g / r                              (momentum = 0)

    `alpha` is the courses' `decay_rate`. The two eps placements differ most where the
    cache is tiny: sqrt(cache) + 1e-8 can divide by ~1e-8, sqrt(cache + 1e-8) by >= 1e-4.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, maximize: bool = False,
                 eps_inside_sqrt: bool = False) -> None:
        _check_range("RMSprop", "learning rate", lr, 0.0)
        _check_range("RMSprop", "alpha", alpha, 0.0)
        _check_range("RMSprop", "eps", eps, 0.0)
        _check_range("RMSprop", "weight_decay", weight_decay, 0.0)
        _check_range("RMSprop", "momentum", momentum, 0.0)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize,
                        eps_inside_sqrt=eps_inside_sqrt)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"square_avg": np.zeros_like(array)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(array)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(array)
        return state

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RMSprop update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group)
            _rules.rmsprop(arrays, grads, self._states(params, group), group["lr"],
                           group["alpha"], group["eps"], group["eps_inside_sqrt"],
                           group["centered"], group["momentum"])
            mark_modified(*params)
        return loss
