"""Reductions against PyTorch: sum, mean, prod, max/min, amax/amin, argmax/argmin, var/std,
norm and linalg.vector_norm, logsumexp, cumsum, all/any, sort/topk.

Every call is PyTorch code in a string (the test id) run on both libraries: dims as int,
negative int, tuple and list, positional and keyword, numpy's `axis=`/`keepdims=` (PyTorch
accepts them too), `dtype=`; inputs float32/float64/int64/int32/uint8/bool, empty and 0-d.
Gradients and second derivatives in float64 through `oracle.check_function`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import (
    ALL_DTYPES,
    FLOATS,
    NO_BOOL,
    backward_both,
    code,
    compare,
    grads,
    pair,
    same,
    sample,
)
from tests.conformance.oracle import assert_close

SHAPE = (2, 3, 4)

SUM = [
    "x.sum()", "x.sum(0)", "x.sum(-1)", "x.sum((0, 2))", "x.sum([1, 2])", "x.sum(dim=1)",
    "x.sum(dim=(-1, 0), keepdim=True)", "x.sum(1, True)", "x.sum(1, keepdim=True)",
    "torch.sum(x)", "torch.sum(x, 1)", "torch.sum(x, dim=[0, 1])", "torch.sum(x, -2, True)",
    "x.sum(dtype=torch.float64)", "torch.sum(x, 0, dtype=torch.float32)",
    "x.sum(dim=2, dtype=torch.int64)", "x.sum(axis=1)", "x.sum(axis=(0, 1), keepdims=True)",
]
MEAN = [
    "x.mean()", "x.mean(1)", "x.mean(-2, True)", "x.mean((0, 2))",
    "x.mean(dim=[1, 2], keepdim=True)",
    "torch.mean(x)", "torch.mean(x, 0)", "x.mean(dtype=torch.float64)",
    "torch.mean(x, 1, dtype=torch.float64)", "x.mean(axis=0, keepdims=True)",
]
PROD = [
    "x.prod()", "x.prod(1)", "x.prod(-1, True)", "x.prod(dim=0, keepdim=True)", "torch.prod(x)",
    "torch.prod(x, 2)", "x.prod(dtype=torch.float64)", "torch.prod(x, 1, dtype=torch.float64)",
    "x.prod(axis=1)",
]
MAX_VALUES = [  # no dim: a value only, for every dtype (bool too)
    "x.max()", "x.min()", "torch.max(x)", "torch.min(x)",
]
MAX_DIM = [  # with a dim: (values, indices)
    "x.max(1)", "x.min(-1)", "x.max(1, True)", "x.max(dim=0)", "x.min(dim=2, keepdim=True)",
    "torch.max(x, 1)", "torch.min(x, -1, True)", "torch.max(x, dim=1).values",
    "torch.max(x, dim=1).indices", "x.max(1)[1]", "x.min(0)[0]", "torch.max(x, 2, keepdim=True)",
]
AMAX = [
    "x.amax()", "x.amin()", "x.amax(1)", "x.amax((0, 2))", "x.amin(-1, True)",
    "torch.amax(x, dim=(1, 2), keepdim=True)", "torch.amin(x, 0)", "x.amin(dim=[0, 1])",
    "x.amax(axis=-1, keepdims=True)",
]
ARG = [
    "x.argmax()", "x.argmin()", "x.argmax(1)", "x.argmin(-1)", "x.argmax(dim=0, keepdim=True)",
    "torch.argmax(x)", "torch.argmax(x, 2)", "torch.argmin(x, dim=1, keepdim=True)",
    "x.argmax(keepdim=True)", "x.argmin(axis=1, keepdims=True)",
]
VAR = [
    "x.var()", "x.var(1)", "x.var(1, False)", "x.var(False)", "x.var(True)",
    "x.var(dim=1, unbiased=False)", "x.var(1, keepdim=True)", "x.var((0, 2))", "x.var([0, 1])",
    "x.var(1, correction=0)", "x.var(correction=2)", "x.var(dim=-1, correction=0, keepdim=True)",
    "torch.var(x)", "torch.var(x, 1, False, True)", "torch.var(x, dim=0)",
    "torch.var(x, 1, correction=0)", "torch.var(x, False)", "x.var(axis=1, keepdims=True)",
    "x.std()", "x.std(1)", "x.std(1, False)", "x.std(False)", "x.std(True)",
    "torch.std(x, 1, False, True)", "x.std(unbiased=False)", "x.std(0, correction=0)",
    "torch.std(x, dim=(0, 1), keepdim=True)", "torch.std(x, -1, correction=2)",
    "x.std(axis=2)",
]
NORM = [
    "x.norm()", "x.norm(1)", "x.norm(p=3)", "x.norm(inf)", "x.norm(0.5)", "x.norm(2, 1)",
    "x.norm(dim=1, keepdim=True)", "x.norm(1, (0, 2))", "x.norm(3, -1, True)", "x.norm(p=0)",
    "x.norm(p='fro')", "torch.norm(x)", "torch.norm(x, p=1, dim=0)", "torch.norm(x, inf, -1, True)",
    "torch.linalg.vector_norm(x)", "torch.linalg.vector_norm(x, 1)",
    "torch.linalg.vector_norm(x, ord=3, dim=1)", "torch.linalg.vector_norm(x, 0.5, (0, 2), True)",
    "torch.linalg.vector_norm(x, inf, dim=-1)", "torch.linalg.vector_norm(x, -inf)",
    "torch.linalg.vector_norm(x, 0)", "torch.linalg.vector_norm(x, 0, dim=1)",
    "torch.linalg.vector_norm(x, 2, dim=(1, 2), keepdim=True)",
    "torch.linalg.vector_norm(x, dtype=torch.float64)",
    "torch.linalg.vector_norm(x, ord=2, dim=[0, 2])",
]
LSE = [
    "x.logsumexp(1)", "x.logsumexp(-1, True)", "torch.logsumexp(x, (0, 2))",
    "torch.logsumexp(x, dim=1, keepdim=True)", "x.logsumexp(dim=[0, 1, 2])",
    "x.logsumexp(axis=0, keepdims=True)",
]
CUMSUM = [
    "x.cumsum(0)", "x.cumsum(-1)", "x.cumsum(dim=1)", "torch.cumsum(x, 2)",
    "torch.cumsum(x, dim=0, dtype=torch.float64)", "x.cumsum(1, dtype=torch.float64)",
]
ALLANY = [
    "x.all()", "x.any()", "x.all(1)", "x.any(-1)", "x.all(dim=0, keepdim=True)",
    "torch.any(x, 2, True)", "torch.all(x, dim=(0, 1))", "x.any((0, 2))", "torch.all(x)",
    "x.any(axis=1)",
]
SORT = [
    "x.sort()", "x.sort(0)", "x.sort(descending=True)", "x.sort(1, True)",
    "torch.sort(x, dim=0, descending=True)", "torch.sort(x, stable=True)",
    "torch.sort(x, dim=1, stable=True, descending=True)", "x.sort(dim=-2).values",
    "x.sort(dim=-2).indices", "x.topk(2)", "x.topk(2, 0)", "x.topk(3, dim=1, largest=False)",
    "torch.topk(x, 1, -1, True, True)", "x.topk(k=2, dim=2).indices", "x.topk(4)[0]",
]

# (spellings, dtypes they run on). Bool has ties (indices would be ambiguous) and PyTorch
# refuses var/std/norm on integers (we must refuse too: checked in test_refused).
VALUE_CASES = [
    (SUM, ALL_DTYPES), (MEAN, FLOATS), (PROD, ALL_DTYPES), (MAX_VALUES, ALL_DTYPES),
    (MAX_DIM, NO_BOOL), (AMAX, ALL_DTYPES), (ARG, NO_BOOL), (VAR, FLOATS), (NORM, FLOATS),
    (LSE, ALL_DTYPES), (CUMSUM, ALL_DTYPES), (ALLANY, ALL_DTYPES), (SORT, NO_BOOL),
]
VALUE_PARAMS = [pytest.param(src, dt, id=f"{dt}-{src}")
                for spellings, dtypes in VALUE_CASES for src in spellings for dt in dtypes]


@pytest.mark.parametrize(("src", "dtype"), VALUE_PARAMS)
def test_value(src: str, dtype: str) -> None:
    """Value, dtype and shape of every spelling on every dtype PyTorch accepts."""
    same(src, sample(SHAPE, dtype))


# Integer means: PyTorch refuses without a float `dtype=`. Deliberate difference
# (docs/pytorch.md): we compute them in the default float dtype, as numpy does
# (`(pred == y).mean()` is a numpy habit the courses use); argmax of bool works too.
COMPUTED = [
    ("x.mean()", "int64"), ("x.mean(1)", "int32"), ("torch.mean(x, 0)", "uint8"),
    ("x.mean()", "bool"), ("x.var()", "int64"), ("x.std(1)", "int64"), ("x.norm()", "int64"),
    ("x.argmax()", "bool"), ("x.argmin(1)", "bool"),
]


@pytest.mark.parametrize(("src", "dtype"),
                         [pytest.param(s, d, id=f"{d}-{s}") for s, d in COMPUTED])
def test_refused_by_pytorch_computed_here(src: str, dtype: str) -> None:
    """PyTorch raises; ours gives PyTorch's answer for the input cast to float32."""
    x = sample(SHAPE, dtype)
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's error type varies
        code(src)(torch, torch.tensor(x))
    assert_close(code(src)(tg, tg.tensor(x)),
                 code(src)(torch, torch.tensor(x.astype(np.float32))),
                 check_dtype=src.startswith("x.arg"), what=src)


def test_integer_vector_norm_refused_as_pytorch() -> None:
    x = sample(SHAPE, "int64")
    with pytest.raises(Exception):  # noqa: B017
        torch.linalg.vector_norm(torch.tensor(x))
    with pytest.raises(TypeError):
        tg.linalg.vector_norm(tg.tensor(x))


@pytest.mark.parametrize("src", ["x.mean(dtype=torch.float64)", "x.mean(1, dtype=torch.float32)",
                                 "torch.mean(x, (0, 2), dtype=torch.float64)"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_mean_with_dtype(src: str, dtype: str) -> None:
    same(src, sample(SHAPE, dtype))


EMPTY = [
    "x.sum()", "x.sum(0)", "x.sum(1)", "x.mean()", "x.mean(0)", "x.mean(1)", "x.prod()",
    "x.prod(0)", "x.amax(1)", "x.amin(-1, True)", "x.max(1)", "x.argmax(1)", "x.var()",
    "x.var(0)", "x.std(0)", "x.logsumexp(0)", "x.logsumexp(1)", "x.cumsum(0)", "x.cumsum(1)",
    "x.all()", "x.any()", "x.all(0)", "x.any(1)", "x.norm()", "x.norm(1, 0)",
    "torch.linalg.vector_norm(x, 3, 1)", "x.sort(0)", "x.sort(1)", "x.topk(0, 1)",
    # PyTorch raises for these: a maximum over no elements
    "x.max()", "x.amax(0)", "x.argmax()", "x.max(0)",
]


@pytest.mark.parametrize("src", EMPTY)
def test_empty(src: str) -> None:
    """A (0, 3) float32 tensor: sum 0, mean nan, prod 1, logsumexp -inf, all True, any False;
    a maximum over nothing raises."""
    same(src, np.zeros((0, 3), np.float32))


ZERO_D = [
    "x.sum()", "x.sum(0)", "x.sum(-1)", "x.sum(dim=0, keepdim=True)", "x.mean(0)", "x.prod(0)",
    "x.prod()", "x.max()", "x.max(0)", "x.max(-1, True)", "x.min(dim=0)", "x.amax(0)",
    "x.argmax()", "x.argmax(0)", "x.argmin(0, True)", "x.var()", "x.var(0, correction=0)",
    "x.std(unbiased=False)", "x.norm()", "x.norm(1, 0)", "torch.linalg.vector_norm(x, 3)",
    "x.logsumexp(0)", "x.cumsum(0)", "x.all()", "x.any(0)", "x.sort()", "x.sort(0, True)",
    "x.topk(1)", "torch.topk(x, 1, 0)",
]


@pytest.mark.parametrize("src", ZERO_D)
def test_zero_dim(src: str) -> None:
    """A 0-d tensor: dims 0 and -1 name its one (virtual) axis, as in PyTorch."""
    same(src, np.array(-2.5, np.float32))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("src", ["x.sum()", "x.sum(0)", "x.cumsum(0)", "x.prod()", "x.max()",
                                 "x.amax(0)", "x.all()"])
def test_zero_dim_integer(src: str, dtype: str) -> None:
    same(src, np.array(3 if dtype != "bool" else True, dtype))


GRAD = [
    "x.sum()", "x.sum(1)", "x.sum((0, 2), keepdim=True)", "torch.sum(x, dim=-1)",
    "x.mean()", "x.mean(-1)", "torch.mean(x, (0, 1), True)",
    "x.prod()", "x.prod(1)", "torch.prod(x, -1, keepdim=True)",
    "x.max()", "x.min()", "x.max(1)[0]", "x.min(-1, True).values", "torch.max(x, 0).values",
    "x.amax()", "x.amax((0, 2))", "torch.amin(x, -1, keepdim=True)",
    "x.var()", "x.var(1)", "x.var(1, False)", "torch.var(x, 1, False, True)",
    "x.var((0, 2), correction=2)", "x.std()", "x.std(-1)", "x.std(1, False)",
    "torch.std(x, 0, True, True)", "x.std(dim=(1, 2), correction=0)",
    "x.norm()", "x.norm(1)", "x.norm(3, 1)", "x.norm(inf)", "x.norm(0.5, -1, True)",
    "torch.linalg.vector_norm(x)", "torch.linalg.vector_norm(x, 1, (0, 2))",
    "torch.linalg.vector_norm(x, inf, -1)", "torch.linalg.vector_norm(x, 0.5)",
    "torch.linalg.vector_norm(x, 3, dim=1, keepdim=True)", "torch.linalg.vector_norm(x, -inf)",
    "x.logsumexp(1)", "torch.logsumexp(x, (0, 2), True)",
    "x.cumsum(0)", "x.cumsum(-1)", "torch.cumsum(x, dim=1)",
    "x.sort(1)[0]", "x.sort(descending=True).values", "x.topk(2)[0]",
    "x.topk(2, 0, largest=False).values",
]


@pytest.mark.parametrize("src", GRAD)
def test_gradient(src: str) -> None:
    """Gradient under a random upstream gradient and the second derivative, float64."""
    grads(src, sample(SHAPE, "float64", seed=1))


@pytest.mark.parametrize("src", ["x.sum()", "x.mean()", "x.prod()", "x.max()", "x.amax(0)",
                                 "x.var(correction=0)", "x.std(0, correction=0)", "x.norm()",
                                 "x.logsumexp(0)", "x.cumsum(0)", "x.sort()[0]",
                                 "torch.linalg.vector_norm(x, 3)"])
def test_gradient_zero_dim(src: str) -> None:
    grads(src, np.array(1.5))


PROD_ZERO = ["x.prod()", "x.prod(1)", "x.prod(0)", "x.prod(-1, True)", "torch.prod(x, 1)"]


@pytest.mark.parametrize("src", PROD_ZERO)
@pytest.mark.parametrize("data", [[[2.0, 0.0, 3.0], [1.0, -2.0, 4.0]],
                                  [[0.0, 0.0, 3.0], [-1.5, 0.0, 2.0]]], ids=["one0", "two0"])
def test_prod_gradient_with_zero(src: str, data: list) -> None:
    """PyTorch's prod gradient at a zero entry is the product of the others (finite), and
    0 everywhere when two entries of a slice are zero."""
    grads(src, np.array(data))


NORM_AT_ZERO = [
    "x.norm()", "x.norm(1)", "x.norm(inf)", "x.norm(0.5)", "x.norm(3)", "x.norm(2, 1)",
    "torch.linalg.vector_norm(x)", "torch.linalg.vector_norm(x, 1)",
    "torch.linalg.vector_norm(x, inf)", "torch.linalg.vector_norm(x, 0.5)",
    "torch.linalg.vector_norm(x, 3)", "torch.linalg.vector_norm(x, 2, dim=1)",
    "torch.linalg.vector_norm(x, 3, dim=1)", "torch.linalg.vector_norm(x, 0.5, dim=-1)",
    "x.std(1)", "x.std()",
]


@pytest.mark.parametrize("src", NORM_AT_ZERO)
def test_norm_gradient_at_zero(src: str) -> None:
    """PyTorch's norms have gradient 0 at 0 (a subgradient), never NaN; one row is all
    zeros (and std's is constant), the other is not."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    if "dim" not in src and "(2, 1)" not in src and "std(1)" not in src:
        x = np.zeros((2, 3))
    grads(src, x, second=False)
    ours, theirs = backward_both(src, x)
    assert_close(ours[0], theirs[0], what=f"{src}: .grad after backward")


@pytest.mark.parametrize("src", ["torch.linalg.vector_norm(x, 0)", "x.norm(0)"])
def test_zero_norm_backward(src: str) -> None:
    """The 0-'norm' counts nonzeros; PyTorch still lets backward run through it and leaves
    no gradient (x.grad None); ours leaves zeros of x's shape (the same derivative)."""
    x = sample(SHAPE, "float64")
    ours, theirs = backward_both(src, x)
    assert theirs[0] is None or not torch.any(theirs[0] != 0)
    assert ours[0] is not None and ours[0].shape == x.shape and not ours[0].numpy().any()


# ----------------------------------------------------------------------------- ties


def tied() -> np.ndarray:
    return np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, -1.0]])


@pytest.mark.parametrize("src", ["x.max()", "x.min()", "x.amax()", "x.amax(1)", "x.amin(-1)",
                                 "torch.amax(x, (0, 1))", "torch.linalg.vector_norm(x, inf)",
                                 "torch.linalg.vector_norm(x, inf, 1)", "x.norm(inf)"])
def test_tied_extrema_as_pytorch(src: str) -> None:
    """Reductions without indices: PyTorch shares the gradient evenly among tied extrema,
    as we do."""
    x = tied() if "min" not in src else -tied()
    grads(src, x, second=False)


@pytest.mark.parametrize("src", ["x.max(1)[0]", "x.max(dim=1).values", "torch.max(x, 1, True)[0]",
                                 "x.min(1)[0]"])
def test_tied_max_with_dim_is_shared_deliberately(src: str) -> None:
    """Deliberate difference (DESIGN.md): `max(dim)` with tied maxima shares the gradient
    equally (PyTorch gives all of it to the one index it returns). The values agree with
    PyTorch; the gradient is our documented one."""
    x = tied() if "min" not in src else -tied()
    f = code(src)
    ours_x, torch_x = pair(x, requires_grad=True)
    assert_close(f(tg, ours_x), f(torch, torch_x), what=src)
    f(tg, ours_x).sum().backward()
    expected = np.array([[0.0, 0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3, 0.0]])
    np.testing.assert_allclose(ours_x.grad.numpy(), expected, rtol=1e-12, err_msg=src)


@pytest.mark.parametrize("src", ["x.max(axis=1)", "x.min(axis=-1, keepdims=True)"])
def test_max_with_axis_returns_values_deliberately(src: str) -> None:
    """Deliberate difference (DESIGN.md): numpy's `axis=` spelling of max/min returns the
    values only (PyTorch, which accepts `axis` as an alias of `dim`, returns (values,
    indices)). The values are PyTorch's."""
    x = sample(SHAPE, "float32")
    ours = code(src)(tg, tg.tensor(x))
    theirs = code(src)(torch, torch.tensor(x))
    assert isinstance(ours, tg.Tensor)
    assert_close(ours, theirs.values, what=src)


# ----------------------------------------------------------------------------- elementwise


@pytest.mark.parametrize("src", ["torch.max(x, y)", "torch.min(x, y)", "x.max(y)", "y.min(x)"])
def test_max_of_two_tensors(src: str) -> None:
    """`torch.max(a, b)` is the elementwise maximum (with broadcasting)."""
    x, y = sample((3, 4), "float64", 2), sample((4,), "float64", 3)
    grads(src, x, y, args="x, y", second=False)


def test_max_indices_and_values_unpack() -> None:
    """`values, indices = x.max(1)`, as users write it."""
    x = sample(SHAPE, "float32")
    ours_x, torch_x = pair(x)
    v, i = ours_x.max(1)
    tv, ti = torch_x.max(1)
    compare(v, tv, "values")
    compare(i, ti, "indices")
    compare(ours_x.max(1).indices, ti, ".indices")


def test_sum_python_sum_over_tensor_list() -> None:
    """`sum(t.sum() for t in params)`: the builtin over 0-d tensors, started at int 0."""
    arrays = [sample((3,), "float64", s) for s in range(3)]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    so = sum((t * t).sum() for t in ours)
    st = sum((t * t).sum() for t in theirs)
    assert_close(so, st)
    so.backward()
    st.backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad)
