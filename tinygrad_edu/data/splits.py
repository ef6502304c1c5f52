"""Train/validation/test splits: the `Splits` record every loader returns, a seeded random
split, and the courses' sequential CIFAR-10 split.

Seeded split (`split_indices`): one permutation of range(n) from `default_rng(seed)`, cut
as [train | val | test] from the front, each part then sorted. The test part is the
permutation's last `test_size` entries whatever `val_size` is, so changing the validation
size never moves an example into or out of the test set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tinygrad_edu.data.dataset import TensorDataset
from tinygrad_edu.data.loader import DataLoader
from tinygrad_edu.data.transforms import ChannelNormalizer, MeanImage, Standardizer


@dataclass(repr=False)
class Splits:
    """A dataset split three ways, as numpy arrays (float images/features, int64 labels).

    `input_shape` is one sample's shape (e.g. (1, 28, 28) or (784,)); `info` records how the
    split and the preprocessing were made (sizes, seed, fitted statistics).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    name: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def sizes(self) -> tuple[int, int, int]:
        return len(self.X_train), len(self.X_val), len(self.X_test)

    def as_dict(self) -> dict[str, np.ndarray]:
        """The courses' data dict: X_train, y_train, X_val, y_val, X_test, y_test."""
        return {k: getattr(self, k) for k in
                ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")}

    def datasets(self) -> tuple[TensorDataset, TensorDataset, TensorDataset]:
        """TensorDatasets for train, val and test (sharing memory with the arrays)."""
        return (TensorDataset(self.X_train, self.y_train), TensorDataset(self.X_val, self.y_val),
                TensorDataset(self.X_test, self.y_test))

    def loader(self, split: str = "train", batch_size: int = 64, shuffle: bool | None = None,
               **kwargs: Any) -> DataLoader:
        """A DataLoader over one split; shuffles the training split by default."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"Splits.loader: split must be 'train', 'val' or 'test', got "
                             f"{split!r}")
        X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
        return DataLoader(TensorDataset(X, y), batch_size=batch_size,
                          shuffle=(split == "train") if shuffle is None else shuffle, **kwargs)

    def flatten(self) -> Splits:
        """The same splits with every sample flattened to a row (N, D)."""
        flat: dict[str, Any] = {k: v.reshape(len(v), -1) for k, v in self.as_dict().items()
                                if k.startswith("X")}
        return replace(self, **flat)

    def preprocess(self, kind: str | None, **kwargs: Any) -> Splits:
        """New Splits with a transform fitted on X_train and applied to all three:
        'mean_image', 'channel' (kwargs: channel_axis, mean, std), 'standardize', or None."""
        transforms = {"mean_image": MeanImage, "channel": ChannelNormalizer,
                      "standardize": Standardizer}
        if kind is None:
            return self
        if kind not in transforms:
            raise ValueError(f"Splits.preprocess: kind must be one of {sorted(transforms)} or "
                             f"None, got {kind!r}")
        transform = transforms[kind](**kwargs).fit(self.X_train)
        return replace(self, X_train=transform(self.X_train), X_val=transform(self.X_val),
                       X_test=transform(self.X_test),
                       info={**self.info, "preprocess": kind, "transform": transform})

    def __repr__(self) -> str:
        n_tr, n_va, n_te = self.sizes
        return (f"Splits({self.name or 'data'}: train {n_tr:,}, val {n_va:,}, test {n_te:,}; "
                f"input_shape={self.input_shape}, {self.X_train.dtype}; "
                f"{self.num_classes} classes)")


def _count(size: float, n: int, what: str) -> int:
    if isinstance(size, float) and 0 <= size < 1:
        return int(round(size * n))
    if isinstance(size, int | np.integer) and not isinstance(size, bool) and 0 <= size <= n:
        return int(size)
    raise ValueError(f"split: {what} must be an int in [0, {n}] or a fraction in [0, 1), "
                     f"got {size!r}")


def split_indices(n: int, val_size: float = 0, test_size: float = 0, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted index arrays (train, val, test) of a seeded random split of range(n).

    Sizes are counts or fractions of n; train gets the rest.
    """
    n_val, n_test = _count(val_size, n, "val_size"), _count(test_size, n, "test_size")
    if n_val + n_test > n:
        raise ValueError(f"split: val_size {n_val} + test_size {n_test} exceed the {n} "
                         "samples")
    perm = np.random.default_rng(seed).permutation(n)
    n_train = n - n_val - n_test
    return (np.sort(perm[:n_train]), np.sort(perm[n_train:n - n_test]),
            np.sort(perm[n - n_test:]))


def train_val_test_split(X: np.ndarray, y: np.ndarray, val_size: float = 0.1,
                         test_size: float = 0.2, seed: int = 0, class_names: Any = None,
                         name: str = "") -> Splits:
    """Seeded random split of (X, y) into a `Splits` (see `split_indices`)."""
    if len(X) != len(y):
        raise ValueError(f"train_val_test_split: X has {len(X)} samples but y has {len(y)}")
    train, val, test = split_indices(len(X), val_size, test_size, seed)
    if class_names is None:
        class_names = tuple(str(c) for c in range(int(y.max()) + 1 if len(y) else 0))
    return Splits(X[train], y[train], X[val], y[val], X[test], y[test], tuple(class_names),
                  name, {"split": "random", "seed": seed,
                         "sizes": (len(train), len(val), len(test))})


def course_split(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                 y_test: np.ndarray, num_training: int = 49000, num_validation: int = 1000,
                 num_test: int = 1000, class_names: Any = None, name: str = "") -> Splits:
    """The courses' CIFAR-10 split, sequential and without randomness: train = the first
    `num_training` training images, val = the next `num_validation`, test = the first
    `num_test` test images (49,000 / 1,000 / 1,000 by default)."""
    if num_training + num_validation > len(X_train) or num_test > len(X_test) or \
            min(num_training, num_validation, num_test) < 0:
        raise ValueError(f"course_split: asked for {num_training} train + {num_validation} val "
                         f"from {len(X_train)} training images and {num_test} test from "
                         f"{len(X_test)}")
    stop = num_training + num_validation
    if class_names is None:
        class_names = tuple(str(c) for c in range(int(y_train.max()) + 1))
    return Splits(X_train[:num_training], y_train[:num_training],
                  X_train[num_training:stop], y_train[num_training:stop],
                  X_test[:num_test], y_test[:num_test], tuple(class_names), name,
                  {"split": "course", "sizes": (num_training, num_validation, num_test)})
