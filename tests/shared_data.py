"""Where the tests find what the setup contract puts beside the repository: the real MNIST
test set in ../shared (never copied into the repo). Missing, it is an error that says
where it was looked for, not a skip: every test that needs it would otherwise pass
without having run."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def shared_mnist() -> Path:
    """The directory of the MNIST test set, or a failure naming where it should be."""
    if not SHARED_MNIST.is_dir():
        pytest.fail(f"real MNIST not found at {SHARED_MNIST}: the repository expects "
                    "../shared/datasets/mnist beside it (see the README's setup)")
    return SHARED_MNIST
