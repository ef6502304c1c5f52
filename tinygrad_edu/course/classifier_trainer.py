"""CS7643's (and cs231n 2015's) `ClassifierTrainer`: SGD on a model given as a dict of numpy
arrays and a loss function, with the course's signature and bookkeeping:

    trainer = ClassifierTrainer()
    best_model, loss_history, train_acc_history, val_acc_history = trainer.train(
        X_train, y_train, X_val, y_val, model, two_layer_net, reg=0.0, learning_rate=1e-2,
        momentum=0.9, learning_rate_decay=0.95, update='momentum', sample_batches=True,
        num_epochs=30, batch_size=100, acc_frequency=None, verbose=False)

`loss_function(X, model)` returns scores (N, C); `loss_function(X, model, y, reg)` returns
(loss, grads) with grads keyed like model. Each iteration takes a minibatch of batch_size
examples drawn with replacement (the whole set when sample_batches is False), and updates
every parameter in place (`model[p] += dx`), with the course's rules and the velocities or
caches kept in `trainer.step_cache`:
    'sgd'       dx = -learning_rate * grad
    'momentum'  v = momentum * v - learning_rate * grad; dx = v
    'rmsprop'   cache = 0.99 cache + 0.01 grad^2; dx = -learning_rate grad / sqrt(cache + 1e-8)
                (eps inside the square root, as this trainer has it; cs231n's later
                `optim.rmsprop` puts it outside)
There are num_epochs * iterations_per_epoch iterations, iterations_per_epoch = N //
batch_size (at least 1) or 1 without sampling. At the first iteration, at the end of every
epoch (where the learning rate is then multiplied by learning_rate_decay) and every
acc_frequency iterations, the training accuracy (on 1000 examples drawn with replacement
when N > 1000) and the validation accuracy are recorded, and the model with the best
validation accuracy so far is copied into best_model. The course prints "starting iteration"
every 10 iterations unconditionally; here that line, like the rest, only when verbose.
Draws come from `seed` when given, else tinygrad_edu's default generator (`manual_seed`).
`ClassifierTrainer(numpy_random=True)` (off by default; a deliberate departure from STYLE's
"no global np.random") draws as the course does, from numpy's global generator: the
minibatch `np.random.choice(N, batch_size)` at every iteration and the accuracy subsample
`np.random.choice(N, 1000)` at every check, so a notebook's `np.random.seed` reproduces the
course's histories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.course import _random
from tinygrad_edu.course.linear_classifier import sample_batch
from tinygrad_edu.creation import numpy_generator

__all__ = ["ClassifierTrainer"]

Model = dict[str, np.ndarray]
UPDATES = ("sgd", "momentum", "rmsprop")


class ClassifierTrainer:
    """See the module docstring."""

    def __init__(self, *, seed: Any = None, numpy_random: bool = False) -> None:
        _random.course_generator(seed, numpy_random, "ClassifierTrainer")  # checks the pair
        self.step_cache: dict[str, np.ndarray] = {}  # velocities (momentum) or caches
        self.numpy_random = bool(numpy_random)
        self._rng = None if seed is None else numpy_generator(seed)

    def _step(self, name: str, grad: np.ndarray, update: str, learning_rate: float,
              momentum: float) -> np.ndarray:
        """The change of parameter `name` for one iteration (the course's update rules)."""
        if update == "sgd":
            return -learning_rate * grad
        cache = self.step_cache.get(name)
        if cache is None:
            cache = np.zeros(grad.shape)
        if update == "momentum":
            self.step_cache[name] = momentum * cache - learning_rate * grad
            return self.step_cache[name]
        decay_rate = 0.99  # fixed, as the course has it
        self.step_cache[name] = decay_rate * cache + (1 - decay_rate) * grad**2
        return -learning_rate * grad / np.sqrt(self.step_cache[name] + 1e-8)

    def _accuracies(self, rng: np.random.Generator | None, X: np.ndarray, y: np.ndarray,
                    X_val: Any, y_val: Any, model: Model,
                    loss_function: Callable[..., Any]) -> tuple[float, float]:
        n = X.shape[0]
        if n > 1000:
            mask = _random.choice(rng, n, 1000)
            X, y = X[mask], y[mask]
        train_pred = np.argmax(loss_function(X, model), axis=1)
        val_pred = np.argmax(loss_function(X_val, model), axis=1)
        return float(np.mean(train_pred == y)), float(np.mean(val_pred == np.asarray(y_val)))

    def train(self, X: Any, y: Any, X_val: Any, y_val: Any, model: Model,
              loss_function: Callable[..., Any], reg: float = 0.0,
              learning_rate: float = 1e-2, momentum: float = 0, learning_rate_decay: float = 0.95,
              update: str = "momentum", sample_batches: bool = True, num_epochs: int = 30,
              batch_size: int = 100, acc_frequency: int | None = None, verbose: bool = False
              ) -> tuple[Model, list[float], list[float], list[float]]:
        """Train `model` in place; returns (best_model, loss_history, train_acc_history,
        val_acc_history)."""
        if update not in UPDATES:
            raise ValueError(f"ClassifierTrainer.train: unrecognized update {update!r}; valid: "
                             f"{', '.join(map(repr, UPDATES))}")
        x, labels = np.asarray(X), np.asarray(y)
        n = x.shape[0]
        iterations_per_epoch = max(n // batch_size, 1) if sample_batches else 1
        rng: np.random.Generator | None = None  # numpy's global generator (numpy_random)
        if not self.numpy_random:
            rng = self._rng if self._rng is not None else numpy_generator(None)
        epoch, best_val_acc = 0, 0.0
        best_model: Model = {}
        loss_history: list[float] = []
        train_acc_history: list[float] = []
        val_acc_history: list[float] = []
        for it in range(num_epochs * iterations_per_epoch):
            if verbose and it % 10 == 0:
                print("starting iteration ", it)
            idx = sample_batch(rng, n, batch_size) if sample_batches else slice(None)
            cost, grads = loss_function(x[idx], model, labels[idx], reg)
            loss_history.append(float(cost))
            for name in model:
                model[name] += self._step(name, grads[name], update, learning_rate, momentum)
            epoch_end = (it + 1) % iterations_per_epoch == 0
            if it == 0 or epoch_end or (acc_frequency is not None and it % acc_frequency == 0):
                if it > 0 and epoch_end:
                    learning_rate *= learning_rate_decay
                    epoch += 1
                train_acc, val_acc = self._accuracies(rng, x, labels, X_val, y_val, model,
                                                      loss_function)
                train_acc_history.append(train_acc)
                val_acc_history.append(val_acc)
                if val_acc > best_val_acc:
                    best_val_acc = val_acc
                    best_model = {k: v.copy() for k, v in model.items()}
                if verbose:
                    print(f"Finished epoch {epoch} / {num_epochs}: cost {cost:f}, train: "
                          f"{train_acc:f}, val {val_acc:f}, lr {learning_rate:e}")
        if verbose:
            print(f"finished optimization. best validation accuracy: {best_val_acc:f}")
        return best_model, loss_history, train_acc_history, val_acc_history
