"""matmul and einsum. Both see operands whose batch/ellipsis axes are already broadcast
(the front end expands them), so their gradients never need un-broadcasting here."""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class MatMul(Function):
    """y = a @ b with numpy's rules for 1-D operands: a 1-D `a` is a row (1, n) and a 1-D
    `b` a column (n, 1) whose added axis y drops; batch axes are equal (the front end
    expands them) except that a 1-D operand meets a batched one as it is.

    da = g @ b^T, db = a^T @ g on the matrix forms; for a 1-D operand the gradient is then
    summed over the batch axes it was broadcast along and its added axis dropped.
    """

    __slots__ = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.matmul(a, b)  # a numpy scalar for two vectors: `apply` makes it 0-d

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        if a.ndim > 1 and b.ndim > 1:
            return (grad @ b.mT if na else None), (a.mT @ grad if nb else None)
        a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a  # the matrix forms numpy uses
        b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
        batch = grad.shape[:grad.ndim - (a.ndim > 1) - (b.ndim > 1)]
        g2 = grad.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        return ((_fold(g2 @ b2.mT, a.shape) if na else None),
                (_fold(a2.mT @ g2, b.shape) if nb else None))


def _fold(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The gradient of a matrix form, back to its operand's `shape`: a 1-D operand met
    every batch element, so its gradient sums over the batch axes."""
    if g.shape == shape:
        return g
    if g.ndim > 2:
        g = g.sum(axis=tuple(range(g.ndim - 2)))
    return g.reshape(shape)


class Einsum(Function):
    """y = einsum(subscripts, *xs) with explicit output and no ellipsis (the front end
    normalizes both).

    The gradient of operand k is itself one einsum: the upstream gradient times the other
    operands, written to k's subscripts. Two tricks make that always expressible: a label
    that only k has (summed away in the forward) gets a ones vector, so the gradient is
    broadcast along it; a label repeated in k ('ii') gets fresh labels tied together by
    identity matrices, so the gradient lands on the diagonal.
    """

    __slots__ = ("inputs_labels", "out_labels", "optimize")

    def forward(self, *xs: np.ndarray, inputs_labels: tuple[str, ...], out_labels: str,
                optimize: Any) -> np.ndarray:
        self.inputs_labels, self.out_labels, self.optimize = inputs_labels, out_labels, optimize
        spec = ",".join(inputs_labels) + "->" + out_labels
        return np.asarray(np.einsum(spec, *xs, optimize=optimize))

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        return tuple(
            self._operand_grad(grad, k) if needs else None
            for k, needs in enumerate(self.needs_input_grad)
        )

    def _operand_grad(self, grad: Tensor, k: int) -> Tensor:
        x = self.inputs[k]
        labels = self.inputs_labels[k]
        used = set("".join(self.inputs_labels) + self.out_labels)
        fresh = iter(c for c in string.ascii_letters if c not in used)
        operands = [grad] + [t for i, t in enumerate(self.inputs) if i != k]
        specs = [self.out_labels] + [s for i, s in enumerate(self.inputs_labels) if i != k]
        elsewhere = set("".join(specs))
        target = []
        seen: set[str] = set()
        for label, size in zip(labels, x.shape):
            if label in seen:  # repeated label: a fresh one, tied to the first by an identity
                new = next(fresh)
                operands.append(grad._wrap(np.eye(size, dtype=grad.array.dtype)))
                specs.append(label + new)
                target.append(new)
                continue
            seen.add(label)
            target.append(label)
            if label not in elsewhere:  # summed away in the forward: broadcast back
                operands.append(grad._wrap(np.ones(size, dtype=grad.array.dtype)))
                specs.append(label)
                elsewhere.add(label)
        return einsum_normalized(tuple(specs), "".join(target), operands, self.optimize)


def einsum_normalized(inputs_labels: tuple[str, ...], out_labels: str, operands: list[Tensor],
                      optimize: Any) -> Tensor:
    if len(operands) > 2 and optimize is False:
        optimize = "greedy"
    return Einsum.apply(*operands, inputs_labels=inputs_labels, out_labels=out_labels,
                        optimize=optimize)


class Linear(Function):
    """y = x @ w^T + b (PyTorch's layout: w is (out, in));  dx = g @ w, dw = g^T x,
    db = sum of g over the batch axes.

    A fused form of the composite `x @ w.T + b` (one node instead of three per layer, and
    a contiguous dw; docs/performance.md has the benchmark). Its gradient is tested
    against the composite's; `kernels.linear_backward` is the same formula on arrays.
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        y = np.matmul(x, w.T)
        if b is not None:
            y += b
        return y

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, w = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        gx = grad @ w if needs[0] else None
        gw = gb = None
        if needs[1]:
            g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.mT @ x2
        if len(self.inputs) > 2 and needs[2]:
            gb = grad.sum(axis=tuple(range(grad.ndim - 1))) if grad.ndim > 1 else grad
        return (gx, gw, gb) if len(self.inputs) > 2 else (gx, gw)

