"""A restricted unpickler for data files such as the CIFAR-10 "python version" batches.

Unpickling can call any importable function (`os.system`, `builtins.eval` ...), so a pickle
from the internet is code, not data. `safe_load` admits only what numpy arrays and plain
containers need: dicts, lists, tuples, bytes, str and numbers (built by pickle opcodes,
without any global lookup), and these globals, resolved here rather than imported by name:

- `numpy.ndarray`, `numpy.dtype`;
- `numpy(._)core.multiarray._reconstruct` (how protocol <= 4 rebuilds an array),
  `numpy(._)core.numeric._frombuffer` (protocol 5) and `numpy(._)core.multiarray.scalar`
  (numpy scalars);
- `_codecs.encode`, only with the 'latin1' codec: protocol 2 pickles written by Python 3
  store bytes as `_codecs.encode(text, 'latin1')`.

Anything else is refused with `UnsafePickleError` before it is looked up, so nothing from a
refused pickle runs. Persistent ids are refused too (the base Unpickler does that).
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.data._errors import DataFormatError

try:  # numpy >= 2 keeps these under numpy._core; older numpy under numpy.core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]


class UnsafePickleError(DataFormatError, pickle.UnpicklingError):
    """A pickle asked for a global outside the allow-list; nothing from it was run."""


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    if codecs.lookup(encoding).name != "iso8859-1":
        raise UnsafePickleError(f"safe_load: _codecs.encode is admitted only with the 'latin1' "
                                f"codec (how protocol 2 stores bytes), not {encoding!r}")
    return text.encode("latin1", errors)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}
for _core in ("numpy.core", "numpy._core"):
    _ALLOWED[(f"{_core}.multiarray", "_reconstruct")] = _multiarray._reconstruct
    _ALLOWED[(f"{_core}.multiarray", "scalar")] = _multiarray.scalar
    _ALLOWED[(f"{_core}.numeric", "_frombuffer")] = _numeric._frombuffer  # type: ignore[attr-defined]


class RestrictedUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` whose `find_class` admits only the allow-list above."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"safe_load: refused to load global {module}.{name}: this pickle asks for "
                "something other than plain containers, numbers and numpy arrays (it may try "
                "to run code). Allowed: " + ", ".join(sorted(f"{m}.{n}" for m, n in _ALLOWED))
            ) from None


def safe_loads(data: bytes, encoding: str = "latin1") -> Any:
    """Unpickle `data` with the restricted unpickler. `encoding='latin1'` reads Python 2
    pickles (the CIFAR-10 batches) with their numpy arrays intact."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError,
            AttributeError) as e:
        raise DataFormatError(f"safe_load: corrupted or truncated pickle "
                              f"({len(data):,} bytes): {type(e).__name__}: {e}") from None


def safe_load(path: str | os.PathLike[str], encoding: str = "latin1") -> Any:
    """Unpickle the file at `path` with the restricted unpickler; errors name the file."""
    try:
        return safe_loads(Path(path).read_bytes(), encoding=encoding)
    except DataFormatError as e:
        raise type(e)(f"{path}: {e}") from None
