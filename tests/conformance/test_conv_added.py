"""The convolution family added for issue 19, against PyTorch 2.13: transposed
convolutions (F.conv_transpose1d/2d/3d, nn.ConvTranspose1d/2d/3d), unfold and fold
(F.unfold/fold, nn.Unfold/Fold), and the 3-D forms (F.conv3d, nn.Conv3d, max/avg pooling
in 3-D). Values, gradients and second derivatives (float64), float32 values and gradients,
int inputs, unbatched and empty inputs, positional and keyword calls, the errors, and the
layers' parameters, init and state_dict exchange.

Deliberate differences asserted here: unfold/fold of integer tensors work (PyTorch's CPU
kernels refuse them); ConvTranspose*d refuses a string padding at construction (PyTorch
accepts 'same' there and fails later)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF
from tinygrad_edu.errors import ShapeError

from .nn_helpers import assert_grads_close, copy_torch_weights, randn
from .oracle import assert_close, check_function, exact, pair


def _torch_raises(f: Any) -> bool:
    try:
        f()
    except (RuntimeError, ValueError):
        return True
    return False


# ----------------------------------------------------------------------------- conv_transpose

# Every combination of stride, padding, output_padding, dilation and groups.
GRID = [dict(zip(("stride", "padding", "output_padding", "dilation", "groups"), values))
        for values in itertools.product((1, 2, 3), (0, 1, 2), (0, 1, 2), (1, 2), (1, 2))]


def _grid_id(kw: dict[str, int]) -> str:
    return "s{stride}p{padding}op{output_padding}d{dilation}g{groups}".format(**kw)


@pytest.mark.parametrize("kw", GRID, ids=_grid_id)
def test_conv_transpose2d_every_argument_combination(kw: dict[str, int]) -> None:
    """Values, gradients to input, weight and bias, second derivatives (float64); where
    PyTorch refuses the combination (output_padding too large, output too small), we
    refuse it too."""
    x, w = randn(2, 4, 3, 4, seed=1), randn(4, 3, 2, 3, seed=2)
    b = randn(3 * kw["groups"], seed=3)
    tx, tw = torch.tensor(x), torch.tensor(w)
    if _torch_raises(lambda: TF.conv_transpose2d(tx, tw, **kw)):
        with pytest.raises((ValueError, ShapeError)):
            GF.conv_transpose2d(tg.tensor(x), tg.tensor(w), **kw)
        return
    check_function(lambda a, c, d: GF.conv_transpose2d(a, c, d, **kw),
                   lambda a, c, d: TF.conv_transpose2d(a, c, d, **kw), [x, w, b],
                   what=f"conv_transpose2d {kw}")


@pytest.mark.parametrize("kw", GRID, ids=_grid_id)
def test_conv_transpose1d_every_argument_combination(kw: dict[str, int]) -> None:
    x, w = randn(2, 2, 4, seed=4), randn(2, 2, 3, seed=5)
    tx, tw = torch.tensor(x), torch.tensor(w)
    if _torch_raises(lambda: TF.conv_transpose1d(tx, tw, **kw)):
        with pytest.raises((ValueError, ShapeError)):
            GF.conv_transpose1d(tg.tensor(x), tg.tensor(w), **kw)
        return
    check_function(lambda a, c: GF.conv_transpose1d(a, c, **kw),
                   lambda a, c: TF.conv_transpose1d(a, c, **kw), [x, w],
                   what=f"conv_transpose1d {kw}")


TRANSPOSED_TUPLES = {
    "2d": (randn(1, 2, 3, 4, seed=6), randn(2, 3, 3, 2, seed=7),
           {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2),
            "dilation": (1, 2)}),
    "3d": (randn(1, 2, 3, 2, 3, seed=8), randn(2, 2, 2, 3, 2, seed=9),
           {"stride": (2, 1, 3), "padding": 1, "output_padding": (1, 0, 2)}),
    "3d_groups_dilation": (randn(2, 4, 2, 3, 2, seed=10), randn(4, 1, 2, 2, 2, seed=11),
                           {"groups": 2, "dilation": (2, 1, 3), "output_padding": (1, 0, 0),
                            "stride": (1, 2, 1)}),
}


@pytest.mark.parametrize("name", list(TRANSPOSED_TUPLES))
def test_conv_transpose_tuples_and_3d(name: str) -> None:
    x, w, kw = TRANSPOSED_TUPLES[name]
    ours = GF.conv_transpose2d if x.ndim == 4 else GF.conv_transpose3d
    theirs = TF.conv_transpose2d if x.ndim == 4 else TF.conv_transpose3d
    b = randn(w.shape[1] * kw.get("groups", 1), seed=12)
    check_function(lambda a, c, d: ours(a, c, d, **kw), lambda a, c, d: theirs(a, c, d, **kw),
                   [x, w, b], what=f"conv_transpose {name}")


def test_conv_transpose_float32_values_and_gradients() -> None:
    x, w = randn(2, 4, 5, 4, seed=13, dtype=np.float32), randn(4, 3, 3, 3, seed=14,
                                                               dtype=np.float32)
    b = randn(6, seed=15, dtype=np.float32)
    kw = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}
    check_function(lambda a, c, d: GF.conv_transpose2d(a, c, d, **kw),
                   lambda a, c, d: TF.conv_transpose2d(a, c, d, **kw), [x, w, b],
                   second=False, what="conv_transpose2d float32")


def test_conv_transpose_positional_and_keyword_calls() -> None:
    x, w, b = randn(1, 4, 3, 3, seed=16), randn(4, 1, 2, 2, seed=17), randn(2, seed=18)
    # input, weight, bias, stride, padding, output_padding, groups, dilation
    check_function(lambda a, c, d: GF.conv_transpose2d(a, c, d, 2, 1, 1, 2, 2),
                   lambda a, c, d: TF.conv_transpose2d(a, c, d, 2, 1, 1, 2, 2), [x, w, b],
                   what="conv_transpose2d positional")
    check_function(
        lambda a, c, d: GF.conv_transpose2d(input=a, weight=c, bias=d, dilation=2, groups=2,
                                            output_padding=1, padding=1, stride=2),
        lambda a, c, d: TF.conv_transpose2d(input=a, weight=c, bias=d, dilation=2, groups=2,
                                            output_padding=1, padding=1, stride=2),
        [x, w, b], what="conv_transpose2d keywords")
    x1, w1 = randn(2, 3, 5, seed=19), randn(3, 2, 3, seed=20)
    check_function(lambda a, c: GF.conv_transpose1d(a, c, None, 3, 2, 2, 1, 1),
                   lambda a, c: TF.conv_transpose1d(a, c, None, 3, 2, 2, 1, 1), [x1, w1],
                   what="conv_transpose1d positional")


def test_conv_transpose_unbatched_empty_and_int_inputs() -> None:
    w = randn(3, 2, 2, 2, seed=21)
    check_function(lambda a, c: GF.conv_transpose2d(a, c, stride=2),
                   lambda a, c: TF.conv_transpose2d(a, c, stride=2),
                   [randn(3, 4, 3, seed=22), w], what="unbatched (C, H, W)")
    check_function(lambda a, c: GF.conv_transpose1d(a, c),
                   lambda a, c: TF.conv_transpose1d(a, c),
                   [randn(3, 4, seed=23), randn(3, 2, 3, seed=24)], what="unbatched (C, L)")
    check_function(lambda a, c: GF.conv_transpose2d(a, c, padding=1),
                   lambda a, c: TF.conv_transpose2d(a, c, padding=1),
                   [np.zeros((0, 3, 4, 3)), w], what="empty batch")
    xi = np.arange(2 * 3 * 3 * 2).reshape(2, 3, 3, 2) - 10
    wi = np.arange(3 * 2 * 2 * 2).reshape(3, 2, 2, 2) % 5 - 2
    ours, theirs = pair(xi), pair(wi)
    exact(GF.conv_transpose2d(ours[0], theirs[0], stride=2, padding=1),
          TF.conv_transpose2d(ours[1], theirs[1], stride=2, padding=1), what="int64")


def test_conv_transpose_is_the_input_gradient_of_conv() -> None:
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> with the same stride, padding,
    dilation and groups: the two are adjoint."""
    x, w = randn(2, 4, 7, 6, seed=25), randn(6, 2, 3, 2, seed=26)
    kw = {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}
    y = GF.conv2d(tg.tensor(x), tg.tensor(w), **kw)
    u = randn(*y.shape, seed=27)
    back = GF.conv_transpose2d(tg.tensor(u), tg.tensor(w), output_padding=(0, 0), **kw)
    np.testing.assert_allclose(float((y * tg.tensor(u)).sum().item()),
                               float((back * tg.tensor(x)).sum().item()), rtol=1e-12)


TRANSPOSED_ERRORS = {
    "output_padding_not_smaller": ((1, 2, 3, 3), (2, 2, 3, 3), {"stride": 2,
                                                                "output_padding": 2}),
    "output_padding_stride1": ((1, 2, 3, 3), (2, 2, 3, 3), {"output_padding": 1}),
    "output_too_small": ((1, 2, 2, 2), (2, 2, 2, 2), {"padding": 2}),
    "channels": ((1, 3, 3, 3), (2, 2, 3, 3), {}),
    "groups_do_not_divide": ((1, 4, 3, 3), (4, 2, 3, 3), {"groups": 3}),
    "groups_zero": ((1, 2, 3, 3), (2, 2, 3, 3), {"groups": 0}),
    "stride_zero": ((1, 2, 3, 3), (2, 2, 3, 3), {"stride": 0}),
    "negative_padding": ((1, 2, 3, 3), (2, 2, 3, 3), {"padding": -1}),
    "negative_output_padding": ((1, 2, 3, 3), (2, 2, 3, 3), {"output_padding": -1}),
    "stride_three_values": ((1, 2, 3, 3), (2, 2, 3, 3), {"stride": (1, 2, 3)}),
    "input_2d": ((2, 3), (2, 2, 3, 3), {}),
    "weight_3d": ((1, 2, 3, 3), (2, 2, 3), {}),
    "bias_shape": ((1, 2, 3, 3), (2, 3, 3, 3), {"bias": (2,)}),
}


@pytest.mark.parametrize("name", list(TRANSPOSED_ERRORS))
def test_conv_transpose2d_errors_as_pytorch(name: str) -> None:
    xs, ws, kw = TRANSPOSED_ERRORS[name]
    kw = dict(kw)
    bias_shape = kw.pop("bias", None)
    x, w = randn(*xs, seed=28), randn(*ws, seed=29)
    b = None if bias_shape is None else randn(*bias_shape, seed=30)
    assert _torch_raises(lambda: TF.conv_transpose2d(
        torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b), **kw))
    with pytest.raises((ValueError, ShapeError)) as info:
        GF.conv_transpose2d(tg.tensor(x), tg.tensor(w), None if b is None else tg.tensor(b),
                            **kw)
    assert str(info.value).startswith("conv_transpose2d: ")
    if name.startswith("output_padding"):
        assert "output_padding must be smaller than either stride or dilation" in str(
            info.value)


# ----------------------------------------------------------------------------- ConvTranspose layers

LAYER_CASES = {
    "1d": (gnn.ConvTranspose1d, tnn.ConvTranspose1d, (4, 6, 3),
           {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, (2, 4, 5)),
    "2d": (gnn.ConvTranspose2d, tnn.ConvTranspose2d, (4, 6, (3, 2)),
           {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2,
            "output_padding": (1, 1)}, (2, 4, 4, 3)),
    "2d_no_bias": (gnn.ConvTranspose2d, tnn.ConvTranspose2d, (3, 2, 2), {"bias": False},
                   (1, 3, 3, 3)),
    "3d": (gnn.ConvTranspose3d, tnn.ConvTranspose3d, (2, 3, 2), {"stride": 2},
           (1, 2, 2, 3, 2)),
}


@pytest.mark.parametrize("name", list(LAYER_CASES))
def test_conv_transpose_layer_matches_pytorch(name: str) -> None:
    ours_cls, torch_cls, args, kw, shape = LAYER_CASES[name]
    torch.manual_seed(0)
    theirs = torch_cls(*args, **kw).double()
    ours = ours_cls(*args, **kw, dtype=tg.float64)
    assert repr(ours).split("  #")[0] == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    copy_torch_weights(ours, theirs)
    x = randn(*shape, seed=31)
    ours_x, theirs_x = pair(x, requires_grad=True)
    y_o, y_t = ours(ours_x), theirs(theirs_x)
    assert_close(y_o, y_t.detach(), what=f"{name} forward")
    up = randn(*y_t.shape, seed=32)
    (y_t * torch.tensor(up)).sum().backward()
    (y_o * tg.tensor(up)).sum().backward()
    assert_grads_close(ours, theirs, what=name)
    assert_close(ours_x.grad, theirs_x.grad, what=f"{name} input grad")
    # unbatched input
    assert_close(ours(tg.tensor(x[0])), theirs(torch.tensor(x[0])).detach(),
                 what=f"{name} unbatched")


def test_conv_transpose_layer_state_dict_loads_into_pytorch() -> None:
    tg.manual_seed(3)
    ours = gnn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    theirs = tnn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = randn(2, 4, 3, 3, seed=33, dtype=np.float32)
    assert_close(ours(tg.tensor(x)), theirs(torch.tensor(x)).detach())


@pytest.mark.parametrize("size", [(9, 10), [2, 6, 10, 9], (10, 10)])
def test_conv_transpose_layer_output_size(size: Any) -> None:
    theirs = tnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1).double()
    ours = gnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, dtype=tg.float64)
    copy_torch_weights(ours, theirs)
    x = randn(2, 4, 5, 5, seed=34)
    assert_close(ours(tg.tensor(x), output_size=size),
                 theirs(torch.tensor(x), output_size=size).detach())
    assert_close(ours(tg.tensor(x), size), theirs(torch.tensor(x), size).detach())


@pytest.mark.parametrize("size", [(11, 9), (8, 9), (10,), (1, 2, 3)])
def test_conv_transpose_layer_bad_output_size(size: Any) -> None:
    theirs = tnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    ours = gnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    x = randn(2, 4, 5, 5, seed=35, dtype=np.float32)
    with pytest.raises(ValueError):
        theirs(torch.tensor(x), output_size=size)
    with pytest.raises(ValueError, match="ConvTranspose2d"):
        ours(tg.tensor(x), output_size=size)


def test_conv_transpose_layer_init_statistics_and_seed() -> None:
    """PyTorch's init: weight and bias uniform in +-1/sqrt(fan_in) with fan_in =
    out_channels / groups * prod(kernel_size) (the weight's axis 1); reproducible."""
    tg.manual_seed(0)
    layer = gnn.ConvTranspose2d(8, 64, 3, groups=2)
    bound = 1 / np.sqrt(32 * 9)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (8, 32, 3, 3) and b.shape == (64,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)  # U(-a, a): a/sqrt 3
    assert np.abs(b).max() > 0.8 * bound  # the bias uses the same bound, not a smaller one
    tg.manual_seed(0)
    again = gnn.ConvTranspose2d(8, 64, 3, groups=2)
    np.testing.assert_array_equal(again.weight.numpy(), w)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize("kw", [{"padding_mode": "reflect"}, {"padding": "same"},
                                {"groups": 4}, {"kernel_size": 0}])
def test_conv_transpose_layer_refuses_bad_arguments(kw: dict[str, Any]) -> None:
    args = {"in_channels": 2, "out_channels": 6, "kernel_size": 3, **kw}
    if "padding" not in kw:  # PyTorch accepts padding='same' here (and fails later)
        with pytest.raises((ValueError, RuntimeError)):
            tnn.ConvTranspose2d(**args)(torch.randn(1, 2, 3, 3))
    with pytest.raises(ValueError, match="ConvTranspose2d"):
        gnn.ConvTranspose2d(**args)


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


# ----------------------------------------------------------------------------- conv3d

CONV3D: dict[str, tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = {
    "plain": ((2, 3, 4, 5, 4), (4, 3, 2, 3, 2), {}),
    "stride": ((1, 2, 5, 5, 6), (3, 2, 3, 2, 2), {"stride": 2}),
    "stride_tuple": ((1, 2, 5, 5, 6), (3, 2, 2, 2, 3), {"stride": (2, 1, 3)}),
    "padding": ((1, 2, 3, 4, 3), (2, 2, 3, 3, 3), {"padding": 1}),
    "padding_tuple": ((1, 2, 3, 4, 3), (2, 2, 3, 2, 3), {"padding": (2, 0, 1)}),
    "same_odd": ((1, 2, 4, 3, 5), (3, 2, 3, 3, 3), {"padding": "same"}),
    "same_even_dilated": ((1, 2, 6, 5, 4), (2, 2, 2, 3, 2), {"padding": "same",
                                                             "dilation": (2, 1, 1)}),
    "valid": ((1, 2, 4, 5, 4), (3, 2, 3, 3, 2), {"padding": "valid"}),
    "dilation": ((1, 2, 5, 6, 5), (2, 2, 2, 3, 2), {"dilation": (2, 2, 3)}),
    "groups": ((2, 4, 4, 4, 4), (6, 2, 2, 2, 2), {"groups": 2}),
    "depthwise": ((1, 3, 4, 4, 3), (3, 1, 3, 3, 3), {"groups": 3, "padding": 1}),
    "everything": ((2, 4, 6, 5, 7), (4, 2, 3, 2, 2), {"stride": (2, 1, 2),
                                                      "padding": (1, 2, 0),
                                                      "dilation": (1, 2, 3), "groups": 2}),
}


@pytest.mark.parametrize("name", list(CONV3D))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_conv3d_float64(name: str, bias: bool) -> None:
    xs, ws, kw = CONV3D[name]
    x, w, b = randn(*xs, seed=60), randn(*ws, seed=61), randn(ws[0], seed=62)
    if bias:
        check_function(lambda a, c, d: GF.conv3d(a, c, d, **kw),
                       lambda a, c, d: TF.conv3d(a, c, d, **kw), [x, w, b], what=name)
    else:
        check_function(lambda a, c: GF.conv3d(a, c, **kw), lambda a, c: TF.conv3d(a, c, **kw),
                       [x, w], what=name)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_conv3d_float32_positional_keywords_and_int() -> None:
    x = randn(1, 4, 5, 4, 5, seed=63, dtype=np.float32)
    w, b = randn(4, 2, 3, 2, 3, seed=64, dtype=np.float32), randn(4, seed=65, dtype=np.float32)
    check_function(lambda a, c, d: GF.conv3d(a, c, d, 2, 1, 1, 2),
                   lambda a, c, d: TF.conv3d(a, c, d, 2, 1, 1, 2), [x, w, b], second=False,
                   what="conv3d(x, w, b, stride, padding, dilation, groups) float32")
    check_function(
        lambda a, c: GF.conv3d(input=a, weight=c, padding="same", dilation=(1, 2, 1)),
        lambda a, c: TF.conv3d(input=a, weight=c, padding="same", dilation=(1, 2, 1)),
        [x, randn(3, 4, 2, 3, 2, seed=66, dtype=np.float32)], second=False,
        what="conv3d keywords")
    xi = np.arange(2 * 2 * 3 * 3 * 3).reshape(2, 2, 3, 3, 3) - 40
    wi = np.arange(3 * 2 * 2 * 2 * 2).reshape(3, 2, 2, 2, 2) % 7 - 3
    (ours_x, theirs_x), (ours_w, theirs_w) = pair(xi), pair(wi)
    exact(GF.conv3d(ours_x, ours_w, stride=2, padding=1),
          TF.conv3d(theirs_x, theirs_w, stride=2, padding=1), what="conv3d int64")
    check_function(lambda a, c: GF.conv3d(a, c), lambda a, c: TF.conv3d(a, c),
                   [np.zeros((0, 2, 3, 3, 3)), randn(3, 2, 2, 2, 2, seed=67)],
                   what="conv3d empty batch")


CONV3D_ERRORS = {
    "input_4d_unbatched": ((2, 4, 4, 4), (3, 2, 2, 2, 2), {}),
    "weight_4d": ((1, 2, 4, 4, 4), (3, 2, 2, 2), {}),
    "channels": ((1, 3, 4, 4, 4), (3, 2, 2, 2, 2), {}),
    "groups_do_not_divide": ((1, 4, 4, 4, 4), (3, 2, 2, 2, 2), {"groups": 2}),
    "kernel_too_large": ((1, 2, 2, 4, 4), (3, 2, 3, 2, 2), {}),
    "same_strided": ((1, 2, 4, 4, 4), (3, 2, 2, 2, 2), {"padding": "same", "stride": 2}),
    "stride_two_values": ((1, 2, 4, 4, 4), (3, 2, 2, 2, 2), {"stride": (1, 2)}),
    "negative_padding": ((1, 2, 4, 4, 4), (3, 2, 2, 2, 2), {"padding": -1}),
}


@pytest.mark.parametrize("name", list(CONV3D_ERRORS))
def test_conv3d_errors(name: str) -> None:
    """PyTorch refuses these too (an unbatched 4-D input aside: PyTorch accepts it, and
    ours asks for the batch axis, as conv1d and conv2d do here)."""
    xs, ws, kw = CONV3D_ERRORS[name]
    x, w = randn(*xs, seed=68), randn(*ws, seed=69)
    if name != "input_4d_unbatched":
        assert _torch_raises(lambda: TF.conv3d(torch.tensor(x), torch.tensor(w), **kw))
    with pytest.raises((ValueError, ShapeError), match="^conv3d: "):
        GF.conv3d(tg.tensor(x), tg.tensor(w), **kw)


CONV3D_LAYERS = {
    "plain": ((2, 4, 3), {}),
    "padding_tuple_groups": ((4, 6, (3, 2, 2)), {"padding": (1, 0, 1), "groups": 2,
                                                  "stride": (1, 2, 1)}),
    "same_reflect": ((2, 3, 3), {"padding": "same", "padding_mode": "reflect"}),
    "replicate": ((2, 3, 2), {"padding": 1, "padding_mode": "replicate", "bias": False}),
    "circular_dilated": ((2, 3, 3), {"padding": 2, "padding_mode": "circular",
                                     "dilation": 2}),
    "same_even_zeros": ((2, 3, (2, 3, 4)), {"padding": "same"}),
}


@pytest.mark.parametrize("name", list(CONV3D_LAYERS))
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_conv3d_layer_matches_pytorch(name: str) -> None:
    args, kw = CONV3D_LAYERS[name]
    torch.manual_seed(1)
    theirs = tnn.Conv3d(*args, **kw).double()
    ours = gnn.Conv3d(*args, **kw, dtype=tg.float64)
    assert repr(ours).split("  #")[0] == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    copy_torch_weights(ours, theirs)
    x = randn(2, args[0], 5, 6, 5, seed=70)
    ours_x, theirs_x = pair(x, requires_grad=True)
    y_o, y_t = ours(ours_x), theirs(theirs_x)
    assert_close(y_o, y_t.detach(), what=f"Conv3d {name}")
    up = randn(*y_t.shape, seed=71)
    (y_t * torch.tensor(up)).sum().backward()
    (y_o * tg.tensor(up)).sum().backward()
    assert_grads_close(ours, theirs, what=f"Conv3d {name}")
    assert_close(ours_x.grad, theirs_x.grad, what=f"Conv3d {name} input grad")
    assert_close(ours(tg.tensor(x[0])), theirs(torch.tensor(x[0])).detach(),
                 what=f"Conv3d {name} unbatched")


def test_conv3d_layer_init_and_state_dict_into_pytorch() -> None:
    tg.manual_seed(5)
    ours = gnn.Conv3d(6, 16, 3, groups=2)
    bound = 1 / np.sqrt(3 * 27)
    w = ours.weight.numpy()
    assert w.shape == (16, 3, 3, 3, 3) and np.abs(w).max() <= bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)
    assert np.abs(ours.bias.numpy()).max() <= bound
    tg.manual_seed(5)
    np.testing.assert_array_equal(gnn.Conv3d(6, 16, 3, groups=2).weight.numpy(), w)
    theirs = tnn.Conv3d(6, 16, 3, groups=2)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = randn(1, 6, 4, 5, 4, seed=72, dtype=np.float32)
    assert_close(ours(tg.tensor(x)), theirs(torch.tensor(x)).detach())


# ----------------------------------------------------------------------------- 3-D pooling

POOL3D: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {
    "k2": ((2, 3, 4, 6, 4), {"kernel_size": 2}),
    "k3_s1": ((1, 2, 4, 5, 4), {"kernel_size": 3, "stride": 1}),
    "tuples": ((1, 2, 6, 5, 7), {"kernel_size": (3, 2, 2), "stride": (2, 1, 3)}),
    "padding": ((1, 2, 5, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    "padding_tuple": ((1, 2, 4, 6, 5), {"kernel_size": (2, 3, 2), "padding": (1, 1, 0)}),
    "ceil": ((1, 2, 5, 7, 5), {"kernel_size": 2, "ceil_mode": True}),
    "ceil_stride_padding": ((1, 1, 6, 7, 5), {"kernel_size": 3, "stride": 2, "padding": 1,
                                              "ceil_mode": True}),
}
MAX3D_ONLY = {
    "dilation": ((1, 2, 6, 5, 6), {"kernel_size": 2, "stride": 1, "dilation": (2, 1, 2)}),
}
AVG3D_ONLY = {
    "exclude_pad": ((1, 2, 5, 5, 4), {"kernel_size": 3, "stride": 2, "padding": 1,
                                      "count_include_pad": False}),
    "ceil_exclude_pad": ((1, 1, 6, 7, 5), {"kernel_size": 3, "stride": 2, "padding": 1,
                                           "ceil_mode": True, "count_include_pad": False}),
    "divisor_override": ((1, 2, 4, 6, 4), {"kernel_size": 3, "padding": 1,
                                           "divisor_override": 5}),
}


@pytest.mark.parametrize("name", list(POOL3D) + list(MAX3D_ONLY))
def test_max_pool3d(name: str) -> None:
    shape, kw = {**POOL3D, **MAX3D_ONLY}[name]
    x = randn(*shape, seed=73)
    check_function(lambda t: GF.max_pool3d(t, **kw), lambda t: TF.max_pool3d(t, **kw), [x],
                   what=f"max_pool3d {name}")
    check_function(lambda t: GF.max_pool3d(t, **kw), lambda t: TF.max_pool3d(t, **kw), [x[0]],
                   what=f"max_pool3d {name} unbatched")
    x32 = randn(*shape, seed=74, dtype=np.float32)
    check_function(lambda t: GF.max_pool3d(t, **kw), lambda t: TF.max_pool3d(t, **kw), [x32],
                   second=False, what=f"max_pool3d {name} float32")
    values, indices = GF.max_pool3d(tg.tensor(x), return_indices=True, **kw)
    expected = TF.max_pool3d(torch.tensor(x), return_indices=True, **kw)
    assert_close(values, expected[0])
    exact(indices, expected[1], what=f"max_pool3d {name} indices")


@pytest.mark.parametrize("name", list(POOL3D) + list(AVG3D_ONLY))
def test_avg_pool3d(name: str) -> None:
    shape, kw = {**POOL3D, **AVG3D_ONLY}[name]
    x = randn(*shape, seed=75)
    check_function(lambda t: GF.avg_pool3d(t, **kw), lambda t: TF.avg_pool3d(t, **kw), [x],
                   what=f"avg_pool3d {name}")
    check_function(lambda t: GF.avg_pool3d(t, **kw), lambda t: TF.avg_pool3d(t, **kw), [x[0]],
                   what=f"avg_pool3d {name} unbatched")
    x32 = randn(*shape, seed=76, dtype=np.float32)
    check_function(lambda t: GF.avg_pool3d(t, **kw), lambda t: TF.avg_pool3d(t, **kw), [x32],
                   second=False, what=f"avg_pool3d {name} float32")


INT_POOLS = [("avg_pool1d", (1, 2, 9), {"kernel_size": 2}),
             ("avg_pool1d", (1, 2, 9), {"kernel_size": 3, "stride": 1, "padding": 1,
                                        "count_include_pad": False}),
             ("avg_pool2d", (1, 2, 5, 6), {"kernel_size": 3, "stride": 2, "padding": 1,
                                           "ceil_mode": True}),
             ("avg_pool2d", (1, 2, 5, 6), {"kernel_size": 2, "divisor_override": -3}),
             ("avg_pool3d", (1, 2, 4, 5, 4), {"kernel_size": 2}),
             ("avg_pool3d", (1, 2, 4, 5, 4), {"kernel_size": 3, "stride": 2, "padding": 1,
                                              "count_include_pad": False}),
             ("max_pool3d", (1, 2, 4, 5, 4), {"kernel_size": 2, "padding": 1})]


@pytest.mark.parametrize("op,shape,kw", INT_POOLS)
def test_pooling_of_int64_as_pytorch(op: str, shape: tuple[int, ...], kw: dict[str, Any]
                                     ) -> None:
    """int64 in, int64 out; an average is rounded toward zero, as PyTorch."""
    x = np.random.default_rng(77).permutation(int(np.prod(shape))).reshape(shape) - 30
    ours, theirs = pair(x)
    exact(getattr(GF, op)(ours, **kw), getattr(TF, op)(theirs, **kw), what=f"{op} {kw}")


@pytest.mark.parametrize("kw", [{"kernel_size": 4}, {"kernel_size": 2, "padding": 2},
                                {"kernel_size": 2, "stride": 0}])
def test_pool3d_errors(kw: dict[str, Any]) -> None:
    x = randn(1, 2, 3, 4, 4, seed=78)
    for ours, theirs in [(GF.max_pool3d, TF.max_pool3d), (GF.avg_pool3d, TF.avg_pool3d)]:
        assert _torch_raises(lambda f=theirs: f(torch.tensor(x), **kw))
        with pytest.raises((ValueError, ShapeError), match=f"^{ours.__name__}: "):
            ours(tg.tensor(x), **kw)
    with pytest.raises(ShapeError, match="max_pool3d: expected a 4-D or 5-D input"):
        GF.max_pool3d(tg.tensor(x[0, 0]), 2)


def test_pool3d_layers() -> None:
    x = randn(2, 3, 6, 5, 6, seed=79)
    for ours, theirs in [
            (gnn.MaxPool3d(2), tnn.MaxPool3d(2)),
            (gnn.MaxPool3d((3, 2, 2), stride=(2, 1, 2), padding=1, dilation=(1, 2, 1),
                           ceil_mode=True),
             tnn.MaxPool3d((3, 2, 2), stride=(2, 1, 2), padding=1, dilation=(1, 2, 1),
                           ceil_mode=True)),
            (gnn.AvgPool3d(2), tnn.AvgPool3d(2)),
            (gnn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
             tnn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
            (gnn.AvgPool3d(3, 1, 1, divisor_override=7), tnn.AvgPool3d(3, 1, 1,
                                                                      divisor_override=7))]:
        assert repr(ours).split("  #")[0] == repr(theirs)
        check_function(ours, theirs, [x], what=repr(theirs))
    values, indices = gnn.MaxPool3d(2, return_indices=True)(tg.tensor(x))
    expected = tnn.MaxPool3d(2, return_indices=True)(torch.tensor(x))
    exact(indices, expected[1])


@pytest.mark.parametrize("op,x_shape,w_shape,kw", [
    ("conv1d", (0, 2, 5), (3, 2, 2), {}),
    ("conv2d", (0, 2, 4, 4), (3, 2, 3, 3), {"padding": 1}),
    ("conv2d", (0, 4, 5, 4), (2, 2, 2, 2), {"groups": 2, "stride": 2}),
    ("conv3d", (0, 4, 3, 4, 3), (2, 2, 2, 2, 2), {"groups": 2})])
def test_convolution_of_an_empty_batch_has_gradients(op: str, x_shape: tuple[int, ...],
                                                     w_shape: tuple[int, ...],
                                                     kw: dict[str, Any]) -> None:
    """The fused convolution's backward once reshaped with -1, which fails for a batch
    of 0: the weight's gradient is zero, the input's is empty, as PyTorch."""
    check_function(lambda a, c: getattr(GF, op)(a, c, **kw),
                   lambda a, c: getattr(TF, op)(a, c, **kw),
                   [np.zeros(x_shape), randn(*w_shape, seed=80)], what=f"{op} empty batch")
