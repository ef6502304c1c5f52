"""nn modules against torch.nn: the same architecture written once (`make_*(nn, lib)`) and
built with both libraries; state_dict keys and shapes, weights moved both ways, outputs and
gradients in train and eval mode, BatchNorm running statistics, containers, module
utilities (parameters(), named_*, train/eval, zero_grad, requires_grad_)."""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn

from .nn_helpers import assert_grads_close, copy_torch_weights, randn, torch_state_as_numpy
from .oracle import NUMPY_DTYPES, as_numpy, assert_close, pair


def make_convnet(nn: Any, lib: Any) -> Any:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(4, 6, (2, 3), stride=1, padding=(0, 1), groups=2),
                nn.AvgPool2d(2, ceil_mode=True), nn.Flatten())
            self.fc = nn.Linear(12, 8)
            self.bn = nn.BatchNorm1d(8)
            self.blocks = nn.ModuleList([nn.Linear(8, 8), nn.Tanh(), nn.Dropout(0.3),
                                         nn.Linear(8, 8, bias=False)])
            self.heads = nn.ModuleDict({
                "cls": nn.Linear(8, 3),
                "aux": nn.Sequential(nn.Linear(8, 5), nn.LayerNorm(5), nn.GELU()),
            })

        def forward(self, x: Any) -> Any:
            h = self.bn(self.fc(self.features(x)))
            for block in self.blocks:
                h = block(h)
            return lib.cat([self.heads["cls"](h), self.heads["aux"](h)], 1)

    return Net()


def make_seqnet(nn: Any) -> Any:
    """Conv1d, BatchNorm1d on (N, C, L), pools and the activation modules; no dropout, so
    training mode is deterministic."""
    return nn.Sequential(
        nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ELU(alpha=0.5), nn.MaxPool1d(2),
        nn.Conv1d(4, 4, 3, padding="same", groups=2, bias=False), nn.AvgPool1d(2),
        nn.Flatten(), nn.Linear(8, 6), nn.LeakyReLU(0.1), nn.Hardtanh(-2.0, 2.0),
        nn.Linear(6, 6), nn.SiLU(), nn.Softplus(beta=2.0), nn.Linear(6, 4), nn.LogSoftmax(dim=1))


def built(double: bool = False) -> tuple[Any, Any]:
    torch.manual_seed(0)
    theirs = make_convnet(tnn, torch)
    ours = make_convnet(gnn, tg)
    if double:
        theirs.double()
    copy_torch_weights(ours, theirs)
    if double:
        ours.double()
    return ours, theirs


# ----------------------------------------------------------------------------- state dicts


def test_state_dict_keys_shapes_dtypes() -> None:
    ours, theirs = make_convnet(gnn, tg), make_convnet(tnn, torch)
    so, st = ours.state_dict(), theirs.state_dict()
    assert list(so) == list(st)
    for k in st:
        assert tuple(so[k].shape) == tuple(st[k].shape), k
        assert so[k].dtype == NUMPY_DTYPES[st[k].dtype], (k, so[k].dtype, st[k].dtype)
    s1o, s1t = make_seqnet(gnn).state_dict(), make_seqnet(tnn).state_dict()
    assert list(s1o) == list(s1t)
    assert [tuple(v.shape) for v in s1o.values()] == [tuple(v.shape) for v in s1t.values()]


@pytest.mark.parametrize("double", [False, True])
def test_torch_weights_into_ours_same_outputs_eval(double: bool) -> None:
    ours, theirs = built(double)
    ours.eval()
    theirs.eval()
    x = randn(2, 3, 6, 6, seed=1, dtype=np.float64 if double else np.float32)
    xo, xt = pair(x)
    assert_close(ours(xo), theirs(xt), what="eval output")


def test_our_weights_into_torch_same_outputs() -> None:
    ours = make_convnet(gnn, tg)
    theirs = make_convnet(tnn, torch)
    missing = theirs.load_state_dict({k: torch.tensor(as_numpy(v))
                                      for k, v in ours.state_dict().items()})
    assert not missing.missing_keys and not missing.unexpected_keys
    ours.eval()
    theirs.eval()
    xo, xt = pair(randn(3, 3, 6, 6, seed=2, dtype=np.float32))
    assert_close(ours(xo), theirs(xt), what="torch loaded with our weights")


def test_load_state_dict_of_torch_tensors_directly() -> None:
    """Users pass torch's own state_dict values (torch tensors) after converting with
    .numpy(); torch tensors from torch.load come as they are: both must load."""
    torch.manual_seed(3)
    theirs = make_seqnet(tnn)
    ours = make_seqnet(gnn)
    ours.load_state_dict(torch_state_as_numpy(theirs))
    for k, v in theirs.state_dict().items():
        assert_close(ours.state_dict()[k], v, what=k)


def test_train_mode_outputs_grads_and_running_stats() -> None:
    torch.manual_seed(4)
    theirs = make_seqnet(tnn).double()
    ours = make_seqnet(gnn)
    copy_torch_weights(ours, theirs)
    ours.double()
    ours.train()
    theirs.train()
    for step in range(3):
        xo, xt = pair(randn(5, 2, 8, seed=10 + step, scale=2.0))
        yo, yt = ours(xo), theirs(xt)
        assert_close(yo, yt, what=f"step {step} train output")
        up = randn(*yt.shape, seed=20 + step)
        ours.zero_grad()
        theirs.zero_grad()
        (yo * tg.tensor(up)).sum().backward()
        (yt * torch.tensor(up)).sum().backward()
        assert_grads_close(ours, theirs, what=f"step {step}")
        for k, v in theirs.state_dict().items():
            assert_close(ours.state_dict()[k], v, what=f"step {step} {k}")
    ours.eval()
    theirs.eval()
    xo, xt = pair(randn(4, 2, 8, seed=30))
    assert_close(ours(xo), theirs(xt), what="eval output after training")


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


# ----------------------------------------------------------------------------- module API


def test_parameters_is_a_generator_and_names_match() -> None:
    ours, theirs = make_convnet(gnn, tg), make_convnet(tnn, torch)
    assert isinstance(theirs.parameters(), types.GeneratorType)
    assert isinstance(ours.parameters(), types.GeneratorType), type(ours.parameters())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in theirs.parameters())
    assert [n for n, _ in ours.features.named_parameters(prefix="f")] == [
        n for n, _ in theirs.features.named_parameters(prefix="f")]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == []
    assert all(p.requires_grad for p in ours.parameters())
    assert all(isinstance(p, gnn.Parameter) for p in ours.parameters())


def test_train_eval_flags() -> None:
    ours, theirs = make_convnet(gnn, tg), make_convnet(tnn, torch)
    assert ours.eval() is ours and theirs.eval() is theirs
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    assert not any(m.training for m in ours.modules())
    assert ours.train() is ours
    assert all(m.training for m in ours.modules())
    ours.blocks.eval()
    theirs.train()
    theirs.blocks.eval()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    ours.train(False)
    assert not ours.training and not ours.heads["aux"][1].training


@pytest.mark.parametrize("set_to_none", [None, True, False])
def test_module_zero_grad(set_to_none: Any) -> None:
    ours, theirs = built(double=True)
    ours.eval()  # dropout off: the same gradients in both
    theirs.eval()
    xo, xt = pair(randn(2, 3, 6, 6, seed=59))
    ours(xo).sum().backward()
    theirs(xt).sum().backward()
    assert_grads_close(ours, theirs, what="before zero_grad")
    kw = {} if set_to_none is None else {"set_to_none": set_to_none}
    ours.zero_grad(**kw)
    theirs.zero_grad(**kw)
    for (n, po), pt in zip(ours.named_parameters(), theirs.parameters()):
        if pt.grad is None:
            assert po.grad is None, f"{n}.grad should be None after zero_grad({kw})"
        else:
            assert po.grad is not None, n
            assert_close(po.grad, pt.grad, what=f"{n}.grad after zero_grad({kw})")


def test_requires_grad_false() -> None:
    ours, theirs = make_seqnet(gnn), make_seqnet(tnn)
    assert ours.requires_grad_(False) is ours
    theirs.requires_grad_(False)
    assert [p.requires_grad for p in ours.parameters()] == [
        p.requires_grad for p in theirs.parameters()]
    xo, xt = pair(randn(2, 2, 8, seed=60, dtype=np.float32))
    assert ours(xo).requires_grad == theirs(xt).requires_grad is False
    ours.requires_grad_()
    assert all(p.requires_grad for p in ours.parameters())
    ours[0].requires_grad_(False)
    theirs.requires_grad_()
    theirs[0].requires_grad_(False)
    assert [p.requires_grad for p in ours.parameters()] == [
        p.requires_grad for p in theirs.parameters()]


# ----------------------------------------------------------------------------- containers


def test_sequential_indexing_and_slicing() -> None:
    ours, theirs = make_seqnet(gnn), make_seqnet(tnn)
    assert len(ours) == len(theirs)
    assert type(ours[0]).__name__ == type(theirs[0]).__name__ == "Conv1d"
    assert type(ours[-1]).__name__ == type(theirs[-1]).__name__
    so, st = ours[2:8], theirs[2:8]
    assert type(so).__name__ == "Sequential"
    assert list(so.state_dict()) == list(st.state_dict())
    assert [n for n, _ in so.named_children()] == [n for n, _ in st.named_children()]
    ours.append(gnn.Identity())
    theirs.append(tnn.Identity())
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    del ours[1]
    del theirs[1]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_sequential_from_ordered_dict() -> None:
    from collections import OrderedDict

    def make(nn: Any) -> Any:
        return nn.Sequential(OrderedDict([("fc1", nn.Linear(3, 4)), ("act", nn.ReLU()),
                                          ("fc2", nn.Linear(4, 2))]))

    ours, theirs = make(gnn), make(tnn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours.fc1).__name__ == "Linear"


def test_module_list_and_dict_operations() -> None:
    def ml(nn: Any) -> Any:
        m = nn.ModuleList([nn.Linear(2, 2)])
        m.append(nn.Linear(2, 3))
        m.extend([nn.ReLU(), nn.Linear(3, 1)])
        m.insert(1, nn.Linear(2, 2, bias=False))
        m += [nn.Tanh()]
        return m

    ours, theirs = ml(gnn), ml(tnn)
    assert len(ours) == len(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert list(ours[1:3].state_dict()) == list(theirs[1:3].state_dict())

    def md(nn: Any) -> Any:
        d = nn.ModuleDict({"b": nn.Linear(2, 2), "a": nn.Linear(2, 1)})
        d["c"] = nn.Linear(1, 1)
        d.update([("d", nn.ReLU())])
        return d

    od, td = md(gnn), md(tnn)
    assert list(od.keys()) == list(td.keys())
    assert list(od) == list(td)
    assert list(od.state_dict()) == list(td.state_dict())
    assert "a" in od and "z" not in od
    od.pop("a")
    td.pop("a")
    assert list(od.state_dict()) == list(td.state_dict())


def test_custom_module_registration() -> None:
    def make(nn: Any, lib: Any) -> Any:
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.w = nn.Parameter(lib.ones(3))
                self.register_buffer("scale", lib.ones(3) * 2)
                self.register_buffer("tmp", lib.zeros(1), persistent=False)
                self.sub = nn.Linear(3, 3)
                self.plain = lib.zeros(2)  # not registered

            def forward(self, x: Any) -> Any:
                return self.sub(x * self.w * self.scale)

        return M()

    ours, theirs = make(gnn, tg), make(tnn, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    copy_torch_weights(ours, theirs)
    xo, xt = pair(randn(2, 3, seed=61, dtype=np.float32))
    assert_close(ours(xo), theirs(xt), what="custom module")


def test_module_dtype_conversion() -> None:
    ours, theirs = make_seqnet(gnn), make_seqnet(tnn)
    for m in (ours, theirs):
        m.double()
    assert [str(p.dtype) for p in ours.parameters()] == ["float64"] * len(list(
        theirs.parameters()))
    ours.float()
    assert all(p.dtype == tg.float32 for p in ours.parameters())
    assert ours[1].num_batches_tracked.dtype == tg.int64


def test_shared_submodule_and_tied_weights() -> None:
    """A module reachable under two names: state_dict lists it under both (PyTorch), while
    parameters()/named_parameters() list each tensor once."""

    def make(nn: Any) -> Any:
        class Tied(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc = nn.Linear(3, 3)
                self.again = self.enc
                self.dec = nn.Linear(3, 3)
                self.dec.weight = self.enc.weight

            def forward(self, x: Any) -> Any:
                return self.dec(self.again(self.enc(x)))

        return Tied()

    ours, theirs = make(gnn), make(tnn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    copy_torch_weights(ours, theirs)
    xo, xt = pair(randn(2, 3, seed=62, dtype=np.float32))
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt, what="tied output")
    yo.sum().backward()
    yt.sum().backward()
    assert_grads_close(ours, theirs, what="tied")


def test_load_state_dict_strict_and_non_strict() -> None:
    ours, theirs = make_seqnet(gnn), make_seqnet(tnn)
    state = torch_state_as_numpy(theirs)
    del state["0.bias"]
    state["extra.weight"] = np.zeros(2, dtype=np.float32)
    with pytest.raises(RuntimeError):
        theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    with pytest.raises(RuntimeError):
        ours.load_state_dict(state)
    ro = ours.load_state_dict(state, strict=False)
    rt = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    assert ro.missing_keys == rt.missing_keys and ro.unexpected_keys == rt.unexpected_keys
    bad = torch_state_as_numpy(theirs)
    bad["0.weight"] = np.zeros((1, 1, 1), dtype=np.float32)
    with pytest.raises(RuntimeError):
        ours.load_state_dict(bad)


def test_deepcopy_and_apply() -> None:
    import copy

    ours, theirs = built()
    ours.eval()
    clone = copy.deepcopy(ours)
    xo = tg.tensor(randn(1, 3, 6, 6, seed=63, dtype=np.float32))
    assert_close(clone(xo), ours(xo).detach(), what="deepcopy output")
    with tg.no_grad():
        clone.fc.weight.mul_(0.0)
    seen_o: list[str] = []
    seen_t: list[str] = []
    ours.apply(lambda m: seen_o.append(type(m).__name__))
    theirs.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_o == seen_t
    assert_close(ours.fc.weight, theirs.fc.weight.detach(), what="original untouched")


def test_eval_does_not_count_batches() -> None:
    ours, theirs = gnn.BatchNorm1d(3), tnn.BatchNorm1d(3)
    for m in (ours, theirs):
        m.eval()
    xo, xt = pair(randn(4, 3, seed=64, dtype=np.float32))
    assert_close(ours(xo), theirs(xt), what="eval BN")
    assert_close(ours.num_batches_tracked, theirs.num_batches_tracked, what="count")
    assert_close(ours.running_mean, theirs.running_mean, what="running_mean untouched")
