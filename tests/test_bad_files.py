"""Bad files through every entry point that reads one: truncated, random bytes, a pickle
renamed .npz/.pt/.safetensors, an .npz with an object array, a .safetensors file whose
header is damaged or describes what numpy cannot hold, empty, a directory, a missing path.

Each must raise one error of the library's class (DataFormatError for the contents;
FileNotFoundError / IsADirectoryError for the path) whose message starts with the op's
public name and names the file, and no numpy/zipfile/pickle text may be the whole
message. A pickle must be refused without running: its __reduce__ would create a marker.
"""

from __future__ import annotations

import gzip
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.data import (
    DataFormatError,
    load_batch_binary,
    load_batch_python,
    load_cifar10,
    load_mnist,
    load_npy_test_set,
    read_idx,
)

# numpy's, zipfile's and pickle's own texts: none may be the whole message.
RAW_TEXTS = ("File is not a zip file", "Ran out of input", "No such file or directory",
             "Is a directory", "Object arrays cannot be loaded when allow_pickle=False",
             "Cannot load file containing pickled data when allow_pickle=False")


class _WritesMarker:
    """Unpickling this calls open(marker, 'w'), which creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.marker, "w"))


def _marker(tmp_path: Path) -> Path:
    return tmp_path / "code_ran.txt"


def _evil_pickle(tmp_path: Path) -> bytes:
    return pickle.dumps({"weight": _WritesMarker(_marker(tmp_path))})


def _assert_clear(err: BaseException, op: str, path: Path, fragment: str) -> None:
    msg = str(err)
    assert msg.startswith(f"{op}: "), msg
    assert str(path) in msg, msg
    assert fragment in msg, msg
    assert msg.strip() not in RAW_TEXTS
    assert "Object arrays cannot be loaded" not in msg and "allow_pickle" not in msg
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


def test_marker_pickle_would_run_code(tmp_path: Path) -> None:
    # Proves the no-code-ran checks below are meaningful: plain pickle runs the payload.
    pickle.loads(_evil_pickle(tmp_path))
    assert _marker(tmp_path).exists()


# ----------------------------------------------------------------------- .npz readers

def _npz_truncated(tmp_path: Path) -> Path:
    path = tmp_path / "m.npz"
    tg.save({"w": np.arange(100.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _write(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path
    return make


def _pickle_as(name: str) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(_evil_pickle(tmp_path))
        return path
    return make


def _npz_object(tmp_path: Path) -> Path:
    path = tmp_path / "obj.npz"
    np.savez(path, w=np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return path


def _directory(tmp_path: Path) -> Path:
    path = tmp_path / "adir.npz"
    path.mkdir()
    return path


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "missing.npz"


NPZ_CASES: dict[str, tuple[Callable[[Path], Path], type[BaseException], str]] = {
    "truncated": (_npz_truncated, DataFormatError, "truncated or corrupt: BadZipFile"),
    "random_bytes": (_write("rand.npz", b"\xde\xad\xbe\xef" * 64), DataFormatError,
                     "is not a numpy archive (it starts with bytes de ad be ef"),
    "pickle_npz": (_pickle_as("x.npz"), DataFormatError, "is a Python pickle"),
    "pickle_pt": (_pickle_as("x.pt"), DataFormatError, "is a Python pickle"),
    "object_array": (_npz_object, DataFormatError, "holds an object array in 'w'"),
    "empty": (_write("empty.npz", b""), DataFormatError, "is empty (0 bytes)"),
    "directory": (_directory, IsADirectoryError, "is a directory"),
    "missing": (_missing, FileNotFoundError, "no such file"),
}


def _labels(tmp_path: Path) -> Path:
    path = tmp_path / "labels.npy"
    np.save(path, np.arange(3))
    return path


NPZ_ENTRIES: dict[str, tuple[str, Callable[[Path, Path], Any]]] = {
    "tinygrad_edu.load": ("load", lambda path, tmp: tg.load(path)),
    "Module.load": ("Linear.load", lambda path, tmp: nn.Linear(2, 3).load(path)),
    "load_npy_test_set": ("load_npy_test_set",
                          lambda path, tmp: load_npy_test_set(path, labels_path=_labels(tmp))),
}


@pytest.mark.parametrize("case", list(NPZ_CASES))
@pytest.mark.parametrize("entry", list(NPZ_ENTRIES))
def test_npz_readers_refuse_bad_files(tmp_path: Path, entry: str, case: str) -> None:
    make, error, fragment = NPZ_CASES[case]
    op, call = NPZ_ENTRIES[entry]
    path = make(tmp_path)
    with pytest.raises(error) as info:
        call(path, tmp_path)
    _assert_clear(info.value, op, path, fragment)
    assert not _marker(tmp_path).exists()  # the pickle was refused, not run


def test_optimizer_state_from_a_bad_file(tmp_path: Path) -> None:
    # Optimizer state is read with tinygrad_edu.load; a pickle is refused there.
    path = _pickle_as("opt.pt")(tmp_path)
    opt = tg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(DataFormatError) as info:
        opt.load_state_dict(tg.load(path))
    _assert_clear(info.value, "load", path, "is a Python pickle")
    assert not _marker(tmp_path).exists()


def test_load_state_dict_given_a_path_points_at_load(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    with pytest.raises(TypeError, match=r"Linear.load_state_dict: expected a dict .* got the "
                                        r"path '.*m.npz'; use Linear.load\(path\)"):
        nn.Linear(2, 3).load_state_dict(str(path))
    opt = tg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"SGD.load_state_dict: expected a state dict, got the "
                                        r"path '.*m.npz'; read the file first"):
        opt.load_state_dict(path)  # type: ignore[arg-type]


def test_a_good_file_still_loads(tmp_path: Path) -> None:
    model = nn.Linear(2, 3)
    model.save(tmp_path / "m.npz")
    nn.Linear(2, 3).load(tmp_path / "m.npz")
    tg.save({"w": np.arange(3.0)}, tmp_path / "s.npz")
    np.testing.assert_array_equal(tg.load(tmp_path / "s.npz")["w"], np.arange(3.0))


# ---------------------------------------------------------------------- .safetensors

def _safetensors_bytes(header: dict[str, Any], data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def _good_safetensors(tmp_path: Path) -> bytes:
    tg.save({"weight": np.arange(6.0).reshape(3, 2), "bias": np.zeros(3)},
            tmp_path / "good.safetensors")
    return (tmp_path / "good.safetensors").read_bytes()


def _cut(keep: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / "m.safetensors"
        path.write_bytes(keep(_good_safetensors(tmp_path)))
        return path
    return make


def _npz_as_safetensors(tmp_path: Path) -> Path:
    path = tmp_path / "m.safetensors"
    np.savez(tmp_path / "m.npz", w=np.ones(2))
    (tmp_path / "m.npz").rename(path)
    return path


def _entry(entry: dict[str, Any], data: bytes = bytes(8)) -> Callable[[Path], Path]:
    return _write("m.safetensors", _safetensors_bytes({"weight": entry}, data))


_F32_PAIR = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
SAFETENSORS_CASES: dict[str, tuple[Callable[[Path], Path], type[BaseException], str]] = {
    "truncated": (_cut(lambda data: data[:-5]), DataFormatError, "is truncated: its header "
                  "describes 72 bytes of tensor data, but only 67 follow the header"),
    "truncated_header": (_cut(lambda data: data[:40]), DataFormatError,
                         "is truncated: its first 8 bytes give a header of"),
    "trailing_bytes": (_cut(lambda data: data + b"xx"), DataFormatError,
                       "is corrupt: 2 bytes follow the last tensor its header describes"),
    "random_bytes": (_write("m.safetensors", b"\xde\xad\xbe\xef" * 64), DataFormatError,
                     "is not a safetensors file (it starts with bytes de ad be ef"),
    "pickle": (_pickle_as("m.safetensors"), DataFormatError,
               "is a Python pickle, not a safetensors file; refused without unpickling"),
    "npz": (_npz_as_safetensors, DataFormatError, "is a zip archive (a numpy .npz or a "
            "PyTorch .pt file?), not a safetensors file"),
    "empty": (_write("m.safetensors", b""), DataFormatError, "is empty (0 bytes)"),
    "too_short": (_write("m.safetensors", b"abc"), DataFormatError, "is too short (3 bytes)"),
    "bad_json": (_write("m.safetensors", (9).to_bytes(8, "little") + b"{weight:1"),
                 DataFormatError, "has a header that is not valid JSON (JSONDecodeError"),
    "malformed_entry": (_entry({"dtype": "F32", "shape": "2"}), DataFormatError,
                        "has a malformed header entry for 'weight'"),
    "wrong_size": (_entry(dict(_F32_PAIR, shape=[3])), DataFormatError,
                   "has an inconsistent entry for 'weight': shape (3,) of F32 needs 12 "
                   "bytes, its byte range [0, 8) holds 8"),
    "bfloat16": (_entry(dict(_F32_PAIR, dtype="BF16", data_offsets=[0, 4]), bytes(4)),
                 DataFormatError, "holds 'weight' as BF16, which numpy cannot represent"),
    "overlapping": (_write("m.safetensors", _safetensors_bytes(
                        {"weight": _F32_PAIR, "bias": _F32_PAIR}, bytes(8))),
                    DataFormatError, "is not a valid safetensors file (SafetensorError: "),
    "directory": (lambda tmp: _directory(tmp).rename(tmp / "m.safetensors"),
                  IsADirectoryError, "is a directory"),
    "missing": (lambda tmp: tmp / "m.safetensors", FileNotFoundError, "no such file"),
}
SAFETENSORS_ENTRIES: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "tinygrad_edu.load": ("load", lambda path: tg.load(path)),
    "Module.load": ("Linear.load", lambda path: nn.Linear(2, 3).load(path)),
}


@pytest.mark.parametrize("case", list(SAFETENSORS_CASES))
@pytest.mark.parametrize("entry", list(SAFETENSORS_ENTRIES))
def test_safetensors_readers_refuse_bad_files(tmp_path: Path, entry: str, case: str) -> None:
    make, error, fragment = SAFETENSORS_CASES[case]
    op, call = SAFETENSORS_ENTRIES[entry]
    path = make(tmp_path)
    with pytest.raises(error) as info:
        call(path)
    _assert_clear(info.value, op, path, fragment)
    if error is DataFormatError:
        assert "expected a .safetensors file" in str(info.value)
    assert not _marker(tmp_path).exists()  # the pickle was refused, not run


def test_the_good_safetensors_file_loads(tmp_path: Path) -> None:
    # The damaged files above are cut from this one, so they fail for the stated reason.
    path = _cut(lambda data: data)(tmp_path)
    nn.Linear(2, 3).load(path)
    np.testing.assert_array_equal(tg.load(path)["weight"].numpy(), np.arange(6.0).reshape(3, 2))


# ----------------------------------------------------------------------------- IDX

def _idx_bytes(n: int = 4) -> bytes:
    header = bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in (n, 28, 28))
    return header + bytes(n * 28 * 28)


def _idx_truncated(tmp_path: Path) -> Path:
    return _write("train-images-idx3-ubyte", _idx_bytes()[:500])(tmp_path)


def _idx_bad_gzip(tmp_path: Path) -> Path:
    data = gzip.compress(_idx_bytes())
    return _write("train-images-idx3-ubyte.gz", data[: len(data) // 2])(tmp_path)


IDX_CASES: dict[str, tuple[Callable[[Path], Path], type[BaseException], str]] = {
    "truncated": (_idx_truncated, DataFormatError, "truncated: header says shape (4, 28, 28)"),
    "truncated_gzip": (_idx_bad_gzip, DataFormatError, "corrupted or truncated gzip data"),
    "random_bytes": (_write("train-images-idx3-ubyte", b"\xde\xad\xbe\xef" * 64),
                     DataFormatError, "not an IDX file: magic number 0xDEADBEEF"),
    "pickle": (_pickle_as("train-images-idx3-ubyte"), DataFormatError, "not an IDX file"),
    "empty": (_write("train-images-idx3-ubyte", b""), DataFormatError, "not an IDX file: 0 "
              "bytes"),
}


@pytest.mark.parametrize("case", list(IDX_CASES))
def test_read_idx_refuses_bad_files(tmp_path: Path, case: str) -> None:
    make, error, fragment = IDX_CASES[case]
    path = make(tmp_path)
    with pytest.raises(error) as info:
        read_idx(path, expected_magic=0x00000803)
    _assert_clear(info.value, "read_idx", path, fragment)
    assert not _marker(tmp_path).exists()


@pytest.mark.parametrize("case", ["directory", "missing"])
def test_read_idx_refuses_bad_paths(tmp_path: Path, case: str) -> None:
    path = tmp_path / "images"
    if case == "directory":
        path.mkdir()
    error, fragment = ((IsADirectoryError, "is a directory") if case == "directory"
                       else (FileNotFoundError, "no such file"))
    with pytest.raises(error) as info:
        read_idx(path)
    _assert_clear(info.value, "read_idx", path, fragment)


@pytest.mark.parametrize("case", list(IDX_CASES))
def test_load_mnist_refuses_bad_files(tmp_path: Path, case: str) -> None:
    make, error, fragment = IDX_CASES[case]
    path = make(tmp_path)
    labels = bytes([0, 0, 0x08, 1]) + (4).to_bytes(4, "big") + bytes(4)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(labels)
    with pytest.raises(error) as info:
        load_mnist(tmp_path)
    _assert_clear(info.value, "load_mnist", path, fragment)
    assert not _marker(tmp_path).exists()


def test_load_mnist_missing_or_directory_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte").mkdir()  # a directory is not the file
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    _assert_clear(info.value, "load_mnist", tmp_path, "no train-images-idx3-ubyte(.gz)")


# --------------------------------------------------------------------------- CIFAR

def _good_python_batch() -> bytes:
    return pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}, protocol=2)


CIFAR_PY_CASES: dict[str, tuple[Callable[[Path], Path], type[BaseException], str]] = {
    "truncated": (_write("test_batch", _good_python_batch()[:100]), DataFormatError,
                  "corrupted or truncated pickle"),
    "random_bytes": (_write("test_batch", b"\xde\xad\xbe\xef" * 64), DataFormatError,
                     "corrupted or truncated pickle"),
    "code_pickle": (_pickle_as("test_batch"), DataFormatError, "refused to load global"),
    "empty": (_write("test_batch", b""), DataFormatError, "(0 bytes)"),
    "directory": (lambda tmp: _directory(tmp).rename(tmp / "test_batch"), IsADirectoryError,
                  "is a directory"),
    "missing": (lambda tmp: tmp / "test_batch", FileNotFoundError, "no such file"),
}


@pytest.mark.parametrize("case", list(CIFAR_PY_CASES))
def test_load_batch_python_refuses_bad_files(tmp_path: Path, case: str) -> None:
    make, error, fragment = CIFAR_PY_CASES[case]
    path = make(tmp_path)
    with pytest.raises(error) as info:
        load_batch_python(path)
    _assert_clear(info.value, "load_batch_python", path, fragment)
    assert not _marker(tmp_path).exists()


@pytest.mark.parametrize("case", ["truncated", "random_bytes", "code_pickle", "empty"])
def test_load_cifar10_refuses_a_bad_batch(tmp_path: Path, case: str) -> None:
    make, error, fragment = CIFAR_PY_CASES[case]
    (tmp_path / "data_batch_1").write_bytes(_good_python_batch())
    path = make(tmp_path)
    with pytest.raises(error) as info:
        load_cifar10(tmp_path, num_train_batches=1)
    _assert_clear(info.value, "load_cifar10", path, fragment)
    assert not _marker(tmp_path).exists()


CIFAR_BIN_CASES: dict[str, tuple[Callable[[Path], Path], type[BaseException], str]] = {
    "truncated": (_write("b.bin", bytes(3073 * 2 - 10)), DataFormatError,
                  "1 records + 3063 extra bytes"),
    "pickle": (_pickle_as("b.bin"), DataFormatError, "whole number of 3073-byte records"),
    "empty": (_write("b.bin", b""), DataFormatError, "found 0 bytes"),
    "directory": (_directory, IsADirectoryError, "is a directory"),
    "missing": (_missing, FileNotFoundError, "no such file"),
}


@pytest.mark.parametrize("case", list(CIFAR_BIN_CASES))
def test_load_batch_binary_refuses_bad_files(tmp_path: Path, case: str) -> None:
    make, error, fragment = CIFAR_BIN_CASES[case]
    path = make(tmp_path)
    with pytest.raises(error) as info:
        load_batch_binary(path)
    _assert_clear(info.value, "load_batch_binary", path, fragment)
    assert not _marker(tmp_path).exists()
