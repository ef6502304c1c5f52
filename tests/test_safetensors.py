"""The safetensors exchange format without PyTorch: Module.save/load and tinygrad_edu.save/
load round trips (values, dtypes, shapes, PyTorch's key names), files other tools write,
what cannot be stored, and the ImportError without the package. Bad files are in
test_bad_files.py; both directions with PyTorch in conformance/test_safetensors_exchange.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

import tinygrad_edu as tg
from tinygrad_edu import nn


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Linear(8, 3))


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 3 * 3, 5))

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        return self.head(self.pool(self.bn(self.conv(x)).relu()))


MODELS = {"mlp": (mlp, (5, 6)), "convnet": (ConvNet, (5, 1, 6, 6))}
CONVNET_KEYS = ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                "bn.running_var", "bn.num_batches_tracked", "head.1.weight", "head.1.bias"]


def _trained(name: str) -> tuple[nn.Module, np.ndarray]:
    """A model whose parameters and running statistics differ from a fresh one's."""
    make, shape = MODELS[name]
    tg.manual_seed(0)
    model = make()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    for _ in range(2):
        model(tg.tensor(x))  # training mode: the BatchNorm statistics move
    with tg.no_grad():
        for p in model.parameters():
            p.add_(0.1)
    return model.eval(), x


@pytest.mark.parametrize("name", list(MODELS))
def test_module_round_trip_keeps_values_dtypes_and_predictions(tmp_path: Path, name: str
                                                               ) -> None:
    model, x = _trained(name)
    path = tmp_path / "m.safetensors"
    model.save(path)
    tg.manual_seed(5)
    other = MODELS[name][0]()
    assert other.load(path) is other
    other.eval()
    theirs = other.state_dict()
    for key, value in model.state_dict().items():
        assert theirs[key].dtype == value.dtype and theirs[key].shape == value.shape, key
        np.testing.assert_array_equal(theirs[key].numpy(), value.numpy(), err_msg=key)
    np.testing.assert_array_equal(other(tg.tensor(x)).numpy(), model(tg.tensor(x)).numpy())


def test_the_file_carries_pytorchs_key_names_and_dtypes(tmp_path: Path) -> None:
    model, _ = _trained("convnet")
    path = tmp_path / "m.safetensors"
    model.save(str(path))
    raw = safetensors.numpy.load_file(path)  # read by the package itself, not by us
    assert sorted(raw) == sorted(CONVNET_KEYS) == sorted(model.state_dict())
    assert raw["bn.num_batches_tracked"].dtype == np.int64
    assert raw["bn.num_batches_tracked"].shape == () and raw["bn.num_batches_tracked"] == 2
    assert raw["conv.weight"].dtype == np.float32 and raw["conv.weight"].shape == (4, 1, 3, 3)
    with safetensors.safe_open(path, framework="np") as f:
        assert f.metadata() == {"format": "pt"}  # Hugging Face's loaders require a format


def test_a_float64_model_stays_float64(tmp_path: Path) -> None:
    model = mlp().double()
    model.save(tmp_path / "m.safetensors")
    assert safetensors.numpy.load_file(tmp_path / "m.safetensors")["0.weight"].dtype == np.float64
    other = mlp().double().load(tmp_path / "m.safetensors")
    assert other[0].weight.dtype == np.float64
    np.testing.assert_array_equal(other[0].weight.numpy(), model[0].weight.numpy())


def test_save_and_load_keep_every_dtype_shape_and_value(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    state = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": tg.tensor(rng.standard_normal(5), dtype=tg.float64),
        "i64": tg.tensor([0, 3, 1]),
        "scalar": tg.tensor(np.array(7, dtype=np.int64)),
        "f16": np.arange(4, dtype=np.float16),
        "u8": np.arange(6, dtype=np.uint8).reshape(2, 3),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 3), np.float32),
        "transposed": np.arange(6.0).reshape(2, 3).T,  # a strided view, not C-contiguous
    }
    path = tmp_path / "state.safetensors"
    tg.save(state, path)
    loaded = tg.load(path)
    assert sorted(loaded) == sorted(state)
    for key, value in state.items():
        expected = value.numpy() if isinstance(value, tg.Tensor) else value
        got = loaded[key]
        assert isinstance(got, tg.Tensor), key
        assert got.dtype == expected.dtype and got.shape == expected.shape, key
        np.testing.assert_array_equal(got.numpy(), expected, err_msg=key)
    loaded["f32"].numpy()[0, 0] = 100.0  # a fresh, writable array, not a view of the file
    assert tg.load(path)["f32"].numpy()[0, 0] == state["f32"][0, 0]


def test_a_file_written_by_the_safetensors_package_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    weights = {"0.weight": rng.standard_normal((8, 6)).astype(np.float32),
               "0.bias": np.zeros(8, np.float32), "2.weight": np.ones(8, np.float32),
               "2.bias": np.zeros(8, np.float32), "2.running_mean": np.full(8, 0.5, np.float32),
               "2.running_var": np.full(8, 2.0, np.float32),
               "2.num_batches_tracked": np.array(9, dtype=np.int64),
               "3.weight": rng.standard_normal((3, 8)).astype(np.float32),
               "3.bias": np.ones(3, np.float32)}
    path = tmp_path / "MODEL.SafeTensors"  # the suffix is matched in any case
    safetensors.numpy.save_file(weights, path)  # no metadata, as other tools may write
    model = mlp().load(path)
    for key, value in weights.items():
        np.testing.assert_array_equal(model.state_dict()[key].numpy(), value, err_msg=key)
    assert model[2].num_batches_tracked.item() == 9


def test_load_reports_mismatched_and_missing_keys(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    nn.Linear(3, 5).save(path)
    with pytest.raises(RuntimeError, match=r"size mismatch for 'weight': the checkpoint has "
                                           r"shape \(5, 3\), the model has \(4, 3\)"):
        nn.Linear(3, 4).load(path)
    nn.Linear(3, 5, bias=False).save(path)
    with pytest.raises(RuntimeError, match=r"missing key 'bias'"):
        nn.Linear(3, 5).load(path)
    nn.Linear(3, 5).load(path, strict=False)


def test_npz_still_works_beside_safetensors(tmp_path: Path) -> None:
    model, x = _trained("mlp")
    model.save(tmp_path / "m.npz")
    other = mlp().load(tmp_path / "m.npz").eval()
    np.testing.assert_array_equal(other(tg.tensor(x)).numpy(), model(tg.tensor(x)).numpy())


@pytest.mark.parametrize(("obj", "message"), [
    ({"lr": 0.1}, r"save: a .safetensors file holds only tensors and arrays, but 'lr' is a "
                  r"float; use a .npz file"),
    ({"w": {"nested": np.ones(2)}}, r"'w' is a dict; use a .npz file"),
    ([np.ones(2)], r"save: a .safetensors file holds a dict of named tensors \(a state_dict\), "
                   r"got a list"),
    ({3: np.ones(2)}, r"save: a .safetensors file names its tensors with strings, got the "
                      r"key 3 \(int\)"),
    ({"z": np.ones(2, np.complex128)}, r"save: 'z' has dtype complex128, which safetensors "
                                       r"cannot store"),
    ({"o": np.array([{}], dtype=object)}, r"'o' has dtype object"),
])
def test_what_safetensors_cannot_hold_is_a_clear_type_error(tmp_path: Path, obj: object,
                                                            message: str) -> None:
    with pytest.raises(TypeError, match=message):
        tg.save(obj, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()  # refused before anything is written


def test_an_optimizer_state_needs_npz(tmp_path: Path) -> None:
    opt = tg.optim.Adam(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"'state' is a dict; use a .npz file for numbers, "
                                        r"strings and nested containers"):
        tg.save(opt.state_dict(), tmp_path / "opt.safetensors")


def test_without_the_package_the_error_names_the_extra(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.safetensors"
    nn.Linear(2, 2).save(path)
    monkeypatch.setitem(sys.modules, "safetensors", None)  # `import safetensors` now fails
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    extra = r"pip install 'tinygrad-edu\[io\]'"
    with pytest.raises(ImportError, match=r"^Linear.save: .safetensors files need the "
                                          r"safetensors package.*" + extra):
        nn.Linear(2, 2).save(tmp_path / "n.safetensors")
    with pytest.raises(ImportError, match=r"^Linear.load: .*" + extra):
        nn.Linear(2, 2).load(path)
    with pytest.raises(ImportError, match=r"^load: .*" + extra):
        tg.load(path)
    nn.Linear(2, 2).save(tmp_path / "m.npz")  # .npz needs numpy only
    nn.Linear(2, 2).load(tmp_path / "m.npz")


@pytest.mark.parametrize("header_bytes", [128, 640, 1152])
def test_a_header_length_that_starts_like_a_pickle_still_loads(tmp_path: Path,
                                                               header_bytes: int) -> None:
    # A header of 128 + 256k bytes makes the file start 80 0k, as a pickle of protocol k.
    path = tmp_path / "w.safetensors"
    for n in range(1, header_bytes):
        tg.save({"w" * n: np.arange(3.0)}, path)
        if int.from_bytes(path.read_bytes()[:8], "little") == header_bytes:
            break
    else:
        pytest.fail(f"no key length gives a {header_bytes}-byte header")
    assert path.read_bytes()[:1] == b"\x80"
    np.testing.assert_array_equal(tg.load(path)["w" * n].numpy(), np.arange(3.0))


def test_saving_into_a_directory_or_a_missing_one_names_the_op(tmp_path: Path) -> None:
    (tmp_path / "d.safetensors").mkdir()
    with pytest.raises(IsADirectoryError, match=r"^save: '.*d.safetensors' is a directory"):
        tg.save({"w": np.ones(2)}, tmp_path / "d.safetensors")
    with pytest.raises(FileNotFoundError, match=r"^Linear.save: no such directory '.*nodir' "
                                                r"to write 'm.safetensors' in"):
        nn.Linear(2, 2).save(tmp_path / "nodir" / "m.safetensors")
