"""Real-data bars from the training issue, on the 10,000 real MNIST test images in
../shared/datasets/mnist (8,000 train = 7,000 train + 1,000 validation, 2,000 test, fixed
seed). In CI the data is there, so a missing directory fails instead of skipping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_data import shared_mnist

import tinygrad_edu as tg
from tinygrad_edu import data, models
from tinygrad_edu.train import Solver

MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


@pytest.fixture(scope="module")
def mnist_rows() -> data.Splits:
    shared_mnist()
    return data.load_dataset("mnist", data_dir=MNIST, flatten=True, preprocess="mean_image")


def test_split_is_8000_train_2000_test(mnist_rows: data.Splits) -> None:
    assert len(mnist_rows.X_train) + len(mnist_rows.X_val) == 8000
    assert len(mnist_rows.X_test) == 2000
    assert mnist_rows.X_train.dtype == np.float32 and mnist_rows.y_train.dtype == np.int64


def test_initial_softmax_loss_is_log_of_the_class_count(mnist_rows: data.Splits) -> None:
    tg.manual_seed(0)
    model = models.TwoLayerNet(784, 50, 10, std=1e-4, seed=0)
    X = tg.tensor(mnist_rows.X_train[:200].astype(np.float64))
    loss = model.loss(X, tg.tensor(mnist_rows.y_train[:200])).item()
    assert abs(loss - np.log(10)) < 0.02


def test_mlp_784_256_10_with_adam_reaches_94_5_percent(mnist_rows: data.Splits) -> None:
    tg.manual_seed(0)
    model = models.MLP([784, 256, 10])
    solver = Solver(model, mnist_rows.as_dict(), update_rule="adam",
                    optim_config={"learning_rate": 2e-3}, lr_decay=0.8, batch_size=64,
                    num_epochs=15, num_train_samples=1000, verbose=False, progress=False)
    solver.train()
    test = solver.evaluate(mnist_rows.X_test, mnist_rows.y_test)
    assert len(solver.val_acc_history) == 16  # after iteration 1 and after each epoch
    assert solver.loss_history[-1] < solver.loss_history[0]
    assert test["acc"] >= 0.945, test


def test_small_convnet_reaches_97_percent_in_8_epochs(mnist_rows: data.Splits) -> None:
    images = mnist_rows.as_dict()
    images = {k: (v.reshape(-1, 1, 28, 28) if k.startswith("X") else v)
              for k, v in images.items()}
    tg.manual_seed(0)
    model = models.SmallConvNet(seed=0)  # conv3x3 16 - relu - pool - conv3x3 32 - relu - pool - fc
    solver = Solver(model, images, update_rule="adam", optim_config={"learning_rate": 2e-3},
                    lr_decay=0.8, batch_size=64, num_epochs=8, num_train_samples=1000,
                    verbose=False, progress=False)
    solver.train()
    test = solver.evaluate(mnist_rows.X_test.reshape(-1, 1, 28, 28), mnist_rows.y_test)
    assert test["acc"] >= 0.970, test
