"""`tinygrad_edu.compile` against eager and hand-written numpy (issue 20's bars).

    .venv/bin/python benchmarks/bench_compile.py [--steps 300] [--only convnet]
                                                 [--default-malloc] [--cpu-time]

Rows (ms per step). The rows of a table run interleaved step by step (one step of each,
the order rotating), and each ratio is the median over the steps of the ratio of two
steps run side by side, with its quartiles: a slow spell of the shared machine hits both
steps of a pair, so these ratios move by about 1% between runs where best-of-rounds
medians moved by 5-10%:
- MLP 784-256-10, batch 128, written with raw ops (`x @ W1 + b1`, relu, cross_entropy),
  a plain SGD update: eager, compiled, and the course's numpy step (bench_mlp_plain.py).
  Bar: compiled <= 1.10x numpy.
- The convnet step (SmallConvNet on a 64-image batch, SGD), eager and compiled, and the
  tuned numpy step of bench_convnet.py. Bars: compiled no slower than eager, <= 1.05x tuned.
- The 1,000-op chain of tiny ops (bench_core's x*1.0001 + 0.0001, exp, log), forward and
  backward: compiled against numpy's own per-op forward cost. Bar: <= 5x.
- With `--only seq`: the char-LM's LSTM and transformer steps (examples/char_lm.py),
  eager and compiled (steps / 10 of each).
glibc's malloc thresholds are raised first, as bench_convnet.py does for the tuned row
(`bench_conv.keep_freed_memory`): with the defaults a convnet step pays 2,000-4,500 page
faults (6-10 ms of system time in a 23-26 ms step here) whose number depends on the
process's allocation history, including the other rows run in the same process
(`--default-malloc` keeps the defaults; the page faults per step are printed either
way). `--cpu-time` times with the thread's CPU clock instead of the wall clock (less
disturbed by other processes on a shared machine).
Run it on a quiet machine with OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_convnet  # noqa: E402
import bench_core  # noqa: E402
import bench_mlp_plain  # noqa: E402
from bench_conv import keep_freed_memory  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
import tinygrad_edu.nn.functional as F  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.models import SmallConvNet  # noqa: E402

N, D, H, C, LR = 128, 784, 256, 10, 0.01


Clock = Callable[[], float]


class Rows:
    """Each row's step times (ms), the rows interleaved step by step, and page faults."""

    def __init__(self, rows: dict[str, Callable[[], Any]], steps: int, clock: Clock) -> None:
        for step in rows.values():
            for _ in range(10):
                step()
        self.ms: dict[str, list[float]] = {k: [] for k in rows}
        faults = dict.fromkeys(rows, 0)
        labels = list(rows)
        usage = resource.getrusage
        for i in range(steps):  # one step of every row, the order rotating
            for k in labels[i % len(labels):] + labels[:i % len(labels)]:
                before = usage(resource.RUSAGE_SELF).ru_minflt
                start = clock()
                rows[k]()
                self.ms[k].append((clock() - start) * 1e3)
                faults[k] += usage(resource.RUSAGE_SELF).ru_minflt - before
        self.faults = {k: v / steps for k, v in faults.items()}

    def median(self, k: str) -> float:
        return statistics.median(self.ms[k])

    def ratio(self, k: str, base: str) -> str:
        """The median of the ratios k / base of the steps run side by side, with their
        quartiles: a slow spell of the machine hits both steps of a pair."""
        r = sorted(a / b for a, b in zip(self.ms[k], self.ms[base]))
        q = len(r) // 4
        return f"{statistics.median(r):.3f}x {base} [{r[q]:.3f}, {r[-1 - q]:.3f}]"


# ----------------------------------------------------------------------------- MLP


def mlp_rows() -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D)).astype(np.float32)
    y = rng.integers(0, C, N)
    init = [(rng.standard_normal((H, D)) * 0.01).astype(np.float32), np.zeros(H, np.float32),
            (rng.standard_normal((C, H)) * 0.01).astype(np.float32), np.zeros(C, np.float32)]
    rows: dict[str, Callable[[], Any]] = {}
    plain = [a.copy() for a in init]
    rows["numpy"] = lambda: bench_mlp_plain.numpy_step(X, y, plain)
    xt, yt = Tensor(X), Tensor(y)

    def make(compiled: bool) -> Callable[[], Any]:
        W1, b1, W2, b2 = (Tensor(a.T.copy() if a.ndim == 2 else a.copy(), requires_grad=True)
                          for a in init)
        params = [W1, b1, W2, b2]

        def loss(x: Tensor, y: Tensor) -> Tensor:
            return F.cross_entropy((x @ W1 + b1).relu() @ W2 + b2, y)

        fn = tg.compile(loss) if compiled else loss

        def step() -> None:
            fn(xt, yt).backward()
            for p in params:
                p.array -= LR * p.grad.array  # type: ignore[union-attr]
                p.grad = None

        return step

    rows["eager"], rows["compiled"] = make(False), make(True)
    return rows


# ----------------------------------------------------------------------------- convnet


def convnet_rows() -> dict[str, Callable[[], Any]]:
    x, y, _ = bench_convnet.fixed_batch()
    tuned = bench_convnet.numpy_rows(x, y)[bench_convnet.TUNED][0]
    rows: dict[str, Callable[[], Any]] = {"numpy (tuned)": tuned}
    rows.update(eager_and_compiled(lambda: SmallConvNet(seed=0),
                                   lambda m: tg.optim.SGD(m.parameters(), lr=bench_convnet.LR),
                                   lambda m, x, y: F.cross_entropy(m(x), y),
                                   Tensor(x), Tensor(y)))
    return rows


def eager_and_compiled(make: Callable[[], Any], optimizer: Callable[[Any], Any],
                       loss: Callable[[Any, Tensor, Tensor], Tensor], x: Tensor, y: Tensor
                       ) -> dict[str, Callable[[], Any]]:
    """A training step (zero_grad, loss, backward, step) of a fresh model from `make`,
    eager and compiled."""
    rows: dict[str, Callable[[], Any]] = {}
    for label in ("eager", "compiled"):
        tg.manual_seed(0)
        model = make()
        opt = optimizer(model)

        def bound(x: Tensor, y: Tensor, model: Any = model) -> Tensor:
            return loss(model, x, y)

        fn = tg.compile(bound) if label == "compiled" else bound

        def step(fn: Any = fn, opt: Any = opt) -> None:
            opt.zero_grad()
            fn(x, y).backward()
            opt.step()

        rows[label] = step
    return rows


# ----------------------------------------------------------------------------- chain


def chain_rows() -> dict[str, Callable[[], Any]]:
    x0 = np.random.default_rng(0).random(4).astype(np.float32)
    n = bench_core.CHAIN_OPS
    x = Tensor(x0, requires_grad=True)

    def chain(x: Tensor) -> Tensor:
        return bench_core.chain_tensor(x, n).sum()

    compiled = tg.compile(chain)

    def run(fn: Any) -> Callable[[], Any]:
        def step() -> None:
            fn(x).backward()
            x.grad = None
        return step

    return {"numpy forward": lambda: bench_core.chain_numpy(x0, n),
            "eager fwd+bwd": run(chain), "compiled fwd+bwd": run(compiled)}


# ----------------------------------------------------------------------------- sequence models


def seq_rows(kind: str) -> dict[str, Callable[[], Any]]:
    """examples/char_lm.py's model (`kind`: lstm or transformer), hidden 128, 64 characters
    of context, batch 32, an Adam step: eager and compiled (no bar: per-node Python is a
    smaller share of these steps than of the chain)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import char_lm

    rng = np.random.default_rng(0)
    x, y = Tensor(rng.integers(0, 60, (32, 64))), Tensor(rng.integers(0, 60, (32, 64)))
    return eager_and_compiled(lambda: char_lm.build_model(tg, kind, 60, 128, 64),
                              lambda m: tg.optim.Adam(m.parameters(), lr=1e-3),
                              lambda m, x, y: F.cross_entropy(m(x)[0].reshape(-1, 60),
                                                              y.reshape(-1)), x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300,
                        help="steps of each row, the rows interleaved step by step")
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep glibc's malloc thresholds (rows then pay page faults)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the thread's CPU clock instead of the wall clock")
    parser.add_argument("--only", choices=["mlp", "convnet", "chain", "seq"],
                        action="append", help="run only these tables (repeatable; the "
                        "sequence models' table runs only when asked for)")
    args = parser.parse_args()
    print(f"# {keep_freed_memory(not args.default_malloc)}")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    print(f"# clock: {'thread CPU time' if args.cpu_time else 'wall clock'}; "
          f"{args.steps} steps of each row")
    only = set(args.only or ["mlp", "convnet", "chain"])
    print("| row | ms (median) | ratio, median of pairs [quartiles] | faults/step | bar |")
    print("|---|---|---|---|---|")
    tables = [("mlp", "MLP 784-256-10 step, raw ops", mlp_rows, ["numpy"], "compiled",
               "<= 1.10x numpy", 3),
              ("convnet", "convnet step", convnet_rows, ["eager", "numpy (tuned)"],
               "compiled", "<= eager, <= 1.05x tuned", 2),
              ("chain", "1,000-op chain", chain_rows, ["numpy forward"], "compiled fwd+bwd",
               "<= 5x", 3)]
    for name, title, make, bases, barred, bar, digits in tables:
        if name in only:
            print_table(Rows(make(), args.steps, clock), title, bases, barred, bar, digits)
    for kind in ("lstm", "transformer") if "seq" in only else ():
        print_table(Rows(seq_rows(kind), max(args.steps // 10, 5), clock),
                    f"char-LM {kind} step (examples/char_lm.py)", ["eager"], "", "", 1)


def print_table(table: Rows, title: str, bases: list[str], barred: str, bar: str,
                digits: int) -> None:
    """One markdown row per row of `table`: its median, its ratios to `bases`, its page
    faults, and the bar beside the row `barred`."""
    for k in table.ms:
        ratios = ", ".join(table.ratio(k, base) for base in bases)
        print(f"| {title}: {k} | {table.median(k):.{digits}f} | {ratios} | "
              f"{table.faults[k]:.0f} | {bar if k == barred else ''} |")

if __name__ == "__main__":
    main()
