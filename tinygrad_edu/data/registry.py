"""`load_dataset(name, data_dir=None, ...)`: every dataset as the same `Splits` record.

| name          | source                                 | default split (train/val/test)     |
|---------------|----------------------------------------|------------------------------------|
| mnist         | IDX files in data_dir                  | see below                          |
| fashion-mnist | IDX files in data_dir (same names)     | see below                          |
| cifar10       | python or binary batches in data_dir   | courses': 49,000 / 1,000 / 1,000   |
| iris          | scikit-learn                           | 60% / 20% / 20%, seeded            |
| digits        | scikit-learn (8x8)                     | 70% / 10% / 20%, seeded            |
| spirals/moons/blobs | generated (numpy)                | 70% / 10% / 20%, seeded            |

MNIST-format sets: the files are identified by their md5 sums (see `checksums`): Fashion-MNIST
files asked for as 'mnist' (or the reverse) raise `WrongDatasetError`, files that match no
official sum load with an `UnrecognizedDataWarning`; `info['files']` says what was found.
With both train and t10k files, test = t10k and val = `val_size`
(1,000) random training images. With only one of them (../shared/datasets/mnist holds just
the 10,000 real t10k images), those images are split with `seed` (0): the last
`test_size` (2,000) of a seeded permutation are the test set, the first 8,000 train, and
`val_size` (1,000) of those 8,000 become validation -- 7,000 / 1,000 / 2,000. `val_size=0`
trains on all 8,000. The 8,000 / 2,000 cut does not depend on `val_size`.

Data directories are looked up, when `data_dir` is None, under `$TINYGRAD_EDU_DATA` (a
root holding mnist/, fashion-mnist/, cifar-10-batches-py/ ...; for MNIST it may also be the
MNIST directory itself), then under ../shared/datasets relative to the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.data.checksums import verify_mnist_files
from tinygrad_edu.data.cifar import find_cifar10_format, load_cifar10
from tinygrad_edu.data.idx import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    load_mnist,
    mnist_files_present,
)
from tinygrad_edu.data.sklearn_sets import load_digits, load_iris
from tinygrad_edu.data.splits import Splits, course_split, split_indices, train_val_test_split
from tinygrad_edu.data.synthetic import make_blobs, make_moons, make_spirals

DATASETS = ("mnist", "fashion-mnist", "cifar10", "iris", "digits", "spirals", "moons", "blobs")
_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
            "cifar-10": "cifar10", "cifar_10": "cifar10", "cifar": "cifar10",
            "spiral": "spirals", "moon": "moons"}
_SUBDIRS = {"mnist": ("mnist", "MNIST", "MNIST/raw"),
            "fashion-mnist": ("fashion-mnist", "fashion_mnist", "FashionMNIST",
                              "FashionMNIST/raw"),
            "cifar10": ("cifar-10-batches-py", "cifar-10-batches-bin", "cifar10", "cifar-10")}
_SYNTHETIC: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "spirals": make_spirals, "moons": make_moons, "blobs": make_blobs}
_DEFAULT = object()  # "use this dataset's default" for preprocess/val_size/test_size
REPO_ROOT = Path(__file__).resolve().parents[2]


def data_roots() -> list[Path]:
    """Where datasets are looked for: $TINYGRAD_EDU_DATA, then <repo>/../shared/datasets."""
    roots = [Path(os.environ["TINYGRAD_EDU_DATA"])] if os.environ.get("TINYGRAD_EDU_DATA") \
        else []
    return roots + [REPO_ROOT.parent / "shared" / "datasets"]


def _holds(name: str, directory: Path) -> bool:
    if name == "cifar10":
        return find_cifar10_format(directory) is not None
    return any(mnist_files_present(directory, kind) for kind in ("t10k", "train"))


def find_data_dir(name: str) -> Path | None:
    """The directory holding dataset `name` (mnist, fashion-mnist, cifar10), or None."""
    name = _canonical(name)
    if name not in _SUBDIRS:
        raise ValueError(f"find_data_dir: only file-based datasets have a directory "
                         f"{tuple(_SUBDIRS)}, got {name!r}")
    for root in data_roots():
        candidates = [root / sub for sub in _SUBDIRS[name]]
        if name == "mnist":
            candidates.append(root)
        for directory in candidates:
            if directory.is_dir() and _holds(name, directory):
                return directory
    return None


def find_mnist_dir() -> Path | None:
    """../shared/datasets/mnist relative to the repository root (or under / at
    $TINYGRAD_EDU_DATA) when it holds MNIST IDX files, else None."""
    return find_data_dir("mnist")


def _canonical(name: str) -> str:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"load_dataset: unknown dataset {name!r}; choose from "
                         f"{', '.join(DATASETS)}")
    return key


def _check_options(name: str, options: dict[str, Any], valid: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise TypeError(f"load_dataset({name!r}): unexpected options {unknown}; valid here: "
                        f"{sorted(valid) or 'none'}")


def _mnist_like(name: str, data_dir: Path, val_size: Any, test_size: Any, seed: int,
                flatten: bool) -> Splits:
    classes = MNIST_CLASSES if name == "mnist" else FASHION_MNIST_CLASSES
    has_train, has_test = mnist_files_present(data_dir, "train"), mnist_files_present(data_dir,
                                                                                         "t10k")
    val = 1000 if val_size is _DEFAULT else val_size
    if has_train and has_test:
        files = verify_mnist_files(name, data_dir, ("train", "t10k"))
        X, y = load_mnist(data_dir, "train", flatten=flatten)
        X_test, y_test = load_mnist(data_dir, "t10k", flatten=flatten)
        train, val_idx, _ = split_indices(len(X), val, 0, seed)
        info = {"split": "train files / val from train / t10k files", "seed": seed,
                "files": files}
        return Splits(X[train], y[train], X[val_idx], y[val_idx], X_test, y_test, classes,
                      name, {**info, "sizes": (len(train), len(val_idx), len(X_test))})
    kind = "t10k" if has_test else "train"
    files = verify_mnist_files(name, data_dir, (kind,))
    X, y = load_mnist(data_dir, kind, flatten=flatten)
    test = 2000 if test_size is _DEFAULT else test_size
    splits = train_val_test_split(X, y, val, test, seed, classes, name)
    splits.info["files"] = files
    splits.info["split"] = (f"only the {kind} files were found: their {len(X):,} images split "
                            f"with seed {seed} into {len(X) - splits.sizes[2]:,} train (of "
                            f"which {splits.sizes[1]:,} val) / {splits.sizes[2]:,} test")
    return splits


def _sizes(val_size: Any, test_size: Any, val: float, test: float) -> tuple[Any, Any]:
    return (val if val_size is _DEFAULT else val_size,
            test if test_size is _DEFAULT else test_size)


def load_dataset(name: str, data_dir: str | os.PathLike[str] | None = None, *,
                 val_size: Any = _DEFAULT, test_size: Any = _DEFAULT, seed: int = 0,
                 flatten: bool = False, preprocess: Any = _DEFAULT, **options: Any) -> Splits:
    """Load dataset `name` as `Splits` (X_* float32 numpy arrays, y_* int64).

    val_size / test_size: counts or fractions (see the module table for defaults; for
    cifar10 they are the courses' num_validation / num_test). seed: the split's seed.
    flatten: images as rows (N, D) instead of NCHW. preprocess: None, 'mean_image',
    'channel', 'standardize' (fitted on the training split); defaults: cifar10 'mean_image'
    (the courses'), iris 'standardize', others None.
    options: cifar10 -> layout, num_training, num_train_batches, scale; spirals, moons,
    blobs -> the generator's arguments (n_per_class, noise, n_samples, centers, ...).
    """
    key = _canonical(name)
    default_preprocess = {"cifar10": "mean_image", "iris": "standardize"}.get(key)
    directory = _data_directory(key, data_dir)
    if directory is not None and key in ("mnist", "fashion-mnist"):
        _check_options(key, options, ())
        splits = _mnist_like(key, directory, val_size, test_size, seed, flatten)
    elif directory is not None:  # cifar10
        splits = _cifar10(directory, val_size, test_size, flatten, options)
    elif key in ("iris", "digits"):
        _check_options(key, options, ())
        splits = _bundled(key, val_size, test_size, seed, flatten)
    else:
        splits = _synthetic(key, val_size, test_size, seed, options)
    if flatten and splits.X_train.ndim > 2:
        splits = splits.flatten()
    kind = default_preprocess if preprocess is _DEFAULT else preprocess
    return splits.preprocess(kind)


def _data_directory(key: str, data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The directory of a file-based dataset (given, else found), None for the others."""
    if key not in _SUBDIRS:
        return None
    directory = Path(data_dir) if data_dir is not None else find_data_dir(key)
    if directory is None:
        roots = ", ".join(str(r) for r in data_roots())
        raise FileNotFoundError(f"load_dataset({key!r}): no data_dir given and none found "
                                f"under {roots}; pass data_dir= or set TINYGRAD_EDU_DATA")
    if not directory.is_dir():
        raise FileNotFoundError(f"load_dataset({key!r}): data directory {directory} does "
                                "not exist")
    return directory


def _cifar10(directory: Path, val_size: Any, test_size: Any, flatten: bool,
             options: dict[str, Any]) -> Splits:
    _check_options("cifar10", options, ("layout", "num_training", "num_train_batches", "scale"))
    layout = options.pop("layout", "rows" if flatten else "nchw")
    num_training = options.pop("num_training", 49000)
    X, y, X_test, y_test, classes = load_cifar10(directory, layout=layout, **options)
    val, test = _sizes(val_size, test_size, 1000, 1000)
    return course_split(X, y, X_test, y_test, num_training, val, test, classes, "cifar10")


def _bundled(key: str, val_size: Any, test_size: Any, seed: int, flatten: bool) -> Splits:
    """iris or digits, from scikit-learn."""
    if key == "iris":
        X, y, classes = load_iris()
        val, test = _sizes(val_size, test_size, 0.2, 0.2)
    else:
        X, y, classes = load_digits(flatten=flatten)
        val, test = _sizes(val_size, test_size, 0.1, 0.2)
    return train_val_test_split(X, y, val, test, seed, classes, key)


def _synthetic(key: str, val_size: Any, test_size: Any, seed: int, options: dict[str, Any]
               ) -> Splits:
    generator = _SYNTHETIC[key]
    options.setdefault("seed", seed)
    try:
        X, y = generator(**options)
    except TypeError as e:
        raise TypeError(f"load_dataset({key!r}): bad option for {generator.__name__}: "
                        f"{e}") from None
    val, test = _sizes(val_size, test_size, 0.1, 0.2)
    return train_val_test_split(X, y, val, test, seed, None, key)


def describe(splits: Splits) -> str:
    """A one-paragraph summary: sizes, shapes, dtypes, value range, label histogram."""
    counts = np.bincount(splits.y_train, minlength=splits.num_classes)
    lo, hi = float(splits.X_train.min()), float(splits.X_train.max())
    return (f"{splits!r}\n  X range [{lo:.3g}, {hi:.3g}]; train labels per class "
            f"{counts.tolist()}\n  split: {splits.info.get('split', '?')}")
