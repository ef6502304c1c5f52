"""Wall time and test accuracy of the MNIST recipes, ours and the same models in PyTorch.

    .venv/bin/python benchmarks/bench_mnist.py [--only mlp|convnet] [--no-torch]

Data: the 10,000 real MNIST test images in ../shared/datasets/mnist, split 7,000 train /
1,000 validation / 2,000 test (seed 0), mean image subtracted. Both frameworks see the same
minibatches (numpy sampling, batch 64) and use Adam (lr 2e-3, x0.8 per epoch). Ours runs
through `tinygrad_edu.train.Solver`; PyTorch runs a plain loop (no accuracy checks inside
the timed region for either: the Solver's per-epoch checks are included in ours, so ours is
the slightly pessimistic side). Rows run one framework after the other, never interleaved.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from typing import Any

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import data, models
from tinygrad_edu.train import Solver

RECIPES = {"mlp": 15, "convnet": 8}


def load(kind: str) -> dict[str, np.ndarray]:
    splits = data.load_dataset("mnist", flatten=kind == "mlp", preprocess="mean_image")
    return {"X_train": splits.X_train, "y_train": splits.y_train, "X_val": splits.X_val,
            "y_val": splits.y_val, "X_test": splits.X_test, "y_test": splits.y_test}


def ours(kind: str, d: dict[str, np.ndarray]) -> tuple[float, float]:
    tg.manual_seed(0)
    model = models.MLP([784, 256, 10]) if kind == "mlp" else models.SmallConvNet(seed=0)
    solver = Solver(model, d, update_rule="adam", optim_config={"learning_rate": 2e-3},
                    lr_decay=0.8, batch_size=64, num_epochs=RECIPES[kind],
                    num_train_samples=1000, verbose=False, progress=False)
    start = time.perf_counter()
    solver.train()
    elapsed = time.perf_counter() - start
    return elapsed, solver.evaluate(d["X_test"], d["y_test"])["acc"]


def pytorch(kind: str, d: dict[str, np.ndarray]) -> tuple[float, float]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    if kind == "mlp":
        model: Any = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    else:
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(inplace=True),
                              nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                              nn.ReLU(inplace=True), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, 0.8)
    X, y = torch.from_numpy(d["X_train"]), torch.from_numpy(d["y_train"])
    rng = np.random.default_rng(0)
    per_epoch = len(X) // 64
    start = time.perf_counter()
    for _ in range(RECIPES[kind]):
        for _ in range(per_epoch):
            idx = torch.from_numpy(rng.choice(len(X), 64, replace=False))
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        pred = model(torch.from_numpy(d["X_test"])).argmax(1).numpy()
    return elapsed, float(np.mean(pred == d["y_test"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=tuple(RECIPES))
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    kinds = [args.only] if args.only else list(RECIPES)
    use_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    rows = []
    for kind in kinds:
        d = load(kind)
        rows.append((kind, "tinygrad_edu", *ours(kind, d)))
    if use_torch:
        for kind in kinds:
            d = load(kind)
            rows.append((kind, "PyTorch", *pytorch(kind, d)))
    print("| model | framework | epochs | wall time (s) | s/epoch | test accuracy |")
    print("|:---|:---|---:|---:|---:|---:|")
    for kind, name, seconds, acc in rows:
        epochs = RECIPES[kind]
        print(f"| {kind} | {name} | {epochs} | {seconds:.1f} | {seconds / epochs:.2f} | "
              f"{acc:.4f} |")


if __name__ == "__main__":
    main()
