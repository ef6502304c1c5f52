"""torch.optim against tinygrad_edu.optim for the optimizers issue 19 adds (Adadelta, Adamax,
NAdam, RAdam, Rprop, ASGD): 25-step training trajectories of the same small model
(weights copied from torch) on the same data, compared after every step in float64, with
weight decay, maximize and parameter groups; state contents and state_dict round trips
mid-run; float32; the constructors' errors (LBFGS's trajectories: test_lbfgs_added.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
import tinygrad_edu.optim as goptim

from .nn_helpers import (
    assert_params_close,
    float32_trajectory,
    loss_and_backward,
    make_models,
)
from .oracle import as_numpy, assert_close

STEPS = 25

# Each optimizer is written once: f(optim, params) with optim = torch.optim or ours.
CONFIGS: dict[str, Callable[[Any, Any], Any]] = {
    "Adadelta": lambda o, p: o.Adadelta(p),
    "Adadelta_rho_eps": lambda o, p: o.Adadelta(p, lr=0.5, rho=0.8, eps=1e-4),
    "Adadelta_wd_maximize": lambda o, p: o.Adadelta(p, 0.9, 0.95, 1e-6, 0.05, maximize=True),
    "Adamax": lambda o, p: o.Adamax(p),
    "Adamax_betas_wd": lambda o, p: o.Adamax(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6,
                                             weight_decay=0.1),
    "Adamax_maximize": lambda o, p: o.Adamax(p, 0.005, maximize=True),
    "NAdam": lambda o, p: o.NAdam(p),
    "NAdam_momentum_decay": lambda o, p: o.NAdam(p, lr=0.01, betas=(0.85, 0.99),
                                                 momentum_decay=0.01),
    "NAdam_wd": lambda o, p: o.NAdam(p, lr=0.01, weight_decay=0.1),
    "NAdam_decoupled_maximize": lambda o, p: o.NAdam(p, 0.01, (0.9, 0.999), 1e-8, 0.2, 4e-3,
                                                     True, maximize=True),
    "RAdam": lambda o, p: o.RAdam(p),
    "RAdam_lr_betas": lambda o, p: o.RAdam(p, lr=0.02, betas=(0.8, 0.9)),
    "RAdam_wd": lambda o, p: o.RAdam(p, lr=0.01, weight_decay=0.1),
    "RAdam_decoupled_maximize": lambda o, p: o.RAdam(p, 0.01, (0.9, 0.99), 1e-8, 0.3, True,
                                                     maximize=True),
    "Rprop": lambda o, p: o.Rprop(p),
    "Rprop_etas_step_sizes": lambda o, p: o.Rprop(p, lr=0.05, etas=(0.3, 1.5),
                                                  step_sizes=(1e-3, 0.2)),
    "Rprop_maximize": lambda o, p: o.Rprop(p, 0.01, (0.5, 1.2), (1e-6, 50), maximize=True),
    "ASGD": lambda o, p: o.ASGD(p),
    "ASGD_t0_averaging": lambda o, p: o.ASGD(p, lr=0.1, lambd=1e-3, alpha=0.6, t0=5),
    "ASGD_wd_maximize": lambda o, p: o.ASGD(p, 0.05, 1e-4, 0.75, 10, 0.1, None, True),
}
# Options compared with PyTorch's param_groups and (for state_dict) restored.
GROUP_OPTIONS = ("lr", "rho", "eps", "weight_decay", "maximize", "betas", "momentum_decay",
                 "decoupled_weight_decay", "etas", "step_sizes", "lambd", "alpha", "t0")


def params_spec(kind: str, model: Any) -> Any:
    if kind == "generator":
        return model.parameters()
    if kind == "list":
        return list(model.parameters())
    return [{"params": model[0].parameters(), "lr": 0.03},
            {"params": model[2].parameters()}]


def step_both(ours: Any, theirs: Any, opt_o: Any, opt_t: Any, step: int, what: str) -> None:
    opt_o.zero_grad()
    opt_t.zero_grad()
    lo, lt = loss_and_backward(ours, "ours", step), loss_and_backward(theirs, "torch", step)
    assert_close(lo, lt, what=f"{what} loss at step {step}")
    opt_o.step()
    opt_t.step()
    assert_params_close(ours, theirs, what=f"{what} after step {step}")


def run_both(config: str, kind: str = "generator", steps: int = STEPS) -> tuple[Any, ...]:
    ours, theirs = make_models()
    opt_o = CONFIGS[config](goptim, params_spec(kind, ours))
    opt_t = CONFIGS[config](torch.optim, params_spec(kind, theirs))
    for step in range(steps):
        step_both(ours, theirs, opt_o, opt_t, step, f"{config} {kind}")
    return ours, theirs, opt_o, opt_t


@pytest.mark.parametrize("config", list(CONFIGS))
def test_trajectory_from_parameters_generator(config: str) -> None:
    run_both(config)


@pytest.mark.parametrize("config", ["Adadelta_wd_maximize", "Adamax_betas_wd", "NAdam_wd",
                                    "RAdam_decoupled_maximize", "Rprop_etas_step_sizes",
                                    "ASGD_t0_averaging"])
@pytest.mark.parametrize("kind", ["list", "groups"])
def test_trajectory_list_and_param_groups(config: str, kind: str) -> None:
    _, _, opt_o, opt_t = run_both(config, kind, steps=STEPS)
    assert [g["lr"] for g in opt_o.param_groups] == [g["lr"] for g in opt_t.param_groups]
    for go, gt in zip(opt_o.param_groups, opt_t.param_groups):
        for k in GROUP_OPTIONS:
            if k in gt:
                assert go[k] == gt[k], f"group option {k}: {go[k]!r} vs {gt[k]!r}"


def test_per_group_options_differ() -> None:
    """Each group carries its own options (betas, weight decay, maximize)."""
    ours, theirs = make_models()

    def build(o: Any, m: Any) -> Any:
        return o.NAdam([{"params": m[0].parameters(), "betas": (0.8, 0.9), "weight_decay": 0.1},
                        {"params": m[2].parameters(), "decoupled_weight_decay": True,
                         "weight_decay": 0.2}], lr=0.01)

    opt_o, opt_t = build(goptim, ours), build(torch.optim, theirs)
    for step in range(STEPS):
        step_both(ours, theirs, opt_o, opt_t, step, "NAdam per-group")


@pytest.mark.parametrize("config", list(CONFIGS))
def test_state_contents_match(config: str) -> None:
    _, _, opt_o, opt_t = run_both(config, steps=12)
    so, st = opt_o.state_dict(), opt_t.state_dict()
    assert sorted(so["state"]) == sorted(st["state"])
    for i, entries in st["state"].items():
        assert sorted(so["state"][i]) == sorted(entries), f"state keys of parameter {i}"
        for k, v in entries.items():
            mine = so["state"][i][k]
            if v.ndim == 0:  # step, mu_product, eta, mu: Python numbers here
                assert isinstance(mine, int | float), f"{k}: {type(mine)}"
                assert float(mine) == pytest.approx(float(v), rel=1e-12, abs=0), f"{k} of {i}"
            else:
                np.testing.assert_allclose(mine, v.numpy(), rtol=1e-7, atol=1e-12,
                                           err_msg=f"{k} of parameter {i}")
    for go, gt in zip(so["param_groups"], st["param_groups"]):
        assert go["params"] == gt["params"]
        for k in GROUP_OPTIONS:
            if k in gt:
                assert go[k] == gt[k], f"group option {k}: {go[k]!r} vs {gt[k]!r}"


@pytest.mark.parametrize("config", list(CONFIGS))
def test_state_dict_round_trip_continues_trajectory(config: str) -> None:
    """Train 12 steps, save model and optimizer, rebuild both from scratch, load, train 13
    more: PyTorch's uninterrupted trajectory."""
    ours, theirs, opt_o, opt_t = run_both(config, steps=12)
    saved_model = {k: as_numpy(v).copy() for k, v in ours.state_dict().items()}
    saved_opt = opt_o.state_dict()
    fresh, _ = make_models(seed=123)
    fresh.load_state_dict(saved_model)
    opt_new = CONFIGS[config](goptim, fresh.parameters())
    opt_new.load_state_dict(saved_opt)
    opt_o.step()  # the saved dict is a copy: stepping the old optimizer does not change it
    for step in range(12, STEPS):
        step_both(fresh, theirs, opt_new, opt_t, step, f"{config} resumed")


def test_load_torch_state_dict() -> None:
    """A state dict saved by PyTorch (tensors, tensor step counters) loads and continues."""
    ours, theirs, _, opt_t = run_both("NAdam_wd", steps=10)
    opt_o = CONFIGS["NAdam_wd"](goptim, ours.parameters())
    opt_o.load_state_dict(opt_t.state_dict())
    for step in range(10, STEPS):
        step_both(ours, theirs, opt_o, opt_t, step, "NAdam from torch state")


@pytest.mark.parametrize("config", ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_trajectory_float32(config: str) -> None:
    float32_trajectory(CONFIGS[config], config, rtol=1e-4)


@pytest.mark.parametrize("config", ["NAdam", "ASGD_t0_averaging"])
def test_float64_default_dtype_scalar_state(config: str) -> None:
    """Under a float64 default dtype PyTorch keeps NAdam's mu_product and ASGD's eta and mu
    in float64 (else float32); the trajectories agree either way."""
    old_t, old_o = torch.get_default_dtype(), tg.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    tg.set_default_dtype(tg.float64)
    try:
        run_both(config, steps=15)
    finally:
        torch.set_default_dtype(old_t)
        tg.set_default_dtype(old_o)


def test_parameters_without_grad_are_skipped() -> None:
    ours, theirs = make_models()
    ours[0].requires_grad_(False)
    theirs[0].requires_grad_(False)
    frozen = as_numpy(ours[0].weight).copy()
    for config in ("Rprop", "ASGD", "NAdam"):
        opt_o = CONFIGS[config](goptim, ours.parameters())
        opt_t = CONFIGS[config](torch.optim, theirs.parameters())
        for step in range(5):
            step_both(ours, theirs, opt_o, opt_t, step, f"frozen {config}")
        assert 0 not in opt_o.state_dict()["state"]
    np.testing.assert_array_equal(as_numpy(ours[0].weight), frozen)


def test_step_with_closure_returns_loss() -> None:
    ours, theirs = make_models()
    opt_o, opt_t = goptim.RAdam(ours.parameters()), torch.optim.RAdam(theirs.parameters())

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


# ----------------------------------------------------------------------------- errors

BAD: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("Adadelta lr", lambda o, p: o.Adadelta(p, lr=-1.0)),
    ("Adadelta rho", lambda o, p: o.Adadelta(p, rho=1.5)),
    ("Adadelta eps", lambda o, p: o.Adadelta(p, eps=-1e-6)),
    ("Adadelta wd", lambda o, p: o.Adadelta(p, weight_decay=-0.1)),
    ("Adamax lr", lambda o, p: o.Adamax(p, lr=-0.1)),
    ("Adamax beta1", lambda o, p: o.Adamax(p, betas=(1.0, 0.9))),
    ("Adamax beta2", lambda o, p: o.Adamax(p, betas=(0.9, -0.1))),
    ("NAdam momentum_decay", lambda o, p: o.NAdam(p, momentum_decay=-1.0)),
    ("NAdam eps", lambda o, p: o.NAdam(p, eps=-1.0)),
    ("RAdam beta1", lambda o, p: o.RAdam(p, betas=(1.2, 0.9))),
    ("RAdam wd", lambda o, p: o.RAdam(p, weight_decay=-1)),
    ("Rprop lr", lambda o, p: o.Rprop(p, lr=-1)),
    ("Rprop etaminus", lambda o, p: o.Rprop(p, etas=(1.1, 1.2))),
    ("Rprop etaplus", lambda o, p: o.Rprop(p, etas=(0.5, 0.9))),
    ("ASGD lr", lambda o, p: o.ASGD(p, lr=-0.01)),
    ("ASGD wd", lambda o, p: o.ASGD(p, weight_decay=-0.01)),
    ("LBFGS lr", lambda o, p: o.LBFGS(p, lr=-1)),
]


@pytest.mark.parametrize("what,make", BAD, ids=[b[0] for b in BAD])
def test_bad_options_raise_value_error_as_pytorch(what: str, make: Callable[..., Any]) -> None:
    with pytest.raises(ValueError):
        make(torch.optim, [torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match=what.split()[0]):
        make(goptim, [tg.zeros(2, requires_grad=True)])


@pytest.mark.parametrize("config", ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_nan_gradient_propagates_as_pytorch(config: str) -> None:
    """A NaN in one gradient element: parameters and state get NaN exactly where PyTorch's
    do, never a number in its place."""
    def run(lib: Any, optim: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        opt = CONFIGS[config](optim, [x])
        for grad in ([0.1, 0.2, -0.3], [0.2, float("nan"), 0.1], [-0.1, 0.3, 0.2]):
            x.grad = lib.tensor(grad, dtype=lib.float64)
            opt.step()
        state = {k: as_numpy(v) for k, v in opt.state[x].items()
                 if isinstance(v, np.ndarray | torch.Tensor) and np.ndim(as_numpy(v)) == 1}
        return as_numpy(x).copy(), state

    (x_o, s_o), (x_t, s_t) = run(tg, goptim), run(torch, torch.optim)
    np.testing.assert_array_equal(np.isnan(x_o), np.isnan(x_t))
    np.testing.assert_allclose(x_o, x_t, rtol=1e-7, equal_nan=True)
    assert sorted(s_o) == sorted(s_t)
    for k in s_t:
        np.testing.assert_array_equal(np.isnan(s_o[k]), np.isnan(s_t[k]), err_msg=k)
        np.testing.assert_allclose(s_o[k], s_t[k], rtol=1e-7, equal_nan=True, err_msg=k)


@pytest.mark.parametrize("config", ["Adadelta_wd_maximize", "Adamax_betas_wd", "NAdam_wd",
                                    "RAdam_decoupled_maximize", "Rprop_etas_step_sizes",
                                    "ASGD_wd_maximize"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_zero_dim_and_empty_parameters_as_pytorch(config: str, dtype: Any) -> None:
    def run(lib: Any, optim: Any) -> list[np.ndarray]:
        scalar = lib.tensor(1.5, dtype=getattr(lib, str(dtype).split(".")[1]),
                            requires_grad=True)
        empty = lib.zeros((0, 3), dtype=scalar.dtype, requires_grad=True)
        opt = CONFIGS[config](optim, [scalar, empty])
        out = []
        for _ in range(10):
            opt.zero_grad()
            ((scalar - 0.5) ** 3 + empty.sum()).backward()
            opt.step()
            out.append(as_numpy(scalar).copy())
        assert as_numpy(empty).shape == (0, 3)
        return out

    for step, (a, b) in enumerate(zip(run(tg, goptim), run(torch, torch.optim))):
        assert a.dtype == b.dtype and a.shape == b.shape == ()
        np.testing.assert_allclose(a, b, rtol=1e-7 if dtype == torch.float64 else 1e-4,
                                   err_msg=f"{config} step {step}")
