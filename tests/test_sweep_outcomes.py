"""What a sweep's table can be trusted for (issue 16): a run stuck at chance is 'diverged',
not 'ok'; `time_s` is each run's measured wall time; test accuracy stands beside validation
accuracy when the data has a test split; a bad grid value is refused, naming the key and
what it takes, before the first run."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import data
from tinygrad_edu.course.models import TwoLayerNet
from tinygrad_edu.sweep import check_grid, grid_search, heatmap_axes


@pytest.fixture(scope="module")
def digits() -> data.Splits:
    return data.load_dataset("digits", flatten=True)


def _started_and_ended(run: Any) -> tuple[float, float]:
    # the first check sees the first batch's loss only; the last, the mean since the one before
    losses = run.history["train_loss_history"]
    return losses[0], losses[-1]


def test_a_run_stuck_at_chance_is_diverged(digits: data.Splits) -> None:
    # The case: Adam at lr=1 blows the logits up (validation loss ~141) and then
    # sits near chance; the Solver's explosion check (1000x the first loss) never fires.
    result = grid_search(None, "lr=1e-3,1 hidden=50", digits, epochs=3, progress=False)
    by_lr = {run.params["lr"]: run for run in result.runs}
    stuck, good = by_lr[1], by_lr[1e-3]
    assert stuck.status == "diverged" and good.status == "ok"
    start, end = _started_and_ended(stuck)
    assert end > start and stuck.iterations == 36  # trained to the end, not stopped
    start, end = _started_and_ended(good)
    assert end < start
    assert result.best is good and result.ranked()[-1] is stuck
    assert result.table().splitlines()[3].rstrip().endswith("diverged")


def test_the_rule_is_final_loss_above_start(digits: data.Splits) -> None:
    result = grid_search(None, {"lr": [1e-5, 1e-3, 1e-2, 1.0], "hidden": [20]}, digits,
                         epochs=2, progress=False)
    for run in result.runs:
        start, end = _started_and_ended(run)
        expected = "diverged" if end > start or not math.isfinite(end) else "ok"
        assert run.status == expected, run.params


def test_time_and_test_accuracy_are_filled(digits: data.Splits) -> None:
    result = grid_search(None, "lr=1e-3,1e-2", digits, epochs=1, progress=False)
    for run in result.runs:
        assert run.time_s > 0
        assert 0 <= run.test_acc <= 1 and 0 <= run.val_acc <= 1
    assert sum(r.time_s for r in result.runs) <= result.elapsed_s
    lines = result.table().splitlines()
    head = lines[0].split()
    assert head == ["rank", "lr", "val_acc", "test_acc", "train_acc", "val_loss",
                    "train_loss", "time_s", "status"]
    best = result.ranked()[0]
    cells = lines[2].split()
    assert cells[head.index("test_acc")] == f"{best.test_acc:.4f}"
    assert cells[head.index("time_s")] == f"{best.time_s:.3f}"
    # the accuracy of the parameters kept (the best validation check's) on the test split
    from tinygrad_edu import Tensor, no_grad

    with no_grad():
        predictions = result.best_model(Tensor(digits.X_test)).numpy().argmax(axis=1)
    assert best.test_acc == pytest.approx(float(np.mean(predictions == digits.y_test)))
    assert result.to_dict()["runs"][0]["test_acc"] == best.test_acc


def test_no_test_split_no_column_and_skipped_runs_have_no_time() -> None:
    r = np.random.default_rng(0)
    X = r.standard_normal((60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    arrays = {"X_train": X[:40], "y_train": y[:40], "X_val": X[40:], "y_val": y[40:]}
    result = grid_search(None, {"hidden": [3, 4]}, arrays, epochs=1, time_budget=0,
                         progress=False)
    assert "test_acc" not in result.table().splitlines()[0]
    assert all(math.isnan(run.test_acc) for run in result.runs)
    assert [line.split()[-2:] for line in result.table().splitlines()[2:4]] == [
        ["-", "skipped"], ["-", "skipped"]]


@pytest.mark.parametrize("grid, message", [
    ("hidden=50,abc", "hidden=abc is not valid: hidden takes positive integers, e.g. "
                      "hidden=100,300 or hidden=256x128"),
    ("hidden=0", "hidden=0 is not valid"),
    ("hidden=100x0", "hidden=100x0 is not valid"),
    ("lr=-1", "lr=-1 is not valid: lr takes finite numbers >= 0"),
    ("lr=inf", "lr=inf is not valid"),
    ("learning_rate=abc", "learning_rate=abc is not valid: learning_rate takes finite"),
    ("dropout=1", "dropout=1 is not valid: dropout takes numbers in [0, 1)"),
    ("reg=-1e-3", "reg=-0.001 is not valid: reg takes numbers >= 0"),
    ("beta1=1", "beta1=1 is not valid: beta1 takes numbers in [0, 1)"),
    ("epochs=0", "epochs=0 is not valid: epochs takes positive integers"),
    ("batch_size=2.5", "batch_size=2.5 is not valid"),
    ("optimizer=adam,foo", "optimizer=foo is not valid: optimizer takes sgd, momentum (or "
                           "sgd_momentum), rmsprop, adam"),
    ("activation=relu,foo", "activation=foo is not valid: MLP: unknown activation 'foo' "
                            "(valid: relu"),
    ("momentum=0.9", "Solver: optim_config key(s) ['momentum'] are not used by update_rule "
                     "'adam'"),
    ("width=3", "grid_search: the default MLP does not take ['width']"),
])
def test_bad_grids_are_refused_before_any_run(grid: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        check_grid(grid)
    assert message in str(info.value)
    with pytest.raises(ValueError):
        grid_search(None, grid, {}, epochs=1)  # refused before the data is even looked at


def test_check_grid_leaves_the_builds_own_keys_alone() -> None:
    # With build=, 'hidden' and 'reg' are the build's keyword arguments: whatever it takes.
    grid = {"hidden": ["wide"], "reg": [-1], "lr": [0.1], "optimizer": ["momentum"],
            "momentum": [0.5]}
    assert check_grid(grid, default_model=False) == grid
    with pytest.raises(ValueError, match="lr=-1 is not valid"):
        check_grid({"lr": [-1]}, default_model=False)

    def build(hidden: str) -> TwoLayerNet:  # sizes by name: the default MLP would refuse
        return TwoLayerNet(4, {"small": 3, "large": 8}[hidden], 2, weight_scale=0.1)

    r = np.random.default_rng(0)
    X = r.standard_normal((40, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    result = grid_search(build, {"hidden": ["small", "large"], "optimizer": ["sgd"]},
                         {"X_train": X[:30], "y_train": y[:30], "X_val": X[30:],
                          "y_val": y[30:]}, epochs=1, progress=False)
    assert [run.params["hidden"] for run in result.runs] == ["small", "large"]
    assert all(run.status != "skipped" for run in result.runs)


def test_heatmap_axes() -> None:
    grid = check_grid("lr=1e-3,1e-2 hidden=10 reg=0,1")
    assert heatmap_axes(grid, None) == ("lr", "reg")
    assert heatmap_axes(grid, ["hidden", "lr"]) == ("hidden", "lr")
    with pytest.raises(ValueError, match=r"heatmap must name two different grid keys \(keys: "
                                         r"lr, hidden, reg\), got \('lr', 'lr'\)"):
        heatmap_axes(grid, ("lr", "lr"))
    assert heatmap_axes(check_grid("lr=1"), None) is None
