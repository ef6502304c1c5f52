"""The names listed in docs/pytorch_surface.md, read from its tables (first column)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "docs" / "pytorch_surface.md"
_ROW = re.compile(r"^\|\s*`(torch(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")


def listed_names() -> list[str]:
    """Every `torch.…` name in the first column of a table row, in order."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    return [m.group(1) for line in lines if (m := _ROW.match(line))]


def resolve(root: Any, dotted: str) -> Any:
    """`torch.nn.functional.mish` looked up from `root` (the module standing for `torch`);
    `torch.Tensor.exp_` resolves to the Tensor method. Raises AttributeError naming the
    first missing part."""
    obj = root
    path = "torch"
    for part in dotted.split(".")[1:]:
        path += "." + part
        if not hasattr(obj, part):
            raise AttributeError(f"{path} is listed in {DOC.name} but does not exist")
        obj = getattr(obj, part)
    return obj


def listed_test_modules() -> list[tuple[str, str]]:
    """(name, test module) for every row: the module named in the last column."""
    out = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out.append((m.group(1), cells[-1]))
    return out
