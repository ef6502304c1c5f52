"""interpolate(..., antialias=True): gradients and second derivatives by central
differences (float64), and the weights' defining properties (rows sum to 1; enlarging
gives the ordinary align_corners=False bilinear weights)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu.nn._antialias import weight_matrix
from tinygrad_edu.testing import assert_gradients_match


@given(h=st.integers(2, 9), w=st.integers(2, 9), oh=st.integers(1, 9), ow=st.integers(1, 9),
       mode=st.sampled_from(["bilinear", "bicubic", "lanczos"]), seed=st.integers(0, 99))
def test_antialias_gradients(h: int, w: int, oh: int, ow: int, mode: str, seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    assert_gradients_match(
        lambda t: F.interpolate(t, size=(oh, ow), mode=mode, antialias=True), x,
        second_order=True)


@given(n=st.integers(1, 20), out=st.integers(1, 20),
       mode=st.sampled_from(["bilinear", "bicubic", "lanczos"]))
def test_rows_sum_to_one(n: int, out: int, mode: str) -> None:
    np.testing.assert_allclose(weight_matrix(n, out, n / out, mode).sum(1), 1.0, rtol=1e-12)


def test_enlarging_is_ordinary_bilinear() -> None:
    x = tg.tensor(np.random.default_rng(0).standard_normal((1, 1, 4, 5)))
    aa = F.interpolate(x, size=(9, 11), mode="bilinear", antialias=True)
    plain = F.interpolate(x, size=(9, 11), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(aa.numpy(), plain.numpy(), rtol=1e-12, atol=1e-14)
