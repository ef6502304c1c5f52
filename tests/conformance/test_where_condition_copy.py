"""A `where` (or `masked_fill`) condition changed in place between the call and backward:
PyTorch raises (the saved condition's version changed); here the condition is copied at the
call (as `compile` recomputes it per call), so the gradient is the one of the computation
that ran. Before, the gradient silently followed the changed mask. A listed difference
(docs/pytorch.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg


def test_pytorch_raises_and_we_use_the_condition_of_the_call() -> None:
    c = torch.tensor([True, False, True])
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = torch.where(c, x, 0.0)
    c[0] = False
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

    ours_c = tg.tensor([True, False, True])
    ours_x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ours_y = tg.where(ours_c, ours_x, 0.0)
    ours_c[0] = False
    ours_y.sum().backward()
    assert ours_x.grad is not None
    np.testing.assert_array_equal(ours_x.grad.numpy(), [1.0, 0.0, 1.0])


@pytest.mark.parametrize("how", ["where_numpy_mask", "masked_fill_tensor", "method_where"])
def test_a_mask_changed_after_the_call_does_not_change_the_gradient(how: str) -> None:
    mask = np.array([True, False, True])
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = tg.tensor(mask)
    if how == "where_numpy_mask":
        y = tg.where(mask, x, 0.0)
    elif how == "masked_fill_tensor":
        y = x.masked_fill(~t, 0.0)
    else:
        y = x.where(t, 0.0)
    mask[:] = False
    t[:] = False
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])
    # PyTorch's value for the same call, before any change: the reference
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    torch.where(torch.tensor([True, False, True]), tx, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
