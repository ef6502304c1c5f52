"""The update rules, each written once, on numpy arrays: `params` and `grads` (one entry per
parameter) and `states`, each parameter's state dict under PyTorch's names (`step`,
`exp_avg`, `square_avg`, `momentum_buffer`, ...).

The optimizer classes (`SGD`, `RMSprop`, `Adam`, `Adagrad`) and the courses' functions in
`optim.course` both call these. With `inplace=True` (the classes) a rule updates the
parameters and their state arrays in place, with one scratch array per parameter. With
`inplace=False` (the courses' rules, which leave the arrays they are given alone) it runs
the same numpy operations out of place, as the courses' expressions do, and puts the new
arrays into `params` and the state dicts: the numbers are the courses' to the last bit, and
the dtypes follow numpy's promotion as theirs do (a float32 `w` with a numpy float64
learning rate gives a float64 `next_w`). So the rules call numpy's ufuncs with their `out`
argument (positional: the keyword costs a little per call on small arrays) set to the array
being updated when `inplace`, else None.

The one place the two modes compute differently is Adam's bias-corrected step, which the
classes rearrange (one pass fewer over the parameter, one scratch array instead of two:
about 20% of the step); tests/test_optim.py holds the two forms together. The courses'
momentum (`velocity_momentum`) is a rule of its own: it differs from PyTorch's (`sgd`)
when the learning rate changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Arrays = list[np.ndarray]
States = Sequence[dict[str, Any]]


def sgd(params: Arrays, grads: Sequence[np.ndarray], lr: float, states: States = (),
        momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False) -> None:
    """p <- p - lr * g, in place. With momentum (PyTorch's form) the buffer b
    (`momentum_buffer`) starts as a copy of g, then b <- momentum * b + (1 - dampening) * g,
    and g <- g + momentum * b (nesterov) or b."""
    if not momentum:
        for p, g in zip(params, grads):
            p -= lr * g  # one temporary, as the hand-written `w -= lr * dw`
        return
    for p, g, state in zip(params, grads, states):
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = np.array(g, copy=True)
        else:
            buf *= momentum
            buf += (1 - dampening) * g if dampening else g
        p -= lr * (g + momentum * buf if nesterov else buf)


def velocity_momentum(w: np.ndarray, dw: np.ndarray, velocity: np.ndarray, lr: float,
                      momentum: float) -> tuple[np.ndarray, np.ndarray]:
    """The courses' momentum, out of place: v = momentum * v - lr * dw; next_w = w + v.
    At a constant lr it is `sgd`'s trajectory (v = -lr * b); when lr changes, `sgd` applies
    the new lr to the whole buffer, this form only to the new gradient."""
    v = momentum * velocity - lr * dw
    return w + v, v


def rmsprop(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
            alpha: float, eps: float, eps_inside_sqrt: bool = False, centered: bool = False,
            momentum: float = 0.0, inplace: bool = True) -> None:
    """s <- alpha * s + (1 - alpha) * g^2 (`square_avg`); a <- s, or, centered,
    a <- s - m^2 with m <- alpha * m + (1 - alpha) * g (`grad_avg`); r <- sqrt(a) + eps, or
    sqrt(a + eps) (`eps_inside_sqrt`: CS189's and Hinton's placement); p <- p - lr * g / r,
    or with momentum b <- momentum * b + g / r (`momentum_buffer`); p <- p - lr * b."""
    for i, (p, g, state) in enumerate(zip(params, grads, states)):
        r = np.multiply(g, g)
        r = np.multiply(r, 1 - alpha, r if inplace else None)
        s = state["square_avg"]
        s = np.multiply(s, alpha, s if inplace else None)
        avg = state["square_avg"] = np.add(s, r, s if inplace else None)
        if centered:
            r = np.multiply(g, 1 - alpha, r if inplace else None)
            m = state["grad_avg"]
            m = np.multiply(m, alpha, m if inplace else None)
            m = state["grad_avg"] = np.add(m, r, m if inplace else None)
            r = np.multiply(m, m, r if inplace else None)
            avg = np.subtract(avg, r, r if inplace else None)
        if eps_inside_sqrt:
            r = np.add(avg, eps, r if inplace else None)
            r = np.sqrt(r, r if inplace else None)
        else:
            r = np.sqrt(avg, r if inplace else None)
            r = np.add(r, eps, r if inplace else None)
        if momentum > 0:
            r = np.divide(g, r, r if inplace else None)
            b = state["momentum_buffer"]
            b = np.multiply(b, momentum, b if inplace else None)
            b = state["momentum_buffer"] = np.add(b, r, b if inplace else None)
            step = np.multiply(b, lr, r if inplace else None)
        else:
            # lr * g / r, the courses' order and PyTorch's (addcdiv): one more temporary
            # than dividing first, and the same last bit as theirs
            step = np.multiply(g, lr)
            step = np.divide(step, r, step if inplace else None)
        params[i] = np.subtract(p, step, p if inplace else None)


def adam(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
         beta1: float, beta2: float, eps: float, weight_decay: float = 0.0,
         decoupled: bool = False, amsgrad: bool = False, inplace: bool = True) -> None:
    """Step t = `step` (counted from 1), with L2 `weight_decay` (g <- g + weight_decay * p)
    or, `decoupled` (AdamW), p <- p * (1 - lr * weight_decay):
    m <- beta1 * m + (1 - beta1) * g (`exp_avg`); v <- beta2 * v + (1 - beta2) * g^2
    (`exp_avg_sq`); amsgrad: v <- max(v_max, v) (`max_exp_avg_sq`);
    p <- p - lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - beta1^t),
    v_hat = v / (1 - beta2^t)."""
    for i, (p, g, state) in enumerate(zip(params, grads, states)):
        if weight_decay:
            if decoupled:
                p = np.multiply(p, 1 - lr * weight_decay, p if inplace else None)
            else:
                g = g + weight_decay * p
        r = np.multiply(g, 1 - beta1)
        m = state["exp_avg"]
        m = np.multiply(m, beta1, m if inplace else None)
        m = state["exp_avg"] = np.add(m, r, m if inplace else None)
        r = np.multiply(g, g, r if inplace else None)
        r = np.multiply(r, 1 - beta2, r if inplace else None)
        v = state["exp_avg_sq"]
        v = np.multiply(v, beta2, v if inplace else None)
        v = state["exp_avg_sq"] = np.add(v, r, v if inplace else None)
        if amsgrad:
            vmax = state["max_exp_avg_sq"]
            # (np.maximum takes `out` by keyword only)
            v = state["max_exp_avg_sq"] = np.maximum(vmax, v, out=vmax if inplace else None)
        t = state["step"]
        if inplace:
            # lr * m_hat / (sqrt(v_hat) + eps) = (lr * c2 / c1) * m / (sqrt(v) + eps * c2)
            # with c1 = 1 - beta1^t, c2 = sqrt(1 - beta2^t): no pass to divide v.
            c2 = math.sqrt(1 - beta2**t)
            np.sqrt(v, out=r)
            r += eps * c2
            np.divide(m, r, out=r)
            r *= lr * c2 / (1 - beta1**t)
            p -= r
        else:
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        params[i] = p


def adagrad(params: Arrays, grads: Sequence[np.ndarray], states: States, lr: float,
            lr_decay: float, eps: float) -> None:
    """Step t = `step` (counted from 1), in place: s <- s + g^2 (`sum`);
    p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)."""
    for p, g, state in zip(params, grads, states):
        r = np.multiply(g, g)
        s = state["sum"]
        s += r
        np.sqrt(s, out=r)
        r += eps
        np.divide(g, r, out=r)
        r *= lr / (1 + (state["step"] - 1) * lr_decay)
        p -= r
