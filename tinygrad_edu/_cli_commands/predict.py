"""`tinygrad-edu predict` and `evaluate`: a model file written by `train` (or a checkpoint)
applied, with the preprocessing saved in it, to raw images or to a split of its dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu._cli_commands.common import CLIError, first_line, load_splits, write_or_fail


def _trained(path: str) -> Any:
    from tinygrad_edu.errors import DataFormatError
    from tinygrad_edu.train import load_model

    try:
        return load_model(path)
    except (OSError, DataFormatError, ValueError, RuntimeError) as e:
        raise CLIError(first_line(e)) from None


def _split(trained: Any, args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """The raw split of the model's dataset, cut as in training (the file's seed)."""
    prep = trained.preprocessing
    splits = load_splits(prep.dataset, args.data_dir, flatten=prep.flatten,
                         seed=prep.split_seed, command=args.command, preprocess=False)
    return getattr(splits, f"X_{args.split}"), getattr(splits, f"y_{args.split}")


def run_predict(args: argparse.Namespace) -> int:
    from tinygrad_edu.errors import DataFormatError
    from tinygrad_edu.train.model_file import read_images

    trained = _trained(args.model)
    try:
        X = read_images(args.images) if args.images else _split(trained, args)[0]
        labels = trained.predict(X)
    except (OSError, DataFormatError, ValueError) as e:
        raise CLIError(first_line(e)) from None
    if args.out is None:
        print("\n".join(str(label) for label in labels))
        return 0
    out = Path(args.out)
    if out.suffix == ".npy":
        write_or_fail(out, lambda: np.save(out, labels))
    else:
        write_or_fail(out, lambda: out.write_text("".join(f"{label}\n" for label in labels)))
    print(f"wrote {len(labels)} predicted labels to {out}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    trained = _trained(args.model)
    X, y = _split(trained, args)
    correct = int(np.sum(trained.predict(X) == y))
    print(f"{trained.preprocessing.dataset} {args.split}: accuracy {correct / len(y):.4f} "
          f"({correct} / {len(y)})")
    return 0
