"""Shared by the gallery scripts: the --out option, the graph picture with gradients on its
edges, and the expectations each script checks (it exits 1 if one is not met)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_edu as tg
import viz
from tinygrad_edu.derive import DerivationReport
from tinygrad_edu.tensor import Tensor


class Gallery:
    """One derivation script: prints sections and reports, draws graphs, keeps score."""

    def __init__(self, name: str, doc: str | None) -> None:
        parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
        parser.add_argument("--out", default="out/derivations",
                            help="directory for the graph pictures (default out/derivations)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
        args = parser.parse_args()
        self.name = name
        self.out = Path(args.out)
        self.rng = np.random.default_rng(args.seed)
        self.failures: list[str] = []
        np.set_printoptions(precision=4, suppress=True)
        print(f"# {name}: {(doc or '').strip().splitlines()[0]}")

    def section(self, title: str) -> None:
        print(f"\n== {title}")

    def expect_ok(self, report: DerivationReport, what: str) -> None:
        print(report)
        if report.ok:
            print(f"check passed: {what}")
        else:
            self.failures.append(f"{what}: expected the check to pass")

    def expect_caught(self, report: DerivationReport, what: str, *phrases: str) -> None:
        """A wrong claim: the check must fail and its report mention each phrase."""
        print(report)
        text = str(report)
        missing = [p for p in phrases if p not in text]
        if report.ok:
            self.failures.append(f"{what}: the wrong claim was not caught")
        elif missing:
            self.failures.append(f"{what}: the report does not mention {missing}")
        else:
            print(f"mistake caught: {what}")

    def expect(self, condition: bool, what: str) -> None:
        print(f"{'yes' if condition else 'NO'}: {what}")
        if not condition:
            self.failures.append(what)

    def graph(self, loss: Tensor, params: dict[str, Tensor], suffix: str = "",
              **kwargs: Any) -> None:
        """Backward under `record_gradients()`, then the graph with those gradients on its
        edges, as `<out>/<name><suffix>.svg` (the DOT text if Graphviz is missing)."""
        with tg.record_gradients() as tape:
            loss.backward()
        g = viz.draw_graph(loss, tape=tape, params=params, **kwargs)
        path = self.out / f"{self.name}{suffix}.svg"
        try:
            written = viz.render(g, path)
        except viz.GraphvizNotFoundError:
            written = path.with_suffix(".dot")
            written.parent.mkdir(parents=True, exist_ok=True)
            written.write_text(g.source)
        print(f"graph: {written}")

    def finish(self) -> None:
        if self.failures:
            print(f"\n{self.name}: UNEXPECTED: " + "; ".join(self.failures))
            sys.exit(1)
        print(f"\n{self.name}: all checks as expected")


def leaf(array: np.ndarray, name: str) -> Tensor:
    """A float64 leaf that requires grad, named for the drawing."""
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True, name=name)


def const(array: Any, name: str) -> Tensor:
    """A named float64 constant (data, not a parameter)."""
    return Tensor(np.asarray(array, dtype=np.float64), name=name)
