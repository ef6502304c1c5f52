"""torch.nn.functional against tinygrad_edu.nn.functional: activations, softmax family,
linear, dropout, batch/layer norm, pad, one_hot (conv and pooling: test_nn_conv_pool.py).

Every call is written once as `lambda F, x: ...` and run with F = torch.nn.functional and
F = tinygrad_edu.nn.functional, so both libraries see the same spelling (positional or
keyword arguments, as users write them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as GF

from .nn_helpers import randn
from .oracle import as_numpy, assert_close, check_function, pair

ACTIVATIONS = {
    "relu": lambda F, x: F.relu(x),
    "relu_inplace_false": lambda F, x: F.relu(x, inplace=False),
    "leaky_relu": lambda F, x: F.leaky_relu(x),
    "leaky_relu_slope_positional": lambda F, x: F.leaky_relu(x, 0.2),
    "leaky_relu_slope_keyword": lambda F, x: F.leaky_relu(x, negative_slope=0.3),
    "elu": lambda F, x: F.elu(x),
    "elu_alpha_positional": lambda F, x: F.elu(x, 2.0),
    "elu_alpha_keyword": lambda F, x: F.elu(x, alpha=0.5),
    "gelu": lambda F, x: F.gelu(x),
    "gelu_none": lambda F, x: F.gelu(x, approximate="none"),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x: F.silu(x),
    "sigmoid": lambda F, x: F.sigmoid(x),
    "tanh": lambda F, x: F.tanh(x),
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, beta=2.0),
    "softplus_beta_threshold_positional": lambda F, x: F.softplus(x, 2.0, 1.5),
    "softplus_keywords": lambda F, x: F.softplus(x, beta=0.5, threshold=0.7),
    "hardtanh": lambda F, x: F.hardtanh(x),
    "hardtanh_positional": lambda F, x: F.hardtanh(x, -0.5, 0.75),
    "hardtanh_keywords": lambda F, x: F.hardtanh(x, min_val=-2.0, max_val=0.5),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_float64_values_grads_second(name: str) -> None:
    f = ACTIVATIONS[name]
    x = randn(3, 7, seed=1, scale=2.0)
    check_function(lambda t: f(GF, t), lambda t: f(TF, t), [x], what=name)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_float32(name: str) -> None:
    f = ACTIVATIONS[name]
    x = randn(4, 5, seed=2, dtype=np.float32, scale=3.0)
    check_function(lambda t: f(GF, t), lambda t: f(TF, t), [x], second=False,
                   what=f"{name} float32")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_at_kinks_and_thresholds(name: str) -> None:
    """Exactly at the kinks (0, the hardtanh bounds) and the softplus thresholds
    (beta * x == threshold): PyTorch's one-sided choices."""
    f = ACTIVATIONS[name]
    x = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 0.75, 1.0, 0.35, 1.4, 0.75, 20.0, 25.0])
    check_function(lambda t: f(GF, t), lambda t: f(TF, t), [x], second=False,
                   what=f"{name} at kinks")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_nan_input(name: str) -> None:
    f = ACTIVATIONS[name]
    x = np.array([np.nan, 1.5, -1.5, np.nan])
    ours, theirs = pair(x)
    assert_close(f(GF, ours), f(TF, theirs), what=f"{name} of NaN")


def test_elu_of_nan_is_nan() -> None:
    out = as_numpy(GF.elu(tg.tensor([float("nan"), -1.0, 1.0])))
    assert np.isnan(out[0]), f"F.elu(nan) gave {out[0]}, PyTorch gives nan"
    out = as_numpy(GF.elu(tg.tensor(np.array([np.nan])), alpha=0.5))
    assert np.isnan(out[0]), f"F.elu(nan, alpha=0.5) gave {out[0]}, PyTorch gives nan"


def test_softplus_large_inputs_float32() -> None:
    x = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], dtype=np.float32)
    for beta, threshold in ((1.0, 20.0), (2.0, 5.0), (0.1, 20.0)):
        ours, theirs = pair(x)
        assert_close(GF.softplus(ours, beta, threshold), TF.softplus(theirs, beta, threshold),
                     what=f"softplus beta={beta}")


INPLACE = {
    "relu": lambda F, x: F.relu(x, inplace=True),
    "leaky_relu_positional": lambda F, x: F.leaky_relu(x, 0.2, True),
    "leaky_relu_keyword": lambda F, x: F.leaky_relu(x, negative_slope=0.2, inplace=True),
    "elu": lambda F, x: F.elu(x, alpha=0.5, inplace=True),
    "silu": lambda F, x: F.silu(x, inplace=True),
    "hardtanh_positional": lambda F, x: F.hardtanh(x, -0.5, 0.5, True),
    "hardtanh_keyword": lambda F, x: F.hardtanh(x, inplace=True),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_activation_inplace_overwrites_input(name: str) -> None:
    """inplace=True (on a tensor outside any graph): the result is written into the
    input, which PyTorch returns."""
    f = INPLACE[name]
    ours, theirs = pair(randn(3, 4, seed=40, scale=2.0))
    out_o, out_t = f(GF, ours), f(TF, theirs)
    assert_close(out_o, out_t, what=f"{name} result")
    assert_close(ours, theirs, what=f"{name} input after the call (overwritten)")


# ----------------------------------------------------------------------------- softmax

SOFTMAX = {
    "softmax_dim_positional": lambda F, x: F.softmax(x, 1),
    "softmax_dim_keyword_last": lambda F, x: F.softmax(x, dim=-1),
    "softmax_dim0": lambda F, x: F.softmax(x, dim=0),
    "log_softmax_dim_positional": lambda F, x: F.log_softmax(x, 2),
    "log_softmax_dim_keyword": lambda F, x: F.log_softmax(x, dim=1),
    "log_softmax_dim_negative": lambda F, x: F.log_softmax(x, dim=-3),
}


@pytest.mark.parametrize("name", list(SOFTMAX))
def test_softmax_family_float64(name: str) -> None:
    f = SOFTMAX[name]
    x = randn(2, 3, 4, seed=3, scale=2.0)
    check_function(lambda t: f(GF, t), lambda t: f(TF, t), [x], what=name)


@pytest.mark.parametrize("name", list(SOFTMAX))
def test_softmax_family_float32_large_logits(name: str) -> None:
    f = SOFTMAX[name]
    x = randn(2, 3, 4, seed=4, dtype=np.float32, scale=1e3)
    check_function(lambda t: f(GF, t), lambda t: f(TF, t), [x], second=False, what=name)


def test_softmax_dtype_argument() -> None:
    x = randn(3, 4, seed=5, dtype=np.float32)
    ours, theirs = pair(x)
    assert_close(GF.softmax(ours, dim=1, dtype=tg.float64),
                 TF.softmax(theirs, dim=1, dtype=torch.float64), what="softmax dtype=float64")
    assert_close(GF.log_softmax(ours, 0, dtype=tg.float64),
                 TF.log_softmax(theirs, 0, dtype=torch.float64), what="log_softmax dtype")


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 2, 2)])
def test_softmax_implicit_dim(shape: tuple[int, ...]) -> None:
    """No dim: PyTorch's legacy choice (0 for 0-, 1- and 3-d input, else 1), with a warning."""
    import warnings

    x = randn(*shape, seed=41)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_function(GF.softmax, TF.softmax, [x], second=False, what=f"softmax {shape}")
        check_function(GF.log_softmax, TF.log_softmax, [x], second=False,
                       what=f"log_softmax {shape}")


def test_softmax_1d_and_0d_dim0() -> None:
    for x in (randn(5, seed=6), np.array(1.5)):
        check_function(lambda t: GF.softmax(t, 0), lambda t: TF.softmax(t, 0), [x],
                       what=f"softmax shape {x.shape}")
        check_function(lambda t: GF.log_softmax(t, dim=0), lambda t: TF.log_softmax(t, dim=0),
                       [x], what=f"log_softmax shape {x.shape}")


# ----------------------------------------------------------------------------- linear


@pytest.mark.parametrize("x_shape", [(5,), (3, 5), (2, 3, 5)])
def test_linear_with_and_without_bias(x_shape: tuple[int, ...]) -> None:
    x, w, b = randn(*x_shape, seed=7), randn(4, 5, seed=8), randn(4, seed=9)
    check_function(GF.linear, TF.linear, [x, w], what="linear no bias")
    check_function(GF.linear, TF.linear, [x, w, b], what="linear bias")
    check_function(lambda a, c, d: GF.linear(a, c, bias=d),
                   lambda a, c, d: TF.linear(a, c, bias=d), [x, w, b], what="bias keyword")


def test_linear_float32() -> None:
    x, w, b = (randn(3, 5, seed=10, dtype=np.float32), randn(4, 5, seed=11, dtype=np.float32),
               randn(4, seed=12, dtype=np.float32))
    check_function(GF.linear, TF.linear, [x, w, b], second=False, what="linear float32")


# ----------------------------------------------------------------------------- dropout

DROPOUT_IDENTITY = {
    "p0_keyword": lambda F, x: F.dropout(x, p=0.0),
    "p0_positional": lambda F, x: F.dropout(x, 0.0),
    "eval_keyword": lambda F, x: F.dropout(x, p=0.5, training=False),
    "eval_positional": lambda F, x: F.dropout(x, 0.5, False),
    "p1": lambda F, x: F.dropout(x, p=1.0),
}


@pytest.mark.parametrize("name", list(DROPOUT_IDENTITY))
def test_dropout_deterministic_cases(name: str) -> None:
    f = DROPOUT_IDENTITY[name]
    x = randn(4, 6, seed=13)
    check_function(lambda t: f(GF, t), lambda t: f(TF, t), [x], second=False, what=name)


def test_dropout_training_scales_survivors() -> None:
    x = np.abs(randn(200, 50, seed=14)) + 1.0
    out = as_numpy(GF.dropout(tg.tensor(x), p=0.25))
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-12)
    assert 0.2 < 1 - kept.mean() < 0.3


# ----------------------------------------------------------------------------- normalization


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_values_and_grads(shape: tuple[int, ...], affine: bool) -> None:
    x, w, b = randn(*shape, seed=15, scale=2.0) + 0.5, randn(3, seed=16), randn(3, seed=17)

    def ours(xx: tg.Tensor, *wb: tg.Tensor) -> tg.Tensor:
        rm, rv = tg.zeros(3, dtype=tg.float64), tg.ones(3, dtype=tg.float64)
        return GF.batch_norm(xx, rm, rv, *wb, training=True)

    def theirs(xx: torch.Tensor, *wb: torch.Tensor) -> torch.Tensor:
        rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
        return TF.batch_norm(xx, rm, rv, *wb, training=True)

    check_function(ours, theirs, [x, w, b] if affine else [x], what="batch_norm train")


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 4)])
def test_batch_norm_running_stats_update(shape: tuple[int, ...]) -> None:
    rm0, rv0 = randn(3, seed=18), np.abs(randn(3, seed=19)) + 0.5
    rm_o, rv_o = tg.tensor(rm0.copy()), tg.tensor(rv0.copy())
    rm_t, rv_t = torch.tensor(rm0.copy()), torch.tensor(rv0.copy())
    for step in range(3):
        x = randn(*shape, seed=20 + step, scale=1.5) + step
        ours, theirs = pair(x)
        y_o = GF.batch_norm(ours, rm_o, rv_o, training=True, momentum=0.3, eps=1e-3)
        y_t = TF.batch_norm(theirs, rm_t, rv_t, training=True, momentum=0.3, eps=1e-3)
        assert_close(y_o, y_t, what=f"step {step} output")
        assert_close(rm_o, rm_t, what=f"step {step} running_mean")
        assert_close(rv_o, rv_t, what=f"step {step} running_var")


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 4)])
def test_batch_norm_eval(shape: tuple[int, ...]) -> None:
    x, w, b = randn(*shape, seed=23), randn(3, seed=24), randn(3, seed=25)
    rm, rv = randn(3, seed=26), np.abs(randn(3, seed=27)) + 0.5
    check_function(
        lambda a, c, d: GF.batch_norm(a, tg.tensor(rm), tg.tensor(rv), c, d, False, 0.1, 1e-3),
        lambda a, c, d: TF.batch_norm(a, torch.tensor(rm), torch.tensor(rv), c, d, False, 0.1,
                                      1e-3),
        [x, w, b], what="batch_norm eval")
    check_function(
        lambda a: GF.batch_norm(a, tg.tensor(rm), tg.tensor(rv)),
        lambda a: TF.batch_norm(a, torch.tensor(rm), torch.tensor(rv)),
        [x], what="batch_norm eval defaults")


def test_batch_norm_float32() -> None:
    x = randn(8, 4, 3, seed=28, dtype=np.float32, scale=3.0)
    ours, theirs = pair(x)
    assert_close(GF.batch_norm(ours, None, None, training=True),
                 TF.batch_norm(theirs, None, None, training=True), what="float32 batch_norm")


@pytest.mark.parametrize("norm_shape", [(5,), (4, 5)])
def test_layer_norm(norm_shape: tuple[int, ...]) -> None:
    x = randn(3, 4, 5, seed=29, scale=2.0) + 1.0
    w, b = randn(*norm_shape, seed=30), randn(*norm_shape, seed=31)
    check_function(lambda a: GF.layer_norm(a, norm_shape),
                   lambda a: TF.layer_norm(a, norm_shape), [x], what="layer_norm plain")
    check_function(lambda a, c, d: GF.layer_norm(a, norm_shape, c, d),
                   lambda a, c, d: TF.layer_norm(a, norm_shape, c, d), [x, w, b],
                   what="layer_norm affine")
    check_function(lambda a, c: GF.layer_norm(a, norm_shape, weight=c, eps=1e-2),
                   lambda a, c: TF.layer_norm(a, norm_shape, weight=c, eps=1e-2), [x, w],
                   what="layer_norm weight only, eps")


def test_layer_norm_shape_from_input_and_float32() -> None:
    x = randn(2, 3, 6, seed=32, dtype=np.float32, scale=4.0)
    ours, theirs = pair(x)
    assert_close(GF.layer_norm(ours, ours.shape[-1:]), TF.layer_norm(theirs, theirs.shape[-1:]),
                 what="layer_norm x.shape[-1:]")
    assert_close(GF.layer_norm(ours, [3, 6]), TF.layer_norm(theirs, [3, 6]),
                 what="layer_norm list")


# ----------------------------------------------------------------------------- pad

PADS = [
    ("constant", (1, 2), 3), ("constant", (0, 1, 2, 0), 3), ("constant", (-1, 2), 3),
    ("constant", (2, -1, -1, 1), 4), ("constant", (1, 1, 0, 0, 1, 0), 3),
    ("reflect", (1, 2), 3), ("reflect", (2, 1, 1, 2), 4), ("reflect", (-1, 2), 3),
    ("reflect", (2, -1), 3), ("reflect", (-1, 2, 1, -2), 4),
    ("replicate", (1, 3), 3), ("replicate", (2, 0, 1, 3), 4), ("replicate", (-1, 2), 3),
    ("replicate", (2, -1, -1, 1), 4),
    ("circular", (1, 2), 3), ("circular", (2, 1, 1, 3), 4),
    ("circular", (-1, 2), 3), ("circular", (2, -1), 3), ("circular", (-2, -1), 3),
    ("circular", (-1, 2, 1, -2), 4), ("circular", (1, -1, -2, 2), 4),
]


@pytest.mark.parametrize("mode,widths,ndim", PADS,
                         ids=[f"{m}-{w}-{n}d" for m, w, n in PADS])
def test_pad(mode: str, widths: tuple[int, ...], ndim: int) -> None:
    x = randn(*(2, 3, 5, 6)[4 - ndim:], seed=33)
    check_function(lambda t: GF.pad(t, widths, mode=mode),
                   lambda t: TF.pad(t, widths, mode=mode), [x],
                   what=f"pad {mode} {widths}")


def test_pad_constant_value_positional_and_keyword() -> None:
    x = randn(2, 3, seed=34)
    check_function(lambda t: GF.pad(t, (1, 2), "constant", 2.5),
                   lambda t: TF.pad(t, (1, 2), "constant", 2.5), [x], what="positional")
    check_function(lambda t: GF.pad(t, [1, 0, 0, 2], value=-1.0),
                   lambda t: TF.pad(t, [1, 0, 0, 2], value=-1.0), [x], what="keyword list")
    x32 = randn(2, 3, seed=35, dtype=np.float32)
    ours, theirs = pair(x32)
    assert_close(GF.pad(ours, (1, 1), value=0.5), TF.pad(theirs, (1, 1), value=0.5),
                 what="float32 pad")


# ----------------------------------------------------------------------------- one_hot


def test_one_hot() -> None:
    y = np.array([0, 2, 1, 2], dtype=np.int64)
    ours, theirs = pair(y)
    assert_close(GF.one_hot(ours), TF.one_hot(theirs), what="one_hot")
    assert_close(GF.one_hot(ours, 5), TF.one_hot(theirs, 5), what="one_hot positional")
    assert_close(GF.one_hot(ours, num_classes=4), TF.one_hot(theirs, num_classes=4),
                 what="one_hot keyword")
    y2 = np.array([[1, 0], [3, 2]], dtype=np.int64)
    ours, theirs = pair(y2)
    assert_close(GF.one_hot(ours, -1), TF.one_hot(theirs, -1), what="one_hot 2-d")
    ours, theirs = pair(np.array(2, dtype=np.int64))
    assert_close(GF.one_hot(ours, 3), TF.one_hot(theirs, 3), what="one_hot 0-d")
    assert_close(GF.one_hot(tg.tensor([1, 0])), TF.one_hot(torch.tensor([1, 0])),
                 what="one_hot of a list tensor")
