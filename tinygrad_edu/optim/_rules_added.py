"""The update rules of Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD, each written once, in
place, on numpy arrays, in the form of `optim._rules`: `params` and `grads` (the gradient
already negated under `maximize` and, where the rule folds it in, with the L2 term added:
`optimizer._gradients`) and `states`, each parameter's state dict under PyTorch's names,
its `step` already advanced (t = 1 on the first update).

The operations follow PyTorch's single-tensor code (`torch/optim/*.py`) term by term, so
float64 trajectories agree with its to rounding. Two of PyTorch's states are 0-d tensors of
its "scalar dtype" (float32 unless the default dtype is float64): NAdam's `mu_product` and
ASGD's `eta` and `mu`. They are kept here as Python floats rounded the same way
(`scalar_round`), because the rounding shows in the trajectory at the 1e-7 level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu.modes import get_default_dtype

Arrays = list[np.ndarray]
States = Sequence[dict[str, Any]]


def scalar_round(x: float) -> float:
    """x stored in PyTorch's scalar dtype: float64 under a float64 default dtype, else
    float32 (`torch.optim.optimizer._get_scalar_dtype`)."""
    return float(x) if get_default_dtype() == np.float64 else float(np.float32(x))


def scalar_mul(a: float, b: float) -> float:
    """`a *= b` on a 0-d tensor of the scalar dtype: float32 multiplies float32(b)."""
    if get_default_dtype() == np.float64:
        return a * b
    return float(np.float32(a) * np.float32(b))


def adadelta(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
             rho: float, eps: float) -> None:
    """s <- rho * s + (1 - rho) * g^2 (`square_avg`);
    delta = sqrt(a + eps) / sqrt(s + eps) * g; a <- rho * a + (1 - rho) * delta^2
    (`acc_delta`); p <- p - lr * delta."""
    for p, g, state in zip(params, grads, states):
        s, a = state["square_avg"], state["acc_delta"]
        s *= rho
        s += (1 - rho) * (g * g)
        std = np.sqrt(s + eps)
        delta = np.sqrt(a + eps)
        delta /= std
        delta *= g
        a *= rho
        a += (1 - rho) * (delta * delta)
        p -= lr * delta


def adamax(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
           beta1: float, beta2: float, eps: float) -> None:
    """m <- m + (1 - beta1) * (g - m) (`exp_avg`); u <- max(beta2 * u, |g| + eps)
    (`exp_inf`); p <- p - lr / (1 - beta1^t) * m / u."""
    for p, g, state in zip(params, grads, states):
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - beta1) * (g - m)
        u *= beta2
        np.maximum(u, np.abs(g) + eps, out=u)
        clr = lr / (1 - beta1 ** state["step"])
        p -= clr * m / u


def _decay(p: np.ndarray, g: np.ndarray, lr: float, weight_decay: float,
           decoupled: bool) -> np.ndarray:
    """AdamW's p <- p * (1 - lr * wd) (decoupled) or Adam's g <- g + wd * p; the gradient."""
    if weight_decay:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    return g


def nadam(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
          beta1: float, beta2: float, eps: float, weight_decay: float,
          momentum_decay: float, decoupled: bool) -> None:
    """mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)); pi_t = prod mu_1..mu_t
    (`mu_product`); m, v as Adam's; denom = sqrt(v / (1 - beta2^t)) + eps;
    p <- p - lr * (1 - mu_t) / (1 - pi_t) * g / denom
          - lr * mu_{t+1} / (1 - pi_t * mu_{t+1}) * m / denom."""
    for p, g, state in zip(params, grads, states):
        t = state["step"]
        g = _decay(p, g, lr, weight_decay, decoupled)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        state["mu_product"] = mu_product = scalar_mul(state["mu_product"], mu)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * (g * g)
        denom = np.sqrt(v / (1 - beta2**t))
        denom += eps
        p += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        p += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * m / denom


def radam(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
          beta1: float, beta2: float, eps: float, weight_decay: float,
          decoupled: bool) -> None:
    """m, v as Adam's; rho_inf = 2 / (1 - beta2) - 1,
    rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t). When rho_t > 5 (the variance of the
    adaptive step is tractable): p <- p - lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps),
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t));
    else SGD with momentum: p <- p - lr * m_hat."""
    for p, g, state in zip(params, grads, states):
        t = state["step"]
        g = _decay(p, g, lr, weight_decay, decoupled)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * (g * g)
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t
        m_hat = m / bias1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = bias2**0.5 / (np.sqrt(v) + eps)
            p -= m_hat * lr * adaptive * rect
        else:
            p -= m_hat * lr


def rprop(params: Arrays, grads: Sequence[np.ndarray], states: States, etaminus: float,
          etaplus: float, step_size_min: float, step_size_max: float) -> None:
    """Per element, from the sign of g * g_prev (`prev`): > 0 grows the step (`step_size`)
    by etaplus, < 0 shrinks it by etaminus and skips this update (g counts as 0, also for
    the next comparison), 0 keeps it; the step is clipped to [min, max];
    p <- p - sign(g) * step_size."""
    for p, g, state in zip(params, grads, states):
        prev, step_size = state["prev"], state["step_size"]
        # the factor replaces the sign in place, in the parameter's dtype, as PyTorch's
        factor = _torch_sign(g * prev).astype(p.dtype, copy=False)
        flipped = factor < 0
        factor[factor > 0] = etaplus
        factor[flipped] = etaminus
        factor[factor == 0] = 1
        step_size *= factor
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        g = np.where(flipped, 0, g).astype(p.dtype, copy=False)
        p -= _torch_sign(g) * step_size
        prev[...] = g


def _torch_sign(x: np.ndarray) -> np.ndarray:
    """sign(x) as torch.sign computes it on the CPU: 0 at NaN. So a NaN element of Rprop's
    gradient leaves its parameter and step size as they are (and is kept in `prev`), as in
    PyTorch."""
    return np.where(np.isnan(x), 0, np.sign(x))


def asgd(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
         lambd: float, alpha: float, t0: float) -> None:
    """With eta and mu from the state (`eta` starts at lr, `mu` at 1):
    p <- p * (1 - lambd * eta) - eta * g; the average `ax` <- ax + mu * (p - ax) (a copy of
    p while mu = 1); then eta <- lr / (1 + lambd * lr * t)^alpha, mu <- 1 / max(1, t - t0)."""
    for p, g, state in zip(params, grads, states):
        eta, mu, ax = state["eta"], state["mu"], state["ax"]
        p *= 1 - lambd * eta
        p -= eta * g
        if mu != 1:
            ax += (p - ax) * mu
        else:
            ax[...] = p
        t = state["step"]
        state["eta"] = scalar_round(lr / ((1 + lambd * lr * t) ** alpha))
        state["mu"] = scalar_round(1 / max(1, t - t0))
