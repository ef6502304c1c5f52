"""Checking a grid before the first run: every key is one the model or the Solver takes and
every value one it accepts. A bad value found at run 7 would throw away runs 1-6; a string
where a size belongs ('hidden=50,abc') would fail deep inside the model's constructor."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_edu.sweep._result import _fmt
from tinygrad_edu.train.rules import RULE_OPTIONS, check_optim_config, rule_name

OPTIM_KEYS = {"lr": "learning_rate", "learning_rate": "learning_rate", "momentum": "momentum",
              "beta1": "beta1", "beta2": "beta2", "decay_rate": "decay_rate",
              "epsilon": "epsilon", "weight_decay": "weight_decay"}
SOLVER_KEYS = {"lr_decay": "lr_decay", "batch_size": "batch_size", "epochs": "num_epochs",
               "num_epochs": "num_epochs", "update_rule": "update_rule",
               "optimizer": "update_rule"}
MLP_KEYS = ("hidden", "activation", "dropout", "reg")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _hidden(v: Any) -> bool:
    return _positive_int(v) or (isinstance(v, tuple) and all(_positive_int(n) for n in v))


def _rule(v: Any) -> bool:
    return rule_name(v) in RULE_OPTIONS


# key -> (test of one value, what the key takes); the ranges are the optimizers' own
_VALUES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "hidden": (_hidden, "positive integers, e.g. hidden=100,300 or hidden=256x128"),
    "dropout": (lambda v: _number(v) and 0 <= v < 1, "numbers in [0, 1)"),
    "reg": (lambda v: _number(v) and v >= 0, "numbers >= 0"),
    "weight_decay": (lambda v: _number(v) and v >= 0, "numbers >= 0"),
    "lr": (lambda v: _number(v) and v >= 0, "finite numbers >= 0, e.g. lr=1e-3,1e-2"),
    "momentum": (lambda v: _number(v) and v >= 0, "numbers >= 0, e.g. momentum=0.9"),
    "beta1": (lambda v: _number(v) and 0 <= v < 1, "numbers in [0, 1)"),
    "beta2": (lambda v: _number(v) and 0 <= v < 1, "numbers in [0, 1)"),
    "decay_rate": (lambda v: _number(v) and 0 <= v <= 1, "numbers in [0, 1]"),
    "epsilon": (lambda v: _number(v) and v >= 0, "numbers >= 0"),
    "lr_decay": (lambda v: _number(v) and v > 0, "numbers > 0"),
    "batch_size": (_positive_int, "positive integers"),
    "epochs": (_positive_int, "positive integers"),
    "optimizer": (_rule, "sgd, momentum (or sgd_momentum), rmsprop, adam"),
}
_SAME = {"learning_rate": "lr", "num_epochs": "epochs", "update_rule": "optimizer"}


def check_values(grid: dict[str, list[Any]], default_model: bool, optimizer: Any
                 ) -> dict[str, list[Any]]:
    """`grid` unchanged, after checking its keys and values; the first problem is a
    ValueError naming the key, the value and what the key takes."""
    if default_model:
        unknown = [k for k in grid if k not in OPTIM_KEYS and k not in SOLVER_KEYS
                   and k not in MLP_KEYS]
        if unknown:
            raise ValueError(f"grid_search: the default MLP does not take {unknown}; its keys "
                             f"are {', '.join(MLP_KEYS)} plus the Solver's "
                             f"({', '.join([*OPTIM_KEYS, *SOLVER_KEYS])}); pass build= "
                             "for other models")
    for key, values in grid.items():
        rule = _VALUES.get(_SAME.get(key, key))
        if rule is None or (key in MLP_KEYS and not default_model):
            continue  # a key of the caller's build: its own business
        bad = [v for v in values if not rule[0](v)]
        if bad:
            raise ValueError(f"grid_search: {key}={_fmt(bad[0])} is not valid: {key} takes "
                             f"{rule[1]}")
    if default_model:
        _check_activations(grid.get("activation", []))
        _check_rules(grid, optimizer)
    return grid


def _check_activations(values: Sequence[Any]) -> None:
    from tinygrad_edu.models import MLP

    for v in values:
        try:
            MLP([1, 1, 1], activation=v)  # its error lists the activations
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"grid_search: activation={_fmt(v)} is not valid: {e}") from None


def _check_rules(grid: dict[str, list[Any]], optimizer: Any) -> None:
    """Every optimizer of the grid reads every optimizer key of the grid (Adam has no
    momentum: the Solver would refuse at the first run of that combination)."""
    keys = {OPTIM_KEYS[k]: 0.0 for k in grid if k in OPTIM_KEYS}
    rules = grid.get("optimizer", grid.get("update_rule", [optimizer]))
    for rule in rules:
        check_optim_config(rule_name(rule), {"weight_decay" if k == "reg" else k: v
                                             for k, v in keys.items()}, module=True)
