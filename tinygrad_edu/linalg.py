"""Linear algebra with gradients, as `torch.linalg`: inv, solve, det, slogdet, cholesky
(primitives in `ops/matrix.py`), and trace, diag, diagonal, outer, vecdot, norm,
vector_norm, matrix_norm (composites of einsum, sums and maxima).

Matrices may come in batches `(..., n, n)`; every function checks its shapes and names
itself and the shapes in its errors. A singular or not positive-definite matrix raises
`LinAlgError` (both a ValueError, as numpy's, and a RuntimeError, as PyTorch's).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu._reduce import abs_pow_zero_safe, root_zero_safe
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import einsum
from tinygrad_edu.modes import _state
from tinygrad_edu.ops.matrix import Cholesky, Det, Inv, LinAlgError, LogAbsDet, Solve
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["inv", "solve", "det", "slogdet", "logdet", "cholesky", "trace", "diag", "diagonal",
           "outer", "vecdot", "norm", "vector_norm", "matrix_norm", "LinAlgError",
           "SlogdetResult"]


class SlogdetResult(NamedTuple):
    """`(sign, logabsdet)`, as `torch.linalg.slogdet`; det A = sign * exp(logabsdet)."""

    sign: Tensor
    logabsdet: Tensor


def _float(x: Any, op: str) -> Tensor:
    t = as_tensor(x)
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {t.dtype} with shape "
                        f"{t.shape}")
    return t


def _square(x: Any, op: str) -> Tensor:
    t = _float(x, op)
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise ShapeError(f"{op}: expected a square matrix or a batch of them, shape (..., n, n); "
                         f"got shape {t.shape}")
    return t


def inv(A: Any) -> Tensor:
    """A^-1 of a square matrix (or batch). d(A^-1) = -A^-1 dA A^-1."""
    return Inv.apply(_square(A, "inv"))


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:
    """X with A X = B (or X A = B with `left=False`), as `torch.linalg.solve`.

    B is a batch of vectors when it is 1-D or has shape A.shape[:-1]; otherwise (..., n, k).
    Batch axes broadcast. Cheaper and more accurate than `inv(A) @ B`."""
    a = _square(A, "solve")
    b = _float(B, "solve")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        if b.ndim < 2:
            raise ShapeError(f"solve: left=False needs B of shape (..., k, n); got {b.shape}")
        return solve(a.mT, b.mT).mT
    if a.dtype != b.dtype:
        dt = np.promote_types(a.dtype, b.dtype)
        a, b = a.to(dt), b.to(dt)
    n = a.shape[-1]
    vector = b.ndim == 1 or b.shape == a.shape[:-1]
    if vector:
        b = b.reshape(b.shape + (1,))
    if b.ndim < 2 or b.shape[-2] != n:
        raise ShapeError(f"solve: A of shape {a.shape} and B of shape {_shape_of(B)} do not fit; "
                         f"B needs shape (..., {n}) or (..., {n}, k)")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"solve: batch shapes {a.shape[:-2]} (A {a.shape}) and {b.shape[:-2]} "
                         f"(B {_shape_of(B)}) cannot be broadcast together") from None
    if a.shape[:-2] != batch:
        a = a._expand_to(batch + a.shape[-2:])
    if b.shape[:-2] != batch:
        b = b._expand_to(batch + b.shape[-2:])
    x = Solve.apply(a, b)
    return x.reshape(x.shape[:-1]) if vector else x


def _shape_of(b: Any) -> tuple[int, ...]:
    return tuple(np.shape(b.array if isinstance(b, Tensor) else b))


def det(A: Any) -> Tensor:
    """det A. d det A = det A * A^-T (its gradient needs A invertible)."""
    return Det.apply(_square(A, "det"))


def slogdet(A: Any) -> SlogdetResult:
    """`(sign, logabsdet)` with det A = sign * exp(logabsdet): the log stays finite where
    det A would under- or overflow. d log|det A| = A^-T; the sign is piecewise constant
    (no gradient). A singular A gives sign 0 and logabsdet -inf."""
    a = _square(A, "slogdet")
    if _state.trace is not None:  # compile: the sign held, log|det| computed by LogAbsDet
        return SlogdetResult(held(slogdet_sign, a), LogAbsDet.apply(a))
    sign, logabs = np.linalg.slogdet(a.array)
    return SlogdetResult(Tensor._wrap(np.asarray(sign)),
                         LogAbsDet.apply(a, value=np.asarray(logabs)))


def logdet(A: Any) -> Tensor:
    """log det A, as `torch.logdet`: NaN where det A < 0, -inf where A is singular."""
    sign, logabs = slogdet(A)
    if _state.trace is None and np.all(sign.array > 0):  # compile: always the held term
        return logabs
    return logabs + held(logdet_term, sign, dtype=logabs.dtype.name)


def slogdet_sign(a: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.slogdet(a)[0])


def logdet_term(sign: np.ndarray, dtype: str) -> np.ndarray:
    """What logdet adds to log|det A|: NaN where det A < 0, -inf where it is 0, else 0."""
    return np.where(sign < 0, np.nan, np.where(sign == 0, -np.inf, 0.0)).astype(dtype)


def norm_scale(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The 2-norm's scale: the largest |a| along axes (1 where that is 0 or NaN)."""
    scale = np.max(np.abs(a), axis=axes, keepdims=True) if a.size else np.ones(())
    return np.where(scale > 0, scale, 1.0).astype(a.dtype)


def cholesky(A: Any, *, upper: bool = False) -> Tensor:
    """L lower triangular with A = L L^T (or U = L^T with `upper=True`), A symmetric positive
    definite. Only A's lower triangle is read; the gradient is the symmetric one (PyTorch's
    convention), equal to the gradient of A -> cholesky((A + A^T) / 2)."""
    low = Cholesky.apply(_square(A, "cholesky"))
    return low.mT if upper else low


# ----------------------------------------------------------------------------- composites


def diagonal(A: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of the last two axes (any batch), as `torch.linalg.diagonal`; only the
    main diagonal (offset 0) and the default axes are supported."""
    t = as_tensor(A)
    if offset != 0 or (dim1 % max(t.ndim, 1), dim2 % max(t.ndim, 1)) != (t.ndim - 2, t.ndim - 1):
        raise ValueError(f"diagonal: only offset=0 over the last two axes is supported; got "
                         f"offset={offset}, dim1={dim1}, dim2={dim2}")
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise ShapeError(f"diagonal: expected square matrices, shape (..., n, n); got {t.shape}")
    return einsum("...ii->...i", t)


def trace(A: Any) -> Tensor:
    """Sum of the diagonal of a square matrix (or of each in a batch). d tr A = I."""
    t = as_tensor(A)
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise ShapeError(f"trace: expected a square matrix or a batch of them, shape "
                         f"(..., n, n); got {t.shape}")
    return einsum("...ii->...", t)


def diag(x: Any) -> Tensor:
    """The diagonal matrix of a vector, or the diagonal of a square matrix."""
    t = as_tensor(x)
    if t.ndim == 1:
        return einsum("i,ij->ij", t, Tensor._wrap(np.eye(t.shape[0], dtype=t.dtype)))
    if t.ndim == 2 and t.shape[0] == t.shape[1]:
        return einsum("ii->i", t)
    raise ShapeError(f"diag: expected a vector or a square matrix, got shape {t.shape}")


def outer(a: Any, b: Any) -> Tensor:
    """a b^T for vectors a (m,) and b (n,): shape (m, n)."""
    ta, tb = as_tensor(a), as_tensor(b)
    if ta.ndim != 1 or tb.ndim != 1:
        raise ShapeError(f"outer: expected two vectors, got shapes {ta.shape} and {tb.shape}")
    return einsum("i,j->ij", ta, tb)


def vecdot(x: Any, y: Any, *, dim: int = -1) -> Tensor:
    """Dot product along `dim` with broadcasting, as `torch.linalg.vecdot`."""
    tx, ty = as_tensor(x), as_tensor(y)
    try:
        return (tx * ty).sum(dim=dim)
    except ShapeError:
        raise ShapeError(f"vecdot: shapes {tx.shape} and {ty.shape} cannot be broadcast "
                         f"together (dim {dim})") from None


def _axes(t: Tensor, dim: Any, op: str) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(t.ndim))
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    nd = max(t.ndim, 1)
    for d in dims:
        if not -nd <= d < nd:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor of shape {t.shape} "
                             f"(valid: {-nd}..{nd - 1})")
    return tuple(int(d) % nd for d in dims)


def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over `dim` (all elements by default); ord may be any real
    number, inf (max |x|), -inf (min |x|) or 0 (number of nonzeros, no gradient).

    The 2-norm is computed as m * ||x / m|| with m = max |x| held constant (exact, since
    the norm is homogeneous), so huge or tiny entries neither overflow nor underflow. At
    x = 0 the gradient of a p-norm (p > 0) is 0, the subgradient PyTorch picks."""
    t = _float(x, "vector_norm")
    if dtype is not None:
        t = t.to(dtype)
    axes = _axes(t, dim, "vector_norm")
    p = float(ord) if not isinstance(ord, str) else ord
    if p == float("inf"):
        return t.abs().amax(dim=axes, keepdim=keepdim)
    if p == float("-inf"):
        return t.abs().amin(dim=axes, keepdim=keepdim)
    if p == 0:  # the number of nonzeros, in the graph with gradient 0 (as PyTorch)
        return t.sign().abs().sum(dim=axes, keepdim=keepdim)
    if p == 1:
        return t.abs().sum(dim=axes, keepdim=keepdim)
    if not isinstance(p, float):
        raise ValueError(f"vector_norm: ord must be a number, inf or -inf, got {ord!r}")
    if p == 2:
        m = held(norm_scale, t, axes=axes)  # held: compile recomputes it on every call
        out = m * root_zero_safe(((t / m) * (t / m)).sum(dim=axes, keepdim=True), 2.0)
        return out if keepdim else out.reshape(tuple(
            n for i, n in enumerate(out.shape) if i not in axes))
    if p > 0:
        return root_zero_safe(abs_pow_zero_safe(t, p).sum(dim=axes, keepdim=keepdim), p)
    return (t.abs() ** p).sum(dim=axes, keepdim=keepdim) ** (1.0 / p)


_MATRIX_ORDS = ("fro", 1, -1, float("inf"), float("-inf"))


def matrix_norm(A: Any, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),
                keepdim: bool = False) -> Tensor:
    """Matrix norm over the two axes `dim`: 'fro' (sqrt of the sum of squares), 1 / -1
    (max / min column sum of |A|), inf / -inf (max / min row sum). The spectral and nuclear
    norms (2, -2, 'nuc') need singular values, which this library does not differentiate."""
    t = _float(A, "matrix_norm")
    if t.ndim < 2:
        raise ShapeError(f"matrix_norm: expected a matrix (or a batch), got shape {t.shape}")
    rows, cols = _axes(t, dim, "matrix_norm")
    if rows == cols:
        raise ValueError(f"matrix_norm: dim {dim} names the same axis twice (tensor of shape "
                         f"{t.shape}); give two different axes")
    if ord not in _MATRIX_ORDS:
        raise ValueError(f"matrix_norm: ord {ord!r} is not supported; use one of 'fro', 1, -1, "
                         "inf, -inf (2, -2 and 'nuc' need an SVD)")
    if ord == "fro":
        return vector_norm(t, 2, dim=(rows, cols), keepdim=keepdim)
    # 1-norms sum down the columns (over the row axis); inf-norms sum along the rows.
    summed, reduced = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = t.abs().sum(dim=summed, keepdim=True)
    out = sums.amax(dim=reduced, keepdim=True) if ord in (1, float("inf")) else sums.amin(
        dim=reduced, keepdim=True)
    return out if keepdim else out.reshape(tuple(
        n for i, n in enumerate(out.shape) if i not in (rows, cols)))


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Tensor:
    """`torch.linalg.norm`: with `ord=None` the 2-norm of the flattened input (or over one
    `dim`) and the Frobenius norm over a pair of dims; with `ord` given, a vector norm for
    a 1-D input or an int `dim`, a matrix norm for a 2-D input or a pair of dims."""
    t = _float(A, "norm")
    if dim is not None and not isinstance(dim, int | np.integer) and len(tuple(dim)) not in (1, 2):
        raise ValueError(f"norm: dim must be an int or a pair of ints, got {dim!r}")
    if ord is None:
        if dim is not None and not isinstance(dim, int | np.integer) and len(tuple(dim)) == 2:
            return matrix_norm(t, "fro", tuple(dim), keepdim)  # type: ignore[arg-type]
        return vector_norm(t, 2, dim, keepdim)
    if dim is None:
        if t.ndim == 1:
            return vector_norm(t, ord, None, keepdim)
        if t.ndim == 2:
            return matrix_norm(t, ord, (-2, -1), keepdim)
        raise ShapeError(f"norm: with ord={ord!r} and dim=None the input must be 1-D or 2-D; "
                         f"got shape {t.shape} (pass dim)")
    if isinstance(dim, int | np.integer) or len(tuple(dim)) == 1:
        return vector_norm(t, ord, dim, keepdim)
    return matrix_norm(t, ord, tuple(dim), keepdim)  # type: ignore[arg-type]


# ------------------------------------------------------- top-level functions (torch.<name>)


def tensordot(a: Any, b: Any, dims: Any = 2) -> Tensor:
    """Sum of products over paired axes, as `torch.tensordot`: `dims=k` pairs a's last k
    axes with b's first k; `dims=([a axes], [b axes])` names the pairs. The result has a's
    free axes, then b's. Computed as one matrix product (the paired axes moved together
    and flattened), so its gradient is matmul's."""
    ta, tb = as_tensor(a), as_tensor(b)
    if ta.dtype != tb.dtype:
        raise TypeError(f"tensordot: operands of shapes {ta.shape} and {tb.shape} have dtypes "
                        f"{ta.dtype} and {tb.dtype}; both need the same dtype")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int | np.integer):
        k = int(dims)
        if not 0 <= k <= min(ta.ndim, tb.ndim):
            raise ValueError(f"tensordot: dims={k} must be in 0..{min(ta.ndim, tb.ndim)} for "
                             f"shapes {ta.shape} and {tb.shape}")
        axes_a, axes_b = list(range(ta.ndim - k, ta.ndim)), list(range(k))
    else:
        pair = list(dims)
        if len(pair) != 2 or any(isinstance(d, int | np.integer) for d in pair):
            raise TypeError(f"tensordot: dims must be an int or a pair of lists of axes, got "
                            f"{dims!r}")
        axes_a = [int(d) for d in _axes(ta, list(pair[0]), "tensordot")] if pair[0] else []
        axes_b = [int(d) for d in _axes(tb, list(pair[1]), "tensordot")] if pair[1] else []
        if len(axes_a) != len(axes_b):
            raise ValueError(f"tensordot: dims {dims!r} pairs {len(axes_a)} axes of {ta.shape} "
                             f"with {len(axes_b)} axes of {tb.shape}; give lists of one length")
    for i, j in zip(axes_a, axes_b):
        if ta.shape[i] != tb.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of shape {ta.shape} has size {ta.shape[i]} "
                             f"but axis {j} of shape {tb.shape} has size {tb.shape[j]}")
    free_a = [i for i in range(ta.ndim) if i not in axes_a]
    free_b = [j for j in range(tb.ndim) if j not in axes_b]
    inner = int(np.prod([ta.shape[i] for i in axes_a]))
    left = ta.permute(*free_a, *axes_a).reshape(-1, inner) if ta.ndim else ta.reshape(1, 1)
    right = tb.permute(*axes_b, *free_b).reshape(inner, -1) if tb.ndim else tb.reshape(1, 1)
    return (left @ right).reshape([ta.shape[i] for i in free_a] + [tb.shape[j] for j in free_b])


def cdist(x1: Any, x2: Any, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Distances between each row of x1 (..., P, M) and each row of x2 (..., R, M): shape
    (..., P, R), batch axes broadcast. The p-norm of the difference (`vector_norm`), so at
    zero distance the gradient is 0, as PyTorch's. `compute_mode` is accepted and ignored
    (the difference is always formed: exact, never the |x|^2 - 2xy + |y|^2 shortcut)."""
    t1, t2 = as_tensor(x1), as_tensor(x2)
    if t1.ndim < 2 or t2.ndim < 2:
        raise ShapeError(f"cdist: expected x1 and x2 of at least 2 dims (..., points, "
                         f"features); got shapes {t1.shape} and {t2.shape}")
    if t1.dtype.kind != "f" or t1.dtype != t2.dtype:
        raise TypeError(f"cdist: expected two floating-point tensors of one dtype, got "
                        f"{t1.dtype} and {t2.dtype} (shapes {t1.shape} and {t2.shape})")
    if t1.shape[-1] != t2.shape[-1]:
        raise ShapeError(f"cdist: x1 of shape {t1.shape} and x2 of shape {t2.shape} need the "
                         f"same number of columns ({t1.shape[-1]} != {t2.shape[-1]})")
    if not p >= 0:
        raise ValueError(f"cdist: p must be >= 0, got {p} (shapes {t1.shape} and {t2.shape})")
    try:
        batch = np.broadcast_shapes(t1.shape[:-2], t2.shape[:-2])
    except ValueError:
        raise ShapeError(f"cdist: batch shapes of x1 {t1.shape} and x2 {t2.shape} cannot be "
                         "broadcast together") from None
    a = t1._expand_to(batch + t1.shape[-2:]).unsqueeze(-2)  # (..., P, 1, M)
    b = t2._expand_to(batch + t2.shape[-2:]).unsqueeze(-3)  # (..., 1, R, M)
    return vector_norm(a - b, p, dim=-1)
