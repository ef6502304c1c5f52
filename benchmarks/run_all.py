"""Run every benchmarks/bench_*.py in sequence and print all their tables.

    .venv/bin/python benchmarks/run_all.py [--runs 3] [--repeats N] [--quick] [--no-torch]
                                           [--threads N] [--stat median|min]
                                           [--only core,conv] [--out FILE]

Each script runs in its own process (torch and BLAS thread pools never meet across
scripts). With `--runs N` every script runs N times, round-robin, and the summary shows
`median (min-max)` over the runs for every cell; ratios are taken within a run first.
Scripts built on `common.benchmark_main` hand their numbers back through a JSON file;
for any other script its printed output is repeated in the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import JSON_ENV, ResultTable, command_line, merge_runs

HERE = Path(__file__).resolve().parent


def discover(only: str | None) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        wanted = [w.strip() for w in only.split(",") if w.strip()]
        scripts = [s for s in scripts if any(w in s.stem for w in wanted)]
    return scripts


def run_script(script: Path, flags: list[str]) -> tuple[int, str, dict | None]:
    """Run one script with `flags`, echoing its output live. Returns exit code, output
    and the JSON it wrote (None if it wrote none). A script that rejects the shared flags
    (argparse exit code 2) is run again without them."""
    fd, json_path = tempfile.mkstemp(suffix=".json", prefix="bench_")
    os.close(fd)
    os.unlink(json_path)
    env = dict(os.environ, **{JSON_ENV: json_path})
    cmd = [sys.executable, str(script), *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=HERE.parent)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    code = proc.wait()
    output = "".join(lines)
    if code == 2 and flags and "unrecognized arguments" in output:
        print(f"# {script.name} does not take {' '.join(flags)}: running it without them")
        return run_script(script, [])
    data = None
    if os.path.exists(json_path):
        with open(json_path) as f:
            data = json.load(f)
        os.unlink(json_path)
    return code, output, data


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1, help="runs of every script (default 1)")
    p.add_argument("--repeats", type=int, default=None, help="passed to every script")
    p.add_argument("--quick", action="store_true", help="passed to every script")
    p.add_argument("--no-torch", action="store_true", help="passed to every script")
    p.add_argument("--threads", type=int, default=None, help="passed to every script")
    p.add_argument("--stat", choices=["median", "min"], default=None,
                   help="passed to every script")
    p.add_argument("--only", default=None,
                   help="comma-separated parts of script names to run (e.g. core,conv)")
    p.add_argument("--out", default=None, help="also write the summary (markdown) here")
    args = p.parse_args()

    flags: list[str] = []
    if args.repeats is not None:
        flags += ["--repeats", str(args.repeats)]
    if args.quick:
        flags.append("--quick")
    if args.no_torch:
        flags.append("--no-torch")
    if args.threads is not None:
        flags += ["--threads", str(args.threads)]
    if args.stat is not None:
        flags += ["--stat", args.stat]

    scripts = discover(args.only)
    if not scripts:
        print(f"run_all: no benchmarks/bench_*.py matches --only {args.only!r}")
        return 1
    started = time.perf_counter()
    print(f"$ {command_line()}")
    print(f"# {len(scripts)} scripts x {args.runs} run(s): "
          + ", ".join(s.name for s in scripts), flush=True)
    tables: dict[Path, list[list[ResultTable]]] = {s: [] for s in scripts}
    texts: dict[Path, str] = {}
    commands: dict[Path, str] = {}
    failed: list[str] = []
    for run in range(args.runs):
        for script in scripts:
            print(f"\n## {script.name} (run {run + 1}/{args.runs})\n", flush=True)
            code, output, data = run_script(script, flags)
            if code != 0:
                failed.append(f"{script.name} (run {run + 1}, exit code {code})")
                continue
            if data is None:
                texts[script] = output
                continue
            commands[script] = data["command"]
            tables[script].append([ResultTable.from_dict(t) for t in data["tables"]])

    summary = [f"# Benchmark summary: `{command_line()}`", ""]
    for script in scripts:
        if tables[script]:
            n = len(tables[script])
            how = "one run" if n == 1 else f"{n} runs: median (min-max) over runs"
            summary += [f"## {script.name}", "", f"`{commands[script]}` ({how})", ""]
            summary += [t.markdown() + "\n" for t in merge_runs(tables[script])]
        elif script in texts:
            summary += [f"## {script.name} (printed output of its last run)", "",
                        texts[script].rstrip(), ""]
    if failed:
        summary += ["**Failed:** " + "; ".join(failed), ""]
    summary.append(f"_total time {time.perf_counter() - started:.0f} s_")
    text = "\n".join(summary)
    print("\n" + text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
