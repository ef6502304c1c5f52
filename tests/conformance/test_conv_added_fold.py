"""F.unfold / F.fold and nn.Unfold / nn.Fold (issue 19) against PyTorch 2.13: values,
gradients and second derivatives (float64), float32, unbatched, empty batch, positional
and keyword calls, the errors, and the layers.

Deliberate difference asserted here: unfold/fold of integer tensors work (PyTorch's CPU
kernels refuse them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF
from tinygrad_edu.errors import ShapeError

from .nn_helpers import randn
from .oracle import assert_close, check_function, pair

# ----------------------------------------------------------------------------- unfold and fold

FOLD_CASES = {
    # name: (input spatial size, kernel_size, dilation, padding, stride)
    "k2": ((5, 6), 2, 1, 0, 1),
    "k3_stride2": ((7, 6), 3, 1, 0, 2),
    "tuples": ((6, 7), (2, 3), (1, 2), (1, 0), (2, 1)),
    "dilated_padded": ((6, 6), 3, 2, 2, 3),
    "k1_stride2": ((5, 5), 1, 1, 0, 2),
    "kernel_is_input": ((3, 4), (3, 4), 1, 0, 1),
    "uncovered_tail": ((5, 6), 2, 1, 0, 2),  # the last row/column is in no block
}


@pytest.mark.parametrize("name", list(FOLD_CASES))
def test_unfold_values_and_gradients(name: str) -> None:
    size, k, r, p, s = FOLD_CASES[name]
    x = randn(2, 3, *size, seed=40)
    check_function(lambda a: GF.unfold(a, k, r, p, s), lambda a: TF.unfold(a, k, r, p, s), [x],
                   what=f"unfold {name}")
    check_function(lambda a: GF.unfold(a, k, r, p, s), lambda a: TF.unfold(a, k, r, p, s),
                   [x[0]], what=f"unfold {name} unbatched")
    x32 = randn(2, 3, *size, seed=41, dtype=np.float32)
    check_function(lambda a: GF.unfold(a, k, r, p, s), lambda a: TF.unfold(a, k, r, p, s),
                   [x32], second=False, what=f"unfold {name} float32")


@pytest.mark.parametrize("name", list(FOLD_CASES))
def test_fold_values_and_gradients(name: str) -> None:
    size, k, r, p, s = FOLD_CASES[name]
    cols_shape = tuple(TF.unfold(torch.zeros(2, 3, *size), k, r, p, s).shape)
    c = randn(*cols_shape, seed=42)
    check_function(lambda a: GF.fold(a, size, k, r, p, s), lambda a: TF.fold(a, size, k, r, p, s),
                   [c], what=f"fold {name}")
    check_function(lambda a: GF.fold(a, size, k, r, p, s), lambda a: TF.fold(a, size, k, r, p, s),
                   [c[1]], what=f"fold {name} unbatched")
    c32 = randn(*cols_shape, seed=43, dtype=np.float32)
    check_function(lambda a: GF.fold(a, size, k, r, p, s), lambda a: TF.fold(a, size, k, r, p, s),
                   [c32], second=False, what=f"fold {name} float32")


def test_unfold_fold_keywords_positional_and_empty_batch() -> None:
    x = randn(1, 2, 5, 4, seed=44)
    kw = {"kernel_size": (2, 3), "dilation": 1, "padding": (1, 2), "stride": (2, 1)}
    check_function(lambda a: GF.unfold(input=a, **kw), lambda a: TF.unfold(input=a, **kw), [x],
                   what="unfold keywords")
    c = randn(1, 12, 18, seed=45)
    check_function(lambda a: GF.fold(input=a, output_size=(5, 4), **kw),
                   lambda a: TF.fold(input=a, output_size=(5, 4), **kw), [c],
                   what="fold keywords")
    check_function(lambda a: GF.fold(a, 4, 2, 1, 0, 2), lambda a: TF.fold(a, 4, 2, 1, 0, 2),
                   [randn(2, 8, 4, seed=46)], what="fold positional, int output_size")
    check_function(lambda a: GF.unfold(a, 2), lambda a: TF.unfold(a, 2),
                   [np.zeros((0, 2, 3, 3))], what="unfold empty batch")
    check_function(lambda a: GF.fold(a, (3, 3), 2), lambda a: TF.fold(a, (3, 3), 2),
                   [np.zeros((0, 8, 4))], what="fold empty batch")


def test_fold_of_unfold_counts_the_windows_covering_each_position() -> None:
    x = randn(1, 2, 6, 5, seed=47)
    ours = GF.fold(GF.unfold(tg.tensor(x), 3, padding=1, stride=2), (6, 5), 3, padding=1,
                   stride=2)
    theirs = TF.fold(TF.unfold(torch.tensor(x), 3, padding=1, stride=2), (6, 5), 3, padding=1,
                     stride=2)
    assert_close(ours, theirs)


def test_unfold_and_fold_of_integers_deliberate_difference() -> None:
    """PyTorch's CPU im2col/col2im refuse integer tensors; ours keep the dtype and give
    the values PyTorch gives for the same numbers as floats."""
    x = np.arange(2 * 2 * 4 * 5).reshape(2, 2, 4, 5) - 20
    with pytest.raises(NotImplementedError):
        TF.unfold(torch.tensor(x), 2)
    cols = GF.unfold(tg.tensor(x), 2, padding=1)
    assert cols.dtype == np.int64
    np.testing.assert_array_equal(cols.numpy(), TF.unfold(torch.tensor(x).double(), 2,
                                                          padding=1).numpy())
    back = GF.fold(cols, (4, 5), 2, padding=1)
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back.numpy(), TF.fold(
        TF.unfold(torch.tensor(x).double(), 2, padding=1), (4, 5), 2, padding=1).numpy())
    with pytest.raises(TypeError, match="unfold: bool"):
        GF.unfold(tg.tensor(x > 0), 2)


UNFOLD_ERRORS = {
    "input_2d": ((2, 5), {"kernel_size": 2}),
    "input_5d": ((1, 2, 1, 1, 5), {"kernel_size": 2}),
    "zero_channels": ((1, 0, 4, 4), {"kernel_size": 2}),
    "kernel_too_large": ((1, 2, 5, 5), {"kernel_size": 6}),
    "dilated_too_large": ((1, 2, 5, 5), {"kernel_size": 3, "dilation": 3}),
    "kernel_zero": ((1, 2, 5, 5), {"kernel_size": 0}),
    "stride_zero": ((1, 2, 5, 5), {"kernel_size": 2, "stride": 0}),
    "dilation_zero": ((1, 2, 5, 5), {"kernel_size": 2, "dilation": 0}),
    "negative_padding": ((1, 2, 5, 5), {"kernel_size": 2, "padding": -1}),
    "three_kernel_values": ((1, 2, 5, 5), {"kernel_size": (2, 2, 2)}),
}


@pytest.mark.parametrize("name", list(UNFOLD_ERRORS))
def test_unfold_errors_as_pytorch(name: str) -> None:
    shape, kw = UNFOLD_ERRORS[name]
    x = randn(*shape, seed=48)
    with pytest.raises((RuntimeError, IndexError)):  # IndexError for a 2-D input
        TF.unfold(torch.tensor(x), **kw)
    with pytest.raises((ValueError, ShapeError), match="^unfold: "):
        GF.unfold(tg.tensor(x), **kw)


FOLD_ERRORS = {
    "input_4d": ((1, 8, 16, 1), {"output_size": 5, "kernel_size": 2}),
    "input_1d": ((8,), {"output_size": 5, "kernel_size": 2}),
    "rows_not_multiple": ((1, 7, 16), {"output_size": 5, "kernel_size": 2}),
    "wrong_block_count": ((1, 8, 15), {"output_size": 5, "kernel_size": 2}),
    "padding_changes_blocks": ((1, 8, 1), {"output_size": 2, "kernel_size": 2, "padding": 1}),
    "kernel_larger_than_output": ((1, 8, 1), {"output_size": 1, "kernel_size": 2}),
    "stride_zero": ((1, 8, 16), {"output_size": 5, "kernel_size": 2, "stride": 0}),
    "output_size_three": ((1, 8, 16), {"output_size": (5, 5, 5), "kernel_size": 2}),
}


@pytest.mark.parametrize("name", list(FOLD_ERRORS))
def test_fold_errors_as_pytorch(name: str) -> None:
    shape, kw = FOLD_ERRORS[name]
    x = randn(*shape, seed=49)
    with pytest.raises(RuntimeError):
        TF.fold(torch.tensor(x), **kw)
    with pytest.raises((ValueError, ShapeError), match="^fold: "):
        GF.fold(tg.tensor(x), **kw)


def test_unfold_and_fold_layers() -> None:
    for ours, theirs in [(gnn.Unfold(2), tnn.Unfold(2)),
                         (gnn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)),
                          tnn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)))]:
        assert repr(ours).split("  #")[0] == repr(theirs)
        check_function(ours, theirs, [randn(2, 3, 6, 7, seed=50)], what=repr(theirs))
        assert list(ours.parameters()) == []
    ours_f, theirs_f = gnn.Fold((5, 6), 2, stride=2), tnn.Fold((5, 6), 2, stride=2)
    assert repr(ours_f).split("  #")[0] == repr(theirs_f)
    check_function(ours_f, theirs_f, [randn(2, 12, 6, seed=51)], what=repr(theirs_f))
    with pytest.raises(ShapeError, match="^Fold: fold: "):
        ours_f(tg.tensor(randn(2, 12, 5, seed=52)))


def test_unfold_returns_a_copy_as_pytorch() -> None:
    """A 1x1 kernel with stride 1 reads every element once: still a new tensor."""
    ours, theirs = pair(randn(1, 2, 3, 3, seed=53))
    cols_o, cols_t = GF.unfold(ours, 1), TF.unfold(theirs, 1)
    ours.add_(1)
    theirs.add_(1)
    assert_close(cols_o, cols_t)
