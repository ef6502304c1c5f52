"""Rprop (as `torch.optim.Rprop`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.optim import _rules_added
from tinygrad_edu.optim.optimizer import Optimizer, ParamsT, _check_range, _gradients


class Rprop(Optimizer):
    """`Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, foreach=None,
    maximize=False)`: resilient backpropagation (Riedmiller & Braun, 1993), which uses only
    the sign of the gradient. Each element has its own step (step_size, starts at lr):

        g <- -g (maximize)
        s = sign(g * g_prev)                             (g_prev: `prev`, starts at 0)
        step <- clip(step * (etaplus if s > 0, etaminus if s < 0, 1 if s = 0),
                     step_sizes[0], step_sizes[1])
        g <- 0 where s < 0                                (the sign flipped: skip once)
        p <- p - sign(g) * step;  g_prev <- g

    `foreach` has no effect. State: `step`, `prev`, `step_size`.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        _check_range("Rprop", "learning rate", lr, 0.0)
        try:
            etaminus, etaplus = etas
            size_min, size_max = step_sizes
        except (TypeError, ValueError):
            raise ValueError(f"Rprop: etas and step_sizes should be pairs, got etas={etas!r}, "
                             f"step_sizes={step_sizes!r}") from None
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Rprop: invalid eta values {etaminus}, {etaplus}; expected "
                             "0 < etaminus < 1 < etaplus")
        defaults = dict(lr=lr, etas=(etaminus, etaplus), step_sizes=(size_min, size_max),
                        maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"prev": np.zeros_like(array), "step_size": np.full_like(array, group["lr"])}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Rprop update of every parameter with a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = _gradients(group)
            etaminus, etaplus = group["etas"]
            size_min, size_max = group["step_sizes"]
            _rules_added.rprop(arrays, grads, self._states(params, group), etaminus, etaplus,
                               size_min, size_max)
            mark_modified(*params)
        return loss
