"""`tinygrad_edu.compile` against eager and hand-written numpy (issue 20's bars).

    .venv/bin/python benchmarks/bench_compile.py [--repeats 200] [--rounds 3]

Rows (median ms of a step; each cell the best median over `--rounds` rounds, the rows of a
table alternating inside each round so a slow spell of the machine hits all of them):
- MLP 784-256-10, batch 128, written with raw ops (`x @ W1 + b1`, relu, cross_entropy),
  a plain SGD update: eager, compiled, and the course's numpy step (bench_mlp_plain.py).
  Bar: compiled <= 1.10x numpy.
- The convnet step (SmallConvNet on a 64-image batch, SGD), eager and compiled, and the
  tuned numpy step of bench_convnet.py. Bars: compiled no slower than eager, <= 1.05x tuned.
- The 1,000-op chain of tiny ops (bench_core's x*1.0001 + 0.0001, exp, log), forward and
  backward: compiled against numpy's own per-op forward cost. Bar: <= 5x.
Run it on a quiet machine with OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
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

import tinygrad_edu as tg  # noqa: E402
import tinygrad_edu.nn.functional as F  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.models import SmallConvNet  # noqa: E402

N, D, H, C, LR = 128, 784, 256, 10, 0.01


def median_ms(step: Callable[[], Any], repeats: int) -> float:
    for _ in range(10):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def best_of(rows: dict[str, Callable[[], Any]], repeats: int, rounds: int) -> dict[str, float]:
    best = {k: float("inf") for k in rows}
    for _ in range(rounds):
        for k, step in rows.items():
            best[k] = min(best[k], median_ms(step, repeats))
    return best


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
    xt, yt = Tensor(x), Tensor(y)
    for label in ("eager", "compiled"):
        model = SmallConvNet(seed=0)
        opt = tg.optim.SGD(model.parameters(), lr=bench_convnet.LR)

        def loss(x: Tensor, y: Tensor, model: Any = model) -> Tensor:
            return F.cross_entropy(model(x), y)

        fn = tg.compile(loss) if label == "compiled" else loss

        def step(fn: Any = fn, opt: Any = opt) -> None:
            opt.zero_grad()
            fn(xt, yt).backward()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    mlp = best_of(mlp_rows(), args.repeats, args.rounds)
    conv = best_of(convnet_rows(), max(args.repeats // 10, 5), args.rounds)
    chain = best_of(chain_rows(), args.repeats // 4, args.rounds)
    print("| row | ms | ratio | bar |")
    print("|---|---|---|---|")
    for k, v in mlp.items():
        print(f"| MLP 784-256-10 step, raw ops: {k} | {v:.3f} | {v / mlp['numpy']:.2f}x numpy "
              f"| {'<= 1.10x numpy' if k == 'compiled' else ''} |")
    for k, v in conv.items():
        print(f"| convnet step: {k} | {v:.2f} | {v / conv['eager']:.3f}x eager, "
              f"{v / conv['numpy (tuned)']:.3f}x tuned | "
              f"{'<= eager, <= 1.05x tuned' if k == 'compiled' else ''} |")
    for k, v in chain.items():
        print(f"| 1,000-op chain: {k} | {v:.3f} | {v / chain['numpy forward']:.2f}x numpy "
              f"forward | {'<= 5x' if k.startswith('compiled') else ''} |")


if __name__ == "__main__":
    main()
