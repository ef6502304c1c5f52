"""interpolate(..., antialias=True) and mode='lanczos' against PyTorch: values, gradients
and second derivatives (float64), float32 values, size= and scale_factor=, align_corners,
shrinking and enlarging; the one place we differ (PyTorch's width-1 output when the height
shrinks too) is asserted as ours, against PyTorch's own one-axis passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tests.conformance.oracle import assert_close, check_function

CASES = [((8, 8), {"size": (5, 3)}), ((16, 12), {"size": (4, 5)}), ((7, 9), {"size": (14, 4)}),
         ((10, 10), {"scale_factor": 0.3}), ((6, 5), {"scale_factor": (0.5, 2.0)}),
         ((5, 5), {"size": (5, 5)}), ((9, 7), {"size": (1, 3)})]


MODES = [("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True),
         ("lanczos", False)]  # PyTorch refuses lanczos with align_corners=True, as we do


@pytest.mark.parametrize("mode,align_corners", MODES)
@pytest.mark.parametrize("hw,kwargs", CASES, ids=[str(c) for c in CASES])
def test_antialias_matches_pytorch(hw: tuple[int, int], kwargs: dict, mode: str,
                                   align_corners: bool) -> None:
    x = np.random.default_rng(hw[0] * 31 + hw[1]).standard_normal((2, 3, *hw))
    check_function(
        lambda t: F.interpolate(t, mode=mode, antialias=True, align_corners=align_corners,
                                **kwargs),
        lambda t: TF.interpolate(t, mode=mode, antialias=True, align_corners=align_corners,
                                 **kwargs),
        [x], what=f"{mode} antialias {hw} {kwargs}")


def test_antialias_float32() -> None:
    x = np.random.default_rng(1).standard_normal((1, 2, 12, 10)).astype(np.float32)
    ours = F.interpolate(tg.tensor(x), size=(5, 4), mode="bilinear", antialias=True)
    theirs = TF.interpolate(torch.tensor(x), size=(5, 4), mode="bilinear", antialias=True)
    assert_close(ours, theirs, what="float32 antialias")


def test_width_one_output_is_the_two_one_axis_passes_deliberately() -> None:
    """PyTorch's antialiased kernel, shrinking both axes to a width of 1, gives every row
    the first row's value ((9, 4) -> (3, 1)); its own two one-axis passes (height, then
    width), and ours, do not."""
    x = np.random.default_rng(0).standard_normal((1, 1, 9, 4))
    t = torch.tensor(x)
    direct = TF.interpolate(t, size=(3, 1), mode="bilinear", antialias=True)
    two_passes = TF.interpolate(TF.interpolate(t, size=(3, 4), mode="bilinear",
                                               antialias=True),
                                size=(3, 1), mode="bilinear", antialias=True)
    assert torch.all(direct == direct[0, 0, 0, 0]), "PyTorch's quirk is gone: drop this row"
    ours = F.interpolate(tg.tensor(x), size=(3, 1), mode="bilinear", antialias=True)
    np.testing.assert_allclose(ours.numpy(), two_passes.numpy(), rtol=1e-12)
