"""docs/pytorch_surface.md lists only spellings PyTorch has: each name resolves in torch."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from surface_names import listed_names, resolve  # noqa: E402

for _sub in ("nn.functional", "nn.init", "nn.utils.rnn", "optim.lr_scheduler"):
    importlib.import_module(f"torch.{_sub}")


@pytest.mark.parametrize("name", listed_names())
def test_pytorch_has_the_listed_name(name: str) -> None:
    resolve(torch, name)
