"""The Solver's progress bar shows by default in a terminal and in Jupyter (a ZMQ shell,
whose stderr is no terminal), not when output goes to a pipe; `progress=` decides when
given."""

from __future__ import annotations

import sys
import types

import pytest
from tqdm.auto import tqdm

from tinygrad_edu.train.progress import in_notebook, progress_bar


class ZMQInteractiveShell:  # named as IPython's Jupyter shell
    pass


class TerminalInteractiveShell:  # IPython in a terminal
    pass


def _fake_ipython(monkeypatch: pytest.MonkeyPatch, shell: object | None) -> None:
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_a_jupyter_kernel_is_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ipython(monkeypatch, ZMQInteractiveShell())
    assert in_notebook()
    _fake_ipython(monkeypatch, TerminalInteractiveShell())
    assert not in_notebook()
    _fake_ipython(monkeypatch, None)  # IPython imported, no shell running
    assert not in_notebook()
    monkeypatch.delitem(sys.modules, "IPython")
    assert not in_notebook()


def test_the_bar_is_on_in_jupyter_and_off_in_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert progress_bar(10, 0, None) is None  # a pipe or a file: no bar
    _fake_ipython(monkeypatch, ZMQInteractiveShell())
    bar = progress_bar(10, 3, None)
    assert isinstance(bar, tqdm) and bar.n == 3 and bar.total == 10
    bar.close()
    assert progress_bar(10, 0, False) is None  # progress=False wins
    forced = progress_bar(10, 0, True)
    assert forced is not None
    forced.close()
