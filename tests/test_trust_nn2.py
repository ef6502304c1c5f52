"""nn, optim and data behaviours kept from PyTorch (second round): circular padding with
negative widths, `inplace=True` activations, 'same' convolutions with non-zero padding
modes, state dicts of shared modules, frozen parameters given to optimizers, and the
DataLoader's batch types. Expected values are derived with numpy."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as torch
from tinygrad_edu import Tensor
from tinygrad_edu.nn import functional as F
from tinygrad_edu.testing import assert_gradients_match


# ----------------------------------------------------------------------------- pad circular
def test_circular_pad_crops_first_then_wraps_the_cropped_tensor() -> None:
    x = torch.arange(6.0).reshape(1, 1, 6)
    np.testing.assert_array_equal(F.pad(x, (-1, 2), mode="circular").numpy()[0, 0],
                                  [1, 2, 3, 4, 5, 1, 2])
    np.testing.assert_array_equal(F.pad(x, (2, -1), mode="circular").numpy()[0, 0],
                                  [3, 4, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(F.pad(x, (-2, -1), mode="circular").numpy()[0, 0],
                                  [2, 3, 4])


def test_circular_pad_crops_every_dim_before_wrapping_any() -> None:
    a = np.arange(12.0).reshape(1, 1, 3, 4)
    out = F.pad(Tensor(a), (-1, 2, 1, -2), mode="circular").numpy()
    cropped = a[..., :1, 1:]                                # rows 0..0, columns 1..3
    expected = np.pad(cropped, ((0, 0), (0, 0), (1, 0), (0, 2)), mode="wrap")
    np.testing.assert_array_equal(out, expected)


def test_circular_pad_with_negative_widths_gradient() -> None:
    assert_gradients_match(lambda t: F.pad(t, (-1, 2, 2, -1), mode="circular"),
                           np.random.default_rng(0).normal(size=(1, 2, 3, 4)))


def test_circular_pad_refuses_to_wrap_more_than_once() -> None:
    x = torch.arange(6.0).reshape(1, 1, 6)
    assert F.pad(x, (6, 0), mode="circular").shape == (1, 1, 12)  # exactly once is fine
    with pytest.raises(ValueError, match=r"pad: circular padding \(7, 0\) would wrap"):
        F.pad(x, (7, 0), mode="circular")
    with pytest.raises(ValueError, match=r"circular padding \(-3, 4\) .* size 3 \(after "
                                         "cropping\\)"):
        F.pad(x, (-3, 4), mode="circular")
