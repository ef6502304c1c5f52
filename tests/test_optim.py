"""Update rules: every optimizer against its textbook formula, written here in numpy, step
by step for 20 steps; maximize; the courses' forms of the rules (momentum as
v = mu*v - lr*g, both RMSProp eps placements, `optim.course`). The API (groups, state_dict,
errors) is tested in test_optim_api.py, which shares this module's small problem."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import _rules, course

STEPS = 20
_rng = np.random.default_rng(0)
X = _rng.standard_normal((8, 4))
Y = _rng.standard_normal((8, 3))
W0 = 0.5 * _rng.standard_normal((3, 4))
B0 = 0.1 * _rng.standard_normal(3)


# ----------------------------------------------------------------------------- the problem
def numpy_grads(w: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Gradients of L = 0.5 * |tanh(X W^T + b) - Y|^2, by hand."""
    h = np.tanh(X @ w.T + b)
    dz = (h - Y) * (1 - h**2)
    return [dz.T @ X, dz.sum(0)]


def tensor_loss(w: Tensor, b: Tensor) -> Tensor:
    h = (Tensor(X) @ w.T + b).tanh()
    return 0.5 * ((h - Tensor(Y)) ** 2).sum()


def leaves(dtype: Any = np.float64) -> list[Tensor]:
    return [Tensor(W0.astype(dtype), requires_grad=True),
            Tensor(B0.astype(dtype), requires_grad=True)]


def tensor_trajectory(make_opt: Any, steps: int = STEPS, sign: float = 1.0,
                      params: list[Tensor] | None = None) -> list[list[np.ndarray]]:
    params = leaves() if params is None else params
    opt = make_opt(params)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (sign * tensor_loss(*params)).backward()
        opt.step()
        out.append([p.numpy().copy() for p in params])
    return out


def reference_trajectory(rule: Any, steps: int = STEPS, **hp: Any) -> list[list[np.ndarray]]:
    ws, states, out = [W0.copy(), B0.copy()], [{}, {}], []
    for t in range(1, steps + 1):
        ws = [rule(w, g, s, t, **hp) for w, g, s in zip(ws, numpy_grads(*ws), states)]
        out.append([w.copy() for w in ws])
    return out


def assert_same_trajectory(a: list[list[np.ndarray]], b: list[list[np.ndarray]],
                           rtol: float = 1e-10) -> None:
    for step, (xs, ys) in enumerate(zip(a, b, strict=True)):
        for x, y in zip(xs, ys):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-13, err_msg=f"step {step + 1}")


# ----------------------------------------------------------------------------- textbook rules
def ref_sgd(w, g, s, t, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False,
            weight_decay=0.0, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * w
    if momentum:
        s["b"] = g if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return w - lr * g


def ref_rmsprop(w, g, s, t, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False, eps_inside_sqrt=False):
    g = -g if maximize else g
    g = g + weight_decay * w
    s["sq"] = alpha * s.get("sq", 0.0) + (1 - alpha) * g**2
    avg = s["sq"]
    if centered:
        s["ga"] = alpha * s.get("ga", 0.0) + (1 - alpha) * g
        avg = avg - s["ga"] ** 2
    denom = np.sqrt(avg + eps) if eps_inside_sqrt else np.sqrt(avg) + eps
    if momentum:
        s["b"] = momentum * s.get("b", 0.0) + g / denom
        return w - lr * s["b"]
    return w - lr * g / denom


def ref_adam(w, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):
    beta1, beta2 = betas
    g = -g if maximize else g
    if decoupled:
        w = w * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * w
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g**2
    v = s["v"]
    if amsgrad:
        v = s["vmax"] = np.maximum(s.get("vmax", 0.0), v)
    m_hat, v_hat = s["m"] / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(w, g, s, t, weight_decay=1e-2, **kw):
    return ref_adam(w, g, s, t, weight_decay=weight_decay, decoupled=True, **kw)


def ref_adagrad(w, g, s, t, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * w
    s["sum"] = s.get("sum", initial_accumulator_value) + g**2
    return w - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)


CASES = [
    (optim.SGD, ref_sgd, dict(lr=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, dampening=0.3)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.SGD, ref_sgd, dict(lr=0.1, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.5, weight_decay=0.05, maximize=True)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.9, eps=1e-3, eps_inside_sqrt=True)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, weight_decay=0.1, centered=True,
                                      maximize=True)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.5, centered=True,
                                      eps_inside_sqrt=True)),
    (optim.Adam, ref_adam, dict(lr=0.05)),
    (optim.Adam, ref_adam, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    (optim.Adam, ref_adam, dict(lr=0.05, amsgrad=True, maximize=True)),
    (optim.AdamW, ref_adamw, dict(lr=0.05)),
    (optim.AdamW, ref_adamw, dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.1,
                                      initial_accumulator_value=0.5, maximize=True)),
]


@pytest.mark.parametrize("cls, rule, hp", CASES,
                         ids=[f"{c.__name__}-{sorted(h.items())}" for c, _, h in CASES])
def test_update_rule_matches_textbook_formula(cls: Any, rule: Any, hp: dict) -> None:
    assert_same_trajectory(tensor_trajectory(lambda ps: cls(ps, **hp)),
                           reference_trajectory(rule, **hp))


ONE_PER_CLASS = list({c[0]: c for c in CASES if not c[2].get("maximize")}.values())


@pytest.mark.parametrize("cls, rule, hp", ONE_PER_CLASS,
                         ids=[c.__name__ for c, _, _ in ONE_PER_CLASS])
def test_maximize_equals_minimizing_the_negated_loss(cls: Any, rule: Any, hp: dict) -> None:
    """maximize=True on L follows the trajectory of minimizing -L."""
    assert_same_trajectory(tensor_trajectory(lambda ps: cls(ps, maximize=True, **hp), sign=-1),
                           tensor_trajectory(lambda ps: cls(ps, **hp)), rtol=0)


# ----------------------------------------------------------------------------- courses' forms
def course_momentum(w, g, s, t, lr, momentum):
    s["v"] = momentum * s.get("v", 0.0) - lr * g
    return w + s["v"]


@given(lr=st.floats(1e-3, 0.3), momentum=st.floats(0.0, 0.95))
def test_course_momentum_form_gives_pytorch_sgd_trajectory(lr: float, momentum: float) -> None:
    """v = mu*v - lr*g; x += v  ==  b = mu*b + g; x -= lr*b, at a constant lr."""
    ours = tensor_trajectory(lambda ps: optim.SGD(ps, lr=lr, momentum=momentum))
    assert_same_trajectory(ours, reference_trajectory(course_momentum, lr=lr,
                                                      momentum=momentum), rtol=1e-9)
    ws, configs = [W0.copy(), B0.copy()], [{"learning_rate": lr, "momentum": momentum}, {}]
    configs[1].update(configs[0])
    for step in ours:
        ws = [course.sgd_momentum(w, g, c)[0] for w, g, c in zip(ws, numpy_grads(*ws), configs)]
        for w, p in zip(ws, step):
            np.testing.assert_allclose(w, p, rtol=1e-9, atol=1e-13)


def test_momentum_applies_new_gradient_after_the_buffer() -> None:
    """Two steps by hand: x1 = x0 - lr*g0, x2 = x1 - lr*(mu*g0 + g1). An implementation
    that moved x before updating the buffer, or scaled the old buffer by lr twice, fails."""
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.SGD([x], lr=0.1, momentum=0.9)
    g0, g1 = np.array([0.5, 1.0]), np.array([-1.0, 2.0])
    x.grad = Tensor(g0)
    opt.step()
    np.testing.assert_allclose(x.numpy(), [1.0 - 0.05, -2.0 - 0.1])
    x.grad = Tensor(g1)
    opt.step()
    np.testing.assert_allclose(x.numpy(), [0.95 - 0.1 * (0.45 - 1.0), -2.1 - 0.1 * (0.9 + 2.0)])


def test_momentum_after_lr_change_follows_pytorch_not_the_course_form() -> None:
    """The two forms agree only at a constant lr: PyTorch applies a new lr to the whole
    buffer (x -= lr_new * (mu*b + g)); the courses' v keeps the old lr's steps."""
    x = Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([x], lr=0.1, momentum=0.9)
    x.grad = Tensor(np.array([1.0]))
    opt.step()  # b = 1, x = 0.9
    opt.param_groups[0]["lr"] = 0.01
    opt.step()  # b = 1.9, x = 0.9 - 0.019
    np.testing.assert_allclose(x.numpy(), [0.9 - 0.01 * 1.9])
    v = 0.9 * -0.1 - 0.01 * 1.0  # the course form would land at 0.9 + v = 0.8
    assert not np.isclose(x.numpy()[0], 0.9 + v)


def test_dampening_is_not_applied_on_the_first_step() -> None:
    x = Tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([x], lr=1.0, momentum=0.5, dampening=0.5)
    x.grad = Tensor(np.array([1.0, 2.0]))
    opt.step()
    np.testing.assert_allclose(opt.state[x]["momentum_buffer"], [1.0, 2.0])
    opt.step()
    np.testing.assert_allclose(opt.state[x]["momentum_buffer"], [1.0, 2.0])  # .5*b + .5*g


def run_course(rule: Any, config: dict, steps: int = STEPS) -> list[list[np.ndarray]]:
    ws, configs, out = [W0.copy(), B0.copy()], [dict(config), dict(config)], []
    for _ in range(steps):
        ws = [rule(w, g, c)[0] for w, g, c in zip(ws, numpy_grads(*ws), configs)]
        out.append([w.copy() for w in ws])
    return out


def test_course_rules_equal_the_optimizers_on_tensors() -> None:
    assert_same_trajectory(run_course(course.sgd, {"learning_rate": 0.1}),
                           tensor_trajectory(lambda ps: optim.SGD(ps, lr=0.1)))
    assert_same_trajectory(
        run_course(course.rmsprop, {"learning_rate": 0.01, "decay_rate": 0.9}),
        tensor_trajectory(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9)))
    assert_same_trajectory(
        run_course(course.adam, {"learning_rate": 0.05, "beta1": 0.8}),
        tensor_trajectory(lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.999))), rtol=1e-9)


def test_rmsprop_eps_placement() -> None:
    """cs231n (and PyTorch) divide by sqrt(cache) + eps; CS189 by sqrt(cache + eps).
    With tiny gradients the two trajectories are far apart."""
    scale = 1e-6
    grads = [scale * g for g in numpy_grads(W0, B0)]

    def run(inside: bool) -> np.ndarray:
        params = leaves()
        opt = optim.RMSprop(params, lr=0.01, eps_inside_sqrt=inside)
        for _ in range(5):
            for p, g in zip(params, grads):
                p.grad = Tensor(g)
            opt.step()
        return params[0].numpy()

    def run_course_rule(inside: bool) -> np.ndarray:
        w, config = W0.copy(), {"learning_rate": 0.01}
        if inside:
            config["eps_inside_sqrt"] = True
        for _ in range(5):
            w, config = course.rmsprop(w, grads[0], config)
        return w

    outside, inside = run(False), run(True)
    np.testing.assert_allclose(outside, run_course_rule(False), rtol=1e-12)
    np.testing.assert_allclose(inside, run_course_rule(True), rtol=1e-12)
    step = np.abs(W0 - outside).max(), np.abs(W0 - inside).max()
    # per element, |g| / (sqrt(cache) + eps) ~ 10 vs |g| / sqrt(cache + eps) ~ 0.01
    assert step[0] > 100 * step[1]


def test_course_rule_config_semantics() -> None:
    w, dw = np.linspace(-0.4, 0.6, 20).reshape(4, 5), np.linspace(-0.6, 0.4, 20).reshape(4, 5)
    w_before = w.copy()
    next_w, config = course.adam(w, dw)
    assert config["t"] == 1 and set(config) == {"learning_rate", "beta1", "beta2", "epsilon",
                                                 "m", "v", "t"}
    np.testing.assert_array_equal(w, w_before)  # only plain sgd updates w in place
    # t is incremented before use: the first step is exactly lr * sign(dw) (up to eps)
    np.testing.assert_allclose(next_w, w - 1e-3 * dw / (np.abs(dw) + 1e-8), rtol=1e-12)
    v0 = np.full_like(w, 0.5)
    next_w, config = course.sgd_momentum(w, dw, {"learning_rate": 0.1, "velocity": v0})
    np.testing.assert_allclose(config["velocity"], 0.9 * 0.5 - 0.1 * dw)
    np.testing.assert_allclose(next_w, w + config["velocity"])
    assert np.all(v0 == 0.5) and config["momentum"] == 0.9
    next_w, config = course.rmsprop(w, dw, None)
    assert config["decay_rate"] == 0.99 and config["epsilon"] == 1e-8
    same, config = course.sgd(w, dw)
    assert same is w and config == {"learning_rate": 1e-2}
    assert course.get_update_rule("rmsprop") is course.rmsprop
    with pytest.raises(ValueError, match="update_rule: unknown rule 'nadam'; valid: adam"):
        course.get_update_rule("nadam")


# ----------------------------------------------------------------------------- one rule, two modes
def _rule_inputs(dtype: Any = np.float64) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r = np.random.default_rng(7)
    ws = [r.standard_normal((4, 5)).astype(dtype), r.standard_normal(3).astype(dtype)]
    gs = [r.standard_normal(w.shape).astype(dtype) for w in ws]
    return ws, gs


def _states(ws: list[np.ndarray], keys: tuple[str, ...], **extra: Any) -> list[dict]:
    return [{**{k: np.full_like(w, 0.3) for k in keys}, **extra} for w in ws]


def _assert_same(a: list[dict], b: list[dict]) -> None:
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.7])
@pytest.mark.parametrize("inside", [False, True])
def test_rmsprop_rule_in_place_and_out_of_place_agree_to_the_bit(centered: bool,
                                                                 momentum: float,
                                                                 inside: bool) -> None:
    """The classes run optim._rules in place, the courses' functions out of place: the same
    numpy operations, so the same numbers; and out of place leaves its inputs alone."""
    ws, gs = _rule_inputs()
    keys = ("square_avg", "grad_avg", "momentum_buffer")
    states, given = _states(ws, keys), _states(ws, keys)
    out_ws, out_states = [w.copy() for w in ws], [dict(state) for state in given]
    kw = dict(eps_inside_sqrt=inside, centered=centered, momentum=momentum)
    for _ in range(3):
        _rules.rmsprop(ws, gs, states, 0.01, 0.9, 1e-8, **kw)
        _rules.rmsprop(out_ws, gs, out_states, 0.01, 0.9, 1e-8, inplace=False, **kw)
    for x, y in zip(ws, out_ws):
        np.testing.assert_array_equal(x, y)
    _assert_same(states, out_states)
    assert all(np.all(a == 0.3) for state in given for a in state.values())  # inputs left alone


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decay", [(0.0, False), (0.1, False), (0.1, True)])
def test_adam_rule_in_place_and_out_of_place_agree(amsgrad: bool, decay: tuple) -> None:
    """Adam's in-place step is rearranged ((lr c2 / c1) m / (sqrt(v) + eps c2)): the same
    numbers up to rounding; the moments are the same to the bit."""
    weight_decay, decoupled = decay
    ws, gs = _rule_inputs()
    keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    states, out_states = _states(ws, keys, step=0), _states(ws, keys, step=0)
    kw = dict(weight_decay=weight_decay, decoupled=decoupled, amsgrad=amsgrad)
    for _ in range(3):
        out_ws = [w.copy() for w in ws]
        for state in states + out_states:
            state["step"] += 1
        _rules.adam(ws, gs, states, 0.01, 0.9, 0.99, 1e-8, **kw)
        _rules.adam(out_ws, gs, out_states, 0.01, 0.9, 0.99, 1e-8, inplace=False, **kw)
        for x, y in zip(ws, out_ws):
            np.testing.assert_allclose(x, y, rtol=1e-14, atol=1e-15)
    _assert_same(states, out_states)  # both modes went on from the same p each step


def test_course_rules_keep_numpys_dtype_promotion() -> None:
    """The courses' rules run out of place, as their expressions: a float32 w with a numpy
    float64 learning rate steps to float64 (numpy's rule), a Python float keeps float32."""
    w, dw = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
    for rule in (course.sgd_momentum, course.rmsprop, course.adam):
        assert rule(w, dw, {"learning_rate": 1e-2})[0].dtype == np.float32
        assert rule(w, dw, {"learning_rate": np.float64(1e-2)})[0].dtype == np.float64
    np.testing.assert_array_equal(w, np.ones(3, np.float32))
