"""Update rules by the courses' names ('sgd', 'sgd_momentum', 'rmsprop', 'adam'): which
optim_config keys each reads, their defaults, and the tinygrad_edu.optim optimizer that runs
one for an nn.Module. The Solver checks its options here before training starts."""

from __future__ import annotations

from typing import Any

from tinygrad_edu.tensor import Tensor

COURSE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")
RULE_ALIASES = {"momentum": "sgd_momentum"}  # the CLI's and sweeps' name for it

# The optim_config keys each course rule reads (cs231n's optim.py, plus eps_inside_sqrt)
# and its default learning rate. The rules' own state (velocity, cache, m, v, t) is kept
# per parameter and is not an option. A key the chosen rule does not read raises: a typo
# or a key meant for another rule would otherwise be ignored without a word.
RULE_OPTIONS: dict[str, tuple[frozenset[str], float]] = {
    "sgd": (frozenset({"learning_rate"}), 1e-2),
    "sgd_momentum": (frozenset({"learning_rate", "momentum"}), 1e-2),
    "rmsprop": (frozenset({"learning_rate", "decay_rate", "epsilon", "eps_inside_sqrt"}), 1e-2),
    "adam": (frozenset({"learning_rate", "beta1", "beta2", "epsilon"}), 1e-3),
}
# Read for nn.Modules only: the optimizers' L2 term (course models add theirs in loss).
MODULE_OPTIONS = frozenset({"weight_decay"})


def rule_name(rule: Any) -> Any:
    """'momentum' -> 'sgd_momentum'; anything else unchanged."""
    return RULE_ALIASES.get(rule, rule) if isinstance(rule, str) else rule


def check_optim_config(rule: Any, config: dict[str, Any], module: bool) -> dict[str, Any]:
    """`config` with 'lr' spelled 'learning_rate', after checking that the rule reads every
    key. A rule given as a function (course models) reads what it likes: not checked."""
    config = dict(config)
    if "lr" in config:
        if "learning_rate" in config:
            raise ValueError("Solver: optim_config sets both 'lr' and 'learning_rate'; "
                             "use one")
        config["learning_rate"] = config.pop("lr")
    if not isinstance(rule, str):
        if module and config:
            raise ValueError(f"Solver: optim_config {sorted(config)} is not used when "
                             "update_rule is an optimizer object; set those options on the "
                             "optimizer")
        return config
    if rule not in RULE_OPTIONS:
        return config  # an unknown name gets its own error from the caller
    valid = RULE_OPTIONS[rule][0] | (MODULE_OPTIONS if module else frozenset())
    unknown = sorted(set(config) - valid)
    if unknown:
        hint = ("; course models have no weight_decay: add the L2 term in the model's loss "
                "(e.g. its reg)" if "weight_decay" in unknown and not module else "")
        raise ValueError(f"Solver: optim_config key(s) {unknown} are not used by update_rule "
                         f"{rule!r}; it reads {sorted(valid)}{hint}")
    return config


def build_optimizer(rule: Any, params: list[Tensor], config: dict[str, Any]) -> Any:
    """A tinygrad_edu.optim optimizer from a course rule name and its (checked) config:
    the courses' defaults, including their learning rates (1e-3 for adam, else 1e-2)."""
    from tinygrad_edu import optim  # the first Solver for a Module loads the optimizers

    if not isinstance(rule, str):
        return rule
    if rule not in RULE_OPTIONS:
        raise ValueError(f"Solver: unknown update_rule {rule!r}; use one of {COURSE_RULES}, "
                         "'momentum' or an optimizer object")
    lr = config.get("learning_rate", RULE_OPTIONS[rule][1])
    wd = config.get("weight_decay", 0.0)
    if rule == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
    if rule == "sgd_momentum":
        return optim.SGD(params, lr=lr, momentum=config.get("momentum", 0.9), weight_decay=wd)
    if rule == "rmsprop":
        return optim.RMSprop(params, lr=lr, alpha=config.get("decay_rate", 0.99),
                             eps=config.get("epsilon", 1e-8), weight_decay=wd,
                             eps_inside_sqrt=bool(config.get("eps_inside_sqrt", False)))
    return optim.Adam(params, lr=lr, betas=(config.get("beta1", 0.9),
                                            config.get("beta2", 0.999)),
                      eps=config.get("epsilon", 1e-8), weight_decay=wd)


def decay_lr(factor: float, rule: Any, optimizer: Any = None,
             configs: dict[str, dict[str, Any]] | None = None) -> None:
    """The courses' `lr_decay` after an epoch: every lr times `factor`, in an optimizer's
    groups (an nn.Module) or in a course model's per-parameter configs."""
    for cfg in (configs or {}).values():
        cfg["learning_rate"] = cfg.get("learning_rate", 1e-2) * factor
    if optimizer is None:
        return
    for group in optimizer.param_groups:
        group["lr"] *= factor
    if rule == "sgd_momentum" and factor:
        # The courses' momentum keeps its velocity v = mu v - lr dw when lr changes;
        # PyTorch's SGD (built here) keeps b = -v / lr instead, whose velocity would
        # shrink with lr. Rescale b so that v, and the course trajectory, carry on.
        for state in optimizer.state.values():
            if state.get("momentum_buffer") is not None:
                state["momentum_buffer"] /= factor
