"""Adadelta (as `torch.optim.Adadelta`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules_added
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _gradients


class Adadelta(Optimizer):
    """`Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    maximize=False)` (Zeiler, 2012). Per step, with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p
        s <- rho * s + (1 - rho) * g^2                        (square_avg, starts at 0)
        delta = sqrt(a + eps) / sqrt(s + eps) * g
        a <- rho * a + (1 - rho) * delta^2                    (acc_delta, starts at 0)
        p <- p - lr * delta

    `foreach` (PyTorch's choice of kernel) is accepted and has no effect.
    State per parameter: `step`, `square_avg`, `acc_delta`.
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        _check_range("Adadelta", "learning rate", lr, 0.0)
        _check_range("Adadelta", "rho", rho, 0.0, 1.0, open_high=False)
        _check_range("Adadelta", "eps", eps, 0.0)
        _check_range("Adadelta", "weight_decay", weight_decay, 0.0)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"square_avg": np.zeros_like(array), "acc_delta": np.zeros_like(array)}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adadelta update of every parameter with a gradient; returns the closure's
        loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group)
            _rules_added.adadelta(arrays, grads, self._states(params, group), group["lr"],
                                  group["rho"], group["eps"])
            mark_modified(*params)
        return loss
