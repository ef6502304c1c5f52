# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""PyTorch's strict matrix products as Tensor methods (a mixin): mm, bmm, mv, addmm, addmv,
baddbmm, and kron.

`@`/matmul promotes 1-D operands and broadcasts batches; these do neither, as PyTorch:
`mm` takes two matrices, `bmm` two 3-D batches of equal size, `mv` a matrix and a vector,
and both operands must have the same dtype. Each checks its shapes, then calls matmul, so
the gradient (and the second derivative) is matmul's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import _tensor_types

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _operands(op: str, names: tuple[str, ...], xs: tuple[Any, ...], ranks: tuple[int, ...]
              ) -> list[Tensor]:
    """The operands as Tensors, each of the rank `op` needs and all of one dtype."""
    ts = [_tensor_types.as_tensor(x) for x in xs]
    shapes = ", ".join(f"{n} {t.shape}" for n, t in zip(names, ts))
    for name, t, rank in zip(names, ts, ranks):
        if t.ndim != rank:
            raise ShapeError(f"{op}: {name} must be {rank}-D; got shapes {shapes}")
    if len({t.dtype for t in ts}) != 1:
        dtypes = ", ".join(f"{n} {t.dtype}" for n, t in zip(names, ts))
        raise TypeError(f"{op}: expected operands of one dtype, got {dtypes} (shapes {shapes}); "
                        "convert one with .to(dtype)")
    if ts[0].dtype.kind == "b":
        raise TypeError(f"{op}: not defined for bool tensors (shapes {shapes})")
    return ts


def _scaled_sum(op: str, input: Any, product: Tensor, beta: Any, alpha: Any,
                factors: str) -> Tensor:
    """beta * input + alpha * product, input broadcast to the product's shape; beta = 0
    ignores input entirely (NaN in it does not propagate, as PyTorch)."""
    c = _tensor_types.as_tensor(input)
    try:
        fits = np.broadcast_shapes(c.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: input of shape {c.shape} cannot be broadcast to "
                         f"{product.shape}, the shape of {factors}")
    if c.dtype != product.dtype:
        raise TypeError(f"{op}: input of shape {c.shape} has dtype {c.dtype} but {factors} "
                        f"has {product.dtype}")
    if product.dtype.kind in "iu":  # an integer result scales by integers (as PyTorch)
        beta, alpha = int(beta), int(alpha)
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return scaled + zero_with_zero_gradient(c, scaled.shape) if c.requires_grad else scaled
    return scaled + (c if beta == 1 else c * beta)


def zero_with_zero_gradient(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Zeros of `shape` in the graph of t, handing t a gradient of 0 (as PyTorch does for
    an input a result does not depend on), never NaN: `where` sends no gradient to the
    side it does not pick, and NaN or inf in t are never read."""
    return t.where(np.zeros(shape, bool), 0.0)


class ProductsMixin:
    __slots__ = ()

    def mm(self: Tensor, mat2: Any) -> Tensor:
        """(n, m) @ (m, p) -> (n, p), two matrices only (as `torch.mm`)."""
        a, b = _operands("mm", ("input", "mat2"), (self, mat2), (2, 2))
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"mm: shapes {a.shape} and {b.shape} cannot be multiplied "
                             f"({a.shape[1]} != {b.shape[0]})")
        return a.matmul(b)

    def bmm(self: Tensor, mat2: Any) -> Tensor:
        """(b, n, m) @ (b, m, p) -> (b, n, p): equal batch sizes, no broadcasting."""
        a, b = _operands("bmm", ("input", "mat2"), (self, mat2), (3, 3))
        if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise ShapeError(f"bmm: shapes {a.shape} and {b.shape} do not fit; expected mat2 of "
                             f"shape ({a.shape[0]}, {a.shape[2]}, p)")
        return a.matmul(b)

    def mv(self: Tensor, vec: Any) -> Tensor:
        """(n, m) @ (m,) -> (n,)."""
        a, v = _operands("mv", ("input", "vec"), (self, vec), (2, 1))
        if a.shape[1] != v.shape[0]:
            raise ShapeError(f"mv: shapes {a.shape} and {v.shape} cannot be multiplied "
                             f"({a.shape[1]} != {v.shape[0]})")
        return a.matmul(v)

    def addmm(self: Tensor, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """beta * self + alpha * (mat1 @ mat2), self broadcast to (n, p)."""
        a, b = _tensor_types.as_tensor(mat1), _tensor_types.as_tensor(mat2)
        return _scaled_sum("addmm", self, a.mm(b), beta, alpha,
                           f"mat1 {a.shape} @ mat2 {b.shape}")

    def addmv(self: Tensor, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """beta * self + alpha * (mat @ vec), self broadcast to (n,)."""
        a, v = _tensor_types.as_tensor(mat), _tensor_types.as_tensor(vec)
        return _scaled_sum("addmv", self, a.mv(v), beta, alpha, f"mat {a.shape} @ vec {v.shape}")

    def baddbmm(self: Tensor, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1
                ) -> Tensor:
        """beta * self + alpha * bmm(batch1, batch2), self broadcast to (b, n, p)."""
        a, b = _tensor_types.as_tensor(batch1), _tensor_types.as_tensor(batch2)
        return _scaled_sum("baddbmm", self, a.bmm(b), beta, alpha,
                           f"batch1 {a.shape} @ batch2 {b.shape}")

    def kron(self: Tensor, other: Any) -> Tensor:
        """The Kronecker product: out[i * B + j] = a[i] * b[j] along every axis (the shorter
        shape padded with leading ones), as one broadcast product, so its gradient is the
        product's."""
        a, b = self, _tensor_types.as_tensor(other)
        nd = max(a.ndim, b.ndim)
        sa = (1,) * (nd - a.ndim) + a.shape
        sb = (1,) * (nd - b.ndim) + b.shape
        interleaved_a = [n for m in sa for n in (m, 1)]
        interleaved_b = [n for m in sb for n in (1, m)]
        out = a.reshape(interleaved_a) * b.reshape(interleaved_b)
        return out.reshape([m * n for m, n in zip(sa, sb)])
