"""`tinygrad-edu graph`: a built-in example's graph, drawn by Graphviz (or as DOT text)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from tinygrad_edu._cli_commands.common import (
    CLIError,
    first_line,
    load_viz,
    output_dir,
    write_or_fail,
)

STEP_EXAMPLES = ("autoencoder", "softmax2", "reused_input", "mlp")
PICTURE_EXAMPLES = ("autoencoder", "two_layer", "convnet", "mlp20", "rnn")


def run_graph(args: argparse.Namespace) -> int:
    viz = load_viz()
    if args.steps:
        return _run_steps(args)
    if args.example not in (None, *PICTURE_EXAMPLES):
        raise CLIError(f"--example {args.example} is a step-through example; add --steps, or "
                       f"draw one of {', '.join(PICTURE_EXAMPLES)}")
    args.example = args.example or "autoencoder"
    out = Path(args.out or "out/graph.svg")
    fmt = out.suffix.lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf", "dot"):
        raise CLIError(f"--out must end in .svg, .png, .pdf or .dot, got {out.name!r}")
    if out.is_dir():
        raise CLIError(f"--out {args.out}: is a directory; pass a file such as "
                       f"{out / 'graph.svg'}")
    if fmt != "dot" and shutil.which("dot") is None:
        raise CLIError(f"Graphviz's `dot` program is not on PATH, so --out {args.out} cannot "
                       "be drawn; install Graphviz (apt-get install graphviz, brew install "
                       "graphviz, conda install graphviz) or pass --out FILE.dot for the DOT "
                       "text")
    output_dir(str(out.parent), shown=str(out))
    graph = viz.examples.draw(args.example)
    if fmt == "dot":
        path = out
        write_or_fail(out, lambda: out.write_text(graph.source))
    else:
        try:
            path = write_or_fail(out, lambda: viz.render(graph, out, format=fmt))
        except viz.GraphvizNotFoundError as e:  # `dot` vanished, or graphviz cannot run it
            raise CLIError(first_line(e)) from None
    print(path)
    return 0


def _run_steps(args: argparse.Namespace) -> int:
    """`graph --steps`: one step-through page per example, into the --out directory."""
    if args.example not in (None, *STEP_EXAMPLES):
        raise CLIError(f"--steps draws {', '.join(STEP_EXAMPLES)}; got --example "
                       f"{args.example}")
    if shutil.which("dot") is None:
        raise CLIError("Graphviz's `dot` program is not on PATH, so the step-through pages "
                       "cannot be drawn; install Graphviz (apt-get install graphviz, brew "
                       "install graphviz, conda install graphviz)")
    directory = output_dir(args.out or "out/steps")
    from viz import steps_examples

    names = [args.example] if args.example else list(STEP_EXAMPLES)
    for path in write_or_fail(directory, lambda: steps_examples.write_all(directory, names)):
        print(path)
    return 0
