"""`tinygrad-edu train` with no flags but the data reaches the README's MNIST bars: its
defaults are the recipe `tests/test_mnist.py` holds to them (Adam, lr 2e-3 decayed x0.8
per epoch, batch 64; 15 epochs for the MLP, 8 for the convnet), and the MLP is run here end
to end through the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinygrad_edu._cli_commands import DEFAULT_EPOCHS
from tinygrad_edu.cli import build_parser, main

MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def test_train_defaults_are_the_recipe_that_reaches_the_bars() -> None:
    args = build_parser().parse_args(["train"])
    assert (args.optimizer, args.lr, args.lr_decay, args.batch_size) == ("adam", 2e-3, 0.8, 64)
    assert args.epochs is None and DEFAULT_EPOCHS == {"mlp": 15, "convnet": 8}
    source = (Path(__file__).parent / "test_mnist.py").read_text(encoding="utf-8")
    for epochs in DEFAULT_EPOCHS.values():  # the bars are asserted for these epoch counts
        assert f"num_epochs={epochs}" in source
    assert source.count("lr_decay=0.8, batch_size=64") == 2 and "2e-3" in source


def test_default_mlp_run_reaches_94_5_percent(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    assert main(["train", "--data-dir", str(MNIST), "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    assert "Epoch 15 / 15" in out and accuracy >= 0.945
