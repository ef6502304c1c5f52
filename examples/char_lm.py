"""A character-level language model on examples/data/harbour.txt: an LSTM, or a two-layer
transformer with causal self-attention and learned positional embeddings.

The text (78 KB, 57 characters) is generated from a small grammar written for this
repository (CC0; see examples/data/README.md). The first 90% trains, the last 10% gives the
validation loss. Each step takes a batch of random windows of `--seq-len + 1` characters and
minimises the cross-entropy of every next character (mean over the batch and positions, in
nats; log(57) = 4.04 is a uniform guess). After each epoch the script prints the training
and validation loss and a sample drawn with temperature `--temperature` from a seeded
generator; at the end it writes `loss.png` (the loss per step) and `history.json` to `--out`
(default `out/char_lm`).

    python examples/char_lm.py --model lstm                  # 12 epochs, about a minute
    python examples/char_lm.py --model transformer --minutes 2
    python examples/char_lm.py --model lstm --epochs 1 --steps 5 --hidden 32 --seq-len 16

The models are written once, against the PyTorch API, in `build_model(lib, ...)`: `lib` is
`tinygrad_edu` here and `torch` in benchmarks/bench_char_lm.py, which trains the same models
on the same batches in PyTorch. Where the library has no `nn.Embedding` yet (tinygrad_edu
before it was added), `GatherEmbedding` below stands in: a Parameter indexed by the
character ids (`weight[ids]`, whose gradient adds back into the rows used), the same maths
and the same parameter name.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "harbour.txt"
DEFAULT_LR = {"lstm": 3e-3, "transformer": 1e-3}


# ----------------------------------------------------------------------------- data


class Corpus:
    """The text as character ids: `alphabet` (sorted characters), `train` and `val` arrays."""

    def __init__(self, path: Path = DATA, val_fraction: float = 0.1) -> None:
        self.text = path.read_text(encoding="utf-8")
        self.alphabet = sorted(set(self.text))
        self.index = {c: i for i, c in enumerate(self.alphabet)}
        ids = np.array([self.index[c] for c in self.text], dtype=np.int64)
        cut = int(len(ids) * (1 - val_fraction))
        self.train, self.val = ids[:cut], ids[cut:]

    def encode(self, s: str) -> np.ndarray:
        return np.array([self.index[c] for c in s], dtype=np.int64)

    def decode(self, ids: Any) -> str:
        return "".join(self.alphabet[int(i)] for i in ids)


def batch(ids: np.ndarray, batch_size: int, seq_len: int, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    """`batch_size` random windows: inputs x (B, T) and next-character targets y (B, T)."""
    starts = rng.integers(0, len(ids) - seq_len - 1, size=batch_size)
    windows = ids[starts[:, None] + np.arange(seq_len + 1)]
    return windows[:, :-1], windows[:, 1:]


def steps_per_epoch(corpus: Corpus, batch_size: int, seq_len: int) -> int:
    """An epoch sees about as many characters as the training text has."""
    return max(1, len(corpus.train) // (batch_size * seq_len))


# ----------------------------------------------------------------------------- models


def build_model(lib: Any, kind: str, vocab: int, hidden: int, seq_len: int, heads: int = 4,
                layers: int = 2) -> Any:
    """The model, an `lib.nn.Module` mapping ids (B, T) to logits (B, T, vocab); `lib` is
    tinygrad_edu or torch. `model(ids, state)` returns (logits, state): the LSTM's (h, c),
    None for the transformer (it sees at most `seq_len` characters, its positions)."""
    nn = lib.nn
    Module: Any = nn.Module

    class GatherEmbedding(Module):  # nn.Embedding's maths: rows `ids` of a (num, dim) table
        def __init__(self, num: int, dim: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(lib.randn(num, dim))

        def forward(self, ids: Any) -> Any:
            return self.weight[ids]

    def table(num: int, dim: int, std: float) -> Any:
        """An embedding table with N(0, std^2) entries."""
        layer = nn.Embedding(num, dim) if hasattr(nn, "Embedding") else GatherEmbedding(num, dim)
        nn.init.normal_(layer.weight, std=std)
        return layer

    class LSTMLM(Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = table(vocab, hidden, 1.0)
            self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, ids: Any, state: Any = None) -> tuple[Any, Any]:
            out, state = self.lstm(self.embed(ids), state)
            return self.head(out), state

    class TransformerLM(Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = table(vocab, hidden, 0.1)
            self.pos = table(seq_len, hidden, 0.1)  # learned positional embeddings
            layer = nn.TransformerEncoderLayer(hidden, heads, 4 * hidden, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, ids: Any, state: Any = None) -> tuple[Any, Any]:
            T = ids.shape[1]
            mask = nn.Transformer.generate_square_subsequent_mask(T)
            x = self.embed(ids) + self.pos(lib.arange(T))
            x = self.blocks(x, mask=mask, is_causal=True)
            return self.head(self.norm(x)), None

    if kind == "lstm":
        return LSTMLM()
    if kind == "transformer":
        if hidden % heads:
            raise ValueError(f"--hidden {hidden} must be a multiple of the {heads} heads")
        return TransformerLM()
    raise ValueError(f"unknown model {kind!r}: lstm or transformer")


def train_step(lib: Any, model: Any, opt: Any, x: np.ndarray, y: np.ndarray) -> float:
    """One step of Adam on the mean next-character cross-entropy; returns the loss."""
    logits, _ = model(lib.from_numpy(x))
    loss = lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           lib.from_numpy(y.reshape(-1)))
    opt.zero_grad()
    loss.backward()
    lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return float(loss.item())


def evaluate(lib: Any, model: Any, ids: np.ndarray, batch_size: int, seq_len: int,
             batches: int = 4, seed: int = 1234) -> float:
    """Mean loss on `batches` fixed windows of `ids` (the same ones at every call)."""
    rng = np.random.default_rng(seed)
    total = 0.0
    with lib.no_grad():
        for _ in range(batches):
            x, y = batch(ids, batch_size, seq_len, rng)
            logits, _ = model(lib.from_numpy(x))
            total += float(lib.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), lib.from_numpy(y.reshape(-1))).item())
    return total / batches


def sample(lib: Any, model: Any, corpus: Corpus, prompt: str, length: int, seq_len: int,
           temperature: float, seed: int) -> str:
    """`length` characters after `prompt`, each drawn from softmax(logits / temperature) with
    a numpy generator seeded by `seed`. The LSTM carries its state from character to
    character; the transformer reads the last `seq_len` characters every time."""
    rng = np.random.default_rng(seed)
    ids = list(corpus.encode(prompt))
    state = None
    feed = ids[-seq_len:]
    with lib.no_grad():
        for _ in range(length):
            logits, state = model(lib.from_numpy(np.array([feed], dtype=np.int64)), state)
            z = logits.numpy()[0, -1].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            ids.append(nxt)
            feed = [nxt] if state is not None else ids[-seq_len:]
    return corpus.decode(ids[len(prompt):])


# ----------------------------------------------------------------------------- main


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a character-level language model.")
    p.add_argument("--model", choices=["lstm", "transformer"], default="lstm")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--steps", type=int, default=None,
                   help="steps per epoch (default: one pass over the text's characters)")
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--heads", type=int, default=4, help="attention heads (transformer)")
    p.add_argument("--lr", type=float, default=None, help="Adam's lr (lstm 3e-3, "
                   "transformer 1e-3)")
    p.add_argument("--minutes", type=float, default=None, help="stop after this many "
                   "minutes (checked after each step; the samples' time counts too)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--sample-len", type=int, default=160)
    p.add_argument("--prompt", default="The ")
    p.add_argument("--out", type=Path, default=Path("out/char_lm"))
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="tqdm progress bar (default: when stderr is a terminal)")
    args = p.parse_args(argv)
    for name in ("epochs", "seq_len", "batch_size", "hidden", "sample_len"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.steps is not None and args.steps < 1:
        p.error("--steps must be >= 1")
    if args.temperature <= 0:
        p.error("--temperature must be > 0")
    if not args.prompt:
        p.error("--prompt must not be empty")
    if args.model == "transformer" and args.hidden % args.heads:
        p.error(f"--hidden {args.hidden} must be a multiple of --heads {args.heads}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import tinygrad_edu as lib
    import tinygrad_edu.optim as optim
    from tinygrad_edu.train.progress import progress_bar
    from viz.plots import plot_history

    corpus = Corpus()
    bad = sorted(set(args.prompt) - set(corpus.alphabet))
    if bad:
        print(f"--prompt has characters not in the text: {bad}", file=sys.stderr)
        return 2
    lib.manual_seed(args.seed)
    model = build_model(lib, args.model, len(corpus.alphabet), args.hidden, args.seq_len,
                        heads=args.heads)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.model]
    opt = optim.Adam(model.parameters(), lr=lr)
    per_epoch = args.steps or steps_per_epoch(corpus, args.batch_size, args.seq_len)
    n_params = sum(p.numel() for p in model.parameters())
    uniform = math.log(len(corpus.alphabet))
    print(f"model={args.model} params={n_params} alphabet={len(corpus.alphabet)} "
          f"seq_len={args.seq_len} batch={args.batch_size} hidden={args.hidden} lr={lr} "
          f"seed={args.seed} steps/epoch={per_epoch} (uniform loss {uniform:.3f})")
    rng = np.random.default_rng(args.seed)
    history: dict[str, list[float]] = {"loss_history": [], "val_loss": [], "epoch_time": []}
    bar = progress_bar(args.epochs * per_epoch, 0, args.progress)
    say = bar.write if bar is not None else print
    start, out_of_time = time.perf_counter(), False
    try:
        for epoch in range(1, args.epochs + 1):
            losses = []
            for _ in range(per_epoch):
                x, y = batch(corpus.train, args.batch_size, args.seq_len, rng)
                losses.append(train_step(lib, model, opt, x, y))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
                if args.minutes is not None and time.perf_counter() - start > 60 * args.minutes:
                    out_of_time = True
                    break
            history["loss_history"] += losses
            val = evaluate(lib, model, corpus.val, args.batch_size, args.seq_len)
            history["val_loss"].append(val)
            history["epoch_time"].append(time.perf_counter() - start)
            say(f"epoch {epoch} steps {len(history['loss_history'])} "
                f"train_loss {np.mean(losses):.4f} val_loss {val:.4f} "
                f"time {time.perf_counter() - start:.1f}s")
            text = sample(lib, model, corpus, args.prompt, args.sample_len, args.seq_len,
                          args.temperature, args.seed + epoch)
            say(f"sample: {args.prompt + text!r}")
            if out_of_time:
                say(f"stopped: --minutes {args.minutes} reached")
                break
    finally:
        if bar is not None:
            bar.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "history.json").write_text(json.dumps({**history, "args": {
        k: str(v) for k, v in vars(args).items()}}, indent=1))
    png = plot_history({"loss_history": history["loss_history"]}, args.out / "loss.png",
                       title=f"char-LM ({args.model}), harbour.txt")
    print(f"wrote {png} and {args.out / 'history.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
