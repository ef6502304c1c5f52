"""Datasets, as `torch.utils.data` has them: `Dataset`, `TensorDataset`, `Subset`,
`ConcatDataset`, `random_split`.

A dataset is anything with `__len__` and `__getitem__(i)` returning one sample. Datasets
that can also fetch many samples at once with an index array implement `_get_batch(indices)`
-> tuple of numpy arrays; `DataLoader` then builds a whole batch with one fancy index per
field instead of a Python loop over samples. `TensorDataset` and a `Subset` of one do.

Samples are data, not graph nodes: they come out as constant tensors (no gradient flows
back into a dataset).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu.creation import from_numpy, numpy_generator
from tinygrad_edu.tensor import Tensor


class Dataset:
    """Base class: subclasses define `__getitem__(index)` and `__len__()`."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must "
                                  "define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must "
                                  "define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _as_array(x: Any, position: int) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.array
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"TensorDataset: argument {position} must be a Tensor or a numpy array, "
                    f"got {type(x).__name__}")


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: `dataset[i] == (t[i] for t in tensors)`.

    Accepts Tensors or numpy arrays (arrays are wrapped without copying; their dtype is
    kept, so float32 images and int64 labels stay so). All must have the same first
    dimension. `dataset[index_array]` returns whole batches, as in PyTorch.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        arrays = [_as_array(t, i) for i, t in enumerate(tensors)]
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; every tensor needs a "
                                 "first (sample) dimension")
        lengths = [a.shape[0] for a in arrays]
        if len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"TensorDataset: size mismatch between tensors: shapes {shapes} "
                             f"have first dimensions {lengths}; all must be equal")
        self.tensors: tuple[Tensor, ...] = tuple(
            t if isinstance(t, Tensor) else from_numpy(a) for t, a in zip(tensors, arrays))
        self._arrays = tuple(arrays)

    def __len__(self) -> int:
        return self._arrays[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        if isinstance(index, Tensor):
            index = index.array
        # Per sample, so the wrapper without checks: from_numpy costs 2.6 us here, not 1.75.
        return tuple(Tensor._wrap(np.asarray(a[index])) for a in self._arrays)

    def _get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        # np.take on axis 0 of a C-contiguous array is a single memcpy per row and beats
        # a[indices]; it also always copies, so a batch never aliases the dataset.
        return tuple(np.take(a, indices, axis=0) for a in self._arrays)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices.array if isinstance(indices, Tensor) else indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"Subset: indices must be a 1-d sequence of ints, got dtype "
                            f"{idx.dtype} and shape {idx.shape}")
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset: indices must lie in [-{n}, {n}) for a dataset of "
                             f"length {n}; got min {idx.min()}, max {idx.max()}")
        self.dataset = dataset
        self.indices = idx.astype(np.int64) % max(n, 1)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, Tensor):
            index = index.array
        if isinstance(index, list | np.ndarray):
            return self.dataset[self.indices[np.asarray(index)]]
        return self.dataset[int(self.indices[index])]

    def _get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        return self.dataset._get_batch(self.indices[indices])  # type: ignore[no-any-return]


def supports_batches(dataset: Any) -> bool:
    """True when `dataset._get_batch(index_array)` works (TensorDataset, Subsets of one)."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return callable(getattr(dataset, "_get_batch", None))


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for length {n}")
        index %= n
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Absolute lengths from ints (must sum to n) or fractions (must sum to 1)."""
    values = list(lengths)
    if values and all(isinstance(v, float) and 0 <= v <= 1 for v in values) \
            and math.isclose(sum(values), 1.0, abs_tol=1e-6):
        # PyTorch's rule: floor each fraction, then hand out the remainder round-robin.
        counts = [int(math.floor(n * f)) for f in values]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    if not all(isinstance(v, int | np.integer) and v >= 0 for v in values):
        raise ValueError(f"random_split: lengths must be non-negative ints summing to the "
                         f"dataset length {n}, or fractions summing to 1; got {values}")
    if sum(values) != n:
        raise ValueError(f"random_split: lengths {values} sum to {sum(values)}, but the "
                         f"dataset has {n} samples")
    return [int(v) for v in values]


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None,
                 seed: int | None = None) -> list[Subset]:
    """Split into non-overlapping random `Subset`s of the given lengths (ints, or
    fractions summing to 1). Randomness: `generator` (or `seed`), else the library's
    default generator."""
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    perm = numpy_generator(generator if seed is None else seed).permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
