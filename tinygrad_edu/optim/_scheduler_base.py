"""`LRScheduler`, the base of every learning-rate schedule (as
`torch.optim.lr_scheduler.LRScheduler`), and the helpers the schedules share. The schedules
themselves are in `lr_scheduler` and `lr_scheduler_more`, both re-exported by
`tinygrad_edu.optim.lr_scheduler`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from tinygrad_edu.optim.optimizer import Optimizer


class LRScheduler(ABC):
    """Base class: subclasses give `get_lr()` (chainable) and optionally
    `_get_closed_form_lr()` (lr as a function of `last_epoch` and `base_lrs`).

    As in PyTorch, construction takes the initial step (`_initial_step`): `last_epoch`
    becomes 0 and `get_lr()` runs with `self._is_initial` True, which the chainable forms
    read as "leave the lrs as they are". `SequentialLR` re-runs a schedule's initial step
    and jumps one to epoch 0 with `_update_lr(0)`, as PyTorch's does.
    """

    _unsaved: tuple[str, ...] = ("optimizer",)
    # ReduceLROnPlateau steps with a metric, so SequentialLR and ChainedScheduler refuse it
    _steps_with_metrics = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr', which "
                                   f"resuming at last_epoch={last_epoch} needs; construct the "
                                   "scheduler with last_epoch=-1 first")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take step 0 (with `_is_initial` set while it runs)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    @abstractmethod
    def get_lr(self) -> list[float]:
        """The groups' lrs for `self.last_epoch` (computed from their current lrs)."""

    def get_last_lr(self) -> list[float]:
        """The lr of each parameter group after the last `step()`."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to `epoch`) and write the new lrs into the groups."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = int(epoch)
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer (and functions): Python scalars and lists of
        them, so it flattens to an `.npz` without pickling."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k not in self._unsaved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()`, also one read back from an `.npz` (numpy values)."""
        for key, value in state_dict.items():
            if key in self._unsaved:
                continue
            self.__dict__[key] = _python_value(value, self.__dict__.get(key))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


def _python_value(value: Any, like: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(like, list) and not isinstance(value, list):
        value = [value]
    if isinstance(like, bool) and isinstance(value, int):
        return bool(value)
    if isinstance(like, int) and not isinstance(like, bool) and isinstance(value, float):
        return int(value)
    return value


def _per_group(name: str, what: str, value: Any, optimizer: Optimizer) -> list[Any]:
    n = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(f"{name}: expected {n} {what} (one per parameter group), "
                             f"got {len(value)}")
        return list(value)
    return [value] * n
