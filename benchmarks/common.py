"""Shared helpers for the benchmark scripts: timing, tables, torch detection, a main().

Timing rules (why each one is here):
- every measurement starts with untimed warm-up calls (first calls pay for imports, BLAS
  thread start-up, numpy's dispatch caches);
- the reported number is the median over repeats, robust to the odd slow repeat that
  another process on a 2-core machine causes;
- Python's cyclic GC stays ON (`timeit` switches it off): building big graphs triggers
  collections, and a user pays for them too;
- rows are never interleaved with PyTorch rows: torch's OpenMP workers keep spinning
  after a call and steal the cores numpy's OpenBLAS threads want. Scripts therefore time
  every numpy / tinygrad_edu row first and all PyTorch rows last. numpy and tinygrad_edu
  rows that are compared with each other may run in rounds (`measure_rounds`).

A script builds `ResultTable`s and hands a function returning them to `benchmark_main`,
which parses the standard flags (`--repeats`, `--quick`, `--no-torch`), prints the
command and the machine, then the tables as markdown. With the environment variable
`TINYGRAD_EDU_BENCH_JSON=path` it also writes the raw numbers there, so `run_all.py` can
merge several runs into median (min-max) ranges. A new script looks like:

    from common import ResultTable, benchmark_main, measure

    def run(args, torch):            # torch: the module, or None
        t = ResultTable("conv2d 3x3, batch 32", columns=["numpy (hand)", "tinygrad_edu"],
                        ratios=[("tinygrad_edu", "numpy (hand)")])
        ours = measure(step, repeats=args.repeats).median
        t.add("forward+backward", "ms", numpy_hand=floor, tinygrad_edu=ours)
        return [t]

    if __name__ == "__main__":
        benchmark_main("what this script measures", run)
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from tables import UNITS, ResultTable, Row, key, merge_runs  # noqa: F401  (re-exported)

JSON_ENV = "TINYGRAD_EDU_BENCH_JSON"
#: which statistic `Timing.value` reports; `benchmark_main` sets it from `--stat`
STAT = {"name": "median"}


# ----------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Seconds per call, one entry per repeat."""

    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def value(self) -> float:
        """The statistic the run reports: the median, or the minimum with `--stat min`
        (the intrinsic cost, for a machine too busy for medians to mean anything)."""
        return self.best if STAT["name"] == "min" else self.median

    def describe(self, unit: str = "us") -> str:
        """median and (min-max) over the repeats in `unit`, for progress lines."""
        k = UNITS[unit]
        return (f"{self.median * k:.4g} {unit} (min {min(self.times) * k:.4g}, "
                f"max {max(self.times) * k:.4g}, {len(self.times)} repeats)")

    @property
    def spread(self) -> float:
        """(max - min) / median over the repeats: how noisy this row was."""
        return (max(self.times) - min(self.times)) / self.median if self.median else 0.0


def measure(
    fn: Callable[..., Any],
    *,
    repeats: int,
    warmup: int = 2,
    number: int = 1,
    setup: Callable[[], Any] | None = None,
) -> Timing:
    """Time `fn()` (or `fn(setup())` when `setup` is given; setup is not timed).

    Each repeat calls fn `number` times and records the mean per call; `warmup` untimed
    calls come first. The cyclic GC is left on, and a full collection runs before the
    repeats so garbage from earlier rows is not charged to this one.
    """
    if setup is not None and number != 1:
        raise ValueError("measure: setup= needs number=1 (one fresh state per timed call)")
    for _ in range(warmup):
        fn(setup()) if setup is not None else fn()
    gc.collect()
    times: list[float] = []
    clock = time.perf_counter
    for _ in range(repeats):
        if setup is not None:
            state = setup()
            t0 = clock()
            fn(state)
            times.append(clock() - t0)
            del state
            continue
        t0 = clock()
        for _ in range(number):
            fn()
        times.append((clock() - t0) / number)
    return Timing(times)


def measure_rounds(
    fns: dict[str, Callable[[], Any]], *, repeats: int, warmup: int = 2,
    number: dict[str, int] | None = None,
) -> dict[str, Timing]:
    """Time several numpy / tinygrad_edu rows in rounds: each repeat runs every row once
    (`number[label]` calls), starting each round one row further, so drift over a run (CPU
    clock, heap layout, another process) and the caches a previous row leaves fall on all
    rows alike; back to back, the same two rows moved 5-9% between runs here. Never pass
    PyTorch rows (see the module notes)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    number = number or {label: calls_per_repeat(fn) for label, fn in fns.items()}
    gc.collect()
    times: dict[str, list[float]] = {label: [] for label in fns}
    clock = time.perf_counter
    labels = list(fns)
    for r in range(repeats):
        # Rotate the order each round: a row that follows a memory-hungry one starts with
        # colder caches, and every row should follow every other equally often.
        for label in labels[r % len(labels):] + labels[:r % len(labels)]:
            fn = fns[label]
            n = number[label]
            t0 = clock()
            for _ in range(n):
                fn()
            times[label].append((clock() - t0) / n)
    return {label: Timing(t) for label, t in times.items()}


def calls_per_repeat(fn: Callable[[], Any], target_seconds: float = 0.02) -> int:
    """How many calls make one repeat last about `target_seconds` (timer resolution and
    per-repeat overhead stop mattering)."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(target_seconds / once))


# ----------------------------------------------------------------------------- torch


class LazyTorch:
    """The torch module, imported on first attribute access.

    The numpy and tinygrad_edu rows then run in a process that has not loaded torch's
    OpenMP runtime yet (as a user's would); `threads` is applied right after the import.
    """

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._module: Any = None

    @property
    def loaded(self) -> bool:
        return self._module is not None

    def __getattr__(self, name: str) -> Any:
        if name in ("_threads", "_module"):  # not set yet (copy/pickle): no recursion
            raise AttributeError(name)
        if self._module is None:
            import torch

            if self._threads is not None:
                torch.set_num_threads(self._threads)
            self._module = torch
        return getattr(self._module, name)


def load_torch(enabled: bool = True, threads: int | None = None) -> Any:
    """A `LazyTorch` when torch is installed (and `enabled`), else None; nothing is
    imported yet."""
    if not enabled or importlib.util.find_spec("torch") is None:
        return None
    return LazyTorch(threads)


# ----------------------------------------------------------------------------- main


def command_line() -> str:
    """The command that is running, as one would type it from the repository root."""
    exe = sys.executable
    try:
        exe = os.path.relpath(exe)
    except ValueError:
        pass
    script = sys.argv[0]
    if os.path.isabs(script):
        try:
            script = os.path.relpath(script)
        except ValueError:
            pass
    return " ".join(shlex.quote(a) for a in [exe, script, *sys.argv[1:]])


def blas_name() -> str:
    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.25
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        return "?"


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.environ.get("OPENBLAS_NUM_THREADS", "default")
    counts = [str(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]
    return ",".join(counts) or "?"


def environment(torch: Any = None) -> str:
    parts = [f"Python {platform.python_version()}",
             f"numpy {np.__version__} ({blas_name()}, {blas_threads()} threads)",
             f"{os.cpu_count()} CPUs"]
    if torch is None:
        parts.append("torch not used")
    elif getattr(torch, "loaded", True):
        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    else:
        parts.append(f"torch {importlib.metadata.version('torch')} (imported for its rows)")
    if hasattr(os, "getloadavg"):
        parts.append(f"load avg {os.getloadavg()[0]:.2f}")
    parts.append(f"gc {'on' if gc.isenabled() else 'OFF'}")
    return ", ".join(parts)


def standard_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per row (median reported); default 15, 5 with --quick; "
                   "scripts may scale it for cheap or costly rows")
    p.add_argument("--quick", action="store_true",
                   help="fewer repeats and smaller problems where a script allows: a smoke run")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    p.add_argument("--stat", choices=["median", "min"], default="median",
                   help="statistic over repeats (default median; min on a busy machine)")
    p.add_argument("--threads", type=int, default=None,
                   help="limit BLAS (threadpoolctl) and torch threads; default: leave as is. "
                   "1 gives steadier numbers on a shared machine, not the fastest ones")
    return p


def limit_threads(n: int | None) -> Any:
    """Cap BLAS threads at n (None: no change). Returns the threadpoolctl limiter to keep
    alive, or None. (Torch's threads: `load_torch(threads=n)`.)"""
    if n is None:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("# threadpoolctl is not installed: BLAS threads unchanged "
              f"(set OPENBLAS_NUM_THREADS={n} instead)")
        return None
    return threadpool_limits(n)


def benchmark_main(
    description: str,
    run: Callable[[argparse.Namespace, Any], list[ResultTable]],
    parser: argparse.ArgumentParser | None = None,
) -> list[ResultTable]:
    """Parse the standard flags, print command and machine, run, print the tables.

    `run(args, torch)` gets the parsed args (`args.repeats` already resolved) and torch
    (a `LazyTorch`: imported at its first use, so time the torch rows last) or None.
    """
    p = parser or standard_parser(description)
    args = p.parse_args()
    if args.repeats is None:
        args.repeats = 5 if args.quick else 15
    STAT["name"] = args.stat
    torch = load_torch(not args.no_torch, args.threads)
    limiter = limit_threads(args.threads)  # noqa: F841 (kept alive for the run)
    print(f"$ {command_line()}")
    print(f"# {environment(torch)}\n", flush=True)
    t0 = time.perf_counter()
    tables = run(args, torch)
    for t in tables:
        print(t.markdown() + "\n")
    print(f"# finished in {time.perf_counter() - t0:.1f} s; {environment(torch)}", flush=True)
    out = os.environ.get(JSON_ENV)
    if out:
        with open(out, "w") as f:
            json.dump({"command": command_line(), "tables": [t.to_dict() for t in tables]}, f)
    return tables
