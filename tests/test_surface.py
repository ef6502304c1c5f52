"""Every name docs/pytorch_surface.md lists exists here, under PyTorch's spelling."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from surface_names import listed_names, listed_test_modules, resolve

import tinygrad_edu


def _import_submodules() -> None:
    for name in ("nn", "nn.functional", "nn.init", "nn.utils", "optim", "optim.lr_scheduler"):
        importlib.import_module(f"tinygrad_edu.{name}")


_import_submodules()


def test_the_doc_lists_names_once() -> None:
    names = listed_names()
    assert names, "docs/pytorch_surface.md lists no names (its tables were not read)"
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"listed twice in docs/pytorch_surface.md: {dupes}"


@pytest.mark.parametrize("name", listed_names())
def test_listed_name_exists(name: str) -> None:
    resolve(tinygrad_edu, name)  # raises AttributeError naming the missing part


TESTS = Path(__file__).resolve().parent


def test_every_row_names_a_test_module_that_exists() -> None:
    missing = [(name, module) for name, module in listed_test_modules()
               if not any((TESTS / sub / f).exists() for sub in ("conformance", ".")
                          for f in module.split(", "))]
    assert not missing, f"rows whose test module does not exist: {missing[:10]}"
