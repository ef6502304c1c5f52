"""Telling MNIST, Fashion-MNIST and Kuzushiji-MNIST files apart (they share their names) by
the md5 sums of the official .gz files: the table against the real MNIST test files in
../shared/datasets/mnist, a mismatch is an error that names both sets, unknown files load
with a warning, and load_dataset records what it found in `info['files']`.

No Fashion-MNIST file is at hand, so its rows are exercised by registering the sums of
made-up files under its names (monkeypatch), which runs the same code paths."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
from shared_data import shared_mnist

from tinygrad_edu import data
from tinygrad_edu.data import checksums

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist"
ROLES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    shared_mnist()
    return SHARED_MNIST


def write_fake(directory: Path, kind: str, n: int = 20, seed: int = 0) -> dict[str, str]:
    """Made-up IDX files of `kind`, gzipped; returns their md5 by role."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    sums = {}
    for role, array, code in ((f"{kind}-images-idx3-ubyte", images, 3),
                              (f"{kind}-labels-idx1-ubyte", labels, 1)):
        header = bytes([0, 0, 8, code]) + b"".join(struct.pack(">I", d) for d in array.shape)
        blob = gzip.compress(header + array.tobytes(), mtime=0)
        (directory / f"{role}.gz").write_bytes(blob)
        sums[role] = hashlib.md5(blob).hexdigest()
    return sums


def link_real(source: Path, target: Path, names: dict[str, str]) -> Path:
    """`target` holding symlinks to the real files (no copy of the data)."""
    target.mkdir(parents=True, exist_ok=True)
    for real, name in names.items():
        (target / name).symlink_to(source / real)
    return target


def test_the_table_holds_each_official_file_once() -> None:
    assert len(checksums.OFFICIAL_MD5) == 12
    for name in checksums.SET_NAMES:
        files = sorted(f for s, f in checksums.OFFICIAL_MD5.values() if s == name)
        assert files == sorted(f"{r}.gz" for r in ROLES), name
    assert all(len(md5) == 32 and int(md5, 16) >= 0 for md5 in checksums.OFFICIAL_MD5)


def test_the_real_mnist_test_files_are_recognized(mnist_dir: Path) -> None:
    checks = checksums.check_mnist_files(mnist_dir)
    assert [(c.role, c.dataset, c.official_name) for c in checks] == [
        ("t10k-images-idx3-ubyte", "mnist", "t10k-images-idx3-ubyte.gz"),
        ("t10k-labels-idx1-ubyte", "mnist", "t10k-labels-idx1-ubyte.gz")]
    assert checks[0].md5 == "9fb629c4189551a2d022fa330f9573f3"
    assert checks[1].md5 == "ec29112dd5afa0611ce80d1b7f02629c"
    assert data.recognize_mnist_dir(mnist_dir) == "mnist"
    splits = data.load_dataset("mnist", mnist_dir, val_size=0)
    assert splits.info["files"] == ("official MNIST files, md5 verified: "
                                    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz")


def test_fashion_mnist_asked_of_mnist_files_is_an_error(mnist_dir: Path) -> None:
    with pytest.raises(data.WrongDatasetError) as info:
        data.load_dataset("fashion-mnist", mnist_dir)
    e = info.value
    assert (e.requested, e.found, e.directory) == ("fashion-mnist", "mnist", mnist_dir)
    message = str(e)
    assert message.startswith(f"load_dataset('fashion-mnist'): {mnist_dir} does not hold "
                              "Fashion-MNIST: t10k-images-idx3-ubyte.gz holds the official "
                              "MNIST test images (md5 9fb629c4189551a2d022fa330f9573f3)")
    assert message.endswith("load it as 'mnist' or point data_dir at the Fashion-MNIST files")
    assert isinstance(e, ValueError)


def test_a_renamed_official_file_is_an_error(mnist_dir: Path, tmp_path: Path) -> None:
    # The MNIST test images posing as training images would put test data into training.
    renamed = link_real(mnist_dir, tmp_path / "renamed", {
        "t10k-images-idx3-ubyte.gz": "train-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz": "train-labels-idx1-ubyte.gz"})
    with pytest.raises(data.WrongDatasetError, match=r"train-images-idx3-ubyte.gz holds the "
                       r"official MNIST test images .*renamed files would mix the training "
                       r"and test sets") as info:
        data.load_dataset("mnist", renamed)
    assert info.value.found == info.value.requested == "mnist"


def test_an_extracted_file_is_checked_through_its_gz(mnist_dir: Path, tmp_path: Path) -> None:
    # torchvision's MNIST/raw keeps each .gz beside the file extracted from it, and
    # load_mnist reads the extracted one.
    raw = link_real(mnist_dir, tmp_path / "raw", {n: n for n in (
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")})
    (raw / "t10k-labels-idx1-ubyte").write_bytes(
        gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels = next(c for c in checksums.check_mnist_files(raw) if "labels" in c.role)
    assert labels.path.name == "t10k-labels-idx1-ubyte.gz" and labels.dataset == "mnist"


def test_unknown_files_load_with_a_warning(tmp_path: Path) -> None:
    sums = write_fake(tmp_path, "t10k")
    with pytest.warns(data.UnrecognizedDataWarning) as caught:
        splits = data.load_dataset("fashion-mnist", tmp_path, val_size=2, test_size=4)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith("load_dataset('fashion-mnist'): t10k-images-idx3-ubyte.gz "
                              f"(md5 {sums['t10k-images-idx3-ubyte']}), t10k-labels")
    assert "cannot be checked to be Fashion-MNIST (a re-compressed or extracted copy is fine)" \
        in message
    assert caught[0].filename == __file__  # points at the caller's line
    assert splits.sizes == (14, 2, 4)
    assert splits.info["files"] == ("unrecognized files: t10k-images-idx3-ubyte.gz, "
                                    "t10k-labels-idx1-ubyte.gz")
    assert data.recognize_mnist_dir(tmp_path) is None


def test_fashion_files_load_as_fashion_and_refuse_mnist(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    sums = {**write_fake(tmp_path, "train", 30), **write_fake(tmp_path, "t10k", 10, seed=1)}
    for role, md5 in sums.items():
        monkeypatch.setitem(checksums.OFFICIAL_MD5, md5, ("fashion-mnist", f"{role}.gz"))
    splits = data.load_dataset("fashion-mnist", tmp_path, val_size=5)
    assert splits.sizes == (25, 5, 10)
    assert splits.info["files"] == ("official Fashion-MNIST files, md5 verified: "
                                    + ", ".join(f"{r}.gz" for r in ROLES))
    assert data.recognize_mnist_dir(tmp_path) == "fashion-mnist"
    with pytest.raises(data.WrongDatasetError, match=r"does not hold MNIST: "
                       r"train-images-idx3-ubyte.gz holds the official Fashion-MNIST training "
                       r"images") as info:
        data.load_dataset("mnist", tmp_path)
    assert info.value.found == "fashion-mnist"


def test_kmnist_files_are_named_but_not_offered(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    sums = write_fake(tmp_path, "t10k")
    for role, md5 in sums.items():
        monkeypatch.setitem(checksums.OFFICIAL_MD5, md5, ("kmnist", f"{role}.gz"))
    with pytest.raises(data.WrongDatasetError) as info:
        data.load_dataset("mnist", tmp_path)
    assert "holds the official Kuzushiji-MNIST test images" in str(info.value)
    assert "load it as" not in str(info.value)  # load_dataset has no 'kmnist'
    assert str(info.value).endswith("point data_dir at the MNIST files")
