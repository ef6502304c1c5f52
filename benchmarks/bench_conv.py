"""Convolution and max-pooling speed: naive loops, hand-written numpy, tinygrad_edu, PyTorch.

Conv: 3x3, input (32, 3, 32, 32), 16 filters, stride 1, pad 1, float32. Pool: 2x2 stride 2
on (32, 16, 32, 32) (the conv's output), float32. Forward means the training forward (the
graph is recorded; numpy keeps its cache); forward+backward adds the gradients of input,
weight and bias for a fixed upstream gradient.

Columns: the courses' naive loops (timed on 2 images and scaled to the batch),
im2col + matmul in numpy (as the courses' fast layers write it), the same tuned as
tinygrad_edu's fused primitive is (bias as a column of W, dx folded from contiguous
shifted slabs: `conv_numpy.tuned_*`), einsum in numpy (the einsum formulation and optimize
path that were fastest here), tinygrad_edu's composite (pad -> SlidingWindows -> matmul, node by
node), tinygrad_edu (`conv2d`, the fused ConvIm2col primitive; `max_pool2d`), and PyTorch
CPU when importable (its rows run last, with its default thread count).

    .venv/bin/python benchmarks/bench_conv.py [--repeats N] [--quick] [--no-torch]
                                              [--default-malloc]

glibc's malloc thresholds are raised first (see `keep_freed_memory`): otherwise each row's
time includes a history-dependent ~2 ms of page faults; the progress lines show the page
faults per call either way.
"""

from __future__ import annotations

import argparse
import ctypes
import resource
from collections.abc import Callable
from typing import Any

import numpy as np
from common import (
    ResultTable,
    benchmark_main,
    calls_per_repeat,
    key,
    measure,
    measure_rounds,
    standard_parser,
)
from conv_numpy import (
    Array,
    einsum_backward,
    einsum_forward,
    im2col_backward,
    im2col_forward,
    naive_conv_backward,
    naive_conv_forward,
    naive_pool_backward,
    naive_pool_forward,
    numpy_pool_backward,
    numpy_pool_forward,
    tuned_backward,
    tuned_forward,
)

from tinygrad_edu import Tensor
from tinygrad_edu.nn._conv import conv2d, conv2d_composite
from tinygrad_edu.nn._pool import max_pool2d

NAIVE, IM2COL, EINSUM = "naive loops (scaled)", "numpy im2col", "numpy einsum"
TUNED = "numpy im2col, tuned"
COMPOSITE, OURS, TORCH = "ours composite", "tinygrad_edu", "PyTorch"
NUMPY_POOL = "numpy (hand)"
NAIVE_IMAGES = 2


# ----------------------------------------------------------------------------- problems


def conv_problem(batch: int, channels: int, size: int, filters: int, kernel: int,
                 seed: int = 0) -> dict[str, Array]:
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((batch, channels, size, size)).astype(np.float32),
            "w": (rng.standard_normal((filters, channels, kernel, kernel)) * 0.1
                  ).astype(np.float32),
            "b": rng.standard_normal(filters).astype(np.float32)}


def numpy_step(forward: Callable[..., Any], backward: Callable[..., Any],
               p: dict[str, Array], stride: int, pad: int, dout: Array) -> tuple[Any, ...]:
    """A training step's conv: the output stays alive until the backward is done (it feeds
    the next layer), as in tinygrad_edu's and PyTorch's rows. Dropping it early would let
    glibc reuse its memory and skip ~2,000 page faults per step that a real step pays."""
    out, cache = forward(p["x"], p["w"], p["b"], stride, pad)
    return out, backward(dout, cache)


def ours_conv(fn: Callable[..., Tensor], p: dict[str, Array], stride: int, pad: int,
              dout: Array) -> tuple[Callable[[], Any], Callable[[], Any]]:
    x, w, b = (Tensor(p[k], requires_grad=True) for k in ("x", "w", "b"))
    g = Tensor(dout)

    def forward() -> Tensor:
        return fn(x, w, b, stride=stride, padding=pad)

    def forward_backward() -> tuple[Array, ...]:
        x.grad = w.grad = b.grad = None
        fn(x, w, b, stride=stride, padding=pad).backward(g)
        return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()  # type: ignore[union-attr]

    return forward, forward_backward


def torch_conv(torch: Any, p: dict[str, Array], stride: int, pad: int, dout: Array
               ) -> tuple[Callable[[], Any], Callable[[], Any]]:
    x, w, b = (torch.tensor(p[k], requires_grad=True) for k in ("x", "w", "b"))
    g = torch.tensor(dout)
    conv = torch.nn.functional.conv2d

    def forward() -> Any:
        return conv(x, w, b, stride=stride, padding=pad)

    def forward_backward() -> None:
        x.grad = w.grad = b.grad = None
        conv(x, w, b, stride=stride, padding=pad).backward(g)

    return forward, forward_backward


def keep_freed_memory(enabled: bool = True) -> str:
    """Raise glibc's mmap and trim thresholds (64 MiB, 256 MiB) so freed arrays stay in
    the process. With the defaults, whether a training step's ~10 MB of temporaries come
    back as ~2,000 fresh (page-faulting) pages every step depends on the process's
    allocation history, and moves a row by ~2 ms for reasons unrelated to the code timed.
    Returns a line for the notes."""
    if not enabled:
        return "malloc: glibc defaults (--default-malloc): rows may pay page faults"
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return "malloc: not glibc, left alone"
    m_trim_threshold, m_mmap_threshold = -1, -3
    if mallopt(m_mmap_threshold, 64 << 20) and mallopt(m_trim_threshold, 256 << 20):
        return ("malloc: glibc thresholds raised for every row (MALLOC_MMAP_THRESHOLD_="
                "67108864 MALLOC_TRIM_THRESHOLD_=268435456); --default-malloc to keep them")
    return "malloc: mallopt refused, defaults kept"


def timed(label: str, fn: Callable[[], Any], repeats: int) -> float:
    """Median seconds per call; each repeat runs enough calls to last ~20 ms. The progress
    line also shows the minor page faults per call (fresh memory from the OS)."""
    number = calls_per_repeat(fn)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t = measure(fn, repeats=repeats, number=number)
    calls = number * repeats + 2  # + the two warm-up calls
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / calls
    print(f"#   {label:<36} {t.describe('ms')}, {faults:.0f} page faults/call", flush=True)
    return t.median


def timed_rounds(fns: dict[str, Callable[[], Any]], repeats: int, what: str
                 ) -> dict[str, float]:
    """`timed` for rows compared with each other (numpy and tinygrad_edu only): they run in
    rounds, one repeat of each per round (`common.measure_rounds`)."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    number = {label: calls_per_repeat(fn) for label, fn in fns.items()}
    timings = measure_rounds(fns, repeats=repeats, number=number)
    calls = sum(number.values()) * repeats + 2 * len(fns)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / calls
    for label, t in timings.items():
        print(f"#   {label + ' ' + what:<36} {t.describe('ms')}", flush=True)
    print(f"#   (in rounds; {faults:.0f} page faults/call on average)", flush=True)
    return {label: t.median for label, t in timings.items()}


def check(label: str, ours: Any, reference: Any, tol: float = 2e-3) -> None:
    """Every implementation must compute the same thing (float32, relative to the scale)."""
    for a, r in zip(ours, reference):
        err = float(np.max(np.abs(np.asarray(a) - r)) / (np.max(np.abs(r)) + 1e-12))
        if err > tol:
            raise SystemExit(f"bench_conv: {label} disagrees with the reference "
                             f"(relative error {err:.2e})")


# ----------------------------------------------------------------------------- run

Rows = dict[str, dict[str, float]]


def conv_rows(p: dict[str, Array], dout: Array, repeats: int) -> Rows:
    """Every column but PyTorch's, after checking each against the naive loops."""
    x, w, b = p["x"], p["w"], p["b"]
    stride, pad = 1, 1
    xs, ds = x[:NAIVE_IMAGES], dout[:NAIVE_IMAGES]
    ref = [naive_conv_forward(xs, w, b, stride, pad),
           *naive_conv_backward(ds, xs, w, stride, pad)]
    for name, fwd, bwd in (("im2col", im2col_forward, im2col_backward),
                           ("tuned", tuned_forward, tuned_backward),
                           ("einsum", einsum_forward, einsum_backward)):
        out, cache = fwd(xs, w, b, stride, pad)
        check(name, [out, *bwd(ds, cache)], ref)
    for name, fn in (("composite", conv2d_composite), ("ours", conv2d)):
        _, fb = ours_conv(fn, {"x": xs, "w": w, "b": b}, stride, pad, ds)
        check(name, [fn(xs, w, b, stride=stride, padding=pad).numpy(), *fb()], ref)

    rows: Rows = {"forward": {}, "forward+backward": {}}
    scale, naive_reps = x.shape[0] / NAIVE_IMAGES, max(1, min(3, repeats))
    rows["forward"][NAIVE] = scale * timed(
        "naive fwd (2 images)", lambda: naive_conv_forward(xs, w, b, stride, pad), naive_reps)
    rows["forward+backward"][NAIVE] = scale * timed(
        "naive fwd+bwd (2 images)", lambda: (naive_conv_forward(xs, w, b, stride, pad),
                                             naive_conv_backward(ds, xs, w, stride, pad)),
        naive_reps)
    forward, step = {}, {}
    for column, fwd, bwd in ((IM2COL, im2col_forward, im2col_backward),
                             (TUNED, tuned_forward, tuned_backward),
                             (EINSUM, einsum_forward, einsum_backward)):
        forward[column] = lambda f=fwd: f(x, w, b, stride, pad)
        step[column] = lambda f=fwd, g=bwd: numpy_step(f, g, p, stride, pad, dout)
    for column, fn in ((COMPOSITE, conv2d_composite), (OURS, conv2d)):
        forward[column], step[column] = ours_conv(fn, p, stride, pad, dout)
    rows["forward"].update(timed_rounds(forward, repeats, "fwd"))
    rows["forward+backward"].update(timed_rounds(step, repeats, "fwd+bwd"))
    return rows


def pool_rows(x: Array, dout: Array, repeats: int) -> Rows:
    xs, ds = x[:NAIVE_IMAGES], dout[:NAIVE_IMAGES]
    ref = [naive_pool_forward(xs, 2, 2), naive_pool_backward(ds, xs, 2, 2)]
    check("numpy pool", [numpy_pool_forward(xs, 2), numpy_pool_backward(ds, xs, ref[0], 2)],
          ref)
    small = Tensor(xs, requires_grad=True)
    max_pool2d(small, 2, 2).backward(Tensor(ds))
    check("ours pool", [max_pool2d(xs, 2, 2).numpy(), small.grad.numpy()], ref)  # type: ignore[union-attr]
    xt, gt = Tensor(x, requires_grad=True), Tensor(dout)

    def ours_fb() -> None:
        xt.grad = None
        max_pool2d(xt, 2, 2).backward(gt)

    rows: Rows = {"forward": {}, "forward+backward": {}}
    scale, naive_reps = x.shape[0] / NAIVE_IMAGES, max(1, min(3, repeats))
    rows["forward"][NAIVE] = scale * timed(
        "naive pool fwd (2 images)", lambda: naive_pool_forward(xs, 2, 2), naive_reps)
    rows["forward+backward"][NAIVE] = scale * timed(
        "naive pool fwd+bwd (2 images)", lambda: (naive_pool_forward(xs, 2, 2),
                                                  naive_pool_backward(ds, xs, 2, 2)),
        naive_reps)
    rows["forward"].update(timed_rounds(
        {NUMPY_POOL: lambda: numpy_pool_forward(x, 2), OURS: lambda: max_pool2d(xt, 2, 2)},
        repeats, "pool fwd"))
    rows["forward+backward"].update(timed_rounds(
        {NUMPY_POOL: lambda: numpy_pool_backward(dout, x, numpy_pool_forward(x, 2), 2),
         OURS: ours_fb}, repeats, "pool fwd+bwd"))
    return rows


def torch_rows(torch: Any, p: dict[str, Array], dout: Array, x_pool: Array, dout_pool: Array,
               repeats: int) -> tuple[Rows, Rows]:
    conv: Rows = {"forward": {}, "forward+backward": {}}
    pool: Rows = {"forward": {}, "forward+backward": {}}
    forward, forward_backward = torch_conv(torch, p, 1, 1, dout)
    conv["forward"][TORCH] = timed("PyTorch fwd", forward, repeats)
    conv["forward+backward"][TORCH] = timed("PyTorch fwd+bwd", forward_backward, repeats)
    tx, tg = torch.tensor(x_pool, requires_grad=True), torch.tensor(dout_pool)
    max_pool = torch.nn.functional.max_pool2d

    def pool_fb() -> None:
        tx.grad = None
        max_pool(tx, 2, 2).backward(tg)

    pool["forward"][TORCH] = timed("PyTorch pool fwd", lambda: max_pool(tx, 2, 2), repeats)
    pool["forward+backward"][TORCH] = timed("PyTorch pool fwd+bwd", pool_fb, repeats)
    return conv, pool


def run(args: argparse.Namespace, torch: Any) -> list[ResultTable]:
    malloc_note = keep_freed_memory(not args.default_malloc)
    print(f"# {malloc_note}", flush=True)
    p = conv_problem(32, 3, 32, 16, 3)
    dout = np.random.default_rng(1).standard_normal((32, 16, 32, 32)).astype(np.float32)
    x_pool = np.random.default_rng(2).standard_normal((32, 16, 32, 32)).astype(np.float32)
    dout_pool = np.random.default_rng(3).standard_normal((32, 16, 16, 16)).astype(np.float32)
    conv_cells = conv_rows(p, dout, args.repeats)
    pool_cells = pool_rows(x_pool, dout_pool, args.repeats)
    if torch is not None:  # last: torch's thread pool must not disturb the numpy rows
        for cells, extra in zip((conv_cells, pool_cells),
                                torch_rows(torch, p, dout, x_pool, dout_pool, args.repeats)):
            for label in cells:
                cells[label].update(extra[label])

    conv = ResultTable(
        "conv2d 3x3, (32, 3, 32, 32) -> 16 filters, stride 1, pad 1, float32",
        [NAIVE, IM2COL, TUNED, EINSUM, COMPOSITE, OURS, TORCH],
        [(OURS, IM2COL), (OURS, TUNED), (OURS, TORCH), (COMPOSITE, OURS), (NAIVE, OURS)])
    pool = ResultTable("max_pool2d 2x2 stride 2, (32, 16, 32, 32), float32",
                       [NAIVE, NUMPY_POOL, OURS, TORCH],
                       [(OURS, NUMPY_POOL), (OURS, TORCH), (NAIVE, OURS)])
    for table, cells in ((conv, conv_cells), (pool, pool_cells)):
        for label, values in cells.items():
            table.add(label, "ms", **{key(c): v for c, v in values.items()})
    conv.notes.append(
        f"Naive loops timed on {NAIVE_IMAGES} of 32 images and scaled. Forward records the "
        f"graph (a training forward). {malloc_note}.")
    return [conv, pool]


def parser(description: str) -> argparse.ArgumentParser:
    """The standard flags plus --default-malloc (bench_course_naive.py uses it too)."""
    p = standard_parser(description)
    p.add_argument("--default-malloc", action="store_true",
                   help="keep glibc's malloc thresholds (rows may then pay ~2,000 page "
                        "faults per step, depending on allocation history)")
    return p


if __name__ == "__main__":
    benchmark_main(__doc__.splitlines()[0], run, parser(__doc__.splitlines()[0]))
