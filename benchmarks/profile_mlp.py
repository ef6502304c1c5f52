"""Profile the tinygrad_edu MLP training step (or the per-op chain) to find the hot spots.

    .venv/bin/python benchmarks/profile_mlp.py [--steps 300] [--top 25] [--sort tottime]
    .venv/bin/python benchmarks/profile_mlp.py --linear      # layers as linear(x, W, b)
    .venv/bin/python benchmarks/profile_mlp.py --breakdown   # phases and per-node backward
    .venv/bin/python benchmarks/profile_mlp.py --chain       # the 1,000-op chain, fwd+bwd
    add --threads 1 for steadier numbers on a busy machine

First the time per call without the profiler (cProfile inflates Python-heavy code, so
compare shares, not absolute times) next to the hand-written numpy step, then either the
cProfile top functions or (--breakdown) medians of forward / backward / update and of each
node's backward call.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from bench_core import CHAIN_OPS, NumpyMLP, TensorMLP, chain_tensor, make_mlp_problem
from common import limit_threads

from tinygrad_edu import Tensor, no_grad
from tinygrad_edu.autograd import Function


def per_call(fn: Callable[[], Any], steps: int) -> float:
    """Median seconds per call (one call per sample, after a warm-up)."""
    for _ in range(10):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def breakdown(model: TensorMLP, steps: int) -> None:
    """Median forward / backward / update times, then each node's forward (numpy work
    only) and backward call."""
    phases: dict[str, list[float]] = defaultdict(list)
    nodes: dict[str, list[float]] = defaultdict(list)
    forwards: dict[str, list[float]] = defaultdict(list)
    clock = time.perf_counter
    originals = []
    for cls in _subclasses(Function):  # time every op's forward and backward (restored below)
        fw, bw = cls.__dict__.get("forward"), cls.__dict__.get("backward")
        if fw is not None and not isinstance(fw, staticmethod):
            originals.append((cls, "forward", fw))

            def timed_fw(self: Any, *args: Any, _fw: Any = fw, **kwargs: Any) -> Any:
                t0 = clock()
                out = _fw(self, *args, **kwargs)
                forwards[f"{type(self).__name__} -> {np.shape(out)}"].append(clock() - t0)
                return out

            setattr(cls, "forward", timed_fw)  # noqa: B010 (patched back in finally)
        if bw is not None and not isinstance(bw, staticmethod):
            originals.append((cls, "backward", bw))

            def timed_bw(self: Any, grad: Any, _bw: Any = bw) -> Any:
                t0 = clock()
                out = _bw(self, grad)
                nodes[f"{self.op} -> {self.shape}"].append(clock() - t0)
                return out

            setattr(cls, "backward", timed_bw)  # noqa: B010
    try:
        for _ in range(steps):
            t0 = clock()
            loss = model.forward()
            t1 = clock()
            loss.backward()
            t2 = clock()
            with no_grad():
                for p in model.params:
                    t = clock()
                    p.sub_(p.grad, alpha=model.lr)
                    phases[f"  sub_ {tuple(p.shape)}"].append(clock() - t)
                    p.grad = None
            t3 = clock()
            phases["forward + loss"].append(t1 - t0)
            phases["backward"].append(t2 - t1)
            phases["update (4 x sub_)"].append(t3 - t2)
    finally:
        for cls, name, method in originals:
            setattr(cls, name, method)
    print("\nphase medians (us):")
    for name, ts in phases.items():
        print(f"  {name:<28} {statistics.median(ts) * 1e6:9.1f}")
    _print_nodes("forward() per op (numpy work inside Function.forward)", forwards, steps)
    _print_nodes("backward() per node (Tensor ops building the gradient)", nodes, steps)


def _print_nodes(title: str, timings: dict[str, list[float]], steps: int) -> None:
    print(f"\n{title}, median us, slowest first (xN: calls per step):")
    total = 0.0
    for name, ts in sorted(timings.items(), key=lambda kv: -statistics.median(kv[1])):
        calls = len(ts) / steps
        med = statistics.median(ts) * 1e6
        total += med * calls
        print(f"  {name:<40} {med:9.1f}  x{calls:g}")
    print(f"  {'total per step':<40} {total:9.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300, help="calls to time/profile (300)")
    p.add_argument("--top", type=int, default=25, help="rows to print (default 25)")
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    p.add_argument("--chain", action="store_true", help="profile the per-op chain instead")
    p.add_argument("--linear", action="store_true", help="layers as linear(x, W, b)")
    p.add_argument("--breakdown", action="store_true",
                   help="phase and per-node timings instead of cProfile (MLP only)")
    p.add_argument("--threads", type=int, default=None, help="cap BLAS threads")
    args = p.parse_args()
    limiter = limit_threads(args.threads)  # noqa: F841 (kept alive)

    if args.chain:
        x = Tensor(np.array([0.1, 0.2, 0.3, 0.4], np.float32), requires_grad=True)

        def fn() -> None:
            chain_tensor(x, CHAIN_OPS).sum().backward()
            x.grad = None

        t = per_call(fn, args.steps)
        print(f"{CHAIN_OPS}-op chain forward+backward: {t * 1e3:.3f} ms per call, "
              f"{t / CHAIN_OPS * 1e6:.2f} us per op, without the profiler")
    else:
        model = TensorMLP(make_mlp_problem(), fused=args.linear)
        fn = model.step
        t = per_call(fn, args.steps)
        floor = per_call(NumpyMLP(make_mlp_problem()).step, args.steps)
        layers = "linear(x, W, b)" if args.linear else "x @ W.T + b"
        print(f"MLP 784-256-10 train step (batch 128, {layers}): {t * 1e3:.3f} ms per call "
              f"without the profiler; hand-written numpy {floor * 1e3:.3f} ms; "
              f"ratio {t / floor:.2f}x")
        if args.breakdown:
            ref = NumpyMLP(make_mlp_problem())
            fwd = per_call(ref.forward, args.steps)
            print(f"hand-written numpy: forward + loss {fwd * 1e6:.1f} us, backward + update "
                  f"{(floor - fwd) * 1e6:.1f} us")
            breakdown(model, args.steps)
            return

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.steps):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\nprofiled {args.steps} calls: {total:.3f} s, {total / args.steps * 1e3:.3f} ms "
          "per call under cProfile")
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
