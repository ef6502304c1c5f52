"""The courses' update rules on numpy arrays: `rule(w, dw, config) -> (next_w, config)`.

These are cs231n's `optim.py` functions with their exact signatures, defaults and config
keys, so a course Solver (and `tinygrad_edu`'s) can train a student's numpy model with them.
The maths lives in `optim._rules`, shared with the optimizer classes; run out of place
here, it gives the courses' numbers to the last bit.
`config` is a dict of hyperparameters and state; missing keys get the defaults below, and
the rule writes its new state back into the same dict (new arrays, as the course does:
arrays the caller passed in are never modified, except `w` by plain `sgd`, which the course
updates in place).

Each rule follows the same trajectory as the matching `tinygrad_edu.optim` class on Tensors:

    sgd           SGD(lr)
    sgd_momentum  SGD(lr, momentum)     v = mu*v - lr*dw; w += v   (= PyTorch at constant lr)
    rmsprop       RMSprop(lr, alpha=decay_rate, eps=epsilon)
                  w -= lr*dw / (sqrt(cache) + eps): cs231n's placement, also PyTorch's.
                  CS189 (and Hinton's slides) write w -= lr*dw / sqrt(cache + eps): set
                  `config['eps_inside_sqrt'] = True` here, or `RMSprop(eps_inside_sqrt=True)`.
    adam          Adam(lr, betas=(beta1, beta2), eps=epsilon)   t is incremented first
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.optim import _rules

Config = dict[str, Any]


def sgd(w: np.ndarray, dw: np.ndarray, config: Config | None = None
        ) -> tuple[np.ndarray, Config]:
    """Vanilla SGD, `w -= learning_rate * dw` in place. Keys: learning_rate (1e-2)."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    _rules.sgd([w], [dw], config["learning_rate"])
    return w, config


def sgd_momentum(w: np.ndarray, dw: np.ndarray, config: Config | None = None
                 ) -> tuple[np.ndarray, Config]:
    """SGD with momentum: v = momentum * v - learning_rate * dw; next_w = w + v.

    Keys: learning_rate (1e-2), momentum (0.9), velocity (zeros like w).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)
    next_w, config["velocity"] = _rules.velocity_momentum(w, dw, v, config["learning_rate"],
                                                          config["momentum"])
    return next_w, config


def rmsprop(w: np.ndarray, dw: np.ndarray, config: Config | None = None
            ) -> tuple[np.ndarray, Config]:
    """RMSProp: cache = decay_rate * cache + (1 - decay_rate) * dw^2;
    next_w = w - learning_rate * dw / (sqrt(cache) + epsilon).

    Keys: learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8), cache (zeros like w).
    Optional: eps_inside_sqrt (False): True divides by sqrt(cache + epsilon) instead (CS189).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    ws, state = [w], {"square_avg": config["cache"]}
    _rules.rmsprop(ws, [dw], [state], config["learning_rate"], config["decay_rate"],
                   config["epsilon"], config.get("eps_inside_sqrt", False), inplace=False)
    config["cache"] = state["square_avg"]
    return ws[0], config


def adam(w: np.ndarray, dw: np.ndarray, config: Config | None = None
         ) -> tuple[np.ndarray, Config]:
    """Adam with bias correction; t is incremented before it is used (first step t = 1):
    m = beta1*m + (1-beta1)*dw; v = beta2*v + (1-beta2)*dw^2;
    next_w = w - learning_rate * (m / (1-beta1^t)) / (sqrt(v / (1-beta2^t)) + epsilon).

    Keys: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8), m and v (zeros
    like w), t (0).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    ws = [w]
    state = {"step": config["t"] + 1, "exp_avg": config["m"], "exp_avg_sq": config["v"]}
    _rules.adam(ws, [dw], [state], config["learning_rate"], config["beta1"], config["beta2"],
                config["epsilon"], inplace=False)
    config["m"], config["v"], config["t"] = state["exp_avg"], state["exp_avg_sq"], state["step"]
    return ws[0], config


UpdateRule = Callable[[np.ndarray, np.ndarray, "Config | None"], tuple[np.ndarray, Config]]

#: The rules by the names a course Solver's `update_rule` uses.
update_rules: dict[str, UpdateRule] = {
    "sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam,
}


def get_update_rule(name: str) -> UpdateRule:
    """The rule called `name` ('sgd', 'sgd_momentum', 'rmsprop', 'adam')."""
    try:
        return update_rules[name]
    except KeyError:
        raise ValueError(f"update_rule: unknown rule {name!r}; valid: "
                         f"{', '.join(sorted(update_rules))}") from None
