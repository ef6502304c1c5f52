"""The Solver with the courses' numpy models: every update rule trains them; the numpy
rules follow the same trajectory as tinygrad_edu.optim on an equivalent nn model; the
histories, accuracy checks, best-parameter restore, checkpoints, lr decay and divergence;
the course models' gradients; and the pictures drawn from a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import models, no_grad
from tinygrad_edu.course.classifiers import LinearClassifier
from tinygrad_edu.course.gradient_check import eval_numerical_gradient, rel_error
from tinygrad_edu.course.models import FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from tinygrad_edu.train import Solver, checkpoint

RULES = {"sgd": 0.5, "sgd_momentum": 0.1, "rmsprop": 1e-2, "adam": 1e-2}


def blobs(n: int = 240, d: int = 10, classes: int = 3, seed: int = 0) -> dict[str, Any]:
    r = np.random.default_rng(seed)
    centers = 2.5 * r.standard_normal((classes, d))
    y = r.integers(0, classes, n)
    X = centers[y] + r.standard_normal((n, d))
    cut = n * 3 // 4
    return {"X_train": X[:cut], "y_train": y[:cut], "X_val": X[cut:], "y_val": y[cut:]}


class NumpyTwoLayerNet:
    """A student's TwoLayerNet, written in numpy by hand (independent of the engine)."""

    def __init__(self, W1: np.ndarray, W2: np.ndarray, reg: float) -> None:
        self.reg = reg
        self.params = {"W1": W1.copy(), "b1": np.zeros(W1.shape[1]), "W2": W2.copy(),
                       "b2": np.zeros(W2.shape[1])}

    def loss(self, X: np.ndarray, y: Any = None) -> Any:
        p = self.params
        h = X @ p["W1"] + p["b1"]
        a = np.maximum(h, 0)
        scores = a @ p["W2"] + p["b2"]
        if y is None:
            return scores
        n = len(y)
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(n), y]).mean()
        loss += 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        d = probs
        d[np.arange(n), y] -= 1
        d /= n
        da = d @ p["W2"].T
        dh = da * (h > 0)
        grads = {"W2": a.T @ d + self.reg * p["W2"], "b2": d.sum(axis=0),
                 "W1": X.T @ dh + self.reg * p["W1"], "b1": dh.sum(axis=0)}
        return loss, grads


def solver(model: Any, data: dict[str, Any], rule: str = "adam", **kw: Any) -> Solver:
    options: dict[str, Any] = {"num_epochs": 4, "batch_size": 30, "verbose": False}
    options.update(kw)
    config = options.pop("optim_config", {"learning_rate": RULES[rule]})
    return Solver(model, data, update_rule=rule, optim_config=config, **options)


# ----------------------------------------------------------------------------- trajectories


@pytest.mark.parametrize("rule", list(RULES))
def test_numpy_rules_follow_the_optimizers_trajectory(rule: str) -> None:
    """A numpy course model with optim.course's rule vs the nn TwoLayerNet with
    tinygrad_edu.optim, same initial weights and batches: the same losses, step by step."""
    data = blobs()
    r = np.random.default_rng(1)
    W1, W2 = 0.1 * r.standard_normal((10, 16)), 0.1 * r.standard_normal((16, 3))
    student = NumpyTwoLayerNet(W1, W2, reg=1e-2)
    ours = TwoLayerNet(10, 16, 3, reg=1e-2)
    ours.params.update(W1=W1.copy(), W2=W2.copy())
    net = models.TwoLayerNet(10, 16, 3, reg=1e-2)
    with no_grad():
        net.W1.copy_(W1.T)
        net.W2.copy_(W2.T)
    histories = [solver(m, data, rule).train().loss_history for m in (student, ours, net)]
    assert len(histories[0]) == 4 * (180 // 30)
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-10)
    np.testing.assert_allclose(histories[2], histories[0], rtol=1e-10)
    assert histories[0][-1] < 0.5 * histories[0][0]


@pytest.mark.parametrize("rule", list(RULES))
def test_solver_trains_each_course_model(rule: str) -> None:
    data = blobs(seed=2)
    for model in (TwoLayerNet(10, 20, 3, weight_scale=0.1),
                  FullyConnectedNet([20, 20], 10, 3, normalization="batchnorm",
                                    dropout_keep_ratio=0.9, seed=0),   # float32
                  LinearClassifier(10, 3, loss="svm", reg=1e-3)):
        s = solver(model, data, rule).train()
        assert s.best_val_acc > 0.9, (type(model).__name__, rule)
        assert np.mean(s.loss_history[-5:]) < s.loss_history[0]


def test_three_layer_convnet_overfits_a_small_set() -> None:
    r = np.random.default_rng(3)
    X, y = r.standard_normal((20, 3, 8, 8)), r.integers(0, 4, 20)
    model = ThreeLayerConvNet((3, 8, 8), num_filters=4, filter_size=3, hidden_dim=20,
                              num_classes=4, weight_scale=1e-1, dtype=np.float64)
    s = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
               update_rule="adam", optim_config={"learning_rate": 1e-2}, num_epochs=15,
               batch_size=10, verbose=False).train()
    assert s.train_acc_history[-1] == 1.0


# ----------------------------------------------------------------------------- gradients


def numeric_check(model: Any, X: np.ndarray, y: np.ndarray, tol: float = 1e-6) -> None:
    _, grads = model.loss(X, y)
    for name, p in model.params.items():
        num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], p, verbose=False)
        assert rel_error(grads[name], num) < tol, name


def test_course_models_gradients() -> None:
    r = np.random.default_rng(4)
    X, y = r.standard_normal((5, 6)), r.integers(0, 3, 5)
    numeric_check(TwoLayerNet(6, 7, 3, weight_scale=0.5, reg=0.3), X, y)
    for norm in (None, "batchnorm", "layernorm"):
        model = FullyConnectedNet([5, 4], 6, 3, normalization=norm, dropout_keep_ratio=0.7,
                                  reg=0.1, weight_scale=0.5, dtype=np.float64, seed=3)
        numeric_check(model, X, y, tol=1e-5)
    numeric_check(LinearClassifier(6, 3, loss="softmax", reg=0.2, weight_scale=0.5), X, y)
    Xi = r.standard_normal((2, 2, 4, 4))
    conv = ThreeLayerConvNet((2, 4, 4), num_filters=3, filter_size=3, hidden_dim=4,
                             num_classes=3, weight_scale=0.5, reg=0.05, dtype=np.float64)
    numeric_check(conv, Xi, y[:2], tol=1e-5)


def test_fully_connected_net_modes() -> None:
    model = FullyConnectedNet([8], 4, 2, normalization="batchnorm", dropout_keep_ratio=0.5,
                              dtype=np.float64, seed=0)
    X = np.random.default_rng(5).standard_normal((6, 4))
    model.loss(X, np.zeros(6, dtype=int))
    assert model.bn_params[0]["running_mean"].shape == (8,)
    # test mode: running statistics and no dropout, so two calls agree
    np.testing.assert_array_equal(model.loss(X), model.loss(X))
    assert model.dropout_param["mode"] == "test"
    with pytest.raises(ValueError, match="FullyConnectedNet: normalization must be None"):
        FullyConnectedNet([4], normalization="groupnorm")


# ----------------------------------------------------------------------------- the Solver


def test_histories_and_acc_every() -> None:
    data = blobs()
    s = solver(TwoLayerNet(10, 8, 3, weight_scale=0.1), data, num_epochs=3).train()
    per_epoch = 180 // 30
    assert len(s.loss_history) == 3 * per_epoch
    # checked at the first iteration and at every epoch's end (the last iteration included)
    for name in ("train_acc_history", "val_acc_history", "val_loss_history",
                 "train_loss_history"):
        assert len(getattr(s, name)) == 4, name
    assert s.train_loss_history[0] == s.loss_history[0]
    assert s.train_loss_history[1] == pytest.approx(np.mean(s.loss_history[1:per_epoch]))
    assert set(s.history) >= {"loss_history", "train_loss_history", "val_loss_history"}
    s = solver(TwoLayerNet(10, 8, 3, weight_scale=0.1), data, num_epochs=3, acc_every=4).train()
    checks = {0} | {t for t in range(18) if (t + 1) % 4 == 0 or (t + 1) % per_epoch == 0}
    assert len(s.val_acc_history) == len(checks) > 4


def test_best_params_are_restored() -> None:
    data = blobs(seed=6)

    def sgd_then_sabotage(w: np.ndarray, dw: np.ndarray, config: dict[str, Any]
                          ) -> tuple[np.ndarray, dict[str, Any]]:
        config["t"] = config.get("t", 0) + 1   # a custom rule: sgd for two epochs, then
        if config["t"] > 12:                    # weights that predict one class only
            return np.zeros_like(w), config
        return w - 0.5 * dw, config

    model = TwoLayerNet(10, 30, 3, weight_scale=0.1)
    s = Solver(model, data, update_rule=sgd_then_sabotage, num_epochs=4, batch_size=30,
               num_val_samples=None, verbose=False).train()
    assert s.val_acc_history[-1] < 0.5 < max(s.val_acc_history) == s.best_val_acc
    assert s.check_accuracy(data["X_val"], data["y_val"]) == s.best_val_acc
    assert np.any(model.params["W1"] != 0)


def test_checkpoints(tmp_path: Path) -> None:
    data = blobs()
    model = TwoLayerNet(10, 8, 3, weight_scale=0.1)
    s = solver(model, data, num_epochs=2, checkpoint_name=str(tmp_path / "run")).train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["run_epoch_1.npz", "run_epoch_2.npz"]
    fresh = TwoLayerNet(10, 8, 3, weight_scale=0.1, seed=9)
    s2 = solver(fresh, data, num_epochs=2)
    s2.load_checkpoint(tmp_path / "run_epoch_2.npz")
    assert s2.epoch == 2 and s2.val_acc_history == s.val_acc_history
    saved = checkpoint.read(tmp_path / "run_epoch_2.npz")  # the weights training reached
    np.testing.assert_array_equal(fresh.params["W1"], saved["params"]["W1"])


def test_lr_decay_and_verbose_output(capsys: pytest.CaptureFixture[str]) -> None:
    s = solver(TwoLayerNet(10, 8, 3, weight_scale=0.1), blobs(), "sgd_momentum", num_epochs=3,
               lr_decay=0.5, verbose=True, print_every=5).train()
    assert s.optim_configs["W1"]["learning_rate"] == pytest.approx(0.1 * 0.5 ** 3)
    assert "velocity" in s.optim_configs["W1"]
    out = capsys.readouterr().out
    assert "(Iteration 1 / 18) loss: " in out and "(Iteration 6 / 18)" in out
    assert "(Epoch 0 / 3) train acc: " in out and "(Epoch 3 / 3)" in out


def test_divergence_is_detected() -> None:
    with np.errstate(over="ignore", invalid="ignore"):
        s = solver(TwoLayerNet(10, 8, 3, weight_scale=1.0), blobs(), "sgd",
                   optim_config={"learning_rate": 1e6}, num_epochs=5).train()
    assert s.diverged
    assert len(s.loss_history) < 5 * 6


def test_course_update_rule_errors() -> None:
    with pytest.raises(ValueError, match="Solver: update_rule 'nesterov' for a course model"):
        Solver(TwoLayerNet(10, 8, 3), blobs(), update_rule="nesterov")


# ----------------------------------------------------------------------------- pictures


def test_curves_templates_and_filters(tmp_path: Path) -> None:
    import viz

    r = np.random.default_rng(7)
    X, y = r.standard_normal((60, 3, 4, 4)), r.integers(0, 3, 60)
    data = {"X_train": X[:45], "y_train": y[:45], "X_val": X[45:], "y_val": y[45:]}
    linear = LinearClassifier(48, 3, loss="softmax")
    s = solver(linear, data, "adam", optim_config={"learning_rate": 1e-2}, num_epochs=2,
               batch_size=15).train()
    curves = viz.plot_history(s.history, tmp_path / "curves.png")
    fig = viz.plot_history(s.history)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[-1] == "loss per epoch"
    assert [line.get_label() for line in fig.axes[-1].lines] == ["train", "val"]
    templates = viz.plot_class_templates(linear.params["W"], ["a", "b", "c"], (3, 4, 4),
                                         tmp_path / "templates.png")
    conv = ThreeLayerConvNet((3, 4, 4), num_filters=6, filter_size=3, hidden_dim=5,
                             num_classes=3)
    filters = viz.plot_weight_grid(conv.params["W1"], tmp_path / "filters.png")
    for path in (curves, templates, filters):
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
