"""Which MNIST-format set a directory really holds.

MNIST, Fashion-MNIST and Kuzushiji-MNIST ship files with the same names
(`train-images-idx3-ubyte.gz`, ...) and the same shapes, so Fashion-MNIST files load as
'mnist' without a complaint -- and a digit classifier is trained on clothes. The names cannot
tell the sets apart; the md5 sums of the official .gz files can. The table below holds the
sums torchvision's datasets/mnist.py checks its downloads against; the MNIST test ones are
checked against ../shared/datasets/mnist by tests/test_data_checksums.py.

A file whose sum is in no row is *unrecognized*: a re-compressed or decompressed copy of the
official data is legitimate, it just cannot be checked, so it gets a warning and loads. A
file recognized as another set's (or as another split's: a train file renamed t10k) is an
error.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from tinygrad_edu.data.idx import mnist_file

__all__ = ["OFFICIAL_MD5", "SET_NAMES", "FileCheck", "UnrecognizedDataWarning",
           "WrongDatasetError", "check_mnist_files", "recognize_mnist_dir",
           "verify_mnist_files"]

SET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "kmnist": "Kuzushiji-MNIST"}

# md5 of each official .gz file -> (set, the file's official name)
OFFICIAL_MD5: dict[str, tuple[str, str]] = {
    "f68b3c2dcbeaaa9fbdd348bbdeb94873": ("mnist", "train-images-idx3-ubyte.gz"),
    "d53e105ee54ea40749a09fcbcd1e9432": ("mnist", "train-labels-idx1-ubyte.gz"),
    "9fb629c4189551a2d022fa330f9573f3": ("mnist", "t10k-images-idx3-ubyte.gz"),
    "ec29112dd5afa0611ce80d1b7f02629c": ("mnist", "t10k-labels-idx1-ubyte.gz"),
    "8d4fb7e6c68d591d4c3dfef9ec88bf0d": ("fashion-mnist", "train-images-idx3-ubyte.gz"),
    "25c81989df183df01b3e8a0aad5dffbe": ("fashion-mnist", "train-labels-idx1-ubyte.gz"),
    "bef4ecab320f06d8554ea6380940ec79": ("fashion-mnist", "t10k-images-idx3-ubyte.gz"),
    "bb300cfdad3c16e7a12a480ee83cd310": ("fashion-mnist", "t10k-labels-idx1-ubyte.gz"),
    "bdb82020997e1d708af4cf47b453dcf7": ("kmnist", "train-images-idx3-ubyte.gz"),
    "e144d726b3acfaa3e44228e80efcd344": ("kmnist", "train-labels-idx1-ubyte.gz"),
    "5c965bf0a639b31b8f53240b1b52f4d7": ("kmnist", "t10k-images-idx3-ubyte.gz"),
    "7320c461ea6c1c855c0b718fb2a4b134": ("kmnist", "t10k-labels-idx1-ubyte.gz"),
}


class WrongDatasetError(ValueError):
    """The files in a directory are the official files of another set than the one asked
    for (`found` differs from `requested`), or of another split (same set, a train file
    under a t10k name)."""

    def __init__(self, message: str, requested: str, found: str, directory: Path) -> None:
        super().__init__(message)
        self.requested, self.found, self.directory = requested, found, directory


class UnrecognizedDataWarning(UserWarning):
    """An MNIST-format file whose md5 is no official file's, so its set cannot be checked."""


@dataclass(frozen=True)
class FileCheck:
    """One file `load_mnist` reads. `role` is the name it looks for
    ('t10k-images-idx3-ubyte'); `path` the file whose md5 was taken (the loaded file, or
    its official .gz beside it); `dataset`/`official_name` the table's row, or None."""

    role: str
    path: Path
    md5: str
    dataset: str | None
    official_name: str | None

    @property
    def in_its_role(self) -> bool:
        """False for an official file under another file's name (train images as t10k)."""
        return self.official_name in (None, self.role + ".gz")


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # a fingerprint, not a security check
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check(loaded: Path, role: str) -> FileCheck:
    # An extracted file has no published sum; torchvision keeps the .gz it came from beside
    # it (MNIST/raw/), and that one does.
    candidates = [loaded]
    sibling = loaded.with_name(loaded.name + ".gz")
    if sibling.is_file():
        candidates.append(sibling)
    first = None
    for path in candidates:
        md5 = _md5(path)
        dataset, official = OFFICIAL_MD5.get(md5, (None, None))
        check = FileCheck(role, path, md5, dataset, official)
        if dataset is not None:
            return check
        first = first or check
    assert first is not None
    return first


def check_mnist_files(data_dir: str | os.PathLike[str], kinds: tuple[str, ...] = ("train",
                      "t10k")) -> list[FileCheck]:
    """A `FileCheck` for each images/labels file of `kinds` present in `data_dir`."""
    checks = []
    for kind in kinds:
        for part in ("images", "labels"):
            try:
                loaded = mnist_file(data_dir, kind, part)
            except FileNotFoundError:
                continue
            checks.append(_check(loaded, f"{kind}-{part}-idx{3 if part == 'images' else 1}"
                                             "-ubyte"))
    return checks


def recognize_mnist_dir(data_dir: str | os.PathLike[str]) -> str | None:
    """'mnist', 'fashion-mnist' or 'kmnist' when every recognized file in `data_dir` is
    that set's (and at least one is recognized), else None."""
    found = {c.dataset for c in check_mnist_files(data_dir) if c.dataset is not None}
    return found.pop() if len(found) == 1 else None


def verify_mnist_files(name: str, data_dir: str | os.PathLike[str],
                       kinds: tuple[str, ...]) -> str:
    """Check that the `kinds` files in `data_dir` are dataset `name`'s ('mnist' or
    'fashion-mnist') and say what was found, e.g. 'official MNIST files, md5 verified:
    t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz'.

    Raises `WrongDatasetError` for an official file of another set or split; warns
    (`UnrecognizedDataWarning`) for files no published md5 matches, which still load.
    """
    directory = Path(data_dir)
    checks = check_mnist_files(directory, kinds)
    wrong = [c for c in checks if c.dataset is not None
             and (c.dataset != name or not c.in_its_role)]
    if wrong:
        raise _wrong(name, directory, wrong)
    known = [c.path.name for c in checks if c.dataset is not None]
    unknown = [c for c in checks if c.dataset is None]
    if unknown:
        names = ", ".join(f"{c.path.name} (md5 {c.md5})" for c in unknown)
        warnings.warn(f"load_dataset({name!r}): {names} in {directory} match no official "
                      f"{', '.join(SET_NAMES.values())} file, so they cannot be checked to be "
                      f"{SET_NAMES[name]} (a re-compressed or extracted copy is fine)",
                      UnrecognizedDataWarning, stacklevel=4)
    parts = [f"official {SET_NAMES[name]} files, md5 verified: {', '.join(known)}"] if known \
        else []
    if unknown:
        parts.append(f"unrecognized files: {', '.join(c.path.name for c in unknown)}")
    return "; ".join(parts)


def _what(official_name: str) -> str:
    """'t10k-labels-idx1-ubyte.gz' -> 'test labels'."""
    kind, part = official_name.split("-")[:2]
    return f"{'training' if kind == 'train' else 'test'} {part}"


def _wrong(name: str, directory: Path, wrong: list[FileCheck]) -> WrongDatasetError:
    detail = ", ".join(f"{c.path.name} holds the official {SET_NAMES[str(c.dataset)]} "
                       f"{_what(str(c.official_name))} (md5 {c.md5})" for c in wrong)
    other = next((c.dataset for c in wrong if c.dataset != name), None)
    if other is None:
        return WrongDatasetError(f"load_dataset({name!r}): in {directory}, {detail}: renamed "
                                 "files would mix the training and test sets", name, name,
                                 directory)
    load_as = f"load it as {other!r} or " if other in ("mnist", "fashion-mnist") else ""
    return WrongDatasetError(f"load_dataset({name!r}): {directory} does not hold "
                             f"{SET_NAMES[name]}: {detail}; {load_as}point data_dir at the "
                             f"{SET_NAMES[name]} files", name, other, directory)
