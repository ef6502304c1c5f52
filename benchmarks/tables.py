"""Result tables for the benchmark scripts: one value per run in every cell, markdown with
`median (min-max)` over runs and ratios taken within each run first, JSON round trips for
`run_all.py`. `common` re-exports everything here."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


@dataclass
class Row:
    label: str
    unit: str  # display unit of the values (stored in seconds): "s", "ms", "us", "ns"
    values: dict[str, list[float | None]]  # column -> one value per run


@dataclass
class ResultTable:
    """A table of timings: `columns` hold seconds, `ratios` are (numerator, denominator)
    column pairs shown as extra columns. A cell holds one value per run; with several runs
    the markdown shows `median (min-max)`, and ratios are taken within each run first."""

    title: str
    columns: list[str]
    ratios: list[tuple[str, str]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, label: str, unit: str, **values: float | None) -> None:
        """One row; keyword names are column names with spaces etc. replaced by `key()`."""
        by_key = {key(c): c for c in self.columns}
        unknown = set(values) - set(by_key)
        if unknown:
            raise KeyError(f"ResultTable.add: unknown columns {sorted(unknown)}; "
                           f"known: {sorted(by_key)}")
        if unit not in UNITS:
            raise ValueError(f"ResultTable.add: unit {unit!r} is not one of {list(UNITS)}")
        self.rows.append(Row(label, unit, {by_key[k]: [v] for k, v in values.items()}))

    def set(self, label: str, column: str, value: float | None) -> None:
        """Fill one cell of an existing row (e.g. the PyTorch column, timed last)."""
        for row in self.rows:
            if row.label == label:
                row.values[column] = [value]
                return
        raise KeyError(f"ResultTable.set: no row {label!r}")

    def markdown(self) -> str:
        headers = ["", *self.columns, *[f"{a} / {b}" for a, b in self.ratios]]
        lines = [f"**{self.title}**", "", "| " + " | ".join(headers) + " |",
                 "|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|"]
        for row in self.rows:
            scale = UNITS[row.unit]
            cells = [f"{row.label} ({row.unit})"]
            for c in self.columns:
                vals = [v * scale for v in row.values.get(c, []) if v is not None]
                cells.append(_range(vals, ""))
            for a, b in self.ratios:
                ra, rb = row.values.get(a, []), row.values.get(b, [])
                ratios = [x / y for x, y in zip(ra, rb) if x is not None and y]
                cells.append(_range(ratios, "x"))
            lines.append("| " + " | ".join(cells) + " |")
        lines += [f"\n{n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns,
                "ratios": [list(r) for r in self.ratios], "notes": self.notes,
                "rows": [{"label": r.label, "unit": r.unit, "values": r.values}
                         for r in self.rows]}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ResultTable:
        t = ResultTable(d["title"], list(d["columns"]), [tuple(r) for r in d["ratios"]],
                        notes=list(d["notes"]))
        t.rows = [Row(r["label"], r["unit"], {k: list(v) for k, v in r["values"].items()})
                  for r in d["rows"]]
        return t


def key(column: str) -> str:
    """The keyword name of a column for `ResultTable.add` ("numpy (hand)" -> numpy_hand)."""
    out = "".join(ch if ch.isalnum() else "_" for ch in column.lower())
    return "_".join(part for part in out.split("_") if part)


def merge_runs(runs: Sequence[Sequence[ResultTable]]) -> list[ResultTable]:
    """Tables of several runs of one script -> one set of tables with a value per run."""
    merged = [ResultTable.from_dict(t.to_dict()) for t in runs[0]]
    for tables in runs[1:]:
        for into, t in zip(merged, tables):
            for row_into, row in zip(into.rows, t.rows):
                for c in into.columns:
                    row_into.values.setdefault(c, [])
                    row_into.values[c] += row.values.get(c, [None])
    return merged


def _fmt(x: float, ratio: bool) -> str:
    a = abs(x)
    if ratio:
        return f"{x:.2f}" if a < 10 else f"{x:.1f}"
    digits = 3 if a < 10 else (1 if a < 100 else 0)
    return f"{x:.{digits}f}" if a < 1e5 else f"{x:.3g}"


def _range(vals: list[float], suffix: str) -> str:
    if not vals:
        return "-"
    ratio = suffix == "x"
    mid = _fmt(statistics.median(vals), ratio) + suffix
    if len(vals) == 1:
        return mid
    return f"{mid} ({_fmt(min(vals), ratio)}-{_fmt(max(vals), ratio)}{suffix})"
