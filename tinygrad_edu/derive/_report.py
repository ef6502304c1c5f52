"""The report of a derivation check: one row per input, diagnoses, paths, text and HTML."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

import numpy as np

VERDICT_HELP = {
    "ok": "matches autograd and the numeric estimate",
    "WRONG": "differs from autograd (and autograd agrees with the numeric estimate)",
    "SHAPE": "right values, wrong shape (a gradient has its input's shape)",
    "UNSURE": "matches autograd, but autograd and the numeric estimate disagree (a kink, or "
              "a step `eps` too large for this function?)",
    "AUTOGRAD?": "matches the numeric estimate but not autograd: is a custom Function's "
                 "backward wrong?",
}


@dataclass
class PathContribution:
    """The gradient that reaches a tensor along one path (one edge out of it)."""

    label: str
    gradient: np.ndarray
    matches_claimed: bool = False

    @property
    def norm(self) -> float:
        return float(np.linalg.norm(self.gradient))


@dataclass
class InputCheck:
    """The check of one input: claimed vs autograd vs central differences.

    `max_abs_error` and `rel_error` compare claimed with autograd (`rel_error` is the
    courses' max |c - a| / max(1e-8, |c| + |a|)); `numeric_error` is max |autograd - numeric|.
    `worst` is the element where claimed is furthest outside the tolerance, and
    `claimed_at`/`autograd_at`/`numeric_at` the three values there. NaN errors and a `worst`
    of None mean the claimed array could not be lined up with the input (wrong shape).
    """

    name: str
    shape: tuple[int, ...]
    claimed: np.ndarray
    autograd: np.ndarray
    numeric: np.ndarray
    max_abs_error: float
    rel_error: float
    numeric_error: float
    worst: tuple[int, ...] | None
    claimed_at: float
    autograd_at: float
    numeric_at: float
    verdict: str
    diagnosis: list[str] = field(default_factory=list)
    paths: list[PathContribution] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


def _g(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.6g}"


def _e(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.2e}"


@dataclass
class DerivationReport:
    """Result of `check_derivation` / `check_jacobian` / `check_hessian` and of the
    hand-written-backward checkers. Truthy when every input is ok; prints as a table;
    renders as HTML in Jupyter. `report["W"]` (or `report[0]`) is one input's row."""

    title: str
    kind: str
    inputs: list[InputCheck]
    claim_label: str = "claimed"
    value: float | None = None
    notes: list[str] = field(default_factory=list)
    settings: str = ""
    failed_notes: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed_notes and all(r.ok for r in self.inputs)

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, key: int | str) -> InputCheck:
        if isinstance(key, int):
            return self.inputs[key]
        for r in self.inputs:
            if r.name == key:
                return r
        raise KeyError(f"DerivationReport: no input named {key!r}; inputs are "
                       f"{[r.name for r in self.inputs]}")

    @property
    def headline(self) -> str:
        bad = [r.name for r in self.inputs if not r.ok]
        status = "OK" if self.ok else ("MISMATCH for " + ", ".join(bad) if bad else "MISMATCH")
        value = f" at value {self.value:.6g}" if self.value is not None else ""
        return f"{self.title}{value}: {status}"

    def _rows(self) -> list[list[str]]:
        head = ["input", "shape", "max abs err", "rel err", "worst", self.claim_label,
                "autograd", "numeric", "verdict"]
        rows = [head]
        for r in self.inputs:
            rows.append([r.name, str(r.shape), _e(r.max_abs_error), _e(r.rel_error),
                         "-" if r.worst is None else str(r.worst), _g(r.claimed_at),
                         _g(r.autograd_at), _g(r.numeric_at), r.verdict])
        return rows

    def _details(self) -> list[str]:
        lines = []
        for r in self.inputs:
            for d in r.diagnosis:
                lines.append(f"{r.name}: {d}")
            if len(r.paths) > 1:
                lines.append(f"{r.name}: its gradient is the sum of {len(r.paths)} paths:")
                for p in r.paths:
                    mark = f"  <- {self.claim_label} equals this one" if p.matches_claimed else ""
                    lines.append(f"    through {p.label}: norm {p.norm:.6g}{mark}")
        return lines + self.notes

    def __str__(self) -> str:
        rows = self._rows()
        widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
        out = [self.headline]
        for row in rows:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        for line in self._details():
            indent = " " * (len(line) - len(line.lstrip()) + 4)
            out += textwrap.wrap(line, 100, initial_indent="  ", subsequent_indent="  " + indent,
                                 break_on_hyphens=False) or [""]
        if self.settings:
            out += textwrap.wrap(self.settings, 100, initial_indent="  ",
                                 subsequent_indent="      ", break_on_hyphens=False)
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = self._rows()
        color = {"ok": "#1a7f37"}
        cells = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = [f"<tr>{cells}</tr>"]
        for row in rows[1:]:
            verdict = row[-1]
            tds = "".join(f"<td>{html.escape(c)}</td>" for c in row[:-1])
            style = f"color:{color.get(verdict, '#cf222e')};font-weight:bold"
            title = html.escape(VERDICT_HELP.get(verdict, ""))
            body.append(f"<tr>{tds}<td style='{style}' title='{title}'>"
                        f"{html.escape(verdict)}</td></tr>")
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self._details())
        settings = f"<p><small>{html.escape(self.settings)}</small></p>" if self.settings else ""
        return (f"<div><p><b>{html.escape(self.headline)}</b></p>"
                f"<table style='font-family:monospace'>{''.join(body)}</table>"
                + (f"<ul>{items}</ul>" if items else "") + settings + "</div>")
