"""The courses' self-training linear classifiers (cs231n's and CS7643's
`classifiers/linear_classifier.py`): `LinearSVM()` and `Softmax()`, subclasses of
`LinearClassifier`, with

    loss_history = clf.train(X, y, learning_rate=1e-3, reg=1e-5, num_iters=100,
                             batch_size=200, verbose=False)
    y_pred = clf.predict(X)
    loss, dW = clf.loss(X_batch, y_batch, reg)

`W` is None until the first `train`, which draws it as 0.001 * randn with
num_classes = max(y) + 1, then runs minibatch SGD (`W -= learning_rate * dW`), each batch
`batch_size` examples drawn with replacement (the courses' `np.random.choice(N,
batch_size)`), printing `iteration i / num_iters: loss L` every 100 iterations when
verbose. The loss and dW are computed by the engine (`course.classifiers.linear_loss`).

Each course's layout (`layout=`, or the class attribute):
    'cs231n'  (default) W (D, C), X (N, D): rows are examples; penalty reg * sum(W^2).
    'cs7643'  W (C, D), X (D, N): columns are examples, as CS7643's assignment 1 (taken from
              cs231n 2015) has them; penalty 0.5 * reg * sum(W^2). `course.cs7643` has these
              classes with this layout preset.
The draws (initial W, batches) come from `seed` (an int or Generator) when given, else from
tinygrad_edu's default generator, which `manual_seed` resets; numpy's global state is left
alone. `numpy_random=True` (off by default; a deliberate departure from STYLE's "no global
np.random") makes them the course's own calls on numpy's global generator instead: the lazy
`0.001 * np.random.randn(dim, num_classes)` ((num_classes, dim) in the cs7643 layout) and
`np.random.choice(num_train, batch_size)` at every iteration, so after the notebook's
`np.random.seed(...)` the loss history is the course's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.course import _random
from tinygrad_edu.course._graph import as_array
from tinygrad_edu.course.classifiers import check_layout, linear_loss
from tinygrad_edu.creation import numpy_generator
from tinygrad_edu.errors import ShapeError

__all__ = ["LinearClassifier", "LinearSVM", "Softmax", "sample_batch"]


def sample_batch(rng: np.random.Generator | None, num_train: int, batch_size: int
                 ) -> np.ndarray:
    """`batch_size` indices into `num_train` examples, drawn with replacement (the courses'
    `np.random.choice(num_train, batch_size)`: faster, and fine when batch_size > N); rng
    None draws exactly that call from numpy's global generator (`numpy_random`)."""
    if num_train < 1:
        raise ValueError(f"train: there are no training examples (N = {num_train})")
    return _random.choice(rng, num_train, batch_size)


class LinearClassifier:
    """The courses' base class: `train`, `predict`; subclasses define `loss`. See the module
    docstring for the layouts."""

    layout = "cs231n"
    kind = ""  # 'svm' or 'softmax' in the subclasses

    def __init__(self, *, layout: str | None = None, seed: Any = None,
                 numpy_random: bool = False) -> None:
        if not self.kind and type(self).loss is LinearClassifier.loss:
            raise TypeError(f"{type(self).__name__}: the base class has no loss; use LinearSVM "
                            "or Softmax, or subclass it and define loss(X_batch, y_batch, reg)")
        self.layout = check_layout(type(self).__name__, layout or type(self).layout)
        _random.course_generator(seed, numpy_random, type(self).__name__)  # checks the pair
        self.W: np.ndarray | None = None
        self.numpy_random = bool(numpy_random)
        self._rng = None if seed is None else numpy_generator(seed)

    def _generator(self) -> np.random.Generator | None:
        """The classifier's generator; None (numpy's global one) with numpy_random."""
        if self.numpy_random:
            return None
        return self._rng if self._rng is not None else numpy_generator(None)

    def _examples(self, X: Any, op: str) -> np.ndarray:
        x = as_array(X, op, "X")
        if x.ndim != 2:
            want = "(D, N)" if self.layout == "cs7643" else "(N, D)"
            raise ShapeError(f"{op}: X must be {want} in the {self.layout} layout, got shape "
                             f"{x.shape}")
        return x

    def train(self, X: Any, y: Any, learning_rate: float = 1e-3, reg: float = 1e-5,
              num_iters: int = 100, batch_size: int = 200, verbose: bool = False
              ) -> list[float]:
        """Minibatch SGD on `loss`; returns the loss of every iteration."""
        op = f"{type(self).__name__}.train"
        x = self._examples(X, op)
        labels = np.asarray(y)
        flipped = self.layout == "cs7643"
        dim, num_train = x.shape if flipped else x.shape[::-1]
        rng = self._generator()
        if self.W is None:
            num_classes = int(labels.max()) + 1  # y holds 0 ... K-1
            shape = (num_classes, dim) if flipped else (dim, num_classes)
            self.W = 0.001 * _random.randn(rng, shape)  # drawn lazily, as the course
        loss_history: list[float] = []
        for it in range(num_iters):
            idx = sample_batch(rng, num_train, batch_size)
            X_batch = x[:, idx] if flipped else x[idx]
            loss, grad = self.loss(X_batch, labels[idx], reg)
            loss_history.append(float(loss))
            self.W -= learning_rate * grad
            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")
        return loss_history

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest score for every example of X."""
        op = f"{type(self).__name__}.predict"
        if self.W is None:
            raise RuntimeError(f"{op}: the classifier has no weights yet; call train first "
                               f"(or set W)")
        x = self._examples(X, op)
        if self.layout == "cs7643":
            return np.argmax(self.W @ x, axis=0)
        return np.argmax(x @ self.W, axis=1)

    def loss(self, X_batch: Any, y_batch: Any, reg: float) -> tuple[float, np.ndarray]:
        """(loss, dW) on a minibatch; `LinearSVM` and `Softmax` define it."""
        if self.W is None:
            raise RuntimeError(f"{type(self).__name__}.loss: the classifier has no weights "
                               f"yet; call train first (or set W)")
        return linear_loss(f"{type(self).__name__}.loss", self.kind, self.W, X_batch, y_batch,
                           reg, self.layout)


class LinearSVM(LinearClassifier):
    """A linear classifier with the multiclass SVM loss (margin 1, summed over classes)."""

    kind = "svm"


class Softmax(LinearClassifier):
    """A linear classifier with the softmax cross-entropy loss."""

    kind = "softmax"
