"""nn containers (Sequential, ModuleList, ModuleDict) and nn.utils (gradient clipping,
parameter vectors, functional_call)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
from tinygrad_edu.nn.utils import functional_call

# ----------------------------------------------------------------------------- containers


def test_sequential_indexing_slicing_iteration_and_editing() -> None:
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2] and seq[np.int64(1)] is layers[1]
    with pytest.raises(TypeError, match=r"Sequential: indices must be ints or slices, got str"):
        seq["0"]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    assert list(tail.state_dict()) == ["2.weight", "2.bias"]  # names kept, as PyTorch
    x = torch.randn(4, 2)
    np.testing.assert_allclose(seq(x).numpy(), tail(seq[0](x)).numpy())
    with pytest.raises(IndexError, match=r"Sequential: index 3 is out of range for 3 modules"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Sigmoid"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    seq.insert(1, nn.Tanh())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    assert isinstance(seq.pop(1), nn.Tanh) and len(seq) == 3
    seq[2] = nn.Identity()
    assert isinstance(seq[2], nn.Identity)
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_module_list_and_module_dict() -> None:
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 2
    ml += [nn.ReLU()]
    del ml[0]
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2"]
    assert len(list(ml.parameters())) == 4
    with pytest.raises(NotImplementedError, match="ModuleList: it has no forward"):
        ml(torch.ones(1))

    md = nn.ModuleDict({"enc": nn.Linear(2, 2), "act": nn.ReLU()})
    assert list(md) == ["enc", "act"] and "enc" in md and len(md) == 2
    assert [k for k, _ in md.items()] == ["enc", "act"]
    assert list(md.state_dict()) == ["enc.weight", "enc.bias"]
    md["dec"] = nn.Linear(2, 1)
    assert isinstance(md.pop("act"), nn.ReLU) and list(md.keys()) == ["enc", "dec"]
    with pytest.raises(KeyError, match=r"ModuleDict: no module named 'zzz'"):
        md["zzz"]


# ----------------------------------------------------------------------------- utils


def test_clip_grad_norm_returns_total_norm_and_scales_once() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0], requires_grad=True)
    (a.sum() * 3.0 + b.sum() * 4.0).backward()  # grads (3, 3) and (4,)
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    expected = np.sqrt(9 + 9 + 16)
    assert abs(float(total) - expected) < 1e-5
    np.testing.assert_allclose(a.grad.numpy(), np.array([3.0, 3.0]) / (expected + 1e-6),
                               rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [4.0 / (expected + 1e-6)], rtol=1e-6)
    # x + y hands both leaves one gradient array: each must be scaled exactly once
    x = torch.ones(2, requires_grad=True)
    y = torch.ones(2, requires_grad=True)
    (x + y).backward(torch.tensor([3.0, 4.0]))
    nn.utils.clip_grad_norm_([x, y], max_norm=1.0)
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy())
    np.testing.assert_allclose(np.sqrt((x.grad.numpy() ** 2).sum() * 2), 1.0, rtol=1e-5)


def test_clip_grad_norm_inf_norm_no_clip_and_nonfinite_error() -> None:
    p = torch.tensor([0.1, -0.2], requires_grad=True)
    (p * torch.tensor([1.0, -3.0])).sum().backward()
    total = nn.utils.clip_grad_norm_(p, max_norm=10.0, norm_type=float("inf"))
    assert abs(float(total) - 3.0) < 1e-6
    np.testing.assert_allclose(p.grad.numpy(), [1.0, -3.0])  # below max_norm: untouched
    p.grad = torch.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 "
                       r"of the gradients is inf"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value() -> None:
    p = torch.zeros(3, requires_grad=True)
    (p * torch.tensor([-5.0, 0.5, 7.0])).sum().backward()
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_allclose(p.grad.numpy(), [-1.0, 0.5, 1.0])


def test_parameters_to_vector_and_back() -> None:
    model = nn.Linear(2, 3)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (9,)
    nn.utils.vector_to_parameters(torch.arange(9.0), model.parameters())
    np.testing.assert_array_equal(model.weight.numpy(), np.arange(6.0).reshape(3, 2))
    with pytest.raises(ValueError, match=r"vector_to_parameters: vector has 2 elements"):
        nn.utils.vector_to_parameters(torch.ones(2), model.parameters())


def test_functional_call_swaps_parameters_and_restores_them() -> None:
    lin = nn.Linear(2, 1)
    w = torch.tensor([[1.0, 2.0]], requires_grad=True)
    b = torch.tensor([0.5], requires_grad=True)
    out = functional_call(lin, {"weight": w, "bias": b}, (torch.tensor([[3.0, 4.0]]),))
    assert float(out.item()) == 11.5
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[3.0, 4.0]])
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.grad is None
    with pytest.raises(KeyError, match=r"functional_call: unknown names \['wieght'\]"):
        functional_call(lin, {"wieght": w}, (torch.ones(1, 2),))
