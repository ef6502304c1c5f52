"""examples/tour.ipynb: executed headless (nbclient + ipykernel) so that it never rots, and
kept identical to what scripts/make_tour_notebook.py writes, without stored outputs.

The kernel is ipykernel on this very interpreter (`sys.executable`), whatever kernel.json
files the machine or the user's home has: a stale user kernelspec named python3 pointing at
another Python would otherwise run the notebook against a different install.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode
from traitlets import default

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tour.ipynb"
GENERATOR = ROOT / "scripts" / "make_tour_notebook.py"
CELL_TIMEOUT = 180  # seconds per cell: a guard against a hang, not a speed requirement
PROBE = "import sys\nprint('kernel interpreter:', sys.executable)"


class _ThisInterpreterSpecs(KernelSpecManager):
    """Kernelspecs in which 'python3' is always ipykernel on this interpreter."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == "python3":
            return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())
        return super().get_kernel_spec(kernel_name)


class ThisInterpreterKernel(AsyncKernelManager):
    """The kernel manager nbclient creates (and shuts down) for the notebook."""

    @default("kernel_spec_manager")
    def _this_interpreter(self) -> KernelSpecManager:
        return _ThisInterpreterSpecs(data_dir=self.data_dir)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_tour_notebook", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NotebookNode]:
    """The tour executed once, cells by id. The kernel runs in an empty directory, so the
    notebook depends on no working directory and writes nothing into the repository. A
    probe cell appended to this in-memory copy reports the kernel's interpreter."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE, id="test-probe"))
    cwd = tmp_path_factory.mktemp("tour")
    client = NotebookClient(nb, kernel_name="python3", kernel_manager_class=ThisInterpreterKernel,
                            timeout=CELL_TIMEOUT, startup_timeout=120, allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError, with the cell's traceback, on any error
    assert list(cwd.iterdir()) == [], "the notebook wrote files into its working directory"
    return {cell.id: cell for cell in nb.cells}


def _results(cell: NotebookNode) -> list[dict[str, Any]]:
    """The rich values of a cell: execute_result and display_data bundles."""
    return [o["data"] for o in cell.outputs if o.output_type in ("execute_result",
                                                                  "display_data")]


def _stream(cell: NotebookNode, name: str) -> str:
    return "".join(o.text for o in cell.outputs
                   if o.output_type == "stream" and o.name == name)


def _value(cell: NotebookNode, mime: str) -> str:
    """The cell's own value (its execute_result) in one format."""
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(results) == 1, f"cell {cell.id!r}: expected one value, got {cell.outputs}"
    data = results[0]["data"]
    assert mime in data, f"cell {cell.id!r}: no {mime} in its value, only {sorted(data)}"
    return str(data[mime])


def test_kernel_is_ipykernel_on_this_interpreter(executed: dict[str, NotebookNode]) -> None:
    spec = ThisInterpreterKernel(kernel_name="python3").kernel_spec
    assert spec is not None and spec.argv[0] == sys.executable
    assert spec.argv[1:3] == ["-m", "ipykernel_launcher"]
    probe = _stream(executed["test-probe"], "stdout")
    assert probe.strip() == f"kernel interpreter: {sys.executable}"


def test_every_code_cell_ran_without_error(executed: dict[str, NotebookNode]) -> None:
    code = [c for c in executed.values() if c.cell_type == "code"]
    assert len(code) >= 8
    for cell in code:
        assert cell.execution_count is not None, f"cell {cell.id!r} did not run"
        assert all(o.output_type != "error" for o in cell.outputs), cell.outputs
    for quiet in ("setup", "autoencoder"):  # definitions only: no stray value shown
        assert executed[quiet].outputs == [], executed[quiet].outputs


def test_derivation_report_renders_as_html(executed: dict[str, NotebookNode]) -> None:
    html = _value(executed["derivation-ok"], "text/html")
    assert html.startswith("<div>") and "<table" in html
    assert "check_derivation of loss" in html and ": OK" in html
    assert re.search(r"<td style='color:#1a7f37[^']*'[^>]*>ok</td>", html)
    assert "its gradient is the sum of 2 paths" in html


def test_each_path_is_one_term_of_the_closed_form(executed: dict[str, NotebookNode]) -> None:
    out = _stream(executed["paths"], "stdout")
    assert re.search(r"through MatMul\b.*: W g x\^T", out), out
    assert re.search(r"through Permute\b.*: W x g\^T", out), out
    assert "the two paths sum to the claimed dL/dW: True" in out


def test_wrong_claim_is_diagnosed_as_a_missing_path(executed: dict[str, NotebookNode]) -> None:
    html = _value(executed["derivation-wrong"], "text/html")
    assert "MISMATCH for W" in html and ">WRONG</td>" in html
    assert "missing path" in html and "Permute" in html
    assert "claimed equals this one" in html


def test_graph_is_inline_svg_with_gradients(executed: dict[str, NotebookNode]) -> None:
    cell = executed["graph"]
    assert "W.grad equals the closed form: True" in _stream(cell, "stdout")
    svg = _value(cell, "image/svg+xml")
    assert "<svg" in svg and "</svg>" in svg
    assert ">W</text>" in svg
    assert "Σ 2 paths" in svg  # W's gradient is summed over its two uses
    assert re.search(r"‖∇‖ \d", svg), "edges carry no gradient norms"


def test_model_trains_with_a_progress_bar(executed: dict[str, NotebookNode]) -> None:
    cell = executed["train"]
    widgets = [d for d in _results(cell) if "application/vnd.jupyter.widget-view+json" in d]
    text_bar = re.search(r"train:\s+\d+%\|", _stream(cell, "stderr"))
    assert widgets or text_bar, f"no progress bar in {cell.outputs}"
    out = _stream(cell, "stdout")
    match = re.search(r"best validation accuracy ([\d.]+), test accuracy ([\d.]+)", out)
    assert match, out
    # Three spirals are easy for this MLP (about 0.98); chance is 1/3.
    assert float(match.group(1)) >= 0.9 and float(match.group(2)) >= 0.9


def test_curves_are_an_inline_image(executed: dict[str, NotebookNode]) -> None:
    png = base64.b64decode(_value(executed["curves"], "image/png"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 2 * height > 0  # three panels side by side


def test_committed_notebook_is_the_generators_output() -> None:
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert text == _generator().render(), (
        "examples/tour.ipynb differs from scripts/make_tour_notebook.py: edit the script and "
        "run `python scripts/make_tour_notebook.py`")


def test_generator_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = _generator()
    assert gen.main(["--check"]) == 0
    stale = tmp_path / "tour.ipynb"
    assert gen.main(["--check", "--out", str(stale)]) == 1  # missing
    assert gen.main(["--out", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == NOTEBOOK.read_text(encoding="utf-8")
    stale.write_text(stale.read_text(encoding="utf-8").replace("tour", "Tour", 1))
    assert gen.main(["--check", "--out", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_committed_notebook_is_valid_and_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert len({c.id for c in nb.cells}) == len(nb.cells)
