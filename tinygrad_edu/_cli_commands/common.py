"""What every subcommand shares: the one-line `CLIError`, the checks of --out and
--data-dir, loading a dataset with its problems phrased in the flags' terms, and writing."""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

OPTIMIZERS = {"sgd": "sgd", "momentum": "sgd_momentum", "rmsprop": "rmsprop", "adam": "adam"}
# the datasets read from files, and what --data-dir must hold for each
FILE_DATASETS = {
    "mnist": "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz and/or the t10k-* files",
    "fashion-mnist": "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz and/or the "
                     "t10k-* files",
    "cifar10": "CIFAR-10's data_batch_1..5 and test_batch (python or binary version)"}


class CLIError(Exception):
    """A user-facing problem: printed as one line, exit code 2."""


def write_json(path: Path, obj: Any) -> None:
    def default(o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(type(o).__name__)

    path.write_text(json.dumps(obj, indent=2, default=default))


def output_dir(text: str, flag: str = "--out", shown: str | None = None) -> Path:
    """`text` as a directory that exists and takes new files, else a CLIError naming `flag`
    and `shown` (default `text`; for a file, the file rather than its directory). Checked
    before any training, so an unwritable --out does not waste the run."""
    path, shown = Path(text), shown or text
    if path.exists() and not path.is_dir():
        raise CLIError(f"{flag} {shown}: {path} is a file, not a directory; pass a directory "
                       "to write into")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise CLIError(f"{flag} {shown}: cannot write to {path} ({e.strerror or e}); pass a "
                       "place you can write to") from None
    return path


def first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def _data_directory(name: str, data_dir: str | None) -> Path | None:
    """The directory a file-based dataset is read from, or None for the others; its
    problems named with --data-dir (the library's messages say data_dir=)."""
    from tinygrad_edu import data

    if name not in FILE_DATASETS:
        if data_dir is not None:
            raise CLIError(f"--data-dir is only for the file-based datasets "
                           f"({', '.join(FILE_DATASETS)}); --dataset {name} needs none")
        return None
    if data_dir is None:
        found = data.find_data_dir(name)
        if found is None:
            roots = " and ".join(str(r) for r in data.data_roots())
            raise CLIError(f"no {name} files found under {roots}; pass --data-dir DIR, a "
                           f"directory holding {FILE_DATASETS[name]} (or set "
                           "TINYGRAD_EDU_DATA)")
        return found
    directory = Path(data_dir)
    if not directory.is_dir():
        what = "is a file, not a directory" if directory.exists() else "no such directory"
        raise CLIError(f"--data-dir {data_dir}: {what}; pass the directory holding "
                       f"{FILE_DATASETS[name]}")
    return directory


def _wrong_dataset(e: Any) -> str:
    from tinygrad_edu.data.checksums import SET_NAMES

    if e.found == e.requested:  # official files under another split's names
        return f"--data-dir {e.directory}: {str(e).split(': ', 1)[-1]}"
    use = f"use --dataset {e.found}, or " if e.found in FILE_DATASETS else ""
    return (f"--dataset {e.requested}: {e.directory} holds the official {SET_NAMES[e.found]} "
            f"files, not {SET_NAMES[e.requested]}; {use}point --data-dir at the "
            f"{SET_NAMES[e.requested]} files")


def load_splits(name: str, data_dir: str | None, flatten: bool, seed: int = 0,
                command: str = "train", preprocess: bool = True) -> Any:
    """The dataset as Splits, or a one-line CLIError; warnings (e.g. files whose md5 no
    official set has) become one line each on stderr. `preprocess=False`: as loaded, for a
    model file's own preprocessing to apply."""
    from tinygrad_edu import data

    directory = _data_directory(name, data_dir)
    # Mean-image subtraction, as the courses do: on MNIST it is worth about half a point.
    extra: dict[str, Any] = ({"preprocess": "mean_image"} if name in ("mnist", "fashion-mnist")
                             else {})
    if not preprocess:
        extra = {"preprocess": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            splits = data.load_dataset(name, data_dir=directory, flatten=flatten, seed=seed,
                                       **extra)
        except data.WrongDatasetError as e:
            raise CLIError(_wrong_dataset(e)) from None
        except (OSError, data.DataFormatError) as e:
            raise CLIError(f"--data-dir {directory}: {first_line(e)}") from None
        except ImportError as e:
            raise CLIError(f"--dataset {name}: {first_line(e)}") from None
        except (ValueError, TypeError) as e:
            raise CLIError(first_line(e)) from None
    for w in caught:
        text = str(w.message).splitlines() or [w.category.__name__]
        print(f"tinygrad-edu {command}: warning: {text[0]}", file=sys.stderr)
    return splits


def describe_data(splits: Any) -> str:
    """'digits: 1257 train / 180 val / 360 test' plus what the files were, when known."""
    line = (f"{splits.name}: {len(splits.X_train)} train / {len(splits.X_val)} val / "
            f"{len(splits.X_test)} test")
    files = splits.info.get("files")
    return f"{line} ({files})" if files else line


def load_viz() -> Any:
    try:
        import viz
    except ImportError as e:  # pragma: no cover - viz ships with the package
        raise CLIError(f"viz is not importable ({e}); pip install 'tinygrad-edu[viz]'") from None
    return viz


def write_or_fail(out: Path, write: Callable[[], Any]) -> Any:
    """`write()`, its OSError (a full disk, a directory removed meanwhile) one line naming
    --out."""
    try:
        return write()
    except OSError as e:
        raise CLIError(f"--out {out}: writing failed ({e})") from None
