"""Handing a trained model on (issue 16, points 1 and 2, from the command line): `train`
writes a model file and a checkpoint that carry the model's constructor and the
preprocessing; `train --resume` finishes a run as if it had never stopped; `predict` and
`evaluate` apply the saved preprocessing to raw images and agree with what training
reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shared_data import shared_mnist

import tinygrad_edu as tg
from tinygrad_edu import data
from tinygrad_edu.cli import main
from tinygrad_edu.train import Preprocessing, load_model

MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def history(out: Path) -> dict:
    return json.loads((out / "history.json").read_text())


def accuracy_line(capsys: pytest.CaptureFixture[str]) -> tuple[int, int]:
    """(correct, total) from evaluate's 'DATASET SPLIT: accuracy A (C / N)'."""
    line = capsys.readouterr().out.strip().splitlines()[-1]
    correct, total = line.split("(")[1].rstrip(")").split(" / ")
    return int(correct), int(total)


# ----------------------------------------------------------------------------- resume


def test_train_resume_finishes_the_run_as_an_uninterrupted_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--dataset", "digits", "--batch-size", "64", "--hidden", "16", "--lr", "1e-2",
              "--optimizer", "momentum", "--lr-decay", "0.9", "--no-progress"]
    assert main(["train", *common, "--epochs", "3", "--out", str(tmp_path / "straight")]) == 0
    assert main(["train", *common, "--epochs", "1", "--out", str(tmp_path / "part")]) == 0
    capsys.readouterr()
    # the run's own options come back from the checkpoint; --epochs extends it
    assert main(["train", "--resume", str(tmp_path / "part" / "checkpoint.npz"), "--epochs",
                 "3", "--out", str(tmp_path / "resumed"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resuming from" in out and "mlp on digits, 1 of 3 epochs done" in out
    assert "(Epoch 1 / 3)" not in out and "(Epoch 3 / 3)" in out
    straight, resumed = (load_model(tmp_path / d / "model.npz") for d in ("straight", "resumed"))
    expected = straight.model.state_dict()
    for key, value in resumed.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[key].numpy(), err_msg=key)
    for key in ("loss_history", "val_acc_history", "train_loss_history", "test_acc"):
        assert history(tmp_path / "resumed")[key] == history(tmp_path / "straight")[key], key


def test_resume_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default --out lands here
    assert main(["train", "--resume", str(tmp_path / "missing.npz")]) == 2
    assert f"tinygrad-edu train: error: --resume {tmp_path / 'missing.npz'}: " in \
        capsys.readouterr().err
    tg.save({"w": np.zeros(2)}, tmp_path / "other.npz")
    assert main(["train", "--resume", str(tmp_path / "other.npz")]) == 2
    assert "is not a Solver checkpoint" in capsys.readouterr().err
    common = ["--dataset", "blobs", "--batch-size", "50", "--hidden", "8", "--no-progress"]
    assert main(["train", *common, "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    assert main(["train", "--resume", str(tmp_path / "run" / "checkpoint.npz"), "--out",
                 str(tmp_path / "again")]) == 0  # nothing left to do
    capsys.readouterr()


# ----------------------------------------------------------------------------- MNIST


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared_mnist()
    out = tmp_path_factory.mktemp("mnist")
    assert main(["train", "--dataset", "mnist", "--data-dir", str(MNIST), "--epochs", "1",
                 "--hidden", "32", "--lr", "3e-3", "--out", str(out), "--no-progress"]) == 0
    return out


def test_evaluate_gives_the_accuracy_training_reported(
        mnist_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reported = history(mnist_run)
    capsys.readouterr()
    assert main(["evaluate", str(mnist_run / "model.npz"), "--data-dir", str(MNIST)]) == 0
    correct, total = accuracy_line(capsys)
    assert total == 2000 and correct / total == reported["test_acc"]
    # the model file holds the best-validation weights, measured on the whole val split
    assert main(["evaluate", str(mnist_run / "model.npz"), "--split", "val", "--data-dir",
                 str(MNIST)]) == 0
    correct, total = accuracy_line(capsys)
    assert correct / total == max(reported["val_acc_history"])
    assert main(["evaluate", str(mnist_run / "checkpoint.npz"), "--data-dir", str(MNIST)]) == 0
    assert accuracy_line(capsys)[0] / 2000 == reported["test_acc"]


def test_predict_applies_the_saved_preprocessing_to_raw_pixels(
        mnist_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = data.read_idx(MNIST / "t10k-images-idx3-ubyte.gz")  # raw uint8 (N, 28, 28)
    labels = data.read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")
    out = tmp_path / "labels.npy"
    assert main(["predict", str(mnist_run / "model.npz"), str(MNIST / "t10k-images-idx3-ubyte.gz"),
                 "--out", str(out)]) == 0
    predicted = np.load(out)
    assert predicted.shape == (10_000,) and np.mean(predicted == labels) > 0.85
    trained = load_model(mnist_run / "model.npz")
    # the same images as floats in [0, 1], as rows: the same predictions
    rows = (images.reshape(10_000, 784) * np.float32(1 / 255)).astype(np.float32)
    np.save(tmp_path / "rows.npy", rows[:300])
    capsys.readouterr()
    assert main(["predict", str(mnist_run / "model.npz"), str(tmp_path / "rows.npy")]) == 0
    printed = [int(s) for s in capsys.readouterr().out.split()]
    assert printed == predicted[:300].tolist()
    # what the old model.npz invited: raw [0, 1] pixels straight into the network
    with tg.no_grad():
        unprocessed = np.argmax(trained.model(tg.tensor(rows)).numpy(), axis=1)
    assert np.mean(unprocessed == labels) < np.mean(predicted == labels) - 0.05
    # --split test and evaluate agree
    assert main(["predict", str(mnist_run / "model.npz"), "--split", "test", "--data-dir",
                 str(MNIST), "--out", str(tmp_path / "test.txt")]) == 0
    test_labels = np.loadtxt(tmp_path / "test.txt", dtype=np.int64)
    y_test = data.load_dataset("mnist", MNIST, flatten=True).y_test
    assert len(test_labels) == 2000
    assert np.mean(test_labels == y_test) == history(mnist_run)["test_acc"]
    # already-preprocessed or 0..255 floats are refused, not silently misread
    np.save(tmp_path / "wide.npy", rows[:5] * 255)
    assert main(["predict", str(mnist_run / "model.npz"), str(tmp_path / "wide.npy")]) == 2
    assert "float pixels range over [0, 255]" in capsys.readouterr().err


def test_predict_and_evaluate_refuse_weights_without_a_description(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tg.nn.Linear(4, 3).save(tmp_path / "weights.npz")
    assert main(["predict", str(tmp_path / "weights.npz"), "--split", "test"]) == 2
    assert "is not a model file" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nothing.npz")]) == 2
    assert "no such file" in capsys.readouterr().err


# ----------------------------------------------------------------------------- Preprocessing


@pytest.mark.parametrize("name, preprocess, flatten", [
    ("spirals", "standardize", True), ("digits", "channel", False),
    ("digits", "mean_image", True), ("blobs", None, True)])
def test_preprocessing_reproduces_the_training_inputs_exactly(
        name: str, preprocess: str | None, flatten: bool, tmp_path: Path) -> None:
    splits = data.load_dataset(name, flatten=flatten, preprocess=preprocess, seed=4)
    raw = data.load_dataset(name, flatten=flatten, preprocess=None, seed=4)
    saved = Preprocessing.of(splits, seed=4)
    tg.save(saved.state(), tmp_path / "prep.npz")  # as a model file stores it
    again = Preprocessing.from_state(tg.load(tmp_path / "prep.npz"))
    assert again.same_as(saved) and again.transform == preprocess
    np.testing.assert_array_equal(again(raw.X_test), splits.X_test)


def test_preprocessing_accepts_images_rows_and_raw_integers() -> None:
    splits = data.load_dataset("digits", flatten=True, preprocess="mean_image")
    prep = Preprocessing.of(splits)
    assert (prep.dataset, prep.input_shape, prep.image_shape, prep.flatten) == (
        "digits", (64,), (1, 8, 8), True)
    raw = data.load_dataset("digits", flatten=True, preprocess=None).X_test
    integers = np.rint(raw * 16).astype(np.uint8)  # the 0..16 values sklearn stores
    for shaped in (integers, integers.reshape(-1, 8, 8), integers.reshape(-1, 1, 8, 8)):
        np.testing.assert_array_equal(prep(shaped), splits.X_test)
    with pytest.raises(ValueError, match=r"shape \(359, 9, 9\) do not fit the model"):
        prep(np.zeros((359, 9, 9), np.uint8))
    with pytest.raises(ValueError, match="expected a batch"):
        prep(np.zeros(64, np.float32))
