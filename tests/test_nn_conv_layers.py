"""Conv and pooling layers (forward against loop references, gradients against central
differences, errors) and F.pad's modes."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
from nn_helpers import layer_fn

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.testing import assert_gradients_match

RNG = np.random.default_rng(1)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)




# ----------------------------------------------------------------------------- convolution


def _conv_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, wd = xp.shape
    co, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, co, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w) + b
    return out


def test_conv2d_layer_forward_init_and_gradients() -> None:
    conv = nn.Conv2d(2, 3, kernel_size=3, stride=2, padding=1).double()
    assert conv.weight.shape == (3, 2, 3, 3) and conv.bias.shape == (3,)
    bound = 1 / math.sqrt(2 * 9)
    assert np.abs(conv.weight.numpy()).max() <= bound
    assert np.abs(conv.bias.numpy()).max() <= bound
    x = randn(2, 2, 5, 5)
    ref = _conv_ref(x, conv.weight.numpy(), conv.bias.numpy(), 2, 1)
    np.testing.assert_allclose(conv(torch.tensor(x)).numpy(), ref, rtol=1e-10)
    assert conv(torch.tensor(x[0])).shape == (3, 3, 3)  # unbatched (C, H, W)
    assert_gradients_match(layer_fn(conv, "weight", "bias"), randn(1, 2, 4, 4),
                           randn(3, 2, 3, 3), randn(3))
    assert "Conv2d(2, 3, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))" in repr(conv)


def test_conv_padding_modes_and_conv1d() -> None:
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect", bias=False).double()
    x = randn(1, 1, 4, 4)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    ref = _conv_ref(xp, conv.weight.numpy(), np.zeros(1), 1, 0)
    np.testing.assert_allclose(conv(torch.tensor(x)).numpy(), ref, rtol=1e-10)
    c1 = nn.Conv1d(2, 3, 2).double()
    x1 = randn(2, 2, 5)
    ref1 = _conv_ref(x1[:, :, None, :], c1.weight.numpy()[:, :, None, :], c1.bias.numpy(), 1,
                     0)[:, :, 0, :]
    np.testing.assert_allclose(c1(torch.tensor(x1)).numpy(), ref1, rtol=1e-10)


def test_conv_errors() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3))
    with pytest.raises(ValueError) as info:
        model(torch.ones(2, 1, 28, 28))
    assert str(info.value) == ("Conv2d (0): expected input of shape (N, 3, H, W) or (3, H, W) "
                               "(in_channels=3, weight of shape (8, 3, 3, 3)), got (2, 1, 28, 28)")
    with pytest.raises(ValueError, match=r"^Conv2d \(0\): conv2d: "):
        model(torch.ones(1, 3, 2, 2))  # smaller than the kernel
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' is not supported for "
                       r"strided convolutions \(stride=\(2, 2\)\), as in PyTorch"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\) "
                       r"must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")


def test_pool_layers() -> None:
    x = randn(2, 3, 4, 6)
    windows = x.reshape(2, 3, 2, 2, 3, 2)
    mp = nn.MaxPool2d(2)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(mp, windows.max(axis=(3, 5)))
    ap = nn.AvgPool2d(2)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ap, windows.mean(axis=(3, 5)))
    assert_gradients_match(nn.MaxPool2d(2, stride=1), x[:1, :1])
    assert_gradients_match(nn.AvgPool2d(3, stride=2, padding=1), x[:1])
    np.testing.assert_allclose(nn.MaxPool1d(3)(torch.tensor(x[0])).numpy(),
                               x[0].reshape(3, 4, 2, 3).max(-1))
    np.testing.assert_allclose(nn.AvgPool1d(2)(torch.tensor(x[0])).numpy(),
                               x[0].reshape(3, 4, 3, 2).mean(-1))
    with pytest.raises(ValueError, match=r"^MaxPool2d: max_pool2d: expected a 3-D or 4-D "):
        nn.MaxPool2d(2)(torch.ones(4, 4))
    with pytest.raises(ValueError, match=r"^AvgPool2d \(pool\): avg_pool2d: "):
        nn.Sequential(OrderedDict(pool=nn.AvgPool2d(5)))(torch.ones(1, 1, 4, 4))


def test_small_convnet_gradient_matches_numeric() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(2 * 3 * 3, 3)).double()
    names = [n for n, _ in model.named_parameters()]
    params = [p.numpy() for p in model.parameters()]
    assert_gradients_match(layer_fn(model, *names), randn(2, 1, 6, 6), *params)



# ----------------------------------------------------------------------------- pad


@pytest.mark.parametrize("mode, np_mode", [("constant", "constant"), ("reflect", "reflect"),
                                            ("replicate", "edge"), ("circular", "wrap")])
def test_pad_modes_match_numpy(mode: str, np_mode: str) -> None:
    x = randn(2, 3, 4)
    out = F.pad(torch.tensor(x), (1, 2, 2, 0), mode=mode)
    np.testing.assert_allclose(out.numpy(), np.pad(x, ((0, 0), (2, 0), (1, 2)), mode=np_mode))
    assert_gradients_match(lambda t: F.pad(t, (1, 2, 2, 0), mode=mode), x)


def test_pad_value_crop_and_errors() -> None:
    x = randn(3, 4)
    np.testing.assert_allclose(F.pad(torch.tensor(x), (1, 1), value=7.0).numpy(),
                               np.pad(x, ((0, 0), (1, 1)), constant_values=7.0))
    np.testing.assert_allclose(F.pad(torch.tensor(x), (-1, 2, 0, -2)).numpy(),
                               np.pad(x, ((0, 0), (0, 2)))[:1, 1:])
    with pytest.raises(ValueError, match=r"^pad: the pad tuple needs an even length"):
        F.pad(torch.tensor(x), (1, 2, 3))
    with pytest.raises(ValueError, match=r"^pad: mode must be"):
        F.pad(torch.tensor(x), (1, 1), mode="mirror")
    with pytest.raises(ValueError, match=r"^pad: reflect padding \(4, 0\) must be smaller"):
        F.pad(torch.tensor(x), (4, 0), mode="reflect")
