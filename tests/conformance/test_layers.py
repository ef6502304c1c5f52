"""Single nn layers against torch.nn: every layer with the same weights (copied from
torch), outputs and input/parameter gradients in float64; BatchNorm running statistics over
training steps and in eval; LayerNorm options; inplace activation modules; Dropout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn

from .nn_helpers import assert_grads_close, copy_torch_weights, randn
from .oracle import as_numpy, assert_close, pair

# ----------------------------------------------------------------------------- BatchNorm


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("kind,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (3, 3, 4, 2))])
def test_batchnorm_running_stats(kind: str, shape: tuple[int, ...], momentum: Any) -> None:
    ours = getattr(gnn, kind)(3, momentum=momentum, eps=1e-3)
    theirs = getattr(tnn, kind)(3, momentum=momentum, eps=1e-3).double()
    ours.double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.5, 1.5, -1.0]))
        theirs.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    copy_torch_weights(ours, theirs)
    for step in range(4):
        xo, xt = pair(randn(*shape, seed=40 + step, scale=1 + step) + step)
        assert_close(ours(xo), theirs(xt), what=f"train step {step}")
        for k in ("running_mean", "running_var", "num_batches_tracked"):
            assert_close(getattr(ours, k), getattr(theirs, k), what=f"step {step} {k}")
    ours.eval()
    theirs.eval()
    xo, xt = pair(randn(*shape, seed=50))
    assert_close(ours(xo), theirs(xt), what="eval")


def test_batchnorm_without_running_stats_or_affine() -> None:
    for kw in ({"track_running_stats": False}, {"affine": False}):
        ours, theirs = gnn.BatchNorm2d(2, **kw), tnn.BatchNorm2d(2, **kw)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for mode in ("train", "eval"):
            getattr(ours, mode)()
            getattr(theirs, mode)()
            xo, xt = pair(randn(3, 2, 2, 2, seed=51, dtype=np.float32))
            assert_close(ours(xo), theirs(xt), what=f"{kw} {mode}")


@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False},
                                {"eps": 1e-2}])
def test_layernorm_module(kw: dict[str, Any]) -> None:
    ours, theirs = gnn.LayerNorm((3, 4), **kw), tnn.LayerNorm((3, 4), **kw).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(randn(3, 4, seed=52)))
    copy_torch_weights(ours, theirs)
    ours.double()
    xo, xt = pair(randn(2, 3, 4, seed=53), requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt, what="LayerNorm")
    up = randn(2, 3, 4, seed=54)
    (yo * tg.tensor(up)).sum().backward()
    (yt * torch.tensor(up)).sum().backward()
    assert_close(xo.grad, xt.grad, what="input grad")
    assert_grads_close(ours, theirs, what="LayerNorm")


# ----------------------------------------------------------------------------- single layers

LAYERS = {
    "Linear": (lambda nn: nn.Linear(5, 3), (4, 5)),
    "Linear_no_bias": (lambda nn: nn.Linear(5, 3, bias=False), (2, 4, 5)),
    "Conv2d": (lambda nn: nn.Conv2d(2, 4, 3, stride=2, padding=1), (2, 2, 7, 6)),
    "Conv2d_same_dilation": (lambda nn: nn.Conv2d(2, 2, (3, 2), padding="same", dilation=2),
                             (1, 2, 6, 6)),
    "Conv2d_unbatched": (lambda nn: nn.Conv2d(2, 3, 2), (2, 5, 5)),
    "Conv2d_reflect": (lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                       (1, 2, 5, 4)),
    "Conv2d_circular": (lambda nn: nn.Conv2d(2, 3, 3, padding=(2, 1), padding_mode="circular"),
                        (1, 2, 5, 4)),
    "Conv2d_replicate": (lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"),
                         (1, 2, 5, 4)),
    "Conv2d_same_reflect": (lambda nn: nn.Conv2d(2, 3, (3, 4), padding="same",
                                                 padding_mode="reflect"), (1, 2, 5, 6)),
    "Conv1d": (lambda nn: nn.Conv1d(4, 2, 3, stride=2, padding=1, groups=2), (2, 4, 9)),
    "Conv1d_same_circular": (lambda nn: nn.Conv1d(2, 2, 4, padding="same",
                                                  padding_mode="circular"), (1, 2, 6)),
    "Conv1d_circular": (lambda nn: nn.Conv1d(2, 2, 3, padding=2, padding_mode="circular"),
                        (1, 2, 6)),
    "MaxPool2d": (lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                  (2, 2, 6, 7)),
    "MaxPool2d_dilation": (lambda nn: nn.MaxPool2d(2, 1, 0, 2), (1, 2, 5, 5)),
    "AvgPool2d": (lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False), (1, 2, 6, 5)),
    "AvgPool2d_ceil": (lambda nn: nn.AvgPool2d((2, 3), ceil_mode=True), (1, 2, 5, 7)),
    "MaxPool1d": (lambda nn: nn.MaxPool1d(3, 2, 1), (2, 2, 9)),
    "AvgPool1d": (lambda nn: nn.AvgPool1d(2, ceil_mode=True), (2, 2, 7)),
    "Flatten": (lambda nn: nn.Flatten(), (2, 3, 4)),
    "Flatten_0": (lambda nn: nn.Flatten(0), (2, 3, 4)),
    "Flatten_1_2": (lambda nn: nn.Flatten(1, 2), (2, 3, 4, 2)),
    "Unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), (4, 6)),
    "Identity": (lambda nn: nn.Identity(54, unused=1), (3, 2)),
    "Dropout_p0": (lambda nn: nn.Dropout(p=0.0), (3, 4)),
    "ReLU": (lambda nn: nn.ReLU(), (3, 4)),
    "LeakyReLU": (lambda nn: nn.LeakyReLU(negative_slope=0.2), (3, 4)),
    "Sigmoid": (lambda nn: nn.Sigmoid(), (3, 4)),
    "Tanh": (lambda nn: nn.Tanh(), (3, 4)),
    "SiLU": (lambda nn: nn.SiLU(), (3, 4)),
    "GELU": (lambda nn: nn.GELU(), (3, 4)),
    "GELU_tanh": (lambda nn: nn.GELU(approximate="tanh"), (3, 4)),
    "Softplus": (lambda nn: nn.Softplus(2.0, 1.0), (3, 4)),
    "ELU": (lambda nn: nn.ELU(0.5), (3, 4)),
    "Hardtanh": (lambda nn: nn.Hardtanh(min_val=-0.5, max_val=0.5), (3, 4)),
    "Softmax": (lambda nn: nn.Softmax(dim=1), (3, 4)),
    "LogSoftmax": (lambda nn: nn.LogSoftmax(0), (3, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_single_layer_float64(name: str) -> None:
    make, shape = LAYERS[name]
    torch.manual_seed(5)
    theirs = make(tnn).double()
    ours = make(gnn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_torch_weights(ours, theirs)
    ours.double()
    xo, xt = pair(randn(*shape, seed=55, scale=2.0), requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt, what=f"{name} output")
    up = randn(*yt.shape, seed=56)
    (yo * tg.tensor(up)).sum().backward()
    (yt * torch.tensor(up)).sum().backward()
    assert_close(xo.grad, xt.grad, what=f"{name} input grad")
    assert_grads_close(ours, theirs, what=name)


INPLACE_MODULES = {
    "ReLU": lambda nn: nn.ReLU(inplace=True),
    "LeakyReLU": lambda nn: nn.LeakyReLU(0.2, inplace=True),
    "ELU": lambda nn: nn.ELU(alpha=0.5, inplace=True),
    "SiLU": lambda nn: nn.SiLU(inplace=True),
    "Hardtanh": lambda nn: nn.Hardtanh(-0.5, 0.5, inplace=True),
    "Dropout_eval": lambda nn: nn.Dropout(0.3, inplace=True).eval(),
}


@pytest.mark.parametrize("name", list(INPLACE_MODULES))
def test_inplace_activation_modules(name: str) -> None:
    """`inplace=True` modules (GAN and ResNet code): the result, and the input overwritten
    as in PyTorch (on a tensor outside any graph)."""
    ours, theirs = pair(randn(3, 4, seed=65, scale=2.0))
    out_o, out_t = INPLACE_MODULES[name](gnn)(ours), INPLACE_MODULES[name](tnn)(theirs)
    assert_close(out_o, out_t, what=f"{name} result")
    assert_close(ours, theirs, what=f"{name} input after the call")


def test_max_pool_module_return_indices() -> None:
    xo, xt = pair(randn(1, 2, 6, 6, seed=57))
    vo, io = gnn.MaxPool2d(2, return_indices=True)(xo)
    vt, it = tnn.MaxPool2d(2, return_indices=True)(xt)
    assert_close(vo, vt, what="values")
    assert_close(io, it, what="indices")


def test_dropout_eval_is_identity_and_train_keeps_scale() -> None:
    ours, theirs = gnn.Dropout(0.4), tnn.Dropout(0.4)
    ours.eval()
    theirs.eval()
    xo, xt = pair(randn(50, 20, seed=58))
    assert_close(ours(xo), theirs(xt), what="Dropout eval")
    ours.train()
    out = as_numpy(ours(xo))
    kept = out != 0
    np.testing.assert_allclose(out[kept], as_numpy(xo)[kept] / 0.6, rtol=1e-6)




def test_eval_does_not_count_batches() -> None:
    ours, theirs = gnn.BatchNorm1d(3), tnn.BatchNorm1d(3)
    for m in (ours, theirs):
        m.eval()
    xo, xt = pair(randn(4, 3, seed=64, dtype=np.float32))
    assert_close(ours(xo), theirs(xt), what="eval BN")
    assert_close(ours.num_batches_tracked, theirs.num_batches_tracked, what="count")
    assert_close(ours.running_mean, theirs.running_mean, what="running_mean untouched")
