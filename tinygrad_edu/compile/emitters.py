"""How each primitive is written in the generated numpy code: one line per primitive.

`TEMPLATES` maps a primitive to its numpy spelling, `{0}`, `{1}`... being its inputs and
`{name}` an attribute (written with `repr`); each spelling computes exactly what the
primitive's `forward` computes (the same numpy calls in the same order, so the values
agree to the last bit). A primitive without a template is emitted as a call of its own
`forward` on a fresh instance (`conv1_node = ConvIm2col.__new__(ConvIm2col)`, then
`conv1_out = conv1_node.forward(x, conv1_weight, ...)`): the instance also keeps what the
forward saves for a kernel (ConvIm2col's im2col matrix).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.function import Function
from tinygrad_edu.ops import elementwise as el
from tinygrad_edu.ops import linalg, movement, reduce, special, trig

#: the numpy spelling of a primitive's forward (see the module docstring)
TEMPLATES: dict[type[Function], str] = {
    el.Add: "{0} + {1}",
    el.Sub: "{0} - {1}",
    el.Mul: "{0} * {1}",
    el.Div: "{0} / {1}",
    el.Neg: "-{0}",
    el.Exp: "np.exp({0})",
    el.Log: "np.log({0})",
    el.Log1p: "np.log1p({0})",
    el.Sqrt: "np.sqrt({0})",
    el.Abs: "np.abs({0})",
    el.Sign: "np.sign({0})",
    el.Tanh: "np.tanh({0})",
    el.ReLU: "np.maximum({0}, 0)",
    el.Maximum: "np.maximum({0}, {1})",
    el.Minimum: "np.minimum({0}, {1})",
    el.Pow: "np.power({0}, {1})",
    el.Copy: "{0}.copy()",
    special.Exp2: "np.exp2({0})",
    special.Expm1: "np.expm1({0})",
    special.Log2: "np.log2({0})",
    special.Log10: "np.log10({0})",
    trig.Sin: "np.sin({0})",
    trig.Cos: "np.cos({0})",
    trig.Tan: "np.tan({0})",
    reduce.Sum: "np.asarray({0}.sum(axis={axis}, keepdims={keepdims}))",
    reduce.Max: "np.asarray({0}.max(axis={axis}, keepdims={keepdims}))",
    movement.Reshape: "{0}.reshape({shape})",
    movement.Permute: "{0}.transpose({axes})",
    movement.Expand: "np.broadcast_to({0}, {shape})",
    linalg.MatMul: "np.asarray({0} @ {1})",
}


def spell(value: Any, const: Callable[[Any], str]) -> str:
    """Python source for an attribute value; arrays (and module-level functions, as a
    loss's `build`) become names in the generated code's namespace (`const`)."""
    if isinstance(value, np.ndarray) or isinstance(value, types.FunctionType) and \
            "<" not in value.__qualname__:
        return const(value)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: spell(v, const) for k, v in value.items()}
        if any(p == "" for p in items.values()):
            return ""
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in items.items()) + "}"
    if isinstance(value, np.dtype):
        return f"np.{value.name}"
    if value is Ellipsis:
        return "Ellipsis"
    if isinstance(value, tuple | list):
        parts = [spell(v, const) for v in value]
        if any(p == "" for p in parts):
            return ""
        if isinstance(value, list):
            return "[" + ", ".join(parts) + "]"
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
    if isinstance(value, slice):
        parts = [spell(v, const) if v is not None else "" for v in
                 (value.start, value.stop, value.step)]
        return "slice(" + ", ".join("None" if p == "" else p for p in parts) + ")"
    if isinstance(value, float) and not np.isfinite(value):
        return f"float('{value}')"
    if isinstance(value, np.generic):
        return f"np.{value.dtype.name}({spell(value.item(), const)})"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    return ""  # not spellable: the caller passes the attributes by name


def index_source(index: Any, const: Callable[[np.ndarray], str]) -> str:
    """`[:, 1:3]` for basic indices; arrays as constants."""
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for item in items:
        if isinstance(item, slice):
            start, stop = ("" if v is None else spell(v, const) for v in (item.start, item.stop))
            step = "" if item.step is None else ":" + spell(item.step, const)
            parts.append(f"{start}:{stop}{step}")
        elif item is Ellipsis:
            parts.append("...")
        elif item is None:
            parts.append("None")
        else:
            parts.append(spell(item, const))
    if any(p == "" for p in parts):
        return ""
    return ", ".join(parts) + ("," if len(parts) == 1 and isinstance(index, tuple) else "")


def template_line(op: type[Function], args: list[str], attrs: dict[str, Any],
                  const: Callable[[np.ndarray], str]) -> str | None:
    """The numpy expression for `op` on the named arguments, or None (no template)."""
    if op is el.Where:
        return f"np.where({spell(attrs['cond'], const)}, {args[0]}, {args[1]})"
    if op is el.Cast:
        return f"{args[0]}.astype({spell(np.dtype(attrs['dtype']), const)})"
    if op is movement.GetItem:
        index = index_source(attrs["index"], const)
        return None if not index else f"np.asarray({args[0]}[{index}])"
    if op is linalg.Linear:
        bias = f" + {args[2]}" if len(args) > 2 else ""
        return f"np.matmul({args[0]}, {args[1]}.T){bias}"
    if op is linalg.Einsum:
        spec = ",".join(attrs["inputs_labels"]) + "->" + attrs["out_labels"]
        return (f"np.asarray(np.einsum({spec!r}, {', '.join(args)}, "
                f"optimize={spell(attrs['optimize'], const)}))")
    if op is movement.Concat:
        return f"np.concatenate([{', '.join(args)}], axis={attrs['axis']})"
    template = TEMPLATES.get(op)
    if template is None:
        return None
    spelled = {k: spell(v, const) for k, v in attrs.items()}
    if any(s == "" for s in spelled.values()):
        return None
    return template.format(*args, **spelled)
