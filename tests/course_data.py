"""Data for the course-API tests: seeded generators and Gaussian blobs (one cluster per
class), small enough to train on in milliseconds."""

from __future__ import annotations

import numpy as np


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def blobs(n: int, d: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = rng(seed)
    y = r.integers(0, classes, n)
    return 3.0 * r.standard_normal((classes, d))[y] + r.standard_normal((n, d)), y
