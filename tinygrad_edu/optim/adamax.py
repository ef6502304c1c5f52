"""Adamax (as `torch.optim.Adamax`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules_added
from tinygrad_edu.optim.optimizer import (
    Optimizer,
    ParamsT,
    _check_betas,
    _check_range,
    _gradients,
)


class Adamax(Optimizer):
    """`Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
    *, maximize=False)`: Adam with the infinity norm (Kingma & Ba, 2015, section 7). Per
    step t = 1, 2, ... with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p
        m <- beta1 * m + (1 - beta1) * g                  (exp_avg, starts at 0)
        u <- max(beta2 * u, |g| + eps)                     (exp_inf, starts at 0)
        p <- p - lr / (1 - beta1^t) * m / u

    `foreach` is accepted and has no effect. State: `step`, `exp_avg`, `exp_inf`.
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        _check_range("Adamax", "learning rate", lr, 0.0)
        _check_range("Adamax", "eps", eps, 0.0)
        betas = _check_betas("Adamax", betas)
        _check_range("Adamax", "weight_decay", weight_decay, 0.0)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": np.zeros_like(array), "exp_inf": np.zeros_like(array)}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adamax update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group)
            beta1, beta2 = group["betas"]
            _rules_added.adamax(arrays, grads, self._states(params, group), group["lr"],
                                beta1, beta2, group["eps"])
            mark_modified(*params)
        return loss
