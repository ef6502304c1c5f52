"""The shape and indexing names of issue 19 against PyTorch: tril/triu, roll, argsort,
nonzero, unique, index_select, scatter/scatter_add (and in place), take_along_dim,
masked_select, masked_fill_, repeat_interleave, tile, unbind, narrow, movedim/moveaxis,
swapaxes/swapdims, diagonal/diag_embed, atleast_1d/2d/3d, meshgrid, squeeze_/unsqueeze_/t_.
(Aliasing, version counters and the ops without a derivative: test_shape_added_memory.py.)

Each call is PyTorch code in a string (the test id), run on both libraries: values, dtypes
and shapes in float32, float64, int64 and bool; in float64 the gradient under a random
upstream gradient and the second derivative (`oracle.check_function`); where PyTorch
raises, we raise. Then the errors' messages and index inputs given as arrays and lists.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import code, grads, same, sample
from tests.conformance.oracle import assert_close

SHAPE = (2, 3, 4)
# scatter indices of shape (2, 3, 2) along dim 2: I has no repeat within a row (so a src
# scatter is deterministic), J repeats (scatter_add accumulates)
I_ = "torch.tensor([[[0, 2], [1, 3], [3, 0]], [[2, 1], [0, 3], [1, 2]]])"
J_ = "torch.tensor([[[0, 0], [1, 3], [3, 3]], [[2, 2], [0, 3], [1, 1]]])"

TRIANGLES = ["torch.tril(x)", "x.tril(1)", "torch.triu(x, diagonal=-1)", "x.triu()",
             "torch.tril(input=x, diagonal=2)", "x[0].tril()", "x.triu(-5)", "x.tril(9)"]
ROLL = ["torch.roll(x, 1)", "x.roll(-2, 1)", "torch.roll(x, (1, 2), (0, 2))",
        "x.roll(shifts=5, dims=-1)", "torch.roll(x, [1], [2])", "x.roll(0, 0)",
        "torch.roll(input=x, shifts=3)", "x.roll((1, -1), (2, 2))", "x.roll(-30)"]
INDEX_SELECT = ["x.index_select(1, torch.tensor([2, 0, 2]))",
                "torch.index_select(x, -1, torch.tensor([3]))",
                "torch.index_select(x, 0, torch.tensor(1))",
                "x.index_select(dim=2, index=torch.tensor([1, 1], dtype=torch.int32))",
                "x.index_select(1, torch.tensor([], dtype=torch.int64))",
                "torch.index_select(input=x, dim=0, index=torch.tensor([1, 0]))"]
# PyTorch's scatter backward needs src of the index's shape (a larger src is computed but
# its backward raises there), so the larger ones are value-only (SCATTER_LARGER_SRC)
SCATTER = [f"x.scatter(2, {I_}, 0.5)", f"x.scatter(2, {I_}, x.flip(2)[:, :, :2])",
           f"torch.scatter(x, 2, {J_}, value=-1.0)",
           f"torch.scatter(x, -1, {I_}, src=x[:, :, 2:] * 2)",
           "x.scatter(0, torch.tensor([[[1, 0, 1, 1]]]), x[1:, :1] * 3)",
           "x.scatter(1, torch.tensor([[[2], [0]]]), 7)",
           f"torch.scatter(input=x, dim=2, index={I_}, src=x[:, :, 1:3])",
           f"x.scatter(2, {I_}.int(), 0.25)", f"x.scatter(2, {J_}, x[:, :, 2:])",
           f"x.scatter_add(2, {J_}, x[..., :2] * 3)",
           f"torch.scatter_add(x, 2, {I_}, x.flip(1)[..., 1:3])",
           "torch.scatter_add(x, 0, torch.tensor([[[1, 1, 0, 1]]]), x[:1, :1] * 2)",
           f"x.scatter_add(dim=-1, index={J_}, src=x[:, :, 2:])"]
SCATTER_LARGER_SRC = [f"x.scatter(2, {I_}, x.flip(2))", f"torch.scatter(x, -1, {I_}, src=x * 2)",
                      "x.scatter(1, torch.tensor([[[2], [0]]]), x)",
                      f"x.scatter_add(2, {J_}, x * 3)",
                      "torch.scatter_add(x, 0, torch.tensor([[[1, 1, 0, 1]]]), x[:1] * 2)"]
TAKE = ["torch.take_along_dim(x, torch.tensor([[[3, 0, -1]]]), 2)",
        "x.take_along_dim(x.argsort(2), 2)", "torch.take_along_dim(x, torch.tensor([5, 0, 23]))",
        "torch.take_along_dim(x, x.argsort(1)[:, :2], dim=1)",
        "x.take_along_dim(torch.tensor([[[1]], [[0]]]), dim=0)",
        "torch.take_along_dim(x, torch.tensor([23, 7]))",
        "torch.take_along_dim(x[:, :1], torch.tensor([[[1], [0], [2]]]), 2)",
        "torch.take_along_dim(x, torch.tensor([[[-4, 3]]]), 2)",
        "torch.take_along_dim(input=x, indices=torch.tensor([[[0, 1]]]), dim=-1)"]
MASKED = ["x.masked_select(x > 0)", "torch.masked_select(x, x[0, :, :1] > 0)",
          "torch.masked_select(x[0, 0], x > 0)", "x.masked_select(torch.tensor(True))",
          "torch.masked_select(input=x, mask=x < 0)",
          "(x * 1).masked_fill_(x > 0, 2.0)", "(x + 0).masked_fill_(x[0] < 0, -1)",
          "(x * 1).masked_fill_(x > 0, torch.tensor(0.5))"]
INPLACE = [f"(x * 1).scatter_(2, {I_}, 0.5)",
           f"(x * 1).scatter_(2, {I_}, x.flip(2)[..., :2])",
           f"(x * 1).scatter_add_(2, {J_}, x[..., 1:3] * 3)",
           f"(x * 1).scatter_(2, {I_}, value=2.0)",
           "(x * 1).tril_()", "(x * 2).triu_(1)", "(x * 1).tril_(diagonal=-1)",
           "(x[:1] * 1).squeeze_(0)", "(x * 1).unsqueeze_(1)", "(x[0] * 1).t_()",
           "(x[:1, :, :1] * 1).squeeze_()", "(x * 1).unsqueeze_(-1).squeeze_(3)",
           "(x * 2).diagonal(0, 1, 2).mul_(3)"]
REPEAT = ["x.repeat_interleave(2)", "torch.repeat_interleave(x, 3, dim=1)",
          "x.repeat_interleave(torch.tensor([1, 0, 2]), dim=1)",
          "torch.repeat_interleave(x, torch.tensor([2]), 0)",
          "x.repeat_interleave(torch.tensor(2), dim=-1, output_size=8)",
          "torch.repeat_interleave(input=x, repeats=2, dim=0)",
          "x.repeat_interleave(0, dim=2)",
          "x.tile(2)", "torch.tile(x, (2, 1, 1, 1))", "x.tile((1, 2, 1))", "x.tile(2, 1)",
          "torch.tile(x, dims=(2,))", "x[0, 0].tile(3)", "x.tile([])", "torch.tile(x, [0])"]
VIEWS = ["torch.stack([t * (k + 1) for k, t in enumerate(x.unbind(1))])",
         "torch.cat(torch.unbind(x, -1))", "torch.stack(x.unbind(dim=0), 2)",
         "x.narrow(1, 1, 2)", "torch.narrow(x, -1, -3, 2)", "x.narrow(0, torch.tensor(1), 1)",
         "x.narrow(2, 4, 0)", "torch.narrow(input=x, dim=2, start=0, length=4)",
         "x.movedim(0, 2)", "torch.movedim(x, (0, 1), (2, 0))", "torch.moveaxis(x, -1, 0)",
         "x.moveaxis([0, 2], [1, 0])", "torch.movedim(x, source=1, destination=-1)",
         "x.movedim((), ())", "x.swapaxes(0, 2)", "torch.swapaxes(x, 1, -1)",
         "torch.swapdims(x, 0, 1)", "x.swapdims(dim0=2, dim1=0)",
         "torch.swapaxes(x, axis0=0, axis1=1)", "x.swapaxes(1, 1)"]
DIAGONALS = ["x.diagonal()", "torch.diagonal(x, 1, 1, 2)", "x.diagonal(-1, 2, 1)",
             "torch.diagonal(x, offset=2, dim1=-1, dim2=0)", "x.diagonal(5)",
             "x[0].diagonal()", "x.diagonal(dim1=1, dim2=2).sum(-1)",
             "torch.diagonal(input=x, offset=-1, dim1=0, dim2=2)", "x.diagonal(-3, 1, 2)",
             "torch.diag_embed(x)", "x.diag_embed(1)", "torch.diag_embed(x, -2, 0, 2)",
             "x[0].diag_embed(offset=1, dim1=0, dim2=1)", "torch.diag_embed(x[0, 0])",
             "torch.diag_embed(x, 0, 2, 0)", "torch.diag_embed(input=x, offset=-1, dim2=1)",
             "x.diagonal(0, 1, 2).diag_embed(0, 1, 2)"]
ATLEAST = ["torch.atleast_1d(x[0, 0, 0])", "torch.atleast_2d(x[0, 0])",
           "torch.atleast_3d(x[0])", "torch.atleast_3d(x[0, 0])", "torch.atleast_2d(x)",
           "torch.atleast_3d(x[0, 0, 0])", "torch.atleast_2d(x[0, 0, 0])",
           "torch.cat(torch.atleast_3d([x[0, 0], x[0, :1]]))",
           "torch.cat(torch.atleast_1d(x[0, 0, 0], x[1, 1]))",
           "torch.stack(torch.meshgrid(x[0, 0], x[1, 1], indexing='ij'))",
           "torch.stack(torch.meshgrid([x[0, 0], x[1, 0]], indexing='xy'))",
           "torch.meshgrid(x[0, 0], x[0, :, 0], x[1, 1, :2], indexing='xy')[1]",
           "torch.meshgrid(x[0, 0, :3], x[1, 1, 0], indexing='ij')[0]",
           "torch.meshgrid((x[0, 0], x[0, :, 1]), indexing='xy')[0]",
           "torch.meshgrid(x[0, 0], indexing='ij')[0]"]

GRAD = TRIANGLES + ROLL + INDEX_SELECT + SCATTER + TAKE + MASKED + INPLACE + REPEAT + VIEWS \
    + DIAGONALS + ATLEAST


@pytest.mark.parametrize("src", GRAD)
def test_value_and_gradient(src: str) -> None:
    """float64: value, gradient under a random upstream gradient, second derivative."""
    grads(src, sample(SHAPE, "float64", seed=4))


NO_GRAD = ["x.argsort()", "torch.argsort(x, 1)", "x.argsort(dim=0, descending=True)",
           "torch.argsort(x, stable=True, descending=True)", "x.argsort(dim=-1, stable=True)",
           "torch.argsort(x.repeat(1, 1, 2), descending=True, stable=True)",
           "torch.argsort(x.repeat(1, 2, 1), dim=1, stable=True)",
           "torch.argsort(input=x, dim=0)", "x[0, 0, 0].argsort()",
           "torch.nonzero(x)", "x.nonzero(as_tuple=True)", "torch.nonzero(x[0, 0, 0])",
           "torch.nonzero(x[0, 0, 0], as_tuple=True)", "torch.nonzero(input=x[0])",
           "torch.unique(x.repeat(2, 1, 1))",
           "x.repeat(1, 2, 1).unique(return_inverse=True, return_counts=True)",
           "torch.unique(x.repeat(2, 1, 1), dim=0, return_counts=True)",
           "torch.unique(torch.cat([x, x[:, :1]], 1), dim=1, return_inverse=True)",
           "torch.unique(x, sorted=False)", "torch.unique(x[0, 0, 0])",
           "torch.unique(x[0, 0, 0], return_inverse=True)",
           "torch.unique(x.repeat(1, 1, 2), False, True, True, -1)",
           "torch.unique(input=x.repeat(2, 1, 1), return_counts=True)",
           "torch.repeat_interleave(torch.tensor([2, 0, 3]))",
           "torch.repeat_interleave(torch.tensor([1, 2]), output_size=3)",
           "torch.repeat_interleave(torch.tensor([3]))"]
BOOL_SAFE = (TRIANGLES + ROLL + INDEX_SELECT + TAKE + VIEWS + DIAGONALS + ATLEAST + NO_GRAD
             + REPEAT[:7] + [s for s in SCATTER if "* " not in s and "0.5" not in s])


@pytest.mark.parametrize("src", GRAD + NO_GRAD + SCATTER_LARGER_SRC)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_value(src: str, dtype: str) -> None:
    """float32 and int64 inputs: values, dtypes and shapes (or an error where PyTorch
    raises: a float src into an int tensor, for one)."""
    same(src, sample(SHAPE, dtype, seed=5))


@pytest.mark.parametrize("src", BOOL_SAFE)
def test_value_bool(src: str) -> None:
    same(src, sample(SHAPE, "bool", seed=5))


# ----------------------------------------------------------------------------- refusals

REFUSED = [
    "x.index_select(1, torch.tensor([3]))", "x.index_select(1, torch.tensor([-1]))",
    "x.index_select(1, torch.tensor([1.0]))", "x.index_select(1, torch.tensor([[1]]))",
    "x.index_select(1, torch.tensor([True]))", "x[0, 0, 0].index_select(0, torch.tensor([0, 0]))",
    "x.scatter(1, torch.tensor([[[3]]]), 1.0)", "x.scatter(1, torch.tensor([[[-1]]]), 1.0)",
    "x.scatter(0, torch.tensor([[[0, 1, 0, 1, 0]]]), 1.0)",
    "x.scatter(1, torch.tensor([[0]]), 1.0)",
    "x.scatter(1, torch.tensor([[[0.]]]), 1.0)",
    "x.scatter(1, torch.tensor([[[0]]]), x, reduce='mean')",
    "x.scatter_add(1, torch.tensor([[[0]]]), 1.0)",
    "x.scatter(1, torch.tensor([[[0, 1]]]), x[:1, :1, :1])",
    "x.scatter(1, torch.tensor([[[0]]]), x.double() if x.dtype != torch.float64 else x.float())",
    "x.gather(1, torch.tensor([[[-1]]]))", "x.gather(1, torch.tensor([[[3]]]))",
    "torch.take_along_dim(x, torch.tensor([[0]]), 1)",
    "torch.take_along_dim(x, torch.tensor([[[0.]]]), 1)",
    "torch.take_along_dim(x, torch.tensor([[[0]], [[0]], [[0]]]), 2)",
    "x.masked_select(torch.ones(3, dtype=torch.int64))",
    "x.masked_select(torch.ones(5, dtype=torch.bool))",
    "x.roll(1, 3)", "x.roll((1, 2), 0)", "x.roll((1, 2))", "x[0, 0, 0].roll(1, 0)",
    "x.narrow(1, 2, 2)", "x.narrow(1, -4, 1)", "x.narrow(1, 1, -1)", "x.narrow(3, 0, 1)",
    "x.movedim((0, 0), (1, 2))", "x.movedim(0, (1, 2))", "x.movedim(0, 3)",
    "x.diagonal(0, 1, 1)", "x.diagonal(0, 0, 3)", "x[0, 0].diagonal()",
    "torch.diag_embed(x, 0, 0, 0)", "torch.diag_embed(x, 0, 0, 4)",
    "torch.diag_embed(x[0, 0, 0])",
    "x[0, 0].tril()", "x[0, 0, 0].triu()", "x.t()", "(x * 1).t_()",
    "x.repeat_interleave(torch.tensor([1, 2]), dim=1)",
    "x.repeat_interleave(torch.tensor([1, -1, 1]), dim=1)",
    "x.repeat_interleave(2, dim=0, output_size=5)",
    "x.repeat_interleave(torch.tensor([[2]]), dim=0)",
    "x.repeat_interleave(torch.tensor([1., 2., 3.]), dim=1)",
    "x.repeat_interleave(2, dim=3)",
    "torch.meshgrid(x, indexing='ij')", "torch.meshgrid(x[0, 0], x[0, 0].long(), indexing='ij')",
    "torch.meshgrid(x[0, 0], indexing='yx')", "torch.meshgrid(indexing='ij')",
    "x.unbind(3)", "x[0, 0, 0].unbind()", "x.unique(dim=3)", "x.argsort(3)",
    "x.tile(2.5)", "x.swapaxes(0, 3)", "torch.take_along_dim(x, torch.tensor([-1]))",
    "torch.repeat_interleave(torch.tensor(3))", "x[0, 0, 0].repeat_interleave(2, 0)",
    "x.squeeze_(5)", "x.unsqueeze_(4)", "x[0].masked_fill_(x > 0, 1.0)",
    "x.masked_fill_(x[:, :2] > 0, 1.0)",
    "torch.unique(torch.zeros(0, 3), dim=1)",
]


@pytest.mark.parametrize("src", REFUSED)
def test_refused(src: str) -> None:
    """Where PyTorch raises (indices out of range or of the wrong dtype or shape, bad dims,
    a narrow past the end, repeated dims, a negative repeat), so do we."""
    x = sample(SHAPE, "float32")
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's error types vary
        code(src)(torch, torch.tensor(x))
    with pytest.raises(Exception):  # noqa: B017
        code(src)(tg, tg.tensor(x))


@pytest.mark.parametrize(("src", "error", "words"), [
    ("x.index_select(1, torch.tensor([3]))", IndexError, ["index_select", "3", "size 3"]),
    ("x.index_select(1, torch.tensor([-1]))", IndexError, ["index_select", "-1", "size 3"]),
    ("x.scatter(2, torch.tensor([[[4]]]), 1.0)", IndexError, ["scatter", "4", "size 4"]),
    ("x.scatter_add(2, torch.tensor([[[-2]]]), x)", IndexError, ["scatter_add", "-2"]),
    ("x.gather(1, torch.tensor([[[-1]]]))", IndexError, ["gather", "-1", "size 3"]),
    ("torch.take_along_dim(x, torch.tensor([[[4]]]), 2)", IndexError,
     ["take_along_dim", "4", "size 4"]),
    ("torch.take_along_dim(x, torch.tensor([-1]))", IndexError,
     ["take_along_dim", "-1", "size 24"]),
    ("torch.take_along_dim(x, torch.tensor([[[-5]]]), 2)", IndexError,
     ["take_along_dim", "-5", "size 4"]),
    ("x.index_select(0, torch.tensor([0.0]))", TypeError, ["index_select", "float"]),
    ("x.scatter(0, torch.tensor([[[0.0]]]), 1.0)", TypeError, ["scatter", "float"]),
    ("x.gather(0, torch.tensor([[[0.0]]]))", TypeError, ["gather", "float"]),
    ("torch.take_along_dim(x, torch.tensor([1.0]))", TypeError, ["take_along_dim", "float"]),
    ("x.repeat_interleave(torch.tensor([1.0]))", TypeError, ["repeat_interleave", "float"]),
    ("x.masked_select(x)", TypeError, ["masked_select", "bool"]),
    ("x.narrow(2, 3, 2)", ValueError, ["narrow", "(2, 3, 4)"]),
    ("x[0].masked_fill_(x > 0, 1.0)", ValueError, ["masked_fill_", "(2, 3, 4)", "(3, 4)"]),
    ("x.scatter(1, torch.tensor([[[0]]]), x.double())", TypeError, ["scatter", "float64"]),
])
def test_error_messages_name_the_op(src: str, error: type, words: list[str]) -> None:
    """Ours say which op, which index and which size (PyTorch's often do not)."""
    with pytest.raises(error) as info:
        code(src)(tg, tg.tensor(sample(SHAPE, "float32")))
    for w in words:
        assert w in str(info.value), f"{src}: {w!r} not in {info.value}"


# ----------------------------------------------------------------------------- index inputs

@pytest.mark.parametrize("src", [
    "x.index_select(1, {})", "x.take_along_dim({}, 2)", "x.gather(2, {})",
    "x.scatter(2, {}, 1.5)", "x.scatter_add(2, {}, x)", "x.repeat_interleave({}, 1)"])
@pytest.mark.parametrize("kind", ["numpy int64", "numpy int32", "list"])
def test_index_given_as_array_or_list(src: str, kind: str) -> None:
    """An index given as a numpy array or a Python list means what the int64 tensor means
    in PyTorch (PyTorch itself wants a tensor for most of these)."""
    index = np.array([[[0, 2], [1, 1], [2, 0]], [[2, 2], [0, 1], [1, 0]]])
    if "index_select" in src:
        index = index[0, 0]
    if "repeat_interleave" in src:
        index = index[0, :, 0]
    x = sample(SHAPE, "float64", seed=3)
    ours_index = {"numpy int64": index, "numpy int32": index.astype(np.int32),
                  "list": index.tolist()}[kind]
    expected = code(src.format("i"), "x, i")(torch, torch.tensor(x), torch.tensor(index))
    ours = code(src.format("i"), "x, i")(tg, tg.tensor(x), ours_index)
    assert_close(ours, expected)


ZERO_D = ["torch.roll(x, 1)", "x.index_select(0, torch.tensor([0]))", "torch.atleast_2d(x)",
          "x.tile(3)", "x.repeat_interleave(2)", "torch.take_along_dim(x, torch.tensor([0]))",
          "x.masked_select(x > 0)", "torch.scatter(x, 0, torch.tensor(0), 5.0)",
          "torch.meshgrid(x, x, indexing='ij')[0]", "torch.atleast_3d(x)",
          "x.index_select(0, torch.tensor(0))", "x.repeat_interleave(torch.tensor([3]))",
          "torch.scatter(x, 0, torch.tensor(0), x * 3)", "x.scatter_add(0, torch.tensor([0]), x)",
          "x.scatter(0, torch.tensor([0]), (x * 2).reshape(1))"]


@pytest.mark.parametrize("src", ZERO_D)
def test_zero_dim(src: str) -> None:
    grads(src, np.array(1.5))


EMPTY = ["x.tril()", "x.roll(1, 0)", "x.index_select(0, torch.tensor([], dtype=torch.int64))",
         "x.movedim(0, 1)", "x.diagonal()", "x.tile(2)", "x.repeat_interleave(2, 0)",
         "x.masked_select(x > 0)", "torch.nonzero(x)", "torch.unique(x)", "x.argsort(0)",
         "x.unbind(1)", "x.narrow(0, 0, 0)", "torch.unique(x, dim=0)", "x.diag_embed()",
         "x.take_along_dim(torch.zeros(0, 1, dtype=torch.int64), 1)", "x.roll(2)",
         "x.scatter(1, torch.zeros(0, 3, dtype=torch.int64), 1.0)"]


@pytest.mark.parametrize("src", EMPTY)
def test_empty(src: str) -> None:
    """A (0, 3) tensor through the new ops."""
    same(src, np.zeros((0, 3), np.float32))
