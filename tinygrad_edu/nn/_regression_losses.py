"""The regression losses (mse, l1, huber, smooth_l1), as `torch.nn.functional` has them.

Unlike the classification losses, they follow PyTorch in broadcasting a target of another,
broadcastable shape after a UserWarning. `nn.loss_functions` re-exports them.
"""

from __future__ import annotations

from typing import Any

from tinygrad_edu.modes import _state, composite
from tinygrad_edu.nn._loss_checks import (
    apply_reduction,
    broadcast_target,
    check_reduction,
    float_input,
)
from tinygrad_edu.tensor import Tensor

#: warnings point at the user's call: user -> composite wrapper -> the loss -> the check
_USER = 4


@composite("MSELoss")
def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(x - y)^2, averaged over every element by default; gradient 2 (x - y) / numel.

    A target of another shape is broadcast against the input after a UserWarning, as
    PyTorch does (the mean is then over the broadcast shape); the same holds for l1_loss,
    huber_loss and smooth_l1_loss. Shapes that do not broadcast raise."""
    name = "mse_loss"
    check_reduction(reduction, name)
    x = float_input(input, name)
    d = x - broadcast_target(x, target, name, stacklevel=_USER)
    return apply_reduction(d * d, reduction)


@composite("L1Loss")
def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """|x - y|, averaged over every element; its derivative at x = y is 0 (abs'(0) = 0)."""
    name = "l1_loss"
    check_reduction(reduction, name)
    x = float_input(input, name)
    return apply_reduction((x - broadcast_target(x, target, name, stacklevel=_USER)).abs(),
                           reduction)


@composite("HuberLoss")
def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), with d = x - y (PyTorch)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _huber(input, target, reduction, delta, 1.0, "huber_loss")


@composite("SmoothL1Loss")
def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0
                   ) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (huber_loss / beta; beta=0: L1)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return _huber(input, target, reduction, 0.0, 1.0, "smooth_l1_loss")
    return _huber(input, target, reduction, beta, 1.0 / beta, "smooth_l1_loss")


def _huber(input: Any, target: Any, reduction: str, delta: float, scale: float, name: str
           ) -> Tensor:
    check_reduction(reduction, name)
    x = float_input(input, name)
    d = x - broadcast_target(x, target, name, stacklevel=_USER + 1)  # huber_loss -> _huber
    a = d.abs()
    if delta == 0:
        return apply_reduction(a, reduction)
    # The quadratic branch squares only the d it is used for: an infinite d squared in the
    # unused branch would make the gradient 0 * inf = NaN where PyTorch's is +-delta. A NaN
    # d compares False, so it takes the linear branch and stays NaN.
    # The mask is a held comparison (compile recomputes it on every call); under compile
    # d is always masked (equal values and gradients when every |d| < delta).
    small = a < delta
    d_small = d if _state.trace is None and small.array.all() else d.where(small, 0.0)
    loss = (0.5 * d_small * d_small).where(small, delta * (a - 0.5 * delta))
    return apply_reduction(loss * scale if scale != 1.0 else loss, reduction)
