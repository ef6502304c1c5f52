"""The elementwise term of `binary_cross_entropy` as one primitive, fused for stability: its
value and its gradient are PyTorch's, and both stay finite at p = 0 and p = 1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.autograd import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

#: PyTorch's lower bound for each log in the value
LOG_FLOOR = -100.0
#: PyTorch's lower bound for p (1 - p) in the gradient's denominator
EPSILON = 1e-12


def clamped_log_array(p: np.ndarray) -> np.ndarray:
    """max(log p, -100), with log 0 = -inf becoming -100. Never NaN for p in [0, 1]."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), LOG_FLOOR)


def clamped_log1m_array(p: np.ndarray) -> np.ndarray:
    """max(log(1 - p), -100), computed as log1p(-p) as PyTorch does: log(1 - p) loses
    the digits of a small p (2e-4 relative error at p = 1e-4 in float32)."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log1p(-p), LOG_FLOOR)


def clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100) as Tensor ops (its derivative is 1/p, and 0 where the clamp holds);
    log never sees a 0, so no inf reaches the gradient."""
    positive = p.array > 0
    safe = p if positive.all() else p.where(positive, 1.0)
    logs = safe.log()
    return logs.where(positive & (logs.array >= LOG_FLOOR), LOG_FLOOR)


def clamped_log1m(p: Tensor) -> Tensor:
    """max(log(1 - p), -100) as Tensor ops, through log1p; see `clamped_log`."""
    below_one = p.array < 1
    safe = p if below_one.all() else p.where(below_one, 0.0)
    logs = (-safe).log1p()
    return logs.where(below_one & (logs.array >= LOG_FLOOR), LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """l = -(y max(log p, -100) + (1 - y) max(log(1 - p), -100)), elementwise, p in [0, 1].

    dl/dp = (p - y) / max(p (1 - p), 1e-12): PyTorch's gradient. Where p (1 - p) >= 1e-12
    it is the derivative of the value, -y/p + (1 - y)/(1 - p). Near and at p = 0 or 1 it
    is the bounded +-1/1e-12 (times |p - y|) rather than 1/p, which overflows float32 for
    p below 3e-39, and rather than 0, the derivative of the clamp (p = 0 with y = 1 still
    pushes p up). dl/dy = max(log(1 - p), -100) - max(log p, -100): the derivative of the
    value, finite everywhere (PyTorch leaves these logs unclamped: +-inf at p = 0 or 1).
    The backward is Tensor maths, so second derivatives work; they agree with PyTorch's
    where p (1 - p) > 1e-12 (PyTorch's double backward uses a different epsilon form).
    """

    __slots__ = ()

    def forward(self, p: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -(y * clamped_log_array(p) + (1 - y) * clamped_log1m_array(p))

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        p, y = self.inputs
        need_p, need_y = self.needs_input_grad
        dp = grad * (p - y) / (p * (1.0 - p)).maximum(EPSILON) if need_p else None
        dy = grad * (clamped_log1m(p) - clamped_log(p)) if need_y else None
        return dp, dy
