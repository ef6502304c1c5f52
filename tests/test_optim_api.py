"""Optimizers as a PyTorch user drives them: parameter groups, zero_grad, closures, the
version counter, state_dict round trips (also through an .npz and `save`/`load`), errors."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from test_optim import (
    B0,
    W0,
    X,
    Y,
    assert_same_trajectory,
    leaves,
    numpy_grads,
    ref_sgd,
    tensor_loss,
    tensor_trajectory,
)

import tinygrad_edu as torch
from tinygrad_edu import Tensor, optim


# ----------------------------------------------------------------------------- groups
def test_param_groups_have_their_own_lr_and_lr_is_writable() -> None:
    w, b = leaves()
    opt = optim.SGD([{"params": [w]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[0]["momentum"] == 0.0 and opt.param_groups[1]["momentum"] == 0.5
    refs = [W0.copy(), B0.copy()], [{}, {}]
    lrs, moms = [0.1, 0.01], [0.0, 0.5]
    for t in range(1, 6):
        if t == 4:
            opt.param_groups[0]["lr"] = lrs[0] = 0.3
        opt.zero_grad()
        tensor_loss(w, b).backward()
        opt.step()
        grads = numpy_grads(*refs[0])
        refs[0][:] = [ref_sgd(x, g, s, t, lr=lr, momentum=mu)
                      for x, g, s, lr, mu in zip(refs[0], grads, refs[1], lrs, moms)]
        np.testing.assert_allclose(w.numpy(), refs[0][0], rtol=1e-12)
        np.testing.assert_allclose(b.numpy(), refs[0][1], rtol=1e-12)


def test_add_param_group_and_params_without_grad_are_skipped() -> None:
    w, b = leaves()
    extra = Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    opt.add_param_group({"params": [b, extra], "lr": 0.2})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 0.2
    tensor_loss(w, b).backward()  # extra is unused: its grad stays None
    opt.step()
    np.testing.assert_array_equal(extra.numpy(), np.ones(2))
    assert extra not in opt.state and opt.state[b]["step"] == 1
    np.testing.assert_allclose(np.abs(b.numpy() - B0), 0.2, rtol=1e-6)  # Adam's first step: lr


def test_zero_grad() -> None:
    w, b = leaves()
    opt = optim.SGD([w, b], lr=0.1)
    tensor_loss(w, b).backward()
    shared = b.grad
    opt.zero_grad(set_to_none=False)
    assert np.all(w.grad.numpy() == 0) and b.grad is not shared and np.any(shared.numpy() != 0)
    opt.zero_grad()
    assert w.grad is None and b.grad is None


def test_step_bumps_version_so_a_stale_graph_refuses_backward() -> None:
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    stale = (w * w).sum()
    version = w._version
    opt.step()
    assert w._version == version + 1 and torch.is_grad_enabled()
    with pytest.raises(RuntimeError):
        stale.backward()


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps), lambda ps: optim.AdamW(ps, amsgrad=True),
    lambda ps: optim.RMSprop(ps), lambda ps: optim.RMSprop(ps, centered=True, momentum=0.5),
    lambda ps: optim.Adagrad(ps)], ids=["SGD", "SGD-momentum", "Adam", "AdamW-amsgrad",
                                        "RMSprop", "RMSprop-centered-momentum", "Adagrad"])
def test_every_optimizer_marks_each_parameter_modified(make: Any) -> None:
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([0.5]), requires_grad=True)
    opt = make([w, b])
    ((w * w).sum() + (b * b).sum()).backward()
    stale = [(w * w).sum(), (b * b).sum()]
    opt.step()
    for loss in stale:
        with pytest.raises(RuntimeError, match="modified in place"):
            loss.backward()


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned() -> None:
    w, b = leaves()
    opt = optim.SGD([w, b], lr=0.1)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = tensor_loss(w, b)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(0.5 * np.sum((np.tanh(X @ W0.T + B0) - Y) ** 2))
    assert not np.allclose(w.numpy(), W0)


def test_float32_parameters_and_state_stay_float32() -> None:
    params = leaves(np.float32)
    for cls in (optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW, optim.Adagrad):
        opt = cls(params, lr=0.01, **({"momentum": 0.9} if cls is optim.SGD else {}))
        opt.zero_grad()
        tensor_loss(*params).backward()
        opt.step()
        assert all(p.dtype == np.float32 for p in params)
        assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values()
                   if isinstance(v, np.ndarray)), cls.__name__


def test_read_only_parameter_array_is_copied_not_rejected() -> None:
    data = np.ones(3)
    data.flags.writeable = False
    w = Tensor(data, requires_grad=True)
    w.grad = Tensor(np.ones(3))
    optim.SGD([w], lr=0.5).step()
    np.testing.assert_array_equal(w.numpy(), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(data, [1.0, 1.0, 1.0])


# ----------------------------------------------------------------------------- state_dict
def npz_round_trip(state: dict) -> dict:
    """Flatten to '/'-joined keys, save with np.savez, load with allow_pickle=False."""
    flat: dict[str, np.ndarray] = {}

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{prefix}/{k}" if prefix else str(k), x)
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for i, x in enumerate(v):
                walk(f"{prefix}/{i}", x)
        else:
            flat[prefix] = np.asarray(v)
            assert flat[prefix].dtype != object, prefix

    walk("", state)
    buffer = io.BytesIO()
    np.savez(buffer, **flat)
    buffer.seek(0)
    out: dict[str, Any] = {}
    with np.load(buffer, allow_pickle=False) as loaded:
        for key in loaded.files:
            *path, last = key.split("/")
            node = out
            for part in path:
                node = node.setdefault(part, {})
            node[last] = loaded[key]
    return out


ROUND_TRIP = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adam, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, dict(lr=0.05, betas=(0.8, 0.99))),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize("through_npz", [False, True])
@pytest.mark.parametrize("cls, hp", ROUND_TRIP, ids=[c.__name__ for c, _ in ROUND_TRIP])
def test_state_dict_round_trip_continues_identically(cls: Any, hp: dict,
                                                     through_npz: bool) -> None:
    params = leaves()
    opt = cls([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}], **hp)
    for _ in range(5):
        opt.zero_grad()
        tensor_loss(*params).backward()
        opt.step()
    opt.param_groups[0]["lr"] *= 0.5
    saved = opt.state_dict()
    assert sorted(saved) == ["param_groups", "state"]
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert sorted(saved["state"]) == [0, 1]
    if through_npz:
        saved = npz_round_trip(saved)
    clones = [Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    resumed = cls([{"params": [clones[0]]}, {"params": [clones[1]]}], lr=1.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert resumed.param_groups[1] == {**opt.param_groups[1], "params": [clones[1]]}
    first = tensor_trajectory(lambda ps: opt, steps=5, params=params)
    second = tensor_trajectory(lambda ps: resumed, steps=5, params=clones)
    assert_same_trajectory(first, second, rtol=0)


def test_save_and_load_of_optimizer_and_scheduler_state(tmp_path: Any) -> None:
    """Through the library's own no-pickle `save`/`load`, as a PyTorch checkpoint."""
    params = leaves()
    opt = optim.RMSprop(params, lr=0.01, momentum=0.9)
    sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 4])
    for _ in range(3):
        opt.zero_grad()
        tensor_loss(*params).backward()
        opt.step()
        sched.step()
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()},
               tmp_path / "checkpoint.npz")
    clones = [Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    resumed = optim.RMSprop(clones, lr=0.5)
    resumed_sched = optim.lr_scheduler.MultiStepLR(resumed, milestones=[9])
    checkpoint = torch.load(tmp_path / "checkpoint.npz")
    resumed.load_state_dict(checkpoint["optimizer"])
    resumed_sched.load_state_dict(checkpoint["scheduler"])
    for opt_, sched_, ps in ((opt, sched, params), (resumed, resumed_sched, clones)):
        for _ in range(3):
            opt_.zero_grad()
            tensor_loss(*ps).backward()
            opt_.step()
            sched_.step()
    assert resumed_sched.get_last_lr() == sched.get_last_lr() == [pytest.approx(1e-5)]
    for a, b in zip(params, clones):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_holds_copies() -> None:
    w, b = leaves()
    opt = optim.Adam([w, b])
    tensor_loss(w, b).backward()
    opt.step()
    saved = opt.state_dict()
    m = saved["state"][0]["exp_avg"]
    assert m is not opt.state[w]["exp_avg"]
    opt.load_state_dict(saved)
    m += 1.0  # the loaded state is independent of the dict it came from
    assert not np.allclose(opt.state[w]["exp_avg"], m)


def test_load_state_dict_errors() -> None:
    w, b = leaves()
    opt = optim.SGD([w, b], lr=0.1, momentum=0.9)
    tensor_loss(w, b).backward()
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: group 0 has 2 parameters in "
                                         r"the saved state and 1 here"):
        optim.SGD([w], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: the saved state has 1 "
                                         r"parameter groups, this optimizer has 2"):
        optim.SGD([{"params": [w]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    other = optim.SGD([b, w], lr=0.1)
    with pytest.raises(ValueError, match=r"state 'momentum_buffer' of parameter 0 has shape "
                                         r"\(3, 4\), but the parameter has shape \(3,\)"):
        other.load_state_dict(saved)
    assert not other.state  # nothing changed
    with pytest.raises(ValueError, match="expected a dict with keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# ----------------------------------------------------------------------------- errors
def test_constructor_errors_name_the_optimizer_and_the_parameter() -> None:
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Adam: parameter 1 is a ndarray, not a Tensor"):
        optim.Adam([w, np.ones(3)])
    with pytest.raises(ValueError, match=r"AdamW: parameter 1 \(shape \(2, 3\)\) is not a leaf "
                                         r"tensor \(it was computed by Mul"):
        optim.AdamW([w, w * 2])
    with pytest.raises(TypeError, match="SGD: params should be an iterable .* got a single "
                                        "Tensor; wrap it in a list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="SGD: params is a set"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(TypeError, match="SGD: params mixes Tensors and dicts"):
        optim.SGD([w, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD: parameter 0 of group 1 \(shape \(2, 3\)\) "
                                         "appears more than once"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD: parameter 1 \(shape \(2, 3\)\) appears more"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="SGD.add_param_group: the group has no 'params'"):
        optim.SGD([w], lr=0.1).add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match="SGD: parameter 0 of group 1 is a int, not a Tensor"):
        optim.SGD([w], lr=0.1).add_param_group({"params": [3]})


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=-0.1), r"SGD: invalid learning rate -0.1; expected a number "
                                        r">= 0.0"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "SGD: Nesterov momentum requires "
                                                      "momentum > 0 and dampening = 0"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), r"Adam: invalid beta1 1.0; expected a "
                                                  r"number \[0.0, 1.0\)"),
    (lambda ps: optim.Adam(ps, betas=0.9), "Adam: betas should be a pair"),
    (lambda ps: optim.RMSprop(ps, alpha=-1), "RMSprop: invalid alpha -1"),
    (lambda ps: optim.AdamW(ps, weight_decay=-1e-2), "AdamW: invalid weight_decay"),
    (lambda ps: optim.Adagrad(ps, eps=-1.0), "Adagrad: invalid eps"),
])
def test_invalid_options(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(leaves())


def test_repr_lists_groups() -> None:
    text = repr(optim.SGD(leaves(), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9" in text
