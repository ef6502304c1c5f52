"""Label text and node/edge styles for the graph drawing.

Labels are plain DOT strings, never HTML-like ones: each line is escaped here (backslashes
doubled, so a name like `a\\nb` or `\\N` stays literal) and the lines are joined with DOT's
`\\n`. The result is wrapped in `graphviz.nohtml`, so a label such as `<lambda>` is not
mistaken for an HTML label; the graphviz package then escapes double quotes. Braces, angle
brackets and `|` only mean something in record shapes, which are never used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import graphviz
import numpy as np

#: tensors with at most this many elements show their values when show_data is on
VALUE_LIMIT = 16
#: graphs with at most this many drawn nodes show values by default
AUTO_DATA_NODES = 30

ACCENT = "#c0392b"  # accumulation points and the edges whose gradients are summed there

NODE_STYLES: dict[str, dict[str, str]] = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fff2cc",
           "color": "#7f6000"},
    "param": {"shape": "box", "style": "filled,bold", "fillcolor": "#cfe2f3",
              "color": "#1f4e79"},
    "const": {"shape": "note", "style": "filled", "fillcolor": "#eeeeee",
              "color": "#808080", "fontcolor": "#404040"},
    "output": {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#d9ead3",
               "color": "#274e13"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#e4dff0",
               "color": "#4b3b78"},
    "composite": {"shape": "box3d", "style": "filled", "fillcolor": "#fde9d9",
                  "color": "#843c0c"},
    "repeat": {"shape": "box3d", "style": "filled,bold", "fillcolor": "#e2efda",
               "color": "#375623", "peripheries": "2"},
    "chain": {"shape": "folder", "style": "filled", "fillcolor": "#fce5cd", "color": "#7f4f00"},
    "chunk": {"shape": "folder", "style": "filled", "fillcolor": "#fce5cd", "color": "#7f4f00"},
}
ACCUM_STYLE = {"color": ACCENT, "penwidth": "2.5", "peripheries": "2"}
GRAD_EDGE = {"color": "#333333", "fontcolor": "#1a4d80"}
ACCUM_EDGE = {"color": ACCENT, "fontcolor": ACCENT, "penwidth": "1.6"}
CONST_EDGE = {"color": "#a0a0a0", "style": "dashed", "arrowsize": "0.7"}

LEGEND = ("arrows: forward data flow;  edge labels: the gradient flowing back along the edge "
          "(∇ shape, ‖∇‖ norm or value);  Σ: gradients from several paths are summed here "
          "(∇ = ∇₁ + ∇₂: the vectors add, their norms do not)")


VALUES_NOT_RECORDED = (
    "values: not recorded (backward() freed them, or an in-place op overwrote them); run "
    "the backward inside `with record_gradients() as tape:` and pass tape= to see them")


def escape_line(text: str) -> str:
    """One line of label text with every backslash made literal."""
    return text.replace("\\", "\\\\")


def label(lines: Iterable[str]) -> str:
    """A DOT label from text lines (each may contain newlines; all characters literal)."""
    parts: list[str] = []
    for line in lines:
        parts.extend(escape_line(piece) for piece in str(line).splitlines() or [""])
    return graphviz.nohtml("\\n".join(parts))


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + (",)" if len(shape) == 1 else ")")


def shape_dtype(shape: tuple[int, ...], dtype: Any) -> str:
    return f"{shape_text(shape)} {np.dtype(dtype).name}"


def number(value: Any) -> str:
    v = np.asarray(value).item()
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    return f"{v:.4g}"


def values(array: np.ndarray) -> str:
    """Compact text of a small array (a scalar prints as a number)."""
    if array.ndim == 0:
        return number(array)
    return np.array2string(
        np.asarray(array), precision=3, separator=", ", suppress_small=True,
        threshold=VALUE_LIMIT, edgeitems=2, max_line_width=44,
    )


def norm(array: np.ndarray) -> str:
    if array.dtype.kind not in "fiub":
        return "?"
    return f"{float(np.linalg.norm(np.asarray(array, dtype=np.float64).ravel())):.3g}"


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def nabla(k: int = 0) -> str:
    """∇, or ∇₂ for the second contribution to a sum."""
    return "∇" + (str(k).translate(_SUBSCRIPTS) if k else "")


def grad_text(shape: tuple[int, ...], grad: np.ndarray | None, fmt: str, k: int = 0
              ) -> list[str]:
    """Edge label lines: the gradient's shape, plus its norm or value when recorded; `k`
    numbers a contribution to a sum (∇₁, ∇₂, ...)."""
    g = nabla(k)
    head = f"{g} " + shape_text(shape)
    if grad is None or fmt == "shape":
        return [head]
    if grad.ndim == 0:
        return [f"{head} = {number(grad)}"]
    if fmt == "value" and grad.size <= VALUE_LIMIT:
        return [head, values(grad)]
    return [head, f"‖{g}‖ " + norm(grad)]


def data_lines(prefix: str, array: np.ndarray | None) -> list[str]:
    """`data ...` / `grad ...` lines for a tiny tensor; nothing for a big or missing one."""
    if array is None or array.size > VALUE_LIMIT:
        return []
    text = values(array)
    if "\n" not in text:
        return [f"{prefix} {text}"]
    return [prefix] + [line for line in text.splitlines() if line.strip()]


def accumulation_text(paths: int, total: np.ndarray | None, fmt: str,
                      parts: list[np.ndarray | None] | None = None) -> list[str]:
    """The sum at an accumulation point, written out: `Σ 2 paths: ∇ = ∇₁ + ∇₂`, then its
    value (scalars, which do add up) or its norm beside the norms of the parts, which do
    not add up: ‖∇₁ + ∇₂‖ ≤ ‖∇₁‖ + ‖∇₂‖, with equality only for parallel gradients."""
    parts = parts or []
    n = len(parts) if len(parts) > 1 else paths
    terms = [nabla(k) for k in range(1, n + 1)]
    if n > 3:
        terms = [terms[0], "…", terms[-1]]
    head = f"Σ {paths} paths: ∇ = " + " + ".join(terms)
    if total is None or fmt == "shape":
        return [head]
    known = [p for p in parts if p is not None]
    if total.ndim == 0:
        if len(known) == len(parts) > 1:
            return [f"Σ {paths} paths: ∇ = " + " + ".join(number(p) for p in known)
                    + f" = {number(total)}"]
        return [f"{head} = {number(total)}"]
    if len(known) == len(parts) > 1 and len(parts) <= 3:
        each = " + ".join(norm(p) for p in known)
        norms = [float(np.linalg.norm(np.asarray(p, dtype=np.float64))) for p in known]
        if np.isclose(float(np.linalg.norm(np.asarray(total, dtype=np.float64))), sum(norms)):
            return [head, f"‖∇‖ {norm(total)} = {each}", "(the parts point the same way)"]
        return [head, f"‖∇‖ {norm(total)}, not {each}:", "norms of a sum do not add"]
    return [head, f"‖∇‖ {norm(total)}"]
