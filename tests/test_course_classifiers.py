"""The first assignments' self-training classifiers: cs231n's and CS7643's LinearSVM /
Softmax (`train`, `predict`, `loss`) in their two weight layouts, CS7643's loss functions,
two_layer_net and ClassifierTrainer (update rules, schedule, histories, best model), and
vis_utils.visualize_grid, each against numpy written by hand from the courses' formulas."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from course_data import blobs, rng

from tinygrad_edu.course import cs7643, linear_classifier
from tinygrad_edu.course.classifiers import softmax_loss_vectorized, svm_loss_vectorized
from tinygrad_edu.course.gradient_check import eval_numerical_gradient, rel_error
from tinygrad_edu.course.vis_utils import visualize_grid
from tinygrad_edu.errors import ShapeError

# ----------------------------------------------------------------------------- linear classifiers


def cs7643_softmax(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float
                   ) -> tuple[float, np.ndarray]:
    """CS7643's softmax_loss_vectorized by hand: W (C, D), X (D, N), 0.5 reg."""
    scores = W @ X
    probs = np.exp(scores - scores.max(axis=0))
    probs /= probs.sum(axis=0)
    n = X.shape[1]
    loss = -np.log(probs[y, np.arange(n)]).mean() + 0.5 * reg * np.sum(W * W)
    probs[y, np.arange(n)] -= 1
    return float(loss), probs @ X.T / n + reg * W


def cs7643_svm(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float
               ) -> tuple[float, np.ndarray]:
    scores = W @ X
    n = X.shape[1]
    margins = np.maximum(0, scores - scores[y, np.arange(n)] + 1.0)
    margins[y, np.arange(n)] = 0
    dscores = (margins > 0).astype(float)
    dscores[y, np.arange(n)] = -dscores.sum(axis=0)
    return float(margins.sum() / n + 0.5 * reg * np.sum(W * W)), dscores @ X.T / n + reg * W


def test_cs7643_losses_against_the_course_formulas() -> None:
    r = rng(1)
    W, X, y = 1e-2 * r.standard_normal((4, 7)), r.standard_normal((7, 9)), r.integers(0, 4, 9)
    for ours, ref in ((cs7643.softmax_loss_vectorized, cs7643_softmax),
                      (cs7643.svm_loss_vectorized, cs7643_svm)):
        loss, dW = ours(W, X, y, 0.3)
        want_loss, want_dW = ref(W, X, y, 0.3)
        assert abs(loss - want_loss) < 1e-12
        np.testing.assert_allclose(dW, want_dW, atol=1e-13)
        numeric = eval_numerical_gradient(lambda _, f=ours: f(W, X, y, 0.3)[0], W,
                                          verbose=False)
        assert rel_error(dW, numeric) < 1e-7
    # the same classifier as cs231n's layout, transposed, with half the penalty's reg
    loss, dW = cs7643.softmax_loss_vectorized(W, X, y, 0.3)
    loss_t, dW_t = softmax_loss_vectorized(W.T, X.T, y, 0.15)
    assert abs(loss - loss_t) < 1e-12
    np.testing.assert_allclose(dW, dW_t.T, atol=1e-14)
    assert cs7643.svm_loss_naive is cs7643.svm_loss_vectorized


@pytest.mark.parametrize("cls, layout", [
    (linear_classifier.Softmax, "cs231n"), (linear_classifier.LinearSVM, "cs231n"),
    (cs7643.Softmax, "cs7643"), (cs7643.LinearSVM, "cs7643")])
def test_linear_classifier_train_predict_and_loss(cls: Any, layout: str) -> None:
    X, y = blobs(300, 6, 4, seed=2)
    data = X.T if layout == "cs7643" else X
    clf = cls(seed=0)
    assert clf.layout == layout and clf.W is None
    history = clf.train(data, y, learning_rate=1e-2, reg=1e-3, num_iters=150, batch_size=64)
    assert len(history) == 150 and all(isinstance(v, float) for v in history)
    assert clf.W.shape == ((4, 6) if layout == "cs7643" else (6, 4))
    assert np.mean(history[-10:]) < 0.5 * history[0]
    pred = clf.predict(data)
    assert pred.shape == (300,) and (pred == y).mean() > 0.9
    scores = clf.W @ data if layout == "cs7643" else data @ clf.W
    np.testing.assert_array_equal(pred, np.argmax(scores, axis=0 if layout == "cs7643" else 1))
    batch, labels = (data[:, :20], y[:20]) if layout == "cs7643" else (data[:20], y[:20])
    loss, dW = clf.loss(batch, labels, 0.1)
    if layout == "cs7643":
        ref = cs7643_softmax if clf.kind == "softmax" else cs7643_svm
        want = ref(clf.W, batch, labels, 0.1)
    else:
        fn = softmax_loss_vectorized if clf.kind == "softmax" else svm_loss_vectorized
        want = fn(clf.W, batch, labels, 0.1)
    assert abs(loss - want[0]) < 1e-12
    np.testing.assert_allclose(dW, want[1], atol=1e-13)


def test_linear_classifier_sgd_steps_and_sampling(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = blobs(5, 3, 2, seed=3)
    a, b = linear_classifier.Softmax(seed=4), linear_classifier.Softmax(seed=4)
    history = a.train(X, y, learning_rate=0.5, reg=0.0, num_iters=3, batch_size=12,
                      verbose=True)   # a batch larger than N: drawn with replacement
    assert history == b.train(X, y, learning_rate=0.5, reg=0.0, num_iters=3, batch_size=12)
    np.testing.assert_array_equal(a.W, b.W)
    assert capsys.readouterr().out.splitlines()[0].startswith("iteration 0 / 3: loss ")
    c = linear_classifier.Softmax(seed=5)
    c.train(X, y, learning_rate=0.0, num_iters=1)
    W0 = c.W.copy()
    loss, dW = c.loss(X, y, 0.0)
    c.train(X, y, learning_rate=0.5, reg=0.0, num_iters=1, batch_size=5)   # W exists: kept
    assert not np.array_equal(c.W, W0) and np.abs(c.W - W0).max() < 0.5 * np.abs(dW).max() * 3


def test_linear_classifier_errors() -> None:
    with pytest.raises(TypeError, match="LinearClassifier: the base class has no loss; use "
                       "LinearSVM or Softmax"):
        linear_classifier.LinearClassifier()

    class Own(linear_classifier.LinearClassifier):  # a course subclass defining its loss
        def loss(self, X_batch: Any, y_batch: Any, reg: float) -> tuple[float, np.ndarray]:
            return 0.0, np.zeros_like(self.W)

    own = Own()
    own.W = np.zeros((3, 2))
    assert own.loss(np.zeros((2, 3)), np.zeros(2, int), 0.0)[0] == 0.0
    with pytest.raises(RuntimeError, match="Softmax.predict: the classifier has no weights "
                       "yet; call train first"):
        linear_classifier.Softmax().predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="LinearSVM: layout must be one of 'cs231n', "
                       "'cs7643', got 'torch'"):
        linear_classifier.LinearSVM(layout="torch")
    with pytest.raises(ShapeError, match=r"Softmax.train: X must be \(D, N\) in the cs7643 "
                       r"layout, got shape \(3,\)"):
        cs7643.Softmax().train(np.zeros(3), np.zeros(3, int))
    clf = cs7643.Softmax(seed=0)
    clf.train(np.ones((3, 4)), np.array([0, 1, 2, 1]), num_iters=1)
    with pytest.raises(ShapeError, match=r"Softmax.loss: X must be \(D, N\) and W \(C, D\); "
                       r"got X \(4, 3\) and W \(3, 3\)"):
        clf.loss(np.ones((4, 3)), np.zeros(3, int), 0.0)


# ----------------------------------------------------------------------------- ClassifierTrainer


def quadratic(X: np.ndarray, model: dict[str, np.ndarray], y: Any = None, reg: float = 0.0
              ) -> Any:
    """loss = 0.5 |w|^2, grad = w; scores constant (the accuracies are not the point)."""
    if y is None:
        return np.zeros((len(X), 2))
    return 0.5 * float(np.sum(model["w"] ** 2)), {"w": model["w"].copy()}


@pytest.mark.parametrize("update", ["sgd", "momentum", "rmsprop"])
def test_trainer_update_rules_and_rate_schedule(update: str) -> None:
    w0 = np.array([1.0, -2.0, 0.5])
    model = {"w": w0.copy()}
    lr, mu, decay = 0.1, 0.9, 0.5
    trainer = cs7643.ClassifierTrainer()
    _, losses, _, _ = trainer.train(np.zeros((4, 1)), np.zeros(4, int), np.zeros((2, 1)),
                                    np.zeros(2, int), model, quadratic, learning_rate=lr,
                                    momentum=mu, learning_rate_decay=decay, update=update,
                                    sample_batches=False, num_epochs=4)
    # one iteration per epoch; the check at it = 0 does not decay, the later ones do
    rates = [lr, lr, lr * decay, lr * decay ** 2]
    w, v, cache = w0.copy(), np.zeros(3), np.zeros(3)
    want_losses = []
    for rate in rates:
        want_losses.append(0.5 * float(np.sum(w ** 2)))
        grad = w.copy()
        if update == "sgd":
            w = w - rate * grad
        elif update == "momentum":
            v = mu * v - rate * grad
            w = w + v
        else:
            cache = 0.99 * cache + 0.01 * grad ** 2
            w = w - rate * grad / np.sqrt(cache + 1e-8)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model["w"], w, rtol=1e-12, atol=1e-15)
    if update != "sgd":
        assert set(trainer.step_cache) == {"w"}


def test_trainer_with_two_layer_net_histories_and_best_model(
        capsys: pytest.CaptureFixture[str]) -> None:
    X_all, y_all = blobs(260, 5, 3, seed=6)
    X, y, X_val, y_val = X_all[:200], y_all[:200], X_all[200:], y_all[200:]
    model = cs7643.init_two_layer_model(5, 30, 3, seed=0)
    assert model["W1"].shape == (5, 30) and np.abs(model["W1"]).max() < 1e-4
    trainer = cs7643.ClassifierTrainer(seed=1)
    best, losses, train_acc, val_acc = trainer.train(
        X, y, X_val, y_val, model, cs7643.two_layer_net, reg=1e-3, learning_rate=0.5,
        momentum=0.9, update="momentum", num_epochs=5, batch_size=50, verbose=True)
    assert len(losses) == 5 * 4                          # N // batch_size iterations an epoch
    assert len(train_acc) == len(val_acc) == 1 + 5       # the first iteration, every epoch
    assert max(val_acc) > 0.9
    best_acc = np.mean(np.argmax(cs7643.two_layer_net(X_val, best), axis=1) == y_val)
    assert best_acc == max(val_acc)
    assert best["W1"] is not model["W1"]
    out = capsys.readouterr().out
    assert "starting iteration  0" in out and "Finished epoch 5 / 5: cost" in out
    assert out.rstrip().endswith(f"finished optimization. best validation accuracy: "
                                 f"{max(val_acc):f}")


def test_two_layer_net_function_against_the_course_formula() -> None:
    r = rng(7)
    X, y = r.standard_normal((6, 4)), r.integers(0, 3, 6)
    model = {"W1": r.standard_normal((4, 5)), "b1": r.standard_normal(5),
             "W2": r.standard_normal((5, 3)), "b2": r.standard_normal(3)}
    hidden = np.maximum(X @ model["W1"] + model["b1"], 0)
    scores = hidden @ model["W2"] + model["b2"]
    np.testing.assert_allclose(cs7643.two_layer_net(X, model), scores, atol=1e-13)
    loss, grads = cs7643.two_layer_net(X, model, y, reg=0.2)
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    want = -np.log(probs[np.arange(6), y]).mean() + 0.1 * (np.sum(model["W1"] ** 2) +
                                                          np.sum(model["W2"] ** 2))
    assert abs(loss - want) < 1e-12
    dscores = probs.copy()
    dscores[np.arange(6), y] -= 1
    dscores /= 6
    dhidden = dscores @ model["W2"].T * (hidden > 0)
    want_grads = {"W1": X.T @ dhidden + 0.2 * model["W1"], "b1": dhidden.sum(axis=0),
                  "W2": hidden.T @ dscores + 0.2 * model["W2"], "b2": dscores.sum(axis=0)}
    for name in model:
        np.testing.assert_allclose(grads[name], want_grads[name], atol=1e-13)


def test_trainer_acc_frequency_and_errors() -> None:
    model = {"w": np.ones(2)}
    _, _, train_acc, _ = cs7643.ClassifierTrainer(seed=0).train(
        np.zeros((20, 1)), np.zeros(20, int), np.zeros((2, 1)), np.zeros(2, int), model,
        quadratic, update="sgd", num_epochs=1, batch_size=5, acc_frequency=2)
    assert len(train_acc) == 3   # it = 0 (also every 2nd), it = 2, and the epoch end it = 3
    with pytest.raises(ValueError, match="ClassifierTrainer.train: unrecognized update "
                       "'adam'; valid: 'sgd', 'momentum', 'rmsprop'"):
        cs7643.ClassifierTrainer().train(np.zeros((2, 1)), np.zeros(2, int), np.zeros((2, 1)),
                                         np.zeros(2, int), model, quadratic, update="adam")


# ----------------------------------------------------------------------------- visualize_grid


def course_grid(Xs: np.ndarray, ubound: float, padding: int) -> np.ndarray:
    """The courses' loop, by hand."""
    n, h, w, c = Xs.shape
    g = int(np.ceil(np.sqrt(n)))
    grid = np.zeros((h * g + padding * (g - 1), w * g + padding * (g - 1), c))
    for k in range(n):
        row, col = divmod(k, g)
        y0, x0 = row * (h + padding), col * (w + padding)
        img = Xs[k]
        grid[y0:y0 + h, x0:x0 + w] = ubound * (img - img.min()) / (img.max() - img.min())
    return grid


@pytest.mark.parametrize("n, padding, ubound", [(1, 1, 255.0), (5, 1, 255.0), (9, 3, 1.0),
                                                (10, 0, 255.0)])
def test_visualize_grid_matches_the_course_loop(n: int, padding: int, ubound: float) -> None:
    Xs = rng(n).standard_normal((n, 4, 3, 3))
    grid = visualize_grid(Xs, ubound=ubound, padding=padding)
    g = int(np.ceil(np.sqrt(n)))
    assert grid.shape == (4 * g + padding * (g - 1), 3 * g + padding * (g - 1), 3)
    assert grid.dtype == np.float64
    np.testing.assert_allclose(grid, course_grid(Xs, ubound, padding), atol=1e-12)


def test_visualize_grid_positional_constant_images_and_errors() -> None:
    Xs = np.stack([np.full((2, 2, 1), 7.0), np.arange(4.0).reshape(2, 2, 1)])
    grid = visualize_grid(Xs, 10.0, 2)
    assert grid.shape == (6, 6, 1)
    np.testing.assert_array_equal(grid[:2, :2, 0], 0.0)   # constant image: 0, not NaN
    np.testing.assert_allclose(grid[:2, 4:6, 0], [[0.0, 10 / 3], [20 / 3, 10.0]])
    np.testing.assert_array_equal(grid[2:, :, 0], 0.0)     # unused cells and padding
    with pytest.raises(ShapeError, match=r"visualize_grid: Xs must be N >= 1 images of shape "
                       r"\(N, H, W, C\) .* got shape \(2, 2\)"):
        visualize_grid(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="visualize_grid: padding must be a non-negative int"):
        visualize_grid(Xs, padding=-1)
