"""Module.summary(input_size): torchinfo's table. Output shapes and parameter counts exact
for an MLP and a convnet (counts against p.numel()), the printed table, depth folding, shared
layers and parameters, frozen parameters, several inputs, and a forward pass that leaves the
model as it found it (modes, running statistics, gradients, no wrapper left behind)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn.summary import LayerSummary, ModelSummary


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8),
                                      nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 6 * 6, 32), nn.ReLU(),
                                  nn.Dropout(0.5), nn.Linear(32, 10))

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        return self.head(self.features(x))


def _numel(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def _table(s: ModelSummary) -> list[tuple[str, str, object, int]]:
    return [(r.name, r.type_name, r.output_shape, r.num_params) for r in s.rows]


def test_mlp_shapes_and_counts() -> None:
    model = mlp()
    s = model.summary((2, 1, 28, 28))
    assert isinstance(s, ModelSummary)
    assert _table(s) == [
        ("", "Sequential", (2, 10), 0),
        ("0", "Flatten", (2, 784), 0),
        ("1", "Linear", (2, 128), 784 * 128 + 128),
        ("2", "ReLU", (2, 128), 0),
        ("3", "Linear", (2, 10), 128 * 10 + 10),
    ]
    assert s.rows[2].num_params == _numel(model[1])
    assert s.total_params == _numel(model) == 101_770 == sum(r.num_params for r in s.rows)
    assert (s.trainable_params, s.non_trainable_params) == (101_770, 0)
    assert s.params_bytes == 101_770 * 4 and s.input_bytes == 2 * 784 * 4


def test_mlp_table_text() -> None:
    text = str(mlp().summary((1, 1, 28, 28)))
    rule = "=" * 90
    expected = [
        rule,
        "Layer (type (var_name):depth-idx)       Output Shape             Param #",
        rule,
        "Sequential                              [1, 10]                  --",
        "├─Flatten (0): 1-1                      [1, 784]                 --",
        "├─Linear (1): 1-2                       [1, 128]                 100,480",
        "├─ReLU (2): 1-3                         [1, 128]                 --",
        "├─Linear (3): 1-4                       [1, 10]                  1,290",
        rule,
        "Total params: 101,770",
        "Trainable params: 101,770",
        "Non-trainable params: 0",
        rule,
        "Input size (MB): 0.00",
        "Params size (MB): 0.41",
        rule,
    ]
    assert text.split("\n") == expected
    assert repr(mlp().summary((1, 1, 28, 28))) == text  # what a notebook cell shows


def test_convnet_shapes_and_counts() -> None:
    model = ConvNet()
    s = model.summary((1, 1, 28, 28))
    f, h = model.features, model.head
    assert _table(s) == [
        ("", "ConvNet", (1, 10), 0),
        ("features", "Sequential", (1, 16, 6, 6), 0),
        ("features.0", "Conv2d", (1, 8, 28, 28), _numel(f[0])),
        ("features.1", "BatchNorm2d", (1, 8, 28, 28), _numel(f[1])),
        ("features.2", "ReLU", (1, 8, 28, 28), 0),
        ("features.3", "MaxPool2d", (1, 8, 14, 14), 0),
        ("features.4", "Conv2d", (1, 16, 12, 12), _numel(f[4])),
        ("features.5", "ReLU", (1, 16, 12, 12), 0),
        ("features.6", "MaxPool2d", (1, 16, 6, 6), 0),
        ("head", "Sequential", (1, 10), 0),
        ("head.0", "Flatten", (1, 576), 0),
        ("head.1", "Linear", (1, 32), _numel(h[1])),
        ("head.2", "ReLU", (1, 32), 0),
        ("head.3", "Dropout", (1, 32), 0),
        ("head.4", "Linear", (1, 10), _numel(h[4])),
    ]
    assert [_numel(f[0]), _numel(f[1]), _numel(f[4])] == [8 * 9 + 8, 16, 16 * 8 * 9 + 16]
    assert s.total_params == _numel(model) == sum(r.num_params for r in s.rows)
    assert [r.depth for r in s.rows] == [0, 1, *[2] * 7, 1, *[2] * 5]
    lines = str(s).split("\n")
    assert lines[4] == "├─Sequential (features): 1-1            [1, 16, 6, 6]            --"
    assert lines[5] == "│    └─Conv2d (features.0): 2-1         [1, 8, 28, 28]           80"
    assert lines[12].startswith("├─Sequential (head): 1-2 ")
    assert lines[13].startswith("│    └─Flatten (head.0): 2-8 ")


def test_depth_folds_deeper_layers_into_their_parent() -> None:
    model = ConvNet()
    s = model.summary((1, 1, 28, 28), depth=1)
    assert _table(s) == [("", "ConvNet", (1, 10), 0),
                         ("features", "Sequential", (1, 16, 6, 6), _numel(model.features)),
                         ("head", "Sequential", (1, 10), _numel(model.head))]
    assert _table(model.summary((1, 1, 28, 28), depth=0)) == [
        ("", "ConvNet", (1, 10), _numel(model))]


def test_frozen_parameters_are_non_trainable() -> None:
    model = ConvNet()
    model.features.requires_grad_(False)
    s = model.summary((1, 1, 28, 28))
    assert s.non_trainable_params == _numel(model.features)
    assert s.trainable_params == _numel(model.head)
    assert f"Non-trainable params: {_numel(model.features):,}" in str(s)


class Tied(nn.Module):
    """One ReLU called twice and a weight shared by two layers."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(6, 3)
        self.dec = nn.Linear(3, 6)
        self.dec.weight = nn.Parameter(self.enc.weight.detach().T.contiguous())
        self.tied = nn.Linear(6, 3)
        self.tied.weight = self.enc.weight
        self.act = nn.ReLU()
        self.unused = nn.Linear(2, 2)

    def forward(self, x: tg.Tensor) -> tuple[tg.Tensor, tg.Tensor]:
        h = self.act(self.enc(x))
        return self.act(self.dec(h)), self.tied(x)


def test_shared_layers_and_parameters_and_unused_layers() -> None:
    model = Tied()
    s = model.summary((4, 6))
    rows = {r.name: r for r in s.rows}
    assert rows[""].output_shape == [(4, 6), (4, 3)]
    assert rows["act"].calls == 2 and rows["act"].output_shape == (4, 3)
    assert rows["unused"].calls == 0 and rows["unused"].output_shape is None
    assert rows["tied"].num_params == 3  # its weight is enc's, counted in enc's row
    assert s.total_params == _numel(model) == sum(r.num_params for r in s.rows)
    text = str(s)
    assert "├─ReLU (act): 1-4" in text and "[4, 3] (2 calls)" in text
    assert "[4, 6], [4, 3]" in text
    assert "├─Linear (unused): 1-5                  --                       6" in text


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 2)
        self.b = nn.Linear(5, 2)

    def forward(self, x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
        return self.a(x) + self.b(y.float())


def test_several_inputs_dtypes_and_input_data() -> None:
    model = TwoInputs()
    s = model.summary([(2, 3), (2, 5)], dtypes=[tg.float32, tg.int64])
    assert [r.output_shape for r in s.rows] == [(2, 2), (2, 2), (2, 2)]
    assert s.input_bytes == 2 * 3 * 4 + 2 * 5 * 8
    s = model.summary(input_data=[tg.ones(7, 3), np.ones((7, 5), np.float32)])
    assert s.rows[0].output_shape == (7, 2)
    assert mlp().summary(input_data=tg.zeros(3, 784)).rows[-1].output_shape == (3, 10)


def test_a_float64_model_gets_float64_zeros() -> None:
    model = mlp().double()
    assert model.summary((1, 784)).input_bytes == 784 * 8


def test_the_model_is_left_as_it_was() -> None:
    model = ConvNet()
    model.train()
    model.head.eval()  # mixed modes come back as they were, module by module
    bn = model.features[1]
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    modes = {name: m.training for name, m in model.named_modules()}
    s = model.summary((1, 1, 28, 28))  # a batch of one: BatchNorm2d must be in eval mode
    assert s.rows[0].output_shape == (1, 10)
    assert {name: m.training for name, m in model.named_modules()} == modes
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key], err_msg=key)
    assert bn.num_batches_tracked.item() == 0
    assert all(p.grad is None for p in model.parameters())
    assert all("forward" not in m.__dict__ for m in model.modules())
    y = model(tg.randn(2, 1, 28, 28))  # still trains as before
    y.sum().backward()
    assert bn.num_batches_tracked.item() == 1


def test_a_failing_forward_raises_its_own_error_and_restores_the_model() -> None:
    model = mlp()
    with pytest.raises(ShapeError, match=r"Linear \(1\): expected input of shape \(\.\.\., "
                                         r"784\)"):
        model.summary((1, 1, 27, 27))
    assert model.training and all("forward" not in m.__dict__ for m in model.modules())
    assert model.summary((1, 784)).rows[0].output_shape == (1, 10)


@pytest.mark.parametrize("bad", [None, 784, (1, -1), (1.0, 784), [(1, 784), "x"], (True, 2)])
def test_input_size_must_be_a_shape(bad: object) -> None:
    with pytest.raises(TypeError, match=r"summary: (give input_size|input_size must be a "
                                        r"shape such as \(1, 1, 28, 28\))"):
        mlp().summary(bad)


def test_dtypes_must_match_the_inputs() -> None:
    with pytest.raises(ValueError, match=r"summary: 2 input shape\(s\) but 1 dtype\(s\)"):
        TwoInputs().summary([(2, 3), (2, 5)], dtypes=[tg.float32])


def test_rows_are_named_tuples() -> None:
    row = mlp().summary((1, 784)).rows[1]
    assert isinstance(row, LayerSummary)
    assert row._asdict() == {"name": "0", "type_name": "Flatten", "depth": 1,
                             "output_shape": (1, 784), "calls": 1, "num_params": 0}
