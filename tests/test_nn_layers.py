"""Layers and nn.functional: forward against numpy references, gradients against central
differences (float64, random upstream gradients), BatchNorm statistics, Dropout, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_helpers import layer_fn

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.testing import assert_gradients_match, float_arrays, shapes

RNG = np.random.default_rng(0)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)




# ----------------------------------------------------------------------------- Linear


def test_linear_layout_init_and_forward() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(400, 30)
    assert lin.weight.shape == (30, 400) and lin.bias.shape == (30,)
    assert lin.weight.dtype == np.float32
    bound = 1 / math.sqrt(400)
    w = lin.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(lin.bias.numpy()).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(-b, b) has std b/sqrt(3)
    x = randn(5, 400).astype(np.float32)
    np.testing.assert_allclose(lin(torch.tensor(x)).numpy(),
                               x @ w.T + lin.bias.numpy(), rtol=1e-5, atol=1e-6)
    x3 = randn(2, 3, 400).astype(np.float32)
    assert lin(torch.tensor(x3)).shape == (2, 3, 30)
    assert nn.Linear(3, 2, bias=False)(torch.ones(1, 3)).shape == (1, 2)
    a = nn.Linear(3, 2, generator=7).weight.numpy()
    assert np.array_equal(a, nn.Linear(3, 2, generator=7).weight.numpy())


def test_linear_gradients() -> None:
    lin = nn.Linear(4, 3).double()
    assert_gradients_match(layer_fn(lin, "weight", "bias"), randn(5, 4), randn(3, 4), randn(3))
    no_bias = nn.Linear(4, 3, bias=False).double()
    assert_gradients_match(layer_fn(no_bias, "weight"), randn(2, 4), randn(3, 4))


def test_linear_gradient_closed_form() -> None:
    lin = nn.Linear(4, 3).double()
    x = torch.tensor(randn(6, 4), requires_grad=True)
    g = randn(6, 3)
    lin(x).backward(torch.tensor(g))
    w = lin.weight.numpy()
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x.numpy())
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0))
    np.testing.assert_allclose(x.grad.numpy(), g @ w)


def test_linear_shape_error_names_the_layer_path() -> None:
    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(784, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc1(x)

    model = nn.Sequential()
    model.add_module("encoder", Encoder())
    with pytest.raises(ValueError) as info:
        model(torch.ones(64, 100))
    assert str(info.value) == ("Linear (encoder.fc1): expected input of shape (..., 784) "
                               "(in_features=784, weight of shape (10, 784)), got (64, 100)")
    with pytest.raises(ValueError, match=r"^Linear: expected input of shape \(\.\.\., 3\)"):
        nn.Linear(3, 1)(torch.ones(3, 2))
    with pytest.raises(ValueError, match=r"^linear: input of shape \(2, 5\) does not fit "
                       r"weight of shape \(3, 4\)"):
        F.linear(torch.ones(2, 5), torch.ones(3, 4))


def test_functional_linear_matches_numpy_and_gradients() -> None:
    x, w, b = randn(3, 4), randn(2, 4), randn(2)
    np.testing.assert_allclose(F.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b))
                               .numpy(), x @ w.T + b)
    assert_gradients_match(F.linear, x, w, b)


# ----------------------------------------------------------------------------- activations


def _gelu_ref(x: np.ndarray) -> np.ndarray:
    return np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()]
                    ).reshape(x.shape)


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.GELU(), _gelu_ref),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                       * (x + 0.044715 * x ** 3)))),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(beta=2.0, threshold=3.0),
     lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
    (nn.ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (nn.Hardtanh(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    (nn.Softmax(dim=-1), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (nn.LogSoftmax(dim=-1), lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    (nn.Identity(), lambda x: x),
]


@pytest.mark.parametrize("layer, ref", ACTIVATIONS, ids=lambda v: repr(v)[:24])
@given(x=float_arrays(shape=shapes(min_dims=1, max_dims=3)))
def test_activation_forward_and_gradient(layer: nn.Module, ref, x: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    # keep 0.15 away from every kink (0 for relu-likes, +-0.5 for hardtanh, 1.5 for softplus)
    x = np.where(np.abs(x) < 0.15, x + 0.3, x)
    x = np.where(np.abs(np.abs(x) - 0.5) < 0.15, x + 0.4, x)
    x = np.where(np.abs(x - 1.5) < 0.15, x + 0.4, x)
    np.testing.assert_allclose(layer(torch.tensor(x)).numpy(), ref(x), rtol=1e-10, atol=1e-12)
    assert_gradients_match(layer, x)


def test_relu_and_leaky_relu_kinks() -> None:
    x = torch.tensor([0.0, -1.0, 2.0], requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])  # relu'(0) = 0
    x.grad = None
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.1, 1.0])


def test_gelu_exact_second_order_and_far_tails() -> None:
    assert_gradients_match(lambda t: F.gelu(t), randn(5), second_order=True)
    x = np.array([-40.0, -6.0, -2.0, 2.0, 6.0, 40.0])
    np.testing.assert_allclose(F.gelu(torch.tensor(x)).numpy(), _gelu_ref(x), atol=1e-15)
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh'"):
        F.gelu(torch.ones(1), approximate="fast")


def test_softmax_default_dim_follows_pytorch() -> None:
    x = randn(2, 3)
    np.testing.assert_allclose(nn.Softmax()(torch.tensor(x)).numpy().sum(1), [1.0, 1.0])
    x3 = randn(2, 3, 4)
    np.testing.assert_allclose(F.softmax(torch.tensor(x3)).numpy().sum(0), np.ones((3, 4)))
    np.testing.assert_allclose(F.log_softmax(torch.tensor(x3), dim=2).numpy(),
                               x3 - np.log(np.exp(x3).sum(2, keepdims=True)))


# ----------------------------------------------------------------------------- Dropout


def test_dropout_statistics_scaling_and_gradient() -> None:
    x = torch.ones(200, 500, requires_grad=True)
    drop = nn.Dropout(0.3, generator=1)
    y = drop(x)
    values = y.numpy()
    zero_fraction = float((values == 0).mean())
    assert abs(zero_fraction - 0.3) < 0.01  # 100,000 draws: sd about 0.0015
    np.testing.assert_allclose(np.unique(values), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(values.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation
    g = RNG.standard_normal(values.shape).astype(np.float32)
    y.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * values, rtol=1e-6)
    assert not np.array_equal(drop(x).numpy(), values)  # a new mask on each call


def test_dropout_eval_p0_p1_and_errors() -> None:
    x = torch.tensor(randn(4, 5))
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).numpy().any()
    with pytest.raises(ValueError, match=r"^Dropout: p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"^dropout: p must be in \[0, 1\], got -0.1"):
        F.dropout(x, -0.1)


def test_dropout_is_seedable() -> None:
    x = torch.ones(50, 50)
    a = F.dropout(x, 0.5, generator=torch.Generator().manual_seed(3)).numpy()
    b = F.dropout(x, 0.5, generator=torch.Generator().manual_seed(3)).numpy()
    assert np.array_equal(a, b)
    torch.manual_seed(11)
    c = nn.Dropout(0.5)(x).numpy()
    torch.manual_seed(11)
    assert np.array_equal(c, nn.Dropout(0.5)(x).numpy())
    assert not np.array_equal(a, c)


# ----------------------------------------------------------------------------- BatchNorm


def _bn_ref(x: np.ndarray, axes: tuple[int, ...], gamma: np.ndarray, beta: np.ndarray,
            eps: float) -> np.ndarray:
    shape = [1] * x.ndim
    shape[1] = -1
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)  # biased
    return (x - mean) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize("layer, shape, axes", [
    (nn.BatchNorm1d, (8, 3), (0,)),
    (nn.BatchNorm1d, (4, 3, 5), (0, 2)),
    (nn.BatchNorm2d, (4, 3, 2, 5), (0, 2, 3)),
])
def test_batchnorm_train_eval_and_running_statistics(layer, shape, axes) -> None:  # type: ignore[no-untyped-def]
    bn = layer(3, momentum=0.2).double()
    with torch.no_grad():
        bn.weight.copy_(np.array([1.0, 2.0, 0.5]))
        bn.bias.copy_(np.array([0.0, -1.0, 3.0]))
    gamma, beta = bn.weight.numpy().copy(), bn.bias.numpy().copy()
    running_mean, running_var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = randn(*shape) * 2 + step
        out = bn(torch.tensor(x)).numpy()
        np.testing.assert_allclose(out, _bn_ref(x, axes, gamma, beta, 1e-5), rtol=1e-10)
        n = x.size // 3
        running_mean = 0.8 * running_mean + 0.2 * x.mean(axis=axes)
        running_var = 0.8 * running_var + 0.2 * x.var(axis=axes) * n / (n - 1)  # unbiased
        np.testing.assert_allclose(bn.running_mean.numpy(), running_mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), running_var, rtol=1e-12)
        assert int(bn.num_batches_tracked.item()) == step + 1
    bn.eval()
    x = randn(*shape)
    stat_shape = [1] * x.ndim
    stat_shape[1] = -1
    expected = ((x - running_mean.reshape(stat_shape)) / np.sqrt(
        running_var.reshape(stat_shape) + 1e-5) * gamma.reshape(stat_shape)
        + beta.reshape(stat_shape))
    np.testing.assert_allclose(bn(torch.tensor(x)).numpy(), expected, rtol=1e-10)
    assert int(bn.num_batches_tracked.item()) == 3  # eval does not count


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(training: bool) -> None:
    bn = nn.BatchNorm2d(2).double()
    bn(torch.tensor(randn(3, 2, 2, 2) + 1))  # move the running statistics off 0 and 1
    bn.train(training)
    assert_gradients_match(layer_fn(bn, "weight", "bias"), randn(3, 2, 2, 2),
                           randn(2), randn(2))


def test_batchnorm_backward_matches_the_courses_closed_form() -> None:
    bn = nn.BatchNorm1d(4).double()
    with torch.no_grad():
        bn.weight.copy_(randn(4))
    x = torch.tensor(randn(10, 4), requires_grad=True)
    g = randn(10, 4)
    bn(x).backward(torch.tensor(g))
    xv, n, gamma = x.numpy(), 10, bn.weight.numpy()
    inv_std = 1 / np.sqrt(xv.var(0) + 1e-5)
    xhat = (xv - xv.mean(0)) * inv_std
    dx = gamma * inv_std / n * (n * g - g.sum(0) - xhat * (g * xhat).sum(0))
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(bn.weight.grad.numpy(), (g * xhat).sum(0), rtol=1e-10)
    np.testing.assert_allclose(bn.bias.grad.numpy(), g.sum(0), rtol=1e-10)


def test_batchnorm_options() -> None:
    bn = nn.BatchNorm1d(2, momentum=None).double()  # cumulative average
    xs = [randn(5, 2) for _ in range(3)]
    for x in xs:
        bn(torch.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0))
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False).double()
    assert list(plain.parameters()) == [] and list(plain.state_dict()) == []
    x = randn(6, 3)
    for mode in (True, False):  # no running statistics: batch statistics in eval too
        out = plain.train(mode)(torch.tensor(x)).numpy()
        np.testing.assert_allclose(out, _bn_ref(x, (0,), np.ones(3), np.zeros(3), 1e-5))


def test_batchnorm_errors() -> None:
    with pytest.raises(ValueError) as info:
        nn.Sequential(nn.BatchNorm2d(3))(torch.ones(2, 4, 5, 5))
    assert str(info.value) == ("BatchNorm2d (0): expected input of shape (N, 3, H, W) "
                               "(num_features=3), got (2, 4, 5, 5)")
    with pytest.raises(ValueError, match=r"^BatchNorm1d: expected input of shape \(N, 3\) or "
                       r"\(N, 3, L\) \(num_features=3\), got \(3,\)"):
        nn.BatchNorm1d(3)(torch.ones(3))
    with pytest.raises(ValueError, match=r"^batch_norm: expected more than 1 value per "
                       r"channel when training, got input of shape \(1, 3\)"):
        nn.BatchNorm1d(3)(torch.ones(1, 3))


def test_layer_norm_forward_and_gradients() -> None:
    ln = nn.LayerNorm((3, 4)).double()
    with torch.no_grad():
        ln.weight.copy_(randn(3, 4))
        ln.bias.copy_(randn(3, 4))
    x = randn(2, 3, 4)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    ref = (x - mean) / np.sqrt(var + 1e-5) * ln.weight.numpy() + ln.bias.numpy()
    np.testing.assert_allclose(ln(torch.tensor(x)).numpy(), ref, rtol=1e-10)
    assert_gradients_match(layer_fn(ln, "weight", "bias"), x, randn(3, 4), randn(3, 4))
    with pytest.raises(ValueError, match=r"^LayerNorm: expected input of shape \(\*, 3, 4\)"):
        ln(torch.ones(2, 4, 3))


# ----------------------------------------------------------------------------- shapes


def test_flatten_unflatten_identity() -> None:
    x = torch.tensor(randn(2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert F.flatten(x).shape == (120,)
    assert nn.Unflatten(1, (2, -1))(nn.Flatten()(x)).shape == (2, 2, 30)
    with pytest.raises(ValueError, match=r"^Unflatten: cannot split dim 1 of size 60"):
        nn.Unflatten(1, (7, 8))(nn.Flatten()(x))
    assert nn.Identity(54, unused=1)(x) is x


@given(labels=st.lists(st.integers(0, 4), min_size=1, max_size=6))
def test_one_hot(labels: list[int]) -> None:
    out = F.one_hot(torch.tensor(labels), num_classes=5)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(5, dtype=np.int64)[labels])
    assert F.one_hot(torch.tensor(labels)).shape == (len(labels), max(labels) + 1)


def test_one_hot_errors() -> None:
    with pytest.raises(TypeError, match=r"^one_hot: expected an integer tensor"):
        F.one_hot(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^one_hot: labels must be in \[0, 3\)"):
        F.one_hot(torch.tensor([0, 3]), 3)


def test_functional_reexports_conv_pool_and_losses() -> None:
    for name in ("conv2d", "conv1d", "max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d",
                 "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "multi_margin_loss"):
        assert callable(getattr(F, name))
    for name in ("CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
                 "MultiMarginLoss"):
        assert issubclass(getattr(nn, name), nn.Module)
