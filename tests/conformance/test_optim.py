"""torch.optim against tinygrad_edu.optim: 20-step training trajectories of the same small
model (weights copied from torch) on the same data, compared after every step in float64;
optimizers built from `model.parameters()` generators, lists and parameter-group dicts;
zero_grad, state_dict round trips, optimizer state contents (nn.utils clipping:
test_nn_utils.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
import tinygrad_edu.optim as goptim

from .nn_helpers import (
    assert_grads_close,
    assert_params_close,
    float32_trajectory,
    loss_and_backward,
    make_models,
)
from .oracle import as_numpy, assert_close

STEPS = 20


# Each optimizer is written once: f(optim, params) with optim = torch.optim or ours.
CONFIGS: dict[str, Callable[[Any, Any], Any]] = {
    "SGD": lambda o, p: o.SGD(p, lr=0.1),
    "SGD_momentum": lambda o, p: o.SGD(p, lr=0.1, momentum=0.9),
    "SGD_dampening": lambda o, p: o.SGD(p, lr=0.1, momentum=0.8, dampening=0.5),
    "SGD_nesterov": lambda o, p: o.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "SGD_weight_decay": lambda o, p: o.SGD(p, lr=0.1, weight_decay=0.05),
    "SGD_everything": lambda o, p: o.SGD(p, lr=0.05, momentum=0.7, dampening=0.1,
                                         weight_decay=0.01),
    "SGD_nesterov_wd_maximize": lambda o, p: o.SGD(p, lr=0.01, momentum=0.5, nesterov=True,
                                                   weight_decay=0.1, maximize=True),
    "SGD_lr_positional": lambda o, p: o.SGD(p, 0.2, 0.5),
    "Adam": lambda o, p: o.Adam(p, lr=0.01),
    "Adam_default_lr": lambda o, p: o.Adam(p),
    "Adam_amsgrad": lambda o, p: o.Adam(p, lr=0.02, amsgrad=True),
    "Adam_weight_decay": lambda o, p: o.Adam(p, lr=0.01, weight_decay=0.1),
    "Adam_betas_eps": lambda o, p: o.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=1e-3),
    "Adam_amsgrad_wd_maximize": lambda o, p: o.Adam(p, lr=0.01, weight_decay=0.05,
                                                    amsgrad=True, maximize=True),
    "AdamW": lambda o, p: o.AdamW(p, lr=0.01),
    "AdamW_weight_decay": lambda o, p: o.AdamW(p, lr=0.02, weight_decay=0.3),
    "AdamW_amsgrad": lambda o, p: o.AdamW(p, lr=0.02, betas=(0.5, 0.9), amsgrad=True),
    "RMSprop": lambda o, p: o.RMSprop(p, lr=0.01),
    "RMSprop_alpha": lambda o, p: o.RMSprop(p, lr=0.01, alpha=0.9),
    "RMSprop_momentum": lambda o, p: o.RMSprop(p, lr=0.005, momentum=0.8),
    "RMSprop_centered": lambda o, p: o.RMSprop(p, lr=0.005, centered=True),
    "RMSprop_centered_momentum_wd": lambda o, p: o.RMSprop(p, lr=0.005, alpha=0.95,
                                                           momentum=0.5, centered=True,
                                                           weight_decay=0.1),
    "Adagrad": lambda o, p: o.Adagrad(p, lr=0.1),
    "Adagrad_lr_decay": lambda o, p: o.Adagrad(p, lr=0.1, lr_decay=0.05),
    "Adagrad_initial_accumulator_wd": lambda o, p: o.Adagrad(
        p, lr=0.1, initial_accumulator_value=0.5, weight_decay=0.05, eps=1e-6),
}


def params_spec(kind: str, model: Any) -> Any:
    """How users hand parameters to an optimizer."""
    if kind == "generator":
        return model.parameters()
    if kind == "list":
        return list(model.parameters())
    # parameter groups: per-group lr (and the second group on the defaults); each group's
    # params as a generator, as users write them
    return [{"params": model[0].parameters(), "lr": 0.03},
            {"params": model[2].parameters()}]


def run_both(config: str, kind: str = "generator", steps: int = STEPS,
             on_step: Callable[[int, Any, Any], None] | None = None) -> tuple[Any, ...]:
    ours, theirs = make_models()
    make = CONFIGS[config]
    opt_o = make(goptim, params_spec(kind, ours))
    opt_t = make(torch.optim, params_spec(kind, theirs))
    for step in range(steps):
        opt_o.zero_grad()
        opt_t.zero_grad()
        lo, lt = loss_and_backward(ours, "ours", step), loss_and_backward(theirs, "torch", step)
        assert_close(lo, lt, what=f"{config} {kind} loss at step {step}")
        if on_step is not None:
            on_step(step, opt_o, opt_t)
        opt_o.step()
        opt_t.step()
        assert_params_close(ours, theirs, what=f"{config} {kind} after step {step}")
    return ours, theirs, opt_o, opt_t


@pytest.mark.parametrize("config", list(CONFIGS))
def test_trajectory_from_parameters_generator(config: str) -> None:
    run_both(config, "generator")


@pytest.mark.parametrize("config", ["SGD_momentum", "Adam_amsgrad", "AdamW", "RMSprop_centered",
                                    "Adagrad_lr_decay"])
def test_trajectory_from_list(config: str) -> None:
    run_both(config, "list", steps=8)


@pytest.mark.parametrize("config", ["SGD_everything", "Adam_weight_decay", "AdamW",
                                    "RMSprop_centered_momentum_wd", "Adagrad_lr_decay"])
def test_trajectory_param_groups_per_group_lr(config: str) -> None:
    _, _, opt_o, opt_t = run_both(config, "groups", steps=10)
    assert [g["lr"] for g in opt_o.param_groups] == [g["lr"] for g in opt_t.param_groups]


def test_param_group_options_and_add_param_group() -> None:
    ours, theirs = make_models()

    def build(optim: Any, m: Any) -> Any:
        opt = optim.SGD([{"params": m[0].weight, "momentum": 0.5},
                         {"params": [m[0].bias], "weight_decay": 0.1, "lr": 0.2}],
                        lr=0.05, momentum=0.9)
        opt.add_param_group({"params": m[2].parameters(), "nesterov": True, "momentum": 0.3})
        return opt

    opt_o, opt_t = build(goptim, ours), build(torch.optim, theirs)
    keys = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    assert [{k: g[k] for k in keys} for g in opt_o.param_groups] == [
        {k: g[k] for k in keys} for g in opt_t.param_groups]
    for step in range(10):
        for opt in (opt_o, opt_t):
            opt.zero_grad()
        loss_and_backward(ours, "ours", step)
        loss_and_backward(theirs, "torch", step)
        opt_o.step()
        opt_t.step()
        assert_params_close(ours, theirs, what=f"mixed groups step {step}")


@pytest.mark.parametrize("config", ["SGD_momentum", "Adam", "RMSprop_momentum"])
def test_lr_changed_by_hand_mid_training(config: str) -> None:
    def halve(step: int, opt_o: Any, opt_t: Any) -> None:
        if step in (5, 12):
            for opt in (opt_o, opt_t):
                for g in opt.param_groups:
                    g["lr"] *= 0.5

    run_both(config, steps=16, on_step=halve)


@pytest.mark.parametrize("config", ["SGD", "Adam", "RMSprop_momentum", "Adagrad"])
def test_frozen_parameters_from_generator(config: str) -> None:
    """Fine-tuning: the first layer is frozen with requires_grad_(False) and the optimizer
    still gets model.parameters() (PyTorch accepts parameters without grad and skips them)."""
    ours, theirs = make_models()
    ours[0].requires_grad_(False)
    theirs[0].requires_grad_(False)
    frozen = as_numpy(ours[0].weight).copy()
    opt_t = CONFIGS[config](torch.optim, theirs.parameters())
    opt_o = CONFIGS[config](goptim, ours.parameters())
    for step in range(5):
        opt_o.zero_grad()
        opt_t.zero_grad()
        loss_and_backward(ours, "ours", step)
        loss_and_backward(theirs, "torch", step)
        opt_o.step()
        opt_t.step()
        assert_params_close(ours, theirs, what=f"frozen {config} step {step}")
    np.testing.assert_array_equal(as_numpy(ours[0].weight), frozen)


# ----------------------------------------------------------------------------- zero_grad, state


@pytest.mark.parametrize("set_to_none", [None, True, False])
def test_optimizer_zero_grad(set_to_none: Any) -> None:
    ours, theirs = make_models()
    opt_o, opt_t = goptim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(),
                                                                          lr=0.1)
    loss_and_backward(ours, "ours", 0)
    loss_and_backward(theirs, "torch", 0)
    kw = {} if set_to_none is None else {"set_to_none": set_to_none}
    opt_o.zero_grad(**kw)
    opt_t.zero_grad(**kw)
    assert_grads_close(ours, theirs, what=f"after zero_grad({kw})")
    # gradients accumulate again from zero (or None) afterwards
    loss_and_backward(ours, "ours", 1)
    loss_and_backward(theirs, "torch", 1)
    assert_grads_close(ours, theirs, what="backward after zero_grad")


def test_gradients_accumulate_without_zero_grad() -> None:
    ours, theirs = make_models()
    opt_o, opt_t = goptim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(),
                                                                          lr=0.1)
    for step in range(4):
        loss_and_backward(ours, "ours", step)
        loss_and_backward(theirs, "torch", step)
        opt_o.step()
        opt_t.step()
        assert_params_close(ours, theirs, what=f"accumulating step {step}")


STATE_OPTIONS = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize",
                 "betas", "eps", "amsgrad", "alpha", "centered", "lr_decay",
                 "initial_accumulator_value")


@pytest.mark.parametrize("config", ["SGD_momentum", "Adam_amsgrad", "AdamW", "RMSprop_centered",
                                    "RMSprop_centered_momentum_wd", "Adagrad_lr_decay"])
def test_optimizer_state_contents_match(config: str) -> None:
    _, _, opt_o, opt_t = run_both(config, steps=5)
    so, st = opt_o.state_dict(), opt_t.state_dict()
    assert sorted(so) == sorted(st) == ["param_groups", "state"]
    assert sorted(so["state"]) == sorted(st["state"])
    for i, entries in st["state"].items():
        assert sorted(so["state"][i]) == sorted(entries), f"state keys of parameter {i}"
        for k, v in entries.items():
            mine = so["state"][i][k]
            if k == "step":
                assert float(np.asarray(as_numpy(mine) if isinstance(mine, tg.Tensor) else mine)
                             ) == float(v), f"step of parameter {i}"
            else:
                np.testing.assert_allclose(as_numpy(mine), v.numpy(), rtol=1e-7, atol=1e-12,
                                           err_msg=f"{k} of parameter {i}")
    for go, gt in zip(so["param_groups"], st["param_groups"]):
        assert go["params"] == gt["params"]
        for k in STATE_OPTIONS:
            if k in gt:
                assert k in go, f"group option {k!r} missing"
                assert go[k] == gt[k], f"group option {k}: {go[k]!r} vs {gt[k]!r}"


@pytest.mark.parametrize("config", ["SGD_nesterov", "Adam_amsgrad", "AdamW_weight_decay",
                                    "RMSprop_centered_momentum_wd", "Adagrad_lr_decay"])
def test_state_dict_round_trip_continues_trajectory(config: str) -> None:
    """Train 10 steps, save model and optimizer state, rebuild both from scratch, load, and
    train 10 more: the same trajectory as PyTorch's uninterrupted run."""
    ours, theirs, opt_o, opt_t = run_both(config, steps=10)
    saved_model = {k: as_numpy(v).copy() for k, v in ours.state_dict().items()}
    saved_opt = opt_o.state_dict()
    fresh, _ = make_models(seed=123)
    fresh.load_state_dict(saved_model)
    opt_new = CONFIGS[config](goptim, fresh.parameters())
    opt_new.load_state_dict(saved_opt)
    for step in range(10, 20):
        opt_new.zero_grad()
        opt_t.zero_grad()
        loss_and_backward(fresh, "ours", step)
        loss_and_backward(theirs, "torch", step)
        opt_new.step()
        opt_t.step()
        assert_params_close(fresh, theirs, what=f"{config} resumed step {step}")


def test_step_with_closure_returns_loss() -> None:
    ours, theirs = make_models()
    opt_o, opt_t = goptim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(),
                                                                          lr=0.1)

    def closure_for(model: Any, opt: Any, lib: str) -> Callable[[], Any]:
        def closure() -> Any:
            opt.zero_grad()
            return loss_and_backward(model, lib, 0)
        return closure

    for _ in range(3):
        lo = opt_o.step(closure_for(ours, opt_o, "ours"))
        lt = opt_t.step(closure_for(theirs, opt_t, "torch"))
        assert_close(lo, lt.detach(), what="closure loss")
        assert_params_close(ours, theirs, what="closure step")


@pytest.mark.parametrize("config", ["SGD_nesterov", "Adam_amsgrad", "AdamW", "RMSprop_centered",
                                    "Adagrad"])
def test_trajectory_float32(config: str) -> None:
    """The default dtype: parameters, state and updates stay float32, as in PyTorch."""
    float32_trajectory(CONFIGS[config], config)


def test_model_state_dict_aliases_parameters_and_deepcopy_does_not() -> None:
    """PyTorch's state_dict values share storage with the parameters (an optimizer step
    shows through them); copy.deepcopy(state_dict) is the snapshot users take."""
    import copy

    ours, theirs = make_models()
    sd_o, sd_t = ours.state_dict(), theirs.state_dict()
    snap_o, snap_t = copy.deepcopy(sd_o), copy.deepcopy(sd_t)
    opt_o, opt_t = goptim.SGD(ours.parameters(), lr=0.5), torch.optim.SGD(theirs.parameters(),
                                                                          lr=0.5)
    loss_and_backward(ours, "ours", 0)
    loss_and_backward(theirs, "torch", 0)
    opt_o.step()
    opt_t.step()
    for k in sd_t:
        assert_close(sd_o[k], sd_t[k], what=f"live state_dict {k}")
        assert_close(snap_o[k], snap_t[k], what=f"deepcopy snapshot {k}")
    assert not np.allclose(as_numpy(sd_o["0.weight"]), as_numpy(snap_o["0.weight"]))
