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


def run_graph(args: argparse.Namespace) -> int:
    viz = load_viz()
    out = Path(args.out)
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
    output_dir(str(out.parent), shown=args.out)
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
