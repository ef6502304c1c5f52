"""Adagrad (as `torch.optim.Adagrad`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _gradients


class Adagrad(Optimizer):
    """`Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, maximize=False)`. Per step t = 1, 2, ... with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p
        s <- s + g^2                        (sum, starts at initial_accumulator_value)
        p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, maximize: bool = False) -> None:
        _check_range("Adagrad", "learning rate", lr, 0.0)
        _check_range("Adagrad", "lr_decay", lr_decay, 0.0)
        _check_range("Adagrad", "weight_decay", weight_decay, 0.0)
        _check_range("Adagrad", "initial_accumulator_value", initial_accumulator_value, 0.0)
        _check_range("Adagrad", "eps", eps, 0.0)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"sum": np.full_like(array, group["initial_accumulator_value"])}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adagrad update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group)
            _rules.adagrad(arrays, grads, self._states(params, group), group["lr"],
                           group["lr_decay"], group["eps"])
            mark_modified(*params)
        return loss
