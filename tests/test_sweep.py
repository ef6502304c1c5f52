"""Hyperparameter sweeps: parse_grid, grid_search on a small synthetic set (ranking, JSON,
heatmap, best model, diverged and skipped runs, a course model through build=), and the
`tinygrad-edu sweep` command."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu.cli import main
from tinygrad_edu.course.models import TwoLayerNet
from tinygrad_edu.nn.module import Module
from tinygrad_edu.sweep import grid_search, parse_grid

PNG = b"\x89PNG\r\n\x1a\n"


def blobs(n: int = 200, d: int = 6, classes: int = 3, seed: int = 0) -> dict[str, Any]:
    r = np.random.default_rng(seed)
    centers = 2.0 * r.standard_normal((classes, d))
    y = r.integers(0, classes, n)
    X = (centers[y] + r.standard_normal((n, d))).astype(np.float32)
    cut = n * 3 // 4
    return {"X_train": X[:cut], "y_train": y[:cut], "X_val": X[cut:], "y_val": y[cut:]}


def test_parse_grid() -> None:
    grid = parse_grid("lr=1e-3,1e-2 hidden=100,300x100 reg=0,1e-3 optimizer=adam,sgd")
    assert grid == {"lr": [1e-3, 1e-2], "hidden": [100, (300, 100)], "reg": [0, 1e-3],
                    "optimizer": ["adam", "sgd"]}
    assert isinstance(grid["hidden"][0], int) and isinstance(grid["lr"][0], float)


@pytest.mark.parametrize("text, message", [
    ("", "the grid is empty"),
    ("lr 1e-3", "term 'lr' must look like key=v1,v2"),
    ("lr=", "term 'lr=' must look like key=v1,v2"),
    ("lr=1e-3,,1", "term 'lr=1e-3,,1' has an empty value"),
    ("lr=1 lr=2", "key 'lr' appears twice"),
    ("lr=nan", "nan is not a hyperparameter value"),
])
def test_parse_grid_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"parse_grid: {message}"):
        parse_grid(text)


def test_grid_search_default_mlp(tmp_path: Path) -> None:
    data = blobs()
    result = grid_search(None, "lr=1e-3,3e-2 hidden=4,16 reg=0,1e-4", data, epochs=3,
                         batch_size=25, out_dir=tmp_path, heatmap=("hidden", "lr"),
                         progress=False)
    assert len(result.runs) == 8 and all(r.status == "ok" for r in result.runs)
    ranked = result.ranked()
    accs = [r.val_acc for r in ranked]
    assert accs == sorted(accs, reverse=True)
    assert result.best is ranked[0] and result.best.params["lr"] == 3e-2
    assert isinstance(result.best_model, Module)
    # the returned model is the best run's, with its best parameters restored
    from tinygrad_edu import Tensor, no_grad

    with no_grad():
        pred = result.best_model(Tensor(data["X_val"])).numpy().argmax(axis=1)
    assert np.mean(pred == data["y_val"]) == result.best.val_acc
    table = result.table().splitlines()
    assert table[0].split() == ["rank", "lr", "hidden", "reg", "val_acc", "train_acc",
                                "val_loss", "train_loss", "time_s", "status"]
    assert table[2].split()[1:4] == [f"{ranked[0].params[k]:g}" for k in ("lr", "hidden",
                                                                         "reg")]
    assert "8 of 8 runs" in table[-1]
    doc = json.loads(result.json_path.read_text())   # type: ignore[union-attr]
    assert doc["grid"]["hidden"] == [4, 16] and doc["heatmap_axes"] == ["hidden", "lr"]
    assert [r["val_acc"] for r in doc["runs"]] == accs
    assert len(doc["runs"][0]["history"]["val_acc_history"]) == 4
    assert result.heatmap_path == tmp_path / "heatmap.png"
    assert result.heatmap_path.read_bytes()[:8] == PNG


def test_diverged_runs_are_recorded_and_never_best(tmp_path: Path) -> None:
    result = grid_search(None, {"lr": [1e-2, 1e3]}, blobs(), epochs=3, batch_size=25,
                         optimizer="sgd", out_dir=tmp_path)
    by_lr = {r.params["lr"]: r for r in result.runs}
    assert by_lr[1e3].status == "diverged" and by_lr[1e-2].status == "ok"
    assert by_lr[1e3].iterations < 3 * 6
    assert result.best is by_lr[1e-2]
    assert result.ranked()[-1] is by_lr[1e3]
    assert result.table().splitlines()[3].rstrip().endswith("diverged")
    doc = json.loads((tmp_path / "sweep.json").read_text())
    assert doc["runs"][-1]["status"] == "diverged"
    # one key only: no heatmap
    assert result.heatmap_path is None and not (tmp_path / "heatmap.png").exists()


def test_build_gets_the_model_keys_and_the_solver_the_rest() -> None:
    seen: list[dict[str, Any]] = []

    def build(hidden: int, reg: float) -> TwoLayerNet:
        seen.append({"hidden": hidden, "reg": reg})
        return TwoLayerNet(6, hidden, 3, weight_scale=0.1, reg=reg)

    result = grid_search(build, {"hidden": [5, 10], "reg": [0.0], "lr": [1e-1],
                                 "optimizer": ["momentum"]}, blobs(), epochs=2, batch_size=25)
    assert seen == [{"hidden": 5, "reg": 0.0}, {"hidden": 10, "reg": 0.0}]
    assert isinstance(result.best_model, TwoLayerNet)
    assert result.best_model.params["W1"].shape[1] == result.best.params["hidden"]  # type: ignore[union-attr]
    assert result.best.val_acc > 0.8   # type: ignore[union-attr]
    with pytest.raises(TypeError, match=r"grid_search: build\(width=3\) failed"):
        grid_search(build, {"width": [3]}, blobs(), epochs=1)


def test_time_budget_skips_the_remaining_runs() -> None:
    def slow_build(hidden: int) -> TwoLayerNet:
        time.sleep(0.2)
        return TwoLayerNet(6, hidden, 3, weight_scale=0.1)

    result = grid_search(slow_build, {"hidden": [4, 5, 6]}, blobs(), epochs=1,
                         time_budget=0.1)
    assert [r.status for r in result.runs] == ["ok", "skipped", "skipped"]
    assert "1 of 3 runs" in result.table()
    result = grid_search(None, {"hidden": [4]}, blobs(), time_budget=0)
    assert result.best is None and result.best_model is None
    assert "no run finished" in result.table()


def test_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    grid_search(None, {"hidden": [4, 8]}, blobs(), epochs=1, progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "2/2" in err


def test_grid_search_errors() -> None:
    with pytest.raises(ValueError, match=r"grid_search: the default MLP does not take "
                       r"\['width'\]"):
        grid_search(None, {"width": [3]}, blobs())
    with pytest.raises(ValueError, match=r"grid_search: heatmap must name two different grid "
                       r"keys \(keys: lr, hidden\), got \('lr', 'reg'\)"):
        grid_search(None, {"lr": [1e-3], "hidden": [3]}, blobs(), heatmap=("lr", "reg"))
    with pytest.raises(KeyError, match="grid_search: data is missing X_val"):
        grid_search(None, {"lr": [1e-3]}, {"X_train": 0, "y_train": 0, "y_val": 0})
    with pytest.raises(ValueError, match="grid_search: param_grid must be a non-empty dict"):
        grid_search(None, {}, blobs())


def test_cli_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sweep", "--grid", "lr=1e-2,1e-1 hidden=8,16", "--dataset", "blobs",
                 "--epochs", "1", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["rank", "lr", "hidden"]
    assert f"wrote {tmp_path / 'sweep.json'} and {tmp_path / 'heatmap.png'}" in out
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == PNG
    code = main(["sweep", "--grid", "lr=1e-2 width=3", "--dataset", "blobs", "--out",
                 str(tmp_path), "--no-progress"])
    assert code == 2
    assert "tinygrad-edu sweep: error: grid_search: the default MLP does not take" in \
        capsys.readouterr().err
    assert main(["sweep", "--grid", "lr", "--dataset", "blobs", "--no-progress"]) == 2
    assert "parse_grid: term 'lr'" in capsys.readouterr().err
