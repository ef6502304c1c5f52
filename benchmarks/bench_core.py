"""Core speed: per-op overhead, an MLP training step, backward through a 100,000-op chain.

Three columns: hand-written numpy (the floor), tinygrad_edu, PyTorch CPU (when importable).
All numpy and tinygrad_edu rows run first, the PyTorch rows last (see common.py for why).

    .venv/bin/python benchmarks/bench_core.py [--repeats N] [--quick] [--no-torch]
                                              [--threads N] [--stat median|min]

On a busy machine use `--threads 1`: with two OpenBLAS threads, a step that runs Python
between BLAS calls (ours, not the tight numpy floor) waits for a descheduled worker thread
and its median swings 10-50x; with one thread the ratios hold steady.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import ResultTable, Row, Timing, benchmark_main, measure

from tinygrad_edu import Tensor, linear, no_grad

NUMPY, OURS, TORCH = "numpy (hand)", "tinygrad_edu", "PyTorch"
CHAIN_OPS = 1_000
LONG_CHAIN_OPS = 100_000
ROWS = {
    "fwd_nograd": "per-op forward, no_grad",
    "fwd": "per-op forward, recording",
    "fwdbwd": "per-op forward+backward",
    "mlp_fwd": "MLP forward + loss",
    "mlp_step": "MLP train step",
    "mlp_fused": "MLP train step, linear()",
    "build": "100k chain: build",
    "backward": "100k chain: backward",
    "free": "100k chain: free graph",
}

# ----------------------------------------------------------------------------- op chains
# The chain cycles x*1.0001, x+0.0001, exp, log: cheap ops on 4 numbers, so the time is
# the per-op overhead (dispatch, graph recording, backward bookkeeping), not arithmetic.


def chain_numpy(x: np.ndarray, n: int) -> np.ndarray:
    for _ in range(n // 4):
        x = np.log(np.exp(x * np.float32(1.0001) + np.float32(0.0001)))
    return x


def chain_numpy_saving(x: np.ndarray, n: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Forward that keeps what a hand-written backward needs: exp's output, log's input."""
    saved: list[np.ndarray] = []
    for _ in range(n // 4):
        e = np.exp(x * np.float32(1.0001) + np.float32(0.0001))
        saved.append(e)
        x = np.log(e)
    return x, saved


def chain_numpy_backward(saved: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """d(sum(chain(x)))/dx by hand: per cycle g *= 1/e (log), g *= e (exp), g *= 1.0001."""
    g = np.ones(shape, np.float32)
    for e in reversed(saved):
        g = g / e
        g = g * e
        g = g * np.float32(1.0001)  # the add passes g through unchanged
    return g


def chain_tensor(x: Any, n: int) -> Any:
    """The same chain with Tensor methods (tinygrad_edu and torch spell them alike)."""
    for _ in range(n // 4):
        x = (x * 1.0001 + 0.0001).exp().log()
    return x


def per_op_rows(impl: str, x0: np.ndarray, repeats: int, torch: Any = None) -> dict[str, float]:
    """Seconds per op: forward (no grad), forward recording a graph, forward+backward."""
    n = CHAIN_OPS
    if impl == NUMPY:
        fwd = lambda: chain_numpy(x0, n)  # noqa: E731

        def fwdbwd() -> None:
            _, saved = chain_numpy_saving(x0, n)
            chain_numpy_backward(saved, x0.shape)

        t = _timed(impl, "chain fwd", fwd, repeats, unit="ms")
        return {"fwd_nograd": t / n, "fwd": t / n,
                "fwdbwd": _timed(impl, "chain f+b", fwdbwd, repeats, unit="ms") / n}
    if impl == OURS:
        x, off = Tensor(x0.copy(), requires_grad=True), no_grad
    else:
        x, off = torch.tensor(x0, requires_grad=True), torch.no_grad

    def nograd() -> None:
        with off():
            chain_tensor(x, n)

    def recording() -> None:
        chain_tensor(x, n)

    def backward() -> None:
        chain_tensor(x, n).sum().backward()
        x.grad = None

    return {"fwd_nograd": _timed(impl, "chain nograd", nograd, repeats, unit="ms") / n,
            "fwd": _timed(impl, "chain fwd", recording, repeats, unit="ms") / n,
            "fwdbwd": _timed(impl, "chain f+b", backward, repeats, unit="ms") / n}


def _timed(impl: str, row: str, fn: Callable[[], Any], repeats: int, warmup: int = 2,
           unit: str = "us") -> float:
    """Seconds per call (median, or min with --stat min), one call per repeat: a call that
    another process preempted spoils one sample of many, not a whole repeat. Prints the
    spread over repeats."""
    t = measure(fn, repeats=repeats, warmup=warmup)
    print(f"#   {impl:<13} {row:<12} {t.describe(unit)}", flush=True)
    return t.value


def long_chain_rows(impl: str, x0: np.ndarray, repeats: int, torch: Any = None
                    ) -> dict[str, float]:
    """Build a 100,000-op chain, run backward, drop it; each phase timed in the same repeat.

    GC stays on: the graph holds ~100k nodes and the cyclic collector walks them while the
    graph is built, which a user pays for too.
    """
    n = LONG_CHAIN_OPS

    def run_once() -> tuple[float, float, float]:
        clock = time.perf_counter
        if impl == NUMPY:
            t0 = clock()
            y, saved = chain_numpy_saving(x0, n)
            t1 = clock()
            chain_numpy_backward(saved, x0.shape)
            t2 = clock()
            del y, saved
            return t1 - t0, t2 - t1, clock() - t2
        x = Tensor(x0.copy(), requires_grad=True) if impl == OURS else torch.tensor(
            x0, requires_grad=True)
        t0 = clock()
        y = chain_tensor(x, n)
        t1 = clock()
        y.sum().backward()
        t2 = clock()
        del y
        return t1 - t0, t2 - t1, clock() - t2

    run_once()  # warm-up
    gc.collect()
    phases = [run_once() for _ in range(repeats)]
    out = {}
    for name, times in zip(("build", "backward", "free"), zip(*phases)):
        label = f"100k {name}"
        print(f"#   {impl:<13} {label:<12} {Timing(list(times)).describe('ms')}", flush=True)
        out[name] = Timing(list(times)).value
    return out


# ----------------------------------------------------------------------------- MLP


@dataclass
class MLPProblem:
    """A 784-256-10 MLP on one random batch; weights are (out, in) as in nn.Linear."""

    x: np.ndarray
    y: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    lr: float = 0.01

    def params(self) -> list[np.ndarray]:
        return [self.w1, self.b1, self.w2, self.b2]


def make_mlp_problem(batch: int = 128, seed: int = 0) -> MLPProblem:
    rng = np.random.default_rng(seed)

    def init(fan_out: int, fan_in: int) -> np.ndarray:
        return (rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    return MLPProblem(
        x=rng.standard_normal((batch, 784)).astype(np.float32),
        y=rng.integers(0, 10, batch).astype(np.int64),
        w1=init(256, 784), b1=np.zeros(256, np.float32),
        w2=init(10, 256), b2=np.zeros(10, np.float32),
    )


class NumpyMLP:
    """The floor: affine/relu/softmax forward and backward by hand, in place where it pays."""

    def __init__(self, p: MLPProblem) -> None:
        self.x, self.y, self.lr = p.x, p.y, p.lr
        self.w1, self.b1, self.w2, self.b2 = (a.copy() for a in p.params())
        self.rows = np.arange(len(p.y))

    def forward(self) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss, the hidden activations and the softmax probabilities (for backward)."""
        h = self.x @ self.w1.T
        h += self.b1
        np.maximum(h, 0, out=h)
        z = h @ self.w2.T
        z += self.b2
        z -= z.max(axis=1, keepdims=True)
        z_true = z[self.rows, self.y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - z_true))
        z /= total  # now the probabilities p
        return loss, h, z

    def step(self) -> float:
        loss, h, dz = self.forward()
        n = len(self.y)
        dz[self.rows, self.y] -= 1  # dL/dz = (p - onehot) / n
        dz *= np.float32(1.0 / n)
        dw2 = dz.T @ h
        db2 = dz.sum(axis=0)
        dh = dz @ self.w2
        dh *= h > 0
        dw1 = dh.T @ self.x
        db1 = dh.sum(axis=0)
        lr = np.float32(self.lr)
        for w, g in ((self.w1, dw1), (self.b1, db1), (self.w2, dw2), (self.b2, db2)):
            g *= lr
            w -= g
        return loss


class TensorMLP:
    """The same step from Tensor ops: tinygrad_edu, or PyTorch when `torch` is given.

    `fused=True` writes each layer as `linear(x, w, b)` (tinygrad_edu.linear, a fused
    primitive; torch.nn.functional.linear) instead of `x @ w.T + b`."""

    def __init__(self, p: MLPProblem, torch: Any = None, fused: bool = False) -> None:
        self.lr = p.lr
        if not fused:
            self.linear: Any = lambda x, w, b: x @ w.T + b
        elif torch is None:
            self.linear = linear
        else:
            self.linear = torch.nn.functional.linear
        if torch is None:
            from tinygrad_edu.nn.functional import cross_entropy

            self.x, self.y = Tensor(p.x), Tensor(p.y)
            self.params = [Tensor(a.copy(), requires_grad=True) for a in p.params()]
            self.cross_entropy, self.no_grad = cross_entropy, no_grad
        else:
            self.x, self.y = torch.tensor(p.x), torch.tensor(p.y)
            self.params = [torch.tensor(a, requires_grad=True) for a in p.params()]
            self.cross_entropy = torch.nn.functional.cross_entropy
            self.no_grad = torch.no_grad

    def forward(self) -> Any:
        w1, b1, w2, b2 = self.params
        h = self.linear(self.x, w1, b1).relu()
        return self.cross_entropy(self.linear(h, w2, b2), self.y)

    def step(self) -> Any:
        loss = self.forward()
        loss.backward()
        with self.no_grad():
            for p in self.params:
                p.sub_(p.grad, alpha=self.lr)
                p.grad = None  # zero_grad(set_to_none=True), PyTorch's default
        return loss


def check_mlp(torch: Any = None, fused: bool = False) -> str:
    """One step of each implementation from the same weights must agree (float32)."""
    p = make_mlp_problem(seed=1)
    ref = NumpyMLP(p)
    ref_loss = ref.step()
    other = TensorMLP(p, torch, fused)
    loss = float(other.step().item())
    worst = max(float(np.max(np.abs(np.asarray(q.detach()) - r)) / (np.max(np.abs(r)) + 1e-12))
                for q, r in zip(other.params, (ref.w1, ref.b1, ref.w2, ref.b2)))
    if abs(loss - ref_loss) > 1e-4 * abs(ref_loss) or worst > 1e-4:
        raise AssertionError(f"MLP step disagrees with numpy: loss {loss} vs {ref_loss}, "
                             f"worst relative parameter difference {worst:.2e}")
    return f"loss {loss:.5f} vs numpy {ref_loss:.5f}, params within {worst:.1e}"


def mlp_rows(impl: str, repeats: int, torch: Any = None) -> dict[str, float]:
    p = make_mlp_problem()
    model: Any = NumpyMLP(p) if impl == NUMPY else TensorMLP(p, torch)
    fwd = _timed(impl, "mlp fwd", model.forward, repeats, 5, "ms")
    step = _timed(impl, "mlp step", model.step, repeats, 10, "ms")
    if impl == NUMPY:  # one hand-written step serves as the floor of both variants
        return {"mlp_fwd": fwd, "mlp_step": step, "mlp_fused": step}
    fused = TensorMLP(p, torch, fused=True)
    return {"mlp_fwd": fwd, "mlp_step": step,
            "mlp_fused": _timed(impl, "mlp linear()", fused.step, repeats, 10, "ms")}


# ----------------------------------------------------------------------------- main


def run(args: argparse.Namespace, torch: Any) -> list[ResultTable]:
    repeats = args.repeats  # cheap rows take more samples, the 100k chain fewer
    long_repeats = 2 if args.quick else max(3, repeats // 3)
    x0 = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    impls = [NUMPY, OURS] + ([TORCH] if torch is not None else [])
    checks = [f"{OURS}: {check_mlp()}", f"{OURS} linear(): {check_mlp(fused=True)}"]
    results: dict[str, dict[str, float]] = {}
    for impl in impls:  # every numpy/ours row first, torch rows last
        lib = torch if impl == TORCH else None
        if impl == TORCH:
            checks.append(f"{TORCH}: {check_mlp(torch)}")
        r = per_op_rows(impl, x0, 4 * repeats, lib)
        r |= mlp_rows(impl, 10 * repeats, lib)
        r |= long_chain_rows(impl, x0, long_repeats, lib)
        results[impl] = r
    table = ResultTable(
        f"tinygrad_edu core vs hand-written numpy and PyTorch ({args.stat} over repeats)",
        columns=impls,
        ratios=[(OURS, NUMPY)] + ([(OURS, TORCH)] if torch is not None else []),
    )
    units = {"mlp_fwd": "ms", "mlp_step": "ms", "mlp_fused": "ms", "build": "ms",
             "backward": "ms", "free": "ms"}
    for row, label in ROWS.items():
        table.rows.append(_row(label, units.get(row, "us"), {i: results[i][row] for i in impls}))
    table.notes += [
        f"Per-op rows: a chain of {CHAIN_OPS:,} ops cycling x*1.0001, x+0.0001, exp, log on a "
        "(4,) float32 tensor, time divided by the op count; the numpy column is plain numpy "
        "(one forward timing for both forward rows) and a hand-written backward.",
        "MLP: 784-256-10, batch 128, float32, relu, F.cross_entropy, SGD update "
        "under no_grad, grads set to None; layers written `x @ W.T + b`, or `linear(x, W, b)` "
        "in the linear() row (tinygrad_edu.linear, torch.nn.functional.linear); numpy is "
        "one hand-written affine/relu/softmax forward and backward for both rows.",
        f"100k chain: the same op cycle, {LONG_CHAIN_OPS:,} ops, GC on; build, "
        "sum().backward(), then dropping the graph, each timed in the same repeat.",
        "Checks (one step from equal weights): " + "; ".join(checks) + ".",
    ]
    return [table]


def _row(label: str, unit: str, values: dict[str, float]) -> Row:
    return Row(label, unit, {k: [v] for k, v in values.items()})


if __name__ == "__main__":
    benchmark_main(__doc__.splitlines()[0], run)
