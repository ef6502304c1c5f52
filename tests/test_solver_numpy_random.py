"""`Solver(numpy_random=True)` draws as the courses' Solver does: the same np.random.choice
calls in the same order (a minibatch per step; a training subsample at each accuracy
check), so a notebook that seeds np.random gets the courses' numbers. Held against the
courses' loop written out by hand."""

from __future__ import annotations

import numpy as np

from tinygrad_edu.course.models import TwoLayerNet
from tinygrad_edu.train import Solver


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {"X_train": rng.standard_normal((50, 8)), "y_train": rng.integers(0, 3, 50),
            "X_val": rng.standard_normal((20, 8)), "y_val": rng.integers(0, 3, 20)}


def _course_loop(data: dict[str, np.ndarray], epochs: int, batch: int, lr: float,
                 samples: int) -> list[float]:
    """cs231n's Solver.train with plain sgd, spelled out: one np.random.choice per step,
    and one per accuracy check of the training set (after the first iteration, at each
    epoch's end)."""
    model = TwoLayerNet(8, 6, 3, weight_scale=1e-1, seed=1)
    n = data["X_train"].shape[0]
    per_epoch = max(n // batch, 1)
    losses = []
    for t in range(epochs * per_epoch):
        mask = np.random.choice(n, batch)  # noqa: NPY002
        loss, grads = model.loss(data["X_train"][mask], data["y_train"][mask])
        losses.append(float(loss))
        for k, dw in grads.items():
            model.params[k] = model.params[k] - lr * dw
        if t == 0 or (t + 1) % per_epoch == 0:
            np.random.choice(n, samples)  # noqa: NPY002  (the training subsample)
    return losses


def test_numpy_random_reproduces_the_courses_sampling() -> None:
    data = _data()
    np.random.seed(231)  # noqa: NPY002
    expected = _course_loop(data, epochs=3, batch=10, lr=0.5, samples=30)
    np.random.seed(231)  # noqa: NPY002
    solver = Solver(TwoLayerNet(8, 6, 3, weight_scale=1e-1, seed=1), data, update_rule="sgd",
                    optim_config={"learning_rate": 0.5}, batch_size=10, num_epochs=3,
                    num_train_samples=30, verbose=False, progress=False, numpy_random=True)
    solver.train()
    assert solver.loss_history == expected


def test_the_default_sampling_leaves_numpy_alone() -> None:
    np.random.seed(7)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    Solver(TwoLayerNet(8, 6, 3, seed=1), _data(), batch_size=10, num_epochs=1,
           num_train_samples=30, verbose=False, progress=False).train()
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
