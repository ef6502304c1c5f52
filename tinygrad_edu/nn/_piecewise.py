"""The piecewise activations that others are built from (elu, hardtanh) and the helpers
the functional activations share: `_overwrite` (PyTorch's `inplace=True`), `_kink` (a branch
differentiated once but not twice at its kink, as PyTorch's double backward) and
`softmax_dim` (the legacy implicit dim). They live below `nn.functional`, which re-exports
them, so that other functional modules (`nn._activations_functional`) can use them without
an import cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.functional import where
from tinygrad_edu.modes import is_grad_enabled
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor, as_tensor


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def _overwrite(x: Tensor, op: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """`inplace=True`, as PyTorch: x <- compute(x), written into x's own memory, and x
    returned. Outside a graph this is a plain write. In one, `copy_` records it (x takes
    over the node, and a node that saved x's old value raises at backward, as PyTorch's
    version counter does); compute reads a clone of x, so the values it saves itself are
    not the ones being overwritten. A leaf that requires grad is refused, as in PyTorch."""
    if is_grad_enabled() and x.requires_grad:
        if x.is_leaf:
            raise RuntimeError(f"{op}(inplace=True): a leaf tensor that requires grad (shape "
                               f"{x.shape}) cannot be changed in place while grad mode is on; "
                               "use inplace=False")
        result = compute(x.clone())
    else:
        result = compute(x)
    try:
        return x.copy_(result)
    except RuntimeError as e:
        raise RuntimeError(f"{op}(inplace=True): {e}") from None


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (e^x - 1). NaN stays NaN (gradient 1 there, as PyTorch).
    `inplace=True`: written into input, see `leaky_relu`."""
    if inplace:
        return _overwrite(_t(input), "elu", lambda x: elu(x, alpha))
    x = _t(input)
    # The masks are written so that NaN (which compares False) takes the branch x itself:
    # a NaN must never come out as a number. exp sees only x <= 0 (0 elsewhere): no
    # overflow, and no inf or NaN in the unused branch to poison the gradient.
    # (the masks are held: compile recomputes them on every call)
    linear = held(above_zero_or_nan, x)
    xn = x.where(held(at_most_zero, x), 0.0)
    # PyTorch's kink at 0: elu'(0) = alpha (the negative branch), but elu''(0) = 0 (its
    # double backward tests x < 0).
    s, d, k = _kink(xn, held(is_zero, x))
    negative = ((s.exp() - 1.0) + d * k.exp()) * alpha
    return where(linear, x, negative)


def _kink(x: Tensor, kink: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(s, d, k) to write a branch f that PyTorch differentiates once but not twice at the
    points `kink` as f(s) + d * f'(k).

    Off the kinks s is x and d is 0 (and stays 0 when differentiated), so value and
    derivatives are f's. At a kink s is a constant (x's value) and d is x - x: value 0,
    derivative 1, and k is the constant x there (0 elsewhere). So the value at a kink is
    f(x), the first derivative f'(x) and the second 0, as PyTorch's double backward gives.
    d and k only see the kink points, which are finite: no inf - inf, no NaN warnings."""
    at_kink = x.where(kink, 0.0)
    k = at_kink.detach()
    return x.where(held(np.logical_not, kink), x.detach()), at_kink - k, k


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val), with PyTorch's kink rule: the gradient is 1 strictly
    inside (min_val, max_val) and 0 at the bounds (clamp passes it at the bounds). NaN
    stays NaN (np.clip keeps it); its gradient is 0 (PyTorch gives 0 or 1 depending on
    the array's length: its vectorized and scalar kernels differ). `inplace=True`: written
    into input, see `leaky_relu`."""
    if inplace:
        return _overwrite(_t(input), "hardtanh", lambda x: hardtanh(x, min_val, max_val))
    x = _t(input)
    inside = held(strictly_inside, x, low=min_val, high=max_val)  # held, as the clipped values
    return where(inside, x, held(clip_values, x, low=min_val, high=max_val))


# masks and values held by the activations: module-level, so that the generated code of
# `compile` calls them by name on every call
def clip_values(a: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip(a, low, high)


def strictly_inside(a: np.ndarray, low: float, high: float) -> np.ndarray:
    return (a > low) & (a < high)


def above_zero_or_nan(a: np.ndarray) -> np.ndarray:
    """~(a <= 0): a NaN counts as above (it takes the linear branch and stays NaN)."""
    return ~(a <= 0)


def at_most_zero(a: np.ndarray) -> np.ndarray:
    return a <= 0


def is_zero(a: np.ndarray) -> np.ndarray:
    return a == 0


def softmax_dim(dim: int | None, ndim: int) -> int:
    """`dim`, or PyTorch's legacy choice when it is None: dim 0 for 0-, 1- and 3-d input,
    else dim 1 (PyTorch warns about it; pass `dim`)."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1
