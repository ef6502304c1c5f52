"""Resuming a Solver run (issue 16, point 1): a checkpoint holds weights and buffers,
optimizer and scheduler state, counters, histories, the best weights and every generator's
state, so a run stopped after k epochs and finished by a new Solver ends with exactly the
weights of a run that never stopped. Also the checks that refuse a checkpoint from a
differently set-up run, and the histories' timing (point 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import models, nn, optim
from tinygrad_edu.course.models import FullyConnectedNet
from tinygrad_edu.errors import DataFormatError
from tinygrad_edu.train import Solver, checkpoint

EPOCHS, STOP = 4, 2


def blobs(n: int = 240, d: int = 10, classes: int = 3, seed: int = 0) -> dict[str, Any]:
    r = np.random.default_rng(seed)
    centers = 1.2 * r.standard_normal((classes, d))
    y = r.integers(0, classes, n)
    X = (centers[y] + r.standard_normal((n, d))).astype(np.float32)
    cut = n * 3 // 4
    return {"X_train": X[:cut], "y_train": y[:cut], "X_val": X[cut:], "y_val": y[cut:]}


def make_solver(kind: str, num_epochs: int, model_seed: int = 1, **kw: Any) -> Solver:
    """The same run set up afresh; `model_seed` only changes the initial weights."""
    options: dict[str, Any] = {"batch_size": 20, "num_epochs": num_epochs, "verbose": False,
                               "num_train_samples": 50, "seed": 3, **kw}
    if kind == "sgd_momentum":  # dropout masks from the default generator, lr_decay
        model = models.MLP([10, 32, 3], dropout=0.2, seed=model_seed)
        for layer in model:
            if isinstance(layer, nn.Dropout):
                layer.generator = None
        return Solver(model, blobs(), update_rule="sgd_momentum", lr_decay=0.8,
                      optim_config={"learning_rate": 0.05, "momentum": 0.9}, **options)
    if kind == "adam_steplr":  # dropout masks from the layers' own generator, a scheduler
        model = models.MLP([10, 32, 3], dropout=0.2, seed=model_seed)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        return Solver(model, blobs(), update_rule=opt, scheduler=scheduler, **options)
    # a course model: numpy params, batchnorm running statistics, the courses' adam
    course = FullyConnectedNet([16], 10, 3, normalization="batchnorm", dropout_keep_ratio=0.8,
                               seed=None, dtype=np.float64)
    course.params = {k: np.random.default_rng(model_seed).standard_normal(v.shape) * 0.1
                     for k, v in course.params.items()}
    return Solver(course, blobs(), update_rule="adam", optim_config={"learning_rate": 1e-2},
                  **options)


def weights(solver: Solver) -> dict[str, np.ndarray]:
    return solver._params_snapshot()


def assert_same_run(resumed: Solver, straight: Solver) -> None:
    for name, snapshot in (("final (best) weights", weights), ("last weights",
                                                               lambda s: s.last_params)):
        a, b = snapshot(resumed), snapshot(straight)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}: {key}")
    assert resumed.history == straight.history
    assert (resumed.epoch, resumed.iteration) == (straight.epoch, straight.iteration)
    if straight.autograd_model:
        saved, expected = resumed.optimizer.state_dict(), straight.optimizer.state_dict()
        assert saved["param_groups"] == expected["param_groups"]
        for index, entries in expected["state"].items():
            for key, value in entries.items():
                np.testing.assert_array_equal(saved["state"][index][key], value)
    if straight.scheduler is not None:
        assert resumed.scheduler.state_dict() == straight.scheduler.state_dict()


KINDS = ["sgd_momentum", "adam_steplr", "course_adam_batchnorm"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_resumed_from_an_epoch_checkpoint_ends_as_an_uninterrupted_one(
        kind: str, tmp_path: Path) -> None:
    tg.manual_seed(0)
    straight = make_solver(kind, EPOCHS, checkpoint_name=str(tmp_path / "run")).train()
    tg.manual_seed(99)  # the resumed run must take the default generator from the file
    resumed = make_solver(kind, EPOCHS, model_seed=7)
    resumed.load_checkpoint(tmp_path / f"run_epoch_{STOP}.npz")
    assert resumed.epoch == STOP and resumed.iteration == STOP * (180 // 20)
    resumed.train()
    assert_same_run(resumed, straight)


@pytest.mark.parametrize("kind", KINDS)
def test_train_k_epochs_save_then_a_new_solver_finishes_the_schedule(kind: str,
                                                                    tmp_path: Path) -> None:
    tg.manual_seed(0)
    straight = make_solver(kind, EPOCHS).train()
    tg.manual_seed(0)
    first = make_solver(kind, STOP).train()  # ends by restoring its best weights ...
    path = first.save_checkpoint(tmp_path / "ckpt.npz")  # ... but saves the weights reached
    tg.manual_seed(99)
    resumed = make_solver(kind, EPOCHS, model_seed=7)
    resumed.load_checkpoint(path)
    resumed.train()
    assert_same_run(resumed, straight)


def test_train_again_carries_on_instead_of_repeating_the_schedule(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tg.manual_seed(0)
    straight = make_solver("adam_steplr", EPOCHS).train()
    tg.manual_seed(0)
    solver = make_solver("adam_steplr", STOP, verbose=True, print_every=0).train()
    solver.train()  # a finished run: no more steps, no "(Epoch 3 / 2)"
    assert solver.iteration == STOP * 9 and len(solver.loss_history) == STOP * 9
    solver.num_epochs = EPOCHS  # train longer: from the weights reached, not the best ones
    solver.train()
    assert "(Epoch 3 / 2)" not in capsys.readouterr().out
    assert_same_run(solver, straight)
    path = solver.save_checkpoint(tmp_path / "done.npz")
    finished = make_solver("adam_steplr", EPOCHS, model_seed=7, verbose=True)
    finished.load_checkpoint(path)
    finished.train()
    assert finished.iteration == EPOCHS * 9
    assert "Iteration" not in capsys.readouterr().out
    for key, value in solver.best_params.items():
        np.testing.assert_array_equal(weights(finished)[key], value)


def test_checkpoint_contents_are_plain_arrays_and_json(tmp_path: Path) -> None:
    tg.manual_seed(0)
    solver = make_solver("adam_steplr", 1, checkpoint_path=tmp_path / "latest.npz",
                         checkpoint_meta={"note": "hello", "mean": np.arange(3.0)}).train()
    with np.load(tmp_path / "latest.npz", allow_pickle=False) as f:  # no pickles inside
        assert "__structure__" in f.files
    state = checkpoint.read(tmp_path / "latest.npz")
    assert state["counters"]["iteration"] == 9 and state["scheduler"]["class"] == "StepLR"
    assert state["optimizer"]["class"] == "Adam"
    adam = state["optimizer"]["state"]["state"][0]
    assert adam["step"] == 9 and adam["exp_avg"].shape == (32, 10)
    assert state["meta"]["note"] == "hello"
    np.testing.assert_array_equal(state["meta"]["mean"], np.arange(3.0))
    assert set(state["rng"]) == {"solver", "default", "layers"}
    assert solver.load_checkpoint(tmp_path / "latest.npz")["note"] == "hello"
    assert not list(tmp_path.glob("*.partial"))


def test_a_checkpoint_from_another_setup_is_refused_before_anything_changes(
        tmp_path: Path) -> None:
    tg.manual_seed(0)
    path = make_solver("adam_steplr", 1).train().save_checkpoint(tmp_path / "c.npz")
    other = make_solver("adam_steplr", 2, batch_size=30)
    before = weights(other)
    with pytest.raises(ValueError, match=r"batch_size 20 there, 30 here.*same setup"):
        other.load_checkpoint(path)
    for key, value in weights(other).items():
        np.testing.assert_array_equal(value, before[key])
    with pytest.raises(ValueError, match="optimizer Adam there, SGD here"):
        make_solver("sgd_momentum", 2).load_checkpoint(path)
    no_scheduler = make_solver("adam_steplr", 2)
    no_scheduler.scheduler = None
    with pytest.raises(ValueError, match="scheduler StepLR there, None here"):
        no_scheduler.load_checkpoint(path)


def test_files_that_are_not_checkpoints(tmp_path: Path) -> None:
    np.savez(tmp_path / "old.npz", **{"param/W1": np.zeros(3), "epoch": np.asarray(2)})
    solver = make_solver("adam_steplr", 1)
    with pytest.raises(DataFormatError, match="old checkpoint .* cannot resume"):
        solver.load_checkpoint(tmp_path / "old.npz")
    tg.save({"weights": np.zeros(3)}, tmp_path / "other.npz")
    with pytest.raises(DataFormatError, match="is not a Solver checkpoint"):
        solver.load_checkpoint(tmp_path / "other.npz")


def test_a_run_stopped_early_stays_stopped_when_resumed(tmp_path: Path) -> None:
    tg.manual_seed(0)
    straight = make_solver("sgd_momentum", 30, early_stopping=1,
                           checkpoint_name=str(tmp_path / "run")).train()
    assert straight.stopped_early and straight.epoch < 30
    resumed = make_solver("sgd_momentum", 30, model_seed=7)
    resumed.load_checkpoint(tmp_path / f"run_epoch_{straight.epoch}.npz")
    resumed.train()
    assert resumed.iteration == straight.iteration and resumed.stopped_early


# ----------------------------------------------------------------------------- point 3


def test_epoch_zero_is_checked_after_the_first_iteration_and_losses_say_their_average(
        capsys: pytest.CaptureFixture[str]) -> None:
    """As the courses' Solver: the first check follows the first step, so epoch 0's train
    loss is that minibatch's loss; each later one is the mean since the previous check."""
    tg.manual_seed(0)
    solver = make_solver("adam_steplr", 2, verbose=True, print_every=0).train()
    history = solver.history
    assert history["train_loss_history"][0] == history["loss_history"][0]
    assert history["train_loss_history"][1] == pytest.approx(
        np.mean(history["loss_history"][1:9]))
    assert history["train_loss_history"][2] == pytest.approx(
        np.mean(history["loss_history"][9:18]))
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("(Epoch")]
    assert len(lines) == 3
    assert "(mean of 1 minibatch since the last check)" in lines[0]
    assert "(mean of 8 minibatches since the last check)" in lines[1]
    assert "(mean of 9 minibatches since the last check)" in lines[2]
    assert all("; val loss " in ln for ln in lines)
    assert "mean of the minibatch losses since the previous check" in " ".join(
        Solver.history.__doc__.split())
    import viz  # the curves say when epoch 0 was measured

    axes = viz.plot_history(history).axes
    assert [ax.get_xlabel() for ax in axes[1:]] == ["epoch (0 = after the first iteration)"] * 2


def test_reduce_lr_on_plateau_steps_on_the_validation_loss_each_epoch() -> None:
    """The Solver hands ReduceLROnPlateau the epoch's validation loss (it needs a metric;
    the other schedulers step without one)."""
    from tinygrad_edu import nn, optim
    from tinygrad_edu.optim.lr_scheduler import ReduceLROnPlateau

    rng = np.random.default_rng(0)
    data = {"X_train": rng.standard_normal((40, 4)), "y_train": rng.integers(0, 3, 40),
            "X_val": rng.standard_normal((10, 4)), "y_val": rng.integers(0, 3, 10)}
    model = nn.Linear(4, 3).double()
    opt = optim.SGD(model.parameters(), lr=0.1)
    seen: list[float] = []
    plateau = ReduceLROnPlateau(opt, patience=0, factor=0.5)
    original = plateau.step
    plateau.step = lambda metric: (seen.append(metric), original(metric))[1]  # type: ignore
    solver = Solver(model, data, update_rule=opt, scheduler=plateau, batch_size=10,
                    num_epochs=4, verbose=False, progress=False)
    solver.train()
    epoch_ends = [i for i in range(len(solver.val_loss_history)) if i > 0]
    assert seen == [solver.val_loss_history[i] for i in epoch_ends]
    assert len(seen) == 4
