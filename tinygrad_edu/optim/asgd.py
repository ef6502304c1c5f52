"""Averaged SGD (as `torch.optim.ASGD`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules_added
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _gradients


class ASGD(Optimizer):
    """`ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
    maximize=False)`: SGD with a decaying step and a running average of the iterates
    (Polyak & Juditsky, 1992). Per step t = 1, 2, ... with g the gradient:

        g <- -g (maximize);  g <- g + weight_decay * p
        p <- p * (1 - lambd * eta) - eta * g          (eta: starts at lr)
        ax <- ax + mu * (p - ax)                       (ax: the average; mu starts at 1)
        eta <- lr / (1 + lambd * lr * t)^alpha;  mu <- 1 / max(1, t - t0)

    The average starts at step t0: until then mu = 1 and ax is a copy of p. Read the
    averaged parameters from `optimizer.state[p]['ax']`. `eta` and `mu` are rounded to
    float32 unless the default dtype is float64, as PyTorch keeps them in 0-d tensors.
    `foreach` has no effect. State: `step`, `eta`, `mu`, `ax`.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        _check_range("ASGD", "learning rate", lr, 0.0)
        _check_range("ASGD", "weight_decay", weight_decay, 0.0)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"eta": _rules_added.scalar_round(group["lr"]), "mu": 1.0,
                "ax": np.zeros_like(array)}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One ASGD update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group)
            _rules_added.asgd(arrays, grads, self._states(params, group), group["lr"],
                              group["lambd"], group["alpha"], group["t0"])
            mark_modified(*params)
        return loss
