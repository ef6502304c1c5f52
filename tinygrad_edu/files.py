"""Reading files safely: one place that turns "missing", "a directory", "empty", "a
pickle", "an object array" and "truncated or corrupt" into the library's own errors
(`FileNotFoundError`, `IsADirectoryError`, `DataFormatError`) naming the op and the path.
numpy's raw errors (BadZipFile, EOFError, "Object arrays cannot be loaded ...") say
neither which call failed nor what file was expected.

Public because every reader shares it: `load`/`save` (serialization), `Module.load`, the
Solver's checkpoints and the data loaders (IDX, CIFAR batches, .npy/.npz data sets)."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.errors import DataFormatError

__all__ = ["NPZ_EXPECTED", "check_file", "load_arrays", "load_npz"]

NPZ_EXPECTED = "a file written by tinygrad_edu.save, Module.save or numpy.savez"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members / an empty zip
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_MAGIC = b"\x80"  # the PROTO opcode every pickle of protocol >= 2 starts with
# What numpy and zipfile raise for a damaged archive or .npy (zlib for a deflated member).
_NUMPY_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def check_file(path: str | os.PathLike[str], op: str) -> Path:
    """`path` as a Path, or the library's error when it is missing or a directory."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{op}: '{p}' is a directory; expected a file")
    if not p.exists():
        raise FileNotFoundError(f"{op}: no such file '{p}'")
    return p


def _refuse_by_magic(path: Path, op: str, expected: str) -> None:
    # Decided from the first bytes, before numpy sees the file: numpy treats anything
    # without a zip or .npy signature as a pickle, so random bytes would be reported as
    # one, and a pickle is refused here without ever being parsed.
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise DataFormatError(f"{op}: '{path}' is empty (0 bytes); expected {expected}")
    if head.startswith(_ZIP_MAGIC) or head.startswith(_NPY_MAGIC):
        return
    if head.startswith(_PICKLE_MAGIC):
        raise DataFormatError(f"{op}: '{path}' is a Python pickle, not a numpy archive; "
                              f"refused without unpickling (a pickle can run code); "
                              f"expected {expected}")
    raise DataFormatError(f"{op}: '{path}' is not a numpy archive (it starts with bytes "
                          f"{head[:4].hex(' ')}, not the zip signature 50 4b 03 04 or .npy's "
                          f"93 4e 55 4d); expected {expected}")


def _object_array(path: Path, op: str, where: str, expected: str) -> DataFormatError:
    return DataFormatError(f"{op}: '{path}' holds an object array{where}, which would need "
                           f"unpickling; refused (files are never unpickled); expected "
                           f"{expected}, with numeric arrays only")


def _member(archive: Any, key: str, path: Path, op: str, expected: str) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as e:
        if "allow_pickle" not in str(e):
            raise
        raise _object_array(path, op, f" in '{key}'", expected) from None
    if not isinstance(value, np.ndarray):  # numpy hands back non-.npy zip members as bytes
        raise DataFormatError(f"{op}: '{path}' has a member '{key}' that is not a .npy array "
                              f"(a PyTorch .pt zip?); expected {expected}")
    return value


def _brief(e: Exception) -> str:
    # numpy may quote a whole damaged header; the start is enough to recognise the cause.
    text = str(e)
    return f"{type(e).__name__}: {text[:80]}{'...' if len(text) > 80 else ''}"


def load_arrays(path: str | os.PathLike[str], op: str, expected: str = NPZ_EXPECTED
                ) -> np.ndarray | dict[str, np.ndarray]:
    """The array in a .npy, or every array of a .npz (read now, so a damaged member fails
    here, not later), loaded with allow_pickle=False."""
    p = check_file(path, op)
    _refuse_by_magic(p, op, expected)
    try:
        loaded = np.load(p, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            return loaded
        with loaded:
            return {k: _member(loaded, k, p, op, expected) for k in loaded.files}
    except DataFormatError:
        raise  # already ours (a ValueError too, so it would be caught below)
    except _NUMPY_ERRORS as e:
        if "allow_pickle" in str(e):  # a .npy of objects fails in np.load itself
            raise _object_array(p, op, "", expected) from None
        raise DataFormatError(f"{op}: '{p}' is not a valid numpy archive (truncated or "
                              f"corrupt: {_brief(e)}); expected {expected}") from None


def load_npz(path: str | os.PathLike[str], op: str, expected: str = NPZ_EXPECTED
             ) -> dict[str, np.ndarray]:
    """Every array of a .npz archive (see `load_arrays`); a bare .npy is refused."""
    arrays = load_arrays(path, op, expected)
    if not isinstance(arrays, dict):
        raise DataFormatError(f"{op}: '{path}' is a single .npy array, not a .npz archive; "
                              f"expected {expected}")
    return arrays
