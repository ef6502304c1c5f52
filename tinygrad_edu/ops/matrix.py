"""Matrix primitives: inverse, solve, determinant, log|det|, Cholesky.

Each works on a matrix (n, n) or a batch (..., n, n) (the front end, `tinygrad_edu.linalg`,
checks shapes and broadcasts batch axes, so these see equal batch shapes). The forward is
numpy.linalg; the backward is written with Tensor ops, mostly through `Inv` and `Solve`
themselves, so second derivatives come from the same formulas.

Matrix calculus used below (g is the upstream gradient, ^T swaps the last two axes):
    Y = A^-1          dA = -Y^T g Y^T
    X = A^-1 B        dB = A^-T g,  dA = -dB X^T
    y = det A         dA = g y A^-T          (Jacobi's formula)
    y = log|det A|    dA = g A^-T
    L = chol(A)       dA = sym(L^-T Phi(L^T g) L^-1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class LinAlgError(np.linalg.LinAlgError, RuntimeError):
    """A singular or not positive-definite matrix. Both numpy's `LinAlgError` (a
    ValueError) and a RuntimeError (what `torch.linalg.LinAlgError` is), so code written
    for either catches it."""


def _first_bad(a: np.ndarray, bad: np.ndarray) -> str:
    """' (batch element (1, 0))' for the first flagged matrix of a batch, '' for one matrix."""
    if a.ndim == 2 or not bad.any():
        return ""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f" (batch element {index})"


def singular_error(op: str, a: np.ndarray) -> LinAlgError:
    n = a.shape[-1]
    rank = np.linalg.matrix_rank(a)
    where = _first_bad(a, np.asarray(rank < n))
    return LinAlgError(f"{op}: the matrix of shape {a.shape} is singular{where}, so it has no "
                       "inverse; a square matrix of full rank is needed")


def _lower_half_mask(n: int, dtype: np.dtype) -> np.ndarray:
    """Phi of the Cholesky backward as a mask: lower triangle, diagonal halved."""
    return np.tril(np.ones((n, n), dtype=dtype)) - 0.5 * np.eye(n, dtype=dtype)


class Inv(Function):
    """Y = A^-1;  dA = -Y^T g Y^T (from d(A^-1) = -A^-1 dA A^-1).

    `op` names the public function in errors (det and slogdet call it in their backward).
    """

    __slots__ = ()
    saves = ("output",)

    def forward(self, a: np.ndarray, op: str = "inv") -> np.ndarray:
        try:
            y = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise singular_error(op, a) from None
        return y

    def backward(self, grad: Tensor) -> Tensor:
        yt = self.output.mT
        return -(yt @ grad @ yt)


class Solve(Function):
    """X = A^-1 B for A (..., n, n), B (..., n, k);  dB = A^-T g (one more solve),
    dA = -dB X^T."""

    __slots__ = ()
    saves = ("inputs", "output")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise singular_error("solve", a) from None

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, _ = self.inputs
        gb = Solve.apply(a.mT, grad)
        ga = -(gb @ self.output.mT) if self.needs_input_grad[0] else None
        return ga, (gb if self.needs_input_grad[1] else None)


class Det(Function):
    """y = det A;  dA = g y A^-T (Jacobi's formula).

    The gradient at a singular A (the adjugate) is not computed: backward raises, naming
    det, instead of returning an inverse full of infinities.
    """

    __slots__ = ()
    saves = ("inputs", "output")

    def forward(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(np.linalg.det(a))

    def backward(self, grad: Tensor) -> Tensor:
        (a,) = self.inputs
        scale = (grad * self.output).reshape(grad.shape + (1, 1))
        return scale * Inv.apply(a, op="det (its gradient needs A^-1)").mT


class LogAbsDet(Function):
    """y = log|det A|;  dA = g A^-T.

    `value` is the log|det| that the front end already has from `numpy.linalg.slogdet`
    (it needs the sign too), so the factorization runs once per call.
    """

    __slots__ = ()

    def forward(self, a: np.ndarray, value: np.ndarray | None = None) -> np.ndarray:
        if value is None:
            value = np.linalg.slogdet(a)[1]
        return np.asarray(value)

    def backward(self, grad: Tensor) -> Tensor:
        (a,) = self.inputs
        inv_t = Inv.apply(a, op="slogdet (its gradient needs A^-1)").mT
        return grad.reshape(grad.shape + (1, 1)) * inv_t


class Cholesky(Function):
    """L = cholesky(A), lower triangular with A = L L^T, for A symmetric positive definite.

    As numpy (and PyTorch) only the lower triangle of A is read; the gradient follows
    PyTorch's convention for a symmetric input, the symmetric matrix
        dA = sym(L^-T Phi(L^T g) L^-1),  sym(X) = (X + X^T) / 2,
    where Phi keeps the lower triangle and halves the diagonal (Murray 2016, "Differentiation
    of the Cholesky decomposition"). It equals the numeric gradient of A -> chol(sym(A)).
    """

    __slots__ = ()
    saves = ("output",)

    def forward(self, a: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            bad = np.linalg.eigvalsh(a).min(axis=-1) <= 0
            raise LinAlgError(
                f"cholesky: the matrix of shape {a.shape} is not positive definite"
                f"{_first_bad(a, np.asarray(bad))}; cholesky needs a symmetric matrix with "
                "positive eigenvalues (e.g. B B^T + n I)") from None

    def backward(self, grad: Tensor) -> Tensor:
        low = self.output
        mask = _lower_half_mask(low.shape[-1], low.array.dtype)
        phi = (low.mT @ grad) * low._wrap(mask)
        low_inv = Inv.apply(low, op="cholesky")
        s = low_inv.mT @ phi @ low_inv
        return 0.5 * (s + s.mT)

