"""What a sweep returns: one `SweepRun` per combination and the `SweepResult` (ranking,
text table, JSON and heatmap files)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class SweepRun:
    """One combination's outcome. `val_acc` is the best validation accuracy seen (the
    parameters the Solver restored), `test_acc` those parameters' accuracy on the test split
    (NaN without one); status is 'ok', 'diverged' (stopped by the Solver, or a final loss
    not finite or above the starting loss) or 'skipped'; `time_s` the run's wall time."""

    params: dict[str, Any]
    status: str = "skipped"
    val_acc: float = float("nan")
    test_acc: float = float("nan")
    train_acc: float = float("nan")
    val_loss: float = float("nan")
    train_loss: float = float("nan")
    time_s: float = 0.0
    iterations: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class SweepResult:
    """All runs (in the order they ran), the best one and its trained model, the files."""

    keys: list[str]
    runs: list[SweepRun]
    best: SweepRun | None = None
    best_model: Any = None
    elapsed_s: float = 0.0
    json_path: Path | None = None
    heatmap_path: Path | None = None

    def ranked(self) -> list[SweepRun]:
        """'ok' runs by validation accuracy (best first), then diverged, then skipped."""
        order = {"ok": 0, "diverged": 1, "skipped": 2}

        def key(run: SweepRun) -> tuple[int, float]:
            acc = run.val_acc if math.isfinite(run.val_acc) else -1.0
            return order.get(run.status, 3), -acc

        return sorted(self.runs, key=key)

    def table(self) -> str:
        """The runs as a text table sorted by validation accuracy."""
        # test_acc only when the data had a test split
        tested = any(math.isfinite(run.test_acc) for run in self.runs)
        scores = ["val_acc", *(["test_acc"] if tested else []), "train_acc", "val_loss",
                  "train_loss"]
        head = ["rank", *self.keys, *scores, "time_s", "status"]
        rows = [head]
        for i, run in enumerate(self.ranked(), start=1):
            cells = [str(i), *(_fmt(run.params[k]) for k in self.keys)]
            cells += [_fmt(getattr(run, name), ".4f") for name in scores]
            # milliseconds: a small grid's runs take well under 0.1 s each
            cells += ["-" if run.status == "skipped" else _fmt(run.time_s, ".3f"), run.status]
            rows.append(cells)
        widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        done = sum(r.status != "skipped" for r in self.runs)
        lines.append(f"{done} of {len(self.runs)} runs in {self.elapsed_s:.1f} s"
                     + (f"; best: {params_text(self.best.params)} (val_acc "
                        f"{self.best.val_acc:.4f})" if self.best else "; no run finished"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        return {"keys": self.keys, "elapsed_s": self.elapsed_s,
                "best": asdict(self.best) if self.best else None,
                "runs": [asdict(r) for r in self.ranked()]}


def _fmt(value: Any, spec: str = "g") -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else format(value, spec)
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


def params_text(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"grid_search: cannot write {type(o).__name__} to JSON")


def _finite(obj: Any) -> Any:
    """NaN/Inf as null: JSON has no NaN (Python would write a token other tools reject)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def write_outputs(result: SweepResult, out: Path, grid: dict[str, list[Any]],
           axes: tuple[str, str] | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    result.json_path = out / "sweep.json"
    doc = {"grid": grid, "heatmap_axes": axes, **result.to_dict()}
    result.json_path.write_text(json.dumps(_finite(doc), indent=2, default=_json_default))
    if axes is None:
        return
    def label(axis: str) -> Callable[[Any], Any]:  # tuples and strings sort as text
        numeric = all(isinstance(v, int | float) for v in grid[axis])
        return (lambda v: v) if numeric else _fmt

    fx, fy = label(axes[0]), label(axes[1])
    cells: dict[tuple[Any, Any], float] = {}
    for run in result.runs:
        x, y = fx(run.params[axes[0]]), fy(run.params[axes[1]])
        acc = run.val_acc if run.status == "ok" else float("nan")
        old = cells.get((x, y), float("nan"))
        cells[(x, y)] = acc if math.isnan(old) or acc > old else old
    try:
        import viz
    except ImportError:  # matplotlib is an extra; the JSON is written regardless
        return
    result.heatmap_path = Path(viz.plot_heatmap(  # type: ignore[arg-type]
        cells, axes[0], axes[1], "val_acc", out / "heatmap.png",
        title=f"best validation accuracy by {axes[0]} and {axes[1]}"))
