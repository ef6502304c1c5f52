"""The courses' linear classifiers (cs231n assignment 1), computed by the engine.

`svm_loss_vectorized(W, X, y, reg)` and `softmax_loss_vectorized(W, X, y, reg)` return
`(loss, dW)` for scores X W with W (D, C), X (N, D), labels y (N,): the data loss averaged
over N plus `reg * sum(W * W)` (assignment 1's penalty, gradient 2 reg W; the later
models use 0.5 reg). The `*_naive` names are the same functions, so a student's loops can
be checked against either. `LinearClassifier` is the same model with a `params` dict, for
the Solver; its weight columns are the class templates `viz.plot_class_templates` draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.course._graph import as_array, backprop, record
from tinygrad_edu.course.layers import labels_for
from tinygrad_edu.creation import from_numpy
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import losses
from tinygrad_edu.tensor import Tensor

__all__ = ["svm_loss_vectorized", "svm_loss_naive", "softmax_loss_vectorized",
           "softmax_loss_naive", "LinearClassifier"]


def _linear_loss(op: str, data_loss: Any, W: Any, X: Any, y: Any, reg: float
                 ) -> tuple[float, np.ndarray]:
    w, x = as_array(W, op, "W"), as_array(X, op, "X")
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ShapeError(f"{op}: X must be (N, D) and W (D, C); got X {x.shape} and W "
                         f"{w.shape}")
    labels = labels_for(op, (x.shape[0], w.shape[1]), y)
    dt = np.result_type(w.dtype, x.dtype, np.float32)
    xt = from_numpy(x.astype(dt, copy=False))

    def fn(W: Tensor) -> Tensor:
        loss = data_loss(xt @ W, labels)
        return loss + reg * (W * W).sum() if reg else loss

    value, cache = record(op, fn, {"W": w}, dtype=dt)
    (dW,) = backprop(op, op, np.ones((), dtype=value.dtype), cache)
    return float(value), dW


def svm_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM (margin 1, summed over classes, averaged over N) of scores X W, plus
    reg * sum(W^2); returns (loss, dW)."""
    return _linear_loss("svm_loss_vectorized", losses.svm_loss, W, X, y, reg)


def softmax_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy of scores X W averaged over N, plus reg * sum(W^2); returns
    (loss, dW)."""
    return _linear_loss("softmax_loss_vectorized", losses.cross_entropy, W, X, y, reg)


svm_loss_naive = svm_loss_vectorized
softmax_loss_naive = softmax_loss_vectorized


class LinearClassifier:
    """scores = X W + b with W (D, C), b (C,) (X (N, d1, ..., dk) is flattened), trained
    with the SVM (`loss='svm'`) or softmax (`loss='softmax'`) loss plus reg * sum(W^2).
    A course model: `params` dict, `loss(X)` -> scores, `loss(X, y)` -> (loss, grads)."""

    def __init__(self, input_dim: int, num_classes: int = 10, loss: str = "softmax",
                 reg: float = 0.0, weight_scale: float = 1e-3, seed: int | None = 0) -> None:
        if loss not in ("svm", "softmax"):
            raise ValueError(f"LinearClassifier: loss must be 'svm' or 'softmax', got {loss!r}")
        rng = np.random.default_rng(seed)
        self.kind, self.reg = loss, reg
        self.params = {"W": weight_scale * rng.standard_normal((input_dim, num_classes)),
                       "b": np.zeros(num_classes)}

    def loss(self, X: Any, y: Any = None) -> Any:
        x = np.asarray(X)
        x = x.reshape(x.shape[0], -1)
        W, b = self.params["W"], self.params["b"]
        if x.shape[1] != W.shape[0]:
            raise ShapeError(f"LinearClassifier: X has {x.shape[1]} features per example, "
                             f"W expects {W.shape[0]} (X {np.shape(X)}, W {W.shape})")
        if y is None:
            return x @ W + b
        data_loss = losses.svm_loss if self.kind == "svm" else losses.cross_entropy
        labels = labels_for("LinearClassifier", (x.shape[0], W.shape[1]), y)
        xt = from_numpy(x.astype(np.result_type(x.dtype, W.dtype, np.float32), copy=False))
        reg = self.reg

        def fn(W: Tensor, b: Tensor) -> Tensor:
            loss = data_loss(xt @ W + b, labels)
            return loss + reg * (W * W).sum() if reg else loss

        op = "LinearClassifier.loss"
        value, cache = record(op, fn, {"W": W, "b": b})
        dW, db = backprop(op, op, np.ones((), dtype=value.dtype), cache)
        return float(value), {"W": dW, "b": db}
