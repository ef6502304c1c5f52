"""Shape errors of tinygrad_edu.nn (issue 18): every raise about shapes names the op and
prints the full shape of every operand involved, as Python prints a tuple, and numpy's own
errors never escape a public nn call given bad shapes. One case per message; the core's
messages are in test_error_shapes.py."""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import ShapeError, Tensor


def t(*shape: int) -> Tensor:
    return Tensor(np.ones(shape))


def labels(*shape: int, value: int = 0) -> Tensor:
    return Tensor(np.full(shape, value, dtype=np.int64))


# (id, call, exception type, the message's start, parts it must contain)
CASES: list[tuple[str, Callable[[], Any], type[Exception], str, tuple[str, ...]]] = [
    # ------------------------------------------------------------------ linear
    ("Linear input", lambda: nn.Linear(4, 5)(t(3, 6)), ShapeError, "Linear",
     ("(3, 6)", "(5, 4)", "(..., 4)")),
    ("Linear replaced weight", lambda: nn.utils.functional_call(
        nn.Linear(3, 4), {"weight": t(4, 2)}, (t(2, 3),)), ShapeError, "Linear",
     ("(2, 3)", "(4, 2)")),
    ("Linear replaced bias", lambda: nn.utils.functional_call(
        nn.Linear(3, 4), {"bias": t(5)}, (t(2, 3),)), ShapeError, "Linear",
     ("(4, 3)", "(5,)", "(2, 3)")),
    ("Unflatten", lambda: nn.Unflatten(1, (2, 2))(t(3, 5)), ShapeError, "Unflatten",
     ("(3, 5)", "(2, 2)")),
    ("Unflatten dim", lambda: nn.Unflatten(2, (2, 2))(t(3, 4)), IndexError, "Unflatten",
     ("(3, 4)",)),
    # ------------------------------------------------------------------ convolution
    ("conv2d channels", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 2, 3, 3)), ShapeError, "conv2d",
     ("(1, 3, 8, 8)", "(4, 2, 3, 3)")),
    ("conv1d channels", lambda: F.conv1d(t(1, 3, 8), t(4, 2, 3)), ShapeError, "conv1d",
     ("(1, 3, 8)", "(4, 2, 3)")),
    ("conv2d groups in", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 1, 3, 3), groups=2), ValueError,
     "conv2d", ("(1, 3, 8, 8)", "(4, 1, 3, 3)", "groups=2")),
    ("conv2d groups out", lambda: F.conv2d(t(1, 4, 8, 8), t(3, 2, 3, 3), groups=2),
     ValueError, "conv2d", ("(1, 4, 8, 8)", "(3, 2, 3, 3)", "groups=2")),
    ("conv2d bias", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 3, 3, 3), t(3)), ShapeError, "conv2d",
     ("(3,)", "(4, 3, 3, 3)", "(1, 3, 8, 8)", "(4,)")),
    ("conv2d input rank", lambda: F.conv2d(t(3, 8, 8), t(4, 3, 3, 3)), ShapeError, "conv2d",
     ("(3, 8, 8)", "(4, 3, 3, 3)", "unsqueeze(0)")),
    ("conv2d weight rank", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 3, 3)), ShapeError, "conv2d",
     ("(1, 3, 8, 8)", "(4, 3, 3)")),
    ("conv2d kernel too big", lambda: F.conv2d(t(1, 3, 2, 2), t(4, 3, 3, 3)), ShapeError,
     "conv2d", ("(1, 3, 2, 2)", "(4, 3, 3, 3)")),
    ("conv2d_nhwc channels", lambda: F.conv2d_nhwc(t(1, 8, 8, 3), t(3, 3, 2, 4)), ShapeError,
     "conv2d_nhwc", ("(1, 8, 8, 3)", "(3, 3, 2, 4)")),
    ("conv2d_nhwc rank", lambda: F.conv2d_nhwc(t(8, 8, 3), t(3, 3, 3, 4)), ShapeError,
     "conv2d_nhwc", ("(8, 8, 3)", "(3, 3, 3, 4)")),
    ("conv2d_nhwc bias", lambda: F.conv2d_nhwc(t(1, 8, 8, 3), t(3, 3, 3, 4), t(5)), ShapeError,
     "conv2d_nhwc", ("(5,)", "(3, 3, 3, 4)", "(1, 8, 8, 3)", "(4,)")),
    ("Conv2d input", lambda: nn.Conv2d(3, 4, 3)(t(1, 2, 8, 8)), ShapeError, "Conv2d",
     ("(1, 2, 8, 8)", "(4, 3, 3, 3)")),
    ("Conv1d input", lambda: nn.Conv1d(3, 4, 3)(t(1, 2, 8)), ShapeError, "Conv1d",
     ("(1, 2, 8)", "(4, 3, 3)")),
    ("Conv2d replaced weight", lambda: nn.utils.functional_call(
        nn.Conv2d(3, 4, 3), {"weight": t(4, 2, 3, 3)}, (t(1, 3, 8, 8),)), ShapeError,
     "Conv2d: conv2d", ("(1, 3, 8, 8)", "(4, 2, 3, 3)")),
    # ------------------------------------------------------------------ pooling
    ("max_pool2d rank", lambda: F.max_pool2d(t(8, 8), 2), ShapeError, "max_pool2d", ("(8, 8)",)),
    ("max_pool2d kernel too big", lambda: F.max_pool2d(t(1, 1, 2, 2), 3), ShapeError,
     "max_pool2d", ("(1, 1, 2, 2)", "(3, 3)")),
    ("avg_pool1d kernel too big", lambda: F.avg_pool1d(t(1, 1, 2), 3), ShapeError,
     "avg_pool1d", ("(1, 1, 2)", "(3,)")),
    ("max_pool2d padding", lambda: F.max_pool2d(t(1, 1, 8, 8), 2, padding=2), ValueError,
     "max_pool2d", ("(1, 1, 8, 8)", "(2, 2)")),
    ("max_pool2d_nhwc rank", lambda: F.max_pool2d_nhwc(t(8, 8, 3), 2), ShapeError,
     "max_pool2d_nhwc", ("(8, 8, 3)",)),
    ("MaxPool2d", lambda: nn.MaxPool2d(3)(t(1, 1, 2, 2)), ShapeError, "MaxPool2d: max_pool2d",
     ("(1, 1, 2, 2)",)),
    # ------------------------------------------------------------------ normalization
    ("batch_norm rank", lambda: F.batch_norm(t(4), t(4), t(4)), ShapeError, "batch_norm",
     ("(4,)",)),
    ("batch_norm running_mean eval", lambda: F.batch_norm(t(4, 3), t(5), t(3)), ShapeError,
     "batch_norm", ("running_mean", "(5,)", "(3,)", "(4, 3)")),
    ("batch_norm running_var training", lambda: F.batch_norm(t(4, 3), t(3), t(5),
                                                             training=True),
     ShapeError, "batch_norm", ("running_var", "(5,)", "(3,)", "(4, 3)")),
    ("batch_norm running stats (C, 1)", lambda: F.batch_norm(t(4, 3), t(3, 1), t(3, 1),
                                                             training=True),
     ShapeError, "batch_norm", ("running_mean", "(3, 1)", "(3,)", "(4, 3)")),
    ("batch_norm weight", lambda: F.batch_norm(t(4, 3, 2), None, None, weight=t(5),
                                               training=True),
     ShapeError, "batch_norm", ("weight", "(5,)", "(3,)", "(4, 3, 2)")),
    ("batch_norm bias", lambda: F.batch_norm(t(4, 3), t(3), t(3), bias=t(2)), ShapeError,
     "batch_norm", ("bias", "(2,)", "(3,)", "(4, 3)")),
    ("batch_norm one value per channel", lambda: F.batch_norm(t(1, 3), None, None,
                                                              training=True),
     ValueError, "batch_norm", ("(1, 3)",)),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(3)(t(4, 5)), ShapeError, "BatchNorm1d",
     ("(4, 5)", "(N, 3)", "num_features=3")),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(3)(t(4, 5, 2, 2)), ShapeError, "BatchNorm2d",
     ("(4, 5, 2, 2)", "(N, 3, H, W)")),
    ("BatchNorm1d replaced running_mean", lambda: nn.utils.functional_call(
        nn.BatchNorm1d(3).eval(), {"running_mean": t(4)}, (t(2, 3),)), ShapeError,
     "batch_norm", ("(4,)", "(3,)", "(2, 3)")),
    ("layer_norm normalized_shape", lambda: F.layer_norm(t(2, 3), (4,)), ShapeError,
     "layer_norm", ("(4,)", "(2, 3)")),
    ("layer_norm weight", lambda: F.layer_norm(t(2, 4), (4,), weight=t(3)), ShapeError,
     "layer_norm", ("weight", "(3,)", "(4,)", "(2, 4)")),
    ("layer_norm weight broadcastable", lambda: F.layer_norm(t(2, 4), (4,), weight=t(2, 4)),
     ShapeError, "layer_norm", ("weight", "(2, 4)", "(4,)")),
    ("layer_norm bias", lambda: F.layer_norm(t(2, 3, 4), [3, 4], bias=t(4)), ShapeError,
     "layer_norm", ("bias", "(4,)", "(3, 4)", "(2, 3, 4)")),
    ("LayerNorm", lambda: nn.LayerNorm((3, 4))(t(2, 4, 3)), ShapeError, "LayerNorm",
     ("(2, 4, 3)", "(3, 4)")),
    # ------------------------------------------------------------------ pad
    ("pad odd length", lambda: F.pad(t(2, 3), (1, 2, 3)), ValueError, "pad",
     ("(1, 2, 3)", "(2, 3)")),
    ("pad too long", lambda: F.pad(t(2, 3), (1,) * 6), ValueError, "pad",
     ("(1, 1, 1, 1, 1, 1)", "(2, 3)")),
    ("pad crops past the size", lambda: F.pad(t(2, 3), (-2, -2)), ValueError, "pad",
     ("(-2, -2)", "(2, 3)")),
    ("pad crops past the size, dim 0", lambda: F.pad(t(2, 3), (0, 0, -3, 0)), ValueError,
     "pad", ("(-3, 0)", "(2, 3)", "dim 0")),
    ("pad reflect too wide", lambda: F.pad(t(2, 3), (3, 3), mode="reflect"), ValueError,
     "pad", ("(3, 3)", "(2, 3)")),
    ("pad circular too wide", lambda: F.pad(t(2, 3), (4, 0), mode="circular"), ValueError,
     "pad", ("(4, 0)", "(2, 3)")),
    ("pad replicate empty dim", lambda: F.pad(t(2, 0), (1, 1), mode="replicate"), ValueError,
     "pad", ("(1, 1)", "(2, 0)")),
    ("pad float width", lambda: F.pad(t(2, 3), (1.5, 1)), TypeError, "pad",
     ("1.5", "(1.5, 1)", "(2, 3)")),
    ("pad int instead of tuple", lambda: F.pad(t(2, 3), 1), TypeError, "pad", ("(2, 3)",)),
    # ------------------------------------------------------------------ class-index losses
    ("cross_entropy target", lambda: F.cross_entropy(t(4, 3), labels(5)), ShapeError,
     "cross_entropy", ("(5,)", "(4, 3)", "(4,)")),
    ("cross_entropy (N, C, d) target", lambda: F.cross_entropy(t(2, 3, 5), labels(2, 4)),
     ShapeError, "cross_entropy", ("(2, 4)", "(2, 3, 5)", "(2, 5)")),
    ("cross_entropy probabilities", lambda: F.cross_entropy(t(4, 3), t(4, 4)), ShapeError,
     "cross_entropy", ("(4, 4)", "(4, 3)")),
    ("cross_entropy integer one-hot", lambda: F.cross_entropy(t(4, 3), labels(4, 3)),
     TypeError, "cross_entropy", ("(4, 3)", "int64", "(4,)")),
    ("cross_entropy float labels", lambda: F.cross_entropy(t(4, 3), t(4)), TypeError,
     "cross_entropy", ("(4,)", "(4, 3)", "float64")),
    ("cross_entropy 0-d", lambda: F.cross_entropy(t(), labels()), ShapeError, "cross_entropy",
     ("()", "(C,)", "(N, C)")),
    ("cross_entropy weight", lambda: F.cross_entropy(t(4, 3), labels(4), weight=t(1, 3)),
     ShapeError, "cross_entropy", ("(1, 3)", "(3,)", "(4, 3)")),
    ("nll_loss target", lambda: F.nll_loss(t(4, 3), labels(3)), ShapeError, "nll_loss",
     ("(3,)", "(4, 3)", "(4,)")),
    ("nll_loss one-hot target", lambda: F.nll_loss(t(4, 3), labels(4, 3)), ShapeError,
     "nll_loss", ("(4, 3)", "(4,)")),
    ("nll_loss weight", lambda: F.nll_loss(t(4, 3), labels(4), weight=t(2)), ShapeError,
     "nll_loss", ("(2,)", "(3,)", "(4, 3)")),
    ("nll_loss 0-d", lambda: F.nll_loss(t(), labels()), ShapeError, "nll_loss", ("()",)),
    ("cross_entropy_from_probs target", lambda: F.cross_entropy_from_probs(t(4, 3) * 0.3,
                                                                          t(4, 2)),
     ShapeError, "cross_entropy_from_probs", ("(4, 2)", "(4, 3)")),
    ("multi_margin_loss rank", lambda: F.multi_margin_loss(t(2, 3, 4), labels(2, 4)),
     ShapeError, "multi_margin_loss", ("(2, 3, 4)", "(2, 4)", "(N, C)")),
    ("multi_margin_loss 0-d", lambda: F.multi_margin_loss(t(), labels()), ShapeError,
     "multi_margin_loss", ("()",)),
    ("multi_margin_loss target", lambda: F.multi_margin_loss(t(4, 3), labels(5)), ShapeError,
     "multi_margin_loss", ("(5,)", "(4, 3)", "(4,)")),
    ("multi_margin_loss weight", lambda: F.multi_margin_loss(t(4, 3), labels(4), weight=t(5)),
     ShapeError, "multi_margin_loss", ("(5,)", "(3,)", "(4, 3)")),
    ("svm_loss rank", lambda: F.svm_loss(t(2, 3, 4), labels(2, 4)), ShapeError, "svm_loss",
     ("(2, 3, 4)", "(2, 4)")),
    ("CrossEntropyLoss weight", lambda: nn.CrossEntropyLoss(weight=t(5))(t(4, 3), labels(4)),
     ShapeError, "cross_entropy", ("(5,)", "(3,)", "(4, 3)")),
    # ------------------------------------------------------------------ elementwise losses
    ("mse_loss", lambda: F.mse_loss(t(4, 3), t(5)), ShapeError, "mse_loss", ("(5,)", "(4, 3)")),
    ("l1_loss", lambda: F.l1_loss(t(4, 3), t(2, 3)), ShapeError, "l1_loss",
     ("(2, 3)", "(4, 3)")),
    ("huber_loss", lambda: F.huber_loss(t(4, 3), t(5)), ShapeError, "huber_loss",
     ("(5,)", "(4, 3)")),
    ("smooth_l1_loss", lambda: F.smooth_l1_loss(t(4, 3), t(4, 2)), ShapeError,
     "smooth_l1_loss", ("(4, 2)", "(4, 3)")),
    ("MSELoss", lambda: nn.MSELoss()(t(4, 3), t(5)), ShapeError, "mse_loss",
     ("(5,)", "(4, 3)")),
    ("binary_cross_entropy target", lambda: F.binary_cross_entropy(t(4, 3) * 0.5, t(4, 1)),
     ShapeError, "binary_cross_entropy", ("(4, 1)", "(4, 3)")),
    ("binary_cross_entropy weight", lambda: F.binary_cross_entropy(t(4, 3) * 0.5, t(4, 3),
                                                                   weight=t(3, 1)),
     ShapeError, "binary_cross_entropy", ("(3, 1)", "(4, 3)")),
    ("bce_with_logits target", lambda: F.binary_cross_entropy_with_logits(t(4, 3), t(3)),
     ShapeError, "binary_cross_entropy_with_logits", ("(3,)", "(4, 3)")),
    ("bce_with_logits pos_weight", lambda: F.binary_cross_entropy_with_logits(
        t(4, 3), t(4, 3), pos_weight=t(4)), ShapeError, "binary_cross_entropy_with_logits",
     ("pos_weight", "(4,)", "(4, 3)")),
    ("BCELoss", lambda: nn.BCELoss()(t(4, 3) * 0.5, t(3, 4)), ShapeError,
     "binary_cross_entropy", ("(3, 4)", "(4, 3)")),
    # ------------------------------------------------------------------ utilities
    ("vector_to_parameters size", lambda: nn.utils.vector_to_parameters(t(5), [t(2, 3)]),
     ShapeError, "vector_to_parameters", ("(5,)", "(6,)", "(2, 3)")),
    ("vector_to_parameters rank", lambda: nn.utils.vector_to_parameters(t(1, 6), [t(2, 3)]),
     ShapeError, "vector_to_parameters", ("(1, 6)", "(6,)", "(2, 3)")),
    ("load_state_dict", lambda: nn.Linear(3, 4).load_state_dict(
        {"weight": np.ones((4, 2)), "bias": np.ones(4)}), RuntimeError, "load_state_dict",
     ("'weight'", "(4, 2)", "(4, 3)")),
    ("init fans", lambda: nn.init.kaiming_uniform_(t(3)), ValueError, "kaiming_uniform_",
     ("(3,)",)),
    ("init eye_", lambda: nn.init.eye_(t(3)), ValueError, "eye_", ("(3,)",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_message_names_the_op_and_every_shape(case: Any) -> None:
    _, call, kind, op, parts = case
    with warnings.catch_warnings(), pytest.raises(kind) as info:
        warnings.simplefilter("ignore", UserWarning)
        call()
    msg = str(info.value)
    assert msg.startswith(op), f"{msg!r} should start with {op!r}"
    for part in parts:
        assert part in msg, f"{part!r} missing from {msg!r}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_error_is_ours_not_numpy(case: Any) -> None:
    """Raised by tinygrad_edu's own check, not by numpy (or Python) deeper down."""
    _, call, kind, _, _ = case
    with warnings.catch_warnings(), pytest.raises(kind) as info:
        warnings.simplefilter("ignore", UserWarning)
        call()
    frames = traceback.extract_tb(info.value.__traceback__)
    raiser = frames[-1].filename.replace("\\", "/")
    assert "/tinygrad_edu/" in raiser, f"raised in {raiser}: {info.value}"
    for fragment in ("operands could not be broadcast", "could not broadcast input array",
                     "cannot reshape array", "gufunc signature", "not iterable"):
        assert fragment not in str(info.value)


def test_pad_is_checked_before_numpy_sees_it() -> None:
    """Widths that crop a dim to exactly 0 are valid (as PyTorch); one more is not."""
    assert F.pad(t(2, 3), (-3, 0)).shape == (2, 0)
    assert F.pad(t(2, 3), (-1, -1)).shape == (2, 1)
    assert F.pad(t(2, 3), (np.int64(1), 1)).shape == (2, 5)
    with pytest.raises(ValueError, match=r"^pad: widths \(-4, 0\) would crop dim 1 of size 3 "
                                         r"to -1 \(input shape \(2, 3\)"):
        F.pad(t(2, 3), (-4, 0))


def test_valid_shapes_still_work() -> None:
    """The new checks accept what they should: (C,) statistics and affine vectors,
    normalized_shape weights, a replaced weight of the right shape."""
    x = t(4, 3, 2)
    assert F.batch_norm(x, t(3), t(3), weight=t(3), bias=t(3)).shape == (4, 3, 2)
    assert F.batch_norm(x, None, None, t(3), t(3), training=True).shape == (4, 3, 2)
    assert F.layer_norm(x, (3, 2), t(3, 2), t(3, 2)).shape == (4, 3, 2)
    assert F.layer_norm(x, np.int64(2)).shape == (4, 3, 2)
    layer = nn.Linear(3, 4)
    out = nn.utils.functional_call(layer, {"weight": t(4, 3)}, (t(2, 3),))
    assert out.shape == (2, 4)
    assert F.conv2d_nhwc(t(1, 5, 5, 3), t(3, 3, 3, 4), t(4)).shape == (1, 3, 3, 4)
