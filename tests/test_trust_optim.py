"""Optimizers and the Solver as PyTorch and the courses drive them: generators of
parameters, parameter groups with their own options, zero_grad's default, the Solver's
documented optim_config keys and its best-validation snapshot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_edu as torch
from tinygrad_edu import Tensor, nn, optim

W0 = np.array([[0.5, -1.0], [2.0, 0.25]])
B0 = np.array([0.1, -0.2])
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]])


def _model() -> nn.Linear:
    model = nn.Linear(2, 2).double()
    with torch.no_grad():
        model.weight.copy_(W0)
        model.bias.copy_(B0)
    return model


def _backward(model: nn.Module) -> None:
    """loss = sum((x W^T + b)^2) / 2: dL/dW = r^T x, dL/db = sum_n r, with r = x W^T + b."""
    out = model(Tensor(X))
    ((out * out).sum() * 0.5).backward()


def _grads(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = X @ w.T + b
    return r.T @ X, r.sum(axis=0)


OPTIMIZERS: list[tuple[type[optim.Optimizer], dict[str, Any]]] = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adam, {"lr": 0.1}),
    (optim.AdamW, {"lr": 0.1}), (optim.RMSprop, {"lr": 0.1}), (optim.Adagrad, {"lr": 0.1}),
]


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_optimizer_from_a_generator_updates_every_parameter(cls: Any, options: Any) -> None:
    model = _model()
    opt = cls(model.parameters(), **options)
    assert [len(g["params"]) for g in opt.param_groups] == [2]
    _backward(model)
    opt.step()
    assert not np.array_equal(model.weight.numpy(), W0)
    assert not np.array_equal(model.bias.numpy(), B0)


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_param_groups_from_generators_and_add_param_group(cls: Any, options: Any) -> None:
    model = _model()
    opt = cls([{"params": (p for p in [model.weight]), "lr": 0.3}], **options)
    opt.add_param_group({"params": iter([model.bias]), "lr": 0.05})
    assert [len(g["params"]) for g in opt.param_groups] == [1, 1]
    assert [g["lr"] for g in opt.param_groups] == [0.3, 0.05]
    _backward(model)
    opt.step()
    assert not np.array_equal(model.weight.numpy(), W0)
    assert not np.array_equal(model.bias.numpy(), B0)


def test_sgd_param_groups_use_their_own_options() -> None:
    """Group 0: lr 0.1, momentum 0.9 (default), weight_decay 0.01; group 1: lr 0.05,
    momentum 0, no decay. Two steps, checked against the formulas written in numpy."""
    model = _model()
    opt = optim.SGD([{"params": [model.weight], "weight_decay": 0.01},
                     {"params": iter([model.bias]),
                      "lr": 0.05, "momentum": 0.0}], lr=0.1, momentum=0.9)
    w, b, buf = W0.copy(), B0.copy(), None
    for _ in range(2):
        opt.zero_grad()
        _backward(model)
        opt.step()
        gw, gb = _grads(w, b)
        gw = gw + 0.01 * w
        buf = gw.copy() if buf is None else 0.9 * buf + gw
        w = w - 0.1 * buf
        b = b - 0.05 * gb
    np.testing.assert_allclose(model.weight.numpy(), w, rtol=1e-12)
    np.testing.assert_allclose(model.bias.numpy(), b, rtol=1e-12)



def test_adam_param_groups_use_their_own_betas_and_weight_decay() -> None:
    """Group 0: betas (0.8, 0.9); group 1: default betas, lr 0.05, weight_decay 0.1 (added
    to the gradient, Adam's coupled L2). Three steps against the formulas in numpy."""
    model = _model()
    opt = optim.Adam([{"params": iter([model.weight]), "betas": (0.8, 0.9)},
                      {"params": iter([model.bias]), "lr": 0.05, "weight_decay": 0.1}],
                     lr=0.1)
    w, b = W0.copy(), B0.copy()
    moments = [[np.zeros_like(W0), np.zeros_like(W0)], [np.zeros_like(B0), np.zeros_like(B0)]]
    settings = [(0.1, 0.8, 0.9, 0.0), (0.05, 0.9, 0.999, 0.1)]
    for t in range(1, 4):
        opt.zero_grad()
        _backward(model)
        opt.step()
        grads = _grads(w, b)
        new = []
        for value, g, (m, v), (lr, beta1, beta2, decay) in zip((w, b), grads, moments,
                                                              settings):
            g = g + decay * value
            m[...] = beta1 * m + (1 - beta1) * g
            v[...] = beta2 * v + (1 - beta2) * g * g
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            new.append(value - lr * m_hat / (np.sqrt(v_hat) + 1e-8))
        w, b = new
    np.testing.assert_allclose(model.weight.numpy(), w, rtol=1e-10)
    np.testing.assert_allclose(model.bias.numpy(), b, rtol=1e-10)

def test_zero_grad_sets_gradients_to_none_by_default() -> None:
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    _backward(model)
    assert model.weight.grad is not None
    opt.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    _backward(model)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    _backward(model)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.zeros((2, 2)))


# ----------------------------------------------------------------------------- Solver options
def _course_and_module_pair(seed: int = 1) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The same two-layer net three times: a numpy course model (params dict), the course
    package's TwoLayerNet and the nn.Module TwoLayerNet, with equal initial weights."""
    from test_course_solver import NumpyTwoLayerNet, blobs

    from tinygrad_edu import models
    from tinygrad_edu.course.models import TwoLayerNet

    r = np.random.default_rng(seed)
    W1, W2 = 0.1 * r.standard_normal((10, 16)), 0.1 * r.standard_normal((16, 3))
    student = NumpyTwoLayerNet(W1, W2, reg=1e-2)
    course_net = TwoLayerNet(10, 16, 3, reg=1e-2)
    course_net.params.update(W1=W1.copy(), W2=W2.copy())
    net = models.TwoLayerNet(10, 16, 3, reg=1e-2)
    with torch.no_grad():
        net.W1.copy_(W1.T)
        net.W2.copy_(W2.T)
    return student, course_net, net, blobs()


def _losses(model: Any, data: dict[str, Any], rule: Any, config: dict[str, Any]) -> list[float]:
    from tinygrad_edu.train import Solver

    return Solver(model, data, update_rule=rule, optim_config=config, num_epochs=2,
                  batch_size=30, verbose=False).train().loss_history


def test_solver_rmsprop_eps_inside_sqrt_reaches_a_module() -> None:
    """The flag changes the trajectory (eps 0.1 is large), and a Module follows the course
    model's numpy rule with it step by step."""
    config = {"learning_rate": 1e-2, "epsilon": 0.1, "eps_inside_sqrt": True}
    student, course_net, net, data = _course_and_module_pair()
    reference = _losses(student, data, "rmsprop", config)
    np.testing.assert_allclose(_losses(course_net, data, "rmsprop", config), reference,
                               rtol=1e-10)
    np.testing.assert_allclose(_losses(net, data, "rmsprop", config), reference, rtol=1e-10)
    student2, _, _, _ = _course_and_module_pair()
    outside = _losses(student2, data, "rmsprop", {**config, "eps_inside_sqrt": False})
    assert abs(outside[-1] - reference[-1]) > 1e-3


@pytest.mark.parametrize("kind", ["student", "course", "module"])
def test_solver_momentum_rule_for_every_kind_of_model(kind: str) -> None:
    """update_rule='momentum' (the CLI's name) is sgd_momentum, for course models too."""
    config = {"learning_rate": 0.1, "momentum": 0.5}
    models_a, models_b = _course_and_module_pair(), _course_and_module_pair()
    index = ["student", "course", "module"].index(kind)
    data = models_a[3]
    np.testing.assert_allclose(_losses(models_a[index], data, "momentum", config),
                               _losses(models_b[index], data, "sgd_momentum", config),
                               rtol=1e-12)


@pytest.mark.parametrize("kind", ["course", "module"])
@pytest.mark.parametrize(("rule", "config", "unknown"), [
    ("rmsprop", {"eps_insde_sqrt": True}, "eps_insde_sqrt"),
    ("adam", {"momentum": 0.9}, "momentum"),
    ("sgd", {"learning_rate": 0.1, "decay_rate": 0.9}, "decay_rate"),
    ("sgd_momentum", {"velocity": 0.0}, "velocity"),
    ("adam", {"learning_rate": 1e-3, "lr_decay": 0.9}, "lr_decay"),
])
def test_solver_refuses_optim_config_keys_its_rule_does_not_read(kind: str, rule: str,
                                                                 config: dict[str, Any],
                                                                 unknown: str) -> None:
    from tinygrad_edu.train import Solver

    _, course_net, net, data = _course_and_module_pair()
    model = course_net if kind == "course" else net
    with pytest.raises(ValueError, match=rf"^Solver: optim_config key\(s\) \['{unknown}'\] "
                                         rf"are not used by update_rule '{rule}'; it reads"):
        Solver(model, data, update_rule=rule, optim_config=config, verbose=False)


def test_solver_optim_config_details() -> None:
    from tinygrad_edu.train import Solver

    _, course_net, net, data = _course_and_module_pair()
    with pytest.raises(ValueError, match=r"course models have no weight_decay"):
        Solver(course_net, data, update_rule="sgd", optim_config={"weight_decay": 1e-3})
    s = Solver(net, data, update_rule="sgd", optim_config={"weight_decay": 1e-3})
    assert s.optimizer.param_groups[0]["weight_decay"] == 1e-3
    # the courses' default learning rates, for both kinds of model ('lr' is an alias)
    assert Solver(net, data, update_rule="adam").optimizer.param_groups[0]["lr"] == 1e-3
    assert Solver(net, data, update_rule="rmsprop").optimizer.param_groups[0]["lr"] == 1e-2
    assert Solver(course_net, data, update_rule="adam").optim_configs["W1"][
        "learning_rate"] == 1e-3
    assert Solver(course_net, data, optim_config={"lr": 0.3}).optim_configs["W1"][
        "learning_rate"] == 0.3
    with pytest.raises(ValueError, match="sets both 'lr' and 'learning_rate'"):
        Solver(net, data, optim_config={"lr": 0.3, "learning_rate": 0.1})
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"optim_config \['learning_rate'\] is not used when "
                                         r"update_rule is an optimizer object"):
        Solver(net, data, update_rule=optimizer, optim_config={"learning_rate": 0.5})


# ----------------------------------------------------------------------------- best snapshot
class _SabotagedSGD(optim.SGD):
    """SGD for `good_steps` steps; after that every step leaves weights that score every
    class equally, so the model predicts class 0 only and validation accuracy drops."""

    def __init__(self, params: Any, lr: float, good_steps: int) -> None:
        super().__init__(params, lr=lr)
        self.good_steps, self.steps = good_steps, 0

    def step(self, closure: Any = None) -> Any:
        loss = super().step(closure)
        self.steps += 1
        if self.steps > self.good_steps:
            with torch.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.zero_()
        return loss


def test_solver_restores_the_best_epochs_weights_for_a_module() -> None:
    from test_course_solver import blobs

    from tinygrad_edu.train import Solver

    data = blobs(seed=6)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    opt = _SabotagedSGD(model.parameters(), lr=0.5, good_steps=12)  # two epochs of 6
    s = Solver(model, data, update_rule=opt, num_epochs=4, batch_size=30,
               num_val_samples=None, verbose=False).train()
    assert s.val_acc_history[-1] < 0.5 < max(s.val_acc_history) == s.best_val_acc
    # the weights now in the model are the best check's: they give its accuracy
    assert s.check_accuracy(data["X_val"], data["y_val"]) == s.best_val_acc
    assert np.any(model[0].weight.numpy() != 0)
    # the snapshot is a copy: changing the model afterwards leaves it alone
    best = {k: v.copy() for k, v in s.best_params.items()}
    with torch.no_grad():
        model[0].weight.zero_()
    for k, v in s.best_params.items():
        np.testing.assert_array_equal(v, best[k])
        assert not np.shares_memory(v, dict(model.state_dict())[k].numpy())


def test_solver_sgd_momentum_with_lr_decay_is_the_courses_rule_for_a_module() -> None:
    """The courses' momentum keeps the velocity v = mu v - lr dw when lr_decay lowers lr;
    PyTorch's SGD keeps b = -v / lr, whose velocity would shrink with lr. The Solver builds
    SGD for a Module from 'sgd_momentum', so it must give the course trajectory."""
    from tinygrad_edu.train import Solver

    config = {"learning_rate": 0.1, "momentum": 0.9}
    histories = []
    for index in range(3):
        model, data = _course_and_module_pair()[index], _course_and_module_pair()[3]
        histories.append(Solver(model, data, update_rule="sgd_momentum", optim_config=config,
                                lr_decay=0.5, num_epochs=3, batch_size=30,
                                verbose=False).train().loss_history)
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-10)
    np.testing.assert_allclose(histories[2], histories[0], rtol=1e-10)
