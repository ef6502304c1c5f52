"""Module-level functional forms: cat/stack, where, einsum, and the maths as functions
(`tinygrad_edu.exp(x)`), as PyTorch has them."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu._maths import _result_dtype, condition_array, scalar_like, where_tensors
from tinygrad_edu._reduce_more import std_mean, var_mean  # noqa: F401  (re-exported)
from tinygrad_edu._shape_functions import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    meshgrid,
    repeat_interleave,
)
from tinygrad_edu.autograd import _state
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.ops.linalg import Linear, einsum_normalized
from tinygrad_edu.ops.movement import Concat
from tinygrad_edu.tensor import Tensor, as_tensor


def _tensors(xs: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(xs, Tensor) or not len(xs):
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    ts = [as_tensor(x) for x in xs]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = _result_dtype(dt, t.dtype)
    return [t.to(dt) for t in ts]


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing axis (`concatenate` in numpy)."""
    ts = _tensors(tensors, "cat")
    ref = ts[0]
    d = ref._axis(axis if axis is not None else dim, "cat")
    for i, t in enumerate(ts):
        if t.ndim != ref.ndim or t.shape[:d] + t.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]:
            raise ShapeError(f"cat: tensor {i} has shape {t.shape}, which does not match "
                             f"{ref.shape} outside dim {d} (shapes: "
                             f"{', '.join(str(u.shape) for u in ts)}); all must agree except "
                             f"along dim {d}")
    return Concat.apply(*ts, axis=d)


concatenate = cat
concat = cat


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    ts = _tensors(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has "
                             f"{ts[0].shape}; stack needs equal shapes (shapes: "
                             f"{', '.join(str(u.shape) for u in ts)})")
    d = axis if axis is not None else dim
    if not -ts[0].ndim - 1 <= d <= ts[0].ndim:
        raise IndexError(f"stack: dim {d} is out of range for tensors of shape {ts[0].shape} "
                         f"(valid: {-ts[0].ndim - 1}..{ts[0].ndim})")
    return cat([t.unsqueeze(d) for t in ts], dim=d)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """`input` where `condition` else `other`; the gradient flows to the chosen side only.
    With the condition alone, the indices where it holds, one tensor per axis (PyTorch's
    `where(cond)`, i.e. `nonzero(as_tuple=True)`)."""
    cond = np.asarray(condition.array if isinstance(condition, Tensor) else condition)
    if cond.dtype.kind not in "biuf":
        raise TypeError(f"where: condition must be a bool (or numeric) tensor, got "
                        f"{condition!r}")
    if input is None and other is None:  # a 0-d condition counts as one element (PyTorch)
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(cond)))
    a = input if isinstance(input, Tensor) else None
    b = other if isinstance(other, Tensor) else None
    if a is None and b is None:
        a = as_tensor(input)
    if a is None:
        assert b is not None
        a = scalar_like(input, b)
    if b is None:
        b = scalar_like(other, a)
    return where_tensors(condition_array(condition), a, b)


# ----------------------------------------------------------------------------- einsum


def _parse_einsum(subscripts: str, shapes: list[tuple[int, ...]]
                  ) -> tuple[list[str], str, tuple[int, ...]]:
    """Explicit labels per operand and for the output, with '...' spelled out in fresh
    letters. Returns (input labels, output labels, broadcast ellipsis shape)."""
    terms, out, explicit = _split_subscripts(subscripts, shapes)
    ell_shapes = [_ellipsis_part(subscripts, i, term, shape)
                  for i, (term, shape) in enumerate(zip(terms, shapes))]
    try:
        ell = tuple(np.broadcast_shapes(*ell_shapes)) if ell_shapes else ()
    except ValueError:
        raise ShapeError(f"einsum: the '...' parts {ell_shapes} of operands of shapes "
                         f"{', '.join(str(s) for s in shapes)} cannot be broadcast together "
                         f"for '{subscripts}'") from None
    used = set("".join(terms) + out)
    fresh = [c for c in string.ascii_letters if c not in used]
    if len(ell) > len(fresh):
        raise ValueError("einsum: too many axes for the available labels")
    ell_labels = "".join(fresh[: len(ell)])
    # an operand's '...' stands for the trailing axes of the broadcast '...' shape
    inputs = [term.replace("...", ell_labels[len(ell) - len(es):])
              for term, es in zip(terms, ell_shapes)]
    return inputs, _output_labels(subscripts, out, explicit, inputs, ell_labels), ell


def _split_subscripts(subscripts: str, shapes: Sequence[tuple[int, ...]]
                      ) -> tuple[list[str], str, bool]:
    """'ij,jk->ik' -> (['ij', 'jk'], 'ik', True); without '->' the output is implicit
    ('', False). Checks the operand count and that every label is a letter."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts '{subscripts}' name {len(terms)} operands but "
                         f"{len(shapes)} were given (of shapes "
                         f"{', '.join(str(tuple(sh)) for sh in shapes)})")
    letters = set(string.ascii_letters)
    for ch in lhs.replace(",", "").replace(".", "") + out.replace(".", ""):
        if ch not in letters:
            raise ValueError(f"einsum: invalid character '{ch}' in subscripts '{subscripts}'")
    return terms, out, bool(arrow)


def _ellipsis_part(subscripts: str, i: int, term: str, shape: tuple[int, ...]
                   ) -> tuple[int, ...]:
    """The axes of operand i (subscripts `term`) that its '...' covers; () without one.
    Checks that the named labels fit the operand's axes."""
    named = len(term.replace("...", ""))
    if "..." not in term:
        if named != len(shape):
            raise ValueError(f"einsum: operand {i} has {len(shape)} axes (shape {shape}) "
                             f"but its subscripts '{term}' name {named}")
        return ()
    if term.count("...") > 1:
        raise ValueError(f"einsum: operand {i} has more than one '...' in '{subscripts}'")
    if named > len(shape):
        raise ValueError(f"einsum: operand {i} has {len(shape)} axes (shape {shape}) "
                         f"but its subscripts '{term}' name {named}")
    at = term.index("...")
    return shape[at:at + len(shape) - named]


def _output_labels(subscripts: str, out: str, explicit: bool, inputs: list[str],
                   ell_labels: str) -> str:
    """The output's labels: the explicit ones (checked), else numpy's implicit rule -- the
    '...' axes, then every label that appears once, in alphabetical order."""
    every = "".join(inputs)
    if not explicit:
        once = sorted(c for c in set(every) if every.count(c) == 1 and c not in ell_labels)
        return ell_labels + "".join(once)
    if out.count("...") > 1:
        raise ValueError(f"einsum: output '{out}' has more than one '...'")
    output = out.replace("...", ell_labels)
    for ch in output:
        if output.count(ch) > 1:
            raise ValueError(f"einsum: output subscripts '{out}' repeat '{ch}'")
        if ch not in every:
            raise ValueError(f"einsum: output label '{ch}' in '{subscripts}' appears in no "
                             "operand")
    return output


def einsum(subscripts: Any, *operands: Any, optimize: Any = None) -> Tensor:
    """numpy's einsum with gradients for every operand: any subscripts numpy accepts,
    including repeated labels ('ii->'), implicit output and '...' broadcasting; also the
    sublist form `einsum(x, [0, 1], y, [1, 2], [0, 2])`."""
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts, *operands))
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    ts = _tensors(list(operands), "einsum")
    inputs, output, ell = _parse_einsum(subscripts, [t.shape for t in ts])
    sizes: dict[str, int] = {}
    owner: dict[str, int] = {}  # the operand that set sizes[ch] (for the error message)
    for i, (labels, t) in enumerate(zip(inputs, ts)):
        for j, (ch, n) in enumerate(zip(labels, t.shape)):
            if ch in labels[:j] and sizes.get(ch) != n:
                raise ShapeError(f"einsum: operand {i} repeats label '{ch}' over axes of "
                                 f"different sizes (shape {t.shape})")
            if n != 1:
                if sizes.get(ch, n) != n and sizes[ch] != 1:
                    j0 = owner[ch]
                    raise ShapeError(f"einsum: label '{ch}' has size {sizes[ch]} in operand "
                                     f"{j0} (shape {ts[j0].shape}) and {n} in operand {i} "
                                     f"(shape {t.shape}) for '{subscripts}'; the sizes must "
                                     "match or one must be 1")
                sizes[ch] = n
                owner[ch] = i
            else:
                sizes.setdefault(ch, 1)
    # Size-1 axes that broadcast against a longer axis go through Expand, so the gradient
    # is summed back in the one place that does that.
    expanded = []
    for labels, t in zip(inputs, ts):
        target = tuple(sizes[ch] for ch in labels)
        expanded.append(t if t.shape == target else t._expand_to(target))
    opt = optimize if optimize is not None else len(ts) > 1
    return einsum_normalized(tuple(inputs), output, expanded, opt)


# ----------------------------------------------------------------------------- maths


def _unary(name: str) -> Any:
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(as_tensor(input), name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"`tinygrad_edu.{name}(x, ...)` is `x.{name}(...)`."
    return fn


_NAMES = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clamp", "clip", "square",
          "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "norm",
          "logsumexp", "softmax", "log_softmax", "reshape", "flatten", "squeeze", "unsqueeze",
          "transpose", "permute", "matmul", "maximum", "minimum", "topk", "sort", "gather",
          "masked_fill", "allclose", "isclose", "equal", "numel", "chunk", "split", "neg",
          "pow", "rsqrt", "sign", "cumsum", "prod", "flip", "isnan", "isfinite", "silu",
          "log1p", "reciprocal", "mul", "add", "sub", "div", "t", "broadcast_to", "all", "any",
          "lt", "le", "gt", "ge", "eq", "ne", "floor_divide", "remainder", "logical_and",
          "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
          "bitwise_xor", "bitwise_not")
globals().update({name: _unary(name) for name in _NAMES})
# issue 19: matrix products, running product, medians (Tensor methods in _reduce_more.py)
_LINRED_NAMES = ("mm", "bmm", "mv", "addmm", "addmv", "baddbmm", "kron", "cumprod", "median",
                 "nanmedian")
globals().update({name: _unary(name) for name in _LINRED_NAMES})
# issue 19: trigonometry, rounding, exp2/log2/log10/expm1/erf/erfc, NaN helpers, lerp
_ELEMENTWISE_NAMES = ("sin", "cos", "tan", "atan2", "arctan2", "hypot", "floor", "ceil",
                      "round", "trunc", "fix", "frac", "exp2", "log2", "log10", "expm1", "erf",
                      "erfc", "isinf", "isposinf", "isneginf", "lerp", "nansum", "nan_to_num",
                      "count_nonzero")
globals().update({name: _unary(name) for name in _ELEMENTWISE_NAMES})


def _inplace(name: str) -> Any:
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor to change in place, got "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"`tinygrad_edu.{name}(x, ...)` is `x.{name}(...)` (in place, returns x)."
    return fn


# the in-place forms PyTorch also has at module level (`torch.sin_(x)`)
_INPLACE_NAMES = ("sin_", "cos_", "tan_", "floor_", "ceil_", "round_", "trunc_", "fix_",
                  "frac_", "exp2_", "expm1_", "log2_", "log10_", "erf_", "erfc_",
                  "nan_to_num_", "exp_", "sqrt_", "abs_", "sigmoid_", "tanh_", "log_", "neg_")
globals().update({name: _inplace(name) for name in _INPLACE_NAMES})

# issue 19, shapes and indexing: Tensor methods that PyTorch also has as functions
_SHAPE_NAMES = ("tril", "triu", "roll", "argsort", "nonzero", "unique", "index_select",
                "scatter", "scatter_add", "take_along_dim", "masked_select", "tile", "unbind",
                "narrow", "movedim", "moveaxis", "swapaxes", "swapdims", "diagonal",
                "diag_embed")
globals().update({name: _unary(name) for name in _SHAPE_NAMES})


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = x @ weight.T + bias, weight in PyTorch's (out_features, in_features) layout.

    One fused primitive (see `ops.linalg.Linear`); same values and gradients as the
    composite `x @ weight.T + bias`."""
    x, w = as_tensor(input), as_tensor(weight)
    if w.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{w.shape} (expected last dim {w.shape[1]})")
    if x.dtype != w.dtype:
        dt = np.promote_types(x.dtype, w.dtype) if x.dtype.kind == "f" else w.dtype
        x, w = x.to(dt), w.to(dt)
    if bias is None:
        return Linear.apply(x, w)
    b = as_tensor(bias)
    if b.shape != (w.shape[0],):
        raise ShapeError(f"linear: bias of shape {b.shape} does not match weight of shape "
                         f"{w.shape} (expected ({w.shape[0]},)); input has shape {x.shape}")
    return Linear.apply(x, w, b.to(w.dtype))


def _sublist_subscripts(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """`(x, [0, 1], y, [1, 2], [0, 2])` -> ('ab,bc->ac', (x, y)), as numpy and PyTorch."""
    def letters(labels: Any) -> str:
        return "".join("..." if i is Ellipsis else string.ascii_letters[int(i)] for i in labels)

    pairs, out = (args[:-1], args[-1]) if len(args) % 2 else (args, None)
    operands = pairs[0::2]
    spec = ",".join(letters(labels) for labels in pairs[1::2])
    return (spec if out is None else f"{spec}->{letters(out)}"), tuple(operands)


def outer(a: Any, b: Any) -> Tensor:
    """The outer product of two vectors: out[i, j] = a[i] b[j]."""
    return as_tensor(a).outer(b)


def dot(a: Any, b: Any) -> Tensor:
    """The dot product of two vectors of the same length (1-D only, as PyTorch)."""
    return as_tensor(a).dot(b)


def diag(input: Any, diagonal: int = 0) -> Tensor:
    """The `diagonal`-th diagonal of a matrix, or the matrix with a vector on it."""
    return as_tensor(input).diag(diagonal)


def trace(x: Any) -> Tensor:
    return as_tensor(x).trace()


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


def is_grad_enabled() -> bool:
    return _state.grad_enabled


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    ts = [as_tensor(t) for t in tensors]
    shapes = [t.shape for t in ts]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"broadcast_tensors: shapes {', '.join(map(str, shapes))} do not "
                         "broadcast (each dim must be equal or 1)") from None
    return tuple(t.expand(shape) for t in ts)


__all__ = [*_NAMES, "linear", "cat", "concat", "concatenate", "stack", "where", "einsum",
           "outer", "dot",
           "diag", "trace", "is_tensor", "broadcast_tensors"]
__all__ += [*_LINRED_NAMES, "var_mean", "std_mean"]  # issue 19 (helper linred)
__all__ += [*_ELEMENTWISE_NAMES, *_INPLACE_NAMES]
__all__ += [*_SHAPE_NAMES, "meshgrid", "atleast_1d", "atleast_2d", "atleast_3d",
            "repeat_interleave"]
