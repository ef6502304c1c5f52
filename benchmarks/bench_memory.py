"""Resident memory over long runs: does anything grow step after step?

    PYTHONPATH=. OPENBLAS_NUM_THREADS=1 python benchmarks/bench_memory.py [--quick]

Cases (full size; --quick uses small counts and runs in well under a minute):
  mlp       10,000 SGD steps of an MLP 784-256-10 (Linear, ReLU, cross_entropy), batch 128
  convnet   2,000 SGD steps of models.SmallConvNet, batch 64, (64, 1, 28, 28) input
  chain     a 1,000,000-op chain of tiny ops, forward and backward (peak RSS and time)
  raise     1,000 graphs dropped mid-backward (a custom Function whose backward raises)

RSS is VmRSS from /proc/self/status (resource.getrusage's peak elsewhere). "After warm-up"
is sampled once the first 10% of steps (at least one) have run: by then numpy's allocator,
BLAS buffers and the optimizer's state are in place, so a flat run grows by well under a
few MB from there to the end. Synthetic data: memory does not depend on the values.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor, nn, optim
from tinygrad_edu.models import SmallConvNet
from tinygrad_edu.nn import functional as F

MB = 1024 * 1024


def rss_bytes() -> int:
    """Current resident set size (VmRSS), or the peak from getrusage where /proc is absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return peak_rss_bytes()


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class Row:
    def __init__(self, case: str, steps: int, warm: int, end: int, seconds: float,
                 peak: int | None = None, samples: list[int] | None = None) -> None:
        self.case, self.steps, self.warm, self.end = case, steps, warm, end
        self.seconds, self.peak, self.samples = seconds, peak, samples or []

    @property
    def growth(self) -> int:
        return self.end - self.warm


def _train_loop(case: str, model: nn.Module, make_batch, steps: int, lr: float) -> Row:
    opt = optim.SGD(model.parameters(), lr=lr)
    warm_at = max(1, steps // 10)
    sample_every = max(1, steps // 20)
    x, y = make_batch()
    samples: list[int] = []
    warm = 0
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if step == warm_at:
            gc.collect()
            warm = rss_bytes()
        if step % sample_every == 0:
            samples.append(rss_bytes())
    seconds = time.perf_counter() - t0
    assert np.isfinite(loss.item())
    gc.collect()
    return Row(case, steps, warm, rss_bytes(), seconds, samples=samples)


def case_mlp(steps: int) -> Row:
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))

    def batch():
        x = Tensor(rng.standard_normal((128, 784), dtype=np.float32))
        y = Tensor(rng.integers(0, 10, 128))
        return x, y

    return _train_loop("mlp 784-256-10, batch 128", model, batch, steps, lr=0.01)


def case_convnet(steps: int) -> Row:
    rng = np.random.default_rng(0)
    model = SmallConvNet(seed=0)

    def batch():
        x = Tensor(rng.standard_normal((64, 1, 28, 28), dtype=np.float32))
        y = Tensor(rng.integers(0, 10, 64))
        return x, y

    return _train_loop("SmallConvNet, batch 64", model, batch, steps, lr=0.01)


def case_chain(n: int) -> Row:
    """n tiny ops in one graph (x -> x*a+b alternating), then backward: no recursion, and
    the graph's memory is returned after `del`."""
    gc.collect()
    before = rss_bytes()
    t0 = time.perf_counter()
    x = Tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    y = x
    for i in range(n):
        y = y * 1.0 if i % 2 else y + 0.0
    t_fwd = time.perf_counter() - t0
    graph_rss = rss_bytes()
    y.sum().backward()
    seconds = time.perf_counter() - t0
    assert x.grad is not None and np.allclose(x.grad.numpy(), 1.0)
    peak = peak_rss_bytes()
    del y
    gc.collect()
    end = rss_bytes()
    trimmed = _malloc_trim()
    row = Row(f"chain of {n:,} ops fwd+bwd", n, before, end, seconds, peak=peak)
    row.samples = [graph_rss]
    row.extra = (f"graph held {(graph_rss - before) / MB:.0f} MB; forward {t_fwd:.1f} s"  # type: ignore[attr-defined]
                 + (f"; RSS after malloc_trim {trimmed / MB:.1f} MB" if trimmed else ""))
    return row


def _malloc_trim() -> int | None:
    """RSS after glibc's malloc_trim(0) (freed memory handed back to the OS), or None."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return None
    return rss_bytes()


class Boom(Exception):
    pass


class RaisesInBackward(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * 2.0

    def backward(self, grad: Tensor) -> Tensor:
        raise Boom("backward failed on purpose")


def case_raise(repeats: int) -> Row:
    """A graph whose backward raises halfway (after the ops above the custom Function have
    run their backward): nothing of it must stay alive (e.g. in a traceback or the engine)."""
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((256, 256), dtype=np.float32), requires_grad=True)
    warm_at = max(1, repeats // 10)
    warm = 0
    t0 = time.perf_counter()
    for i in range(1, repeats + 1):
        x = Tensor(rng.standard_normal((64, 256), dtype=np.float32))
        h = (x @ w).relu()
        h = RaisesInBackward.apply(h)
        loss = (h @ w).tanh().sum()
        try:
            loss.backward()
        except Boom:
            pass
        else:  # pragma: no cover
            raise AssertionError("backward should have raised")
        del x, h, loss
        if i == warm_at:
            gc.collect()
            warm = rss_bytes()
    seconds = time.perf_counter() - t0
    gc.collect()
    return Row("graph dropped mid-backward", repeats, warm, rss_bytes(), seconds)


def fmt_table(rows: list[Row]) -> str:
    head = ("| case | steps | RSS after warm-up (MB) | RSS at end (MB) | growth (MB) "
            "| peak RSS (MB) | time (s) |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        peak = f"{r.peak / MB:.0f}" if r.peak is not None else ""
        lines.append(f"| {r.case} | {r.steps:,} | {r.warm / MB:.1f} | {r.end / MB:.1f} "
                     f"| {r.growth / MB:+.1f} | {peak} | {r.seconds:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small counts (< 1 minute)")
    p.add_argument("--cases", default="mlp,convnet,raise,chain",
                   help="comma-separated subset of mlp,convnet,raise,chain")
    p.add_argument("--limit-mb", type=float, default=4.0,
                   help="growth after warm-up above this is reported as a leak")
    args = p.parse_args(argv)
    sizes = ({"mlp": 500, "convnet": 60, "raise": 200, "chain": 100_000} if args.quick else
             {"mlp": 10_000, "convnet": 2_000, "raise": 1_000, "chain": 1_000_000})
    runners = {"mlp": case_mlp, "convnet": case_convnet, "raise": case_raise,
               "chain": case_chain}
    print(f"$ python benchmarks/bench_memory.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, "
          f"tinygrad_edu {getattr(tg, '__version__', '?')}")
    rows = []
    for name in args.cases.split(","):
        row = runners[name](sizes[name])
        rows.append(row)
        extra = getattr(row, "extra", "")
        print(f"  {name}: done in {row.seconds:.1f} s, growth {row.growth / MB:+.1f} MB"
              + (f" ({extra})" if extra else ""), flush=True)
    print()
    print(fmt_table(rows))
    # The chain row's "warm-up" is RSS before the graph was built: growth = what was not
    # returned after `del`, which the allocator may keep for reuse (not a leak by itself).
    leaks = [r for r in rows if not r.case.startswith("chain") and r.growth > args.limit_mb * MB]
    for r in leaks:
        print(f"GROWTH: {r.case}: {r.growth / MB:+.1f} MB over {r.steps:,} steps "
              f"(samples MB: {[round(s / MB, 1) for s in r.samples]})")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
