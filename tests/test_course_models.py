"""The course models in every course's spelling: FullyConnectedNet's dropout and
normalization arguments across cs231n's versions and ECE C147, fc_net's TwoLayerNet with
ECE C147's `hidden_dims`, and the assignment-1 `TwoLayerNet(input_size, hidden_size,
output_size, std)` in cs231n's and ECE C147's layouts (loss, gradients, train, predict),
each against numpy written by hand from the courses' formulas (float64)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from course_data import blobs

from tinygrad_edu.course import ece_c147, neural_net
from tinygrad_edu.course.gradient_check import eval_numerical_gradient, rel_error
from tinygrad_edu.course.models import FullyConnectedNet, TwoLayerNet


def numpy_softmax(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The courses' softmax loss and dscores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(probs[np.arange(n), y]).mean()
    probs[np.arange(n), y] -= 1
    return float(loss), probs / n


# ----------------------------------------------------------------------------- FullyConnectedNet


@pytest.mark.parametrize("kwargs, use_dropout, keep", [
    ({}, False, None),
    ({"dropout_keep_ratio": 1}, False, None),      # cs231n 2020+: 1 means no dropout
    ({"dropout_keep_ratio": 0.5}, True, 0.5),
    ({"dropout": 0}, False, None),                 # older cs231n, ECE C147: 0 means none
    ({"dropout": 1}, False, None),                 # cs231n 2018-2019's default
    ({"dropout": 0.25}, True, 0.25),
])
def test_dropout_spellings(kwargs: dict[str, Any], use_dropout: bool, keep: float | None
                           ) -> None:
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, seed=0, **kwargs)
    assert model.use_dropout is use_dropout
    assert model.dropout_param.get("p") == keep


def test_older_dropout_is_the_keep_probability_end_to_end() -> None:
    X, y = blobs(6, 4, 3)
    model = FullyConnectedNet([7], input_dim=4, num_classes=3, dropout=0.3, reg=0.2,
                              weight_scale=0.5, dtype=np.float64, seed=5)
    p = model.params
    hidden = np.maximum(X @ p["W1"] + p["b1"], 0)
    mask = (np.random.RandomState(5).rand(*hidden.shape) < 0.3) / 0.3   # the course's draw
    loss, _ = numpy_softmax(hidden * mask @ p["W2"] + p["b2"], y)
    loss += 0.5 * 0.2 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    assert abs(model.loss(X, y)[0] - loss) < 1e-12
    same = FullyConnectedNet([7], input_dim=4, num_classes=3, dropout_keep_ratio=0.3, reg=0.2,
                             weight_scale=0.5, dtype=np.float64, seed=5)
    assert model.loss(X, y)[0] == same.loss(X, y)[0]
    np.testing.assert_array_equal(model.loss(X), hidden @ p["W2"] + p["b2"])  # test: no drop


def test_use_batchnorm_is_normalization_batchnorm() -> None:
    X, y = blobs(8, 5, 3, seed=1)
    old = FullyConnectedNet([6, 4], input_dim=5, num_classes=3, use_batchnorm=True,
                            dtype=np.float64, seed=2)
    new = FullyConnectedNet([6, 4], input_dim=5, num_classes=3, normalization="batchnorm",
                            dtype=np.float64, seed=2)
    assert old.normalization == "batchnorm" and old.use_batchnorm and new.use_batchnorm
    assert sorted(old.params) == sorted(new.params) == sorted(
        ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"])
    assert len(old.bn_params) == 2
    loss_old, grads_old = old.loss(X, y)
    loss_new, grads_new = new.loss(X, y)
    assert loss_old == loss_new
    for k in grads_new:
        np.testing.assert_array_equal(grads_old[k], grads_new[k])
    plain = FullyConnectedNet([6], input_dim=5, use_batchnorm=False, normalization="layernorm")
    assert plain.normalization == "layernorm" and not plain.use_batchnorm


def test_course_gradient_check_with_the_older_spellings() -> None:
    X, y = blobs(5, 6, 4, seed=3)
    for reg in (0.0, 3.14):
        model = FullyConnectedNet([7, 5], input_dim=6, num_classes=4, dropout=0.75,
                                  use_batchnorm=True, reg=reg, weight_scale=5e-2,
                                  dtype=np.float64, seed=123)
        loss, grads = model.loss(X, y)
        for name in sorted(model.params):
            numeric = eval_numerical_gradient(lambda _, m=model: m.loss(X, y)[0],
                                              model.params[name], verbose=False, h=1e-5)
            assert rel_error(grads[name], numeric) < 1e-5, (reg, name)


def test_fully_connected_net_spelling_errors() -> None:
    with pytest.raises(ValueError, match="give dropout_keep_ratio .* or dropout .*, not both"):
        FullyConnectedNet([3], dropout_keep_ratio=0.5, dropout=0.5)
    with pytest.raises(ValueError, match=r"dropout_keep_ratio is the probability of keeping a "
                       r"unit, in \(0, 1\] .* the older spelling dropout=0 means no dropout"):
        FullyConnectedNet([3], dropout_keep_ratio=0)
    with pytest.raises(ValueError, match=r"dropout is the probability of keeping a unit, in "
                       r"\[0, 1\]"):
        FullyConnectedNet([3], dropout=1.5)
    with pytest.raises(ValueError, match=r"normalization must be None, 'batchnorm' or "
                       r"'layernorm', got True \(use_batchnorm=True is the older spelling"):
        FullyConnectedNet([3], normalization=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="use_batchnorm=True asks for batch normalization but "
                       "normalization is 'layernorm'"):
        FullyConnectedNet([3], normalization="layernorm", use_batchnorm=True)


def test_fc_net_two_layer_net_takes_hidden_dims() -> None:
    model = TwoLayerNet(input_dim=6, hidden_dims=9, num_classes=3, weight_scale=1e-2)
    assert model.params["W1"].shape == (6, 9) and model.params["W2"].shape == (9, 3)
    with pytest.raises(ValueError, match="TwoLayerNet: this network has no dropout layer"):
        TwoLayerNet(input_dim=6, hidden_dims=9, dropout=0.5)


# ----------------------------------------------------------------------------- neural_net


def numpy_two_layer(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float,
                    out_in: bool, penalty: float) -> tuple[float, dict[str, np.ndarray]]:
    """The assignment's forward and backward by hand, in either layout."""
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    A1, A2 = (W1.T, W2.T) if out_in else (W1, W2)   # as (in, out)
    hidden = np.maximum(X @ A1 + b1, 0)
    loss, dscores = numpy_softmax(hidden @ A2 + b2, y)
    loss += penalty * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dA2 = hidden.T @ dscores
    dhidden = (dscores @ A2.T) * (hidden > 0)
    dA1 = X.T @ dhidden
    grads = {"W1": dA1.T if out_in else dA1, "b1": dhidden.sum(axis=0),
             "W2": dA2.T if out_in else dA2, "b2": dscores.sum(axis=0)}
    grads["W1"] = grads["W1"] + 2 * penalty * reg * W1
    grads["W2"] = grads["W2"] + 2 * penalty * reg * W2
    return loss, grads


@pytest.mark.parametrize("cls, out_in, penalty", [
    (neural_net.TwoLayerNet, False, 1.0), (ece_c147.TwoLayerNet, True, 0.5)])
def test_two_layer_net_layouts_loss_and_gradients(cls: Any, out_in: bool, penalty: float
                                                  ) -> None:
    X, y = blobs(5, 4, 3, seed=4)
    net = cls(4, 10, 3, std=1e-1, seed=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == ({"W1": (10, 4), "b1": (10,), "W2": (3, 10), "b2": (3,)} if out_in else
                      {"W1": (4, 10), "b1": (10,), "W2": (10, 3), "b2": (3,)})
    scores = net.loss(X)
    A1, A2 = (net.params["W1"].T, net.params["W2"].T) if out_in else \
        (net.params["W1"], net.params["W2"])
    want = np.maximum(X @ A1 + net.params["b1"], 0) @ A2 + net.params["b2"]
    np.testing.assert_allclose(scores, want, atol=1e-14)
    np.testing.assert_array_equal(net.predict(X), np.argmax(want, axis=1))
    loss, grads = net.loss(X, y, reg=0.05)
    want_loss, want_grads = numpy_two_layer(net.params, X, y, 0.05, out_in, penalty)
    assert abs(loss - want_loss) < 1e-12
    for name in net.params:
        np.testing.assert_allclose(grads[name], want_grads[name], atol=1e-13)
        numeric = eval_numerical_gradient(lambda _: net.loss(X, y, reg=0.05)[0],
                                          net.params[name], verbose=False)
        assert rel_error(grads[name], numeric) < 1e-7


def test_two_layer_net_train_returns_the_courses_stats() -> None:
    X_all, y_all = blobs(260, 5, 3, seed=5)
    X, y, X_val, y_val = X_all[:200], y_all[:200], X_all[200:], y_all[200:]
    net = neural_net.TwoLayerNet(5, 20, 3, std=1e-1, seed=1)
    stats = net.train(X, y, X_val, y_val, learning_rate=0.1, learning_rate_decay=0.95,
                      reg=1e-4, num_iters=40, batch_size=50)
    assert sorted(stats) == ["loss_history", "train_acc_history", "val_acc_history"]
    assert len(stats["loss_history"]) == 40
    assert len(stats["train_acc_history"]) == len(stats["val_acc_history"]) == 10  # N/B = 4
    assert np.mean(stats["loss_history"][-5:]) < 0.5 * stats["loss_history"][0]
    assert (net.predict(X_val) == y_val).mean() > 0.9
    again = neural_net.TwoLayerNet(5, 20, 3, std=1e-1, seed=1)
    assert again.train(X, y, X_val, y_val, learning_rate=0.1, reg=1e-4, num_iters=40,
                       batch_size=50) == stats


def test_two_layer_net_decays_the_rate_at_each_epoch_check() -> None:
    X, y = blobs(40, 3, 2, seed=7)
    net = ece_c147.TwoLayerNet(3, 6, 2, std=0.5, seed=2)
    start = {k: v.copy() for k, v in net.params.items()}
    # decay 0: the check at it = 0 sets the rate to 0, so only the first step moves
    net.train(X, y, X, y, learning_rate=0.1, learning_rate_decay=0.0, reg=0.0, num_iters=6,
              batch_size=10)
    first = ece_c147.TwoLayerNet(3, 6, 2, std=0.5, seed=2)
    first.train(X, y, X, y, learning_rate=0.1, learning_rate_decay=0.0, reg=0.0, num_iters=1,
                batch_size=10)
    for k in start:
        np.testing.assert_array_equal(net.params[k], first.params[k])
        assert not np.array_equal(net.params[k], start[k]) or k == "b2"


def test_two_layer_net_train_default_reg_and_errors(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    X, y = blobs(30, 3, 2, seed=8)
    runs = []
    for reg in (None, 1e-5):   # ECE C147's default
        net = ece_c147.TwoLayerNet(3, 4, 2, std=0.3, seed=3)
        runs.append(net.train(X, y, X, y, reg=reg, num_iters=3, batch_size=10, verbose=True))
    assert runs[0] == runs[1]
    assert capsys.readouterr().out.startswith("iteration 0 / 3: loss ")
    with pytest.raises(ValueError, match="TwoLayerNet: layout must be one of 'cs231n', "
                       "'ece_c147', got 'torch'"):
        neural_net.TwoLayerNet(3, 4, 2, layout="torch")
    with pytest.raises(ValueError, match=r"TwoLayerNet.loss: X must be \(N, 3\) for W1 of "
                       r"shape \(4, 3\), got shape \(2, 4\)"):
        ece_c147.TwoLayerNet(3, 4, 2).loss(np.zeros((2, 4)))
