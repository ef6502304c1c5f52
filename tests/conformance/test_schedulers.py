"""torch.optim.lr_scheduler against tinygrad_edu.optim.lr_scheduler: the learning rate
after each of 20 epochs (`get_last_lr()` and `optimizer.param_groups[i]['lr']`), two
parameter groups with different base lrs, every scheduler written once as
`lambda S, opt: S.Name(opt, ...)` with S = either library's lr_scheduler module."""

from __future__ import annotations

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

EPOCHS = 20


def optimizers(momentum: float = 0.9) -> tuple[Any, Any]:
    """SGD over two groups (lr 0.1 and 0.05) in each library; every parameter has a (zero)
    gradient so optimizer.step() runs before scheduler.step(), as PyTorch asks."""
    def groups(lib: Any) -> list[dict[str, Any]]:
        a = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        b = lib.zeros(2, dtype=lib.float64, requires_grad=True)
        a.grad, b.grad = lib.zeros(3, dtype=lib.float64), lib.zeros(2, dtype=lib.float64)
        return [{"params": [a]}, {"params": [b], "lr": 0.05}]

    return (goptim.SGD(groups(tg), lr=0.1, momentum=momentum),
            torch.optim.SGD(groups(torch), lr=0.1, momentum=momentum))


def assert_lrs(s_o: Any, s_t: Any, opt_o: Any, opt_t: Any, what: str) -> None:
    last_o, last_t = s_o.get_last_lr(), s_t.get_last_lr()
    assert isinstance(last_o, list) and len(last_o) == len(last_t), f"{what}: {last_o!r}"
    assert_close(np.array(last_o, dtype=np.float64), np.array(last_t), what=f"{what} get_last_lr")
    assert_close(np.array([g["lr"] for g in opt_o.param_groups], dtype=np.float64),
                 np.array([g["lr"] for g in opt_t.param_groups]),
                 what=f"{what} param_groups lr")


SCHEDULERS: dict[str, Callable[[Any, Any], Any]] = {
    "StepLR": lambda S, o: S.StepLR(o, step_size=3),
    "StepLR_positional": lambda S, o: S.StepLR(o, 4, 0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[2, 5, 11], gamma=0.3),
    "MultiStepLR_repeated_milestone": lambda S, o: S.MultiStepLR(o, [3, 7, 7, 15], 0.5),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "ExponentialLR_positional": lambda S, o: S.ExponentialLR(o, 0.7),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=7),
    "CosineAnnealingLR_eta_min": lambda S, o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    "CosineAnnealingLR_full": lambda S, o: S.CosineAnnealingLR(o, EPOCHS),
    "CosineAnnealingLR_positional": lambda S, o: S.CosineAnnealingLR(o, 6, 0.001),
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 0.95**e),
    "LambdaLR_keyword": lambda S, o: S.LambdaLR(o, lr_lambda=lambda e: 1.0 / (e + 1)),
    "LambdaLR_per_group": lambda S, o: S.LambdaLR(o, [lambda e: 0.9**e,
                                                      lambda e: min(1.0, (e + 1) / 5)]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_20_epochs(name: str) -> None:
    opt_o, opt_t = optimizers()
    s_o, s_t = SCHEDULERS[name](GS, opt_o), SCHEDULERS[name](TS, opt_t)
    assert_lrs(s_o, s_t, opt_o, opt_t, f"{name} after construction")
    assert s_o.last_epoch == s_t.last_epoch
    for epoch in range(EPOCHS):
        opt_o.step()
        opt_t.step()
        s_o.step()
        s_t.step()
        assert_lrs(s_o, s_t, opt_o, opt_t, f"{name} epoch {epoch}")
        assert s_o.last_epoch == s_t.last_epoch
    assert [g["initial_lr"] for g in opt_o.param_groups] == [
        g["initial_lr"] for g in opt_t.param_groups]
    assert s_o.base_lrs == s_t.base_lrs


@pytest.mark.parametrize("pair_", [("StepLR", "ExponentialLR"), ("MultiStepLR", "LambdaLR"),
                                   ("ExponentialLR", "CosineAnnealingLR")])
def test_chained_schedulers(pair_: tuple[str, str]) -> None:
    """Two schedulers on one optimizer, both stepped each epoch (PyTorch's chaining)."""
    opt_o, opt_t = optimizers()
    a, b = pair_
    so = [SCHEDULERS[a](GS, opt_o), SCHEDULERS[b](GS, opt_o)]
    st = [SCHEDULERS[a](TS, opt_t), SCHEDULERS[b](TS, opt_t)]
    for epoch in range(EPOCHS):
        opt_o.step()
        opt_t.step()
        for s in (*so, *st):
            s.step()
        for i in range(2):
            assert_lrs(so[i], st[i], opt_o, opt_t, f"{pair_}[{i}] epoch {epoch}")


def test_custom_scheduler_subclass() -> None:
    def make(S: Any, o: Any) -> Any:
        class Warmup(S.LRScheduler):
            def get_lr(self) -> list[float]:
                return [base * min(1.0, (self.last_epoch + 1) / 5) for base in self.base_lrs]

        return Warmup(o)

    opt_o, opt_t = optimizers()
    s_o, s_t = make(GS, opt_o), make(TS, opt_t)
    assert_lrs(s_o, s_t, opt_o, opt_t, "warmup construction")
    for epoch in range(10):
        opt_o.step()
        opt_t.step()
        s_o.step()
        s_t.step()
        assert_lrs(s_o, s_t, opt_o, opt_t, f"warmup epoch {epoch}")


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "CosineAnnealingLR_eta_min", "LambdaLR"])
def test_scheduler_state_dict_resume(name: str) -> None:
    """Save the scheduler's state_dict at epoch 8, rebuild optimizer and scheduler, load it,
    continue: the same lrs as PyTorch's uninterrupted run."""
    opt_o, opt_t = optimizers()
    s_o, s_t = SCHEDULERS[name](GS, opt_o), SCHEDULERS[name](TS, opt_t)
    for _ in range(8):
        for x in (opt_o, opt_t, s_o, s_t):
            x.step()
    saved_sched, saved_opt = s_o.state_dict(), opt_o.state_dict()
    opt_new, _ = optimizers()
    opt_new.load_state_dict(saved_opt)
    s_new = SCHEDULERS[name](GS, opt_new)
    s_new.load_state_dict(saved_sched)
    for epoch in range(8, EPOCHS):
        for x in (opt_new, opt_t, s_new, s_t):
            x.step()
        assert_lrs(s_new, s_t, opt_new, opt_t, f"{name} resumed epoch {epoch}")


# ----------------------------------------------------------------------------- plateau

METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.94, 0.97, 0.8, 0.85, 0.85, 0.86, 0.79, 0.79, 0.795,
           0.7999, 0.9, 0.91, 0.6, 0.6, 0.61]
PLATEAU: dict[str, Callable[[Any, Any], Any]] = {
    "default_patience2": lambda S, o: S.ReduceLROnPlateau(o, patience=2),
    "factor_positional": lambda S, o: S.ReduceLROnPlateau(o, "min", 0.5, 1),
    "max_mode": lambda S, o: S.ReduceLROnPlateau(o, mode="max", factor=0.5, patience=1),
    "abs_threshold": lambda S, o: S.ReduceLROnPlateau(o, patience=1, threshold=0.02,
                                                      threshold_mode="abs"),
    "cooldown": lambda S, o: S.ReduceLROnPlateau(o, factor=0.5, patience=0, cooldown=2),
    "min_lr": lambda S, o: S.ReduceLROnPlateau(o, factor=0.2, patience=0, min_lr=0.01),
    "min_lr_per_group": lambda S, o: S.ReduceLROnPlateau(o, factor=0.2, patience=0,
                                                         min_lr=[0.005, 0.02]),
    "eps": lambda S, o: S.ReduceLROnPlateau(o, factor=0.9, patience=0, eps=0.005),
}


@pytest.mark.parametrize("name", list(PLATEAU))
@pytest.mark.parametrize("metric_type", ["float", "tensor"])
def test_reduce_lr_on_plateau(name: str, metric_type: str) -> None:
    opt_o, opt_t = optimizers()
    s_o, s_t = PLATEAU[name](GS, opt_o), PLATEAU[name](TS, opt_t)
    assert_lrs(s_o, s_t, opt_o, opt_t, f"{name} after construction")
    for epoch, m in enumerate(METRICS):
        opt_o.step()
        opt_t.step()
        if metric_type == "float":
            s_o.step(m)
            s_t.step(m)
        else:
            s_o.step(tg.tensor(m))
            s_t.step(torch.tensor(m))
        assert_lrs(s_o, s_t, opt_o, opt_t, f"{name} epoch {epoch} (metric {m})")
        assert s_o.num_bad_epochs == s_t.num_bad_epochs, f"epoch {epoch} num_bad_epochs"
        assert s_o.best == pytest.approx(s_t.best), f"epoch {epoch} best"


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "CosineAnnealingLR_eta_min", "LambdaLR"])
def test_step_with_explicit_epoch(name: str) -> None:
    """`scheduler.step(epoch)` (deprecated in PyTorch, which warns, but still supported):
    the lr jumps to that epoch's value."""
    import warnings

    opt_o, opt_t = optimizers()
    s_o, s_t = SCHEDULERS[name](GS, opt_o), SCHEDULERS[name](TS, opt_t)
    for epoch in (3, 4, 9, 2, 12, 13):
        opt_o.step()
        opt_t.step()
        s_o.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            s_t.step(epoch)
        assert_lrs(s_o, s_t, opt_o, opt_t, f"{name} step({epoch})")
