"""tinygrad_edu.data, file part: IDX (MNIST/FashionMNIST), CIFAR-10 (binary and python
versions, restricted unpickling), .npy/.npz test sets, load_dataset on files, and the real
MNIST test set from ../shared/datasets/mnist.

Small files are built in tmp_path. The real-MNIST tests fail (not skip) under CI=true when
the directory is missing."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shared_data import shared_mnist

from tinygrad_edu.data import (
    CIFAR10_CLASSES,
    DataFormatError,
    DataLoader,
    TensorDataset,
    UnsafePickleError,
    find_data_dir,
    find_mnist_dir,
    load_batch_binary,
    load_batch_python,
    load_cifar10,
    load_dataset,
    load_mnist,
    load_npy_test_set,
    read_idx,
    safe_load,
    safe_loads,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "datasets" / "mnist"
_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B, np.dtype(np.float32): 0x0D}


# ------------------------------------------------------------------ builders
def idx_bytes(array: np.ndarray) -> bytes:
    code = _IDX_CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(directory: Path, kind: str, n: int, seed: int = 0, gz: bool = True
                ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    for stem, arr in ((f"{kind}-images-idx3-ubyte", images), (f"{kind}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        if gz:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / stem).write_bytes(data)
    return images, labels


def _s(b: bytes) -> bytes:  # BINSTRING opcode: a Python 2 `str`
    return b"T" + struct.pack("<i", len(b)) + b


def _g(module: bytes, name: bytes) -> bytes:  # GLOBAL opcode
    return b"c" + module + b"\n" + name + b"\n"


def _i(v: int) -> bytes:  # BININT opcode
    return b"J" + struct.pack("<i", v)


def py2_batch(data: np.ndarray, labels: list[int]) -> bytes:
    """The opcodes Python 2's cPickle wrote for the official CIFAR-10 batches (protocol 2,
    BINSTRING data, numpy.core.multiarray._reconstruct)."""
    array = (_g(b"numpy.core.multiarray", b"_reconstruct") + _g(b"numpy", b"ndarray")
             + _i(0) + b"\x85" + _s(b"b") + b"\x87R"
             + b"(" + _i(1) + _i(data.shape[0]) + _i(data.shape[1]) + b"\x86"
             + _g(b"numpy", b"dtype") + _s(b"u1") + _i(0) + _i(1) + b"\x87R"
             + b"(" + _i(3) + _s(b"|") + b"NNN" + _i(-1) + _i(-1) + _i(0) + b"tb"
             + b"\x89" + _s(data.tobytes()) + b"tb")
    return (b"\x80\x02}(" + _s(b"batch_label") + _s(b"training batch") + _s(b"data") + array
            + _s(b"labels") + b"](" + b"".join(_i(v) for v in labels) + b"eu.")


def cifar_arrays(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()


def write_cifar(root: Path, fmt: str, n_per_batch: int = 4, n_test: int = 3) -> Path:
    """Six small batches in `fmt`: 'binary', 'py2' (Python 2 opcodes), 'py3' (pickle.dumps
    with bytes keys, protocol 2 and 5)."""
    directory = root / ("cifar-10-batches-bin" if fmt == "binary" else "cifar-10-batches-py")
    directory.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, name in enumerate(names):
        data, labels = cifar_arrays(n_test if name == "test_batch" else n_per_batch, k)
        if fmt == "binary":
            records = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
            (directory / f"{name}.bin").write_bytes(records.tobytes())
        elif fmt == "py2":
            (directory / name).write_bytes(py2_batch(data, labels))
        else:
            payload = {b"batch_label": b"batch", b"data": data, b"labels": labels}
            (directory / name).write_bytes(pickle.dumps(payload, protocol=2 + 3 * (k % 2)))
    if fmt == "binary":
        (directory / "batches.meta.txt").write_text("\n".join(CIFAR10_CLASSES) + "\n\n")
    else:
        meta = {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
        (directory / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return directory


# ------------------------------------------------------------------ IDX
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       dtype=st.sampled_from(sorted(_IDX_CODES, key=str)), gz=st.booleans())
def test_idx_round_trip(tmp_path_factory: pytest.TempPathFactory, shape: list[int],
                        dtype: np.dtype, gz: bool) -> None:
    array = (np.arange(int(np.prod(shape))) * 7 % 200 - 50).astype(dtype).reshape(shape) \
        if dtype != np.uint8 else (np.arange(int(np.prod(shape))) % 256).astype(np.uint8
                                                                                 ).reshape(shape)
    data = idx_bytes(array)
    path = tmp_path_factory.mktemp("idx") / "arrays.idx"  # no .gz suffix even when gzipped
    path.write_bytes(gzip.compress(data) if gz else data)
    out = read_idx(path)
    assert out.dtype == dtype and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_idx_errors_name_the_file_and_the_numbers(tmp_path: Path) -> None:
    images = np.zeros((5, 28, 28), np.uint8)
    good = idx_bytes(images)
    cases = {
        "short.idx": (good[:-100], r"short.idx: truncated: header says shape \(5, 28, 28\) of "
                                   r"uint8 = 3,920 data bytes, found 3,820"),
        "long.idx": (good + b"xx", r"long.idx: corrupted \(trailing bytes\).*found 3,922"),
        "magic.idx": (b"\x01\x02\x08\x03" + good[4:], r"magic.idx: not an IDX file: magic "
                                                      r"number 0x01020803"),
        "header.idx": (good[:9], r"header.idx: truncated header: 3 dimensions need 16 bytes, "
                                 r"found 9"),
        "empty.idx": (b"", r"empty.idx: not an IDX file: 0 bytes"),
        "gz.idx": (gzip.compress(good)[:-30], r"gz.idx: corrupted or truncated gzip data"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataFormatError, match=message):
            read_idx(tmp_path / name)
    (tmp_path / "labels.idx").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DataFormatError, match=r"labels.idx: magic number 0x00000801, expected "
                                              r"0x00000803 \(type 0x08, 3 dimensions\)"):
        read_idx(tmp_path / "labels.idx", expected_magic=0x00000803)


def test_load_mnist_layouts_and_errors(tmp_path: Path) -> None:
    images, labels = write_mnist(tmp_path, "t10k", 12, gz=False)
    X, y = load_mnist(tmp_path, "t10k")
    assert X.shape == (12, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0] * 255, images, atol=1e-4)
    np.testing.assert_array_equal(y, labels)
    assert load_mnist(tmp_path, "test", flatten=True)[0].shape == (12, 784)
    raw, _ = load_mnist(tmp_path, "t10k", as_uint8=True)
    assert raw.dtype == np.uint8 and (raw[:, 0] == images).all()
    with pytest.raises(FileNotFoundError, match=r"load_mnist: no train-images-idx3-ubyte\(.gz\) "
                                                r"in .* \(found: t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, "train")
    with pytest.raises(ValueError, match="load_mnist: kind must be 'train' or 't10k'"):
        load_mnist(tmp_path, "val")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(11, np.uint8)))
    with pytest.raises(DataFormatError, match="holds 12 images but t10k-labels-idx1-ubyte "
                                              "holds 11 labels"):
        load_mnist(tmp_path, "t10k")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(12, 10, np.uint8)))
    with pytest.raises(DataFormatError, match=r"labels must lie in \[0, 10\), found 10"):
        load_mnist(tmp_path, "t10k")


@pytest.mark.filterwarnings("ignore::tinygrad_edu.data.UnrecognizedDataWarning")  # made-up files
def test_load_dataset_mnist_like_splits(tmp_path: Path) -> None:
    only_test = tmp_path / "only"
    write_mnist(only_test, "t10k", 50)
    s = load_dataset("mnist", only_test, val_size=5, test_size=10)
    assert s.sizes == (35, 5, 10) and s.input_shape == (1, 28, 28)
    assert load_dataset("mnist", only_test, val_size=0, test_size=10).y_test.tolist() \
        == s.y_test.tolist()
    both = tmp_path / "fashion"
    write_mnist(both, "train", 30, seed=1)
    _, test_labels = write_mnist(both, "t10k", 8, seed=2)
    f = load_dataset("fashion_mnist", both, val_size=6, flatten=True)
    assert f.sizes == (24, 6, 8) and f.input_shape == (784,) and f.class_names[0] == "T-shirt/top"
    assert f.y_test.tolist() == test_labels.tolist()
    with pytest.raises(FileNotFoundError, match=r"load_dataset\('mnist'\): data directory .*nope "
                                                r"does not exist"):
        load_dataset("mnist", tmp_path / "nope")
    with pytest.raises(TypeError, match=r"load_dataset\('mnist'\): unexpected options"):
        load_dataset("mnist", only_test, layout="nhwc")


def test_data_dir_lookup_uses_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    write_mnist(tmp_path / "fashion-mnist", "t10k", 4)
    write_cifar(tmp_path, "binary")
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tmp_path))
    assert find_data_dir("fashion-mnist") == tmp_path / "fashion-mnist"
    assert find_data_dir("cifar10") == tmp_path / "cifar-10-batches-bin"
    direct = tmp_path / "direct"
    write_mnist(direct, "t10k", 4)
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(direct))
    assert find_mnist_dir() == direct


# ------------------------------------------------------------------ CIFAR-10
@pytest.mark.parametrize("fmt", ["binary", "py2", "py3"])
def test_cifar10_both_versions(tmp_path: Path, fmt: str) -> None:
    write_cifar(tmp_path, fmt)
    X, y, X_test, y_test, classes = load_cifar10(tmp_path)
    first, first_labels = cifar_arrays(4, 0)
    assert X.shape == (20, 3, 32, 32) and X.dtype == np.float32 and y.dtype == np.int64
    assert X_test.shape == (3, 3, 32, 32) and classes == CIFAR10_CLASSES
    np.testing.assert_array_equal(X[:4].reshape(4, -1), first)
    assert y[:4].tolist() == first_labels
    nhwc = load_cifar10(tmp_path, layout="nhwc", dtype=np.uint8)[0]
    np.testing.assert_array_equal(nhwc, X.transpose(0, 2, 3, 1))
    rows = load_cifar10(tmp_path, layout="rows")[0]
    np.testing.assert_array_equal(rows, X.reshape(20, -1))
    rows_hwc = load_cifar10(tmp_path, layout="rows_hwc", num_train_batches=2)[0]
    np.testing.assert_array_equal(rows_hwc.reshape(8, 32, 32, 3), nhwc[:8])
    assert load_cifar10(tmp_path, scale=True)[0].max() <= 1.0


def test_cifar10_course_split_and_mean_image(tmp_path: Path) -> None:
    write_cifar(tmp_path, "py2")
    s = load_dataset("cifar10", tmp_path, num_training=15, val_size=5, test_size=2)
    raw = load_cifar10(tmp_path)[0]
    assert s.sizes == (15, 5, 2) and s.input_shape == (3, 32, 32) and s.class_names[9] == "truck"
    mean = raw[:15].mean(axis=0)
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0, atol=1e-3)
    np.testing.assert_allclose(s.X_val, raw[15:20] - mean, atol=1e-3)  # sequential val rows
    flat = load_dataset("cifar10", tmp_path, num_training=15, val_size=5, test_size=2,
                        flatten=True, preprocess=None)
    assert flat.input_shape == (3072,) and flat.X_train.max() > 1
    with pytest.raises(ValueError, match="course_split: asked for 49000 train"):
        load_dataset("cifar10", tmp_path)


def test_cifar10_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(3073 * 2 + 5))
    with pytest.raises(DataFormatError, match=r"bad.bin: a CIFAR-10 binary batch is a whole "
                                              r"number of 3073-byte records.*6,151 bytes = 2 "
                                              r"records \+ 5 extra bytes"):
        load_batch_binary(bad)
    bad.write_bytes(bytes([12]) + bytes(3072))
    with pytest.raises(DataFormatError, match=r"labels must lie in \[0, 9\]"):
        load_batch_binary(bad)
    wrong = tmp_path / "wrong"
    wrong.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}))
    with pytest.raises(DataFormatError, match=r"'data' must be a uint8 array of shape \(N, 3072\)"
                                              r", found uint8 array of shape \(2, 100\)"):
        load_batch_python(wrong)
    wrong.write_bytes(pickle.dumps({b"pixels": 1}))
    with pytest.raises(DataFormatError, match=r"no 'data' entry \(keys: \['pixels'\]\)"):
        load_batch_python(wrong)
    wrong.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}))
    with pytest.raises(DataFormatError, match=r"2 images but 'labels' has shape \(1,\)"):
        load_batch_python(wrong)
    wrong.write_bytes(pickle.dumps([1, 2])[:-3])
    with pytest.raises(DataFormatError, match="wrong: safe_load: corrupted or truncated pickle"):
        safe_load(wrong)
    with pytest.raises(FileNotFoundError, match="load_cifar10: no CIFAR-10 batches in"):
        load_cifar10(tmp_path)
    with pytest.raises(ValueError, match="load_cifar10: layout must be one of"):
        load_cifar10(tmp_path, layout="chw")


# ------------------------------------------------------------------ restricted unpickling
class _Payload:
    """Pickles to `func(*args)`: what a malicious pickle runs on a plain pickle.load."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def test_plain_pickle_would_run_the_payload(tmp_path: Path) -> None:
    # Proves the payloads below are live: unrestricted unpickling creates the file.
    marker = tmp_path / "ran"
    blob = pickle.dumps(_Payload(os.system, f"touch {marker}"))
    subprocess.run([sys.executable, "-c", "import pickle,sys; pickle.loads(sys.stdin.buffer"
                    ".read())"], input=blob, check=True)
    assert marker.exists()


@pytest.mark.parametrize("make", ["os.system", "builtins.exec", "subprocess", "nested",
                                  "protocol0"])
def test_malicious_pickles_are_refused_and_run_nothing(tmp_path: Path, make: str) -> None:
    marker = tmp_path / "pwned"
    payloads = {
        "os.system": lambda: pickle.dumps(_Payload(os.system, f"touch {marker}")),
        "builtins.exec": lambda: pickle.dumps(_Payload(exec, f"open({str(marker)!r}, 'w')")),
        "subprocess": lambda: pickle.dumps(_Payload(subprocess.call, ["touch", str(marker)])),
        "nested": lambda: pickle.dumps({b"data": np.zeros((1, 3072), np.uint8),
                                        b"labels": [_Payload(os.system, f"touch {marker}")]}),
        "protocol0": lambda: pickle.dumps(_Payload(os.system, f"touch {marker}"), protocol=0),
    }
    batch_dir = tmp_path / "cifar-10-batches-py"
    batch_dir.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (batch_dir / name).write_bytes(payloads[make]())
    with pytest.raises(UnsafePickleError, match=r"data_batch_1: safe_load: refused to load "
                                                r"global (posix|os|builtins|subprocess)\."):
        load_cifar10(tmp_path)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):  # also catchable as a pickle error
        safe_loads(payloads[make]())
    assert not marker.exists()


def test_codecs_encode_only_with_latin1() -> None:
    import codecs

    assert safe_loads(pickle.dumps(b"\x00\xffab", protocol=2)) == b"\x00\xffab"
    blob = pickle.dumps(_Payload(codecs.encode, "x", "zlib_codec"), protocol=2)
    assert b"_codecs" in blob
    with pytest.raises(UnsafePickleError, match="_codecs.encode is admitted only with the "
                                                "'latin1' codec"):
        safe_loads(blob)


# ------------------------------------------------------------------ .npy / .npz
def test_npy_test_set_loader(tmp_path: Path) -> None:
    X = np.random.default_rng(0).random((6, 1, 4, 4)).astype(np.float32)
    y = np.arange(6) % 3
    np.savez(tmp_path / "set.npz", X_test=X, y_test=y)
    Xl, yl = load_npy_test_set(tmp_path / "set.npz")
    assert Xl.dtype == np.float32 and yl.dtype == np.int64 and (yl == y).all()
    np.savez(tmp_path / "custom.npz", feats=X, targets=y.astype(np.float64))
    assert (load_npy_test_set(tmp_path / "custom.npz", x_key="feats", y_key="targets")[1]
            == y).all()
    with pytest.raises(DataFormatError, match=r"custom.npz: no image/label arrays named "
                                              r"\(X_test, y_test\) or .*holds \['feats', "
                                              r"'targets'\]"):
        load_npy_test_set(tmp_path / "custom.npz")
    folder = tmp_path / "dir"
    folder.mkdir()
    np.save(folder / "X_test.npy", X)
    np.save(folder / "y_test.npy", y)
    assert load_npy_test_set(folder)[0].shape == (6, 1, 4, 4)
    np.save(tmp_path / "short.npy", y[:5])
    with pytest.raises(DataFormatError, match=r"labels must have shape \(6,\) to match images "
                                              r"of shape \(6, 1, 4, 4\); found \(5,\)"):
        load_npy_test_set(folder / "X_test.npy", tmp_path / "short.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFormatError, match="objects.npy' holds an object array, which would "
                                              "need unpickling; refused"):
        load_npy_test_set(tmp_path / "objects.npy", tmp_path / "short.npy")
    with pytest.raises(FileNotFoundError, match="load_npy_test_set: no such file"):
        load_npy_test_set(tmp_path / "missing.npz")


# ------------------------------------------------------------------ the real MNIST test set
@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    shared_mnist()
    return SHARED_MNIST


def test_real_mnist_images_and_labels(mnist_dir: Path) -> None:
    assert find_mnist_dir() is not None
    X, y = load_mnist(mnist_dir, "t10k")
    assert X.shape == (10000, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert abs(float(X.mean()) - 0.1325) < 0.002  # the MNIST test set's known pixel mean
    # The MNIST test set's class counts, a fingerprint of the real file.
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    raw, _ = load_mnist(mnist_dir, "t10k", as_uint8=True, flatten=True)
    assert raw.shape == (10000, 784) and raw.dtype == np.uint8 and raw.max() == 255


def test_real_mnist_split_8000_2000_is_fixed(mnist_dir: Path) -> None:
    a = load_dataset("mnist", mnist_dir)
    assert a.sizes == (7000, 1000, 2000) and a.input_shape == (1, 28, 28)
    b = load_dataset("mnist", val_size=0)  # found via ../shared/datasets/mnist
    assert b.sizes == (8000, 0, 2000)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    train_a = np.concatenate([a.X_train, a.X_val]).reshape(8000, -1)
    assert sorted(map(bytes, train_a)) == sorted(map(bytes, b.X_train.reshape(8000, -1)))
    counts = np.bincount(b.y_train, minlength=10)
    assert counts.min() > 600 and counts.max() < 1000  # every digit in the training part
    other = load_dataset("mnist", mnist_dir, seed=1, val_size=0)
    assert not np.array_equal(other.y_test, b.y_test)
    loader = DataLoader(TensorDataset(b.X_train, b.y_train), batch_size=128, shuffle=True,
                        seed=0)
    assert len(loader) == 63 and sum(len(yb) for _, yb in loader) == 8000
