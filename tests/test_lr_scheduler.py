"""Learning-rate schedulers: lr sequences against their closed forms, chaining, resuming,
state_dict round trips, ReduceLROnPlateau on a synthetic metric, errors."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest

import tinygrad_edu.optim.lr_scheduler as lr_scheduler_module
from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import course
from tinygrad_edu.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)

EPOCHS = 25


def make_optimizer(lrs: tuple[float, ...] = (0.1,)) -> optim.SGD:
    groups = [{"params": [Tensor(np.ones(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0], momentum=0.9)


def lr_sequence(scheduler: LRScheduler, epochs: int = EPOCHS) -> np.ndarray:
    """lrs at epochs 0..epochs-1, as a training loop sees them (step after each epoch)."""
    out = []
    for _ in range(epochs):
        lrs = [g["lr"] for g in scheduler.optimizer.param_groups]
        assert scheduler.get_last_lr() == lrs
        out.append(lrs)
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(out)


def closed_form(f: Any, bases: tuple[float, ...], epochs: int = EPOCHS) -> np.ndarray:
    return np.array([[f(base, e) for base in bases] for e in range(epochs)])


def test_submodule_is_importable_both_ways() -> None:
    assert optim.lr_scheduler is lr_scheduler_module
    assert issubclass(lr_scheduler_module._LRScheduler, LRScheduler)


@pytest.mark.parametrize("bases", [(0.1,), (0.5, 0.02)])
def test_step_lr(bases: tuple[float, ...]) -> None:
    opt = make_optimizer(bases)
    sched = StepLR(opt, step_size=4, gamma=0.5)
    assert sched.last_epoch == 0 and [g["initial_lr"] for g in opt.param_groups] == list(bases)
    np.testing.assert_allclose(lr_sequence(sched),
                               closed_form(lambda b, e: b * 0.5 ** (e // 4), bases), rtol=1e-12)
    assert sched.last_epoch == EPOCHS


def test_multistep_lr_counts_repeated_milestones() -> None:
    sched = MultiStepLR(make_optimizer((0.2, 1.0)), milestones=[3, 10, 10, 17], gamma=0.1)
    expected = closed_form(lambda b, e: b * 0.1 ** sum(m <= e for m in (3, 10, 10, 17)),
                           (0.2, 1.0))
    np.testing.assert_allclose(lr_sequence(sched), expected, rtol=1e-12)


def test_exponential_lr_is_the_courses_per_epoch_lr_decay() -> None:
    sched = ExponentialLR(make_optimizer((0.3,)), gamma=0.95)
    lrs = lr_sequence(sched)
    np.testing.assert_allclose(lrs, closed_form(lambda b, e: b * 0.95**e, (0.3,)), rtol=1e-12)
    config = {"learning_rate": 0.3}  # the course Solver: decay after each epoch
    course_lrs = []
    for _ in range(EPOCHS):
        course_lrs.append(config["learning_rate"])
        course.sgd(np.zeros(1), np.zeros(1), config)
        config["learning_rate"] *= 0.95
    np.testing.assert_allclose(lrs[:, 0], course_lrs, rtol=1e-12)


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing_lr(eta_min: float) -> None:
    """Closed form, also past T_max (the cosine climbs back with period 2*T_max)."""
    T = 7
    sched = CosineAnnealingLR(make_optimizer((0.1, 0.5)), T_max=T, eta_min=eta_min)
    expected = closed_form(
        lambda b, e: eta_min + (b - eta_min) * (1 + math.cos(math.pi * e / T)) / 2, (0.1, 0.5),
        epochs=3 * T + 2)
    np.testing.assert_allclose(lr_sequence(sched, 3 * T + 2), expected, rtol=1e-9, atol=1e-15)


def test_lambda_lr_with_one_function_per_group() -> None:
    sched = LambdaLR(make_optimizer((0.1, 0.4)), [lambda e: 1 / (1 + e), lambda e: 0.9**e])
    expected = np.array([[0.1 / (1 + e), 0.4 * 0.9**e] for e in range(EPOCHS)])
    np.testing.assert_allclose(lr_sequence(sched), expected, rtol=1e-12)
    assert "lr_lambdas" not in sched.state_dict()


def test_schedules_chain_from_an_lr_changed_by_hand() -> None:
    opt = make_optimizer((0.1,))
    sched = StepLR(opt, step_size=2, gamma=0.5)
    sched.step()
    opt.param_groups[0]["lr"] = 1.0
    sched.step()  # epoch 2: halve the current lr
    assert sched.get_last_lr() == [0.5]


def test_two_chained_schedulers_multiply() -> None:
    opt = make_optimizer((1.0,))
    first, second = ExponentialLR(opt, gamma=0.9), StepLR(opt, step_size=3, gamma=0.1)
    for _ in range(6):
        first.step()
        second.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.9**6 * 0.1**2)


def test_step_with_epoch_jumps_to_the_closed_form() -> None:
    sched = MultiStepLR(make_optimizer((1.0,)), milestones=[2, 5], gamma=0.5)
    sched.step(6)
    assert sched.last_epoch == 6 and sched.get_last_lr() == [0.25]
    sched = CosineAnnealingLR(make_optimizer((1.0,)), T_max=10)
    sched.step(5)
    assert sched.get_last_lr() == [pytest.approx(0.5)]


def npz_round_trip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in state.items()})
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        return {k: loaded[k] for k in loaded.files}


MAKERS = [
    lambda opt: StepLR(opt, step_size=3, gamma=0.5),
    lambda opt: MultiStepLR(opt, milestones=[2, 6, 6, 9], gamma=0.5),
    lambda opt: ExponentialLR(opt, gamma=0.9),
    lambda opt: CosineAnnealingLR(opt, T_max=6, eta_min=0.001),
    lambda opt: LambdaLR(opt, lambda e: 1 / (1 + e)),
]


@pytest.mark.parametrize("through_npz", [False, True])
@pytest.mark.parametrize("make", MAKERS, ids=["step", "multistep", "exp", "cosine", "lambda"])
def test_state_dict_round_trip_continues_identically(make: Any, through_npz: bool) -> None:
    opt = make_optimizer((0.1, 0.3))
    sched = make(opt)
    for _ in range(5):
        sched.step()
    saved = sched.state_dict()
    assert "optimizer" not in saved
    if through_npz:
        saved = npz_round_trip(saved)
    opt2 = make_optimizer((0.1, 0.3))  # resume as in PyTorch: build both, then load both
    resumed = make(opt2)
    opt2.load_state_dict(opt.state_dict())
    resumed.load_state_dict(saved)
    assert resumed.last_epoch == 5 and isinstance(resumed.last_epoch, int)
    np.testing.assert_array_equal(lr_sequence(resumed, 12), lr_sequence(sched, 12))


def test_resuming_with_last_epoch_needs_initial_lr() -> None:
    with pytest.raises(KeyError, match=r"StepLR: param_groups\[0\] has no 'initial_lr'"):
        StepLR(make_optimizer(), step_size=2, last_epoch=4)
    opt = make_optimizer((0.8,))
    ExponentialLR(opt, gamma=0.5)
    sched = CosineAnnealingLR(opt, T_max=8, last_epoch=3)  # resumed: closed form at epoch 4
    assert sched.get_last_lr() == [pytest.approx(0.4 * (1 + math.cos(math.pi * 4 / 8)))]


# ----------------------------------------------------------------------------- plateau
def simulate_plateau(metrics: list[float], lr: float, mode: str, factor: float, patience: int,
                     threshold: float, threshold_mode: str, cooldown: int,
                     min_lr: float) -> list[float]:
    """The rule written out plainly for positive metrics: the lr after each step(metric)."""
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    out = []
    for m in metrics:
        sign = 1 if mode == "min" else -1
        margin = threshold * abs(best) if threshold_mode == "rel" else threshold
        if best in (math.inf, -math.inf) or sign * (best - m) > margin:
            best, bad = m, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            lr = new if lr - new > 1e-8 else lr
            cool, bad = cooldown, 0
        out.append(lr)
    return out


PLATEAU = [
    dict(mode="min", factor=0.5, patience=2, threshold=1e-2, threshold_mode="rel", cooldown=0,
         min_lr=0.0),
    dict(mode="min", factor=0.1, patience=1, threshold=0.05, threshold_mode="abs", cooldown=3,
         min_lr=2e-3),
    dict(mode="max", factor=0.5, patience=3, threshold=1e-3, threshold_mode="rel", cooldown=1,
         min_lr=0.0),
]


@pytest.mark.parametrize("options", PLATEAU)
def test_reduce_lr_on_plateau_on_a_synthetic_metric(options: dict[str, Any]) -> None:
    rng = np.random.default_rng(3)
    # improves, then plateaus with noise, improves once more, then plateaus for good
    curve = np.concatenate([np.linspace(2.0, 1.0, 8), 1.0 + 0.01 * rng.standard_normal(10),
                            np.linspace(0.95, 0.6, 4), 0.6 + 0.005 * rng.standard_normal(18)])
    # positive metrics: a loss to minimize, or an accuracy-like 3 - loss to maximize
    metrics = list(curve if options["mode"] == "min" else 3 - curve)
    opt = make_optimizer((0.1,))
    sched = ReduceLROnPlateau(opt, **options)
    lrs = []
    for m in metrics:
        sched.step(Tensor(np.float64(m)) if len(lrs) % 2 else m)
        lrs.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == lrs[-1]
    expected = simulate_plateau(metrics, 0.1, **options)
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert len(set(lrs)) >= 3  # the schedule did reduce, more than once


def test_reduce_lr_on_plateau_by_hand() -> None:
    opt = make_optimizer((1.0,))
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.3)
    lrs = []
    for m in [5, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3]:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    # 4 ties the best: bad 1; bad 2 > patience: halve, cooldown 1; cooldown: not counted;
    # bad 1; bad 2: halve, but not below min_lr = 0.3; 3 improves; the floor then holds.
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    state = npz_round_trip(sched.state_dict())
    other = ReduceLROnPlateau(make_optimizer((0.3,)))
    other.load_state_dict(state)
    assert other.best == 3 and other.patience == 1 and other.min_lrs == [0.3]


def test_errors() -> None:
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer, got list"):
        StepLR([], step_size=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive int, got 0"):
        StepLR(make_optimizer(), step_size=0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor should be < 1.0, got 1.5"):
        ReduceLROnPlateau(make_optimizer(), factor=1.5)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode should be 'min' or 'max'"):
        ReduceLROnPlateau(make_optimizer(), mode="lowest")
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau: expected 2 min_lrs \(one per "
                                         r"parameter group\), got 3"):
        ReduceLROnPlateau(make_optimizer((0.1, 0.2)), min_lr=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="LambdaLR: expected 2 lr_lambdas"):
        LambdaLR(make_optimizer((0.1, 0.2)), [lambda e: 1.0])
    with pytest.raises(TypeError, match="LambdaLR: lr_lambda 0 is a float, not a function"):
        LambdaLR(make_optimizer(), 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be a positive int"):
        CosineAnnealingLR(make_optimizer(), T_max=0)
