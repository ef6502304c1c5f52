"""torch.optim.LBFGS against tinygrad_edu.optim.LBFGS: the returned losses, iterates,
closure calls and counters of every `step(closure)` on Rosenbrock and on a coupled quadratic
of two parameters, with and without the strong-Wolfe line search, short histories, small
evaluation budgets, positional arguments; convergence; float32; state_dict round trips
(also from a state PyTorch saved); the errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
import tinygrad_edu.optim as goptim

from .oracle import as_numpy, assert_close


def test_lbfgs_refuses_param_groups_as_pytorch() -> None:
    def make(o: Any, lib: Any) -> Any:
        return o.LBFGS([{"params": [lib.zeros(2, requires_grad=True)]},
                        {"params": [lib.zeros(2, requires_grad=True)], "lr": 0.1}])

    with pytest.raises(ValueError, match="parameter groups"):
        make(torch.optim, torch)
    with pytest.raises(ValueError, match="parameter groups"):
        make(goptim, tg)


def test_lbfgs_defaults_as_pytorch() -> None:
    o = goptim.LBFGS([tg.zeros(2, requires_grad=True)], max_iter=7)
    t = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)], max_iter=7)
    for k in ("lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change",
              "history_size", "line_search_fn"):
        assert o.param_groups[0][k] == t.param_groups[0][k], k


# ----------------------------------------------------------------------------- LBFGS


def rosenbrock(x: Any) -> Any:
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


QUAD_A = np.random.default_rng(3).standard_normal((5, 5))
QUAD_A = QUAD_A @ QUAD_A.T + 0.5 * np.eye(5)


def quadratic(w: Any, b: Any, lib: Any) -> Any:
    """0.5 w^T A w + sum(b * w) + (b . b - 1)^2: two parameters, coupled."""
    a = lib.tensor(QUAD_A)
    return 0.5 * (w @ (a @ w)) + (b * w).sum() + ((b * b).sum() - 1) ** 2


LBFGS_CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "strong_wolfe": {"line_search_fn": "strong_wolfe"},
    "small_history": {"history_size": 3, "max_iter": 10},
    "small_history_wolfe": {"history_size": 2, "max_iter": 8, "line_search_fn": "strong_wolfe"},
    "lr_max_eval": {"lr": 0.5, "max_iter": 30, "max_eval": 12},
    "positional_tolerances": {"args": (0.8, 15, None, 1e-5, 1e-7, 5, "strong_wolfe")},
}


def lbfgs_for(lib: Any, optim: Any, case: dict[str, Any], problem: str) -> tuple[Any, ...]:
    if problem == "rosenbrock":
        params = [lib.tensor([-1.5, 2.0, -0.5, 1.2, 0.3], dtype=lib.float64, requires_grad=True)]
    else:
        params = [lib.tensor([1.0, -2.0, 0.5, 0.0, 3.0], dtype=lib.float64, requires_grad=True),
                  lib.tensor([0.2, 0.1, -0.3, 0.4, 0.0], dtype=lib.float64, requires_grad=True)]
    kwargs = {k: v for k, v in case.items() if k != "args"}
    opt = optim.LBFGS(params, *case.get("args", ()), **kwargs)
    calls = [0]

    def closure() -> Any:
        calls[0] += 1
        opt.zero_grad()
        loss = rosenbrock(params[0]) if problem == "rosenbrock" else quadratic(*params, lib)
        loss.backward()
        return loss

    return params, opt, closure, calls


@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
@pytest.mark.parametrize("case", list(LBFGS_CASES))
def test_lbfgs_iterates_match(case: str, problem: str) -> None:
    """Every step(closure): the same returned loss, iterate, number of closure calls and
    counters as PyTorch's."""
    p_o, opt_o, closure_o, calls_o = lbfgs_for(tg, goptim, LBFGS_CASES[case], problem)
    p_t, opt_t, closure_t, calls_t = lbfgs_for(torch, torch.optim, LBFGS_CASES[case], problem)
    for step in range(6):
        lo, lt = opt_o.step(closure_o), opt_t.step(closure_t)
        assert isinstance(lo, tg.Tensor)
        assert_close(lo, lt.detach(), what=f"{case} {problem} loss of step {step}")
        assert calls_o == calls_t, f"{case} step {step}: closure calls {calls_o} vs {calls_t}"
        for a, b in zip(p_o, p_t):
            assert_close(a.detach(), b.detach(), what=f"{case} {problem} x after step {step}",
                         rtol=1e-6)
        so, st = opt_o.state[p_o[0]], opt_t.state[p_t[0]]
        assert (so["func_evals"], so["n_iter"]) == (st["func_evals"], st["n_iter"])


def test_lbfgs_converges_on_rosenbrock_as_pytorch() -> None:
    p_o, opt_o, closure_o, _ = lbfgs_for(tg, goptim, {"line_search_fn": "strong_wolfe",
                                                      "max_iter": 200}, "rosenbrock")
    p_t, opt_t, closure_t, _ = lbfgs_for(torch, torch.optim, {"line_search_fn": "strong_wolfe",
                                                              "max_iter": 200}, "rosenbrock")
    opt_o.step(closure_o)
    opt_t.step(closure_t)
    # near a stationary point (this start leads to the 5-D Rosenbrock's local minimum near
    # x0 = -1), the same one as PyTorch's
    closure_o()
    assert np.abs(as_numpy(p_o[0].grad)).max() < 1e-3
    np.testing.assert_allclose(as_numpy(p_o[0]), as_numpy(p_t[0]), atol=1e-9)


@pytest.mark.parametrize("case", ["small_history", "small_history_wolfe"])
def test_lbfgs_state_dict_round_trip(case: str) -> None:
    """Save after two steps, load into a fresh LBFGS over a copy of the parameters, carry on:
    PyTorch's uninterrupted iterates (the histories and direction are part of the state)."""
    p_o, opt_o, closure_o, _ = lbfgs_for(tg, goptim, LBFGS_CASES[case], "quadratic")
    p_t, opt_t, closure_t, _ = lbfgs_for(torch, torch.optim, LBFGS_CASES[case], "quadratic")
    for _ in range(2):
        opt_o.step(closure_o)
        opt_t.step(closure_t)
    saved = opt_o.state_dict()
    assert sorted(saved["state"][0]) == sorted(opt_t.state_dict()["state"][0])
    p_new, opt_new, closure_new, _ = lbfgs_for(tg, goptim, LBFGS_CASES[case], "quadratic")
    for a, b in zip(p_new, p_o):
        a.data.copy_(b.detach())
    opt_new.load_state_dict(saved)
    opt_o.step(closure_o)  # the saved dict holds copies: this does not change it
    for step in range(2, 5):
        opt_new.step(closure_new)
        opt_t.step(closure_t)
        for a, b in zip(p_new, p_t):
            assert_close(a.detach(), b.detach(), what=f"{case} resumed step {step}", rtol=1e-6)


def test_lbfgs_step_needs_a_closure() -> None:
    p = tg.zeros(2, requires_grad=True)
    with pytest.raises(TypeError):
        torch.optim.LBFGS([torch.zeros(2, requires_grad=True)]).step()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="closure"):
        goptim.LBFGS([p]).step()  # type: ignore[call-arg]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_float32(line_search_fn: str | None) -> None:
    """float32 parameters: the flat vectors and the iterates stay float32, as PyTorch's."""
    start = [-1.5, 2.0, -0.5, 1.2, 0.3]
    x_o = tg.tensor(start, requires_grad=True)
    x_t = torch.tensor(start, requires_grad=True)
    opt_o = goptim.LBFGS([x_o], max_iter=5, line_search_fn=line_search_fn)
    opt_t = torch.optim.LBFGS([x_t], max_iter=5, line_search_fn=line_search_fn)

    def closure_for(x: Any, opt: Any) -> Callable[[], Any]:
        def closure() -> Any:
            opt.zero_grad()
            loss = rosenbrock(x)
            loss.backward()
            return loss
        return closure

    for step in range(3):
        lo = opt_o.step(closure_for(x_o, opt_o))
        lt = opt_t.step(closure_for(x_t, opt_t))
        assert_close(lo, lt.detach(), what=f"float32 loss {step}", rtol=1e-4)
        assert_close(x_o.detach(), x_t.detach(), what=f"float32 x {step}", rtol=1e-4, atol=1e-5)
        assert opt_o.state[x_o]["d"].dtype == np.float32


def test_lbfgs_loads_pytorch_state_dict() -> None:
    """PyTorch's LBFGS state (tensors, lists of 0-d tensors, None slots) loads and the run
    continues as PyTorch's."""
    case = LBFGS_CASES["small_history_wolfe"]
    p_t, opt_t, closure_t, _ = lbfgs_for(torch, torch.optim, case, "quadratic")
    for _ in range(2):
        opt_t.step(closure_t)
    p_o, opt_o, closure_o, _ = lbfgs_for(tg, goptim, case, "quadratic")
    for a, b in zip(p_o, p_t):
        a.data.copy_(b.detach().numpy())
    opt_o.load_state_dict(opt_t.state_dict())
    for step in range(2, 5):
        opt_o.step(closure_o)
        opt_t.step(closure_t)
        for a, b in zip(p_o, p_t):
            assert_close(a.detach(), b.detach(), what=f"from torch state, step {step}",
                         rtol=1e-6)
