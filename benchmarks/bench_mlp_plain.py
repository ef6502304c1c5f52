"""The MLP step as a course student writes it in numpy (a new array per operation) against
the same step as a PyTorch user writes it here (nn.Linear, F.cross_entropy, optim.SGD).

    .venv/bin/python benchmarks/bench_mlp_plain.py [--repeats 300] [--runs 3]

`bench_core.py` holds the tighter floor (numpy working in place wherever it can). Both
rows here train from the same weights, and the script checks that they agree.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim

N, D, H, C, LR = 128, 784, 256, 10, 0.01


def numpy_step(X: np.ndarray, y: np.ndarray, params: list[np.ndarray]) -> float:
    W1, b1, W2, b2 = params
    h = X @ W1.T + b1
    a = np.maximum(h, 0)
    s = a @ W2.T + b2
    s = s - s.max(1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    ds = p.copy()
    ds[np.arange(N), y] -= 1
    ds /= N
    dW2, db2 = ds.T @ a, ds.sum(0)
    da = ds @ W2
    da[h <= 0] = 0
    dW1, db1 = da.T @ X, da.sum(0)
    for w, g in zip(params, (dW1, db1, dW2, db2)):
        w -= LR * g
    return float(loss)


def median_ms(step: object, repeats: int) -> float:
    for _ in range(20):
        step()  # type: ignore[operator]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D)).astype(np.float32)
    y = rng.integers(0, C, N)
    model = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    params = [p.numpy().copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=LR)
    tX, ty = tg.tensor(X), tg.tensor(y)

    def ours() -> float:
        loss = F.cross_entropy(model(tX), ty)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.item())

    first_np, first_ours = numpy_step(X, y, params), ours()
    if abs(first_np - first_ours) > 1e-5 * abs(first_np):
        raise AssertionError(f"losses differ: numpy {first_np} vs ours {first_ours}")
    print("| run | numpy, plain (ms) | tinygrad_edu, nn + optim (ms) | ratio |")
    print("|---:|---:|---:|---:|")
    for run in range(args.runs):
        a = median_ms(lambda: numpy_step(X, y, params), args.repeats)
        b = median_ms(ours, args.repeats)
        print(f"| {run + 1} | {a:.3f} | {b:.3f} | {b / a:.2f}x |")


if __name__ == "__main__":
    main()
