"""Movement ops against PyTorch: reshape/view, permute/transpose/T/mT, squeeze/unsqueeze,
flatten, expand/expand_as/broadcast_to, repeat, flip, cat/concat/stack (lists, tuples and
generators of tensors), split/chunk, where, clamp, F.pad, indexing and gather.

Each call is PyTorch code in a string (the test id), run on both libraries; values, dtypes
and shapes, and in float64 the gradient under a random upstream gradient and the second
derivative (`oracle.check_function`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import backward_both, code, grads, same, sample
from tests.conformance.oracle import assert_close

SHAPE = (2, 3, 4)

RESHAPE = [
    "x.reshape(6, 4)", "x.reshape((4, -1))", "x.reshape(-1)", "x.reshape([2, 12])",
    "x.reshape(2, -1, 2)", "torch.reshape(x, (3, 8))", "torch.reshape(x, (-1,))",
    "x.view(4, 6)", "x.view(-1, 2)", "x.view((2, 12))", "x.view(2, 3, 2, 2)", "x.view(-1)",
    "x.view_as(x[0].reshape(12, 1).expand(12, 2))", "x.reshape_as(x.reshape(4, 6))",
    "x.reshape(24, 1, 1)", "x[0, 0, :1].reshape(())",
    "x[0, 0, 0].reshape(1, 1)", "x[0, 0, 0].view(-1)",
]
PERMUTE = [
    "x.permute(2, 0, 1)", "x.permute((1, 2, 0))", "x.permute([0, 2, 1])",
    "torch.permute(x, (2, 1, 0))", "x.permute(-1, 0, 1)", "x.permute(dims=(1, 0, 2))",
    "x.transpose(0, 2)", "x.transpose(-1, -2)", "torch.transpose(x, 1, 0)",
    "x.transpose(dim0=0, dim1=1)", "x.transpose(1, 1)",
    "x.mT", "x[0].T", "x[0].t()", "x[0, 0].t()", "torch.t(x[1])", "x[0].mT",
    "x[0].transpose(0, 1)",
]
FLATTEN = [
    "x.flatten()", "x.flatten(1)", "x.flatten(0, 1)", "x.flatten(start_dim=-2)",
    "torch.flatten(x, 1, 2)", "x.flatten(end_dim=1)", "torch.flatten(x)", "x.flatten(2)",
    "x[0, 0, 0].flatten()", "x.unflatten(2, (2, 2))", "x.unflatten(-1, (2, -1))",
]
SQUEEZE = [
    "x.unsqueeze(0)", "x.unsqueeze(-1)", "x.unsqueeze(dim=2)", "torch.unsqueeze(x, 3)",
    "x.unsqueeze(-4)", "x[0, 0, 0].unsqueeze(0)",
    "x.reshape(2, 1, 3, 4, 1).squeeze()", "x.reshape(2, 1, 12).squeeze(1)",
    "x.reshape(2, 1, 12).squeeze(0)", "x.reshape(1, 24, 1).squeeze(-1)",
    "x.reshape(1, 2, 1, 12).squeeze((0, 2))", "torch.squeeze(x.reshape(1, 24), 0)",
    "x.reshape(1, 24).squeeze(dim=0)", "torch.squeeze(x.reshape(1, 2, 1, 12))",
    "x[0, 0, :1].squeeze()", "x[0, 0, 0].squeeze()", "x[0, 0, 0].squeeze(0)",
    "x.reshape(1, 2, 1, 12).squeeze([0, 1])",
]
EXPAND = [
    "x[:, :1, :].expand(2, 3, 4)", "x[:1].expand(5, -1, -1)", "x[0, 0].expand(2, 4)",
    "x[:, :1].expand((2, 6, 4))", "x[:1].expand_as(x)", "x[0, :1].broadcast_to((2, 3, 4))",
    "torch.broadcast_to(x[:, :, :1], (2, 3, 4))", "x[None].expand(3, -1, -1, -1)",
    "x[0, 0, 0].expand(3, 2)", "x[:, :1].expand(2, 3, 4) * x", "x.expand(2, 3, 4)",
    "x.expand(-1, -1, -1)", "x[:1].expand([2, 3, 4])",
]
REPEAT = [
    "x.repeat(1, 2, 1)", "x.repeat(2, 1, 1, 2)", "x.repeat((2, 1, 1))", "x[0].repeat(3, 1)",
    "x[0, 0].repeat(2)", "x[0, 0].repeat(2, 3)", "x.repeat(1, 1, 1)", "x.repeat([1, 0, 2])",
    "x[0, 0, 0].repeat(3)",
]
FLIP = [
    "x.flip(0)", "x.flip((0, 2))", "x.flip([-1])", "torch.flip(x, dims=(1,))", "x.flip(0, 1)",
    "torch.flip(x, [0, 1, 2])", "x.flip(dims=[2])",
]
CAT = [
    "torch.cat([x, x * 2], 1)", "torch.cat((x, x), dim=-1)", "torch.cat(list(x))",
    "torch.cat([t for t in x], 1)", "torch.cat(tuple(x), -1)", "torch.concat([x, x], 2)",
    "torch.concatenate([x, x], 0)",
    "torch.cat([x])", "torch.cat([x, x[:0]])", "torch.cat([x, x[:, :1]], dim=1)",
    "torch.cat(tensors=[x, x], dim=2)", "torch.cat([x, x], axis=1)",
    "torch.stack([x, x])", "torch.stack(tuple(x), dim=1)",
    "torch.stack([x[0], x[1] * 3], dim=-2)", "torch.stack(list(x), 2)", "torch.stack([x])",
    "torch.stack(tensors=[x, x], dim=1)", "torch.stack([x[0, 0, 0], x[1, 1, 1]])",
]
SPLIT = [
    "x.split(2, 2)", "x.split(1)", "x.split([1, 2], 1)", "x.split((3, 1), dim=-1)",
    "torch.split(x, 2, dim=1)", "torch.split(x, [2, 2], 2)", "x.split(split_size=3, dim=2)",
    "x.split(3, 2)", "x.split(5, 2)", "x.split([0, 4], 2)", "x.split(1, -1)[3]",
    "torch.split(x, split_size_or_sections=2, dim=-1)",
    "x.chunk(2, 2)", "x.chunk(3, 1)", "x.chunk(3, -1)", "torch.chunk(x, 4, dim=2)",
    "x.chunk(5, 2)", "x.chunk(2)", "x.chunk(chunks=2, dim=1)", "x.chunk(4, 1)",
]
WHERE = [
    "torch.where(x > 0, x, 0.0)", "torch.where(x > 0, 1.0, x)", "torch.where(x > 0, x, 0)",
    "torch.where(x > 0, x, x[0])", "torch.where(x[0] > 0, x, -x)", "x.where(x > 0, 0.5)",
    "x.where(x < 0, x * 2)", "torch.where(x > 0, 2.0, 3.0)", "torch.where(x > 0, 2, 3)",
    "torch.where(x > 0, x, torch.tensor(-1.0))",
    "torch.where(condition=x > 0, input=x, other=0.0)", "torch.where(x > 0, x, float('nan'))",
]
NONZERO = ["torch.where(x > 0)", "torch.where(x[0] < 0)"]  # one argument: indices, no gradient
CLAMP = [
    "x.clamp(-0.5, 0.5)", "x.clamp(min=0)", "x.clamp(max=0.3)", "torch.clamp(x, -1, 1)",
    "x.clip(-0.2, 0.2)", "torch.clip(x, min=-0.1)", "torch.clamp(x, min=x[0])",
    "x.clamp(x[:, :1], x[:, :1] + 1)", "x.clamp(0.3, -0.3)", "x.clamp(-1, max=0)",
    "torch.clamp(x, min=-0.5, max=0.5)", "x.clamp(min=torch.tensor(0.1))",
]
PAD = [
    "torch.nn.functional.pad(x, (1, 2))", "torch.nn.functional.pad(x, (1, 1, 2, 0))",
    "torch.nn.functional.pad(x, (0, 0, 0, 0, 1, 1))",
    "torch.nn.functional.pad(x, (1, 1), value=2.5)",
    "torch.nn.functional.pad(x, (-1, 1))", "torch.nn.functional.pad(x, (0, -2, -1, 0))",
    "torch.nn.functional.pad(x, (2, 1), mode='reflect')",
    "torch.nn.functional.pad(x, (1, 1, 1, 1), mode='replicate')",
    "torch.nn.functional.pad(x, (1, 2), mode='circular')",
    "torch.nn.functional.pad(x, [1, 1], 'constant', 0.0)",
    "torch.nn.functional.pad(x, (1, 0, 1, 2), 'reflect')",
    "torch.nn.functional.pad(x[None], (1, 1, 1, 1), mode='reflect')",
]
INDEX = [
    "x[0]", "x[-1]", "x[1, 2]", "x[1, 2, 3]", "x[-1, -1, -1]", "x[1][2]", "x[:, 1]",
    "x[..., 1]", "x[..., -1]", "x[0, ..., ::2]", "x[::2]", "x[1:]", "x[:, 1:3, ::3]",
    "x[:, :, 1:-1]", "x[5:]", "x[:, 10:]", "x[:, -2:]", "x[:, :-5]", "x[None]",
    "x[:, None, :, None]", "x[..., None]", "x[None, ..., 0]", "x[...]", "x[:]", "x[()]",
    "x[[0, 1, 0]]", "x[[1, 0], [2, 0]]", "x[:, [0, 2, 2]]", "x[[0, 1], :, [1, 3]]",
    "x[0, :, [1, 3]]", "x[:, 1, [0, 3]]", "x[1, [0, 2]]", "x[[1, 0], 1:, [3, 0]]",
    "x[..., [0, 0, 3]]", "x[torch.tensor([[0, 1], [1, 0]])]", "x[:, [[0, 1], [2, 2]]]", "x[[]]",
    "x[[True, False]]", "x[x > 0]", "x[x[:, :, 0] > 0]", "x[:, x[0, :, 0] > 0]",
    "x[torch.tensor([1, 0])]", "x[torch.tensor(1)]", "x[:, torch.tensor([[0, 1], [2, 2]])]",
    "x[torch.tensor([True, False])]", "x[np.array([1, 0])]", "x[np.int64(1)]",
    "x[np.array([[0], [1]]), np.array([0, 2])]", "x[torch.tensor([0, 1]), :, torch.tensor(3)]",
    "x[1, None, 2]", "x[None, [0, 1]]", "x[x.sum(-1) > 0]", "x[0][x[0] > 0]",
    "x[torch.tensor([], dtype=torch.int64)]", "x[:, torch.zeros(3, dtype=torch.bool)]",
    "x[torch.tensor([0, 1], dtype=torch.int32)]", "x[True]", "x[1, ..., None, 2]",
    "x[-3:-1, 0]", "x[:, 1:3][..., ::2]", "x[np.array([True, False])]", "x[(0, 1), (2, 0)]",
    "x[0, 1:2, [3]]", "x[:, [0, 1]][:, :, [2, 2]]",
]
GATHER = [
    "x.gather(2, i)", "torch.gather(x, 2, i)", "x.gather(dim=2, index=i)",
    "torch.gather(x, -1, i)", "x.gather(2, i[:, :2])",
]

GRAD_PARAMS = [pytest.param(s, id=s) for s in RESHAPE + PERMUTE + FLATTEN + SQUEEZE + EXPAND
               + REPEAT + FLIP + CAT + WHERE + CLAMP + PAD + INDEX]


@pytest.mark.parametrize("src", GRAD_PARAMS)
def test_value_and_gradient(src: str) -> None:
    """float64: value, gradient under a random upstream gradient, second derivative."""
    grads(src, sample(SHAPE, "float64", seed=4))


VALUE_PARAMS = [pytest.param(s, dt, id=f"{dt}-{s}")
                for s in RESHAPE + PERMUTE + FLATTEN + SQUEEZE + EXPAND + REPEAT + FLIP + CAT
                + SPLIT + WHERE + NONZERO + CLAMP + INDEX for dt in ("float32", "int64", "bool")
                if not (dt == "bool" and s in CLAMP)]


@pytest.mark.parametrize(("src", "dtype"), VALUE_PARAMS)
def test_value(src: str, dtype: str) -> None:
    """float32, int64 and bool inputs: values, dtypes and shapes."""
    same(src, sample(SHAPE, dtype, seed=5))


@pytest.mark.parametrize("src", SPLIT)
def test_split_pieces_gradient(src: str) -> None:
    """Each piece of a split/chunk carries its part of the gradient (pieces weighted
    differently, so a mixed-up piece shows)."""
    if not src.endswith("]"):
        src = f"torch.cat([p.flatten() * (k + 1) for k, p in enumerate({src})])"
    grads(src, sample(SHAPE, "float64", seed=6))


@pytest.mark.parametrize("src", ["torch.cat((t * 2 for t in x), dim=1)",
                                 "torch.stack((t for t in x), -1)", "torch.cat(t for t in x)",
                                 "torch.concat((t for t in x), 0)"])
def test_cat_of_generator_refused(src: str) -> None:
    """PyTorch 2.13's cat/stack take a sequence (list or tuple) of tensors; a generator is a
    TypeError there, so it must not silently work here either."""
    x = sample(SHAPE, "float32")
    with pytest.raises(TypeError):
        code(src)(torch, torch.tensor(x))
    with pytest.raises(TypeError):
        code(src)(tg, tg.tensor(x))


SPLIT_EMPTY = ["torch.zeros(0, 3).split(2)", "torch.zeros(0, 3).split(2, 0)",
               "torch.zeros(0, 3).chunk(2)", "torch.zeros(3, 0).split(1, 1)",
               "torch.zeros(0, 3).split([0, 0])", "torch.zeros(3, 0).chunk(2, 1)"]


@pytest.mark.parametrize("src", SPLIT_EMPTY)
def test_split_empty(src: str) -> None:
    """Splitting an empty dim: PyTorch gives one empty piece for a size (and chunk)."""
    same(src)


@pytest.mark.parametrize("src", GATHER + ["x.gather(1, i[:, :2, :3])"])
def test_gather(src: str) -> None:
    """gather with repeated indices (their gradients accumulate), a smaller index."""
    rng = np.random.default_rng(7)
    i = rng.integers(0, 4, size=(2, 3, 5))
    i[0, 0, :3] = 1  # the same element picked three times
    if src == "x.gather(1, i[:, :2, :3])":
        i = i % 3
    grads(src, sample(SHAPE, "float64", seed=8), i, args="x, i")


REPEATED = ["x[[0, 0, 1]]", "x[:, [2, 2, 2]]", "x[[1, 1], [2, 2]]", "x[[0, 1, 0], :, [3, 3, 3]]",
            "x[torch.tensor([[1, 1], [1, 0]])]", "x[..., [1, 1]] * x[..., [1, 2]]"]


@pytest.mark.parametrize("src", REPEATED)
def test_repeated_index_gradient_accumulates(src: str) -> None:
    grads(src, sample(SHAPE, "float64", seed=9))
    ours, theirs = backward_both(src, sample(SHAPE, "float64", seed=9))
    assert_close(ours[0], theirs[0], what=f"{src}: .grad")


@pytest.mark.parametrize("src", ["torch.cat([x, y], 1)", "torch.stack((x, y), -1)",
                                 "torch.cat((x * y, y), 0)", "torch.where(x > y, x, y)",
                                 "torch.where(x > 0, x, y)", "x.clamp(y, y + 1)",
                                 "torch.cat([t for t in (x, y)], 2)",
                                 "torch.stack([a * b for a, b in zip(x, y)])"])
def test_two_inputs(src: str) -> None:
    """Both inputs receive their part of the gradient."""
    grads(src, sample(SHAPE, "float64", 10), sample(SHAPE, "float64", 11), args="x, y")


@pytest.mark.parametrize("src", ["torch.cat([x, y])", "torch.stack([x, y])",
                                 "torch.where(x > 0, x, y)", "torch.cat([y, x], 1)"])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int64", "float32"),
                                    ("int32", "int64"), ("bool", "int64"), ("uint8", "int32")],
                         ids=lambda d: "-".join(d))
def test_mixed_dtypes(src: str, dtypes: tuple[str, str]) -> None:
    """Inputs of different dtypes: PyTorch's promotion (cat/stack/where promote)."""
    shape = (2, 3, 4)
    same(src, sample(shape, dtypes[0], 12), sample(shape, dtypes[1], 13), args="x, y")


def test_negative_step_is_numpy_here() -> None:
    """Deliberate difference (docs/pytorch.md): a negative slice step is numpy's reversal
    here (PyTorch refuses it); the values equal PyTorch's flip."""
    x = sample(SHAPE, "float32")
    with pytest.raises(ValueError):
        torch.tensor(x)[:, ::-1]
    assert_close(tg.tensor(x)[:, ::-1], torch.tensor(x).flip(1))


@pytest.mark.parametrize("src", ["x.view(5, 5)", "x.reshape(-1, -1)",
                                 "x.permute(0, 1)", "x.transpose(0, 3)", "x.expand(4, 4, 4)",
                                 "x.squeeze(3)", "x.unsqueeze(4)", "x.flatten(2, 1)",
                                 "torch.cat([x, x[0]])", "torch.stack([x, x[0]])",
                                 "x[2]", "x[0, 0, 4]", "x[[0, 2]]", "x.split([1, 2])",
                                 "x.repeat(2)", "x[x[0] > 0]"])
def test_refused(src: str) -> None:
    """Where PyTorch raises (negative steps, bad shapes and dims, out-of-range indices,
    a mask of the wrong shape), so do we."""
    x = sample(SHAPE, "float32")
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's error types vary
        code(src)(torch, torch.tensor(x))
    with pytest.raises(Exception):  # noqa: B017
        code(src)(tg, tg.tensor(x))


EMPTY = ["x.reshape(3, 0)", "x.reshape(-1, 3)", "x.T", "x.flatten()", "x.unsqueeze(1)",
         "x[None].expand(2, 0, 3)", "x.flip(0)", "torch.cat([x, x])", "torch.stack([x, x], 1)",
         "x[:, 1]", "x[[]]", "x.repeat(2, 2)", "x.permute(1, 0)", "x.sum(0).reshape(3, 1)",
         "x[x > 0]", "torch.where(x > 0, x, 1.0)"]


@pytest.mark.parametrize("src", EMPTY)
def test_empty(src: str) -> None:
    """A (0, 3) tensor through the movement ops."""
    same(src, np.zeros((0, 3), np.float32))


ZERO_D = ["x.reshape(1)", "x.reshape(())", "x.reshape(-1)", "x.view(1, 1)", "x.flatten()",
          "x.unsqueeze(0)", "x.unsqueeze(-1)", "x.squeeze()", "x.squeeze(0)", "x.expand(3)",
          "x.expand(2, 2)", "x.repeat(3)", "x.flip(0)", "x[None]", "x[...]", "x[()]",
          "torch.stack([x, x])", "x.permute(())", "torch.where(x > 0, x, 0.0)", "x.clamp(0, 1)",
          "x.t()", "x[None, None]", "x[..., None]", "torch.cat([x[None], x[None]])"]


@pytest.mark.parametrize("src", ZERO_D)
def test_zero_dim(src: str) -> None:
    """A 0-d tensor through the movement ops (value and gradient)."""
    grads(src, np.array(1.5))


def test_iterating_a_tensor() -> None:
    """`for row in x` and `list(x)` give the rows (0-d elements for a vector), each in the
    graph."""
    a = sample((3, 2), "float64", 14)
    ours, theirs = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    so = sum(row.sum() * (k + 1) for k, row in enumerate(ours))
    st = sum(row.sum() * (k + 1) for k, row in enumerate(theirs))
    assert_close(so, st)
    so.backward()
    st.backward()
    assert_close(ours.grad, theirs.grad)
    assert [tuple(t.shape) for t in tg.tensor(a[0])] == [tuple(t.shape) for t in torch.tensor(a[0])]
