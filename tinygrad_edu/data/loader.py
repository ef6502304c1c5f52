"""`DataLoader`: batches from a dataset, as `torch.utils.data.DataLoader`.

Fast path: a `TensorDataset` (or a `Subset`/`random_split` part of one) with the default
collate builds each batch with one `np.take` per field on an index slice of the epoch's
permutation -- no Python loop over samples. Any other dataset is read sample by sample and
batched by `collate_fn` (default: `default_collate`).

Shuffling is reproducible: each epoch draws a fresh permutation from `generator` (a numpy
Generator, a `tinygrad_edu.Generator` or an int seed), or, with `seed=s`, from a generator
seeded with `(s, epoch)` so epoch k has the same order in every run; with neither, from the
library's default generator (reset by `tinygrad_edu.manual_seed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_edu.data.dataset import supports_batches
from tinygrad_edu.tensor import Tensor, _rng


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({a.shape for a in arrays})
        raise ValueError(f"default_collate: samples have different shapes {shapes}; stack "
                         "needs equal shapes (pad them or pass a collate_fn)") from None


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, field by field.

    Tensors and numpy arrays are stacked along a new first axis (dtype kept); numpy
    scalars keep their dtype; Python ints become int64, bools bool and floats float64
    (PyTorch's rule); tuples/lists are collated per position (returned as a tuple), dicts
    per key; strings are returned as a list.
    """
    if len(samples) == 0:
        raise ValueError("default_collate: cannot collate an empty list of samples")
    elem = samples[0]
    if isinstance(elem, Tensor):
        return Tensor._wrap(_stack([s.array for s in samples]))
    if isinstance(elem, np.ndarray):
        return Tensor._wrap(_stack([np.asarray(s) for s in samples]))
    if isinstance(elem, np.generic):
        return Tensor._wrap(np.array(samples))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(samples, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._wrap(np.array(samples, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(samples, dtype=np.float64))
    if isinstance(elem, str | bytes):
        return list(samples)
    if isinstance(elem, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in elem}
    if isinstance(elem, tuple | list):
        sizes = {len(s) for s in samples}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: samples have different numbers of fields "
                             f"{sorted(sizes)}; every sample must have the same structure")
        fields = tuple(default_collate(list(f)) for f in zip(*samples))
        if hasattr(elem, "_fields"):  # a namedtuple keeps its type
            return type(elem)(*fields)
        return fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(elem).__name__}; "
                    "expected Tensors, numpy arrays, numbers, strings, or tuples/dicts of "
                    "them (or pass collate_fn)")


def _convert(sample: Any) -> Any:
    """One unbatched sample with arrays and numbers turned into tensors (batch_size=None)."""
    if isinstance(sample, Tensor):
        return sample
    if isinstance(sample, np.ndarray | np.generic | bool | int | float):
        batch: Tensor = default_collate([sample])
        return Tensor._wrap(batch.array[0])
    if isinstance(sample, Mapping):
        return {k: _convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple | list):
        return tuple(_convert(v) for v in sample)
    return sample


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size` samples.

    Yields what `collate_fn` makes; by default, for a dataset of `(x, y)` samples, tuples
    `(X, Y)` of Tensors with the dataset's dtypes. `len(loader)` is the number of batches:
    `ceil(N / batch_size)`, or `N // batch_size` with `drop_last=True` (which drops the last
    incomplete batch). `batch_size=None` yields single samples without a batch axis.
    `num_workers`, `pin_memory` and `persistent_workers` are accepted for PyTorch scripts and
    ignored (loading happens in this process).
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: Any = None, seed: int | None = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None, num_workers: int = 0,
                 pin_memory: bool = False, persistent_workers: bool = False) -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, int | np.integer)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, "
                             f"got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator= or seed=, not both")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__ "
                            f"(a Dataset), got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.seed = seed
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.epoch = 0  # how many times iteration has started; picks the seeded order

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Choose which epoch's order the next iteration uses (with `seed=`)."""
        self.epoch = int(epoch)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.seed is not None:
            rng = np.random.default_rng([int(self.seed), self.epoch])
        else:
            rng = _rng(self.generator)
        return rng.permutation(n)

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn here, not at the first next(), so each iter() is one epoch.
        order = self._order()
        self.epoch += 1
        if self.batch_size is None:
            return (_convert(self.dataset[int(i)]) for i in order)
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        starts = range(0, stop, self.batch_size)
        if self.collate_fn is None and supports_batches(self.dataset):
            return self._fast(order, starts)
        return self._generic(order, starts)

    def _fast(self, order: np.ndarray, starts: range) -> Iterator[tuple[Tensor, ...]]:
        fetch, bs = self.dataset._get_batch, self.batch_size or 1
        for start in starts:
            yield tuple(Tensor._wrap(a) for a in fetch(order[start:start + bs]))

    def _generic(self, order: np.ndarray, starts: range) -> Iterator[Any]:
        collate = self.collate_fn or default_collate
        bs = self.batch_size or 1
        for start in starts:
            yield collate([self.dataset[int(i)] for i in order[start:start + bs]])

    def __repr__(self) -> str:
        return (f"DataLoader(dataset of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
