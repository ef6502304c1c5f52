"""The optimizers, schedules and initializers issue 19 adds, without PyTorch: each optimizer
decreases a convex quadratic (and LBFGS finds its minimiser), the rules against their
formulas written out by hand, state_dict through an `.npz`, the schedules against their
closed forms, and the errors for bad arguments."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.optim as optim
from tinygrad_edu.optim import lr_scheduler as S

A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])
B = np.array([1.0, -2.0, 0.5])
X_STAR = np.linalg.solve(A, B)  # minimiser of 0.5 x^T A x - b^T x


def quadratic(x: tg.Tensor) -> tg.Tensor:
    return 0.5 * (x @ (tg.tensor(A) @ x)) - (tg.tensor(B) * x).sum()


def f_value(x: np.ndarray) -> float:
    return float(0.5 * x @ A @ x - B @ x)


OPTIMIZERS: dict[str, Callable[[list[tg.Tensor]], Any]] = {
    "Adadelta": lambda p: optim.Adadelta(p, lr=1.0),
    "Adamax": lambda p: optim.Adamax(p, lr=0.05),
    "NAdam": lambda p: optim.NAdam(p, lr=0.05),
    "NAdam_decoupled": lambda p: optim.NAdam(p, lr=0.05, weight_decay=0.01,
                                             decoupled_weight_decay=True),
    "RAdam": lambda p: optim.RAdam(p, lr=0.05),
    "Rprop": lambda p: optim.Rprop(p, lr=0.01),
    "ASGD": lambda p: optim.ASGD(p, lr=0.05, t0=20),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_decreases_a_convex_quadratic(name: str) -> None:
    x = tg.tensor([2.0, 2.0, -3.0], requires_grad=True, dtype=tg.float64)
    opt = OPTIMIZERS[name]([x])
    start = f_value(x.numpy())
    for _ in range(300):
        opt.zero_grad()
        quadratic(x).backward()
        opt.step()
    end = f_value(x.numpy())
    assert end < start - 0.5 * (start - f_value(X_STAR)), f"{name}: {start} -> {end}"


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "Rprop", "Adadelta"])
def test_maximize_increases_the_negated_quadratic(name: str) -> None:
    x = tg.tensor([2.0, 2.0, -3.0], requires_grad=True, dtype=tg.float64)
    opt = OPTIMIZERS[name]([x])
    for g in opt.param_groups:
        g["maximize"] = True
    start = -f_value(x.numpy())
    for _ in range(100):
        opt.zero_grad()
        (-quadratic(x)).backward()
        opt.step()
    assert -f_value(x.numpy()) > start


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_finds_the_minimiser(line_search_fn: str | None) -> None:
    x = tg.tensor([2.0, 2.0, -3.0], requires_grad=True, dtype=tg.float64)
    opt = optim.LBFGS([x], line_search_fn=line_search_fn, tolerance_grad=1e-12,
                      tolerance_change=1e-14)

    def closure() -> tg.Tensor:
        opt.zero_grad()
        loss = quadratic(x)
        loss.backward()
        return loss

    first = opt.step(closure)
    assert float(first) == pytest.approx(f_value(np.array([2.0, 2.0, -3.0])))
    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(x.numpy(), X_STAR, atol=1e-8)


def test_adadelta_first_steps_by_hand() -> None:
    g = np.array([0.5, -1.0])
    x = tg.tensor([1.0, 1.0], requires_grad=True, dtype=tg.float64)
    opt = optim.Adadelta([x], lr=1.0, rho=0.9, eps=1e-6)
    expected, s, acc = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    for _ in range(3):
        x.grad = tg.tensor(g)
        opt.step()
        s = 0.9 * s + 0.1 * g * g
        delta = np.sqrt(acc + 1e-6) / np.sqrt(s + 1e-6) * g
        acc = 0.9 * acc + 0.1 * delta * delta
        expected = expected - delta
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-14)


def test_rprop_step_sizes_grow_shrink_and_skip() -> None:
    x = tg.tensor([0.0], requires_grad=True, dtype=tg.float64)
    opt = optim.Rprop([x], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.01, 0.3))
    moves = []
    for g in (1.0, 1.0, 1.0, -1.0, -1.0):
        before = x.numpy().copy()
        x.grad = tg.tensor([g], dtype=tg.float64)
        opt.step()
        moves.append(float((x.numpy() - before)[0]))
    # 0.1, grown to 0.2, to 0.3 (clipped), sign flip: shrink to 0.15 and skip, then 0.15
    np.testing.assert_allclose(moves, [-0.1, -0.2, -0.3, 0.0, 0.15])


def test_asgd_average_starts_after_t0() -> None:
    x = tg.tensor([1.0], requires_grad=True, dtype=tg.float64)
    opt = optim.ASGD([x], lr=0.1, lambd=0.0, alpha=0.75, t0=3)
    path = []
    for _ in range(8):
        x.grad = tg.tensor([1.0], dtype=tg.float64)
        opt.step()
        path.append(float(x.numpy()[0]))
    ax = float(opt.state[x]["ax"][0])
    # mu, computed after step t as 1 / max(1, t - t0), is 1 up to step t0 + 2 (ax copies
    # p), then 1/2, 1/3, ...: ax averages the iterates from step t0 + 2 on (mu is kept in
    # float32, as PyTorch, hence the tolerance)
    assert ax == pytest.approx(np.mean(path[4:]), rel=1e-7)
    assert ax != pytest.approx(np.mean(path[3:]), rel=1e-3)


def test_state_dict_survives_npz(tmp_path: Any) -> None:
    x = tg.tensor([1.0, -1.0], requires_grad=True, dtype=tg.float64)
    opt = optim.NAdam([x], lr=0.1)
    for _ in range(3):
        x.grad = tg.tensor([0.3, 0.7], dtype=tg.float64)
        opt.step()
    tg.save(opt.state_dict(), tmp_path / "opt.npz")
    other = optim.NAdam([tg.tensor([1.0, -1.0], requires_grad=True, dtype=tg.float64)], lr=0.1)
    other.load_state_dict(tg.load(tmp_path / "opt.npz"))
    state = next(iter(other.state.values()))
    assert isinstance(state["mu_product"], float) and isinstance(state["step"], int)
    assert state["mu_product"] == opt.state[x]["mu_product"]
    np.testing.assert_array_equal(state["exp_avg"], opt.state[x]["exp_avg"])


BAD: list[tuple[str, Callable[[list[tg.Tensor]], Any]]] = [
    ("Adadelta.*learning rate", lambda p: optim.Adadelta(p, lr=-0.5)),
    ("Adadelta.*rho", lambda p: optim.Adadelta(p, rho=-0.1)),
    ("Adamax.*beta2", lambda p: optim.Adamax(p, betas=(0.9, 1.0))),
    ("Adamax.*betas", lambda p: optim.Adamax(p, betas=0.9)),
    ("NAdam.*momentum_decay", lambda p: optim.NAdam(p, momentum_decay=-0.1)),
    ("RAdam.*weight_decay", lambda p: optim.RAdam(p, weight_decay=-1e-3)),
    ("Rprop.*eta", lambda p: optim.Rprop(p, etas=(0.5, 1.0))),
    ("Rprop.*pairs", lambda p: optim.Rprop(p, step_sizes=1e-6)),
    ("ASGD.*learning rate", lambda p: optim.ASGD(p, lr=-1)),
    ("LBFGS.*line_search_fn", lambda p: optim.LBFGS(p, line_search_fn="wolfe")),
    ("LBFGS.*parameter groups", lambda p: optim.LBFGS([{"params": p}, {"params": [
        tg.zeros(1, requires_grad=True)]}])),
]


@pytest.mark.parametrize("pattern,make", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_value_error(pattern: str, make: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=pattern):
        make([tg.zeros(2, requires_grad=True)])


def test_lbfgs_step_without_closure_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([tg.zeros(2, requires_grad=True)]).step(None)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- schedules


def lrs(make: Callable[[Any], Any], steps: int, lr: float = 1.0) -> list[float]:
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)
    sched = make(opt)
    out = [sched.get_last_lr()[0]]
    for _ in range(steps):
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_linear_constant_polynomial_closed_forms() -> None:
    got = lrs(lambda o: S.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=4), 8)
    np.testing.assert_allclose(got, [0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1], rtol=1e-12)
    got = lrs(lambda o: S.ConstantLR(o, factor=0.5, total_iters=3), 5)
    np.testing.assert_allclose(got, [0.5, 0.5, 0.5, 1, 1, 1], rtol=1e-12)
    got = lrs(lambda o: S.PolynomialLR(o, total_iters=4, power=2.0), 6)
    np.testing.assert_allclose(got, [(1 - min(e, 4) / 4) ** 2 for e in range(7)], atol=1e-15)
    got = lrs(lambda o: S.MultiplicativeLR(o, lambda e: 0.5), 3)
    np.testing.assert_allclose(got, [1, 0.5, 0.25, 0.125], rtol=1e-12)


def test_one_cycle_reaches_max_then_min() -> None:
    got = lrs(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=100), 99)
    assert got[0] == pytest.approx(1.0 / 25)
    assert max(got) == pytest.approx(1.0) and int(np.argmax(got)) == 29
    assert got[-1] == pytest.approx(1.0 / 25 / 1e4)


def test_cyclic_triangular_is_a_triangle_wave() -> None:
    got = lrs(lambda o: S.CyclicLR(o, base_lr=0.0, max_lr=1.0, step_size_up=4), 16)
    tri = [1 - abs((e % 8) - 4) / 4 for e in range(17)]
    np.testing.assert_allclose(got, tri, atol=1e-15)


def test_warm_restarts_restart_at_the_period() -> None:
    got = lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2), 14)
    # periods 2, 4, 8: restarts at epochs 2 and 6
    assert got[2] == got[6] == got[0] == 1.0
    assert got[1] == pytest.approx(0.5) and got[4] == pytest.approx(0.5)


def test_sequential_warmup_then_decay() -> None:
    def make(o: Any) -> Any:
        return S.SequentialLR(o, [S.LinearLR(o, 0.25, total_iters=3),
                                  S.ExponentialLR(o, gamma=0.5)], milestones=[3])
    np.testing.assert_allclose(lrs(make, 5), [0.25, 0.5, 0.75, 1.0, 0.5, 0.25], rtol=1e-12)


def test_chained_scheduler_multiplies_factors() -> None:
    def make(o: Any) -> Any:
        return S.ChainedScheduler([S.ConstantLR(o, factor=0.1, total_iters=2),
                                   S.ExponentialLR(o, gamma=0.9)])
    np.testing.assert_allclose(lrs(make, 4), [0.1, 0.09, 0.81, 0.729, 0.6561], rtol=1e-12)


def test_scheduler_errors() -> None:
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="ConstantLR: factor"):
        S.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=-1)
    with pytest.raises(ValueError, match="non-negative epoch"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)
    with pytest.raises(ValueError, match="momentum or betas"):
        S.CyclicLR(optim.Rprop([tg.zeros(1, requires_grad=True)]), 0.1, 1.0)
    assert math.isfinite(S.CyclicLR(opt, 0.1, 1.0).get_last_lr()[0])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_zero_dim_and_empty_parameters(name: str, dtype: Any) -> None:
    """A 0-d parameter is optimized, an empty one is left alone; dtypes are kept."""
    scalar = tg.tensor(1.5, dtype=dtype, requires_grad=True)
    empty = tg.zeros(0, 3, dtype=dtype, requires_grad=True)
    opt = OPTIMIZERS[name]([scalar, empty])
    for _ in range(5):
        opt.zero_grad()
        ((scalar - 0.5) ** 2 + empty.sum()).backward()
        opt.step()
    assert scalar.dtype == dtype and scalar.shape == () and empty.shape == (0, 3)
    assert float(scalar) < 1.5
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, np.ndarray):
                assert value.dtype == dtype
