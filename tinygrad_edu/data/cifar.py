"""CIFAR-10 from its two official distributions.

- "python version" (`cifar-10-batches-py/`: `data_batch_1`..`data_batch_5`, `test_batch`,
  `batches.meta`): pickled dicts with `data` uint8 (10000, 3072) and `labels` (a list),
  read with the restricted unpickler of `safe_pickle` (the courses use this version).
- "binary version" (`cifar-10-batches-bin/`: `data_batch_1.bin`..`data_batch_5.bin`,
  `test_batch.bin`, `batches.meta.txt`): records of 1 label byte + 3072 pixel bytes.

In both, a row holds the red plane, then green, then blue, each 32x32 in row-major order,
so a row reshapes to (3, 32, 32). Layouts offered: 'nchw' (N, 3, 32, 32), 'nhwc'
(N, 32, 32, 3), 'rows' (N, 3072) in the file's channel-planar order, and 'rows_hwc'
(N, 3072) flattened from NHWC as the courses' first assignment does (so a row reshapes to
(32, 32, 3) for display).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.data._errors import DataFormatError
from tinygrad_edu.data.safe_pickle import safe_load
from tinygrad_edu.files import check_file

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
_RECORD = 1 + 3 * 32 * 32
LAYOUTS = ("nchw", "nhwc", "rows", "rows_hwc")


def _check_labels(path: Any, labels: np.ndarray, op: str) -> np.ndarray:
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(f"{op}: {path}: labels must lie in [0, 9], found values from "
                              f"{labels.min()} to {labels.max()}")
    return labels.astype(np.int64)


def load_batch_binary(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """One binary-version batch: `(images uint8 (N, 3, 32, 32), labels int64 (N,))`."""
    return _batch_binary(path, "load_batch_binary")


def _batch_binary(path: str | os.PathLike[str], op: str) -> tuple[np.ndarray, np.ndarray]:
    # `op` is the public function the caller used, so its name starts every message.
    raw = check_file(path, op).read_bytes()
    if len(raw) == 0 or len(raw) % _RECORD:
        raise DataFormatError(
            f"{op}: {path}: a CIFAR-10 binary batch is a whole number of {_RECORD}-byte records "
            f"(1 label byte + 3072 pixel bytes); found {len(raw):,} bytes = "
            f"{len(raw) // _RECORD} records + {len(raw) % _RECORD} extra bytes")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD)
    labels = _check_labels(path, records[:, 0], op)
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def _field(batch: dict[Any, Any], key: str) -> Any:
    # Python 2 pickles read with encoding='bytes' have bytes keys; with 'latin1', str keys.
    for k in (key, key.encode()):
        if k in batch:
            return batch[k]
    raise KeyError(key)


def load_batch_python(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """One python-version batch (restricted unpickling):
    `(images uint8 (N, 3, 32, 32), labels int64 (N,))`."""
    return _batch_python(path, "load_batch_python")


def _batch_python(path: str | os.PathLike[str], op: str) -> tuple[np.ndarray, np.ndarray]:
    check_file(path, op)
    try:
        batch = safe_load(path)
    except DataFormatError as e:  # safe_load's message names the file, not the caller
        raise type(e)(f"{op}: {e}") from None
    if not isinstance(batch, dict):
        raise DataFormatError(f"{op}: {path}: expected a pickled dict with 'data' and 'labels', "
                              f"found {type(batch).__name__}")
    try:
        data, labels = _field(batch, "data"), _field(batch, "labels")
    except KeyError as e:
        keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in batch)
        raise DataFormatError(f"{op}: {path}: the batch dict has no {e} entry "
                              f"(keys: {keys})") from None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3072:
        found = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                 else type(data).__name__)
        raise DataFormatError(f"{op}: {path}: 'data' must be a uint8 array of shape (N, 3072), "
                              f"found {found}")
    try:
        label_array = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise DataFormatError(f"{op}: {path}: 'labels' must be a list of ints") from None
    if label_array.shape != (data.shape[0],):
        raise DataFormatError(f"{op}: {path}: {data.shape[0]} images but 'labels' has shape "
                              f"{label_array.shape}")
    return data.reshape(-1, 3, 32, 32), _check_labels(path, label_array, op)


def _batch_dir(data_dir: Path) -> tuple[Path, str]:
    """The directory holding the batches and its format ('python' or 'binary')."""
    for d in (data_dir, data_dir / "cifar-10-batches-py", data_dir / "cifar-10-batches-bin",
              data_dir / "cifar10", data_dir / "cifar-10"):
        if (d / "data_batch_1").is_file() and (d / "test_batch").is_file():
            return d, "python"
        if (d / "data_batch_1.bin").is_file() and (d / "test_batch.bin").is_file():
            return d, "binary"
    raise FileNotFoundError(
        f"load_cifar10: no CIFAR-10 batches in {data_dir}: expected data_batch_1..5 and "
        "test_batch (python version, e.g. in cifar-10-batches-py/) or data_batch_1..5.bin and "
        "test_batch.bin (binary version, cifar-10-batches-bin/)")


def find_cifar10_format(data_dir: str | os.PathLike[str]) -> str | None:
    """'python' or 'binary' when `data_dir` (or a standard subdirectory) holds CIFAR-10."""
    try:
        return _batch_dir(Path(data_dir))[1]
    except FileNotFoundError:
        return None


def _class_names(directory: Path, fmt: str) -> tuple[str, ...]:
    try:
        if fmt == "python":
            names = _field(safe_load(directory / "batches.meta"), "label_names")
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
        else:
            names = (directory / "batches.meta.txt").read_text().split()
    except (OSError, KeyError, TypeError, DataFormatError):
        return CIFAR10_CLASSES  # the meta file is optional; the official names are known
    return tuple(names) if len(names) == 10 else CIFAR10_CLASSES


def to_layout(images: np.ndarray, layout: str) -> np.ndarray:
    """(N, 3, 32, 32) images -> the requested layout (see the module docstring)."""
    if layout == "nchw":
        return images
    if layout == "nhwc":
        return images.transpose(0, 2, 3, 1)
    if layout == "rows":
        return images.reshape(images.shape[0], -1)
    if layout == "rows_hwc":
        return images.transpose(0, 2, 3, 1).reshape(images.shape[0], -1)
    raise ValueError(f"load_cifar10: layout must be one of {LAYOUTS}, got {layout!r}")


def _convert(images: np.ndarray, layout: str, dtype: Any, scale: bool) -> np.ndarray:
    out = np.ascontiguousarray(to_layout(images, layout), dtype=dtype)
    if scale:
        out *= out.dtype.type(1 / 255)
    return out


def load_cifar10(data_dir: str | os.PathLike[str], *, layout: str = "nchw",
                 dtype: Any = np.float32, scale: bool = False, num_train_batches: int = 5
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """`(X_train, y_train, X_test, y_test, class_names)` from either CIFAR-10 version.

    `data_dir` is the batch directory or its parent. Images: `dtype` (float32 by default;
    np.uint8 keeps the raw bytes) with values 0..255 as the courses use them, or 0..1 with
    `scale=True`, in `layout` ('nchw', 'nhwc', 'rows', 'rows_hwc'). Labels: int64.
    `num_train_batches` < 5 reads only the first batches (quicker experiments).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"load_cifar10: layout must be one of {LAYOUTS}, got {layout!r}")
    if not 1 <= num_train_batches <= 5:
        raise ValueError(f"load_cifar10: num_train_batches must be 1..5, got "
                         f"{num_train_batches}")
    directory, fmt = _batch_dir(Path(data_dir))
    suffix, load = (".bin", _batch_binary) if fmt == "binary" else ("", _batch_python)
    parts = [load(directory / f"data_batch_{i}{suffix}", "load_cifar10")
             for i in range(1, num_train_batches + 1)]
    X_test, y_test = load(directory / f"test_batch{suffix}", "load_cifar10")
    X_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    if np.dtype(dtype) == np.uint8 and scale:
        raise ValueError("load_cifar10: scale=True needs a float dtype, got uint8")
    return (_convert(X_train, layout, dtype, scale), y_train,
            _convert(X_test, layout, dtype, scale), y_test, _class_names(directory, fmt))
