"""Weights exchanged with PyTorch through .safetensors files, both ways: a model trained
here and saved with `Module.save` loads into the same torch.nn architecture with
`load_state_dict(safetensors.torch.load_file(path))` (strict), and a file torch writes with
`safetensors.torch.save_file` loads into ours with `Module.load` and `tinygrad_edu.load`.
Either way the two models then predict the same values (to 1e-6) and the same classes on
the same input; keys, dtypes (float32/float64 weights, int64 num_batches_tracked) and
shapes survive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF

from .nn_helpers import labels, randn
from .oracle import NUMPY_DTYPES, as_numpy


def make_mlp(nn: Any) -> Any:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.BatchNorm1d(16),
                         nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 5))


def make_convnet(nn: Any) -> Any:
    class ConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(4)
            self.conv2 = nn.Conv2d(4, 6, 3)
            self.bn2 = nn.BatchNorm2d(6)
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 2 * 2, 5))

        def forward(self, x: Any) -> Any:
            x = self.pool(self.bn1(self.conv1(x)).relu())
            return self.head(self.bn2(self.conv2(x)).relu())

    return ConvNet()


MODELS: dict[str, Callable[[Any], Any]] = {"mlp": make_mlp, "convnet": make_convnet}
BATCHES = [(randn(8, 1, 8, 8, seed=s, dtype=np.float32), labels(8, 5, seed=s))
           for s in range(3)]
TEST_INPUT = randn(16, 1, 8, 8, seed=99, dtype=np.float32)


def _train_ours(model: Any) -> Any:
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    dtype = next(model.parameters()).dtype
    for x, y in BATCHES:
        opt.zero_grad()
        GF.cross_entropy(model(tg.tensor(x.astype(dtype))), tg.tensor(y)).backward()
        opt.step()
    return model.eval()


def _train_theirs(model: Any) -> Any:
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    dtype = next(model.parameters()).dtype
    for x, y in BATCHES:
        opt.zero_grad()
        loss = tnn.functional.cross_entropy(model(torch.tensor(x).to(dtype)), torch.tensor(y))
        loss.backward()
        opt.step()
    return model.eval()


def _assert_same_predictions(ours: Any, theirs: Any, what: str) -> None:
    dtype = next(ours.parameters()).dtype
    with tg.no_grad(), torch.no_grad():
        mine = ours(tg.tensor(TEST_INPUT.astype(dtype))).numpy()
        other = theirs(torch.tensor(TEST_INPUT.astype(dtype))).numpy()
    assert mine.dtype == other.dtype == dtype, what
    np.testing.assert_allclose(mine, other, rtol=1e-6, atol=1e-6, err_msg=what)
    np.testing.assert_array_equal(mine.argmax(axis=1), other.argmax(axis=1), err_msg=what)


def _assert_same_state(ours: Any, theirs: Any, what: str) -> None:
    mine, other = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(other), f"{what}: keys {list(mine)} vs {list(other)}"
    for key, value in other.items():
        assert mine[key].dtype == NUMPY_DTYPES[value.dtype], f"{what}: {key}"
        np.testing.assert_array_equal(as_numpy(mine[key]), as_numpy(value),
                                      err_msg=f"{what}: {key}")


DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64)}


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", list(MODELS))
def test_a_model_trained_here_loads_into_torch(tmp_path: Path, name: str, dtype: str) -> None:
    tg.manual_seed(0)
    ours = _train_ours(MODELS[name](gnn).to(DTYPES[dtype][0]))
    path = tmp_path / "ours.safetensors"
    ours.save(path)
    theirs = MODELS[name](tnn).to(DTYPES[dtype][1])
    result = theirs.load_state_dict(safetensors.torch.load_file(path))  # strict
    assert not result.missing_keys and not result.unexpected_keys
    theirs.eval()
    _assert_same_state(ours, theirs, f"{name} ours -> torch")
    for key, value in theirs.state_dict().items():
        if key.endswith("num_batches_tracked"):
            assert value.dtype == torch.int64 and value.shape == () and value.item() == 3
    _assert_same_predictions(ours, theirs, f"{name} ours -> torch")


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", list(MODELS))
def test_a_model_trained_in_torch_loads_here(tmp_path: Path, name: str, dtype: str) -> None:
    torch.manual_seed(0)
    theirs = _train_theirs(MODELS[name](tnn).to(DTYPES[dtype][1]))
    path = tmp_path / "theirs.safetensors"
    safetensors.torch.save_file(theirs.state_dict(), path)
    ours = MODELS[name](gnn).to(DTYPES[dtype][0])
    assert ours.load(path) is ours
    ours.eval()
    _assert_same_state(ours, theirs, f"{name} torch -> ours")
    _assert_same_predictions(ours, theirs, f"{name} torch -> ours")
    # The file read as a state dict: tinygrad_edu.load gives Tensors, load_state_dict takes them.
    state = tg.load(path)
    assert sorted(state) == sorted(theirs.state_dict())
    fresh = MODELS[name](gnn).to(DTYPES[dtype][0])
    fresh.load_state_dict(state)
    _assert_same_predictions(fresh.eval(), theirs, f"{name} torch -> tinygrad_edu.load")


def test_state_dicts_saved_with_tinygrad_edu_save_load_in_torch(tmp_path: Path) -> None:
    tg.manual_seed(1)
    ours = _train_ours(make_convnet(gnn))
    path = tmp_path / "state.safetensors"
    tg.save(ours.state_dict(), path)
    loaded = safetensors.torch.load_file(path)
    assert loaded["bn1.num_batches_tracked"].dtype == torch.int64
    theirs = make_convnet(tnn)
    theirs.load_state_dict(loaded)
    _assert_same_predictions(ours, theirs.eval(), "tinygrad_edu.save -> torch")
