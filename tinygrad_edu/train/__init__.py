"""The Solver: the deep-learning courses' training loop, for two kinds of model.

- an `nn.Module` (gradients by `backward()`): scores = model(X), loss = loss_fn(scores, y)
  (or `model.loss(X, y)` when the model defines it, e.g. to add its L2 penalty);
- a course model: an object with a `params` dict of numpy arrays and
  `loss(X, y=None)` returning scores, or `(loss, grads)` when y is given.

Both get the courses' options (update_rule, optim_config, lr_decay per epoch, batch_size,
num_epochs, num_train_samples, num_val_samples, print_every, checkpoint_name, verbose),
the histories (loss, train/val accuracy, train/val loss per check), the best-validation
parameters restored at the end, optional early stopping and a tqdm progress bar.

A checkpoint (`save_checkpoint`, see `train.checkpoint`) holds the whole training state:
weights, optimizer and scheduler state, counters, histories, best weights and generator
states, so `load_checkpoint` then `train()` finishes the run with the same weights as a run
that was never stopped.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.nn.module import Module
from tinygrad_edu.optim.lr_scheduler import ReduceLROnPlateau
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.train import checkpoint
from tinygrad_edu.train.model_file import Preprocessing, TrainedModel, load_model, save_model
from tinygrad_edu.train.progress import progress_bar
from tinygrad_edu.train.rules import (
    COURSE_RULES,
    RULE_OPTIONS,
    build_optimizer,
    check_optim_config,
    decay_lr,
    rule_name,
)

__all__ = ["Solver", "DivergedError", "clone_model", "checkpoint", "Preprocessing",
           "TrainedModel", "load_model", "save_model"]


class DivergedError(FloatingPointError):
    """The loss became NaN/Inf or exploded; the Solver stops and records it."""


class Solver:
    """Train a model on `data` = dict(X_train, y_train, X_val, y_val) (numpy arrays).

    `update_rule`: 'sgd', 'sgd_momentum' (also 'momentum'), 'rmsprop', 'adam', for either
    kind of model; an optimizer object (tinygrad_edu.optim) for nn.Modules; a function
    `(w, dw, config) -> (next_w, config)` for course models. `optim_config` uses the
    courses' keys: learning_rate (also 'lr'; default 1e-3 for adam, else 1e-2), momentum
    (sgd_momentum), decay_rate, epsilon and eps_inside_sqrt (rmsprop), beta1, beta2, epsilon
    (adam), and weight_decay for nn.Modules. A key the rule does not read raises.
    `lr_decay` multiplies the learning rate after every epoch. Accuracy is checked after
    the first iteration (epoch 0, as the courses' Solver does: not before training), at
    every epoch's end and every `acc_every` iterations, on `num_train_samples` training and
    `num_val_samples` validation samples. Checkpoints are written at every epoch's end:
    `checkpoint_name` gives the courses' `{name}_epoch_{k}.npz` files, `checkpoint_path`
    one file rewritten each time (the latest state, to resume from); `checkpoint_meta` is
    stored in them as is (arrays, numbers, strings, lists and dicts).

    `numpy_random=True` draws the minibatches and the accuracy subsamples as the courses'
    Solver does, with `np.random.choice(n, k)` (with replacement) from numpy's global
    generator, so a notebook that calls `np.random.seed` reproduces its printed numbers.
    Off by default: it departs from STYLE's "no global np.random" on purpose (`seed` and
    the Solver's own generator are then not used for sampling).
    """

    def __init__(self, model: Any, data: dict[str, Any], *, loss_fn: Callable[..., Any] | None
                 = None, update_rule: Any = "sgd", optim_config: dict[str, Any] | None = None,
                 lr_decay: float = 1.0, batch_size: int = 100, num_epochs: int = 10,
                 num_train_samples: int | None = 1000, num_val_samples: int | None = None,
                 print_every: int = 10, acc_every: int | None = None,
                 checkpoint_name: str | None = None, checkpoint_path: str | Path | None = None,
                 checkpoint_meta: dict[str, Any] | None = None, verbose: bool = True,
                 progress: bool | None = None, early_stopping: int | None = None,
                 scheduler: Any = None, seed: int | None = 0,
                 diverge_factor: float = 1e3, numpy_random: bool = False) -> None:
        for key in ("X_train", "y_train", "X_val", "y_val"):
            if key not in data:
                raise KeyError(f"Solver: data is missing '{key}' (needs X_train, y_train, "
                               "X_val, y_val)")
        self.model = model
        self.X_train, self.y_train = np.asarray(data["X_train"]), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"]), np.asarray(data["y_val"])
        if len(self.X_train) != len(self.y_train) or len(self.X_val) != len(self.y_val):
            raise ValueError(f"Solver: X/y lengths differ: train {len(self.X_train)} vs "
                             f"{len(self.y_train)}, val {len(self.X_val)} vs {len(self.y_val)}")
        self.autograd_model = isinstance(model, Module)
        if not self.autograd_model and not isinstance(getattr(model, "params", None), dict):
            raise TypeError("Solver: model must be an nn.Module or have a `params` dict and "
                            f"a loss(X, y) method; got {type(model).__name__}")
        self.loss_fn = loss_fn
        self.update_rule = rule_name(update_rule)
        self.optim_config = check_optim_config(self.update_rule, optim_config or {},
                                                self.autograd_model)
        self.lr_decay, self.batch_size, self.num_epochs = lr_decay, batch_size, num_epochs
        self.num_train_samples, self.num_val_samples = num_train_samples, num_val_samples
        self.print_every, self.acc_every, self.verbose = print_every, acc_every, verbose
        self.checkpoint_name, self.checkpoint_path = checkpoint_name, checkpoint_path
        self.checkpoint_meta, self.progress = checkpoint_meta, progress
        self.early_stopping, self.scheduler = early_stopping, scheduler
        self.diverge_factor, self.numpy_random = diverge_factor, numpy_random
        self.rng = np.random.default_rng(seed)
        self._reset()

    # ------------------------------------------------------------------ setup
    def _reset(self) -> None:
        self.epoch = 0
        self.iteration = 0  # steps taken: train() carries on from here
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        # The weights training reached, kept when train() ends by restoring best_params:
        # the next train() and a checkpoint carry on from these, not from the best ones.
        self.last_params: dict[str, np.ndarray] | None = None
        self._since_best = 0
        self._first_loss: float | None = None
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.val_loss_history: list[float] = []
        # Mean minibatch loss since the previous accuracy check: the training curve that
        # lines up with val_loss_history (one entry per check, as the accuracies).
        self.train_loss_history: list[float] = []
        self._loss_mark = 0
        self.diverged, self.stopped_early, self.train_time = False, False, 0.0
        if self.autograd_model:
            params = list(self.model.parameters())
            self.optimizer = build_optimizer(self.update_rule, params, self.optim_config)
        else:
            if self.update_rule not in COURSE_RULES and not callable(self.update_rule):
                raise ValueError(f"Solver: update_rule {self.update_rule!r} for a course model "
                                 f"must be one of {COURSE_RULES} (or 'momentum') or a function "
                                 "(w, dw, config) -> (w, config)")
            config = dict(self.optim_config)
            if not callable(self.update_rule):
                # The rule's default, written down now so that lr_decay scales the right one.
                config.setdefault("learning_rate", RULE_OPTIONS[self.update_rule][1])
            self.optim_configs = {name: dict(config) for name in self.model.params}

    def _params_snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the parameters (and a Module's buffers), made explicitly: the
        optimizers update the live arrays in place, so a snapshot sharing memory with them
        (state_dict values do, as in PyTorch) would follow the training instead of keeping
        the best epoch's weights."""
        if self.autograd_model:
            return {k: v.numpy().copy() for k, v in self.model.state_dict().items()}
        return {k: np.array(v, copy=True) for k, v in self.model.params.items()}

    def _restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Copy `snapshot` into the model; the snapshot itself stays untouched (and unshared)."""
        if self.autograd_model:
            self.model.load_state_dict(snapshot)  # copies into the parameters, as PyTorch
        else:
            for k, v in snapshot.items():
                self.model.params[k] = np.array(v, copy=True)

    # ------------------------------------------------------------------ one step
    def _step(self) -> float:
        idx = self._sample(self.X_train.shape[0], self.batch_size)
        X, y = self.X_train[idx], self.y_train[idx]
        if self.autograd_model:
            return self._autograd_step(X, y)
        return self._course_step(X, y)

    def _autograd_step(self, X: np.ndarray, y: np.ndarray) -> float:
        self.model.train()
        loss = self._loss_tensor(Tensor(X), Tensor(y))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    def _loss_tensor(self, X: Tensor, y: Tensor) -> Tensor:
        if self.loss_fn is None and hasattr(self.model, "loss"):
            return self.model.loss(X, y)
        from tinygrad_edu.nn.losses import cross_entropy

        fn = self.loss_fn or cross_entropy
        return fn(self.model(X), y)

    def _course_step(self, X: np.ndarray, y: np.ndarray) -> float:
        from tinygrad_edu.optim import course

        loss, grads = self.model.loss(X, y)
        rule = (self.update_rule if callable(self.update_rule)
                else course.get_update_rule(self.update_rule))
        for name, w in self.model.params.items():
            next_w, self.optim_configs[name] = rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
        return float(loss)

    # ------------------------------------------------------------------ evaluation
    def predict(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """Class predictions (argmax of the scores), in eval mode and without a graph."""
        return np.argmax(self.scores(X, batch_size), axis=1)

    def scores(self, X: Any, batch_size: int = 256) -> np.ndarray:
        X = np.asarray(X.array if isinstance(X, Tensor) else X)
        out = []
        if self.autograd_model:
            was_training = self.model.training
            self.model.eval()
            with no_grad():
                for i in range(0, X.shape[0], batch_size):
                    out.append(self.model(Tensor(X[i:i + batch_size])).array)
            self.model.train(was_training)
        else:
            for i in range(0, X.shape[0], batch_size):
                out.append(np.asarray(self.model.loss(X[i:i + batch_size])))
        return np.concatenate(out, axis=0) if out else np.zeros((0,))

    def _sample(self, n: int, k: int) -> np.ndarray:
        """k of n indices: without replacement from the Solver's generator, or as the
        courses' Solver draws them (`numpy_random`)."""
        if self.numpy_random:
            return np.random.choice(n, k)  # noqa: NPY002  (the courses' global generator)
        return self.rng.choice(n, min(k, n), replace=False)

    def check_accuracy(self, X: Any, y: Any, num_samples: int | None = None,
                       batch_size: int = 256) -> float:
        """Accuracy on (a random subsample of `num_samples` of) X, y."""
        X, y = np.asarray(X), np.asarray(y)
        if num_samples is not None and X.shape[0] > num_samples:
            mask = self._sample(X.shape[0], num_samples)
            X, y = X[mask], y[mask]
        if X.shape[0] == 0:
            return float("nan")
        return float(np.mean(self.predict(X, batch_size) == y))

    def evaluate(self, X: Any, y: Any, batch_size: int = 256) -> dict[str, float]:
        """Loss and accuracy on a held-out set."""
        from tinygrad_edu.nn.losses import cross_entropy

        X, y = np.asarray(X), np.asarray(y)
        s = self.scores(X, batch_size)
        acc = float(np.mean(np.argmax(s, axis=1) == y))
        if self.autograd_model and self.loss_fn is not None:
            with no_grad():
                loss = float(self.loss_fn(Tensor(s), Tensor(y)).item())
        else:
            with no_grad():
                loss = float(cross_entropy(Tensor(s), Tensor(y.astype(np.int64))).item())
        return {"loss": loss, "acc": acc}

    # ------------------------------------------------------------------ the loop
    def _set_lr_decay(self) -> None:
        if self.lr_decay != 1.0:
            decay_lr(self.lr_decay, self.update_rule,
                     self.optimizer if self.autograd_model else None,
                     None if self.autograd_model else self.optim_configs)

    def _record_accuracy(self) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        recent = self.loss_history[self._loss_mark:]
        self.train_loss_history.append(float(np.mean(recent)) if recent else float("nan"))
        self._loss_mark = len(self.loss_history)
        if self.autograd_model or hasattr(self.model, "loss"):
            self.val_loss_history.append(self.evaluate(self.X_val, self.y_val)["loss"])
        if self.verbose:
            losses = (f"; train loss {self.train_loss_history[-1]:.4f} (mean of {len(recent)} "
                      f"minibatch{'es' if len(recent) != 1 else ''} since the last check)")
            if self.val_loss_history:
                losses += f"; val loss {self.val_loss_history[-1]:.4f}"
            self._print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:.4f}; "
                        f"val_acc: {val_acc:.4f}{losses}")
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = self._params_snapshot()
            self._since_best = 0
        else:
            self._since_best += 1

    def _print(self, msg: str) -> None:
        bar = getattr(self, "_bar", None)
        if bar is not None:
            bar.write(msg)
        else:
            print(msg)

    def _make_bar(self, total: int) -> Any:
        return progress_bar(total, self.iteration, self.progress)

    def train(self) -> Solver:
        """Run the loop up to `num_epochs`, carrying on from where the previous `train()`
        or the loaded checkpoint stopped (a finished run, or one that diverged or stopped
        early, takes no more steps: raise `num_epochs` to train longer). At the end the
        best-validation parameters are restored; `last_params` keeps the weights reached."""
        per_epoch = max(self.X_train.shape[0] // self.batch_size, 1)
        total = self.num_epochs * per_epoch
        if self.last_params is not None:  # the previous train() restored the best weights
            self._restore(self.last_params)
            self.last_params = None
        self._bar = self._make_bar(total)
        start = time.perf_counter()
        try:
            for t in range(self.iteration, total):
                if self.diverged or self.stopped_early or not self._iteration(t, total,
                                                                              per_epoch):
                    break
        finally:
            if self._bar is not None:
                self._bar.close()
            self._bar = None
        self.train_time += time.perf_counter() - start
        self.last_params = self._params_snapshot()
        if self.best_params:
            self._restore(self.best_params)
        return self

    def _iteration(self, t: int, total: int, per_epoch: int) -> bool:
        """Iteration t: one step, then the epoch's end and the accuracy checks that fall
        on it. False when training stops here (divergence or early stopping)."""
        loss = self._step()
        self.iteration = t + 1
        self.loss_history.append(loss)
        if self._first_loss is None:
            self._first_loss = loss
        if not math.isfinite(loss) or (abs(loss) > self.diverge_factor
                                       * max(abs(self._first_loss), 1.0)):
            self.diverged = True
            if self.verbose:
                self._print(f"(Iteration {t + 1}) loss diverged ({loss}); stopping")
            return False
        self._show_progress(t, total, loss)
        epoch_end = (t + 1) % per_epoch == 0
        if epoch_end:
            self.epoch += 1
            self._set_lr_decay()
            if self.scheduler is not None and not isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step()
        by_iters = self.acc_every and (t + 1) % self.acc_every == 0
        if not (t == 0 or t == total - 1 or epoch_end or by_iters):
            return True
        self._record_accuracy()
        if epoch_end and isinstance(self.scheduler, ReduceLROnPlateau):  # steps on a metric
            self.scheduler.step(self.val_loss_history[-1])
        # Decided before the checkpoint is written, so that a run resumed from it stops too.
        stop = self.early_stopping is not None and self._since_best >= self.early_stopping
        if stop:
            self.stopped_early = True
            if self.verbose:
                self._print(f"early stopping after epoch {self.epoch}")
        if epoch_end and self.checkpoint_name:
            self.save_checkpoint(f"{self.checkpoint_name}_epoch_{self.epoch}.npz")
        if epoch_end and self.checkpoint_path:
            self.save_checkpoint(self.checkpoint_path)
        return not stop

    def _show_progress(self, t: int, total: int, loss: float) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if t % 10 == 0:
                self._bar.set_postfix(loss=f"{loss:.4f}")
        if self.verbose and self.print_every and t % self.print_every == 0:
            self._print(f"(Iteration {t + 1} / {total}) loss: {loss:f}")

    @property
    def history(self) -> dict[str, list[float]]:
        """Copies of the histories. `loss_history`: every iteration's minibatch loss. At
        each check (after the first iteration, at each epoch's end, every `acc_every`
        iterations): `train_acc_history` and `val_acc_history`; `train_loss_history`, the
        mean of the minibatch losses since the previous check (with checks at epoch ends
        only: epoch 0 is the first minibatch alone, epoch 1 the rest of the first epoch,
        then each epoch's minibatches); `val_loss_history`, the loss on the whole
        validation set in eval mode."""
        return {k: list(getattr(self, k)) for k in ("loss_history", "train_acc_history",
                "val_acc_history", "val_loss_history", "train_loss_history")}

    def save_checkpoint(self, path: str | Path) -> Path:
        """The whole training state to one .npz (see `train.checkpoint`; no pickles)."""
        return checkpoint.write(path, checkpoint.solver_state(self))

    def load_checkpoint(self, path: str | Path | dict[str, Any]) -> dict[str, Any]:
        """Restore a checkpoint written by `save_checkpoint` (or its contents read with
        `train.checkpoint.read`) into this Solver, which must be set up as the one that
        wrote it (same batch size, training-set size, update rule, scheduler class); then
        `train()` finishes that run. The default generator is set to its saved state too
        (dropout masks draw from it). Returns the checkpoint's `meta`."""
        state = checkpoint.read(path) if not isinstance(path, dict) else path
        checkpoint.check_setup(self, state, f"{type(self).__name__}.load_checkpoint")
        checkpoint.restore(self, state)
        return state["meta"]


def clone_model(model: Any) -> Any:
    return copy.deepcopy(model)
