"""A held-out set stored as numpy files: `.npz` with images and labels, two `.npy` files,
or a directory holding either. Loaded with `allow_pickle=False`, so a file can only hold
plain arrays (object arrays, which would need unpickling, are refused).

Recognised names: in an .npz, the pairs (X_test, y_test), (X, y), (x, y), (images,
labels), (data, labels), (x_test, y_test), or any keys passed as `x_key`/`y_key`; in a
directory, X_test.npy + y_test.npy, x_test.npy + y_test.npy,
test_images.npy + test_labels.npy, or test.npz.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.data._errors import DataFormatError
from tinygrad_edu.files import load_arrays

_NPZ_KEYS = (("X_test", "y_test"), ("X", "y"), ("x", "y"), ("images", "labels"),
             ("data", "labels"), ("x_test", "y_test"))
_EXPECTED = ("an .npz with images and labels, or an .npy array, written by numpy.savez or "
             "numpy.save")
_DIR_FILES = (("X_test.npy", "y_test.npy"), ("x_test.npy", "y_test.npy"),
              ("test_images.npy", "test_labels.npy"))


def _load(path: Path) -> Any:
    return load_arrays(path, "load_npy_test_set", _EXPECTED)


def _from_npz(path: Path, x_key: str | None, y_key: str | None
              ) -> tuple[np.ndarray, np.ndarray]:
    archive = _load(path)
    if not isinstance(archive, dict):
        raise DataFormatError(f"load_npy_test_set: {path}: expected an .npz archive with images "
                              "and labels; give the labels file as labels_path for a single .npy")
    keys = set(archive)
    pairs = [(x_key, y_key)] if x_key or y_key else list(_NPZ_KEYS)
    for xk, yk in pairs:
        if xk in keys and yk in keys:
            return archive[xk], archive[yk]
    wanted = " or ".join(f"({a}, {b})" for a, b in pairs)
    raise DataFormatError(f"load_npy_test_set: {path}: no image/label arrays named {wanted}; "
                          f"the archive holds {sorted(keys)} (pass x_key= and y_key=)")


def load_npy_test_set(path: str | os.PathLike[str],
                      labels_path: str | os.PathLike[str] | None = None, *,
                      x_key: str | None = None, y_key: str | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """`(X, y)` from an .npz, an images .npy plus `labels_path`, or a directory (see the
    module docstring). X keeps its stored dtype; y becomes int64 (N,)."""
    p = Path(path)
    if labels_path is not None:
        X, y = _load(p), _load(Path(labels_path))
    elif p.is_dir():
        for x_name, y_name in _DIR_FILES:
            if (p / x_name).is_file() and (p / y_name).is_file():
                return load_npy_test_set(p / x_name, p / y_name)
        if (p / "test.npz").is_file():
            return load_npy_test_set(p / "test.npz", x_key=x_key, y_key=y_key)
        raise FileNotFoundError(f"load_npy_test_set: {p} holds none of "
                                f"{[a + ' + ' + b for a, b in _DIR_FILES] + ['test.npz']}")
    elif not p.is_file():
        raise FileNotFoundError(f"load_npy_test_set: no such file {p}")
    else:
        X, y = _from_npz(p, x_key, y_key)
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        raise DataFormatError(f"load_npy_test_set: {p}: expected a single array in each .npy "
                              "file, found an .npz archive")
    if y.ndim != 1 or len(y) != len(X):
        raise DataFormatError(f"load_npy_test_set: {p}: labels must have shape ({len(X)},) to "
                              f"match images of shape {X.shape}; found {y.shape}")
    if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise DataFormatError(f"load_npy_test_set: {p}: labels must be integers, found dtype "
                              f"{y.dtype}")
    return X, y.astype(np.int64)
