"""RMSprop (as `torch.optim.RMSprop`, with the courses' placement of eps as an option)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import no_grad
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

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RMSprop update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            momentum = group["momentum"]
            centered, inside = group["centered"], group["eps_inside_sqrt"]
            for p, d, g in _gradients(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(d)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(d)
                    if centered:
                        state["grad_avg"] = np.zeros_like(d)
                state["step"] += 1
                square_avg = state["square_avg"]
                # r is the one scratch array of this update (the hand-written rule needs more).
                r = np.multiply(g, g)
                r *= 1 - alpha
                square_avg *= alpha
                square_avg += r
                if centered:
                    grad_avg = state["grad_avg"]
                    grad_avg *= alpha
                    np.multiply(g, 1 - alpha, out=r)
                    grad_avg += r
                    np.multiply(grad_avg, grad_avg, out=r)
                    avg = np.subtract(square_avg, r, out=r)
                else:
                    avg = square_avg
                if inside:
                    np.add(avg, eps, out=r)
                    np.sqrt(r, out=r)
                else:
                    np.sqrt(avg, out=r)
                    r += eps
                np.divide(g, r, out=r)
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += r
                    np.multiply(buf, lr, out=r)
                else:
                    r *= lr
                d -= r
                p._version += 1
        return loss
