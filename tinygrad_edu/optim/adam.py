"""Adam and AdamW (as `torch.optim.Adam` / `torch.optim.AdamW`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules
from tinygrad_edu.optim.optimizer import (
    Optimizer,
    ParamsT,
    _check_betas,
    _check_range,
    _gradients,
)


class Adam(Optimizer):
    """`Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
    maximize=False)`. Per step t = 1, 2, ... with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p   (L2 folded into the gradient)
        m <- beta1 * m + (1 - beta1) * g                  (exp_avg, starts at 0)
        v <- beta2 * v + (1 - beta2) * g^2                (exp_avg_sq, starts at 0)
        v_max <- max(v_max, v); use v_max for v           (amsgrad; max_exp_avg_sq)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - beta1^t),
                                                    v_hat = v / (1 - beta2^t)

    This is also cs231n's `adam` (`optim.course.adam`, which increments t before use).
    State per parameter: `step`, `exp_avg`, `exp_avg_sq` (and `max_exp_avg_sq`).
    """

    _decoupled = False

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        name = type(self).__name__
        _check_range(name, "learning rate", lr, 0.0)
        _check_range(name, "eps", eps, 0.0)
        beta1, beta2 = _check_betas(name, betas)
        _check_range(name, "weight_decay", weight_decay, 0.0)
        defaults = dict(lr=lr, betas=(beta1, beta2), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"exp_avg": np.zeros_like(array), "exp_avg_sq": np.zeros_like(array)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(array)
        return state

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adam update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            # weight decay is the rule's: coupled (Adam) or decoupled (AdamW)
            params, arrays, grads = _gradients(group, l2=False)
            beta1, beta2 = group["betas"]
            _rules.adam(arrays, grads, self._states(params, group), group["lr"], beta1, beta2,
                        group["eps"], group["weight_decay"], self._decoupled, group["amsgrad"])
            mark_modified(*params)
        return loss


class AdamW(Adam):
    """`AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, maximize=False)`: Adam with decoupled weight decay (Loshchilov & Hutter):
    each step first shrinks p <- p * (1 - lr * weight_decay), then applies Adam's update
    without any decay term in the gradient (so m and v never see the penalty).
    """

    _decoupled = True

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
