"""The assignment-1 two-layer network that trains itself: cs231n's and ECE C147's
`neural_net.py` `TwoLayerNet`, computed by the engine.

    net = TwoLayerNet(input_size, hidden_size, output_size, std=1e-4)
    scores = net.loss(X)                              # (N, C)
    loss, grads = net.loss(X, y, reg=0.05)            # grads keyed like net.params
    stats = net.train(X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
                      reg=5e-6, num_iters=100, batch_size=200, verbose=False)
    y_pred = net.predict(X)

input - affine - ReLU - affine - softmax on X (N, D); `params` W1, b1, W2, b2 (weights
std * randn, biases 0). Each course's layout (`layout=`, or the class attribute):
    'cs231n'    W1 (D, H), W2 (H, C); penalty reg * (sum W1^2 + sum W2^2) (2017+; the 2016
                version wrote 0.5 * reg with twice the reg, the same number); train's
                default reg 5e-6.
    'ece_c147'  W1 (H, D), W2 (C, H) (PyTorch's (out, in)); penalty 0.5 * reg * (...);
                train's default reg 1e-5. `course.ece_c147.TwoLayerNet` has it preset.
`train` runs minibatch SGD: each iteration draws `batch_size` examples with replacement,
steps every parameter by -learning_rate * grad, and, when `it % iterations_per_epoch == 0`
with iterations_per_epoch = max(N / batch_size, 1) as the courses compute it, records the
accuracy on that batch and on (X_val, y_val) and multiplies the learning rate by
learning_rate_decay. It returns {'loss_history', 'train_acc_history', 'val_acc_history'}.
Draws come from `seed` when given, else tinygrad_edu's default generator (`manual_seed`).
`numpy_random=True` (off by default; a deliberate departure from STYLE's "no global
np.random") draws as the course does, from numpy's global generator: `__init__`'s
`std * np.random.randn(...)` for W1 then W2 in the layout's shapes, and `train`'s
`np.random.choice(num_train, batch_size)` at every iteration, so after a notebook's
`np.random.seed(0)` the weights and the loss history are the course's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import functional as TF
from tinygrad_edu.course._graph import as_array, backprop, record
from tinygrad_edu.course._random import course_generator, randn
from tinygrad_edu.course.layers import labels_for
from tinygrad_edu.course.linear_classifier import sample_batch
from tinygrad_edu.creation import from_numpy, numpy_generator
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import losses
from tinygrad_edu.tensor import Tensor

__all__ = ["TwoLayerNet", "two_layer_loss", "NET_LAYOUTS"]

#: layout -> (factor of the L2 penalty, train's default reg)
NET_LAYOUTS = {"cs231n": (1.0, 5e-6), "ece_c147": (0.5, 1e-5)}


def _scores(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, out_in: bool
            ) -> Tensor:
    if not out_in:  # the fused linear takes PyTorch's (out, in): W.T is a free view
        W1, W2 = W1.T, W2.T
    return TF.linear(TF.linear(x, W1, b1).relu(), W2, b2)


def two_layer_loss(op: str, params: dict[str, np.ndarray], X: Any, y: Any, reg: float,
                   out_in: bool, penalty: float) -> Any:
    """affine - relu - affine - softmax on X (N, D) with params W1, b1, W2, b2 (W1 (H, D)
    when out_in, else (D, H)): the scores when y is None, else (loss, grads) with
    penalty * reg * (sum W1^2 + sum W2^2) added."""
    x = as_array(X, op, "X")
    w1 = params["W1"]
    d = w1.shape[1] if out_in else w1.shape[0]
    if x.ndim != 2 or x.shape[1] != d:
        raise ShapeError(f"{op}: X must be (N, {d}) for W1 of shape {w1.shape}, got shape "
                         f"{x.shape}")
    p = {k: params[k] for k in ("W1", "b1", "W2", "b2")}
    xt = from_numpy(x.astype(np.result_type(x, w1, np.float32), copy=False))
    if y is None:
        return record(op, lambda **t: _scores(xt, **t, out_in=out_in), p)[0]
    labels = labels_for(op, (x.shape[0], p["b2"].shape[0]), y)
    factor = penalty * reg

    def fn(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) -> Tensor:
        loss = losses.cross_entropy(_scores(xt, W1, b1, W2, b2, out_in), labels)
        return loss + factor * ((W1 * W1).sum() + (W2 * W2).sum()) if reg else loss

    value, cache = record(op, fn, p)
    grads = backprop(op, op, np.ones((), dtype=value.dtype), cache)
    return float(value), dict(zip(p, grads))


class TwoLayerNet:
    """See the module docstring."""

    layout = "cs231n"

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 std: float = 1e-4, *, layout: str | None = None, seed: Any = None,
                 numpy_random: bool = False) -> None:
        self.layout = layout or type(self).layout
        if self.layout not in NET_LAYOUTS:
            raise ValueError(f"TwoLayerNet: layout must be one of "
                             f"{', '.join(map(repr, NET_LAYOUTS))}, got {self.layout!r}")
        course_generator(seed, numpy_random, "TwoLayerNet")  # checks the pair
        self.numpy_random = bool(numpy_random)
        self._rng = None if seed is None else numpy_generator(seed)
        rng = self._generator()
        d, h, c = input_size, hidden_size, output_size
        out_in = self.layout == "ece_c147"
        self.params: dict[str, np.ndarray] = {}
        # in the course's order: W1 is drawn before W2
        self.params["W1"] = std * randn(rng, (h, d) if out_in else (d, h))
        self.params["b1"] = np.zeros(h)
        self.params["W2"] = std * randn(rng, (c, h) if out_in else (h, c))
        self.params["b2"] = np.zeros(c)

    def _generator(self) -> np.random.Generator | None:
        """This net's generator; None (numpy's global one) with numpy_random."""
        if self.numpy_random:
            return None
        return self._rng if self._rng is not None else numpy_generator(None)

    def loss(self, X: Any, y: Any = None, reg: float = 0.0) -> Any:
        """The scores (N, C) when y is None, else (loss, grads)."""
        return two_layer_loss("TwoLayerNet.loss", self.params, X, y, reg,
                              self.layout == "ece_c147", NET_LAYOUTS[self.layout][0])

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest score for every row of X."""
        return np.argmax(self.loss(X), axis=1)

    def train(self, X: Any, y: Any, X_val: Any, y_val: Any, learning_rate: float = 1e-3,
              learning_rate_decay: float = 0.95, reg: float | None = None,
              num_iters: int = 100, batch_size: int = 200, verbose: bool = False
              ) -> dict[str, list[float]]:
        """Minibatch SGD; returns the loss, train and validation accuracy histories."""
        x = as_array(X, "TwoLayerNet.train", "X")
        labels, val_labels = np.asarray(y), np.asarray(y_val)
        reg = NET_LAYOUTS[self.layout][1] if reg is None else reg
        num_train = x.shape[0]
        iterations_per_epoch = max(num_train / batch_size, 1)  # a float, as the courses'
        rng = self._generator()
        stats: dict[str, list[float]] = {"loss_history": [], "train_acc_history": [],
                                         "val_acc_history": []}
        for it in range(num_iters):
            idx = sample_batch(rng, num_train, batch_size)
            X_batch, y_batch = x[idx], labels[idx]
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            stats["loss_history"].append(loss)
            for name, grad in grads.items():
                self.params[name] -= learning_rate * grad
            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")
            if it % iterations_per_epoch == 0:
                stats["train_acc_history"].append(float((self.predict(X_batch) == y_batch)
                                                        .mean()))
                stats["val_acc_history"].append(float((self.predict(X_val) == val_labels)
                                                      .mean()))
                learning_rate *= learning_rate_decay
        return stats
