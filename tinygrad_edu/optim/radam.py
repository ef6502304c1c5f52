"""RAdam (as `torch.optim.RAdam`)."""

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


class RAdam(Optimizer):
    """`RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False)`: rectified Adam (Liu et
    al., 2020). Per step t = 1, 2, ... with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p, or, decoupled_weight_decay,
                             p <- p * (1 - lr * weight_decay)
        m, v as Adam's; m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:  p <- p - lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps),
                    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise:  p <- p - lr * m_hat        (the first steps, while v is unreliable)

    `foreach` has no effect. State: `step`, `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        _check_range("RAdam", "learning rate", lr, 0.0)
        _check_range("RAdam", "eps", eps, 0.0)
        betas = _check_betas("RAdam", betas)
        _check_range("RAdam", "weight_decay", weight_decay, 0.0)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": np.zeros_like(array), "exp_avg_sq": np.zeros_like(array)}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RAdam update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group, l2=False)
            beta1, beta2 = group["betas"]
            _rules_added.radam(arrays, grads, self._states(params, group), group["lr"], beta1,
                               beta2, group["eps"], group["weight_decay"],
                               group["decoupled_weight_decay"])
            mark_modified(*params)
        return loss
