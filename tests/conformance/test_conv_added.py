"""The transposed convolutions added for issue 19, against PyTorch 2.13:
F.conv_transpose1d/2d/3d and nn.ConvTranspose1d/2d/3d. Values, gradients and second
derivatives (float64) over every combination of stride, padding, output_padding, dilation
and groups, float32 values and gradients, int inputs, unbatched and empty inputs,
positional and keyword calls, the errors, and the layers' parameters, init, output_size
and state_dict exchange. Unfold/fold and the 3-D forms are in test_conv_added_fold.py and
test_conv_added_3d.py.

Deliberate difference asserted here: ConvTranspose*d refuses a string padding at
construction (PyTorch accepts 'same' there and fails later)."""

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
    b = randn(2 * kw["groups"], seed=6)
    tx, tw = torch.tensor(x), torch.tensor(w)
    if _torch_raises(lambda: TF.conv_transpose1d(tx, tw, **kw)):
        with pytest.raises((ValueError, ShapeError)):
            GF.conv_transpose1d(tg.tensor(x), tg.tensor(w), **kw)
        return
    check_function(lambda a, c, d: GF.conv_transpose1d(a, c, d, **kw),
                   lambda a, c, d: TF.conv_transpose1d(a, c, d, **kw), [x, w, b],
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


def test_conv_autoencoder_training_trajectory_matches_pytorch() -> None:
    """Conv2d -> ReLU -> ConvTranspose2d (stride 2, output_padding 1) trained with SGD for
    a few steps: the same losses and weights as PyTorch's after every step."""
    torch.manual_seed(2)
    theirs = tnn.Sequential(tnn.Conv2d(2, 4, 3, stride=2, padding=1), tnn.ReLU(),
                            tnn.ConvTranspose2d(4, 2, 3, stride=2, padding=1,
                                                output_padding=1)).double()
    ours = gnn.Sequential(gnn.Conv2d(2, 4, 3, stride=2, padding=1, dtype=tg.float64),
                          gnn.ReLU(),
                          gnn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1,
                                              dtype=tg.float64))
    copy_torch_weights(ours, theirs)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    opt_o = tg.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    x = randn(3, 2, 6, 6, seed=36)
    for step in range(4):
        loss_t = TF.mse_loss(theirs(torch.tensor(x)), torch.tensor(x))
        loss_o = GF.mse_loss(ours(tg.tensor(x)), tg.tensor(x))
        assert_close(loss_o, loss_t.detach(), what=f"loss at step {step}")
        opt_t.zero_grad()
        opt_o.zero_grad()
        loss_t.backward()
        loss_o.backward()
        opt_t.step()
        opt_o.step()
    for (name, p_o), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p_o, p_t.detach(), what=name)
