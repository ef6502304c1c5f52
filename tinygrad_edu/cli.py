"""`tinygrad-edu`: the demo tour, training runs, graph drawing and hyperparameter sweeps.

Bad arguments, missing data and unwritable outputs give one line on stderr naming the flag
and what would be valid, with exit code 2 -- never a traceback. `--help` shows every
option's default; `--version` prints the package version.

Each subcommand is one `_add_<command>` helper: it makes its parser with `_command` (so it
gets the one-line errors and the defaults in its help) and names the function that runs it
with `set_defaults(run=...)`.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any, NoReturn

import tinygrad_edu._cli_commands as commands
from tinygrad_edu._cli_commands import OPTIMIZERS, CLIError
from tinygrad_edu.version import __version__

DATASETS = ("mnist", "fashion-mnist", "cifar10", "iris", "digits", "spirals", "moons", "blobs")
DATA_DIR_DEFAULT = "(default: found under $TINYGRAD_EDU_DATA, then ../shared/datasets)"


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends in '(default: ...)'; an option whose default is not a plain
    value (None, a flag) says in its own help what happens without it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or not action.option_strings or action.default in (
                None, argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:  # numpy's generators refuse negative seeds
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {value}")
    return value


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes sizes like 256 or 256,128; got "
                                         f"{text!r}") from None
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers like 256 or "
                                         f"256,128; got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinygrad-edu", formatter_class=_HelpFormatter,
        description="An autograd engine on numpy: check gradients, draw graphs, train nets.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(sub)
    _add_train(sub)
    _add_graph(sub)
    _add_sweep(sub)
    _add_predict(sub)
    _add_evaluate(sub)
    _add_compile(sub)
    return parser


def _command(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=description, formatter_class=_HelpFormatter)
    return parser


def _add_data_dir(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--data-dir", help=f"{what} {DATA_DIR_DEFAULT}")


def _add_no_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true",
                        help="hide the progress bar (shown when stderr is a terminal)")


def _add_demo(sub: Any) -> None:
    demo = _command(sub, "demo", "the one-minute tour: gradient check, graph, training",
                    "Check the autoencoder gradient three ways, draw its graph, then train a "
                    "small MLP on real data (MNIST when found).")
    demo.add_argument("--data-dir", help="directory with MNIST (or Fashion-MNIST) IDX files "
                      "(default: found automatically, else the 8x8 digits or a synthetic set)")
    demo.add_argument("--out", default="out/demo", help="output directory")
    demo.add_argument("--epochs", type=_positive_int, default=5, help="training epochs")
    _add_no_progress(demo)
    demo.set_defaults(run=commands.run_demo)


def _add_train(sub: Any) -> None:
    train = _command(sub, "train", "train an MLP or a convnet and write its artefacts",
                     "Train a model; writes history.json, curves.png, weights.png and "
                     "model.npz to --out and prints test accuracy.")
    train.add_argument("--dataset", choices=DATASETS, default="mnist", help="the data set")
    train.add_argument("--model", choices=("mlp", "convnet"), default="mlp",
                       help="the network")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="training epochs (default: " + ", ".join(
                           f"{n} for the {m}" for m, n in commands.DEFAULT_EPOCHS.items())
                       + "; with --resume, the run's own)")
    train.add_argument("--batch-size", type=_positive_int, default=64,
                       help="examples per step")
    train.add_argument("--lr", type=_positive_float, default=2e-3, help="learning rate")
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam",
                       help="the update rule")
    train.add_argument("--hidden", type=_hidden, default="256",
                       help="hidden sizes of the MLP, e.g. 256 or 256,128")
    train.add_argument("--lr-decay", type=_positive_float, default=0.8,
                       help="learning-rate factor per epoch")
    _add_data_dir(train, "directory holding the dataset files")
    train.add_argument("--out", default="out/train", help="output directory")
    train.add_argument("--seed", type=_seed, default=0,
                       help="seed of the split, the initial weights and the batches")
    _add_no_progress(train)
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="carry on the run saved in CHECKPOINT (OUT/checkpoint.npz, written "
                       "after every epoch) with its dataset, model, optimizer and schedule; "
                       "their options here are ignored, --epochs may extend it (default: "
                       "none, a new run)")
    train.set_defaults(run=commands.run_train)


def _add_graph(sub: Any) -> None:
    graph = _command(sub, "graph", "draw a built-in example's graph to a file",
                     "Draw the computational graph of a built-in example, with gradients on "
                     "the edges. Needs Graphviz's `dot`, except for a .dot file.")
    graph.add_argument("--example", choices=("autoencoder", "two_layer", "convnet", "mlp20",
                                              "rnn", "softmax2", "reused_input", "mlp"),
                       default=None, help="the example to draw (default: autoencoder; with "
                       "--steps: autoencoder, softmax2, reused_input, mlp, all of them)")
    graph.add_argument("--out", default=None,
                       help="output file: .svg, .png, .pdf, or .dot for the DOT text "
                       "(default: out/graph.svg); with --steps a directory (default: "
                       "out/steps)")
    graph.add_argument("--steps", action="store_true",
                       help="write step-through pages of backward (one self-contained HTML "
                       "file per example) instead of a picture")
    graph.set_defaults(run=commands.run_graph)


def _add_sweep(sub: Any) -> None:
    sweep = _command(sub, "sweep", "grid search over hyperparameters",
                     "Train every combination of --grid and print a table sorted by "
                     "validation accuracy.")
    sweep.add_argument("--grid", required=True,
                       help="space-separated key=v1,v2 terms, e.g. 'lr=1e-3,1e-2 "
                       "hidden=100,300 reg=0,1e-3'; keys: hidden (100 or 256x128), "
                       "activation, dropout, reg and the optimizer's and Solver's "
                       "(lr, momentum, beta1, beta2, epochs, batch_size, optimizer, ...)")
    sweep.add_argument("--dataset", choices=DATASETS, default="digits", help="the data set")
    sweep.add_argument("--epochs", type=_positive_int, default=3,
                       help="training epochs per run")
    sweep.add_argument("--batch-size", type=_positive_int, default=100,
                       help="examples per step")
    sweep.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam",
                       help="the update rule")
    _add_data_dir(sweep, "directory holding the dataset files")
    sweep.add_argument("--out", default="out/sweep",
                       help="output directory for sweep.json and heatmap.png")
    sweep.add_argument("--time-budget", type=_positive_float, default=None,
                       help="stop starting new runs after this many seconds (default: no "
                       "limit)")
    sweep.add_argument("--heatmap", nargs=2, metavar=("X", "Y"),
                       help="two grid keys for the heatmap (default: the first two keys "
                       "with several values)")
    _add_no_progress(sweep)
    sweep.set_defaults(run=commands.run_sweep)


def _add_predict(sub: Any) -> None:
    predict = _command(sub, "predict", "predicted labels from a trained model",
                       "Apply a model.npz (or checkpoint.npz) written by `train`, with the "
                       "preprocessing saved in it, to raw images.")
    predict.add_argument("model", help="model.npz or checkpoint.npz written by train")
    predict.add_argument("images", nargs="?",
                         help="an .npy/.npz array or an IDX file of raw images (integer pixels "
                         "are scaled as in training); default: --split of the training data")
    predict.add_argument("--split", choices=("train", "val", "test"), default="test",
                         help="the split of the training data, without IMAGES")
    _add_data_dir(predict, "directory holding the dataset files, for --split")
    predict.add_argument("--out", help="write the labels to this file (.npy, else one per "
                         "line) (default: none, they are printed)")
    predict.set_defaults(run=commands.run_predict)


def _add_evaluate(sub: Any) -> None:
    evaluate = _command(sub, "evaluate", "accuracy of a trained model on a data split",
                        "Accuracy of a model.npz (or checkpoint.npz) written by `train` on a "
                        "split of its dataset, cut as in training, with the preprocessing "
                        "saved in the file.")
    evaluate.add_argument("model", help="model.npz or checkpoint.npz written by train")
    evaluate.add_argument("--split", choices=("train", "val", "test"), default="test",
                          help="the split")
    _add_data_dir(evaluate, "directory holding the dataset files")
    evaluate.set_defaults(run=commands.run_evaluate)


def _add_compile(sub: Any) -> None:
    from tinygrad_edu._cli_commands import compile as compile_command

    command = _command(sub, "compile", "print the numpy code compile generates for a model",
                       "Compile a built-in model's loss with tinygrad_edu.compile and print "
                       "the generated numpy forward and backward (docs/compile.md).")
    command.add_argument("--example", choices=compile_command.EXAMPLES, default="two_layer",
                         help="the model (default: two_layer, the courses' two-layer net)")
    command.set_defaults(run=compile_command.run_compile)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a bad argument (already printed)
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except CLIError as e:
        print(f"tinygrad-edu {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
