"""nn modules against torch.nn: the same architecture written once (`make_*(nn, lib)`) and
built with both libraries; state_dict keys and shapes, weights moved both ways, outputs and
gradients in train and eval mode, running statistics, containers, module utilities
(parameters(), named_*, train/eval, zero_grad, requires_grad_). Single layers:
test_layers.py."""

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


def test_shared_submodule_listed_under_every_name() -> None:
    """A module reachable under two attribute names: PyTorch's state_dict lists its tensors
    under both names; named_modules/named_parameters list them once."""

    def make(nn: Any) -> Any:
        class Shared(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc = nn.Linear(3, 3)
                self.again = self.enc
                self.dec = nn.Linear(3, 2)

            def forward(self, x: Any) -> Any:
                return self.dec(self.again(self.enc(x)))

        return Shared()

    ours, theirs = make(gnn), make(tnn)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_reassigned_parameter_keeps_its_place() -> None:
    """`b.weight = a.weight` (weight tying) replaces the registered parameter in place:
    the names keep their order ('weight', 'bias') in PyTorch."""
    a_o, b_o = gnn.Linear(2, 2), gnn.Linear(2, 2)
    a_t, b_t = tnn.Linear(2, 2), tnn.Linear(2, 2)
    b_o.weight = a_o.weight
    b_t.weight = a_t.weight
    assert [n for n, _ in b_o.named_parameters()] == [n for n, _ in b_t.named_parameters()]
    assert list(b_o.state_dict()) == list(b_t.state_dict())


def test_tied_weights_train_alike() -> None:
    def make(nn: Any) -> Any:
        class Tied(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc = nn.Linear(3, 3)
                self.dec = nn.Linear(3, 3)
                self.dec.weight = self.enc.weight

            def forward(self, x: Any) -> Any:
                return self.dec(self.enc(x).tanh())

        return Tied()

    ours, theirs = make(gnn), make(tnn)
    assert sorted(n for n, _ in ours.named_parameters()) == sorted(
        n for n, _ in theirs.named_parameters())
    copy_torch_weights(ours, theirs)
    assert ours.dec.weight is ours.enc.weight
    xo, xt = pair(randn(2, 3, seed=62, dtype=np.float32))
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt, what="tied output")
    yo.sum().backward()
    yt.sum().backward()
    grads_o = {n: p.grad for n, p in ours.named_parameters()}
    for n, p in theirs.named_parameters():
        assert_close(grads_o[n], p.grad, what=f"tied {n}.grad")


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
