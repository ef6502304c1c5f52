"""More activations and the vector similarities, as `torch.nn.functional` has them (all
re-exported by `nn.functional`): celu, selu, mish, relu6, hardswish, hardsigmoid,
softsign, logsigmoid, softmin, glu, prelu, normalize, cosine_similarity,
pairwise_distance.

Every one is a composite of Tensor ops (its derivatives of every order come from the
primitives). The kinks follow PyTorch's gradients exactly at the kink points, stated in
each docstring; where PyTorch's double backward differs from the derivative of its first
(prelu at 0, celu and selu at 0), `_kink` reproduces it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import where
from tinygrad_edu.modes import _state, is_grad_enabled, value_check
from tinygrad_edu.nn._piecewise import (
    _kink,
    _overwrite,
    _t,
    above_zero_or_nan,
    at_most_zero,
    elu,
    hardtanh,
    is_zero,
    softmax_dim,
)
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor, as_tensor

#: SELU's constants (Klambauer et al. 2017), as PyTorch spells them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _float(input: Any, op: str) -> Tensor:
    """input as a Tensor, refused unless floating point (PyTorch has no integer kernel)."""
    x = _t(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got {x.dtype} with "
                        f"shape {x.shape}")
    return x


def _dim(dim: int, ndim: int, op: str, shape: tuple[int, ...]) -> int:
    """dim checked against ndim (a 0-d tensor has the dims -1 and 0, as in PyTorch)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of shape {shape} "
                         f"(valid: {-n} to {n - 1})")
    return dim % n


# ----------------------------------------------------------------------------- elu family


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)).

    Kink at 0 as PyTorch: celu'(0) = 1 (both sides agree) and celu''(0) = 0 (the right
    side's; the left side's would be 1/alpha). alpha = 0 raises. `inplace=True`: written
    into input, see `F.leaky_relu`."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x)")
    if inplace:
        return _overwrite(_float(input, "celu"), "celu", lambda x: celu(x, alpha))
    x = _float(input, "celu")
    # As `elu`: the branch is chosen by the sign of x itself (alpha may be negative), NaN
    # takes the linear branch and stays NaN, exp sees only x <= 0 (0 elsewhere), and at 0
    # the second derivative is PyTorch's 0 (`_kink`: f(s) + d f'(k) with f' = e^(k/alpha)).
    linear = held(above_zero_or_nan, x)  # held masks: compile recomputes them per call
    s, d, k = _kink(x.where(held(at_most_zero, x), 0.0), held(is_zero, x))
    negative = ((s * (1.0 / alpha)).exp() - 1.0) * alpha + d * (k * (1.0 / alpha)).exp()
    return where(linear, x, negative)


def selu(input: Any, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's constants (`SELU_SCALE`, `SELU_ALPHA`).
    selu'(0) = scale * alpha (the negative branch, as PyTorch), selu''(0) = 0."""
    if inplace:
        return _overwrite(_float(input, "selu"), "selu", lambda x: selu(x))
    return elu(_float(input, "selu"), SELU_ALPHA) * SELU_SCALE


def mish(input: Any, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)); softplus is the stable one (no overflow for large x), so
    mish(x) = x for large x and -> -0 for very negative x."""
    if inplace:
        return _overwrite(_float(input, "mish"), "mish", lambda x: mish(x))
    x = _float(input, "mish")
    return x * x.softplus().tanh()


# ----------------------------------------------------------------------------- hard family


def relu6(input: Any, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6): gradient 1 strictly inside (0, 6), and 0 at
    both kinks, x = 0 and x = 6 (PyTorch's). Integer input stays integer, as in PyTorch.
    NaN stays NaN with gradient 0 (see `F.hardtanh`)."""
    x = _t(input)
    if x.dtype.kind in "iu":  # no gradient to keep: clip the integers themselves
        clipped = np.clip(x.array, 0, 6).astype(x.dtype)
        return x.copy_(clipped) if inplace else as_tensor(clipped)
    return hardtanh(x, 0.0, 6.0, inplace)


def hardsigmoid(input: Any, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: gradient 1/6 strictly inside (-3, 3) and 0 at x = -3 and x = 3
    (PyTorch's). The second derivative is 0 everywhere (PyTorch has none: its double
    backward raises)."""
    if inplace:
        return _overwrite(_float(input, "hardsigmoid"), "hardsigmoid", lambda x: hardsigmoid(x))
    return hardtanh(_float(input, "hardsigmoid") + 3.0, 0.0, 6.0) * (1.0 / 6.0)


def hardswish(input: Any, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6. Gradient: 0 for x <= -3, x/3 + 1/2 inside (-3, 3), 1 for
    x >= 3, so exactly at the kinks hardswish'(-3) = 0 and hardswish'(3) = 1 (PyTorch's);
    second derivative 1/3 inside and 0 at and beyond the kinks. A NaN gives NaN and a NaN
    gradient (PyTorch's gradient there is 1)."""
    if inplace:
        return _overwrite(_float(input, "hardswish"), "hardswish", lambda x: hardswish(x))
    x = _float(input, "hardswish")
    return x * hardtanh(x + 3.0, 0.0, 6.0) * (1.0 / 6.0)


# ----------------------------------------------------------------------------- smooth ones


def softsign(input: Any) -> Tensor:
    """x / (1 + |x|); softsign'(0) = 1. Integer input gives the default float dtype."""
    x = _t(input)
    return x / (x.abs() + 1)


def logsigmoid(input: Any) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable: no overflow for any |x| (-1e4 gives -1e4,
    not -inf), gradient sigmoid(-x)."""
    return -(-_float(input, "logsigmoid")).softplus()


def softmin(input: Any, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along `dim`. Without `dim`: PyTorch's legacy choice (dim 0 for 0-, 1-
    and 3-d input, else 1) after its UserWarning. `dtype` converts the input first."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind != "f":
        raise TypeError(f"softmin: input must be a floating-point tensor (or pass dtype=), "
                        f"got {x.dtype} with shape {x.shape}")
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning,
                      stacklevel=_stacklevel - 1)
    return (-x).softmax(softmax_dim(dim, x.ndim))


def glu(input: Any, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the first and second halves of x along `dim`
    (which must have an even size)."""
    x = _float(input, "glu")
    if x.ndim == 0:
        raise ShapeError("glu: does not support 0-d input (shape ()): the halved dim must "
                         "have an even size")
    d = _dim(dim, x.ndim, "glu", x.shape)
    if x.shape[d] % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dim {dim} of input of "
                         f"shape {x.shape} has size {x.shape[d]}")
    a, b = x.chunk(2, d)
    return a * b.sigmoid()


def prelu(input: Any, weight: Any) -> Tensor:
    """x if x > 0 else weight * x, with one weight for all (1 element) or one per channel
    (dim 1; input of fewer than 2 dims has one channel). Input and weight must have the
    same float dtype (PyTorch does not promote here).

    Kink at 0 as PyTorch: d/dx = weight (the negative branch), d/dweight = 0, and the mixed
    second derivative is 0 there (PyTorch's double backward tests x < 0)."""
    x, w = _float(input, "prelu"), _t(weight)
    if w.ndim > 1:
        raise ShapeError(f"prelu: weight must be 0-d or 1-d, got shape {w.shape} (input "
                         f"shape {x.shape})")
    if w.dtype != x.dtype:
        raise TypeError(f"prelu: input ({x.dtype}) and weight ({w.dtype}) must have the same "
                        f"dtype (PyTorch does not promote them)")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.numel() not in (1, channels):
        raise ShapeError(f"prelu: weight of shape {w.shape} has {w.numel()} parameters; "
                         f"expected 1 or one per channel ({channels}) for input of shape "
                         f"{x.shape}")
    if w.numel() == 1:
        w = w.reshape(())
    else:
        w = w.reshape(1, channels, *([1] * (x.ndim - 2)))
    # the masks are held and the branch test a guard: compile repeats them on every call
    if value_check(has_zero, x):
        kink = held(is_zero, x)
        # At x = 0, x * w would give d2/dx dw = 1; PyTorch's is 0. So there x is a constant
        # (value 0) and the x-gradient comes from d * w.detach() (d: value 0, slope 1).
        at_kink = x.where(kink, 0.0)
        negative = w * x.where(~kink, x.detach()) + (at_kink - at_kink.detach()) * w.detach()
    else:
        negative = w * x
    return where(held(above_zero_or_nan, x), x, negative)


# ----------------------------------------------------------------------------- similarities


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """x / max(||x||_p, eps) along `dim`, as PyTorch. Where the norm is below eps the
    denominator is the constant eps (gradient 1/eps; a zero vector stays zero). `out`
    receives the result (no graph, as PyTorch refuses out= with autograd)."""
    x = _float(input, "normalize")
    d = _dim(dim, x.ndim, "normalize", x.shape)
    if out is not None:
        if is_grad_enabled() and x.requires_grad:
            raise RuntimeError("normalize: out= does not support automatic differentiation "
                               f"(input of shape {x.shape} requires grad)")
        return out.copy_(normalize(x.detach(), p, d, eps))
    return x / x.norm(p, d, keepdim=True).clamp(min=eps)


def _common_float(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """Two operands, checked to broadcast and to have a floating result type; their
    broadcast shape."""
    x1, x2 = _t(a), _t(b)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"{op}: x1 of shape {x1.shape} and x2 of shape {x2.shape} cannot be "
                         "broadcast together") from None
    if x1.dtype.kind != "f" and x2.dtype.kind != "f":
        raise TypeError(f"{op}: x1 and x2 must have a floating-point common dtype, got "
                        f"{x1.dtype} and {x2.dtype}")
    return x1, x2, shape


def has_zero(a: np.ndarray) -> bool:
    """Is any entry exactly 0 (prelu's kink test, a compile guard)."""
    return bool((a == 0).any())


def eps_lift(a: np.ndarray, eps: float) -> np.ndarray:
    """What lifts a to at least eps (0 where a >= eps; NaN stays NaN): held."""
    with np.errstate(invalid="ignore"):
        return np.maximum(a, a.dtype.type(eps)) - a


def has_below(a: np.ndarray, eps: float) -> bool:
    """Does eps_lift change anything."""
    return bool((eps_lift(a, eps) != 0).any())


def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """||x||_2 along dim with its value clamped to >= eps but its gradient the norm's
    (PyTorch clamps in place under no_grad); a zero vector's norm has gradient 0."""
    n = x.norm(2, dim, keepdim=True)
    # under compile always lifted (n + 0 is n where n >= eps), the lift held
    if _state.trace is None and not has_below(n.array, eps):
        return n
    return n + held(eps_lift, n, eps=eps)


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) max(||x2||, eps)) along `dim`, after broadcasting
    x1 and x2 to their common shape, as PyTorch: each is divided by its own norm first (so
    the result stays in [-1, 1]), and the clamp at eps changes the value only, not the
    gradient path (PyTorch clamps the norms in place under no_grad)."""
    a, b, shape = _common_float(x1, x2, "cosine_similarity")
    d = _dim(dim, len(shape), "cosine_similarity", shape)
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    return ((a / _clamped_norm(a, d, eps)) * (b / _clamped_norm(b, d, eps))).sum(d)


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim of the broadcast shape (PyTorch adds eps to
    every difference, so equal inputs give a small positive distance with a finite
    gradient). p = 0 counts the nonzero differences (gradient 0), p = inf takes the largest,
    p = -inf the smallest."""
    a, b = _t(x1), _t(x2)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"pairwise_distance: x1 of shape {a.shape} and x2 of shape {b.shape} "
                         "cannot be broadcast together") from None
    diff = a - b + eps
    if diff.ndim == 0:
        return _vector_norm(diff, p, None, keepdim)
    return _vector_norm(diff, p, diff.ndim - 1, keepdim)


def _vector_norm(x: Tensor, p: float, dim: int | None, keepdim: bool) -> Tensor:
    if p == -np.inf:
        return x.abs().amin(dim=dim, keepdim=keepdim)
    return x.norm(p, dim, keepdim=keepdim)


__all__ = ["celu", "selu", "mish", "relu6", "hardswish", "hardsigmoid", "softsign",
           "logsigmoid", "softmin", "glu", "prelu", "normalize", "cosine_similarity",
           "pairwise_distance"]
