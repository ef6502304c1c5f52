"""The Solver's progress bar: tqdm's notebook-aware bar (`tqdm.auto`), shown by default in a
terminal and in Jupyter, whose stderr is no terminal; off when output goes to a file or a
pipe, and when tqdm is not installed (it is the `train` extra, with ipywidgets for
Jupyter)."""

from __future__ import annotations

import sys
from typing import Any


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), where a progress bar is a widget."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_bar(total: int, initial: int, show: bool | None) -> Any:
    """A tqdm bar from `initial` to `total` iterations, or None; `show=None` decides by
    where the output goes."""
    if show is None:
        show = sys.stderr.isatty() or in_notebook()
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, desc="train", unit="it", leave=False)
