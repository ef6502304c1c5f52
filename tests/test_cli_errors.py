"""`tinygrad-edu` keeps its promise of one-line errors (issue 16): every bad argument, missing
or wrong data, unwritable output and a missing Graphviz gives exactly one line on stderr that
names the flag (and what would be valid), exit status 2, and no traceback. Also: --help
shows every option's default, --version prints the package version, and the demo says which
data set it really trained on with the real layer sizes."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import shared_mnist

import tinygrad_edu
import tinygrad_edu._cli_commands as commands
from tinygrad_edu import data
from tinygrad_edu._cli_commands import demo
from tinygrad_edu.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "datasets" / "mnist"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The defaults (out/train, out/graph.svg, ...) would otherwise land in the checkout.
    monkeypatch.chdir(tmp_path)


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("tinygrad-edu")
    return err


def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a_file"
    path.write_text("not a directory")
    return path


# ----------------------------------------------------------------------------- arguments

BAD_ARGUMENTS = [
    (["train", "--dataset", "nope"], ["argument --dataset: invalid choice: 'nope'", "'mnist'"]),
    (["train", "--model", "resnet"], ["argument --model", "'convnet'"]),
    (["train", "--optimizer", "lbfgs"], ["argument --optimizer", "'adam'"]),
    (["train", "--epochs", "abc"], ["argument --epochs: expected a positive integer, got 'abc'"]),
    (["train", "--epochs", "0"], ["argument --epochs: expected a positive integer, got 0"]),
    (["train", "--batch-size", "1.5"], ["argument --batch-size: expected a positive integer"]),
    (["train", "--lr", "-1"], ["argument --lr: expected a positive finite number, got -1.0"]),
    (["train", "--lr", "inf"], ["argument --lr: expected a positive finite number, got inf"]),
    (["train", "--lr", "nan"], ["argument --lr: expected a positive finite number, got nan"]),
    (["train", "--lr-decay", "x"], ["argument --lr-decay: expected a positive number"]),
    (["train", "--seed", "-1"], ["argument --seed: expected an integer >= 0, got -1"]),
    (["train", "--hidden", "0,3"], ["argument --hidden: sizes must be positive integers"]),
    (["train", "--hidden", "2x"], ["argument --hidden: takes sizes like 256 or 256,128"]),
    (["train", "--bogus", "3"], ["unrecognized arguments: --bogus 3"]),
    (["bogus"], ["argument COMMAND: invalid choice: 'bogus'", "'sweep'"]),
    (["demo", "--epochs", "-2"], ["argument --epochs"]),
    (["graph", "--example", "gan"], ["argument --example: invalid choice", "'autoencoder'"]),
    (["graph", "--out", "graph.jpg"], ["--out must end in .svg, .png, .pdf or .dot, got "
                                       "'graph.jpg'"]),
    (["sweep"], ["the following arguments are required: --grid"]),
    (["sweep", "--grid", "lr=1", "--time-budget", "0"], ["argument --time-budget"]),
    (["sweep", "--grid", "hidden=50,abc", "--dataset", "blobs"],
     ["grid_search: hidden=abc is not valid: hidden takes positive integers",
      "(in --grid 'hidden=50,abc')"]),
    (["sweep", "--grid", "lr=1e-3,-1", "--dataset", "blobs"],
     ["lr=-1 is not valid: lr takes finite numbers >= 0", "--grid"]),
    (["sweep", "--grid", "optimizer=adam,foo", "--dataset", "blobs"],
     ["optimizer=foo is not valid: optimizer takes sgd, momentum", "--grid"]),
    (["sweep", "--grid", "activation=foo", "--dataset", "blobs"],
     ["activation=foo is not valid", "valid: relu", "--grid"]),
    (["sweep", "--grid", "momentum=0.9", "--dataset", "blobs", "--optimizer", "adam"],
     ["['momentum'] are not used by update_rule 'adam'", "--grid"]),
    (["sweep", "--grid", "lr=1e-3 hidden=4", "--heatmap", "lr", "reg", "--dataset", "blobs"],
     ["--heatmap lr reg: grid_search: heatmap must name two different grid keys (keys: lr, "
      "hidden)"]),
    (["sweep", "--grid", "lr=", "--dataset", "blobs"], ["parse_grid: term 'lr='", "--grid"]),
    (["train", "--dataset", "blobs", "--model", "convnet"],
     ["--model convnet needs image data"]),
]


@pytest.mark.parametrize("argv, fragments", BAD_ARGUMENTS,
                         ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_are_one_line(argv: list[str], fragments: list[str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(argv, capsys)
    for fragment in fragments:
        assert fragment in err


# ----------------------------------------------------------------------------- data


def test_missing_data_names_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(data, "find_data_dir", lambda name: None)
    for name in ("mnist", "fashion-mnist", "cifar10"):
        err = one_line_error(["train", "--dataset", name], capsys)
        assert f"error: no {name} files found under " in err
        assert "pass --data-dir DIR, a directory holding" in err
    err = one_line_error(["sweep", "--grid", "lr=1", "--dataset", "cifar10"], capsys)
    assert "data_batch_1..5 and test_batch" in err and "--data-dir" in err


def test_bad_data_dirs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(["train", "--data-dir", str(tmp_path / "nope")], capsys)
    assert f"--data-dir {tmp_path / 'nope'}: no such directory; pass the directory holding " \
           "train-images-idx3-ubyte.gz" in err
    err = one_line_error(["train", "--data-dir", str(a_file(tmp_path))], capsys)
    assert "is a file, not a directory" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    err = one_line_error(["train", "--dataset", "fashion-mnist", "--data-dir", str(empty)],
                         capsys)
    assert f"--data-dir {empty}: load_mnist: no train-images-idx3-ubyte(.gz)" in err
    err = one_line_error(["train", "--dataset", "digits", "--data-dir", str(empty)], capsys)
    assert "--data-dir is only for the file-based datasets (mnist, fashion-mnist, cifar10)" \
        in err


def test_corrupt_files_name_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 9))
    err = one_line_error(["train", "--data-dir", str(tmp_path), "--out", "o"], capsys)
    assert f"--data-dir {tmp_path}: load_mnist: " in err and "truncated header" in err


def test_fashion_mnist_on_mnist_files(capsys: pytest.CaptureFixture[str]) -> None:
    shared_mnist()
    for command in (["train"], ["sweep", "--grid", "lr=1e-3"]):
        err = one_line_error([*command, "--dataset", "fashion-mnist", "--data-dir",
                              str(SHARED_MNIST)], capsys)
        assert err.endswith(f"error: --dataset fashion-mnist: {SHARED_MNIST} holds the "
                            "official MNIST files, not Fashion-MNIST; use --dataset mnist, or "
                            "point --data-dir at the Fashion-MNIST files\n")


def test_unknown_files_warn_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    from test_data_checksums import write_fake

    write_fake(tmp_path, "t10k", 3100)  # the default split takes 1,000 val and 2,000 test
    loaded = commands.load_splits("mnist", str(tmp_path), flatten=True, command="train")
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("tinygrad-edu train: warning: load_dataset('mnist'): "
                          "t10k-images-idx3-ubyte.gz (md5 ")
    assert "unrecognized files" in commands.describe_data(loaded)


# ----------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("command", [["train", "--dataset", "blobs"], ["demo"],
                                     ["sweep", "--grid", "lr=1e-3", "--dataset", "blobs"]])
def test_unwritable_out(command: list[str], tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    # Below a regular file nothing can be created, even by root (chmod would not stop root).
    target = a_file(tmp_path) / "out"
    err = one_line_error([*command, "--out", str(target)], capsys)
    assert f"--out {target}: cannot write to {target} (Not a directory)" in err
    assert capsys.readouterr().out == ""  # refused before any training
    err = one_line_error([*command, "--out", str(a_file(tmp_path))], capsys)
    assert "is a file, not a directory" in err


def test_graph_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(["graph", "--out", str(a_file(tmp_path) / "g.svg")], capsys)
    assert f"--out {a_file(tmp_path) / 'g.svg'}: {a_file(tmp_path)} is a file, not a " \
        "directory" in err
    err = one_line_error(["graph", "--out", str(tmp_path)], capsys)
    assert f"--out {tmp_path}: is a directory; pass a file such as" in err
    assert main(["graph", "--out", "sub/g.dot"]) == 0
    assert capsys.readouterr().out == "sub/g.dot\n"
    assert (tmp_path / "sub" / "g.dot").read_text().startswith("digraph")


def test_graph_without_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` on PATH
    err = one_line_error(["graph", "--out", "g.svg"], capsys)
    assert "Graphviz's `dot` program is not on PATH, so --out g.svg cannot be drawn" in err
    assert "or pass --out FILE.dot for the DOT text" in err
    assert main(["graph", "--out", "g.dot"]) == 0  # the DOT text needs no Graphviz


def test_through_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": str(tmp_path)}
    for argv in (["graph", "--out", "g.png"],
                 ["sweep", "--grid", "hidden=50,abc", "--dataset", "blobs"]):
        done = subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", *argv], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert done.stderr.startswith(f"tinygrad-edu {argv[0]}: error: ")


# ----------------------------------------------------------------------------- help, version


def _option_blocks(help_text: str) -> dict[str, str]:
    """Each option's help, joined over its wrapped lines: {'--epochs EPOCHS': '...'}."""
    blocks: dict[str, str] = {}
    current = None
    for line in help_text.split("options:", 1)[1].splitlines():
        if re.match(r"^  -", line):
            current = line.split("  ")[1].strip()
            blocks[current] = " ".join(line.split()[1:])
        elif current and line.startswith("   "):
            blocks[current] += " " + line.strip()
    return blocks


@pytest.mark.parametrize("command", ["demo", "train", "graph", "sweep"])
def test_help_shows_every_default(command: str, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert main([command, "--help"]) == 0
    blocks = _option_blocks(capsys.readouterr().out)
    assert len(blocks) >= 3
    for head, text in blocks.items():
        if head.startswith("-h") or head.startswith("--grid"):  # help; required
            continue
        assert "(default: " in text, f"{command} {head}: {text}"
    if command == "train":
        assert "(default: 256)" in blocks["--hidden HIDDEN"]  # a value, not a list's repr
        assert "(default: 0.002)" in blocks["--lr LR"]
        assert "(default: found under $TINYGRAD_EDU_DATA" in blocks["--data-dir DATA_DIR"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"tinygrad-edu {tinygrad_edu.__version__}\n"
    project = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', project, re.M).group(1) == \
        tinygrad_edu.__version__  # type: ignore[union-attr]
    assert main(["--help"]) == 0 and "--version" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the demo


def test_demo_names_the_data_it_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(data, "find_mnist_dir", lambda: None)
    assert main(["demo", "--epochs", "1", "--no-progress", "--out", "demo"]) == 0
    out = capsys.readouterr().out
    assert "3) Training a 64-256-10 MLP with Adam on the 8x8 scikit-learn digits, as no MNIST " \
           "files were found (pass --data-dir)" in out
    assert "784" not in out
    assert re.search(r"data: digits: \d+ train / \d+ val / \d+ test", out)


def test_demo_picks_the_set_its_files_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from test_data_checksums import write_fake

    from tinygrad_edu.data import checksums

    sums = write_fake(tmp_path / "files", "t10k")
    assert demo._demo_dataset(str(tmp_path / "files")) == ("mnist",
                                                              str(tmp_path / "files"), "")
    for role, md5 in sums.items():
        monkeypatch.setitem(checksums.OFFICIAL_MD5, md5, ("fashion-mnist", f"{role}.gz"))
    assert demo._demo_dataset(str(tmp_path / "files"))[0] == "fashion-mnist"
    if SHARED_MNIST.is_dir():
        monkeypatch.setattr(data, "find_mnist_dir", lambda: SHARED_MNIST)
        assert demo._demo_dataset(None) == ("mnist", str(SHARED_MNIST), "")
