"""The courses' naive-vs-fast comparison, with tinygrad_edu as the fast version.

A deep-learning course times its naive nested-loop layers against its fast ones and
reports the speedup: conv on x (100, 3, 31, 31) with 25 filters 3x3, stride 2, pad 1
(its fast version: 364.7x forward, 691.3x backward), and max pooling 2x2 stride 2 on
(100, 3, 32, 32) (149.9x forward, 31.3x backward). Here the same naive loops
(conv_numpy.py's, written as the course writes them) run on the same inputs as
tinygrad_edu's `conv2d` and `max_pool2d`, in one run; float64 as the course uses.
Forward is the training forward (the graph is recorded); backward is `out.backward(dout)`
on a fresh graph (building it is not timed), giving dx, dw and db (dx for the pool).
Outputs and gradients are checked against the naive ones first.

    .venv/bin/python benchmarks/bench_course_naive.py [--repeats N] [--quick]
                                                      [--default-malloc]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
from bench_conv import keep_freed_memory, parser
from common import ResultTable, benchmark_main, measure
from conv_numpy import (
    naive_conv_backward,
    naive_conv_forward,
    naive_pool_backward,
    naive_pool_forward,
)

from tinygrad_edu import Tensor
from tinygrad_edu.nn._conv import conv2d
from tinygrad_edu.nn._pool import max_pool2d

NAIVE, OURS, COURSE = "naive loops", "tinygrad_edu", "course's fast version"
Array = np.ndarray


def timed(label: str, fn: Callable[..., Any], repeats: int,
          setup: Callable[[], Any] | None = None) -> float:
    t = measure(fn, repeats=repeats, warmup=1 if repeats == 1 else 2, setup=setup)
    print(f"#   {label:<28} {t.describe('ms')}", flush=True)
    return t.median


def check(label: str, ours: list[Array], naive: list[Array]) -> None:
    for a, r in zip(ours, naive):
        err = float(np.max(np.abs(a - r)))
        if err > 1e-8 * max(1.0, float(np.max(np.abs(r)))):
            raise SystemExit(f"bench_course_naive: {label} differs from the naive loops "
                             f"(max abs difference {err:.2e})")
    print(f"#   {label}: equal to the naive loops", flush=True)


def run(args: argparse.Namespace, torch: Any) -> list[ResultTable]:
    malloc_note = keep_freed_memory(not args.default_malloc)
    print(f"# {malloc_note}", flush=True)
    repeats, naive_repeats = args.repeats, 1
    batch = 20 if args.quick else 100
    rng = np.random.default_rng(0)
    table = ResultTable(
        f"naive loops vs tinygrad_edu, the courses' problems (batch {batch}, float64)",
        [NAIVE, OURS], [(NAIVE, OURS)])

    # ---- conv: (N, 3, 31, 31), 25 filters 3x3, stride 2, pad 1
    x = rng.standard_normal((batch, 3, 31, 31))
    w = rng.standard_normal((25, 3, 3, 3))
    b = rng.standard_normal(25)
    stride, pad = 2, 1
    out_naive = naive_conv_forward(x, w, b, stride, pad)
    dout = rng.standard_normal(out_naive.shape)
    grads_naive = naive_conv_backward(dout, x, w, stride, pad)
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    out = conv2d(xt, wt, bt, stride=stride, padding=pad)
    out.backward(Tensor(dout))
    check("conv forward and backward", [out.numpy(), xt.grad.numpy(), wt.grad.numpy(),  # type: ignore[union-attr]
                                        bt.grad.numpy()], [out_naive, *grads_naive])  # type: ignore[union-attr]

    def conv_graph() -> Tensor:
        xt.grad = wt.grad = bt.grad = None
        return conv2d(xt, wt, bt, stride=stride, padding=pad)

    conv_fwd = (timed("naive conv forward",
                      lambda: naive_conv_forward(x, w, b, stride, pad), naive_repeats),
                timed("ours conv forward", conv_graph, repeats))
    g = Tensor(dout)
    conv_bwd = (timed("naive conv backward",
                      lambda: naive_conv_backward(dout, x, w, stride, pad), naive_repeats),
                timed("ours conv backward", lambda out: out.backward(g), repeats,
                      setup=conv_graph))

    # ---- max pool 2x2 stride 2 on (N, 3, 32, 32)
    xp = rng.standard_normal((batch, 3, 32, 32))
    pooled_naive = naive_pool_forward(xp, 2, 2)
    dpool = rng.standard_normal(pooled_naive.shape)
    dx_naive = naive_pool_backward(dpool, xp, 2, 2)
    xpt = Tensor(xp, requires_grad=True)
    pooled = max_pool2d(xpt, 2, 2)
    pooled.backward(Tensor(dpool))
    check("max pool forward and backward", [pooled.numpy(), xpt.grad.numpy()],  # type: ignore[union-attr]
          [pooled_naive, dx_naive])

    def pool_graph() -> Tensor:
        xpt.grad = None
        return max_pool2d(xpt, 2, 2)

    pool_fwd = (timed("naive pool forward", lambda: naive_pool_forward(xp, 2, 2),
                      naive_repeats),
                timed("ours pool forward", pool_graph, repeats))
    gp = Tensor(dpool)
    pool_bwd = (timed("naive pool backward", lambda: naive_pool_backward(dpool, xp, 2, 2),
                      naive_repeats),
                timed("ours pool backward", lambda out: out.backward(gp), repeats,
                      setup=pool_graph))

    for label, (naive, ours) in (("conv forward", conv_fwd), ("conv backward", conv_bwd),
                                 ("max pool forward", pool_fwd),
                                 ("max pool backward", pool_bwd)):
        table.add(label, "ms", naive_loops=naive, tinygrad_edu=ours)
    table.notes.append(
        "The course's fast version reported 364.7x (conv forward), 691.3x (conv backward), "
        "149.9x (pool forward) and 31.3x (pool backward) on its machine; the naive loops "
        "run once per row (seconds each), tinygrad_edu rows are medians of repeats. "
        f"{malloc_note}.")
    return [table]


if __name__ == "__main__":
    benchmark_main(__doc__.splitlines()[0], run, parser(__doc__.splitlines()[0]))
