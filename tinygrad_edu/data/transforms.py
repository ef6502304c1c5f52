"""Preprocessing fitted on the training set and applied unchanged to validation and test
(fitting on all the data would leak test statistics into training).

- `MeanImage`: subtract the mean training image (the courses' CIFAR-10 step).
- `ChannelNormalizer`: per-channel (x - mean_c) / std_c, the statistics fitted or given
  (as torchvision's `Normalize((0.1307,), (0.3081,))`).
- `Standardizer`: per-feature (x - mean_j) / std_j for tabular data (Iris); a constant
  feature gets std 1, so it becomes 0 instead of NaN.
- `one_hot`: integer labels -> one-hot rows.

Statistics are computed in float64 and the result keeps the input's float dtype (integer
input, e.g. uint8 pixels, becomes float32).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from tinygrad_edu.creation import from_numpy
from tinygrad_edu.tensor import Tensor


def _float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x.array if isinstance(x, Tensor) else x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


class _Fitted(ABC):
    """fit(X_train) once, then transform any array of the same sample shape."""

    name = "transform"

    @abstractmethod
    def fit(self, X: np.ndarray) -> _Fitted:
        """Learn the statistics from the training split; returns self."""

    @abstractmethod
    def _apply(self, X: np.ndarray) -> np.ndarray:
        """Transform X with the fitted statistics (shape already checked)."""

    def _check(self, X: np.ndarray, expected: tuple[int, ...] | None) -> np.ndarray:
        if expected is None:
            raise RuntimeError(f"{self.name}: call fit(X_train) before transform")
        X = _float(X)
        if X.shape[1:] != expected:
            raise ValueError(f"{self.name}: fitted on samples of shape {expected}, got an array "
                             f"of shape {X.shape} (samples of shape {X.shape[1:]})")
        return X

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self._apply(X)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.transform(X)


class MeanImage(_Fitted):
    """X - mean_image, where mean_image = X_train.mean(axis=0) (one value per pixel and
    channel)."""

    name = "MeanImage"

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> MeanImage:
        X = _float(X)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"{self.name}: fit needs a non-empty batch (N, ...), got shape "
                             f"{X.shape}")
        self.mean = X.mean(axis=0, dtype=np.float64).astype(X.dtype)
        return self

    def _apply(self, X: np.ndarray) -> np.ndarray:
        X = self._check(X, None if self.mean is None else self.mean.shape)
        return X - self.mean.astype(X.dtype)  # type: ignore[union-attr]


class Standardizer(_Fitted):
    """(X - mean) / std per feature (column), fitted on X_train; std uses ddof=0 and
    constant features get std 1."""

    name = "Standardizer"

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        X = _float(X)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"{self.name}: fit needs a non-empty batch (N, features), got "
                             f"shape {X.shape}")
        mean = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
        self.mean, self.std = mean, np.where(std > 0, std, 1.0)
        return self

    def _apply(self, X: np.ndarray) -> np.ndarray:
        X = self._check(X, None if self.mean is None else self.mean.shape)
        assert self.mean is not None and self.std is not None
        return ((X - self.mean) / self.std).astype(X.dtype)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        X = self._check(X, None if self.mean is None else self.mean.shape)
        assert self.mean is not None and self.std is not None
        return (X * self.std + self.mean).astype(X.dtype)


class ChannelNormalizer(_Fitted):
    """(X - mean[c]) / std[c] per channel along `channel_axis` (1 for NCHW, -1 for NHWC).

    `mean`/`std` given: used as is (fit only checks the channel count); otherwise fitted
    over every axis but the channel one. A zero std is replaced by 1.
    """

    name = "ChannelNormalizer"

    def __init__(self, mean: Any = None, std: Any = None, channel_axis: int = 1) -> None:
        if (mean is None) != (std is None):
            raise ValueError(f"{self.name}: give both mean and std, or neither (to fit them)")
        self.channel_axis = channel_axis
        self.mean = None if mean is None else np.atleast_1d(np.asarray(mean, np.float64))
        self.std = None if std is None else np.atleast_1d(np.asarray(std, np.float64))
        self._fixed = mean is not None

    def _axis(self, X: np.ndarray) -> int:
        if X.ndim < 2 or not -X.ndim <= self.channel_axis < X.ndim or \
                self.channel_axis % X.ndim == 0:
            raise ValueError(f"{self.name}: channel_axis {self.channel_axis} is not a non-batch "
                             f"axis of an array of shape {X.shape}")
        return self.channel_axis % X.ndim

    def fit(self, X: np.ndarray) -> ChannelNormalizer:
        X = _float(X)
        axis = self._axis(X)
        if not self._fixed:
            others = tuple(a for a in range(X.ndim) if a != axis)
            self.mean = X.mean(axis=others, dtype=np.float64)
            std = X.std(axis=others, dtype=np.float64)
            self.std = np.where(std > 0, std, 1.0)
        return self

    def _apply(self, X: np.ndarray) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError(f"{self.name}: call fit(X_train) before transform")
        X = _float(X)
        axis = self._axis(X)
        channels = X.shape[axis]
        if self.mean.shape[0] not in (1, channels):
            raise ValueError(f"{self.name}: {self.mean.shape[0]} channel statistics but the "
                             f"array of shape {X.shape} has {channels} channels on axis {axis}")
        shape = [1] * X.ndim
        shape[axis] = -1
        mean, std = self.mean.reshape(shape), self.std.reshape(shape)
        return ((X - mean) / std).astype(X.dtype)


def _fit_apply(transform: _Fitted, X_train: np.ndarray, others: tuple[np.ndarray, ...]
               ) -> tuple[np.ndarray, ...]:
    transform.fit(X_train)
    return tuple(transform.transform(X) for X in (X_train, *others))


def subtract_mean_image(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """`(X_train - m, *(X - m for X in others))` with m the mean training image."""
    return _fit_apply(MeanImage(), X_train, others)


def normalize_channels(X_train: np.ndarray, *others: np.ndarray, channel_axis: int = 1,
                       mean: Any = None, std: Any = None) -> tuple[np.ndarray, ...]:
    """Per-channel normalization fitted on X_train (or with the given mean/std)."""
    return _fit_apply(ChannelNormalizer(mean, std, channel_axis), X_train, others)


def standardize(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-feature standardization fitted on X_train, applied to every array."""
    return _fit_apply(Standardizer(), X_train, others)


def one_hot(labels: Any, num_classes: int = -1, dtype: Any = np.int64) -> Any:
    """One-hot rows: `out[..., k] = (labels[...] == k)`, shape labels.shape + (C,).

    `num_classes=-1` uses labels.max() + 1 (as `torch.nn.functional.one_hot`). Returns a
    Tensor for Tensor input, else a numpy array; int64 by default as PyTorch, pass
    `dtype=np.float32` for the float targets the courses use.
    """
    is_tensor = isinstance(labels, Tensor)
    y = np.asarray(labels.array if is_tensor else labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"one_hot: labels must be non-negative, found {y.min()}")
    if num_classes == -1:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and y.max() >= num_classes:
        raise ValueError(f"one_hot: label {y.max()} is out of range for num_classes="
                         f"{num_classes} (valid: 0..{num_classes - 1})")
    out = (y[..., None] == np.arange(num_classes)).astype(dtype)
    return from_numpy(out) if is_tensor else out
