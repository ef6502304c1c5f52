"""NAdam (as `torch.optim.NAdam`)."""

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


class NAdam(Optimizer):
    """`NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False)`:
    Adam with Nesterov momentum (Dozat, 2016). Per step t = 1, 2, ... with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p, or, decoupled_weight_decay
                             (NAdamW), p <- p * (1 - lr * weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        pi_t = mu_1 * ... * mu_t                            (mu_product)
        m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p <- p - lr (1 - mu_t) / (1 - pi_t) * g / d - lr mu_{t+1} / (1 - pi_t mu_{t+1}) * m / d

    `mu_product` is rounded to float32 after each product unless the default dtype is
    float64, as PyTorch keeps it in a 0-d tensor of that dtype. `foreach` has no effect.
    State: `step`, `mu_product`, `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        _check_range("NAdam", "learning rate", lr, 0.0)
        _check_range("NAdam", "eps", eps, 0.0)
        betas = _check_betas("NAdam", betas)
        _check_range("NAdam", "weight_decay", weight_decay, 0.0)
        _check_range("NAdam", "momentum_decay", momentum_decay, 0.0)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"mu_product": 1.0, "exp_avg": np.zeros_like(array),
                "exp_avg_sq": np.zeros_like(array)}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One NAdam update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group, l2=False)
            beta1, beta2 = group["betas"]
            _rules_added.nadam(arrays, grads, self._states(params, group), group["lr"], beta1,
                               beta2, group["eps"], group["weight_decay"],
                               group["momentum_decay"], group["decoupled_weight_decay"])
            mark_modified(*params)
        return loss
