"""Small 2-d classification sets generated in code (numpy only), for instant demos.

Each function returns `(X, y)`: X of shape (N, 2) (blobs: (N, n_features)) in `dtype`
(float32 by default), y int64 class labels. Everything comes from
`numpy.random.default_rng(seed)`, so the same arguments give the same arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, shuffle: bool
              ) -> tuple[np.ndarray, np.ndarray]:
    if shuffle:
        perm = rng.permutation(len(y))
        X, y = X[perm], y[perm]
    return X, y


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
                 seed: int = 0, dtype: Any = np.float32, shuffle: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The courses' spiral: arm j has points at radius r in linspace(0, 1, n) and angle
    t = 4j + 4r + noise * N(0, 1), placed at (r sin t, r cos t). Not linearly separable;
    ordered by class unless `shuffle=True`."""
    if n_per_class < 1 or n_classes < 1:
        raise ValueError(f"make_spirals: n_per_class and n_classes must be >= 1, got "
                         f"{n_per_class} and {n_classes}")
    rng = np.random.default_rng(seed)
    r = np.linspace(0.0, 1.0, n_per_class)
    arms = np.arange(n_classes)[:, None]
    t = 4.0 * arms + np.linspace(0.0, 4.0, n_per_class) \
        + noise * rng.standard_normal((n_classes, n_per_class))
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=-1).reshape(-1, 2).astype(dtype)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    return _shuffled(X, y, rng, shuffle)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0,
               dtype: Any = np.float32, shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's make_moons): class 0 on
    (cos s, sin s), class 1 on (1 - cos s, 0.5 - sin s), s in [0, pi], plus Gaussian noise
    of standard deviation `noise`."""
    if n_samples < 2:
        raise ValueError(f"make_moons: n_samples must be >= 2, got {n_samples}")
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    s_out, s_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(s_out), np.sin(s_out)], 1),
                        np.stack([1 - np.cos(s_in), 0.5 - np.sin(s_in)], 1)])
    X = (X + noise * rng.standard_normal(X.shape)).astype(dtype)
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _shuffled(X, y, rng, shuffle)


def make_blobs(n_samples: int = 300, centers: int | Any = 3, n_features: int = 2,
               cluster_std: float = 1.0, center_box: tuple[float, float] = (-10.0, 10.0),
               seed: int = 0, dtype: Any = np.float32, shuffle: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian clusters (as scikit-learn's make_blobs). `centers`: a count (drawn
    uniformly in `center_box`) or an array (k, n_features). Samples are spread evenly over
    the clusters, the first ones getting one extra when n_samples % k != 0."""
    rng = np.random.default_rng(seed)
    if isinstance(centers, int | np.integer):
        if centers < 1:
            raise ValueError(f"make_blobs: centers must be >= 1, got {centers}")
        centre_array = rng.uniform(*center_box, size=(int(centers), n_features))
    else:
        centre_array = np.asarray(centers, dtype=np.float64)
        if centre_array.ndim != 2:
            raise ValueError(f"make_blobs: centers must be a count or a (k, n_features) array, "
                             f"got shape {centre_array.shape}")
    k = centre_array.shape[0]
    if n_samples < k:
        raise ValueError(f"make_blobs: n_samples ({n_samples}) must be >= the number of "
                         f"centers ({k})")
    counts = np.full(k, n_samples // k) + (np.arange(k) < n_samples % k)
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    X = (centre_array[y] + cluster_std * rng.standard_normal((n_samples, centre_array.shape[1]))
         ).astype(dtype)
    return _shuffled(X, y, rng, shuffle)
