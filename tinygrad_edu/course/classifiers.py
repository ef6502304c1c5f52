"""The courses' linear classifiers (cs231n assignment 1), computed by the engine.

`svm_loss_vectorized(W, X, y, reg)` and `softmax_loss_vectorized(W, X, y, reg)` return
`(loss, dW)` for scores X W with W (D, C), X (N, D), labels y (N,): the data loss averaged
over N plus `reg * sum(W * W)` (assignment 1's penalty, gradient 2 reg W; the later
models use 0.5 reg). The `*_naive` names are the same functions, so a student's loops can
be checked against either. `LinearClassifier` is the same model with a `params` dict, for
the Solver; its weight columns are the class templates `viz.plot_class_templates` draws.
(The courses' own `LinearClassifier` / `LinearSVM` / `Softmax`, which train themselves, are
in `course.linear_classifier`; CS7643's (C, D) layout in `course.cs7643`.)

The two layouts (`layout=` of `linear_loss`):
    'cs231n'  W (D, C), X (N, D), scores X W,  penalty reg * sum(W^2)       (cs231n 2017+)
    'cs7643'  W (C, D), X (D, N), scores W X,  penalty 0.5 * reg * sum(W^2) (CS7643, and
              cs231n 2015, whose data columns are the examples)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.course._graph import as_array, backprop, record
from tinygrad_edu.course.layers import labels_for
from tinygrad_edu.creation import from_numpy, numpy_generator
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import losses
from tinygrad_edu.tensor import Tensor

__all__ = ["svm_loss_vectorized", "svm_loss_naive", "softmax_loss_vectorized",
           "softmax_loss_naive", "LinearClassifier", "linear_loss", "LAYOUTS"]

#: layout -> (shapes of X and W as the error messages write them, factor of reg * sum(W^2))
LAYOUTS = {"cs231n": ("X must be (N, D) and W (D, C)", 1.0),
           "cs7643": ("X must be (D, N) and W (C, D)", 0.5)}


def check_layout(op: str, layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"{op}: layout must be one of {', '.join(map(repr, LAYOUTS))}, got "
                         f"{layout!r}")
    return layout


def linear_loss(op: str, kind: str, W: Any, X: Any, y: Any, reg: float,
                layout: str = "cs231n") -> tuple[float, np.ndarray]:
    """(loss, dW) of the linear classifier `kind` ('svm' or 'softmax') in `layout`."""
    check_layout(op, layout)
    data_loss = losses.svm_loss if kind == "svm" else losses.cross_entropy
    w, x = as_array(W, op, "W"), as_array(X, op, "X")
    flipped = layout == "cs7643"   # the examples are columns of X, the classes rows of W
    if x.ndim != 2 or w.ndim != 2 or (w.shape[1] != x.shape[0] if flipped
                                      else x.shape[1] != w.shape[0]):
        raise ShapeError(f"{op}: {LAYOUTS[layout][0]}; got X {x.shape} and W {w.shape}")
    n, c = (x.shape[1], w.shape[0]) if flipped else (x.shape[0], w.shape[1])
    labels = labels_for(op, (n, c), y)
    dt = np.result_type(w.dtype, x.dtype, np.float32)
    xt = from_numpy(x.astype(dt, copy=False))
    factor = LAYOUTS[layout][1] * reg

    def fn(W: Tensor) -> Tensor:
        loss = data_loss((W @ xt).T if flipped else xt @ W, labels)
        return loss + factor * (W * W).sum() if reg else loss

    value, cache = record(op, fn, {"W": w}, dtype=dt)
    (dW,) = backprop(op, op, np.ones((), dtype=value.dtype), cache)
    return float(value), dW


def svm_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM (margin 1, summed over classes, averaged over N) of scores X W, plus
    reg * sum(W^2); returns (loss, dW)."""
    return linear_loss("svm_loss_vectorized", "svm", W, X, y, reg)


def softmax_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy of scores X W averaged over N, plus reg * sum(W^2); returns
    (loss, dW)."""
    return linear_loss("softmax_loss_vectorized", "softmax", W, X, y, reg)


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
        rng = numpy_generator(seed)
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
