"""Where the course models and classifiers draw their random numbers.

By default a numpy Generator (`creation.numpy_generator(seed)`): tinygrad_edu's own, which
leaves numpy's global state alone, as STYLE asks. With `numpy_random=True` (the models'
opt-in, like `Solver(numpy_random=True)`) they are instead the courses' own calls on numpy's
legacy global generator (`np.random.randn(*shape)`, `np.random.choice(n, k)`), in the
courses' order, so that a notebook's `np.random.seed(231)` gives the course's weights and
batches, and its printed numbers, digit for digit. That is a deliberate departure from
STYLE's "no global np.random", only on request; here is the only place the models make it.
A `None` generator below stands for numpy's global one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.creation import numpy_generator

__all__ = ["course_generator", "randn", "choice"]


def course_generator(seed: Any, numpy_random: bool, op: str, *, strict: bool = True
                     ) -> np.random.Generator | None:
    """The generator a model draws from: None (numpy's global one) with numpy_random, else
    `numpy_generator(seed)`. With `strict`, giving both a seed and numpy_random is an error
    (the seed would be ignored)."""
    if not isinstance(numpy_random, bool | np.bool_):
        raise TypeError(f"{op}: numpy_random must be True or False, got {numpy_random!r}")
    if not numpy_random:
        return numpy_generator(seed)
    if strict and seed is not None:
        raise ValueError(f"{op}: give seed (tinygrad_edu's generator) or numpy_random=True "
                         f"(numpy's global generator, seeded by np.random.seed), not both; "
                         f"got seed={seed!r}")
    return None


def randn(rng: np.random.Generator | None, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws of `shape` (float64): from rng, or, for rng None, the courses'
    own call `np.random.randn(*shape)` on numpy's global generator."""
    if rng is None:
        return np.random.randn(*shape)  # noqa: NPY002  (the courses' call: numpy_random=True)
    return rng.standard_normal(shape)


def choice(rng: np.random.Generator | None, n: int, k: int) -> np.ndarray:
    """k indices into n drawn with replacement: rng.integers(0, n, k), or, for rng None, the
    courses' `np.random.choice(n, k)` on numpy's global generator."""
    if rng is None:
        return np.random.choice(n, k)  # noqa: NPY002  (the courses' call: numpy_random=True)
    return rng.integers(0, n, size=k)
