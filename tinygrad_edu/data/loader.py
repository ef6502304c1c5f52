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

from tinygrad_edu.creation import from_numpy, numpy_generator
from tinygrad_edu.data.dataset import supports_batches
from tinygrad_edu.tensor import Tensor


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({a.shape for a in arrays})
        raise ValueError(f"default_collate: samples have different shapes {shapes}; stack "
                         "needs equal shapes (pad them or pass a collate_fn)") from None


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, field by field, as PyTorch's default_collate.

    Tensors and numpy arrays are stacked along a new first axis (dtype kept); numpy
    scalars keep their dtype; Python ints become int64, bools bool and floats float64;
    strings are returned as they come (the list of samples, or a tuple for a field of
    tuple samples). A sequence of samples is collated per position and returned as a list
    (`[X, Y]` for `(x, y)` samples: PyTorch's choice), except that a namedtuple keeps its
    type; a dict is collated per key.
    """
    if len(samples) == 0:
        raise ValueError("default_collate: cannot collate an empty list of samples")
    elem = samples[0]
    if isinstance(elem, Tensor):
        return from_numpy(_stack([s.array for s in samples]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SUO":
            raise TypeError(f"default_collate: cannot batch numpy arrays of dtype "
                            f"{elem.dtype} (strings or objects); pass collate_fn")
        return from_numpy(_stack([np.asarray(s) for s in samples]))
    if isinstance(elem, np.generic) and not isinstance(elem, np.str_ | np.bytes_):
        return from_numpy(np.array(samples))
    if isinstance(elem, bool):
        return from_numpy(np.array(samples, dtype=np.bool_))
    if isinstance(elem, int):
        return from_numpy(np.array(samples, dtype=np.int64))
    if isinstance(elem, float):
        return from_numpy(np.array(samples, dtype=np.float64))
    if isinstance(elem, str | bytes):
        return samples
    if isinstance(elem, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in elem}
    if isinstance(elem, tuple | list):
        sizes = {len(s) for s in samples}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: samples have different numbers of fields "
                             f"{sorted(sizes)}; every sample must have the same structure")
        fields = [default_collate(f) for f in zip(*samples)]
        if hasattr(elem, "_fields"):  # a namedtuple keeps its type
            return type(elem)(*fields)
        return fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(elem).__name__}; "
                    "expected Tensors, numpy arrays, numbers, strings, or tuples/dicts of "
                    "them (or pass collate_fn)")


def default_convert(sample: Any) -> Any:
    """One unbatched sample (batch_size=None), as PyTorch's default_convert: numpy arrays
    and numpy scalars become Tensors (dtype kept); Tensors, Python numbers and strings
    stay as they are; a tuple becomes a list (a namedtuple keeps its type), and lists and
    dicts are converted element by element."""
    if isinstance(sample, Tensor):
        return sample
    if isinstance(sample, np.ndarray):
        return sample if sample.dtype.kind in "SUO" else from_numpy(sample)
    if isinstance(sample, np.generic) and not isinstance(sample, np.str_ | np.bytes_):
        return from_numpy(np.asarray(sample))
    if isinstance(sample, Mapping):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, tuple | list):
        return [default_convert(v) for v in sample]
    return sample


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size` samples.

    Yields what `collate_fn` makes; by default, for a dataset of `(x, y)` samples, lists
    `[X, Y]` of Tensors with the dataset's dtypes (as PyTorch). `len(loader)` is the number
    of batches: `ceil(N / batch_size)`, or `N // batch_size` with `drop_last=True` (which
    drops the last incomplete batch). `batch_size=None` yields single samples without a
    batch axis, through `default_convert` (arrays become Tensors, Python numbers stay
    numbers). `num_workers`, `pin_memory` and `persistent_workers` are accepted for
    PyTorch scripts and ignored (loading happens in this process).
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
            rng = numpy_generator(self.generator)
        return rng.permutation(n)

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn here, not at the first next(), so each iter() is one epoch.
        order = self._order()
        self.epoch += 1
        if self.batch_size is None:
            return (default_convert(self.dataset[int(i)]) for i in order)
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        starts = range(0, stop, self.batch_size)
        if self.collate_fn is None and supports_batches(self.dataset):
            return self._fast(order, starts)
        return self._generic(order, starts)

    def _fast(self, order: np.ndarray, starts: range) -> Iterator[list[Tensor]]:
        fetch, bs = self.dataset._get_batch, self.batch_size or 1
        for start in starts:
            # A list, as default_collate makes of tuple samples (PyTorch's batch type).
            yield [from_numpy(a) for a in fetch(order[start:start + bs])]

    def _generic(self, order: np.ndarray, starts: range) -> Iterator[Any]:
        collate = self.collate_fn or default_collate
        bs = self.batch_size or 1
        for start in starts:
            yield collate([self.dataset[int(i)] for i in order[start:start + bs]])

    def __repr__(self) -> str:
        return (f"DataLoader(dataset of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
