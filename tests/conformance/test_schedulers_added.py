"""torch.optim.lr_scheduler against tinygrad_edu.optim.lr_scheduler for the schedules issue
19 adds: the lr of every group (and the cycled momentum or beta1) after each of 60 steps,
for each argument combination, written once as `lambda S, opt: S.Name(opt, ...)` with S
either library's lr_scheduler module; several schedules on one optimizer; SequentialLR
and ChainedScheduler; fractional epochs of CosineAnnealingWarmRestarts; state_dict resumes;
the errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.optim.lr_scheduler as TS

import tinygrad_edu as tg
import tinygrad_edu.optim as goptim
import tinygrad_edu.optim.lr_scheduler as GS

from .oracle import assert_close

STEPS = 60


def optimizers(kind: str = "SGD") -> tuple[Any, Any]:
    """Two groups (lr 0.1 and 0.05) in each library, every parameter with a zero gradient so
    optimizer.step() runs before scheduler.step(), as PyTorch asks."""
    def groups(lib: Any) -> list[dict[str, Any]]:
        a = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        b = lib.zeros(2, dtype=lib.float64, requires_grad=True)
        a.grad, b.grad = lib.zeros(3, dtype=lib.float64), lib.zeros(2, dtype=lib.float64)
        return [{"params": [a]}, {"params": [b], "lr": 0.05}]

    if kind == "SGD":
        return (goptim.SGD(groups(tg), lr=0.1, momentum=0.9),
                torch.optim.SGD(groups(torch), lr=0.1, momentum=0.9))
    return (getattr(goptim, kind)(groups(tg), lr=0.1), getattr(torch.optim, kind)(groups(torch),
                                                                                   lr=0.1))


def assert_same(s_o: Any, s_t: Any, opt_o: Any, opt_t: Any, what: str) -> None:
    last_o, last_t = s_o.get_last_lr(), s_t.get_last_lr()
    assert isinstance(last_o, list) and len(last_o) == len(last_t), f"{what}: {last_o!r}"
    assert_close(np.array(last_o, dtype=np.float64), np.array(last_t, dtype=np.float64),
                 what=f"{what} get_last_lr", rtol=1e-12, atol=1e-15)
    for key in ("lr", "momentum", "betas"):
        if key in opt_t.param_groups[0]:
            mine = np.array([g[key] for g in opt_o.param_groups], dtype=np.float64)
            theirs = np.array([g[key] for g in opt_t.param_groups], dtype=np.float64)
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15,
                                       err_msg=f"{what} param_groups {key}")


SCHEDULERS: dict[str, Callable[[Any, Any], Any]] = {
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.95),
    "MultiplicativeLR_per_group": lambda S, o: S.MultiplicativeLR(
        o, lr_lambda=[lambda e: 0.9 if e % 2 else 1.05, lambda e: 1.0 / (1 + 0.01 * e)]),
    "ConstantLR": lambda S, o: S.ConstantLR(o),
    "ConstantLR_args": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=7),
    "ConstantLR_positional": lambda S, o: S.ConstantLR(o, 0.25, 3),
    "ConstantLR_factor_one": lambda S, o: S.ConstantLR(o, 1.0, 4),
    "LinearLR": lambda S, o: S.LinearLR(o),
    "LinearLR_warmup": lambda S, o: S.LinearLR(o, start_factor=0.1, total_iters=10),
    "LinearLR_decay": lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.05,
                                              total_iters=40),
    "LinearLR_positional": lambda S, o: S.LinearLR(o, 0.5, 0.8, 8),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o),
    "PolynomialLR_power": lambda S, o: S.PolynomialLR(o, total_iters=30, power=2.0),
    "PolynomialLR_sqrt": lambda S, o: S.PolynomialLR(o, 45, 0.5),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=10),
    "CosineAnnealingWarmRestarts_mult": lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001),
    "CosineAnnealingWarmRestarts_positional": lambda S, o: S.CosineAnnealingWarmRestarts(
        o, 7, 1, 0.01),
    "CyclicLR": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5),
    "CyclicLR_down": lambda S, o: S.CyclicLR(o, 0.001, 0.05, 4, 9),
    "CyclicLR_triangular2": lambda S, o: S.CyclicLR(o, [0.01, 0.02], [0.1, 0.3],
                                                    step_size_up=4, mode="triangular2"),
    "CyclicLR_exp_range": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=6,
                                                  mode="exp_range", gamma=0.97),
    "CyclicLR_scale_fn_cycle": lambda S, o: S.CyclicLR(o, 0.01, 0.1, 5,
                                                       scale_fn=lambda x: 1 / x),
    "CyclicLR_scale_fn_iterations": lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, 5, scale_fn=lambda x: 0.99**x, scale_mode="iterations"),
    "CyclicLR_momentum_args": lambda S, o: S.CyclicLR(o, 0.01, 0.1, 3, base_momentum=0.7,
                                                      max_momentum=[0.95, 0.9]),
    "CyclicLR_no_momentum": lambda S, o: S.CyclicLR(o, 0.01, 0.1, 5, cycle_momentum=False),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=0.5, total_steps=STEPS),
    "OneCycleLR_epochs": lambda S, o: S.OneCycleLR(o, [0.5, 0.2], epochs=6, steps_per_epoch=10),
    "OneCycleLR_linear": lambda S, o: S.OneCycleLR(o, 0.3, STEPS, anneal_strategy="linear",
                                                   pct_start=0.4),
    "OneCycleLR_three_phase": lambda S, o: S.OneCycleLR(o, 0.4, STEPS, three_phase=True),
    "OneCycleLR_three_phase_linear": lambda S, o: S.OneCycleLR(
        o, 0.4, STEPS, pct_start=0.25, anneal_strategy="linear", three_phase=True),
    "OneCycleLR_momentum_divs": lambda S, o: S.OneCycleLR(
        o, 0.2, STEPS + 5, base_momentum=[0.8, 0.75], max_momentum=0.99, div_factor=10.0,
        final_div_factor=100.0),
    "OneCycleLR_no_momentum": lambda S, o: S.OneCycleLR(o, 0.2, STEPS, cycle_momentum=False),
}
MOMENTUM_CYCLING = [n for n in SCHEDULERS if n.startswith(("CyclicLR", "OneCycleLR"))
                    and not n.endswith("no_momentum")]


def run(name: str, kind: str = "SGD", steps: int = STEPS) -> tuple[Any, ...]:
    opt_o, opt_t = optimizers(kind)
    s_o, s_t = SCHEDULERS[name](GS, opt_o), SCHEDULERS[name](TS, opt_t)
    assert_same(s_o, s_t, opt_o, opt_t, f"{name} after construction")
    for step in range(steps):
        opt_o.step()
        opt_t.step()
        s_o.step()
        s_t.step()
        assert_same(s_o, s_t, opt_o, opt_t, f"{name} step {step}")
        assert s_o.last_epoch == s_t.last_epoch
    return opt_o, opt_t, s_o, s_t


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_60_steps(name: str) -> None:
    opt_o, opt_t, s_o, s_t = run(name)
    assert s_o.base_lrs == s_t.base_lrs
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        if key in opt_t.param_groups[0]:
            assert [g[key] for g in opt_o.param_groups] == [g[key] for g in opt_t.param_groups]


@pytest.mark.parametrize("kind", ["Adam", "NAdam", "RAdam", "Adamax", "RMSprop"])
@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR_three_phase"])
def test_momentum_cycling_on_betas_and_momentum(name: str, kind: str) -> None:
    """beta1 cycles for the optimizers with betas (the Adam family), 'momentum' for RMSprop."""
    run(name, kind)


def test_one_cycle_past_total_steps_raises_as_pytorch() -> None:
    opt_o, opt_t, s_o, s_t = run("OneCycleLR", steps=STEPS)  # epochs 0..60 are fine
    with pytest.raises(ValueError, match="total steps"):
        s_t.step()
    with pytest.raises(ValueError, match="total steps is 60"):
        s_o.step()


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs(T_mult: int) -> None:  # noqa: N803
    """step(epoch + i / iters) inside epochs, then jumps back and forth."""
    import warnings

    opt_o, opt_t = optimizers()
    s_o = GS.CosineAnnealingWarmRestarts(opt_o, T_0=4, T_mult=T_mult, eta_min=0.002)
    s_t = TS.CosineAnnealingWarmRestarts(opt_t, T_0=4, T_mult=T_mult, eta_min=0.002)
    points = [e + i / 5 for e in range(30) for i in range(5)] + [3.5, 17.25, 0.0, 40.1, 12]
    for x in points:
        opt_o.step()
        opt_t.step()
        s_o.step(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            s_t.step(x)
        assert_same(s_o, s_t, opt_o, opt_t, f"T_mult={T_mult} step({x})")
        assert (s_o.last_epoch, s_o.T_i) == (s_t.last_epoch, s_t.T_i)
        assert s_o.T_cur == pytest.approx(s_t.T_cur, abs=1e-12)


@pytest.mark.parametrize("name", ["ConstantLR_args", "LinearLR_warmup", "PolynomialLR_power"])
def test_step_with_explicit_epoch(name: str) -> None:
    import warnings

    opt_o, opt_t = optimizers()
    s_o, s_t = SCHEDULERS[name](GS, opt_o), SCHEDULERS[name](TS, opt_t)
    for epoch in (3, 4, 9, 2, 12, 13, 40):
        opt_o.step()
        opt_t.step()
        s_o.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            s_t.step(epoch)
        assert_same(s_o, s_t, opt_o, opt_t, f"{name} step({epoch})")


# ----------------------------------------------------------------------------- combinations

COMBINATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "warmup_then_cosine": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=8), S.CosineAnnealingLR(o, T_max=30)],
        milestones=[8]),
    "three_phases": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.3, total_iters=5), S.ExponentialLR(o, gamma=0.95),
            S.CosineAnnealingWarmRestarts(o, T_0=6)], [10, 30]),
    "sequential_step_poly": lambda S, o: S.SequentialLR(
        o, [S.StepLR(o, step_size=4, gamma=0.5), S.PolynomialLR(o, total_iters=20)], [15]),
    "chained_constant_exponential": lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.1, total_iters=4), S.ExponentialLR(o, gamma=0.97)]),
    "chained_three": lambda S, o: S.ChainedScheduler(
        [S.LinearLR(o, 0.2, 1.0, 10), S.MultiStepLR(o, [20, 35], 0.5),
         S.MultiplicativeLR(o, lambda e: 0.99)], optimizer=o),
    "chained_sequential": lambda S, o: S.ChainedScheduler([S.SequentialLR(
        o, [S.LinearLR(o, 0.5, total_iters=4), S.ExponentialLR(o, 0.9)], [5]),
        S.MultiplicativeLR(o, lambda e: 0.98)]),
}


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_combinations_60_steps(name: str) -> None:
    opt_o, opt_t = optimizers()
    c_o, c_t = COMBINATIONS[name](GS, opt_o), COMBINATIONS[name](TS, opt_t)
    assert_same(c_o, c_t, opt_o, opt_t, f"{name} construction")
    for step in range(STEPS):
        for x in (opt_o, opt_t, c_o, c_t):
            x.step()
        assert_same(c_o, c_t, opt_o, opt_t, f"{name} step {step}")
        # (ChainedScheduler has no last_epoch, in PyTorch neither)
        assert getattr(c_o, "last_epoch", None) == getattr(c_t, "last_epoch", None)


@pytest.mark.parametrize("pair", [("LinearLR_warmup", "MultiplicativeLR"),
                                  ("CyclicLR", "ConstantLR_args"),
                                  ("PolynomialLR_power", "CosineAnnealingWarmRestarts_mult")])
def test_two_schedulers_stepped_by_hand(pair: tuple[str, str]) -> None:
    """Two schedules on one optimizer, both stepped each iteration (PyTorch's chaining)."""
    opt_o, opt_t = optimizers()
    so = [SCHEDULERS[n](GS, opt_o) for n in pair]
    st = [SCHEDULERS[n](TS, opt_t) for n in pair]
    for step in range(STEPS):
        opt_o.step()
        opt_t.step()
        for s in (*so, *st):
            s.step()
        for i in range(2):
            assert_same(so[i], st[i], opt_o, opt_t, f"{pair}[{i}] step {step}")


# ----------------------------------------------------------------------------- state


def resume(make: Callable[[Any, Any], Any], what: str, at: int = 17) -> None:
    opt_o, opt_t = optimizers()
    s_o, s_t = make(GS, opt_o), make(TS, opt_t)
    for _ in range(at):
        for x in (opt_o, opt_t, s_o, s_t):
            x.step()
    saved_sched, saved_opt = s_o.state_dict(), opt_o.state_dict()
    opt_new, _ = optimizers()
    s_new = make(GS, opt_new)  # PyTorch's order: build, then load both
    opt_new.load_state_dict(saved_opt)
    s_new.load_state_dict(saved_sched)
    for step in range(at, STEPS):
        for x in (opt_new, opt_t, s_new, s_t):
            x.step()
        assert_same(s_new, s_t, opt_new, opt_t, f"{what} resumed step {step}")


@pytest.mark.parametrize("name", [n for n in SCHEDULERS if not n.startswith("Multiplicative")]
                         + ["MultiplicativeLR"])
def test_state_dict_resume(name: str) -> None:
    resume(SCHEDULERS[name], name)


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_combination_state_dict_resume(name: str) -> None:
    resume(COMBINATIONS[name], name)


@pytest.mark.parametrize("name", ["ConstantLR_args", "LinearLR_warmup", "PolynomialLR",
                                  "CosineAnnealingWarmRestarts_mult", "CyclicLR",
                                  "OneCycleLR_three_phase"])
def test_state_dict_keys_as_pytorch(name: str) -> None:
    _, _, s_o, s_t = run(name, steps=5)
    mine, theirs = s_o.state_dict(), s_t.state_dict()
    # PyTorch also saves its warning flag and (CyclicLR) the custom scale function slot
    missing = set(theirs) - set(mine) - {"_get_lr_called_within_step", "_scale_fn_custom"}
    assert not missing, f"keys PyTorch saves and we do not: {missing}"
    for k in set(mine) & set(theirs):
        if isinstance(theirs[k], float | int) and not isinstance(theirs[k], bool):
            assert mine[k] == pytest.approx(theirs[k], rel=1e-12), k


# ----------------------------------------------------------------------------- errors

BAD: list[tuple[str, Callable[[Any, Any], Any], type]] = [
    ("ConstantLR factor", lambda S, o: S.ConstantLR(o, factor=1.5), ValueError),
    ("ConstantLR negative", lambda S, o: S.ConstantLR(o, factor=-0.1), ValueError),
    ("LinearLR start", lambda S, o: S.LinearLR(o, start_factor=0.0), ValueError),
    ("LinearLR end", lambda S, o: S.LinearLR(o, end_factor=1.5), ValueError),
    ("CosineAnnealingWarmRestarts T_0", lambda S, o: S.CosineAnnealingWarmRestarts(o, 0),
     ValueError),
    ("CosineAnnealingWarmRestarts T_mult", lambda S, o: S.CosineAnnealingWarmRestarts(o, 3, 0),
     ValueError),
    ("CosineAnnealingWarmRestarts float", lambda S, o: S.CosineAnnealingWarmRestarts(o, 3.0),
     ValueError),
    ("CyclicLR mode", lambda S, o: S.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError),
    ("CyclicLR max_lr", lambda S, o: S.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), ValueError),
    ("OneCycleLR steps", lambda S, o: S.OneCycleLR(o, 0.1), ValueError),
    ("OneCycleLR total", lambda S, o: S.OneCycleLR(o, 0.1, total_steps=0), ValueError),
    ("OneCycleLR pct", lambda S, o: S.OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError),
    ("OneCycleLR pct_int", lambda S, o: S.OneCycleLR(o, 0.1, 10, pct_start=1), ValueError),
    ("OneCycleLR anneal", lambda S, o: S.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"),
     ValueError),
    ("MultiplicativeLR lambdas", lambda S, o: S.MultiplicativeLR(o, [lambda e: 1.0]),
     ValueError),
    ("MultiplicativeLR callable", lambda S, o: S.MultiplicativeLR(o, 0.9), TypeError),
    ("SequentialLR milestones", lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o), S.ExponentialLR(o, 0.9)], milestones=[3, 5]), ValueError),
    ("SequentialLR empty", lambda S, o: S.SequentialLR(o, [], []), ValueError),
    ("SequentialLR plateau", lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o), S.ReduceLROnPlateau(o)], [2]), ValueError),
    ("ChainedScheduler empty", lambda S, o: S.ChainedScheduler([]), ValueError),
]


@pytest.mark.parametrize("what,make,error", BAD, ids=[b[0] for b in BAD])
def test_errors_as_pytorch(what: str, make: Callable[[Any, Any], Any], error: type) -> None:
    opt_o, opt_t = optimizers()
    with pytest.raises(error):
        make(TS, opt_t)
    with pytest.raises(error, match=what.split()[0]):
        make(GS, opt_o)


def test_cycle_momentum_needs_momentum_or_betas() -> None:
    opt_o, opt_t = optimizers("Rprop")
    with pytest.raises(ValueError, match="momentum"):
        TS.OneCycleLR(opt_t, 0.1, 10)
    with pytest.raises(ValueError, match="momentum"):
        GS.OneCycleLR(opt_o, 0.1, 10)
    GS.OneCycleLR(opt_o, 0.1, 10, cycle_momentum=False)


def test_sequential_schedulers_must_share_the_optimizer() -> None:
    for S, (a, b) in ((TS, optimizers()[1:] + optimizers()[1:]),
                      (GS, optimizers()[:1] + optimizers()[:1])):
        with pytest.raises(ValueError, match="same optimizer"):
            S.SequentialLR(a, [S.ConstantLR(a), S.ConstantLR(b)], [3])


def test_cosine_warm_restarts_closed_form() -> None:
    """Within the first period, lr = eta_min + (base - eta_min) (1 + cos(pi t / T_0)) / 2."""
    opt_o, _ = optimizers()
    s = GS.CosineAnnealingWarmRestarts(opt_o, T_0=8, eta_min=0.01)
    for t in range(1, 8):
        opt_o.step()
        s.step()
        assert s.get_last_lr()[0] == pytest.approx(0.01 + 0.09 * (1 + math.cos(math.pi * t / 8))
                                                   / 2, rel=1e-14)


def test_warm_restarts_resume_after_fractional_epoch() -> None:
    import warnings

    opt_o, opt_t = optimizers()
    s_o = GS.CosineAnnealingWarmRestarts(opt_o, T_0=5, T_mult=2)
    s_t = TS.CosineAnnealingWarmRestarts(opt_t, T_0=5, T_mult=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for x in (0.5, 1.25, 2.75, 7.4):
            s_o.step(x)
            s_t.step(x)
    opt_new, _ = optimizers()
    s_new = GS.CosineAnnealingWarmRestarts(opt_new, T_0=5, T_mult=2)
    s_new.load_state_dict(s_o.state_dict())
    assert s_new.T_cur == pytest.approx(s_t.T_cur, abs=1e-12) and s_new.T_cur % 1 != 0
    for step in range(20):
        for x in (opt_new, opt_t, s_new, s_t):
            x.step()
        assert_same(s_new, s_t, opt_new, opt_t, f"resumed fractional step {step}")
