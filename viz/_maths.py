"""Draw the maths, not the machinery: short formulas as node titles, and the nodes that are
only notation folded into the op that uses them.

- A transpose of a leaf (`W.T`) used by one op is drawn inside that op: `Wᵀ(W x)` is one
  node, and the edge from W carries the gradient that went back through the transpose.
- A constant that is one number repeated (the 2 of `x ** 2`, the 0.5 of `0.5 * s`) and is
  used once is written into its op's formula instead of drawn as a box.
- Each op gets a formula built from its inputs' (`W x`, `Σ (r)²`) while it stays short;
  otherwise its title is the op's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor
from viz._walk import GraphData

#: formulas longer than this fall back to the op's name
MAX_FORMULA = 26

_POWERS = {2: "²", 3: "³"}


def constant_number(t: Tensor) -> str | None:
    """The number a constant repeats ('0.5'), or None when it holds several values."""
    a = t.array
    if a.dtype.kind not in "fiu" or a.size == 0 or a.size > 1 << 16:
        return None
    first = a.flat[0]
    if a.size > 1 and not bool(np.all(a == first)):
        return None
    v = first.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.4g}"


def _is_transpose(node: Any) -> bool:
    axes = getattr(node, "axes", None)
    if node.op != "Permute" or axes is None or len(axes) < 2:
        return False
    n = len(axes)
    return tuple(axes) == (*range(n - 2), n - 1, n - 2)


def fold(data: GraphData, names: Mapping[Any, str]) -> dict[Any, Any]:
    """Units drawn inside another unit: {folded unit: the op it is drawn in}."""
    uses: dict[Any, list[Any]] = {}
    for e in data.edges:
        uses.setdefault(e.src, []).append(e.dst)
    outputs = {unit for _, unit in data.outputs}
    host: dict[Any, Any] = {}
    for t in data.leaves:
        if (not t.requires_grad and len(uses.get(t, ())) == 1 and t not in outputs
                and not (names.get(t) or t.name) and constant_number(t) is not None):
            host[t] = uses[t][0]
    for node in data.ops:
        if (_is_transpose(node) and node.parents[0] is None and node not in outputs
                and len(uses.get(node, ())) == 1):
            host[node] = uses[node][0]
    return host


def _atomic(text: str) -> bool:
    """No space outside parentheses: `Wᵀ(W x)` is atomic, `a − b` is not."""
    depth = 0
    for c in text:
        depth += (c == "(") - (c == ")")
        if c == " " and depth == 0:
            return False
    return True


def _wrap(text: str) -> str:
    return text if _atomic(text) else f"({text})"


def _matmul(a: str, b: str) -> str:
    a, b = _wrap(a), _wrap(b)
    return a + b if b.startswith("(") else f"{a} {b}"


def _power(a: str, k: str) -> str:
    return _wrap(a) + (_POWERS.get(int(k), f"^{k}") if k.isdigit() else f"^{k}")


def _mul(a: str, b: str, b_number: bool) -> str:
    if b_number:  # a scalar factor reads first: 0.5 · Σ r²
        a, b = b, a
    return f"{_wrap(a)} · {_wrap(b)}"


_UNARY = {"Exp": "exp", "Log": "log", "Tanh": "tanh", "Sigmoid": "σ", "ReLU": "relu",
          "Relu": "relu", "Sqrt": "√", "Abs": "abs", "Sin": "sin", "Cos": "cos"}
_BINARY: dict[str, Callable[[str, str], str]] = {
    "Add": lambda a, b: f"{a} + {b}",
    "Sub": lambda a, b: f"{a} − {_wrap(b)}",
    "Div": lambda a, b: f"{_wrap(a)} / {_wrap(b)}",
    "MatMul": _matmul,
    "Pow": _power,
}


def formulas(data: GraphData, names: Mapping[Any, str], folded: Mapping[Any, Any]
             ) -> dict[Any, str]:
    """A short formula for every unit that has one (leaves: their names)."""
    text: dict[Any, str] = {}
    for t in data.leaves:
        name = names.get(t) or t.name
        number = constant_number(t) if t in folded else None
        if name or number:
            text[t] = str(name or number)
    numbers = {t for t in data.leaves if t in folded}
    for node in data.ops:
        args: list[str] = []
        for t, parent in zip(node.inputs, node.parents):
            src = parent if parent is not None else t
            if src not in text:
                break
            args.append(text[src])
        else:
            f = _formula(node, args, [parent is None and t in numbers
                                      for t, parent in zip(node.inputs, node.parents)])
            if f is not None and len(f) <= MAX_FORMULA:
                text[node] = f
    return text


def _formula(node: Any, args: list[str], is_number: list[bool]) -> str | None:
    op = node.op
    if len(args) == 1:
        (a,) = args
        if _is_transpose(node):
            return _wrap(a) + "ᵀ"
        if op == "Sum":
            return f"Σ{_wrap(a)}"
        if op == "Neg":
            return f"−{_wrap(a)}"
        if op in _UNARY:
            return f"{_UNARY[op]}({a})"
        return None
    if len(args) == 2:
        if op == "Mul":
            return _mul(args[0], args[1], is_number[1] and not is_number[0])
        if op in _BINARY:
            return _BINARY[op](*args)
    return None
