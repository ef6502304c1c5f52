"""A convnet training step: hand-written numpy (textbook and tuned convs), tinygrad_edu, PyTorch.

    .venv/bin/python benchmarks/bench_convnet.py [--repeats N] [--quick] [--no-torch]
                                                 [--default-malloc]

The model is `tinygrad_edu.models.SmallConvNet(seed=0)`: conv3x3(1->16, pad 1) - ReLU -
maxpool2 - conv3x3(16->32, pad 1) - ReLU - maxpool2 - flatten - linear(32*7*7 -> 10), on a
fixed batch of 64 images (N, 1, 28, 28), float32. One training step = forward, mean
cross-entropy over integer labels, backward, plain SGD (lr 0.01, no momentum) of all six
parameter arrays. Our speed bar: tinygrad_edu's step <= 1.10x the best hand-written numpy.

Rows:
- numpy (textbook): the step as a careful student writes it with the courses' fast layers
  (`conv_numpy.im2col_*`, `numpy_pool_*`), ReLU in place (`np.maximum(h, 0, out=h)`, its
  backward `np.multiply(d, a > 0, out=d)`: alone 1.3-1.5x faster than `np.maximum(h, 0)`
  and `d * (h > 0)`, equal within a step; `np.where` and mask assignment are 6-10x slower),
  a stable softmax cross-entropy with its closed-form gradient, SGD in place;
- numpy (tuned): the same step with `conv_numpy.tuned_*` (bias as a column of W, dx folded
  from contiguous shifted slabs, as tinygrad_edu's fused conv does);
- tinygrad_edu: `opt.zero_grad()`, `F.cross_entropy(model(x), y)`, `loss.backward()`,
  `opt.step()` with `optim.SGD`, exactly what a user writes;
- PyTorch (when importable): the same architecture in torch.nn with the same initial
  weights, torch.optim.SGD, default thread count; run last, never interleaved.

Before timing, one step of each row from identical weights must give the loss of numpy
(textbook) to 1e-5 (relative) and its gradients to 2e-3 of their scale, else SystemExit.
Rows 1-3 are timed in interleaved rounds (`common.measure_rounds`), PyTorch afterwards
(`common.measure`). Every timed call updates the weights (nothing is reset). glibc's malloc
thresholds are raised for every row (`bench_conv.keep_freed_memory`). The second table row
times inference (numpy without the backward, tinygrad_edu and PyTorch under no_grad).
The batch is the first 64 real MNIST test images from ../shared/datasets/mnist (pixels / 255)
when present, else a seeded random batch; the table notes say which.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_conv import keep_freed_memory, parser, timed, timed_rounds
from common import ResultTable, benchmark_main, key
from conv_numpy import (
    Array,
    im2col_backward,
    im2col_forward,
    numpy_pool_backward,
    numpy_pool_forward,
    tuned_backward,
    tuned_forward,
)

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, no_grad
from tinygrad_edu.data import load_mnist
from tinygrad_edu.models import SmallConvNet
from tinygrad_edu.optim import SGD

BATCH, LR = 64, 0.01
TEXTBOOK, TUNED, OURS, TORCH = "numpy (textbook)", "numpy (tuned)", "tinygrad_edu", "PyTorch"
STEP, FORWARD = "training step", "forward (inference)"
MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"
LOSS_TOL, GRAD_TOL = 1e-5, 2e-3

Step = Callable[[], tuple[Any, list[Array]]]


# ----------------------------------------------------------------------------- data


def fixed_batch() -> tuple[Array, Array, str]:
    """(x (64, 1, 28, 28) float32 in [0, 1], y (64,) int64, a note saying which data)."""
    for kind in ("t10k", "train"):
        try:
            x, y = load_mnist(MNIST_DIR, kind)
        except FileNotFoundError:
            continue
        return (np.ascontiguousarray(x[:BATCH]), y[:BATCH],
                f"Data: the first {BATCH} real MNIST {kind} images (../shared/datasets/mnist).")
    rng = np.random.default_rng(0)
    return (rng.random((BATCH, 1, 28, 28), dtype=np.float32),
            rng.integers(0, 10, BATCH).astype(np.int64),
            f"Data: a seeded random batch (no MNIST files in {MNIST_DIR}).")


def initial_arrays() -> list[Array]:
    """SmallConvNet(seed=0)'s parameters: conv1 w, b, conv2 w, b, fc w, b (copies)."""
    return [p.numpy().copy() for p in SmallConvNet(seed=0).parameters()]


# ----------------------------------------------------------------------------- numpy


def numpy_logits(fwd: Callable[..., Any], p: list[Array], x: Array
                 ) -> tuple[Array, tuple[Any, ...]]:
    """Forward to the logits; also returns what the backward needs."""
    h1, cache1 = fwd(x, p[0], p[1], 1, 1)
    a1 = np.maximum(h1, 0, out=h1)  # in place: the conv's output is not needed again
    q1 = numpy_pool_forward(a1, 2)
    h2, cache2 = fwd(q1, p[2], p[3], 1, 1)
    a2 = np.maximum(h2, 0, out=h2)
    q2 = numpy_pool_forward(a2, 2)
    flat = q2.reshape(x.shape[0], -1)
    return flat @ p[4].T + p[5], (cache1, a1, q1, cache2, a2, q2, flat)


def numpy_step(fwd: Callable[..., Any], bwd: Callable[..., Any], p: list[Array], x: Array,
               y: Array) -> tuple[Any, list[Array]]:
    """One SGD step in place on `p`; returns (loss, gradients in p's order)."""
    n = x.shape[0]
    s, (cache1, a1, q1, cache2, a2, q2, flat) = numpy_logits(fwd, p, x)
    s -= s.max(axis=1, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = np.log(total).mean() - s[rows, y].mean()
    ds = e / total  # d loss / d logits = (softmax - onehot) / N
    ds[rows, y] -= 1
    ds /= n
    dw3, db3 = ds.T @ flat, ds.sum(axis=0)
    da2 = numpy_pool_backward((ds @ p[4]).reshape(q2.shape), a2, q2, 2)
    np.multiply(da2, a2 > 0, out=da2)  # relu' (a > 0 iff h > 0)
    dq1, dw2, db2 = bwd(da2, cache2)
    da1 = numpy_pool_backward(dq1, a1, q1, 2)
    np.multiply(da1, a1 > 0, out=da1)
    _, dw1, db1 = bwd(da1, cache1, need_dx=False)  # the first layer's input is data
    grads = [dw1, db1, dw2, db2, dw3, db3]
    for w, g in zip(p, grads):
        w -= LR * g
    return loss, grads


def numpy_rows(x: Array, y: Array) -> dict[str, tuple[Step, Callable[[], Any]]]:
    """label -> (training step, inference forward), each on its own copy of the weights."""
    rows = {}
    for label, fwd, bwd in ((TEXTBOOK, im2col_forward, im2col_backward),
                            (TUNED, tuned_forward, tuned_backward)):
        p = initial_arrays()
        rows[label] = (lambda f=fwd, b=bwd, p=p: numpy_step(f, b, p, x, y),
                       lambda f=fwd, p=p: numpy_logits(f, p, x)[0])
    return rows


# ----------------------------------------------------------------------------- frameworks


def ours_rows(x: Array, y: Array) -> tuple[Step, Callable[[], Any]]:
    model = SmallConvNet(seed=0)
    opt = SGD(model.parameters(), lr=LR)
    params = list(model.parameters())
    xt, yt = Tensor(x), Tensor(y)

    def step() -> tuple[Any, list[Array]]:
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss, [p.grad.numpy() for p in params]  # type: ignore[union-attr]

    def forward() -> Tensor:
        with no_grad():
            return model(xt)

    return step, forward


def torch_rows(torch: Any, x: Array, y: Array) -> tuple[Step, Callable[[], Any]]:
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(inplace=True),
                        nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                        nn.ReLU(inplace=True), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    with torch.no_grad():
        for tp, a in zip(net.parameters(), initial_arrays(), strict=True):
            tp.copy_(torch.from_numpy(a))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    params = list(net.parameters())

    def step() -> tuple[Any, list[Array]]:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(xt), yt)
        loss.backward()
        opt.step()
        return loss, [p.grad for p in params]

    def forward() -> Any:
        with torch.no_grad():
            return net(xt)

    return step, forward


# ----------------------------------------------------------------------------- checks


def as_array(v: Any) -> Array:
    if isinstance(v, Tensor):
        return v.numpy()
    return np.asarray(v.detach().numpy() if hasattr(v, "detach") else v, dtype=np.float64)


def check(label: str, step: Step, ref_loss: float, ref_grads: list[Array]) -> None:
    """One step from the initial weights must reproduce the reference loss and gradients."""
    loss, grads = step()
    loss = float(as_array(loss))
    if abs(loss - ref_loss) > LOSS_TOL * abs(ref_loss):
        raise SystemExit(f"bench_convnet: {label}: loss {loss!r} differs from {TEXTBOOK}'s "
                         f"{ref_loss!r} (relative tolerance {LOSS_TOL})")
    names = ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias")
    for name, g, r in zip(names, grads, ref_grads, strict=True):
        g = as_array(g)
        err = float(np.max(np.abs(g - r)) / (np.max(np.abs(r)) + 1e-12)) if g.shape == r.shape \
            else np.inf
        if err > GRAD_TOL:
            raise SystemExit(f"bench_convnet: {label}: gradient of {name} {g.shape} differs "
                             f"from {TEXTBOOK}'s {r.shape} (relative max error {err:.2e} > "
                             f"{GRAD_TOL})")


# ----------------------------------------------------------------------------- run


def run(args: argparse.Namespace, torch: Any) -> list[ResultTable]:
    malloc_note = keep_freed_memory(not args.default_malloc)
    print(f"# {malloc_note}", flush=True)
    x, y, data_note = fixed_batch()
    print(f"# {data_note}", flush=True)
    rows = {**numpy_rows(x, y), OURS: ours_rows(x, y)}
    ref_loss, ref_grads = rows[TEXTBOOK][0]()
    ref = float(ref_loss), [np.array(g, dtype=np.float64) for g in ref_grads]
    for label in (TUNED, OURS):
        check(label, rows[label][0], *ref)
    print(f"# one step agrees with {TEXTBOOK} (loss {ref[0]:.6f})", flush=True)

    cells: dict[str, dict[str, float]] = {STEP: {}, FORWARD: {}}
    cells[STEP].update(timed_rounds({k: v[0] for k, v in rows.items()}, args.repeats, "step"))
    cells[FORWARD].update(timed_rounds({k: v[1] for k, v in rows.items()}, args.repeats,
                                       "forward"))
    if torch is not None:  # last: torch's OpenMP threads must not disturb the numpy rows
        t_step, t_forward = torch_rows(torch, x, y)
        check(TORCH, t_step, *ref)
        cells[STEP][TORCH] = timed(f"{TORCH} step", t_step, args.repeats)
        cells[FORWARD][TORCH] = timed(f"{TORCH} forward", t_forward, args.repeats)

    table = ResultTable(
        f"SmallConvNet training step (ms per step): batch {BATCH}, (N, 1, 28, 28) float32, "
        "SGD lr 0.01", [TEXTBOOK, TUNED, OURS, TORCH],
        [(OURS, TEXTBOOK), (OURS, TUNED), (OURS, TORCH)])
    for label, values in cells.items():
        table.add(label, "ms", **{key(c): v for c, v in values.items()})
    table.notes.append(
        f"{data_note} Step = forward + mean cross-entropy + backward + SGD update of all 6 "
        "parameters (the weights change every call); forward = inference to the logits "
        f"(no_grad; numpy keeps no backward state beyond what its conv returns). Rows 1-3 "
        f"timed in interleaved rounds, PyTorch after them. Target: {OURS} / {TUNED} (the "
        f"best numpy step) <= 1.10x. {malloc_note}.")
    return [table]


if __name__ == "__main__":
    benchmark_main(__doc__.splitlines()[0], run, parser(__doc__.splitlines()[0]))
