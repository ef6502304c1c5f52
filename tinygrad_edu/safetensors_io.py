"""The safetensors exchange format: named arrays that PyTorch, Hugging Face and other tools
read (`safetensors.torch.load_file`), written and read with the `safetensors` package's
numpy API.

A .safetensors file is an 8-byte little-endian header length, a JSON header naming every
tensor (dtype, shape, byte range) and the raw bytes; there is nothing to unpickle, so
loading never runs code. Our state dicts already carry PyTorch's key names
('0.weight', 'bn.running_mean', 'bn.num_batches_tracked'), so a file written here loads
into the equivalent `torch.nn` model and the reverse.

`safetensors` is an extra (`pip install 'tinygrad-edu[io]'`), imported only when a file is
read or written; without it those calls raise ImportError saying so. The framing of a file
is checked here with numpy and json before the package sees it, so an empty, truncated or
foreign file raises `DataFormatError` naming the op, the file and the problem.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.errors import DataFormatError
from tinygrad_edu.files import check_file
from tinygrad_edu.tensor import Tensor

__all__ = ["EXPECTED", "is_safetensors_path", "load_file", "save_file"]

EXPECTED = ("a .safetensors file (from Module.save, tinygrad_edu.save or "
            "safetensors' save_file)")
SUFFIX = ".safetensors"
# The safetensors dtype codes numpy can represent (bfloat16 and the float8s it cannot).
_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U64": np.uint64,
           "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
           "C64": np.complex64}
_STORABLE = {np.dtype(t) for t in _DTYPES.values()}
_PICKLE_MAGIC = b"\x80"  # PROTO, then the protocol: 2 to 5
_PICKLE_PROTOCOLS = (b"\x02", b"\x03", b"\x04", b"\x05")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
# Written into every file: the layout (key names, out x in weights, NCHW kernels) is
# PyTorch's, and Hugging Face's loaders refuse a file whose metadata does not say a format.
_METADATA = {"format": "pt"}


def is_safetensors_path(path: Any) -> bool:
    """True for a str/PathLike whose name ends in .safetensors (any case)."""
    return (isinstance(path, str | os.PathLike)
            and Path(os.fspath(path)).suffix.lower() == SUFFIX)


def _safetensors(op: str) -> Any:
    """The safetensors package (with its numpy API loaded), or an ImportError naming op."""
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(
            f"{op}: .safetensors files need the safetensors package, which is not installed; "
            "install it with `pip install safetensors` (or `pip install "
            "'tinygrad-edu[io]'`), or use a .npz file") from None
    return safetensors


# ----------------------------------------------------------------------------- writing


def _as_array(op: str, key: Any, value: Any) -> np.ndarray:
    if not isinstance(key, str):
        raise TypeError(f"{op}: a .safetensors file names its tensors with strings, got the "
                        f"key {key!r} ({type(key).__name__})")
    if not isinstance(value, Tensor | np.ndarray):
        raise TypeError(f"{op}: a .safetensors file holds only tensors and arrays, but "
                        f"'{key}' is a {type(value).__name__}; use a .npz file for numbers, "
                        "strings and nested containers (an optimizer's state)")
    array = value.array if isinstance(value, Tensor) else value
    if array.dtype not in _STORABLE:
        raise TypeError(f"{op}: '{key}' has dtype {array.dtype}, which safetensors cannot "
                        f"store from numpy; convert it (e.g. to float32 or int64)")
    # safetensors.numpy writes the bytes at the array's data pointer: a strided view (a
    # transposed weight) would be written scrambled. copy(order="C"), not
    # np.ascontiguousarray, which turns a 0-d num_batches_tracked into shape (1,).
    return array if array.flags.c_contiguous else array.copy(order="C")


def save_file(tensors: Any, path: str | os.PathLike[str], op: str) -> None:
    """Write a flat dict of named tensors/arrays to `path`, dtypes and shapes kept."""
    if not isinstance(tensors, Mapping):
        raise TypeError(f"{op}: a .safetensors file holds a dict of named tensors (a "
                        f"state_dict), got a {type(tensors).__name__}; use a .npz file for "
                        "other objects")
    arrays = {key: _as_array(op, key, value) for key, value in tensors.items()}
    target = Path(path)
    # Said here, in Python's own error classes: the package reports both as a
    # SafetensorError ("I/O error ... os error 21") without naming the op.
    if target.is_dir():
        raise IsADirectoryError(f"{op}: '{target}' is a directory; expected a file path")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{op}: no such directory '{target.parent}' to write "
                                f"'{target.name}' in")
    _safetensors(op).numpy.save_file(arrays, os.fspath(path), metadata=_METADATA)


# ----------------------------------------------------------------------------- reading


def _foreign(head: bytes, size: int) -> str:
    """What the first bytes say the file is, when they are not a safetensors header."""
    if size == 0:
        return "is empty (0 bytes)"
    if head[:1] == _PICKLE_MAGIC and head[1:2] in _PICKLE_PROTOCOLS:
        return ("is a Python pickle, not a safetensors file; refused without unpickling (a "
                "pickle can run code)")
    if head.startswith(_ZIP_MAGIC):
        return "is a zip archive (a numpy .npz or a PyTorch .pt file?), not a safetensors file"
    if head.startswith(_NPY_MAGIC):
        return "is a numpy .npy file, not a safetensors file"
    if size <= 8:
        return (f"is too short ({size} bytes) to be a safetensors file, which starts with "
                "an 8-byte header length and a JSON header")
    return (f"is not a safetensors file (it starts with bytes {head[:4].hex(' ')}, and its "
            "9th byte is not the '{' that opens a safetensors header)")


def _read_header(path: Path) -> tuple[dict[str, Any], int] | str:
    """The JSON header and the number of data bytes after it, or what is wrong."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(9)
        # A safetensors file has '{' right after its 8-byte length; anything else is known
        # by its magic bytes. Not the other way round: a header of 128 to 255 bytes makes
        # the file start with 0x80, the byte every pickle starts with.
        if head[8:9] != b"{":
            return _foreign(head, size)
        length = int.from_bytes(head[:8], "little")
        if length > size - 8:
            return (f"is truncated: its first 8 bytes give a header of {length:,} bytes, "
                    f"but only {size - 8:,} bytes follow")
        fh.seek(8)
        text = fh.read(length)
    try:
        header = json.loads(text.decode("utf-8"))
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return f"has a header that is not valid JSON ({type(e).__name__}: {str(e)[:80]})"
    if not isinstance(header, dict):
        return f"has a header that is a JSON {type(header).__name__}, not an object"
    return header, size - 8 - length


def _check_entry(key: str, entry: Any) -> tuple[int, str | None]:
    """The end of the entry's byte range, and what is wrong with it (None if nothing)."""
    try:
        code, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64))
        numbers = [*shape, begin, end]
        if not isinstance(code, str) or not all(isinstance(n, int) and n >= 0 for n in numbers):
            raise ValueError
    except (TypeError, KeyError, ValueError):
        return 0, (f"has a malformed header entry for '{key}' (expected dtype, shape and "
                   f"data_offsets, got {json.dumps(entry)[:80]})")
    if code not in _DTYPES:
        return end, (f"holds '{key}' as {code}, which numpy cannot represent (bfloat16 and "
                     "the float8 types have no numpy dtype); convert it to float32 before "
                     "saving")
    if end - begin != count * np.dtype(_DTYPES[code]).itemsize:
        return end, (f"has an inconsistent entry for '{key}': shape {tuple(shape)} of {code} "
                     f"needs {count * np.dtype(_DTYPES[code]).itemsize:,} bytes, its byte "
                     f"range [{begin}, {end}) holds {end - begin:,}")
    return end, None


def _diagnose(path: Path) -> str | None:
    """What is wrong with the file's framing (numpy and json only), or None."""
    read = _read_header(path)
    if isinstance(read, str):
        return read
    header, data_bytes = read
    needed = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        end, problem = _check_entry(key, entry)
        if problem:
            return problem
        needed = max(needed, end)
    if needed > data_bytes:
        return (f"is truncated: its header describes {needed:,} bytes of tensor data, but "
                f"only {data_bytes:,} follow the header")
    if needed < data_bytes:
        return (f"is corrupt: {data_bytes - needed:,} bytes follow the last tensor its "
                "header describes")
    return None


def load_file(path: str | os.PathLike[str], op: str, expected: str = EXPECTED
              ) -> dict[str, np.ndarray]:
    """Every array of a .safetensors file, dtypes and shapes as stored."""
    p = check_file(path, op)
    problem = _diagnose(p)
    if problem:
        raise DataFormatError(f"{op}: '{p}' {problem}; expected {expected}")
    package = _safetensors(op)
    try:
        arrays: dict[str, np.ndarray] = package.numpy.load_file(p)
    except (ValueError, TypeError, package.SafetensorError) as e:
        # What the framing check above lets through (overlapping byte ranges, say).
        raise DataFormatError(f"{op}: '{p}' is not a valid safetensors file "
                              f"({type(e).__name__}: {str(e)[:80]}); expected "
                              f"{expected}") from None
    return arrays
