"""`numpy_random=True` on the course models and classifiers: their random draws are then the
courses' own calls on numpy's global generator, in the courses' order, so a notebook that
calls `np.random.seed` gets the course's weights, batches and printed numbers.

Each model is held against its course `__init__` written out by hand (the weights EQUAL,
and numpy's generator left where the course leaves it), against the numbers the courses'
notebooks print (cs231n's two_layer_net.ipynb and FullyConnectedNets/Dropout notebooks),
and, with `Solver(numpy_random=True)`, against the courses' training loop written out by
hand. Without the option the weights differ, and drawing in another order would too: the
option, in the courses' order, is what makes them equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from course_data import blobs

from tinygrad_edu.course import cs7643, ece_c147, linear_classifier, neural_net
from tinygrad_edu.course.models import FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from tinygrad_edu.train import Solver

# The references draw from numpy's global generator on purpose: that is what they check.
npr = np.random  # noqa: NPY002
equal = np.testing.assert_array_equal


def assert_same_params(ours: dict[str, np.ndarray], course: dict[str, np.ndarray]) -> None:
    assert list(ours) == list(course)
    for name, value in course.items():
        assert ours[name].dtype == value.dtype, name
        equal(ours[name], value, err_msg=name)


def state() -> tuple[Any, ...]:
    """numpy's global generator state, to check we drew exactly as many numbers."""
    kind, keys, pos, has_gauss, gauss = npr.get_state()
    return kind, keys.tobytes(), pos, has_gauss, gauss


# ----------------------------------------------------------------------------- __init__s


def test_fc_two_layer_net_draws_w1_then_w2_as_the_course() -> None:
    D, H, C, ws = 5, 50, 7, 1e-3
    npr.seed(231)
    course = {"W1": ws * npr.randn(D, H), "b1": np.zeros(H),
              "W2": ws * npr.randn(H, C), "b2": np.zeros(C)}
    after = state()
    npr.seed(231)
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=ws,
                        numpy_random=True)
    assert_same_params(model.params, course)
    assert state() == after
    npr.seed(231)
    ece = TwoLayerNet(input_dim=D, hidden_dims=H, num_classes=C, weight_scale=ws,
                      numpy_random=True)   # ECE C147's spelling, same draws
    assert_same_params(ece.params, course)
    # the option is what makes them equal: the default leaves numpy alone ...
    npr.seed(231)
    default = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=ws)
    assert not np.array_equal(default.params["W1"], course["W1"])
    assert state() != after
    # ... and the order matters: W2 drawn first would give other weights
    npr.seed(231)
    W2_first = ws * npr.randn(H, C)
    assert not np.array_equal(ws * npr.randn(D, H), model.params["W1"])
    assert not np.array_equal(W2_first, model.params["W2"])


@pytest.mark.parametrize("normalization, dtype", [(None, np.float64),
                                                  ("batchnorm", np.float32),
                                                  ("layernorm", np.float64)])
def test_fully_connected_net_draws_layer_by_layer(normalization: str | None, dtype: Any
                                                  ) -> None:
    dims, ws = [15, 20, 30, 10], 5e-2
    npr.seed(231)
    course: dict[str, np.ndarray] = {}
    for i in range(1, len(dims)):
        course[f"W{i}"] = ws * npr.randn(dims[i - 1], dims[i])
        course[f"b{i}"] = np.zeros(dims[i])
        if normalization and i < len(dims) - 1:
            course[f"gamma{i}"] = np.ones(dims[i])
            course[f"beta{i}"] = np.zeros(dims[i])
    course = {k: v.astype(dtype) for k, v in course.items()}
    after = state()
    npr.seed(231)
    model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=ws,
                              normalization=normalization, dtype=dtype, numpy_random=True)
    assert_same_params(model.params, course)
    assert state() == after
    npr.seed(231)
    default = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=ws,
                                normalization=normalization, dtype=dtype)
    assert not np.array_equal(default.params["W1"], course["W1"])


def test_three_layer_conv_net_draws_the_courses_shapes() -> None:
    (C, H, W), F, k, hidden, classes, ws = (3, 8, 6), 4, 3, 7, 5, 1e-2
    npr.seed(231)
    course = {"W1": ws * npr.randn(F, C, k, k), "b1": np.zeros(F),
              "W2": ws * npr.randn(F * (H // 2) * (W // 2), hidden), "b2": np.zeros(hidden),
              "W3": ws * npr.randn(hidden, classes), "b3": np.zeros(classes)}
    course = {name: v.astype(np.float32) for name, v in course.items()}  # the course's cast
    after = state()
    npr.seed(231)
    model = ThreeLayerConvNet(input_dim=(C, H, W), num_filters=F, filter_size=k,
                              hidden_dim=hidden, num_classes=classes, weight_scale=ws,
                              numpy_random=True)
    assert_same_params(model.params, course)
    assert state() == after
    npr.seed(231)
    default = ThreeLayerConvNet(input_dim=(C, H, W), num_filters=F, filter_size=k,
                                hidden_dim=hidden, num_classes=classes, weight_scale=ws)
    assert not np.array_equal(default.params["W1"], course["W1"])


@pytest.mark.parametrize("cls, out_in", [(neural_net.TwoLayerNet, False),
                                         (ece_c147.TwoLayerNet, True)])
def test_assignment_one_two_layer_net_draws_in_its_layout(cls: Any, out_in: bool) -> None:
    D, H, C, std = 4, 10, 3, 1e-1
    npr.seed(0)
    course = {"W1": std * npr.randn(*((H, D) if out_in else (D, H))), "b1": np.zeros(H),
              "W2": std * npr.randn(*((C, H) if out_in else (H, C))), "b2": np.zeros(C)}
    npr.seed(0)
    assert_same_params(cls(D, H, C, std=std, numpy_random=True).params, course)
    npr.seed(0)
    assert not np.array_equal(cls(D, H, C, std=std).params["W1"], course["W1"])
    with pytest.raises(ValueError, match="give seed .* or numpy_random=True .*, not both"):
        cls(D, H, C, seed=0, numpy_random=True)
    with pytest.raises(TypeError, match="numpy_random must be True or False, got 1"):
        cls(D, H, C, numpy_random=1)


def test_cs7643_init_two_layer_model() -> None:
    npr.seed(3)
    course = {"W1": 0.00001 * npr.randn(6, 8), "b1": np.zeros(8),
              "W2": 0.00001 * npr.randn(8, 4), "b2": np.zeros(4)}
    npr.seed(3)
    assert_same_params(cs7643.init_two_layer_model(6, 8, 4, numpy_random=True), course)
    npr.seed(3)
    assert not np.array_equal(cs7643.init_two_layer_model(6, 8, 4)["W1"], course["W1"])


# ----------------------------------------------------------------------------- notebooks


def test_cs231n_two_layer_net_notebook_numbers() -> None:
    """two_layer_net.ipynb (cs231n 2017+): the toy net and data, the hard-coded correct
    scores and loss, and the toy training run's printed losses."""
    npr.seed(0)
    net = neural_net.TwoLayerNet(4, 10, 3, std=1e-1, numpy_random=True)   # init_toy_model
    npr.seed(1)
    X, y = 10 * npr.randn(5, 4), np.array([0, 1, 2, 2, 1])                # init_toy_data
    correct_scores = np.asarray([[-0.81233741, -1.27654624, -0.70335995],
                                 [-0.17129677, -1.18803311, -0.47310444],
                                 [-0.51590475, -1.01354314, -0.8504215],
                                 [-0.15419291, -0.48629638, -0.52901952],
                                 [-0.00618733, -0.12435261, -0.15226949]])
    equal(np.round(net.loss(X), 8), correct_scores)
    assert round(net.loss(X, y, reg=0.05)[0], 11) == 1.30378789133
    npr.seed(0)   # the training cell calls init_toy_model() again
    net = neural_net.TwoLayerNet(4, 10, 3, std=1e-1, numpy_random=True)
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100)
    assert f"{stats['loss_history'][0]:f}" == "1.241994"   # "iteration 0 / 100: loss ..."
    # printed: "Final training loss:  0.017149607938732023" (the last digits vary by BLAS)
    assert abs(stats["loss_history"][-1] - 0.017149607938732023) < 1e-15


def test_cs231n_fully_connected_and_dropout_notebook_losses() -> None:
    """FullyConnectedNets.ipynb's and Dropout.ipynb's (2018+) "Initial loss" lines: the
    models are built one after another from the same global generator, the dropout ones
    reseeding it (seed=123) at every dropout layer, as the course's layer does."""
    def data() -> tuple[np.ndarray, np.ndarray]:
        npr.seed(231)
        return npr.randn(2, 15), npr.randint(10, size=(2,))

    X, y = data()
    printed = {0: 2.3004790897684924, 3.14: 7.052114776533016}
    for reg, loss in printed.items():
        model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64, numpy_random=True)
        assert model.loss(X, y)[0] == loss
    X, y = data()
    printed = {1: 2.3004790897684924, 0.75: 2.302371489704412, 0.5: 2.3042759220785896}
    for keep, loss in printed.items():
        model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=5e-2,
                                  dtype=np.float64, dropout_keep_ratio=keep, seed=123,
                                  numpy_random=True)
        assert model.loss(X, y)[0] == loss
        if keep != 1:   # each dropout layer reseeds: the last one's draw is what is left
            npr.seed(123)
            npr.rand(2, 30)
            reseeded = state()
            npr.seed(5)
            model.loss(X, y)
            assert state() == reseeded


def test_dropout_without_seed_draws_its_masks_from_numpy() -> None:
    X, y = blobs(6, 4, 3)
    npr.seed(9)
    model = FullyConnectedNet([7], input_dim=4, num_classes=3, dropout_keep_ratio=0.4,
                              weight_scale=0.5, dtype=np.float64, numpy_random=True)
    W1, W2 = model.params["W1"], model.params["W2"]
    npr.seed(11)
    mask = (npr.rand(6, 7) < 0.4) / 0.4
    after = state()
    hidden = np.maximum(X @ W1, 0) * mask
    npr.seed(11)
    loss, _ = model.loss(X, y)
    assert state() == after   # one mask drawn, no reseeding without a seed
    scores = hidden @ W2
    shifted = scores - scores.max(axis=1, keepdims=True)
    want = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(6), y])
    assert abs(loss - want) < 1e-12


# ----------------------------------------------------------------------------- training loops


def course_two_layer_loss(p: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray
                          ) -> tuple[float, dict[str, np.ndarray]]:
    """fc_net.TwoLayerNet.loss with cs231n's layers (affine, relu, softmax_loss), reg 0."""
    N = X.shape[0]
    a = X.reshape(N, -1).dot(p["W1"]) + p["b1"]
    h = np.maximum(0, a)
    scores = h.dot(p["W2"]) + p["b2"]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    da = dx.dot(p["W2"].T) * (a > 0)
    grads = {"W1": X.reshape(N, -1).T.dot(da), "b1": np.sum(da, axis=0),
             "W2": h.T.dot(dx), "b2": np.sum(dx, axis=0)}
    return float(loss), grads


class Recording(TwoLayerNet):
    """Our TwoLayerNet, remembering the minibatches the Solver trains it on."""

    batches: list[np.ndarray]

    def loss(self, X: Any, y: Any = None) -> Any:
        if y is not None:
            self.batches.append(np.array(X))
        return super().loss(X, y)


def test_solver_and_two_layer_net_reproduce_the_courses_loop() -> None:
    X, y = blobs(60, 8, 3, seed=2)
    data = {"X_train": X[:50], "y_train": y[:50], "X_val": X[50:], "y_val": y[50:]}
    epochs, batch, lr, samples, n = 3, 10, 0.5, 30, 50
    npr.seed(231)   # the notebook: seed, build the model, build the Solver, train
    params = {"W1": 1e-1 * npr.randn(8, 6), "b1": np.zeros(6),
              "W2": 1e-1 * npr.randn(6, 3), "b2": np.zeros(3)}
    initial = {k: v.copy() for k, v in params.items()}
    losses, batches = [], []
    per_epoch = max(n // batch, 1)
    for t in range(epochs * per_epoch):   # cs231n's Solver.train with sgd
        mask = npr.choice(n, batch)
        batches.append(data["X_train"][mask])
        loss, grads = course_two_layer_loss(params, data["X_train"][mask],
                                            data["y_train"][mask])
        losses.append(loss)
        for k in params:
            params[k] -= lr * grads[k]
        if t == 0 or (t + 1) % per_epoch == 0:
            npr.choice(n, samples)   # check_accuracy's training subsample
    after = state()
    npr.seed(231)
    model = Recording(8, 6, 3, weight_scale=1e-1, numpy_random=True)
    model.batches = []
    assert_same_params(model.params, initial)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": lr},
                    batch_size=batch, num_epochs=epochs, num_train_samples=samples,
                    verbose=False, progress=False, numpy_random=True)
    solver.train()
    assert state() == after
    assert len(model.batches) == len(batches)
    for ours, course in zip(model.batches, batches):
        equal(ours, course)   # every minibatch the course draws, in its order
    # The losses: the engine's reductions round differently from the numpy formulas in the
    # last bit, so the histories agree to ~1e-15, and to every digit the course prints.
    np.testing.assert_allclose(solver.loss_history, losses, rtol=1e-13)
    assert [f"{v:f}" for v in solver.loss_history] == [f"{v:f}" for v in losses]


@pytest.mark.parametrize("cls, layout", [(linear_classifier.Softmax, "cs231n"),
                                         (linear_classifier.LinearSVM, "cs231n"),
                                         (cs7643.Softmax, "cs7643")])
def test_linear_classifier_train_draws_as_the_course(cls: Any, layout: str) -> None:
    X, y = blobs(40, 5, 3, seed=4)
    data = X.T if layout == "cs7643" else X
    npr.seed(2)
    W = 0.001 * npr.randn(*((3, 5) if layout == "cs7643" else (5, 3)))   # the lazy init
    idx = [npr.choice(40, 16) for _ in range(4)]
    after = state()
    npr.seed(2)
    clf = cls(numpy_random=True)
    assert clf.train(data, y, num_iters=0) == [] and clf.W is not None
    equal(clf.W, W)
    npr.seed(2)
    clf = cls(numpy_random=True)
    batches: list[np.ndarray] = []
    course_loss = clf.loss

    def recording_loss(X_batch: Any, y_batch: Any, reg: float) -> Any:
        batches.append(np.array(X_batch))
        return course_loss(X_batch, y_batch, reg)

    clf.loss = recording_loss  # type: ignore[method-assign]
    clf.train(data, y, learning_rate=1e-2, reg=1e-3, num_iters=4, batch_size=16)
    assert state() == after
    for ours, course in zip(batches, idx, strict=True):
        equal(ours, data[:, course] if layout == "cs7643" else data[course])
    npr.seed(2)
    clf = cls()
    clf.train(data, y, num_iters=0)
    assert not np.array_equal(clf.W, W)
    with pytest.raises(ValueError, match="not both"):
        cls(seed=1, numpy_random=True)


def test_classifier_trainer_draws_batches_and_subsamples_as_the_course() -> None:
    X, y = blobs(1100, 3, 2, seed=8)
    npr.seed(4)
    model = {"W1": 0.00001 * npr.randn(3, 5), "b1": np.zeros(5),
             "W2": 0.00001 * npr.randn(5, 2), "b2": np.zeros(2)}
    draws = []
    for _ in range(2):   # N // batch_size = 2 iterations in one epoch
        draws.append(("batch", npr.choice(1100, 550)))
        draws.append(("subsample", npr.choice(1100, 1000)))   # at it 0 and the epoch's end
    after = state()
    npr.seed(4)
    ours = cs7643.init_two_layer_model(3, 5, 2, numpy_random=True)
    assert_same_params(ours, model)
    calls: list[tuple[str, np.ndarray]] = []

    def loss_function(X_: np.ndarray, model_: Any, y_: Any = None, reg: float = 0.0) -> Any:
        if y_ is not None or X_.shape[0] == 1000:   # not the 10 validation rows
            calls.append(("batch" if y_ is not None else "subsample", X_))
        return cs7643.two_layer_net(X_, model_, y_, reg)

    trainer = cs7643.ClassifierTrainer(numpy_random=True)
    trainer.train(X, y, X[:10], y[:10], ours, loss_function, update="sgd", num_epochs=1,
                  batch_size=550)
    assert state() == after
    assert [kind for kind, _ in calls] == [kind for kind, _ in draws]
    for (_, got), (_, idx) in zip(calls, draws):
        equal(got, X[idx])
    with pytest.raises(ValueError, match="not both"):
        cs7643.ClassifierTrainer(seed=0, numpy_random=True)


def test_fc_two_layer_net_dropout_is_refused_not_ignored() -> None:
    """No course's fc_net TwoLayerNet applies dropout, so a value that would ask for it is
    an error naming the model that does."""
    for default in (0, 1):
        TwoLayerNet(6, 9, 3, dropout=default)
    with pytest.raises(ValueError, match=r"no course's TwoLayerNet applies dropout .* got "
                       r"dropout=0.5; use FullyConnectedNet\(\[H\], dropout=...\)"):
        TwoLayerNet(6, 9, 3, dropout=0.5, numpy_random=True)
