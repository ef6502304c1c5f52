"""Deliberate differences from PyTorch that the conformance suite cannot compare (PyTorch
has no equal answer to hold ours to): each row of docs/pytorch.md without a conformance test
is pinned here."""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.nn import functional as F


def test_multi_margin_and_svm_loss_of_a_nan_score_are_nan() -> None:
    scores = tg.tensor([[np.nan, 1.0, 2.0], [0.5, 0.1, 0.2]])
    y = tg.tensor([1, 0])
    assert np.isnan(F.multi_margin_loss(scores, y).item())
    assert np.isnan(F.svm_loss(scores, y).item())


def test_optimizer_state_dict_is_a_copy() -> None:
    w = tg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = tg.ones(3)
    opt.step()
    saved = opt.state_dict()
    buf = next(iter(saved["state"].values()))["momentum_buffer"]
    before = np.array(buf, copy=True)
    w.grad = tg.ones(3)
    opt.step()
    np.testing.assert_array_equal(np.asarray(buf), before)


def test_adagrad_honours_a_groups_initial_accumulator_value() -> None:
    w = tg.ones(2, requires_grad=True)
    opt = optim.Adagrad([{"params": [w], "initial_accumulator_value": 3.0}], lr=1.0)
    w.grad = tg.ones(2)
    opt.step()
    np.testing.assert_allclose(w.numpy(), 1.0 - 1.0 / np.sqrt(3.0 + 1.0), rtol=1e-6)


def test_pooling_padding_up_to_half_the_dilated_kernel() -> None:
    x = tg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    # kernel 3 dilated by 2 spans 5: padding 2 is accepted here; PyTorch allows 3 // 2 = 1
    out = nn.MaxPool2d(3, stride=1, padding=2, dilation=2)(x)
    assert out.shape == (1, 1, 4, 4)
    assert out.numpy()[0, 0, 0, 0] == 10.0  # window rows/cols {-2, 0, 2}: max of x[0:3:2, 0:3:2]


def test_tensor_class_infers_the_dtype_as_tensor_does() -> None:
    assert tg.Tensor([1, 2]).dtype == np.int64  # torch.Tensor([1, 2]) is float32
    assert tg.Tensor([1.0, 2]).dtype == np.float32


def test_average_pooling_of_int32_is_computed_in_int32() -> None:
    x = tg.tensor(np.arange(16).reshape(1, 1, 4, 4).astype(np.int32))
    out = nn.functional.avg_pool2d(x, 2)  # PyTorch refuses int32 (int64 only)
    assert out.dtype == np.int32
    assert out.tolist() == [[[[2, 4], [10, 12]]]]  # means 2.5, 4.5, ... rounded toward zero


def test_convolution_promotes_mixed_dtypes() -> None:
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    mixed = nn.functional.conv2d(tg.tensor(a.astype(np.float32)), tg.tensor(w))
    assert mixed.dtype == np.float64  # PyTorch raises for float32 input, float64 weight
    same = nn.functional.conv2d(tg.tensor(a.astype(np.float32).astype(np.float64)), tg.tensor(w))
    np.testing.assert_allclose(mixed.numpy(), same.numpy(), rtol=1e-12)
