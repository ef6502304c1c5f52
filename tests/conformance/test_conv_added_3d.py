"""The 3-D convolution family (issue 19) against PyTorch 2.13: F.conv3d, nn.Conv3d,
F.max_pool3d/avg_pool3d, nn.MaxPool3d/AvgPool3d; integer average pooling (int64, rounded
toward zero, as PyTorch, in 1-D, 2-D and 3-D); convolutions of an empty batch."""

from __future__ import annotations

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
from .test_conv_added import _torch_raises

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
