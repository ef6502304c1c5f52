"""`torch.nn` as a PyTorch user uses it (issue 8): layers and containers, traversal,
`apply`, `requires_grad_`, state_dict keys exactly as PyTorch names them, save/load without
pickle, the loss modules, and `nn.utils` clipping."""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.testing import assert_gradients_match, float_arrays, shapes


class Body(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 8, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.bn(self.fc1(x))))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = Body()
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 1)})
        self.extra = nn.ModuleList([nn.Linear(3, 3), nn.Tanh()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        out = self.heads["cls"](h)
        for layer in self.extra:
            out = layer(out)
        return out + self.heads["reg"](h)


NET_KEYS = [
    "body.fc1.weight", "body.fc1.bias", "body.bn.weight", "body.bn.bias",
    "body.bn.running_mean", "body.bn.running_var", "body.bn.num_batches_tracked",
    "body.fc2.weight", "heads.cls.weight", "heads.cls.bias", "heads.reg.weight",
    "heads.reg.bias", "extra.0.weight", "extra.0.bias",
]


# ----------------------------------------------------------------------------- layers


def test_linear_has_pytorchs_layout_and_init() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(20, 3)
    assert layer.weight.shape == (3, 20) and layer.bias is not None and layer.bias.shape == (3,)
    bound = 1 / np.sqrt(20)
    assert layer.weight.abs().max().item() <= bound and layer.bias.abs().max().item() <= bound
    x = torch.randn(5, 20)
    expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert layer(torch.randn(2, 7, 20)).shape == (2, 7, 3)
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(\.\.\., 20\) .* "
                                         r"got \(5, 4\)"):
        layer(torch.randn(5, 4))


def test_sequential_indexing_slicing_iteration_len() -> None:
    seq = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2
    assert list(tail.state_dict()) == ["2.weight", "2.bias"]  # names kept, as PyTorch
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    x = torch.randn(3, 2)
    np.testing.assert_allclose(seq(x).numpy(), seq[2](seq[1](seq[0](x))).numpy())
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.act is named[1]
    with pytest.raises(IndexError, match="Sequential: index 4 is out of range for 4 modules"):
        seq[4]


def test_module_list_and_dict_register_their_modules() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.Linear(2, 1))
    assert list(layers.state_dict())[-2:] == ["3.weight", "3.bias"]
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.Linear(1, 2)
    assert list(heads.keys()) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert [k for k, _ in heads.items()] == ["a", "b"]


def test_named_modules_parameters_children() -> None:
    net = Net()
    assert [name for name, _ in net.named_modules()] == [
        "", "body", "body.fc1", "body.bn", "body.fc2", "heads", "heads.cls", "heads.reg",
        "extra", "extra.0", "extra.1"]
    assert [name for name, _ in net.named_parameters()] == [
        k for k in NET_KEYS if "running" not in k and "num_batches" not in k]
    assert [name for name, _ in net.named_children()] == ["body", "heads", "extra"]
    assert [name for name, _ in net.named_buffers()] == [
        "body.bn.running_mean", "body.bn.running_var", "body.bn.num_batches_tracked"]


def test_apply_visits_children_first_and_initializes() -> None:
    visited: list[str] = []
    net = Net()
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[0] == "Linear" and visited[-1] == "Net" and visited.count("Linear") == 5

    def init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    assert net.apply(init_weights) is net
    assert net.body.fc2.weight.tolist() == np.full((8, 8), 0.5).tolist()
    assert net.heads["cls"].bias.abs().sum().item() == 0.0


def test_requires_grad_freezes_parameters() -> None:
    net = Net()
    assert net.body.requires_grad_(False) is net.body
    assert not any(p.requires_grad for p in net.body.parameters())
    assert all(p.requires_grad for p in net.heads.parameters())
    net(torch.randn(4, 4)).sum().backward()
    assert net.body.fc1.weight.grad is None and net.heads["cls"].weight.grad is not None


def test_train_and_eval_modes() -> None:
    net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    assert net.training and net[1].training
    net.eval()
    assert not net.training and not net[1].training
    x = torch.randn(2, 3)
    assert torch.equal(net(x), net[0](x))  # dropout is the identity in eval mode
    assert net.train() is net and net[1].training


@given(x=float_arrays(shape=shapes(max_dims=2), low=-30.0, high=30.0))
def test_softplus_is_smooth_and_stable(x: np.ndarray) -> None:
    t = torch.tensor(x, requires_grad=True)
    y = F.softplus(t)
    linear = x > 20  # PyTorch's threshold: softplus(x) = x there
    np.testing.assert_allclose(y.detach().numpy(), np.where(linear, x, np.logaddexp(0.0, x)),
                               rtol=1e-12, atol=1e-15)
    (g,) = torch.autograd.grad(y.sum(), t, create_graph=True)
    sigmoid = np.where(linear, 1.0, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(g.detach().numpy(), sigmoid, rtol=1e-12, atol=1e-300)
    (h,) = torch.autograd.grad(g.sum(), t)
    # PyTorch's double backward is 0 from the threshold on (it tests x < threshold), though
    # the value and first derivative at x == threshold are the soft branch's.
    curvature = np.where(x < 20, sigmoid * (1 - sigmoid), 0.0)
    np.testing.assert_allclose(h.numpy(), curvature, rtol=1e-9, atol=1e-15)
    big = torch.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    nn.Softplus()(big).sum().backward()
    assert big.grad is not None and big.grad.tolist() == [0.0, 0.5, 1.0]


# ----------------------------------------------------------------------------- state


def test_state_dict_keys_are_pytorchs() -> None:
    net = Net()
    state = net.state_dict()
    assert list(state) == NET_KEYS
    assert state["body.bn.num_batches_tracked"].dtype == torch.int64
    assert state["body.bn.num_batches_tracked"].shape == ()
    assert state["body.bn.running_var"].tolist() == [1.0] * 8
    assert not state["body.fc1.weight"].requires_grad
    assert list(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked"]


def test_batch_norm_tracks_batches_in_training_only() -> None:
    bn = nn.BatchNorm1d(3)
    x = torch.randn(10, 3) * 2 + 5
    bn(x)
    bn(x)
    assert bn.num_batches_tracked.item() == 2
    expected = 0.19 * x.numpy().mean(axis=0)  # two updates with momentum 0.1 from zero
    np.testing.assert_allclose(bn.running_mean.numpy(), expected, rtol=1e-5)
    bn.eval()
    bn(x)
    assert bn.num_batches_tracked.item() == 2


def test_load_state_dict_round_trip_and_errors() -> None:
    torch.manual_seed(0)
    a, b = Net(), Net()
    a(torch.randn(6, 4))  # moves a's running statistics
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
    partial = {k: v for k, v in a.state_dict().items() if not k.startswith("heads")}
    partial["unknown.weight"] = torch.zeros(1)
    with pytest.raises(RuntimeError, match=r"missing key 'heads.cls.weight'(.|\n)*"
                                           r"unexpected key 'unknown.weight'"):
        b.load_state_dict(partial)
    missing, unexpected = b.load_state_dict(partial, strict=False)
    assert "heads.reg.bias" in missing and unexpected == ["unknown.weight"]
    wrong = dict(a.state_dict(), **{"body.fc1.weight": torch.zeros(2, 2)})
    with pytest.raises(RuntimeError, match=r"size mismatch for 'body.fc1.weight': the "
                                           r"checkpoint has shape \(2, 2\), the model has "
                                           r"\(8, 4\)"):
        b.load_state_dict(wrong)


def test_save_and_load_a_state_dict(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = Net()
    net(torch.randn(5, 4))
    path = tmp_path / "model.pt"
    torch.save(net.state_dict(), path)
    state = torch.load(path)
    assert list(state) == NET_KEYS
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert state["body.bn.num_batches_tracked"].dtype == torch.int64
    restored = Net()
    restored.load_state_dict(state)
    x = torch.randn(3, 4)
    net.eval()
    restored.eval()
    np.testing.assert_array_equal(net(x).numpy(), restored(x).numpy())
    with np.load(path, allow_pickle=False) as archive:  # a plain npz, readable without pickle
        assert len(archive.files) == len(NET_KEYS) + 1


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > /dev/null",))


def test_load_never_unpickles(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"weight": _Exploit()}))
    with pytest.raises(ValueError, match=r"load: .*evil.pt' is a Python pickle, not a numpy "
                                         r"archive; refused without unpickling"):
        torch.load(path)
    with pytest.raises(TypeError, match="save: cannot store a _Exploit"):
        torch.save({"x": _Exploit()}, tmp_path / "x.pt")


# ----------------------------------------------------------------------------- losses


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_loss_modules_match_their_formulas() -> None:
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    p, y = rng.uniform(0.05, 0.95, (6, 4)), rng.integers(0, 2, (6, 4)).astype(float)
    x, t = torch.from_numpy(logits), torch.from_numpy(labels)
    rows = np.arange(6)
    ce = -np.log(_softmax(logits)[rows, labels])
    margins = np.maximum(0, 1 - logits[rows, labels][:, None] + logits)
    margins[rows, labels] = 0
    cases = [
        (nn.CrossEntropyLoss()(x, t), ce.mean()),
        (nn.NLLLoss()(F.log_softmax(x, dim=1), t), ce.mean()),
        (nn.MSELoss()(x, torch.from_numpy(p)), ((logits - p) ** 2).mean()),
        (nn.BCELoss()(torch.from_numpy(p), torch.from_numpy(y)),
         -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()),
        (nn.BCEWithLogitsLoss()(x, torch.from_numpy(y)),
         -(y * np.log(1 / (1 + np.exp(-logits))) + (1 - y) * np.log(1 / (1 + np.exp(logits)))
           ).mean()),
        (nn.MultiMarginLoss()(x, t), (margins.sum(axis=1) / 4).mean()),
    ]
    for got, want in cases:
        assert got.shape == () and got.item() == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("loss", [
    lambda x, t, p, y: F.cross_entropy(x, t), lambda x, t, p, y: F.nll_loss(x, t),
    lambda x, t, p, y: F.mse_loss(x, p), lambda x, t, p, y: F.multi_margin_loss(x, t),
    lambda x, t, p, y: F.binary_cross_entropy_with_logits(x, y),
    lambda x, t, p, y: F.binary_cross_entropy(x.sigmoid(), y),
])
def test_loss_gradients_match_central_differences(loss: object) -> None:
    rng = np.random.default_rng(1)
    t = torch.from_numpy(rng.integers(0, 4, 5))
    p = torch.from_numpy(rng.uniform(0.1, 0.9, (5, 4)))
    y = torch.from_numpy(rng.integers(0, 2, (5, 4)).astype(float))
    assert_gradients_match(lambda x: loss(x, t, p, y),  # type: ignore[operator]
                           rng.standard_normal((5, 4)))


def test_bce_with_logits_second_derivative_at_zero() -> None:
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(x, torch.zeros(3),
                                                                  reduction="sum"),
                               x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    assert h.tolist() == pytest.approx([0.25] * 3)


# ----------------------------------------------------------------------------- nn.utils


def test_clip_grad_norm_returns_the_total_norm_and_scales() -> None:
    a = torch.zeros(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    ((a * torch.tensor([3.0, 0.0])).sum() + (b * 4.0).sum()).backward()
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, torch.Tensor) and total.item() == pytest.approx(5.0)
    assert a.grad is not None and b.grad is not None
    assert a.grad.tolist() == pytest.approx([0.6, 0.0], rel=1e-5)
    assert b.grad.tolist() == pytest.approx([0.8], rel=1e-5)
    again = nn.utils.clip_grad_norm_([a, b], max_norm=10.0)  # below the limit: unchanged
    assert again.item() == pytest.approx(1.0, rel=1e-5)
    assert a.grad.tolist() == pytest.approx([0.6, 0.0], rel=1e-5)


def test_clip_grad_value_clamps_each_element() -> None:
    model = nn.Linear(3, 2)
    model(torch.ones(4, 3) * 10).sum().backward()
    nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    assert all(p.grad is not None and p.grad.abs().max().item() <= 0.5
               for p in model.parameters())
    assert model.bias.grad is not None and model.bias.grad.tolist() == [0.5, 0.5]
