"""Iris and the 8x8 digits, through scikit-learn (bundled with it: no download).

scikit-learn is optional (`pip install 'tinygrad-edu[datasets]'`); without it these
functions raise ImportError saying so, and the synthetic sets still work.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _sklearn_datasets(name: str) -> Any:
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(
            f"load_{name}: the {name} dataset comes from scikit-learn, which is not installed; "
            "install it with `pip install scikit-learn` (or `pip install "
            "'tinygrad-edu[datasets]'`), or use a synthetic set (spirals, moons, blobs)"
        ) from None
    return datasets


def load_iris(dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """`(X, y, class_names)`: 150 flowers x 4 features (cm), 3 classes of 50."""
    bunch = _sklearn_datasets("iris").load_iris()
    return (np.asarray(bunch.data, dtype=dtype), np.asarray(bunch.target, dtype=np.int64),
            tuple(str(n) for n in bunch.target_names))


def load_digits(dtype: Any = np.float32, flatten: bool = False, scale: bool = True
                ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """`(X, y, class_names)`: 1,797 8x8 grey images of digits 0-9, values 0..16 scaled to
    [0, 1] (`scale=True`); shape (N, 1, 8, 8), or (N, 64) with `flatten=True`."""
    bunch = _sklearn_datasets("digits").load_digits()
    X = np.asarray(bunch.data, dtype=dtype)
    if scale:
        X *= X.dtype.type(1 / 16)
    X = X if flatten else X.reshape(-1, 1, 8, 8)
    return X, np.asarray(bunch.target, dtype=np.int64), tuple(str(d) for d in range(10))
