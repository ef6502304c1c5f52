"""Two trust checks against PyTorch.

1. A shape op that changes nothing (`reshape` to the same shape, `permute(0, 1)`,
   `expand` to the same shape, `squeeze()` without size-1 dims, `t()` of a vector,
   `view_as(x)`) returns a NEW tensor object viewing the same memory, as PyTorch's views
   do: reshaping the result in place must not reshape the original, and its values are
   shared.
2. `masked_fill` keeps the tensor's dtype (an int tensor filled with 2.7 gets 2), and a
   value that would not survive the cast is refused.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import code
from tests.conformance.oracle import assert_close

NO_CHANGE = ["x.reshape(2, 3)", "x.view(2, 3)", "x.permute(0, 1)", "x.expand(2, 3)",
             "x.squeeze()", "x.squeeze(0)", "x.view_as(x)", "x.broadcast_to((2, 3))",
             "x.transpose(0, 0)", "x.movedim(0, 0)"]


@pytest.mark.parametrize("src", NO_CHANGE)
def test_unchanged_shape_gives_a_new_alias(src: str) -> None:
    f = code(src)
    for lib, x in ((torch, torch.arange(6.0).reshape(2, 3)),
                   (tg, tg.arange(6.0).reshape(2, 3))):
        y = f(lib, x)
        assert y is not x, f"{lib.__name__}: {src} returned the same object"
        shape = tuple(x.shape)
        y.unsqueeze_(0)
        assert tuple(x.shape) == shape, f"{lib.__name__}: {src} then unsqueeze_ reshaped x"
        y.add_(1)  # a view: the values are shared
        assert float(x.sum()) == 21.0, f"{lib.__name__}: {src} is not a view"


@pytest.mark.parametrize("src", ["v.t()", "v.reshape(6)", "v.view(-1)"])
def test_unchanged_vector_gives_a_view(src: str) -> None:
    f = code(src, "v")
    for lib, v in ((torch, torch.arange(6.0)), (tg, tg.arange(6.0))):
        y = f(lib, v)
        y.unsqueeze_(0)
        assert tuple(v.shape) == (6,), f"{lib.__name__}: {src} then unsqueeze_ reshaped v"
        y.add_(1)
        assert float(v.sum()) == 21.0, f"{lib.__name__}: {src} is not a view"


def test_alias_of_a_leaf_carries_the_gradient() -> None:
    for lib in (torch, tg):
        w = lib.ones(2, 3, requires_grad=True)
        y = w.reshape(2, 3)
        assert y.grad_fn is not None
        (y * 2).sum().backward()
        assert float(w.grad.sum()) == 12.0


FILLS = ["x.masked_fill(m, 2.7)", "x.masked_fill(m, -2.7)", "x.masked_fill(m, torch.tensor(2.7))",
         "x.float().masked_fill(m, 5)", "x.bool().masked_fill(m, 0.5)",
         "x.to(torch.uint8).masked_fill(m, -1)", "x.float().masked_fill(m, float('nan'))",
         "x.float().masked_fill(m, float('-inf'))"]


@pytest.mark.parametrize("src", FILLS)
def test_masked_fill_keeps_the_dtype(src: str) -> None:
    f = code(src, "x, m")
    ours = f(tg, tg.tensor([1, 2, 3]), tg.tensor([True, False, True]))
    theirs = f(torch, torch.tensor([1, 2, 3]), torch.tensor([True, False, True]))
    assert_close(ours, theirs, what=src)


@pytest.mark.parametrize("src", ["x.float().masked_fill(m, 1e300)",
                                 "x.masked_fill(m, float('nan'))",
                                 "x.masked_fill(m, float('inf'))"])
def test_masked_fill_refuses_values_that_do_not_fit(src: str) -> None:
    f = code(src, "x, m")
    with pytest.raises(RuntimeError):
        f(torch, torch.tensor([1, 2, 3]), torch.tensor([True, False, True]))
    with pytest.raises(ValueError, match="masked_fill: value .* cannot be converted"):
        f(tg, tg.tensor([1, 2, 3]), tg.tensor([True, False, True]))


def test_masked_fill_value_tensor_gets_its_gradient() -> None:
    grads = []
    for lib in (torch, tg):
        w = lib.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        v = lib.tensor(np.array(0.5), requires_grad=True)
        w.masked_fill(lib.tensor([True, False, True]), v).sum().backward()
        grads.append((np.asarray(w.grad.detach().numpy()), float(v.grad)))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    assert grads[0][1] == grads[1][1] == 2.0


FOUND = ["torch.diag(x)", "torch.diag(x, 1)", "torch.diag(x, -1)", "x.diag(2)", "x.trace()",
         "torch.trace(x)", "torch.diag(x[0], 1)", "torch.diag(x[0], -2)",
         "torch.where(x[0, 0] > -100)", "torch.zeros(0).log_softmax(0)",
         "torch.zeros(0).softmax(0)", "torch.zeros(0, 3).amax(1)"]


@pytest.mark.parametrize("src", FOUND)
def test_rectangular_diagonals_and_empty_softmax(src: str) -> None:
    """Found by calling every public name with unusual arguments: `diag` and `trace` of a
    rectangular matrix raised an einsum error; `log_softmax` of an empty tensor raised
    numpy's; `where(cond)` of a 0-d condition did too."""
    f = code(src)
    x = np.random.default_rng(0).standard_normal((3, 5))
    ours = f(tg, tg.tensor(x, requires_grad=True))
    theirs = f(torch, torch.tensor(x, requires_grad=True))
    if isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_close(o, t, what=src)
    else:
        assert_close(ours, theirs, what=src)
