"""MNIST-format IDX files (MNIST, FashionMNIST, KMNIST ...), plain or gzip-compressed.

Format (big-endian): two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a byte giving the number of
dimensions d, then d uint32 sizes, then the values in C order. MNIST labels have magic
0x00000801 (ubyte, 1-d), images 0x00000803 (ubyte, 3-d: N x 28 x 28).

Every check happens before any reshape, so a truncated or corrupted file raises
`DataFormatError` naming the file and what was expected versus found. Compression is
detected from the gzip magic bytes (1f 8b), not from the file name.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from tinygrad_edu.data._errors import DataFormatError
from tinygrad_edu.files import check_file

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's contents, gunzipped when it starts with the gzip magic bytes."""
    return _read_bytes(path, "read_bytes")


def _read_bytes(path: str | os.PathLike[str], op: str) -> bytes:
    raw = check_file(path, op).read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DataFormatError(f"{op}: {path}: corrupted or truncated gzip data "
                              f"({len(raw):,} compressed bytes): {e}") from None


def read_idx(path: str | os.PathLike[str], expected_magic: int | None = None) -> np.ndarray:
    """The array stored in an IDX file (native byte order, a writable copy).

    `expected_magic` (e.g. 0x00000803 for MNIST images) makes any other type or number of
    dimensions an error.
    """
    return _read_idx(path, expected_magic, "read_idx")


def _read_idx(path: str | os.PathLike[str], expected_magic: int | None, op: str
              ) -> np.ndarray:
    # `op` is the public function the caller used, so its name starts every message.
    buf = _read_bytes(path, op)
    if len(buf) < 4:
        raise DataFormatError(f"{op}: {path}: not an IDX file: {len(buf)} bytes, shorter than the "
                              "4-byte magic number")
    magic = int.from_bytes(buf[:4], "big")
    type_code, ndim = buf[2], buf[3]
    if buf[:2] != b"\x00\x00" or type_code not in _IDX_TYPES:
        raise DataFormatError(f"{op}: {path}: not an IDX file: magic number 0x{magic:08X} "
                              "(expected 0x0000TTDD with type byte TT in 08,09,0B,0C,0D,0E)")
    if expected_magic is not None and magic != expected_magic:
        raise DataFormatError(f"{op}: {path}: magic number 0x{magic:08X}, expected "
                              f"0x{expected_magic:08X} (type 0x{(expected_magic >> 8) & 0xFF:02X},"
                              f" {expected_magic & 0xFF} dimensions)")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataFormatError(f"{op}: {path}: truncated header: {ndim} dimensions need {header} "
                              f"bytes, found {len(buf)}")
    dims = tuple(int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(buf) - header
    if found != expected:
        what = "truncated" if found < expected else "corrupted (trailing bytes)"
        raise DataFormatError(f"{op}: {path}: {what}: header says shape {dims} of {dtype.name} = "
                              f"{expected:,} data bytes, found {found:,}")
    values = np.frombuffer(buf, dtype=dtype, offset=header).reshape(dims)
    return values.astype(dtype.newbyteorder("="))  # a native-order, writable copy


def _find(data_dir: Path, stem: str) -> Path:
    # Official names use '-' before idx ('train-images-idx3-ubyte'); some mirrors use '.'.
    names = [stem, stem.replace("-idx", ".idx")]
    for name in names:
        for candidate in (data_dir / name, data_dir / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    present = sorted(p.name for p in data_dir.iterdir()) if data_dir.is_dir() else []
    raise FileNotFoundError(f"load_mnist: no {stem}(.gz) in {data_dir}"
                            + (f" (found: {', '.join(present[:10])})" if present
                               else " (directory missing or empty)"))


def mnist_file(data_dir: str | os.PathLike[str], kind: str, part: str) -> Path:
    """The file `load_mnist` reads for `kind` ('train'/'t10k') and `part` ('images'/'labels'):
    `{kind}-{part}-idx{3|1}-ubyte`, else the same name with '.gz' (FileNotFoundError when
    neither exists)."""
    return _find(Path(data_dir), f"{kind}-{part}-idx{3 if part == 'images' else 1}-ubyte")


def mnist_files_present(data_dir: str | os.PathLike[str], kind: str) -> bool:
    """Whether both the images and labels files of `kind` ('train'/'t10k') exist."""
    try:
        _find(Path(data_dir), f"{kind}-images-idx3-ubyte")
        _find(Path(data_dir), f"{kind}-labels-idx1-ubyte")
    except FileNotFoundError:
        return False
    return True


def load_mnist(data_dir: str | os.PathLike[str], kind: str = "train", *, flatten: bool = False,
               as_uint8: bool = False, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """`(images, labels)` from `{kind}-images-idx3-ubyte[.gz]` and
    `{kind}-labels-idx1-ubyte[.gz]` in `data_dir` (MNIST and FashionMNIST use these names).

    kind: 'train' or 't10k' ('test' is accepted for 't10k').
    images: float32 in [0, 1] (pixel / 255), or the raw uint8 with `as_uint8=True`; shape
    (N, 1, 28, 28) (NCHW), or (N, 784) with `flatten=True`. labels: int64, shape (N,).
    """
    kind = {"test": "t10k"}.get(kind, kind)
    if kind not in ("train", "t10k"):
        raise ValueError(f"load_mnist: kind must be 'train' or 't10k', got {kind!r}")
    root = Path(data_dir)
    images_path = _find(root, f"{kind}-images-idx3-ubyte")
    labels_path = _find(root, f"{kind}-labels-idx1-ubyte")
    images = _read_idx(images_path, 0x00000803, "load_mnist")
    labels = _read_idx(labels_path, 0x00000801, "load_mnist").astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(f"load_mnist: {images_path.name} holds {images.shape[0]:,} "
                              f"images but {labels_path.name} holds {labels.shape[0]:,} labels")
    if labels.size and labels.max() >= num_classes:
        raise DataFormatError(f"load_mnist: {labels_path}: labels must lie in "
                              f"[0, {num_classes}), found {labels.max()}")
    n, h, w = images.shape
    images = images.reshape((n, h * w) if flatten else (n, 1, h, w))
    if as_uint8:
        return images, labels
    # Multiplying by a float32 reciprocal keeps everything float32 and is one pass.
    return np.multiply(images, np.float32(1 / 255), dtype=np.float32), labels
