"""Stochastic gradient descent, with momentum and Nesterov momentum (as `torch.optim.SGD`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _gradients


class SGD(Optimizer):
    """`SGD(params, lr=1e-3, momentum=0, dampening=0, nesterov=False, weight_decay=0,
    maximize=False)`, PyTorch's formulas. Per step, with g the gradient:

        g <- -g                          (maximize)
        g <- g + weight_decay * p        (L2 penalty 0.5*wd*|p|^2 folded into the gradient)
        b <- g  (first step),  b <- momentum * b + (1 - dampening) * g  (later steps)
        g <- g + momentum * b  (nesterov)  or  g <- b
        p <- p - lr * g

    The courses write momentum as `v = mu*v - lr*g; p += v`: at a constant lr that is the
    same trajectory (v = -lr * b). When lr changes, PyTorch's form applies the new lr to the
    whole buffer, the courses' form only to the new gradient.
    State per parameter: `momentum_buffer` (only when momentum != 0).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 maximize: bool = False) -> None:
        _check_range("SGD", "learning rate", lr, 0.0)
        _check_range("SGD", "momentum", momentum, 0.0)
        _check_range("SGD", "weight_decay", weight_decay, 0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0 "
                             f"(got momentum={momentum}, dampening={dampening})")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One SGD update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group)
            momentum = group["momentum"]
            states = [self.state[p] for p in params] if momentum else ()
            _rules.sgd(arrays, grads, group["lr"], states, momentum, group["dampening"],
                       group["nesterov"])
            mark_modified(*params)
        return loss
