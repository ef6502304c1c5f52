"""CS7643's (Georgia Tech) assignment-1 names, with its conventions preset, so its notebooks
need only their imports changed:

    from tinygrad_edu.course.cs7643 import Softmax, ClassifierTrainer, two_layer_net

- `LinearClassifier`, `LinearSVM`, `Softmax`: W (C, D) and X (D, N), the examples being the
  columns of X, as CS7643 (from cs231n 2015) has them; penalty 0.5 * reg * sum(W^2).
  (cs231n's own classes, W (D, C), are in `course.linear_classifier`.)
- `softmax_loss_vectorized(W, X, y, reg)` / `svm_loss_vectorized` in the same layout, and the
  `*_naive` names for them, so a student's loops can be checked against either.
- `ClassifierTrainer` (`course.classifier_trainer`).
- `init_two_layer_model(input_size, hidden_size, output_size)` and
  `two_layer_net(X, model, y=None, reg=0.0)`: the trainer's two-layer network as functions of
  a model dict, W1 (D, H), W2 (H, C), X (N, D), penalty 0.5 * reg * (sum W1^2 + sum W2^2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.course import linear_classifier as _lc
from tinygrad_edu.course._random import course_generator, randn
from tinygrad_edu.course.classifier_trainer import ClassifierTrainer
from tinygrad_edu.course.classifiers import linear_loss
from tinygrad_edu.course.neural_net import two_layer_loss

__all__ = ["LinearClassifier", "LinearSVM", "Softmax", "softmax_loss_vectorized",
           "softmax_loss_naive", "svm_loss_vectorized", "svm_loss_naive", "ClassifierTrainer",
           "init_two_layer_model", "two_layer_net"]


class LinearClassifier(_lc.LinearClassifier):
    """`course.linear_classifier.LinearClassifier` with W (C, D), X (D, N)."""

    layout = "cs7643"


class LinearSVM(_lc.LinearSVM):
    """`course.linear_classifier.LinearSVM` with W (C, D), X (D, N)."""

    layout = "cs7643"


class Softmax(_lc.Softmax):
    """`course.linear_classifier.Softmax` with W (C, D), X (D, N)."""

    layout = "cs7643"


def softmax_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy of the scores W X (C, N), averaged over the N columns, plus
    0.5 * reg * sum(W^2); returns (loss, dW) with dW (C, D)."""
    return linear_loss("softmax_loss_vectorized", "softmax", W, X, y, reg, "cs7643")


def svm_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM (margin 1, summed over classes, averaged over N) of the scores W X,
    plus 0.5 * reg * sum(W^2); returns (loss, dW)."""
    return linear_loss("svm_loss_vectorized", "svm", W, X, y, reg, "cs7643")


softmax_loss_naive = softmax_loss_vectorized
svm_loss_naive = svm_loss_vectorized


def init_two_layer_model(input_size: int, hidden_size: int, output_size: int, *,
                         seed: Any = None, numpy_random: bool = False
                         ) -> dict[str, np.ndarray]:
    """{'W1': 1e-5 randn (D, H), 'b1': 0 (H,), 'W2': 1e-5 randn (H, C), 'b2': 0 (C,)}, the
    course's scale; draws from `seed`, else tinygrad_edu's default generator.
    `numpy_random=True` (off by default; a deliberate departure from STYLE's "no global
    np.random"): the course's `0.00001 * np.random.randn(...)` for W1 then W2, from numpy's
    global generator, so the notebook's `np.random.seed` gives the course's model."""
    rng = course_generator(seed, numpy_random, "init_two_layer_model")
    model = {}
    model["W1"] = 1e-5 * randn(rng, (input_size, hidden_size))  # W1 first, as the course
    model["b1"] = np.zeros(hidden_size)
    model["W2"] = 1e-5 * randn(rng, (hidden_size, output_size))
    model["b2"] = np.zeros(output_size)
    return model


def two_layer_net(X: Any, model: dict[str, np.ndarray], y: Any = None, reg: float = 0.0
                  ) -> Any:
    """input - affine - ReLU - affine - softmax: the scores (N, C) when y is None, else
    (loss, grads) with grads keyed like model."""
    return two_layer_loss("two_layer_net", model, X, y, reg, out_in=False, penalty=0.5)
