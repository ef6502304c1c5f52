"""Linear-algebra ops against PyTorch: `@`/matmul for every 1-D/2-D/N-D combination with
batch broadcasting, dot, outer, einsum (operands as separate arguments and as a list,
implicit output, '...', repeated labels, three operands), trace and diag. Values, dtypes,
gradients of both operands and second derivatives (float64, `oracle.check_function`).

`tensordot`, `mm`, `bmm`, `mv`, `addmm`, `kron` and `cdist` are in test_linred_added.py."""

from __future__ import annotations

import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import code, grads, same, sample
from tests.conformance.oracle import assert_close

# (shape of x, shape of y): every rank combination of matmul, with batch broadcasting.
MATMUL_SHAPES = [
    ((4,), (4,)), ((4,), (4, 3)), ((2, 4), (4,)), ((2, 4), (4, 3)), ((5, 2, 4), (4, 3)),
    ((4,), (5, 4, 3)), ((5, 2, 4), (4,)), ((5, 2, 4), (5, 4, 3)), ((5, 1, 2, 4), (3, 4, 2)),
    ((1, 2, 4), (5, 4, 3)), ((2, 4), (5, 4, 3)), ((2, 1, 2, 4), (1, 3, 4, 2)), ((1, 4), (4, 1)),
    ((3, 1), (1, 3)), ((0, 4), (4, 3)), ((2, 0), (0, 3)), ((5, 2, 4), (1, 4, 3)),
]
MATMUL_SPELLINGS = ["x @ y", "torch.matmul(x, y)", "x.matmul(y)", "torch.matmul(input=x, other=y)"]


def _shape_id(shapes: tuple) -> str:
    return "@".join("x".join(map(str, s)) or "0d" for s in shapes)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=_shape_id)
@pytest.mark.parametrize("src", MATMUL_SPELLINGS)
def test_matmul(src: str, shapes: tuple) -> None:
    """Value, both gradients and the second derivative (float64)."""
    grads(src, sample(shapes[0], "float64", 1), sample(shapes[1], "float64", 2), args="x, y")


@pytest.mark.parametrize("shapes", MATMUL_SHAPES[:9], ids=_shape_id)
@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_matmul_dtypes(shapes: tuple, dtype: str) -> None:
    same("x @ y", sample(shapes[0], dtype, 3), sample(shapes[1], dtype, 4), args="x, y")


def test_matmul_chain_gradient() -> None:
    """`x @ w1 @ w2`, and `x.T @ x` (one input on both sides: its gradients add up)."""
    x, w1, w2 = (sample(s, "float64", k) for k, s in enumerate([(3, 4), (4, 5), (5, 2)]))
    grads("(x @ w1 @ w2).tanh()", x, w1, w2, args="x, w1, w2")
    grads("x.T @ x", x)
    grads("x.mT.mT @ w1.T.sum(0)", x, w1, args="x, w1")


VECTOR = [
    ("torch.dot(x, y)", (4,), (4,)), ("x.dot(y)", (4,), (4,)),
    ("torch.outer(x, y)", (3,), (4,)), ("x.outer(y)", (3,), (4,)),
    ("torch.dot(x, y) * torch.outer(x, y)", (4,), (4,)),
]


@pytest.mark.parametrize(("src", "sx", "sy"), VECTOR, ids=[v[0] for v in VECTOR])
def test_dot_outer(src: str, sx: tuple, sy: tuple) -> None:
    grads(src, sample(sx, "float64", 5), sample(sy, "float64", 6), args="x, y")


EINSUM = [
    ("torch.einsum('ij,jk->ik', x, y)", (2, 3), (3, 4)),
    ("torch.einsum('ij,jk->ik', [x, y])", (2, 3), (3, 4)),
    ("torch.einsum('ij,jk->ik', (x, y))", (2, 3), (3, 4)),
    ("torch.einsum('ij,jk', x, y)", (2, 3), (3, 4)),
    ("torch.einsum('ij,kj->ik', x, y)", (2, 3), (4, 3)),
    ("torch.einsum('i j , j k -> i k', x, y)", (2, 3), (3, 4)),
    ("torch.einsum('bij,bjk->bik', x, y)", (5, 2, 3), (5, 3, 4)),
    ("torch.einsum('...ij,...jk->...ik', x, y)", (5, 2, 3), (3, 4)),
    ("torch.einsum('...ij,jk', x, y)", (5, 2, 3), (3, 4)),
    ("torch.einsum('b...,b...->b', x, y)", (2, 3, 4), (2, 3, 4)),
    ("torch.einsum('i,i->', x, y)", (4,), (4,)),
    ("torch.einsum('i,i', x, y)", (4,), (4,)),
    ("torch.einsum('i,j->ij', x, y)", (3,), (4,)),
    ("torch.einsum('ij,ij->i', x, y)", (3, 4), (3, 4)),
    ("torch.einsum('ij,ij,ij->i', x, y, x)", (3, 4), (3, 4)),
    ("torch.einsum('bn,anm,bm->ba', x, y, x)", (2, 3), (4, 3, 3)),
    ("torch.einsum('ij,j->i', x, y)", (3, 4), (4,)),
    ("torch.einsum('ij,ab->ijab', x, y)", (2, 3), (2, 2)),
    ("torch.einsum('ij,ij', x, y)", (3, 4), (3, 4)),
    ("torch.einsum('bhqd,bhkd->bhqk', x, y)", (2, 2, 3, 4), (2, 2, 5, 4)),
    ("torch.einsum(x, [0, 1], y, [1, 2], [0, 2])", (2, 3), (3, 4)),
    ("torch.einsum('ij,jk->ik', x, y.T.T)", (2, 3), (3, 4)),
    ("torch.einsum('ik,jk->', x, y)", (2, 3), (1, 3)),
]


@pytest.mark.parametrize(("src", "sx", "sy"), EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_two_operands(src: str, sx: tuple, sy: tuple) -> None:
    grads(src, sample(sx, "float64", 7), sample(sy, "float64", 8), args="x, y")


EINSUM_ONE = [
    ("torch.einsum('ii->i', x)", (3, 3)), ("torch.einsum('ii', x)", (3, 3)),
    ("torch.einsum('ii->', x)", (3, 3)), ("torch.einsum('ij->ji', x)", (3, 4)),
    ("torch.einsum('ij->', x)", (3, 4)), ("torch.einsum('ij->j', x)", (3, 4)),
    ("torch.einsum('ij', x)", (3, 4)), ("torch.einsum('ji', x)", (3, 4)),
    ("torch.einsum('...ii->...i', x)", (2, 3, 3)), ("torch.einsum('bij->bji', x)", (2, 3, 4)),
    ("torch.einsum('i->', x)", (4,)), ("torch.einsum('...->', x)", (2, 3)),
    ("torch.einsum('ij,ij->ij', [x, x])", (3, 4)), ("torch.einsum('ij,jk->ik', x, x)", (3, 3)),
    ("torch.einsum('iij->j', x)", (3, 3, 2)),
    ("torch.trace(x)", (3, 3)), ("torch.diag(x)", (3, 3)), ("torch.diag(x)", (4,)),
    ("x.trace()", (3, 3)), ("x.diag()", (3, 3)),
]


@pytest.mark.parametrize(("src", "sx"), EINSUM_ONE, ids=[f"{e[0]}-{e[1]}" for e in EINSUM_ONE])
def test_einsum_one_operand(src: str, sx: tuple) -> None:
    grads(src, sample(sx, "float64", 9))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("src", ["torch.einsum('ij,jk->ik', x, y)", "torch.dot(x[0], y[:, 0])",
                                 "torch.outer(x[0], y[0])", "torch.einsum('ij,jk', [x, y])"])
def test_dtypes(src: str, dtype: str) -> None:
    same(src, sample((3, 3), dtype, 10), sample((3, 3), dtype, 11), args="x, y")


REFUSED = [
    ("x @ y", (2, 3), (4, 2)), ("x @ y", (3,), (4,)), ("x @ y", (2, 3, 4), (3, 4, 2)),
    ("x @ y", (), (3,)), ("torch.dot(x, y)", (2, 3), (2, 3)), ("x.dot(y)", (3, 3), (3,)),
    ("torch.dot(x, y)", (3,), (4,)), ("torch.outer(x, y)", (2, 3), (3,)),
    ("torch.einsum('ij,jk->ik', x, y)", (2, 3), (4, 2)),
    ("torch.einsum('ij->k', x, y)", (2, 3), (3,)),
    ("torch.einsum('ij,jk->ik', x)", (2, 3), (3,)), ("torch.einsum('ii->i', x)", (2, 3), (3,)),
]

# Deliberate difference (docs/pytorch.md): mixed dtypes in matmul/dot are promoted here
# (float32 @ float64 computes in float64), where PyTorch refuses.
PROMOTED = [
    ("x @ y.double()", (2, 3), (3, 2)), ("x.double() @ y", (2, 3), (3,)),
    ("x @ y.long()", (2, 3), (3, 2)), ("torch.dot(x, y.double())", (3,), (3,)),
]


@pytest.mark.parametrize(("src", "sx", "sy"), PROMOTED,
                         ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in PROMOTED])
def test_mixed_dtypes_promoted(src: str, sx: tuple, sy: tuple) -> None:
    """PyTorch raises; ours equals PyTorch on operands cast to the promoted dtype."""
    x, y = sample(sx, "float32", 12), sample(sy, "float32", 13)
    with pytest.raises(Exception):  # noqa: B017
        code(src, "x, y")(torch, torch.tensor(x), torch.tensor(y))
    ours = code(src, "x, y")(tg, tg.tensor(x), tg.tensor(y))
    dt = torch.float64 if "double" in src else torch.float32
    theirs = code(src.replace(".double()", "").replace(".long()", ".long().float()"), "x, y")(
        torch, torch.tensor(x, dtype=dt), torch.tensor(y, dtype=dt))
    assert_close(ours, theirs, what=src)


@pytest.mark.parametrize(("src", "sx", "sy"), REFUSED,
                         ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in REFUSED])
def test_refused(src: str, sx: tuple, sy: tuple) -> None:
    """Where PyTorch raises (shapes that do not fit, dot of matrices, matmul of mixed
    dtypes: PyTorch never promotes in matmul/dot), so do we."""
    x, y = sample(sx, "float32", 12), sample(sy, "float32", 13)
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's error types vary
        code(src, "x, y")(torch, torch.tensor(x), torch.tensor(y))
    with pytest.raises(Exception):  # noqa: B017
        code(src, "x, y")(tg, tg.tensor(x), tg.tensor(y))

