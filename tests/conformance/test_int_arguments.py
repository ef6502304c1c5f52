"""Non-integer sizes, dims and counts: PyTorch refuses them at the call, and so do we, with
the same exception class (TypeError for a float or bool where an int belongs; for a bad
count or split size PyTorch raises RuntimeError and we raise ValueError, a documented
difference: see docs/pytorch.md). Integer spellings give the same shapes."""

from __future__ import annotations

import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import code

REFUSED_TYPE = [
    "x.reshape(6.0)", "x.view(6.0)", "x.repeat(1.5, 1)", "x.split(1.5)", "x.chunk(2.0)",
    "x.split([1.0, 1.0])", "torch.zeros(2.0)", "torch.randn(2.5)", "torch.full((2.0,), 1.0)",
    "torch.ones((2, 1.5))",
]
REFUSED_VALUE = ["x.chunk(0)", "x.chunk(-1)", "x.split([4, -1], 1)", "x.split(0)"]
ACCEPTED = ["x.reshape(6)", "x.view(-1)", "x.view(torch.tensor(6))", "x.repeat(2, 1)",
            "x.split([1, 2], dim=1)", "x.chunk(2, 1)", "torch.zeros((2, 3))",
            "x.expand(4, 2, 3)", "x.permute(1, 0)", "x.unsqueeze(-1)"]


def _both(src: str) -> tuple[object, object]:
    f = code(src)
    return f(tg, tg.zeros(2, 3)), f(torch, torch.zeros(2, 3))


@pytest.mark.parametrize("src", REFUSED_TYPE)
def test_floats_refused_as_pytorch(src: str) -> None:
    f = code(src)
    with pytest.raises(TypeError):
        f(torch, torch.zeros(2, 3))
    with pytest.raises(TypeError):
        f(tg, tg.zeros(2, 3))


@pytest.mark.parametrize("src", REFUSED_VALUE)
def test_bad_counts_refused_as_pytorch(src: str) -> None:
    f = code(src)
    with pytest.raises(RuntimeError):
        f(torch, torch.zeros(2, 3))
    with pytest.raises(ValueError):
        f(tg, tg.zeros(2, 3))


@pytest.mark.parametrize("src", ACCEPTED)
def test_integer_spellings_agree(src: str) -> None:
    ours, theirs = _both(src)
    if isinstance(theirs, tuple):
        assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]  # type: ignore[attr-defined]
    else:
        assert tuple(ours.shape) == tuple(theirs.shape)  # type: ignore[attr-defined]
