"""`tinygrad-edu`: the demo tour, training runs, graph drawing and hyperparameter sweeps.

Bad arguments and missing data give one-line errors (exit code 2), not tracebacks.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import tinygrad_edu._cli_commands as commands
from tinygrad_edu._cli_commands import OPTIMIZERS, CLIError

DATASETS = ("mnist", "fashion-mnist", "cifar10", "iris", "digits", "spirals", "moons", "blobs")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes sizes like 256 or 256,128; got "
                                         f"{text!r}") from None
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="An autograd engine on numpy: check gradients, draw graphs, train nets.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(sub)
    _add_train(sub)
    _add_graph(sub)
    _add_sweep(sub)
    _add_predict(sub)
    _add_evaluate(sub)
    return parser


def _add_demo(sub: Any) -> None:
    demo = sub.add_parser("demo", help="the one-minute tour: gradient check, graph, training",
                          description="Check the autoencoder gradient three ways, draw its "
                          "graph, then train a small MLP on real data (MNIST when found).")
    demo.add_argument("--data-dir", help="directory with MNIST IDX files (default: found "
                      "automatically, else the 8x8 digits or a synthetic set)")
    demo.add_argument("--out", default="out/demo", help="output directory (default out/demo)")
    demo.add_argument("--epochs", type=_positive_int, default=5, help="training epochs (5)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_train(sub: Any) -> None:
    train = sub.add_parser("train", help="train an MLP or a convnet and write its artefacts",
                           description="Train a model; writes history.json, curves.png, "
                           "weights.png and model.npz to --out and prints test accuracy.")
    train.add_argument("--dataset", choices=DATASETS, default="mnist")
    train.add_argument("--model", choices=("mlp", "convnet"), default="mlp")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="epochs (default 5; with --resume, the run's own number)")
    train.add_argument("--batch-size", type=_positive_int, default=128)
    train.add_argument("--lr", type=_positive_float, default=1e-3)
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam")
    train.add_argument("--hidden", type=_hidden, default=[256],
                       help="hidden sizes of the MLP, e.g. 256 or 256,128")
    train.add_argument("--lr-decay", type=_positive_float, default=1.0,
                       help="learning-rate factor per epoch")
    train.add_argument("--data-dir", help="directory holding the dataset files")
    train.add_argument("--out", default="out/train", help="output directory")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="carry on the run saved in CHECKPOINT (OUT/checkpoint.npz, written "
                       "after every epoch) with its dataset, model, optimizer and schedule; "
                       "their options here are ignored, --epochs may extend it")


def _add_graph(sub: Any) -> None:
    graph = sub.add_parser("graph", help="draw a built-in example's graph to a file",
                           description="Draw the computational graph of a built-in example, "
                           "with gradients on the edges.")
    graph.add_argument("--example", choices=("autoencoder", "two_layer", "convnet"),
                       default="autoencoder")
    graph.add_argument("--out", default="out/graph.svg", help="output file (.svg/.png/.pdf)")


def _add_sweep(sub: Any) -> None:
    sweep = sub.add_parser("sweep", help="grid search over hyperparameters",
                           description="Train every combination of --grid and print a table "
                           "sorted by validation accuracy.")
    sweep.add_argument("--grid", required=True,
                       help="e.g. 'lr=1e-3,1e-2 hidden=100,300 reg=0,1e-3'")
    sweep.add_argument("--dataset", choices=DATASETS, default="digits")
    sweep.add_argument("--epochs", type=_positive_int, default=3)
    sweep.add_argument("--batch-size", type=_positive_int, default=100)
    sweep.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam")
    sweep.add_argument("--data-dir")
    sweep.add_argument("--out", default="out/sweep")
    sweep.add_argument("--time-budget", type=_positive_float, default=None,
                       help="stop starting new runs after this many seconds")
    sweep.add_argument("--heatmap", nargs=2, metavar=("X", "Y"),
                       help="two grid keys for the heatmap (default: the first two)")
    sweep.add_argument("--no-progress", action="store_true")


def _add_predict(sub: Any) -> None:
    predict = sub.add_parser("predict", help="predicted labels from a trained model",
                             description="Apply a model.npz (or checkpoint.npz) written by "
                             "`train`, with the preprocessing saved in it, to raw images.")
    predict.add_argument("model", help="model.npz or checkpoint.npz written by train")
    predict.add_argument("images", nargs="?",
                         help="an .npy/.npz array or an IDX file of raw images (integer pixels "
                         "are scaled as in training); default: --split of the training data")
    predict.add_argument("--split", choices=("train", "val", "test"), default="test")
    predict.add_argument("--data-dir", help="directory holding the dataset files")
    predict.add_argument("--out", help="write the labels to this file (.npy, else one per "
                         "line) instead of printing them")


def _add_evaluate(sub: Any) -> None:
    evaluate = sub.add_parser("evaluate", help="accuracy of a trained model on a data split",
                              description="Accuracy of a model.npz (or checkpoint.npz) "
                              "written by `train` on a split of its dataset, cut as in "
                              "training, with the preprocessing saved in the file.")
    evaluate.add_argument("model", help="model.npz or checkpoint.npz written by train")
    evaluate.add_argument("--split", choices=("train", "val", "test"), default="test")
    evaluate.add_argument("--data-dir", help="directory holding the dataset files")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {"demo": commands.run_demo, "train": commands.run_train,
               "graph": commands.run_graph, "sweep": commands.run_sweep,
               "predict": commands.run_predict, "evaluate": commands.run_evaluate}[args.command]
    try:
        return int(handler(args) or 0)
    except CLIError as e:
        print(f"tinygrad-edu {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
