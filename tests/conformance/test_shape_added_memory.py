"""Issue 19's shape and indexing names against PyTorch, what call strings cannot say:
aliasing (which results are views, which are copies), the version counter and gradients of
the in-place ops, the ops without a derivative, meshgrid's warning, argsort's NaN order.
The calls themselves (values, gradients, refusals) are in test_shape_added.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import code, sample
from tests.conformance.oracle import assert_close, pair

SHAPE = (2, 3, 4)


# ----------------------------------------------------------------------------- aliasing

@pytest.mark.parametrize("src", ["x.narrow(1, 1, 2)", "x.unbind(1)[2]", "x.movedim(0, 2)",
                                 "x.swapaxes(0, 1)", "x.swapdims(2, 1)", "x.diagonal(1, 1, 2)",
                                 "x.moveaxis(1, 0)", "torch.atleast_2d(x)"])
def test_views_share_memory(src: str) -> None:
    """These are views in PyTorch and here: a write into the result shows in the input."""
    for lib in (torch, tg):
        x = lib.tensor(sample(SHAPE, "float32"))
        code(src)(lib, x).fill_(7.0)
        if lib is torch:
            expected = x
        else:
            assert_close(x, expected, what=f"{src}: the input after writing into the view")


@pytest.mark.parametrize("src", ["x.tril()", "x.triu(1)", "x.roll(1, 2)", "x.tile(1)",
                                 "x.index_select(0, torch.tensor([0, 1]))",
                                 "x.repeat_interleave(1, 0)", "x.masked_select(x > -10)",
                                 "x.scatter(0, torch.tensor([[[0]]]), 1.0)",
                                 "x.take_along_dim(torch.tensor([[[0]]]), 0)",
                                 "x.scatter_add(0, torch.tensor([[[0]]]), x)",
                                 "torch.diag_embed(x)"])
def test_copies_do_not_alias(src: str) -> None:
    """These are new tensors in PyTorch and here: writing into the result leaves the input."""
    a = sample(SHAPE, "float32")
    x = tg.tensor(a.copy())
    code(src)(tg, x).fill_(7.0)
    np.testing.assert_array_equal(x.numpy(), a)


@pytest.mark.parametrize("src", ["x.movedim(0, 0)", "x.swapaxes(1, 1)", "x.swapdims(0, -3)",
                                 "x.narrow(0, 0, 2)", "x.diagonal(0, 0, 1)", "torch.tile(x, ())"])
def test_results_are_new_tensors(src: str) -> None:
    """Even when nothing moves, the result is a new tensor (a view or a copy, as PyTorch's):
    changing its shape in place leaves the input's shape alone."""
    for lib in (torch, tg):
        x = lib.tensor(sample(SHAPE, "float32"))
        out = code(src)(lib, x)
        assert out is not x
        out.unsqueeze_(0)
        assert tuple(x.shape) == SHAPE


def test_atleast_returns_the_tensor_itself() -> None:
    for lib in (torch, tg):
        x = lib.tensor(sample(SHAPE, "float32"))
        assert lib.atleast_1d(x) is x and lib.atleast_3d(x) is x
        assert lib.atleast_2d() == ()


def test_write_through_a_diagonal_inside_a_graph() -> None:
    """`y.diagonal().mul_(3)` inside a graph changes y and its gradient, as in PyTorch."""
    a = sample((3, 3), "float64", 6)
    results = []
    for lib in (torch, tg):
        x = lib.tensor(a.copy(), requires_grad=True)
        y = x * 2
        y.diagonal().mul_(3)
        (y * y).sum().backward()
        results.append((y, x.grad))
    assert_close(results[1][0], results[0][0])
    assert_close(results[1][1], results[0][1])


# ----------------------------------------------------------------------------- in place

@pytest.mark.parametrize("src", [
    "y.masked_fill_(x > 0, 1.0)", "y.scatter_(1, torch.tensor([[0]]), 1.0)",
    "y.scatter_add_(1, torch.tensor([[0]]), x)", "y.tril_()", "y.triu_(1)",
    "y.squeeze_()", "y.unsqueeze_(0)", "y.t_()"])
def test_in_place_bumps_the_version(src: str) -> None:
    """The output of exp is saved by its backward: changing it in place (even only its
    shape) makes the backward raise, in both libraries; on a leaf that requires grad the
    call itself raises."""
    a = sample((2, 2), "float64", 7)
    for lib in (torch, tg):
        x = lib.tensor(a, requires_grad=True)
        y = x.exp()
        before = y._version
        code(src, "x, y")(lib, x, y)
        assert y._version > before
        with pytest.raises(RuntimeError):
            y.sum().backward()
        with pytest.raises(RuntimeError):
            code(src.replace("y.", "x.", 1), "x, y")(lib, x, y)


def test_in_place_outside_a_graph_writes_the_same_memory() -> None:
    a = sample((3, 3), "float32", 8)
    for src in ["x.masked_fill_(x > 0, 1.0)", "x.scatter_(1, torch.tensor([[2], [0]]), 5.0)",
                "x.scatter_add_(0, torch.tensor([[1, 1, 0]]), x[:1].clone())", "x.tril_(-1)",
                "x.triu_()", "x.unsqueeze_(1)", "x.t_()", "x.squeeze_()"]:
        x_t, x_o = torch.tensor(a.copy()), tg.tensor(a.copy())
        memory = x_o.numpy()
        assert code(src)(tg, x_o) is x_o
        code(src)(torch, x_t)
        assert_close(x_o, x_t, what=src)
        assert np.shares_memory(x_o.numpy(), memory), src


@pytest.mark.parametrize("src", ["y.masked_fill_(x > 0, v)", "y.masked_fill_(x[0] > 0, v * 2)",
                                 "y.scatter_(1, torch.tensor([[1], [0]]), v.expand(2, 1))",
                                 "y.scatter_add_(1, torch.tensor([[1, 1], [0, 2]]), "
                                 "v.expand(2, 2))"])
def test_in_place_gradients_reach_every_operand(src: str) -> None:
    """In place inside a graph: the gradient reaches x through y's old value (zero where
    overwritten) and reaches the value written in."""
    a, b = sample((2, 3), "float64", 9), np.array(0.7)
    got = []
    for lib in (torch, tg):
        x, v = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        y = x * 3
        code(src, "x, y, v")(lib, x, y, v)
        (y * y).sum().backward()
        got.append((x.grad, v.grad))
    assert_close(got[1][0], got[0][0], what=f"{src}: x.grad")
    assert_close(got[1][1], got[0][1], what=f"{src}: v.grad")


# ----------------------------------------------------------------------------- the rest

def test_meshgrid_warns_without_indexing() -> None:
    a, b = sample((3,), "float32"), sample((2,), "float32")
    for lib in (torch, tg):
        with pytest.warns(UserWarning, match="indexing"):
            out = lib.meshgrid(lib.tensor(a), lib.tensor(b))
        assert tuple(out[0].shape) == (3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.meshgrid(tg.tensor(a), tg.tensor(b), indexing="ij")


@pytest.mark.parametrize("src", ["torch.unique(x)", "torch.unique(x, dim=0)[0]",
                                 "x.scatter(1, torch.tensor([[0], [1]]), 2.0, reduce='multiply')",
                                 "x.scatter(1, torch.tensor([[0], [1]]), x, reduce='add')"])
def test_no_derivative_raises_at_backward(src: str) -> None:
    """PyTorch has no derivative for unique or for scatter with reduce=: the value is
    computed, and a backward through it raises (the gradient is never dropped silently)."""
    a = sample((2, 3), "float64", 10)
    for lib in (torch, tg):
        x = lib.tensor(a, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's deprecation of reduce= with a src
            out = code(src)(lib, x)
        if lib is torch:
            expected = out
        else:
            assert_close(out, expected, what=src)
        assert out.requires_grad
        with pytest.raises(RuntimeError):
            out.sum().backward()


def test_argsort_orders_nan_last_and_ties_stably() -> None:
    a = np.array([2.0, np.nan, 1.0, 2.0, -np.inf, np.nan])
    for kwargs in ({}, {"descending": True}, {"stable": True},
                   {"descending": True, "stable": True}):
        ours, theirs = pair(a)
        assert_close(ours.argsort(**kwargs), theirs.argsort(**kwargs), what=str(kwargs))
