"""nn.Module: registration, traversal and naming, modes, state_dict / save / load, repr,
module paths on graph nodes, containers, Parameter, and nn.utils."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
from tinygrad_edu.autograd import module_scope


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = Block()
        self.bn = nn.BatchNorm1d(2)
        self.scale = nn.Parameter(torch.ones(2))
        self.register_buffer("offset", torch.zeros(2))
        self.not_registered = torch.ones(3, requires_grad=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.body(x)) * self.scale + self.offset


def graph_paths(out: torch.Tensor) -> dict[str, set[str]]:
    """op name -> module paths, over every node reachable from out."""
    found: dict[str, set[str]] = {}
    stack, seen = [out._ctx], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        found.setdefault(node.module_path, set()).add(node.op)
        stack.extend(t._ctx for t in node.inputs)
    return found


# ----------------------------------------------------------------------------- registration


def test_parameters_buffers_and_children_are_registered_with_dotted_names() -> None:
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.fc1.weight", "body.fc1.bias", "body.fc2.weight",
                     "bn.weight", "bn.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == [
        "offset", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["body", "bn"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.fc1", "body.act",
                                                   "body.fc2", "bn"]
    assert list(net.children()) == [net.body, net.bn]
    assert net.num_parameters() == 2 + 4 * 3 + 3 + 3 * 2 + 2 + 2
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_plain_tensor_attributes_are_not_parameters() -> None:
    net = Net()
    assert not any(p is net.not_registered for p in net.parameters())


def test_shared_parameter_and_module_are_listed_once() -> None:
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert seq.num_parameters() == 6


def test_reassignment_replaces_registration() -> None:
    m = nn.Module()
    m.x = nn.Parameter(torch.ones(2))
    with pytest.raises(TypeError, match="cannot assign Linear to parameter 'x'"):
        m.x = nn.Linear(2, 2)  # as PyTorch: a parameter takes a Parameter or None
    m.y = nn.Linear(2, 2)
    m.y = nn.Parameter(torch.ones(2))  # a Parameter may replace a module
    assert "y" not in m._modules and m._parameters["y"] is m.y
    del m.x
    m.x = nn.Linear(2, 2)  # a free name again
    assert "x" not in m._parameters and m._modules["x"] is m.x
    m.x = None
    assert m._modules["x"] is None and m.x is None
    lin = nn.Linear(2, 2, bias=False)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    del m.x
    assert "x" not in m._modules and not hasattr(m, "x")


def test_registration_errors() -> None:
    class Forgot(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(torch.ones(1))

    with pytest.raises(AttributeError, match=r"Forgot: cannot assign 'w' before "
                       r"Module.__init__\(\) runs; call super\(\).__init__\(\) first"):
        Forgot()
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"Linear: cannot assign Tensor to parameter 'weight' "
                       r"\(a Parameter or None is expected\)"):
        lin.weight = torch.ones(2, 2)
    with pytest.raises(TypeError, match=r"register_parameter: 'w' must be a Parameter or "
                       r"None, got Tensor"):
        lin.register_parameter("w", torch.ones(1))
    with pytest.raises(KeyError, match=r"register_buffer: name must be a non-empty string "
                       r"without '.'"):
        lin.register_buffer("a.b", torch.ones(1))
    with pytest.raises(KeyError, match=r"add_module: 'forward' is already a method or class "
                       r"attribute of Linear"):
        lin.add_module("forward", nn.ReLU())
    with pytest.raises(AttributeError, match=r"'Linear' object has no attribute 'nope'"):
        _ = lin.nope


def test_get_submodule_and_parameter() -> None:
    net = Net()
    assert net.get_submodule("body.fc1") is net.body.fc1
    assert net.get_parameter("body.fc1.bias") is net.body.fc1.bias
    with pytest.raises(AttributeError, match=r"get_submodule: Block has no sub-module 'fc3'"):
        net.get_submodule("body.fc3")


def test_parameter_shares_data_and_ops_return_plain_tensors_that_keep_the_graph() -> None:
    t = torch.ones(3)
    p = nn.Parameter(t)
    assert p.numpy() is t.numpy() and p.requires_grad and p.is_leaf
    assert nn.Parameter(torch.ones(2), requires_grad=False).requires_grad is False
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    out = p * y  # a Parameter operand must not re-wrap y (that would cut x off)
    assert type(out) is torch.Tensor
    (out * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0, 200.0])
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 40.0, 600.0])
    assert repr(p).startswith("Parameter containing:\ntensor(")


# ----------------------------------------------------------------------------- modes


def test_train_eval_zero_grad_requires_grad_and_apply() -> None:
    net = Net()
    assert net.training and net.body.fc1.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError, match="train: mode must be a bool, got str"):
        net.train("no")  # type: ignore[arg-type]

    net(torch.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())

    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())

    visited: list[str] = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "Block", "BatchNorm1d", "Net"]


def test_to_double_converts_parameters_and_float_buffers() -> None:
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64
    assert net(torch.randn(3, 4, dtype=torch.float64)).dtype == np.float64
    assert net.float().body.fc1.weight.dtype == np.float32


# ----------------------------------------------------------------------------- state


def test_state_dict_keys_are_pytorch_names() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "3.weight", "3.bias"]
    assert list(Net().state_dict())[:4] == ["scale", "offset", "body.fc1.weight",
                                            "body.fc1.bias"]
    sd = model.state_dict()
    assert not sd["0.weight"].requires_grad
    assert sd["0.weight"].numpy() is model[0].weight.numpy()  # shares memory, as PyTorch
    assert sd["1.num_batches_tracked"].dtype == np.int64


def test_non_persistent_buffers_stay_out_of_the_state_dict() -> None:
    m = nn.Module()
    m.register_buffer("cache", torch.zeros(2), persistent=False)
    m.register_buffer("kept", torch.zeros(2))
    m.marked = nn.Buffer(torch.ones(1), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["cache", "kept", "marked"]
    assert list(m.state_dict()) == ["kept"]


def test_load_state_dict_round_trip_copies_values() -> None:
    torch.manual_seed(0)
    a, b = Net(), Net()
    a.bn(torch.randn(8, 2))  # running statistics move
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
        assert va.numpy() is not vb.numpy()
    x = torch.randn(5, 4)
    np.testing.assert_array_equal(a.eval()(x).numpy(), b.eval()(x).numpy())


def test_load_state_dict_lists_every_problem_key_by_key_and_changes_nothing() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    before = model[0].weight.numpy().copy()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    state["0.weight"] = np.zeros((4, 5))
    state.pop("1.bias")
    state["2.weight"] = np.zeros((1, 1))
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    msg = str(info.value)
    assert msg.startswith("load_state_dict: 3 problem(s) loading into Sequential:")
    assert "size mismatch for '0.weight': the checkpoint has shape (4, 5), the model has " \
           "(4, 3)" in msg
    assert "missing key '1.bias' (the model expects shape (2,))" in msg
    assert "unexpected key '2.weight' (shape (1, 1))" in msg
    np.testing.assert_array_equal(model[0].weight.numpy(), before)


def test_load_state_dict_non_strict_reports_keys_but_still_rejects_shapes() -> None:
    model = nn.Sequential(nn.Linear(3, 4))
    result = model.load_state_dict({"0.weight": np.ones((4, 3)), "extra": np.ones(1)},
                                   strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model[0].weight.numpy(), np.ones((4, 3)))
    with pytest.raises(RuntimeError, match=r"size mismatch for '0.bias'"):
        model.load_state_dict({"0.bias": np.ones(5)}, strict=False)


def test_save_and_load_npz_round_trip(tmp_path: object) -> None:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model(torch.randn(6, 3))
    path = f"{tmp_path}/model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(model.state_dict())
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    assert other.load(path) is other
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k].numpy(), v.numpy())
    assert int(other[1].num_batches_tracked.item()) == 1
    wrong = nn.Sequential(nn.Linear(3, 5))
    with pytest.raises(RuntimeError, match=r"size mismatch for '0.weight'"):
        wrong.load(path)


def test_deepcopy_gives_independent_parameters() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    clone = copy.deepcopy(model)
    with torch.no_grad():
        clone[0].weight.fill_(0.0)
    assert model[0].weight.numpy().any()
    assert isinstance(clone[0].weight, nn.Parameter)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]


# ----------------------------------------------------------------------------- repr


def test_repr_is_nested_with_shapes_and_parameter_counts() -> None:
    text = repr(Net())
    assert text.splitlines() == [
        "Net(  # scale (2,): 27 params",
        "  (body): Block(  # 21 params",
        "    (fc1): Linear(in_features=4, out_features=3, bias=True)  "
        "# weight (3, 4), bias (3,): 15 params",
        "    (act): ReLU()",
        "    (fc2): Linear(in_features=3, out_features=2, bias=False)  "
        "# weight (2, 3): 6 params",
        "  )",
        "  (bn): BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, "
        "track_running_stats=True)  # weight (2,), bias (2,): 4 params",
        ")",
    ]


# ----------------------------------------------------------------------------- module paths


def test_every_node_records_its_module_path() -> None:
    net = Net()
    out = net(torch.randn(5, 4))
    found = graph_paths(out)
    assert set(found) == {"", "body.fc1", "body.act", "body.fc2", "bn"}
    assert "Linear" in found["body.fc1"] and "Linear" in found["body.fc2"]
    assert found["body.act"] and "Linear" not in found["body.act"]
    assert "Mul" in found[""]  # the root's own ops (times scale)
    assert out._ctx.module_path == ""


def test_module_path_is_relative_to_the_called_root_and_nests_in_scopes() -> None:
    net = Net()
    x = torch.randn(3, 4)
    assert set(graph_paths(net.body(x))) == {"fc1", "act", "fc2"}
    with module_scope("outer"):
        assert set(graph_paths(net.body(x))) == {"outer.fc1", "outer.act", "outer.fc2"}
    from tinygrad_edu.autograd import _state
    assert _state.module_path == ""


def test_module_path_follows_structure_changes_and_containers() -> None:
    class Tower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1)})

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for layer in self.layers:
                x = layer(x)
            return self.heads["a"](x)

    tower = Tower()
    x = torch.randn(3, 2, requires_grad=True)
    assert set(graph_paths(tower(x))) == {"layers.0", "layers.1", "heads.a"}
    tower.layers.append(nn.Linear(2, 2))  # the cached names must be refreshed
    assert "layers.2" in graph_paths(tower(x))


def test_a_module_outside_the_tree_records_its_callers_path() -> None:
    stray = nn.Linear(2, 2)

    class Caller(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Sequential(nn.Identity())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(stray(x))

    assert set(graph_paths(Caller()(torch.randn(1, 2)))) == {""}


def test_module_path_is_restored_after_an_exception() -> None:
    from tinygrad_edu.autograd import _state

    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"^Linear \(1\): expected input"):
        model(torch.randn(1, 2))
    assert _state.module_path == ""
    assert set(graph_paths(model[0](torch.randn(1, 2)))) == {""}


def test_to_converts_parameters_buffers_and_grads_and_marks_them_modified() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    x = torch.randn(4, 3)
    model(x).sum().backward()
    stale = model[0](x).sum()
    assert model.to(np.float64) is model
    for t in [*model.parameters(), *model.buffers()]:
        if t.dtype.kind == "f":
            assert t.dtype == np.float64
    assert all(p.grad.dtype == np.float64 for p in model.parameters())
    with pytest.raises(RuntimeError, match="modified in place after Linear saved it"):
        stale.backward()  # the graph saved the float32 weights
    version = model[0].weight._version
    model.double()  # nothing to convert: nothing marked
    assert model[0].weight._version == version
