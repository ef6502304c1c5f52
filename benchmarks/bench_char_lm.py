"""The char-LM of examples/char_lm.py (LSTM and two-layer causal transformer) trained for the
same wall-clock budget in tinygrad_edu and in PyTorch: same text, same model code, same
batches (the same seeded window sequence; the faster library gets further along it), same
Adam and gradient clipping. Prints, per model and library, the steps done and the loss
reached after `--minutes`.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_char_lm.py              # 2 min per row (~9 min)
    PYTHONPATH=. .venv/bin/python benchmarks/bench_char_lm.py --minutes 0.1 --quick

Threads: one for both by default (`--threads 1`: OpenBLAS's through threadpoolctl,
`torch.set_num_threads(1)`), since the comparison is of the libraries, not of their thread
pools; `--threads 2` gives both two. The PyTorch rows run after all the tinygrad_edu rows
(torch's OpenMP workers would otherwise steal numpy's cores).

"train loss" is the mean training loss of the last 20 steps; "val loss" is the loss on 4
fixed batches of the held-out last 10% of the text (the same windows for every row).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import command_line, environment, limit_threads, load_torch, standard_parser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import char_lm  # noqa: E402

MODELS = ("lstm", "transformer")


def train_for(lib: Any, kind: str, corpus: char_lm.Corpus, args: argparse.Namespace
              ) -> dict[str, float]:
    """Train one model in `lib` for args.minutes of wall clock; steps, losses, time."""
    lib.manual_seed(args.seed)
    model = char_lm.build_model(lib, kind, len(corpus.alphabet), args.hidden, args.seq_len)
    opt = lib.optim.Adam(model.parameters(), lr=char_lm.DEFAULT_LR[kind])
    rng = np.random.default_rng(args.seed)
    losses: list[float] = []
    budget = 60.0 * args.minutes
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        x, y = char_lm.batch(corpus.train, args.batch_size, args.seq_len, rng)
        losses.append(char_lm.train_step(lib, model, opt, x, y))
    elapsed = time.perf_counter() - start
    val = char_lm.evaluate(lib, model, corpus.val, args.batch_size, args.seq_len)
    return {"steps": len(losses), "time": elapsed, "train": float(np.mean(losses[-20:])),
            "val": val}


def main() -> None:
    p = standard_parser(__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget per row (default 2, 0.1 with --quick)")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated: lstm,transformer")
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(threads=1)
    args = p.parse_args()
    if args.minutes is None:
        args.minutes = 0.1 if args.quick else 2.0
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or set(models) - set(MODELS):
        p.error(f"--models: choose from {MODELS}, got {args.models!r}")
    limiter = limit_threads(args.threads)  # noqa: F841 (kept alive for the run)
    torch = load_torch(not args.no_torch, args.threads)
    import tinygrad_edu

    print(f"$ {command_line()}")
    print(f"# {environment(torch)}", flush=True)
    corpus = char_lm.Corpus()
    print(f"# {len(corpus.train)} training characters, alphabet {len(corpus.alphabet)} "
          f"(uniform loss {math.log(len(corpus.alphabet)):.3f}); batch {args.batch_size}, "
          f"seq_len {args.seq_len}, hidden {args.hidden}, {args.minutes:g} min per row\n",
          flush=True)
    results: dict[tuple[str, str], dict[str, float]] = {}
    libs = [("tinygrad_edu", tinygrad_edu)] + ([("PyTorch", torch)] if torch else [])
    for name, lib in libs:  # all tinygrad_edu rows first, then PyTorch's
        for kind in models:
            results[kind, name] = r = train_for(lib, kind, corpus, args)
            print(f"# {kind} {name}: {r['steps']} steps in {r['time']:.1f} s", flush=True)
    print(f"\n**char-LM, loss after {args.minutes:g} min of training "
          f"({args.threads} thread{'s' if args.threads != 1 else ''} each)**\n")
    print("| model | library | steps | steps/s | train loss | val loss |")
    print("|:---|:---|---:|---:|---:|---:|")
    for kind in models:
        for name, _ in libs:
            r = results[kind, name]
            print(f"| {kind} | {name} | {r['steps']} | {r['steps'] / r['time']:.2f} | "
                  f"{r['train']:.3f} | {r['val']:.3f} |")
    print(f"\n# {environment(torch)}")


if __name__ == "__main__":
    main()
