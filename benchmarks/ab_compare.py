"""Old code against new code, in one process: does a change to the engine, `apply` or the
ops keep its speed?

    .venv/bin/python benchmarks/ab_compare.py OLD_REV [--rounds 9] [--rows chain,mlp,...]

OLD_REV's `tinygrad_edu/` is exported (git archive) to a temporary directory under another
package name, so both versions import side by side; the rows then run in rounds, old and
new alternating inside each round, so a slow spell of the machine hits both. Each cell is
the best of 3 calls; the table shows each side's median over the rounds and the median
new/old ratio with its interquartile range (the spread: a change is a regression when
its median ratio is worse by more than 5% or than the spread, whichever is larger).
Run it on a quiet machine with OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import importlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OLD = "tinygrad_edu_before"

Row = Callable[[Any], tuple[Callable[[], Any], int]]


def export_old(rev: str, into: Path) -> None:
    """OLD_REV's package, renamed so it imports beside the working tree's."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "tinygrad_edu"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "tinygrad_edu").rename(into / OLD)
    for path in (into / OLD).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\btinygrad_edu\b", OLD, text), encoding="utf-8")


def chain_nograd(t: Any) -> tuple[Callable[[], Any], int]:
    x = t.tensor(np.random.rand(4).astype(np.float32))

    def run() -> None:
        with t.no_grad():
            _chain(x)

    return run, 1000


def chain_recording(t: Any) -> tuple[Callable[[], Any], int]:
    x = t.tensor(np.random.rand(4).astype(np.float32), requires_grad=True)
    return (lambda: _chain(x)), 1000


def chain_backward(t: Any) -> tuple[Callable[[], Any], int]:
    x = t.tensor(np.random.rand(4).astype(np.float32), requires_grad=True)

    def run() -> None:
        _chain(x).sum().backward()
        x.grad = None

    return run, 1000


def _chain(y: Any) -> Any:
    """1,000 cheap ops on 4 numbers: the time is the per-op overhead."""
    for _ in range(250):
        y = (y * 1.0001 + 0.0001).exp().log()
    return y


def mlp_linear(t: Any) -> tuple[Callable[[], Any], int]:
    nn = t.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = t.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _step(t, lambda x: model(x), opt, (128, 784)), 1


def mlp_raw(t: Any) -> tuple[Callable[[], Any], int]:
    rng = np.random.default_rng(0)
    w1 = t.tensor(rng.standard_normal((784, 256), dtype=np.float32) * 0.01, requires_grad=True)
    b1 = t.zeros(256, requires_grad=True)
    w2 = t.tensor(rng.standard_normal((256, 10), dtype=np.float32) * 0.01, requires_grad=True)
    b2 = t.zeros(10, requires_grad=True)
    opt = t.optim.SGD([w1, b1, w2, b2], lr=0.01)
    return _step(t, lambda x: (x @ w1 + b1).relu() @ w2 + b2, opt, (128, 784)), 1


def conv(t: Any) -> tuple[Callable[[], Any], int]:
    nn = t.nn
    model = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(32 * 14 * 14, 10))
    opt = t.optim.SGD(model.parameters(), lr=0.01)
    return _step(t, lambda x: model(x), opt, (32, 16, 14, 14)), 1


def convnet(t: Any) -> tuple[Callable[[], Any], int]:
    nn = t.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    opt = t.optim.Adam(model.parameters(), lr=1e-3)
    return _step(t, lambda x: model(x), opt, (32, 1, 28, 28)), 1


def _step(t: Any, forward: Callable[[Any], Any], opt: Any, shape: tuple[int, ...]
          ) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = t.tensor(rng.random(shape, dtype=np.float32))
    y = t.tensor(rng.integers(0, 10, shape[0]))

    def run() -> None:
        loss = t.nn.functional.cross_entropy(forward(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return run


ROWS: dict[str, tuple[str, str, Row]] = {
    "nograd": ("per-op forward, no_grad", "us/op", chain_nograd),
    "recording": ("per-op forward, recording", "us/op", chain_recording),
    "chain": ("per-op forward+backward", "us/op", chain_backward),
    "mlp": ("MLP step, nn.Linear (128x784-256-10)", "ms", mlp_linear),
    "mlp_raw": ("MLP step, raw x @ W + b", "ms", mlp_raw),
    "conv": ("conv 3x3 step (32x16x14x14 -> 32)", "ms", conv),
    "convnet": ("convnet step (2 conv + pool, Adam)", "ms", convnet),
}


Times = dict[tuple[str, str], list[float]]


def measure(libs: dict[str, Any], rows: list[str], rounds: int) -> Times:
    prepared = {(r, side): ROWS[r][2](lib) for r in rows for side, lib in libs.items()}
    times: Times = {key: [] for key in prepared}
    for _ in range(rounds):
        for r in rows:
            for side in libs:
                run, per = prepared[(r, side)]
                run()  # warm-up
                best = min(_timed(run) for _ in range(3))
                scale = 1e6 if ROWS[r][1] == "us/op" else 1e3
                times[(r, side)].append(best / per * scale)
    return times


def _timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def table(times: Times, rows: list[str], rev: str) -> str:
    lines = [f"| row | unit | {rev} | working tree | new/old (median) | spread (IQR) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        old, new = times[(r, "old")], times[(r, "new")]
        ratios = sorted(n / o for n, o in zip(new, old))
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios * 3)
        lines.append(f"| {ROWS[r][0]} | {ROWS[r][1]} | {statistics.median(old):.3g} | "
                     f"{statistics.median(new):.3g} | {statistics.median(ratios):.3f} | "
                     f"{q1:.3f}-{q3:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the old revision (a commit, tag or branch)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated: " + ",".join(ROWS))
    args = parser.parse_args()
    rows = [r for r in args.rows.split(",") if r]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    with tempfile.TemporaryDirectory() as tmp:
        export_old(args.rev, Path(tmp))
        sys.path[:0] = [tmp, str(ROOT)]
        libs = {"old": importlib.import_module(OLD), "new": importlib.import_module("tinygrad_edu")}
        print(table(measure(libs, rows, args.rounds), rows, args.rev))


if __name__ == "__main__":
    main()
