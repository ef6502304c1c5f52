"""A tiny transformer learns to reverse (or sort) a sequence of digits, then draws its
attention weights as a heat map.

Each example is `--length` random digits 0-9; the target at position i is the digit at
position length-1-i (`--task reverse`) or the i-th smallest digit (`--task sort`). The
model is an encoder only: digit embeddings plus learned positional embeddings, `--layers`
`nn.TransformerEncoderLayer`s (pre-norm, no dropout, attention over the whole input), a
LayerNorm and a linear read-out to 10 classes at every position; cross-entropy over all
positions, AdamW with a one-cycle learning-rate schedule, a fresh random batch every step.
Token accuracy is measured on `--test-size` fresh sequences (1/10 is chance).

To reverse, position i has to look at position length-1-i whatever the digits are: the heat
map (`attention.png` in `--out`, default `out/tiny_transformer`; one panel per layer and
head, for one test sequence) shows the anti-diagonal that the model found.

    python examples/tiny_transformer.py                 # reverse 10 digits: 1 layer, 400 steps
    python examples/tiny_transformer.py --task sort     # sort 10 digits: 2 layers, 1000 steps
    python examples/tiny_transformer.py --length 4 --steps 60 --d-model 32   # a second

On 2 shared cores (numpy, one BLAS thread) the defaults reach 100% token accuracy on 2000
fresh sequences for seeds 0, 1 and 2: reverse in 4-15 s of training, sort (99.99-100%) in
20-35 s, depending on the load.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import optim
from tinygrad_edu.train.progress import progress_bar

DIGITS = 10
#: task -> default (layers, steps): measured to reach >= 99.9% token accuracy for seeds 0-2.
TASK_DEFAULTS = {"reverse": (1, 400), "sort": (2, 1000)}


def make_batch(task: str, batch_size: int, length: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """Digits x (B, length) and the targets y (B, length)."""
    x = rng.integers(0, DIGITS, size=(batch_size, length))
    y = x[:, ::-1] if task == "reverse" else np.sort(x, axis=1)
    return x, np.ascontiguousarray(y)


class TinyTransformer(nn.Module):
    """Digits (B, L) -> logits (B, L, 10)."""

    def __init__(self, length: int, d_model: int, heads: int, layers: int) -> None:
        super().__init__()
        # the digit table, read as nn.Embedding reads it (rows x of a Parameter)
        self.embed = nn.Parameter(torch.randn(DIGITS, d_model) * 0.1)
        self.pos = nn.Parameter(torch.randn(length, d_model) * 0.1)  # learned positions
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, DIGITS)

    def forward(self, x: Any) -> Any:
        h = self.embed[x] + self.pos  # rows x of the table, plus each position's vector
        return self.head(self.norm(self.encoder(h)))

    def attention(self, x: Any) -> list[np.ndarray]:
        """Each layer's attention weights (B, heads, L, L), recomputed with need_weights
        (the encoder layer asks for none): the same pre-norm input the layer attends over."""
        weights = []
        with torch.no_grad():
            h = self.embed[x] + self.pos
            for layer in self.encoder.layers:
                a = layer.norm1(h)
                _, w = layer.self_attn(a, a, a, need_weights=True, average_attn_weights=False)
                weights.append(w.numpy())
                h = layer(h)
        return weights


def accuracy(model: TinyTransformer, task: str, n: int, length: int, seed: int
             ) -> tuple[float, float]:
    """(token accuracy, whole-sequence accuracy) on n fresh sequences."""
    x, y = make_batch(task, n, length, np.random.default_rng(seed))
    with torch.no_grad():
        pred = np.concatenate([model(torch.from_numpy(x[i:i + 500])).numpy().argmax(-1)
                               for i in range(0, n, 500)])
    return float((pred == y).mean()), float((pred == y).all(axis=1).mean())


def draw_attention(weights: list[np.ndarray], x: np.ndarray, task: str, path: Path) -> Path:
    """One heat map per (layer, head) for the first sequence: row = query position (its
    output digit on the axis), column = key position (its input digit)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    layers, heads = len(weights), weights[0].shape[1]
    fig = Figure(figsize=(2.4 * heads + 0.8, 2.4 * layers + 0.6))
    FigureCanvasAgg(fig)
    target = x[::-1] if task == "reverse" else np.sort(x)
    for li, w in enumerate(weights):
        for hi in range(heads):
            ax = fig.add_subplot(layers, heads, li * heads + hi + 1)
            im = ax.imshow(w[0, hi], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_xticks(range(len(x)), [str(d) for d in x], fontsize=6)
            ax.set_yticks(range(len(x)), [str(d) for d in target], fontsize=6)
            ax.set_title(f"layer {li + 1}, head {hi + 1}", fontsize=8)
            if hi == 0:
                ax.set_ylabel("query (target digit)", fontsize=7)
            if li == layers - 1:
                ax.set_xlabel("key (input digit)", fontsize=7)
    fig.colorbar(im, ax=fig.axes, shrink=0.8, label="attention weight")
    fig.suptitle(f"attention weights, task {task}: input {''.join(map(str, x))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a tiny transformer on reverse or sort.")
    p.add_argument("--task", choices=["reverse", "sort"], default="reverse")
    p.add_argument("--length", type=int, default=10)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=None, help="default: 1 to reverse, 2 to sort")
    p.add_argument("--steps", type=int, default=None,
                   help="default: 400 to reverse, 1000 to sort")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3, help="peak lr of the one-cycle schedule")
    p.add_argument("--minutes", type=float, default=None, help="stop training after this")
    p.add_argument("--test-size", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("out/tiny_transformer"))
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="tqdm progress bar (default: when stderr is a terminal)")
    args = p.parse_args(argv)
    layers, steps = TASK_DEFAULTS[args.task]
    args.layers = layers if args.layers is None else args.layers
    args.steps = steps if args.steps is None else args.steps
    for name in ("length", "d_model", "heads", "layers", "steps", "batch_size", "test_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.steps < 10:  # OneCycleLR's warm-up (20%) needs 2+ steps (PyTorch's divides by 0)
        p.error("--steps must be >= 10")
    if args.d_model % args.heads:
        p.error(f"--d-model {args.d_model} must be a multiple of --heads {args.heads}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = TinyTransformer(args.length, args.d_model, args.heads, args.layers)
    opt = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps,
                                          pct_start=0.2)
    print(f"task={args.task} length={args.length} d_model={args.d_model} heads={args.heads} "
          f"layers={args.layers} steps={args.steps} batch={args.batch_size} lr={args.lr} "
          f"seed={args.seed} params={sum(p.numel() for p in model.parameters())}")
    bar = progress_bar(args.steps, 0, args.progress)
    say = bar.write if bar is not None else print
    start = time.perf_counter()
    step = 0
    try:
        for step in range(1, args.steps + 1):
            x, y = make_batch(args.task, args.batch_size, args.length, rng)
            logits = model(torch.from_numpy(x))
            loss = F.cross_entropy(logits.reshape(-1, DIGITS), torch.from_numpy(y.reshape(-1)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            if step % max(1, args.steps // 8) == 0 or step == args.steps:
                say(f"step {step} loss {loss.item():.4f} time {time.perf_counter() - start:.1f}s")
            if args.minutes is not None and time.perf_counter() - start > 60 * args.minutes:
                say(f"stopped at step {step}: --minutes {args.minutes} reached")
                break
    finally:
        if bar is not None:
            bar.close()
    train_time = time.perf_counter() - start
    token_acc, seq_acc = accuracy(model, args.task, args.test_size, args.length,
                                  seed=args.seed + 10_000)
    print(f"trained {step} steps in {train_time:.1f}s; test on {args.test_size} fresh "
          f"sequences: token accuracy {100 * token_acc:.2f}%, sequence accuracy "
          f"{100 * seq_acc:.2f}%")
    x, _ = make_batch(args.task, 1, args.length, np.random.default_rng(args.seed + 20_000))
    weights = model.attention(torch.from_numpy(x))
    png = draw_attention(weights, x[0], args.task, args.out / "attention.png")
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
