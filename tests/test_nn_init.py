"""nn.init: bounds and spreads against the formulas, fans of conv weights, gains, seeding,
in-place semantics on parameters, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
from tinygrad_edu.nn import init

SHAPE = (300, 400)  # 120,000 draws: sample std within ~0.5% of the true one


def big(shape: tuple[int, ...] = SHAPE) -> nn.Parameter:
    return nn.Parameter(torch.zeros(*shape, dtype=torch.float64))


def test_calculate_gain() -> None:
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match=r"^calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_xavier_uniform_and_normal() -> None:
    fan_in, fan_out = SHAPE[1], SHAPE[0]
    w = big()
    assert init.xavier_uniform_(w, gain=2.0, generator=0) is w
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.numpy()).max() <= bound
    assert np.abs(w.numpy()).max() > 0.99 * bound
    assert w.numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    init.xavier_normal_(w, generator=0)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.01)
    assert abs(w.numpy().mean()) < 1e-3


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_uniform_and_normal(mode: str) -> None:
    fan = SHAPE[1] if mode == "fan_in" else SHAPE[0]
    w = big()
    init.kaiming_uniform_(w, mode=mode, nonlinearity="relu", generator=1)
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(w.numpy()).max() <= bound
    assert w.numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    init.kaiming_normal_(w, mode=mode, nonlinearity="relu", generator=1)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / fan), rel=0.01)


def test_kaiming_uniform_with_pytorch_linear_default_gives_one_over_sqrt_fan_in() -> None:
    w = big((50, 200))
    init.kaiming_uniform_(w, a=math.sqrt(5), generator=2)
    assert np.abs(w.numpy()).max() <= 1 / math.sqrt(200)
    assert np.abs(w.numpy()).max() > 0.99 / math.sqrt(200)


def test_conv_weight_fans_include_the_kernel() -> None:
    w = big((64, 32, 5, 5))  # fan_in = 32 * 25, fan_out = 64 * 25
    init.kaiming_normal_(w, generator=3)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / (32 * 25)), rel=0.01)
    init.xavier_uniform_(w, generator=3)
    bound = math.sqrt(6 / (32 * 25 + 64 * 25))
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.99 * bound


def test_normal_is_the_courses_weight_scale_randn() -> None:
    w = big()
    init.normal_(w, std=1e-2, generator=4)
    assert w.numpy().std() == pytest.approx(1e-2, rel=0.01)
    ref = np.random.default_rng(4).normal(0.0, 1e-2, SHAPE)
    np.testing.assert_array_equal(w.numpy(), ref)
    init.normal_(w, mean=3.0, std=0.5, generator=4)
    assert w.numpy().mean() == pytest.approx(3.0, abs=0.01)


def test_uniform_constant_zeros_ones_eye() -> None:
    w = big((20, 30))
    init.uniform_(w, -2.0, -1.0, generator=5)
    assert w.numpy().min() >= -2.0 and w.numpy().max() < -1.0
    assert init.constant_(w, 0.25) is w and (w.numpy() == 0.25).all()
    assert not init.zeros_(w).numpy().any()
    assert (init.ones_(w).numpy() == 1).all()
    np.testing.assert_array_equal(init.eye_(w).numpy(), np.eye(20, 30))


def test_seeding_by_generator_and_manual_seed() -> None:
    a, b = big((10, 10)), big((10, 10))
    init.kaiming_uniform_(a, generator=torch.Generator().manual_seed(9))
    init.kaiming_uniform_(b, generator=torch.Generator().manual_seed(9))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    torch.manual_seed(9)
    init.xavier_normal_(a)
    torch.manual_seed(9)
    init.xavier_normal_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    init.xavier_normal_(b)
    assert not np.array_equal(a.numpy(), b.numpy())


def test_initializers_work_on_parameters_with_grad_mode_on_and_bump_the_version() -> None:
    lin = nn.Linear(3, 2)
    version = lin.weight._version
    assert torch.is_grad_enabled()
    init.zeros_(lin.weight)
    assert lin.weight._version > version and lin.weight.requires_grad
    assert lin.weight.dtype == np.float32
    init.normal_(lin.bias, std=2.0)
    assert lin.bias.dtype == np.float32


def test_init_errors() -> None:
    with pytest.raises(ValueError, match=r"^xavier_uniform_: fan in and fan out need a tensor "
                       r"with at least 2 dims, got shape \(5,\)"):
        init.xavier_uniform_(torch.zeros(5))
    with pytest.raises(ValueError, match=r"^kaiming_normal_: mode must be 'fan_in' or "
                       r"'fan_out', got 'fan_avg'"):
        init.kaiming_normal_(torch.zeros(2, 2), mode="fan_avg")
    with pytest.raises(TypeError, match=r"^normal_: expected a floating-point tensor, got int64"):
        init.normal_(torch.zeros(2, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"^uniform_: expected a Tensor, got ndarray"):
        init.uniform_(np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^eye_: only 2-D tensors are supported"):
        init.eye_(torch.zeros(2, 2, 2))
