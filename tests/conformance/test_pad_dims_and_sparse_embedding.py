"""Two things PyTorch refuses or does otherwise, computed here (listed in docs/pytorch.md):

- `F.pad` in 'reflect', 'replicate' and 'circular' mode on any number of trailing dims of an
  input of any rank. PyTorch pads 1-3 dims of a (C, ...) or (N, C, ...) input and raises
  NotImplementedError otherwise. Each dim is padded on its own, so the reference is PyTorch
  on the input reshaped to (-1, *padded dims) (for up to 3 padded dims) and numpy.pad.
- `F.embedding(..., sparse=True)` / `nn.Embedding(sparse=True)`: PyTorch's gradient for
  the weight is a sparse tensor; there are no sparse tensors here, so it is dense, with the
  values of PyTorch's `grad.to_dense()`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as GF
from tinygrad_edu.testing import assert_gradients_match

NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
#: (shape, pad) pairs PyTorch refuses in the non-constant modes
REFUSED = [((5,), (1, 2)), ((2, 3, 4, 5), (2, 1)), ((1, 1, 2, 3), (1, 1)),
           ((3, 4, 5), (1, 2, 2, 1, 1, 0)), ((2, 3, 3, 4, 4), (1, 1, 2, 0)),
           ((2, 2, 3, 3, 3), (1, 1, 1, 1, 1, 1, 1, 1))]


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
@pytest.mark.parametrize("shape, widths", REFUSED)
def test_pad_dims_pytorch_refuses_are_computed(mode: str, shape: tuple[int, ...],
                                               widths: tuple[int, ...]) -> None:
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    with pytest.raises(NotImplementedError):
        TF.pad(torch.tensor(x), widths, mode=mode)
    ours = GF.pad(tg.tensor(x), widths, mode=mode).numpy()
    k = len(widths) // 2
    pairs = [(0, 0)] * (x.ndim - k) + [(widths[2 * j], widths[2 * j + 1])
                                       for j in reversed(range(k))]
    np.testing.assert_array_equal(ours, np.pad(x, pairs, mode=NUMPY_MODE[mode]))
    if k <= 3:  # PyTorch on the input reshaped to a shape it pads
        flat = torch.tensor(x.reshape(-1, *shape[-k:]))
        theirs = TF.pad(flat, widths, mode=mode).numpy()
        np.testing.assert_array_equal(ours, theirs.reshape(ours.shape))


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
def test_pad_extra_dims_with_cropping_match_pytorch_reshaped(mode: str) -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 6))
    widths = (2, -1) if mode != "circular" else (-1, 2)
    ours = GF.pad(tg.tensor(x), widths, mode=mode).numpy()
    theirs = TF.pad(torch.tensor(x.reshape(-1, 6)), widths, mode=mode).numpy()
    np.testing.assert_array_equal(ours, theirs.reshape(ours.shape))


@settings(max_examples=10, deadline=None)
@given(mode=st.sampled_from(list(NUMPY_MODE)), lo=st.integers(0, 2), hi=st.integers(0, 2),
       lead=st.integers(1, 3))
def test_pad_extra_dims_gradient(mode: str, lo: int, hi: int, lead: int) -> None:
    x = np.random.default_rng(lead).standard_normal((lead, 2, 3, 4))
    assert_gradients_match(lambda t: GF.pad(t, (lo, hi), mode=mode), [x])


def test_a_reflection_as_wide_as_its_dim_is_still_refused() -> None:
    with pytest.raises(ValueError, match=r"pad: reflect padding \(5, 1\).*\(5,\)"):
        GF.pad(tg.ones(5), (5, 1), mode="reflect")


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_sparse_embedding_gives_the_dense_values_of_pytorchs_sparse_gradient(
        padding_idx: int | None) -> None:
    w = np.random.default_rng(0).standard_normal((6, 3))
    ids = np.array([[0, 2, 2], [5, 1, 0]])
    up = np.random.default_rng(1).standard_normal((2, 3, 3))
    tw = torch.tensor(w, requires_grad=True)
    TF.embedding(torch.tensor(ids), tw, padding_idx=padding_idx, sparse=True).backward(
        torch.tensor(up))
    assert tw.grad is not None and tw.grad.is_sparse
    ours = tg.tensor(w, requires_grad=True)
    GF.embedding(tg.tensor(ids), ours, padding_idx=padding_idx, sparse=True).backward(
        tg.tensor(up))
    assert ours.grad is not None
    np.testing.assert_allclose(ours.grad.numpy(), tw.grad.to_dense().numpy(), rtol=1e-12)


def test_sparse_embedding_module_trains_as_pytorchs() -> None:
    tg.manual_seed(0)
    ours = tg.nn.Embedding(7, 4, sparse=True).double()
    theirs = torch.nn.Embedding(7, 4, sparse=True).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
    ids = np.array([1, 3, 3, 6])
    for model, lib in ((ours, tg), (theirs, torch)):
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(3):
            opt.zero_grad()
            (model(lib.tensor(ids)) ** 2).sum().backward()
            opt.step()
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-12)
    assert "sparse=True" in repr(ours)
