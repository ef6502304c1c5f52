"""`save(obj, path)` / `load(path)`: state dicts, optimizer states and nested containers of
arrays in one .npz file, without pickle.

The structure (dicts, lists, tuples, numbers, strings, None) is stored as JSON in the
archive; every array (numpy or Tensor) is a separate npz member. Loading uses
`allow_pickle=False`, so a file can never run code; a damaged or foreign file raises
`DataFormatError` (see `files`).

A path ending in .safetensors stores a state dict (a flat dict of named tensors) in the
safetensors exchange format instead, which PyTorch and other tools read (`safetensors_io`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.errors import DataFormatError
from tinygrad_edu.files import NPZ_EXPECTED, load_npz
from tinygrad_edu.safetensors_io import is_safetensors_path, load_file, save_file
from tinygrad_edu.tensor import Tensor

_MANIFEST = "__structure__"


def _encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(obj.array)
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError("save: object arrays cannot be saved without pickle")
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, str | int | float | bool) and k is not None:
                raise TypeError(f"save: dict keys must be str/int/float/bool, got "
                                f"{type(k).__name__}")
            items.append([k, _encode(v, arrays)])
        return {"__dict__": items}
    if isinstance(obj, list | tuple):
        kind = "__tuple__" if isinstance(obj, tuple) else "__list__"
        return {kind: [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    raise TypeError(f"save: cannot store a {type(obj).__name__} (only tensors, arrays, dicts, "
                    "lists, tuples, numbers, strings and None; no pickles)")


def _decode(obj: Any, arrays: Any) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return Tensor(arrays[obj["__tensor__"]])
        if "__array__" in obj:
            return arrays[obj["__array__"]]
        if "__dict__" in obj:
            return {k: _decode(v, arrays) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        if "__list__" in obj:
            return [_decode(v, arrays) for v in obj["__list__"]]
        raise DataFormatError(f"load: unknown entry {sorted(obj)} in the structure")
    return obj


def save(obj: Any, f: str | Path) -> None:
    """Store tensors/arrays and their containers in an .npz file (no pickle); to a path
    ending in .safetensors, a state dict in the safetensors format."""
    if is_safetensors_path(f):
        save_file(obj, f, "save")
        return
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, arrays)
    manifest = np.frombuffer(json.dumps(structure).encode(), dtype=np.uint8)
    path = Path(f)
    members: dict[str, Any] = {_MANIFEST: manifest, **arrays}
    with open(path, "wb") as fh:
        np.savez(fh, **members)


def load(f: str | Path, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read what `save` wrote. Arrays come back as numpy arrays, tensors as Tensors; a
    .safetensors file gives a dict of Tensors (dtypes and shapes as stored)."""
    if is_safetensors_path(f):
        return {k: Tensor(v) for k, v in load_file(f, "load").items()}
    arrays = load_npz(f, "load")
    if _MANIFEST not in arrays:
        return arrays  # a plain npz (e.g. from Module.save or numpy): a dict of arrays
    try:
        structure = json.loads(arrays.pop(_MANIFEST).tobytes().decode())
        return _decode(structure, arrays)
    except (ValueError, KeyError, TypeError) as e:  # JSONDecodeError is a ValueError
        raise DataFormatError(f"load: '{f}' has a damaged {_MANIFEST} entry "
                              f"({type(e).__name__}: {e}); expected {NPZ_EXPECTED}") from None
