"""`torch.optim` as a PyTorch user uses it (issue 8): what optimizers accept, param_groups
with a writable lr, add_param_group, the update formulas, the schedulers of
`optim.lr_scheduler` and saving/loading optimizer and scheduler states."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.optim as optim
from tinygrad_edu.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)

OPTIMIZERS: list[Callable[..., optim.Optimizer]] = [
    lambda p: optim.SGD(p, lr=0.1), lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: optim.Adam(p, lr=0.1), lambda p: optim.AdamW(p, lr=0.1),
    lambda p: optim.RMSprop(p, lr=0.01), lambda p: optim.Adagrad(p, lr=0.1),
]


def _quadratic_step(opt: optim.Optimizer, params: list[torch.Tensor]) -> None:
    opt.zero_grad()
    sum(((p - 1.0) ** 2).sum() for p in params).backward()  # type: ignore[union-attr]
    opt.step()


# ----------------------------------------------------------------------------- params


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_optimizers_take_any_leaf_that_requires_grad(make: Callable[..., Any]) -> None:
    w = torch.zeros(3, requires_grad=True)  # a plain tensor, not an nn.Parameter
    opt = make([w])
    for _ in range(200):
        _quadratic_step(opt, [w])
    assert w.is_leaf and w.requires_grad
    assert w.sub(1.0).abs().max().item() < 0.2
    make(nn.Linear(2, 2).parameters())  # a generator works too


@pytest.mark.parametrize(("params", "error", "message"), [
    ([torch.ones(2, requires_grad=True) * 2], ValueError,
     r"SGD: parameter 0 \(shape \(2,\)\) is not a leaf tensor \(it was computed by Mul\)"),
    ([np.ones(2)], TypeError, r"SGD: parameter 0 is a ndarray, not a Tensor"),
    (torch.ones(2, requires_grad=True), TypeError, r"SGD: params should be an iterable .* "
                                                   "got a single Tensor"),
    ([], ValueError, r"SGD: got an empty parameter list"),
])
def test_optimizers_reject_what_they_cannot_update(params: Any, error: type, message: str
                                                   ) -> None:
    with pytest.raises(error, match=message):
        optim.SGD(params, lr=0.1)


def test_each_tensor_belongs_to_one_group() -> None:
    w = torch.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter 0 of group 1 \(shape \(2,\)\) appears more "
                                         "than once"):
        opt.add_param_group({"params": [w]})


def test_param_groups_have_a_writable_lr() -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([0.0], requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.param_groups[0]["params"] == [w]
    for group in opt.param_groups:
        group["lr"] = group["lr"] * 2
    w.grad, b.grad = torch.tensor([1.0, 1.0]), torch.tensor([1.0])
    opt.step()
    assert w.tolist() == pytest.approx([0.8, 1.8]) and b.tolist() == pytest.approx([-1.0])


def test_add_param_group_uses_the_defaults() -> None:
    body, head = nn.Linear(2, 2), nn.Linear(2, 1)
    opt = optim.Adam(body.parameters(), lr=1e-3, betas=(0.8, 0.9))
    opt.add_param_group({"params": head.parameters(), "lr": 1e-2})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["lr"] == 1e-2 and opt.param_groups[1]["betas"] == (0.8, 0.9)
    head(body(torch.ones(1, 2))).sum().backward()
    before = head.weight.detach().clone()
    opt.step()
    assert not torch.equal(head.weight, before)  # the new group is updated
    with pytest.raises(ValueError, match="add_param_group: the group has no 'params' entry"):
        opt.add_param_group({"lr": 0.1})


def test_zero_grad_and_parameters_without_gradients() -> None:
    w, unused = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    opt = optim.SGD([w, unused], lr=0.1, momentum=0.9)
    (w * 3).sum().backward()
    opt.step()
    assert unused.tolist() == [1.0, 1.0] and unused not in opt.state  # skipped, no state
    opt.zero_grad()
    assert w.grad is None
    (w * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- formulas


def _run(opt_factory: Callable[..., optim.Optimizer], grads: list[np.ndarray],
         start: np.ndarray) -> np.ndarray:
    w = torch.tensor(start, requires_grad=True)
    opt = opt_factory([w])
    for g in grads:
        w.grad = torch.from_numpy(g)
        opt.step()
    return w.detach().numpy()


GRADS = [np.random.default_rng(i).standard_normal(4) for i in range(6)]
START = np.linspace(-1, 1, 4)


def test_sgd_follows_pytorchs_formula() -> None:
    mu, lr, wd, damp = 0.9, 0.1, 0.01, 0.1
    w, buf = START.copy(), None
    for g in GRADS:
        g = g + wd * w
        buf = g.copy() if buf is None else mu * buf + (1 - damp) * g
        w = w - lr * buf
    got = _run(lambda p: optim.SGD(p, lr=lr, momentum=mu, weight_decay=wd, dampening=damp),
               GRADS, START)
    np.testing.assert_allclose(got, w, rtol=1e-12)
    w, buf = START.copy(), None
    for g in GRADS:
        buf = g.copy() if buf is None else mu * buf + g
        w = w - lr * (g + mu * buf)
    got = _run(lambda p: optim.SGD(p, lr=lr, momentum=mu, nesterov=True), GRADS, START)
    np.testing.assert_allclose(got, w, rtol=1e-12)


def test_adam_and_adamw_follow_pytorchs_formulas() -> None:
    lr, (b1, b2), eps, wd = 0.01, (0.9, 0.99), 1e-8, 0.1
    for decoupled in (False, True):
        w, m, v = START.copy(), np.zeros(4), np.zeros(4)
        for t, g in enumerate(GRADS, start=1):
            if decoupled:
                w = w * (1 - lr * wd)
            else:
                g = g + wd * w
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        cls = optim.AdamW if decoupled else optim.Adam
        got = _run(lambda p, c=cls: c(p, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd),
                   GRADS, START)
        np.testing.assert_allclose(got, w, rtol=1e-12)


# ----------------------------------------------------------------------------- schedulers


def _lrs(make: Callable[[optim.Optimizer], Any], epochs: int = 10, lr: float = 1.0
         ) -> list[float]:
    opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make(opt)
    out = []
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
        assert out[-1] == opt.param_groups[0]["lr"]
    return out


@pytest.mark.parametrize(("make", "closed_form"), [
    (lambda o: StepLR(o, step_size=3, gamma=0.5), lambda e: 0.5 ** (e // 3)),
    (lambda o: MultiStepLR(o, milestones=[2, 5], gamma=0.1),
     lambda e: 0.1 ** ((e >= 2) + (e >= 5))),
    (lambda o: ExponentialLR(o, gamma=0.9), lambda e: 0.9**e),
    (lambda o: CosineAnnealingLR(o, T_max=10, eta_min=0.1),
     lambda e: 0.1 + 0.9 * (1 + math.cos(math.pi * e / 10)) / 2),
    (lambda o: LambdaLR(o, lr_lambda=lambda e: 1 / (1 + e)), lambda e: 1 / (1 + e)),
])
def test_schedules_follow_their_closed_forms(make: Callable[..., Any],
                                             closed_form: Callable[[int], float]) -> None:
    assert _lrs(make) == pytest.approx([closed_form(e) for e in range(1, 11)], rel=1e-9)


def test_a_scheduler_keeps_each_groups_own_lr() -> None:
    opt = optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 1.0},
                     {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1}], lr=0.5)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.5, 0.05])


def test_reduce_lr_on_plateau() -> None:
    opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
    history = []
    for metric in [5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0]:
        scheduler.step(metric)
        history.append(opt.param_groups[0]["lr"])
    assert history == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert scheduler.get_last_lr() == [0.25]
    state = scheduler.state_dict()
    assert state["best"] == 3.0 and state["num_bad_epochs"] == 0


def test_scheduler_state_dict_resumes(tmp_path: Path) -> None:
    def make() -> tuple[optim.Optimizer, CosineAnnealingLR]:
        opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        return opt, CosineAnnealingLR(opt, T_max=8)

    opt, scheduler = make()
    for _ in range(3):
        opt.step()
        scheduler.step()
    torch.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()},
               tmp_path / "sched.pt")
    expected = []
    for _ in range(4):
        opt.step()
        scheduler.step()
        expected.append(scheduler.get_last_lr()[0])
    opt2, scheduler2 = make()
    state = torch.load(tmp_path / "sched.pt")
    opt2.load_state_dict(state["optimizer"])
    scheduler2.load_state_dict(state["scheduler"])
    assert scheduler2.last_epoch == 3
    resumed = []
    for _ in range(4):
        opt2.step()
        scheduler2.step()
        resumed.append(scheduler2.get_last_lr()[0])
    assert resumed == pytest.approx(expected, rel=1e-12)


# ----------------------------------------------------------------------------- saving


@pytest.mark.parametrize("make", [
    lambda p: optim.Adam(p, lr=0.01), lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
])
def test_an_optimizer_resumes_from_a_saved_state(make: Callable[..., optim.Optimizer],
                                                 tmp_path: Path) -> None:
    def model() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))

    torch.manual_seed(1)
    data = [(torch.randn(8, 3), torch.randn(8, 1)) for _ in range(6)]

    def train(net: nn.Module, opt: optim.Optimizer, batches: list[Any]) -> None:
        for x, y in batches:
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            opt.step()

    net = model()
    opt = make(net.parameters())
    train(net, opt, data[:3])
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c.pt")
    train(net, opt, data[3:])

    checkpoint = torch.load(tmp_path / "c.pt")
    assert set(checkpoint["optimizer"]) == {"state", "param_groups"}
    assert sorted(checkpoint["optimizer"]["state"]) == [0, 1, 2, 3]
    net2 = model()
    net2.load_state_dict(checkpoint["model"])
    opt2 = make(net2.parameters())
    opt2.load_state_dict(checkpoint["optimizer"])
    train(net2, opt2, data[3:])
    for p, q in zip(net.parameters(), net2.parameters()):
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-6, atol=1e-7)
