"""Adam and AdamW (as `torch.optim.Adam` / `torch.optim.AdamW`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _gradients


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
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"{name}: betas should be a pair (beta1, beta2), "
                             f"got {betas!r}") from None
        _check_range(name, "beta1", beta1, 0.0, 1.0)
        _check_range(name, "beta2", beta2, 0.0, 1.0)
        _check_range(name, "weight_decay", weight_decay, 0.0)
        defaults = dict(lr=lr, betas=(float(beta1), float(beta2)), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adam update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            # weight decay is applied below: coupled (Adam) or decoupled (AdamW)
            for p, d, g in _gradients(group, l2=False):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(d)
                    state["exp_avg_sq"] = np.zeros_like(d)
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(d)
                state["step"] += 1
                t = state["step"]
                if weight_decay:
                    if self._decoupled:
                        d *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * d
                m, v = state["exp_avg"], state["exp_avg_sq"]
                # r is the one scratch array of this update.
                r = np.multiply(g, 1 - beta1)
                m *= beta1
                m += r
                np.multiply(g, g, out=r)
                r *= 1 - beta2
                v *= beta2
                v += r
                if amsgrad:
                    v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                # lr * m_hat / (sqrt(v_hat) + eps) = (lr * c2 / c1) * m / (sqrt(v) + eps * c2)
                # with c1 = 1 - beta1^t, c2 = sqrt(1 - beta2^t): one pass fewer over v.
                c2 = math.sqrt(1 - beta2**t)
                np.sqrt(v, out=r)
                r += eps * c2
                np.divide(m, r, out=r)
                r *= lr * c2 / (1 - beta1**t)
                d -= r
                p._version += 1
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
