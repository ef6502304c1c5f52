"""The layers added for issue 19 against PyTorch: F.embedding / nn.Embedding, F.interpolate
and the Upsample family, adaptive pooling, pixel (un)shuffle, group and instance norm,
channel dropout, F.bilinear / nn.Bilinear, ParameterList / ParameterDict, and F.pad's
circular mode with cropping widths.

Every functional call is written once as `lambda F, *xs: ...` and run with
F = torch.nn.functional and F = tinygrad_edu.nn.functional: values, gradients under a random
upstream gradient, second derivatives (float64) and float32 values and gradients. Modules
are compared with the same weights (copied from torch through the state_dict, whose keys and
shapes must equal torch's)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF
from tinygrad_edu.testing import assert_gradients_match

from .nn_helpers import copy_torch_weights, randn
from .oracle import assert_close, check_function, pair


def idx(*shape: int, n: int = 6, seed: int = 0) -> np.ndarray:
    """int64 indices in [0, n) with repeats (so gradient rows accumulate)."""
    return np.random.default_rng(seed).integers(0, n, size=shape).astype(np.int64)


# (name, call, input arrays in float64); float inputs get gradients, int ones do not.
CALLS: list[tuple[str, Callable[..., Any], Callable[[], list[np.ndarray]]]] = [
    # ------------------------------------------------------------------ embedding
    ("embedding", lambda F, i, w: F.embedding(i, w), lambda: [idx(4, 3), randn(6, 5)]),
    ("embedding_1d", lambda F, i, w: F.embedding(i, w), lambda: [idx(7), randn(6, 2)]),
    ("embedding_0d", lambda F, i, w: F.embedding(i, w), lambda: [np.array(3), randn(6, 2)]),
    ("embedding_empty", lambda F, i, w: F.embedding(i, w),
     lambda: [np.zeros((0, 2), np.int64), randn(6, 2)]),
    ("embedding_int32", lambda F, i, w: F.embedding(i, w),
     lambda: [idx(3, 2).astype(np.int32), randn(6, 3)]),
    ("embedding_padding_idx", lambda F, i, w: F.embedding(i, w, padding_idx=2),
     lambda: [np.array([[2, 0, 2], [1, 2, 5]]), randn(6, 4)]),
    ("embedding_padding_idx_negative", lambda F, i, w: F.embedding(i, w, -1),
     lambda: [np.array([5, 0, 5, 1]), randn(6, 4)]),
    ("embedding_scale_grad_by_freq",
     lambda F, i, w: F.embedding(i, w, scale_grad_by_freq=True),
     lambda: [np.array([[1, 1, 3], [1, 0, 3]]), randn(6, 3)]),
    ("embedding_scale_grad_and_padding",
     lambda F, i, w: F.embedding(i, w, 0, None, 2.0, True),
     lambda: [np.array([0, 1, 1, 0, 4]), randn(6, 3)]),
    # ------------------------------------------------------------------ interpolate
    ("interpolate_nearest_size", lambda F, x: F.interpolate(x, size=(5, 7)),
     lambda: [randn(2, 3, 3, 4)]),
    ("interpolate_nearest_scale", lambda F, x: F.interpolate(x, scale_factor=2),
     lambda: [randn(1, 2, 3, 3)]),
    ("interpolate_nearest_scale_fraction", lambda F, x: F.interpolate(x, None, 1.7),
     lambda: [randn(1, 2, 5, 4)]),
    ("interpolate_nearest_recompute",
     lambda F, x: F.interpolate(x, scale_factor=1.7, recompute_scale_factor=True),
     lambda: [randn(1, 2, 5, 4)]),
    ("interpolate_nearest_down", lambda F, x: F.interpolate(x, size=(2, 3), mode="nearest"),
     lambda: [randn(2, 1, 7, 8)]),
    ("interpolate_nearest_1d", lambda F, x: F.interpolate(x, size=9), lambda: [randn(2, 3, 4)]),
    ("interpolate_nearest_3d", lambda F, x: F.interpolate(x, scale_factor=(1.5, 2, 0.5)),
     lambda: [randn(1, 2, 2, 3, 4)]),
    ("interpolate_nearest_exact", lambda F, x: F.interpolate(x, size=(5, 3),
                                                             mode="nearest-exact"),
     lambda: [randn(2, 2, 3, 7)]),
    ("interpolate_nearest_exact_scale",
     lambda F, x: F.interpolate(x, scale_factor=2.5, mode="nearest-exact"),
     lambda: [randn(1, 1, 3, 2)]),
    ("interpolate_bilinear", lambda F, x: F.interpolate(x, size=(5, 7), mode="bilinear"),
     lambda: [randn(2, 3, 3, 4)]),
    ("interpolate_bilinear_align_corners",
     lambda F, x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True),
     lambda: [randn(2, 3, 3, 4)]),
    ("interpolate_bilinear_scale",
     lambda F, x: F.interpolate(x, scale_factor=(1.5, 0.7), mode="bilinear",
                                align_corners=False),
     lambda: [randn(1, 2, 4, 6)]),
    ("interpolate_bilinear_scale_align",
     lambda F, x: F.interpolate(x, None, 2, "bilinear", True),
     lambda: [randn(1, 2, 3, 3)]),
    ("interpolate_bilinear_down", lambda F, x: F.interpolate(x, size=(2, 3), mode="bilinear"),
     lambda: [randn(1, 2, 7, 8)]),
    ("interpolate_bilinear_to_one",
     lambda F, x: F.interpolate(x, size=1, mode="bilinear", align_corners=True),
     lambda: [randn(1, 2, 3, 4)]),
    ("interpolate_linear", lambda F, x: F.interpolate(x, size=11, mode="linear"),
     lambda: [randn(2, 3, 4)]),
    ("interpolate_linear_align",
     lambda F, x: F.interpolate(x, scale_factor=0.6, mode="linear", align_corners=True),
     lambda: [randn(2, 3, 9)]),
    ("interpolate_trilinear", lambda F, x: F.interpolate(x, size=(3, 4, 2), mode="trilinear"),
     lambda: [randn(1, 2, 2, 3, 4)]),
    ("interpolate_area", lambda F, x: F.interpolate(x, size=(2, 3), mode="area"),
     lambda: [randn(2, 2, 5, 7)]),
    ("interpolate_area_scale", lambda F, x: F.interpolate(x, scale_factor=0.5, mode="area"),
     lambda: [randn(1, 2, 6, 5)]),
    ("interpolate_bilinear_one_axis_keeps_size",
     lambda F, x: F.interpolate(x, scale_factor=1.15, mode="bilinear"),
     lambda: [randn(1, 2, 10, 2)]),
    ("interpolate_linear_scale_keeps_size",
     lambda F, x: F.interpolate(x, scale_factor=1.3, mode="linear"), lambda: [randn(2, 1, 3)]),
    ("interpolate_nearest_2d_scale_keeps_size",
     lambda F, x: F.interpolate(x, scale_factor=(1.2, 2.3)), lambda: [randn(1, 2, 2, 2)]),
    # ------------------------------------------------------------------ adaptive pooling
    ("adaptive_avg_pool2d", lambda F, x: F.adaptive_avg_pool2d(x, 3),
     lambda: [randn(2, 3, 7, 5)]),
    ("adaptive_avg_pool2d_tuple_none", lambda F, x: F.adaptive_avg_pool2d(x, (None, 2)),
     lambda: [randn(2, 3, 4, 5)]),
    ("adaptive_avg_pool2d_larger", lambda F, x: F.adaptive_avg_pool2d(x, output_size=(5, 7)),
     lambda: [randn(1, 2, 3, 4)]),
    ("adaptive_avg_pool2d_unbatched", lambda F, x: F.adaptive_avg_pool2d(x, (2, 3)),
     lambda: [randn(3, 5, 7)]),
    ("adaptive_avg_pool2d_to_one", lambda F, x: F.adaptive_avg_pool2d(x, 1),
     lambda: [randn(2, 4, 3, 3)]),
    ("adaptive_avg_pool2d_empty_batch", lambda F, x: F.adaptive_avg_pool2d(x, 2),
     lambda: [randn(0, 2, 3, 3)]),
    ("adaptive_avg_pool2d_empty_plane_to_one", lambda F, x: F.adaptive_avg_pool2d(x, 1),
     lambda: [randn(2, 3, 0, 4)]),
    ("adaptive_avg_pool1d_to_one", lambda F, x: F.adaptive_avg_pool1d(x, 1),
     lambda: [randn(2, 3, 5)]),
    ("adaptive_max_pool2d", lambda F, x: F.adaptive_max_pool2d(x, 3),
     lambda: [randn(2, 3, 7, 5)]),
    ("adaptive_max_pool2d_tuple_none", lambda F, x: F.adaptive_max_pool2d(x, (3, None)),
     lambda: [randn(2, 3, 4, 5)]),
    ("adaptive_max_pool2d_larger", lambda F, x: F.adaptive_max_pool2d(x, (5, 6)),
     lambda: [randn(1, 2, 3, 4)]),
    ("adaptive_max_pool2d_unbatched", lambda F, x: F.adaptive_max_pool2d(x, (2, 3)),
     lambda: [randn(3, 5, 7)]),
    ("adaptive_max_pool2d_values_of_indices",
     lambda F, x: F.adaptive_max_pool2d(x, 2, return_indices=True)[0],
     lambda: [randn(2, 2, 5, 5)]),
    ("adaptive_avg_pool1d", lambda F, x: F.adaptive_avg_pool1d(x, 4), lambda: [randn(2, 3, 9)]),
    ("adaptive_avg_pool1d_unbatched", lambda F, x: F.adaptive_avg_pool1d(x, 5),
     lambda: [randn(3, 4)]),
    ("adaptive_max_pool1d", lambda F, x: F.adaptive_max_pool1d(x, 4), lambda: [randn(2, 3, 9)]),
    ("adaptive_max_pool1d_unbatched", lambda F, x: F.adaptive_max_pool1d(x, (3,)),
     lambda: [randn(3, 7)]),
    # ------------------------------------------------------------------ pixel shuffle
    ("pixel_shuffle", lambda F, x: F.pixel_shuffle(x, 2), lambda: [randn(2, 8, 3, 4)]),
    ("pixel_shuffle_3", lambda F, x: F.pixel_shuffle(x, 3), lambda: [randn(9, 2, 3)]),
    ("pixel_shuffle_extra_batch", lambda F, x: F.pixel_shuffle(x, 2),
     lambda: [randn(2, 3, 4, 2, 2)]),
    ("pixel_unshuffle", lambda F, x: F.pixel_unshuffle(x, 2), lambda: [randn(2, 3, 4, 6)]),
    ("pixel_unshuffle_3", lambda F, x: F.pixel_unshuffle(x, 3), lambda: [randn(1, 6, 3)]),

    # ------------------------------------------------------------------ norms
    ("group_norm", lambda F, x: F.group_norm(x, 2), lambda: [randn(3, 4, 5)]),
    ("group_norm_affine", lambda F, x, w, b: F.group_norm(x, 3, w, b),
     lambda: [randn(2, 6, 3, 2), randn(6), randn(6)]),
    ("group_norm_keywords", lambda F, x, w: F.group_norm(x, num_groups=1, weight=w, eps=1e-3),
     lambda: [randn(2, 4, 3), randn(4)]),
    ("group_norm_channels", lambda F, x, w, b: F.group_norm(x, 4, bias=b, weight=w),
     lambda: [randn(3, 4, 5), randn(4), randn(4)]),
    ("group_norm_2d_input", lambda F, x: F.group_norm(x, 2), lambda: [randn(3, 4)]),
    ("instance_norm", lambda F, x: F.instance_norm(x), lambda: [randn(2, 3, 5)]),
    ("instance_norm_affine", lambda F, x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
     lambda: [randn(2, 3, 4, 2), randn(3), randn(3)]),
    ("instance_norm_3d", lambda F, x: F.instance_norm(x), lambda: [randn(1, 2, 2, 3, 2)]),
    # ------------------------------------------------------------------ bilinear
    ("bilinear", lambda F, a, b, w, c: F.bilinear(a, b, w, c),
     lambda: [randn(4, 3), randn(4, 2), randn(5, 3, 2), randn(5)]),
    ("bilinear_no_bias", lambda F, a, b, w: F.bilinear(a, b, w),
     lambda: [randn(2, 4, 3), randn(2, 4, 2), randn(5, 3, 2)]),
    ("bilinear_keywords", lambda F, a, b, w: F.bilinear(input1=a, input2=b, weight=w),
     lambda: [randn(3), randn(2), randn(4, 3, 2)]),
    # ------------------------------------------------------------------ pad
    ("pad_circular_crop_left", lambda F, x: F.pad(x, (-1, 2), mode="circular"),
     lambda: [randn(2, 3, 6)]),
    ("pad_circular_crop_right", lambda F, x: F.pad(x, (2, -1), "circular"),
     lambda: [randn(2, 3, 6)]),
    ("pad_circular_crop_both", lambda F, x: F.pad(x, (-2, -1), mode="circular"),
     lambda: [randn(1, 2, 6)]),
    ("pad_circular_crop_2d", lambda F, x: F.pad(x, (-1, 2, 1, -2), mode="circular"),
     lambda: [randn(1, 2, 3, 4)]),
    ("pad_circular_crop_2d_wrap_kept", lambda F, x: F.pad(x, (2, -3, -1, 1), mode="circular"),
     lambda: [randn(2, 1, 3, 5)]),
    ("pad_circular_crop_3d", lambda F, x: F.pad(x, (1, -1, -1, 0, 0, -1), mode="circular"),
     lambda: [randn(1, 1, 3, 3, 4)]),
    ("pad_circular_crop_to_empty", lambda F, x: F.pad(x, (0, -5), mode="circular"),
     lambda: [randn(1, 2, 5)]),
    ("pad_circular_unbatched", lambda F, x: F.pad(x, (-1, 1, 1, -1), mode="circular"),
     lambda: [randn(2, 3, 4)]),
    ("pad_reflect_crop", lambda F, x: F.pad(x, (2, -3), mode="reflect"),
     lambda: [randn(2, 3, 6)]),
    ("pad_replicate_crop", lambda F, x: F.pad(x, (-2, 3, 1, -1), mode="replicate"),
     lambda: [randn(1, 2, 3, 4)]),
    ("pad_constant_crop", lambda F, x: F.pad(x, (1, -2, -1, 0), value=0.5),
     lambda: [randn(2, 3, 4)]),
]
CALL = {name: (f, make) for name, f, make in CALLS}


@pytest.mark.parametrize("name", list(CALL))
def test_float64_values_grads_second(name: str) -> None:
    f, make = CALL[name]
    check_function(lambda *xs: f(GF, *xs), lambda *xs: f(TF, *xs), make(), what=name)


@pytest.mark.parametrize("name", list(CALL))
def test_float32_values_grads(name: str) -> None:
    f, make = CALL[name]
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in make()]
    check_function(lambda *xs: f(GF, *xs), lambda *xs: f(TF, *xs), arrays, second=False,
                   what=f"{name} float32")


# PyTorch's nearest backward picks its sources by another rule than its forward here: the
# 1-D and 3-D forward kernels use the scale factor even for an equal or doubled size (the
# backward copies or repeats), and float64 forward rounds the source index from a double
# scale (the backward from a float one). The values are PyTorch's; the gradient is the
# derivative of those values (each output's gradient goes to the element it shows), checked
# by central differences.
NEAREST_FORWARD_ONLY: dict[str, tuple[Callable[..., Any], np.ndarray]] = {
    "1d_scale_keeps_size": (lambda F, x: F.interpolate(x, scale_factor=1.1), randn(1, 2, 3)),
    "3d_scale_doubles": (lambda F, x: F.interpolate(x, scale_factor=2.1), randn(1, 1, 2, 2, 3)),
    "exact_rounding": (lambda F, x: F.interpolate(x, scale_factor=2.7, mode="nearest-exact"),
                       randn(1, 1, 20)),
    "rounding": (lambda F, x: F.interpolate(x, scale_factor=3.7), randn(1, 1, 39)),
}


@pytest.mark.parametrize("name", list(NEAREST_FORWARD_ONLY))
def test_interpolate_nearest_values_where_torch_backward_disagrees(name: str) -> None:
    f, x = NEAREST_FORWARD_ONLY[name]
    for dt in (np.float64, np.float32):
        check_function(lambda t: f(GF, t), lambda t: f(TF, t), [x.astype(dt)], grad=False,
                       what=f"{name} {dt.__name__}")
    assert_gradients_match(lambda t: f(GF, t), x)


def test_empty_outputs() -> None:
    # PyTorch's own backward refuses these empty outputs, so only the values are compared
    # (pixel_unshuffle returns an empty input unchanged, its shape too, as PyTorch)
    for f, x in ((lambda F, x: F.adaptive_avg_pool2d(x, 0), randn(1, 2, 3, 3)),
                 (lambda F, x: F.adaptive_max_pool2d(x, (0, 2)), randn(1, 2, 3, 3)),
                 (lambda F, x: F.adaptive_avg_pool1d(x, 0), randn(2, 3)),
                 (lambda F, x: F.interpolate(x, scale_factor=0.4, mode="area"), randn(1, 2, 2)),
                 (lambda F, x: F.adaptive_avg_pool2d(x, 2), randn(2, 0, 3, 3)),
                 (lambda F, x: F.pixel_unshuffle(x, 2), randn(1, 3, 0, 2)),
                 (lambda F, x: F.pixel_shuffle(x, 2), randn(1, 4, 0, 2))):
        check_function(lambda x, f=f: f(GF, x), lambda x, f=f: f(TF, x), [x], grad=False)


def test_padding_idx_row_gets_no_gradient() -> None:
    i, w = np.array([[2, 0, 2], [2, 2, 1]]), randn(4, 3)
    wo = tg.tensor(w, requires_grad=True)
    GF.embedding(tg.tensor(i), wo, padding_idx=2).sum().backward()
    np.testing.assert_array_equal(wo.grad.numpy()[2], 0.0)
    np.testing.assert_array_equal(wo.grad.numpy()[0], 1.0)


# ----------------------------------------------------------------------------- uint8, ties


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_nearest_uint8(mode: str) -> None:
    x = np.random.default_rng(3).integers(0, 255, size=(1, 2, 3, 5)).astype(np.uint8)
    xo, xt = pair(x)
    assert_close(GF.interpolate(xo, size=(4, 7), mode=mode),
                 TF.interpolate(xt, size=(4, 7), mode=mode))


def test_adaptive_max_pool_ties_nan_and_indices() -> None:
    # ties: PyTorch's first maximum (row-major) takes the index and the whole gradient
    x = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 3.0, 3.0], [0.0, 0.0, 5.0, 5.0]]]])
    for size in (2, (2, 3), (1, 1), (3, 2)):
        xo, xt = pair(x, requires_grad=True)
        (vo, io), (vt, it) = (GF.adaptive_max_pool2d(xo, size, return_indices=True),
                              TF.adaptive_max_pool2d(xt, size, return_indices=True))
        assert_close(vo, vt, what=f"{size} values")
        assert_close(io, it, what=f"{size} indices")
        vo.sum().backward()
        vt.sum().backward()
        assert_close(xo.grad, xt.grad, what=f"{size} grad")
    # NaN wins its window (PyTorch picks the last NaN)
    y = np.array([[[1.0, np.nan, 2.0, np.nan, 0.5, 7.0]]])
    for size in (1, 2, 4):
        (vo, io), (vt, it) = (GF.adaptive_max_pool1d(tg.tensor(y), size, True),
                              TF.adaptive_max_pool1d(torch.tensor(y), size, True))
        assert_close(vo, vt, what=f"nan {size}")
        assert_close(io, it, what=f"nan {size} indices")


def test_adaptive_max_pool_return_types() -> None:
    x = randn(2, 3, 5, 4)
    ours = GF.adaptive_max_pool2d(tg.tensor(x), (2, 2), True)
    theirs = TF.adaptive_max_pool2d(torch.tensor(x), (2, 2), True)
    assert isinstance(ours, tuple) and len(ours) == len(theirs) == 2
    assert ours[1].dtype == np.int64
    m = gnn.AdaptiveMaxPool2d((2, None), return_indices=True)
    vo, io = m(tg.tensor(x))
    vt, it = tnn.AdaptiveMaxPool2d((2, None), return_indices=True)(torch.tensor(x))
    assert_close(vo, vt)
    assert_close(io, it)


# ----------------------------------------------------------------------------- modules


def _same_state(ours: Any, theirs: tnn.Module) -> None:
    mine = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    other = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(mine.items()) == list(other.items()), f"state_dict {mine} vs torch {other}"
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


MODULES: dict[str, tuple[Callable[[Any], Any], Callable[[], list[np.ndarray]]]] = {
    "Embedding": (lambda nn: nn.Embedding(6, 4), lambda: [idx(3, 2)]),
    "Embedding_padding": (lambda nn: nn.Embedding(6, 4, padding_idx=1),
                          lambda: [np.array([1, 2, 1, 5])]),
    "Embedding_keywords": (lambda nn: nn.Embedding(num_embeddings=6, embedding_dim=3,
                                                   padding_idx=-2, scale_grad_by_freq=True),
                           lambda: [np.array([[4, 4, 0]])]),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), lambda: [randn(3, 4, 5)]),
    "GroupNorm_no_affine": (lambda nn: nn.GroupNorm(3, 6, affine=False),
                            lambda: [randn(2, 6, 2, 2)]),
    "GroupNorm_no_bias": (lambda nn: nn.GroupNorm(1, 2, eps=1e-3, bias=False),
                          lambda: [randn(2, 2, 3)]),
    "InstanceNorm1d": (lambda nn: nn.InstanceNorm1d(3), lambda: [randn(2, 3, 5)]),
    "InstanceNorm1d_unbatched": (lambda nn: nn.InstanceNorm1d(3, affine=True),
                                 lambda: [randn(3, 5)]),
    "InstanceNorm2d_affine": (lambda nn: nn.InstanceNorm2d(2, affine=True),
                              lambda: [randn(2, 2, 3, 4)]),
    "InstanceNorm2d_stats": (lambda nn: nn.InstanceNorm2d(2, track_running_stats=True),
                             lambda: [randn(3, 2, 3, 3)]),
    "InstanceNorm2d_no_bias": (lambda nn: nn.InstanceNorm2d(2, affine=True, bias=False),
                               lambda: [randn(2, 2, 3, 2)]),
    "Bilinear": (lambda nn: nn.Bilinear(3, 2, 4), lambda: [randn(5, 3), randn(5, 2)]),
    "Bilinear_no_bias": (lambda nn: nn.Bilinear(2, 2, 3, bias=False),
                         lambda: [randn(2, 4, 2), randn(2, 4, 2)]),
    "Upsample": (lambda nn: nn.Upsample(scale_factor=2), lambda: [randn(1, 2, 3, 3)]),
    "Upsample_bilinear": (lambda nn: nn.Upsample(size=(5, 4), mode="bilinear"),
                          lambda: [randn(1, 2, 3, 3)]),
    "Upsample_linear_align": (lambda nn: nn.Upsample(None, 1.5, "linear", True),
                              lambda: [randn(2, 2, 4)]),
    "UpsamplingNearest2d": (lambda nn: nn.UpsamplingNearest2d(size=5), lambda: [randn(1, 2, 3, 2)]),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
                             lambda: [randn(1, 2, 3, 2)]),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), lambda: [randn(1, 8, 2, 3)]),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), lambda: [randn(1, 2, 4, 6)]),
    "AdaptiveAvgPool2d": (lambda nn: nn.AdaptiveAvgPool2d((3, None)),
                          lambda: [randn(2, 2, 5, 4)]),
    "AdaptiveMaxPool2d": (lambda nn: nn.AdaptiveMaxPool2d(2), lambda: [randn(2, 2, 5, 4)]),
    "AdaptiveAvgPool1d": (lambda nn: nn.AdaptiveAvgPool1d(3), lambda: [randn(2, 2, 7)]),
    "AdaptiveMaxPool1d": (lambda nn: nn.AdaptiveMaxPool1d(output_size=3),
                          lambda: [randn(2, 7)]),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_module_matches_torch(name: str) -> None:
    make, inputs = MODULES[name]
    theirs = make(tnn).double()
    ours = make(gnn)
    _same_state(ours, theirs)
    ours.double()
    with torch.no_grad():  # weights away from their initial ones/zeros
        for p in theirs.parameters():
            p.copy_(torch.tensor(randn(*p.shape, seed=p.numel())))
    copy_torch_weights(ours, theirs)
    arrays = inputs()
    pairs = [pair(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    yo, yt = ours(*[o for o, _ in pairs]), theirs(*[t for _, t in pairs])
    assert_close(yo, yt, what=f"{name} output")
    assert ours.extra_repr() == theirs.extra_repr()
    up = randn(*yt.shape, seed=9)
    (yo * tg.tensor(up)).sum().backward()
    (yt * torch.tensor(up)).sum().backward()
    for (o, t) in pairs:
        if t.requires_grad:
            assert_close(o.grad, t.grad, what=f"{name} input grad")
    mine = dict(ours.named_parameters())
    for k, p in theirs.named_parameters():
        assert_close(mine[k].grad, p.grad, what=f"{name} {k}.grad")
    for k, b in theirs.named_buffers():
        assert_close(dict(ours.named_buffers())[k], b, what=f"{name} buffer {k}")
    fresh = make(tnn).double()  # our state_dict loads into PyTorch's module unchanged
    fresh.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in
                           ours.state_dict().items()})
    for k, v in fresh.state_dict().items():
        assert_close(ours.state_dict()[k], v, what=f"{name} {k} loaded into torch")


def test_instance_norm_running_stats_train_and_eval() -> None:
    kw = {"track_running_stats": True, "affine": True, "momentum": 0.3}
    ours, theirs = gnn.InstanceNorm1d(3, **kw).double(), tnn.InstanceNorm1d(3, **kw).double()
    for step in range(3):
        xo, xt = pair(randn(4, 3, 5, seed=step, scale=1 + step) + step)
        assert_close(ours(xo), theirs(xt), what=f"train step {step}")
        for k in ("running_mean", "running_var", "num_batches_tracked"):
            assert_close(getattr(ours, k), getattr(theirs, k), what=f"step {step} {k}")
    ours.eval()
    theirs.eval()
    xo, xt = pair(randn(2, 3, 5, seed=7), requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt, what="eval with running stats")
    yo.sum().backward()
    yt.sum().backward()
    assert_close(xo.grad, xt.grad, what="eval grad")
    fo = GF.instance_norm(tg.tensor(randn(2, 3, 4)), ours.running_mean, ours.running_var,
                          use_input_stats=False)
    ft = TF.instance_norm(torch.tensor(randn(2, 3, 4)), theirs.running_mean,
                          theirs.running_var, use_input_stats=False)
    assert_close(fo, ft, what="F.instance_norm(use_input_stats=False)")


def test_module_float32_defaults() -> None:
    x = randn(2, 4, 3, 3, dtype=np.float32)
    for make in (lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.InstanceNorm2d(4),
                 lambda nn: nn.Upsample(scale_factor=1.5, mode="bilinear")):
        ours, theirs = make(gnn), make(tnn)
        copy_torch_weights(ours, theirs)
        assert_close(ours(tg.tensor(x)), theirs(torch.tensor(x)))


# ----------------------------------------------------------------------------- init


def test_embedding_init_and_from_pretrained() -> None:
    tg.manual_seed(0)
    e = gnn.Embedding(2000, 50, padding_idx=3)
    w = e.weight.numpy()
    assert w.dtype == np.float32 and w.shape == (2000, 50)
    np.testing.assert_array_equal(w[3], 0.0)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01  # N(0, 1)
    tg.manual_seed(5)
    a = gnn.Embedding(4, 3).weight.numpy().copy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(a, gnn.Embedding(4, 3).weight.numpy())
    table = randn(5, 3)
    for kw in ({}, {"freeze": False}, {"padding_idx": 2}):
        ours = gnn.Embedding.from_pretrained(tg.tensor(table), **kw)
        theirs = tnn.Embedding.from_pretrained(torch.tensor(table), **kw)
        assert ours.weight.requires_grad == theirs.weight.requires_grad
        assert ours.padding_idx == theirs.padding_idx
        i = np.array([2, 0, 4])
        assert_close(ours(tg.tensor(i)), theirs(torch.tensor(i)))
        assert ours.extra_repr() == theirs.extra_repr()
    shared = tg.tensor(table)
    gnn.Embedding.from_pretrained(shared).weight.numpy()[0, 0] = 42.0
    assert shared.numpy()[0, 0] == 42.0  # PyTorch shares the table too


def test_bilinear_init_bounds() -> None:
    tg.manual_seed(0)
    m = gnn.Bilinear(16, 5, 300)
    bound = 1 / np.sqrt(16)
    for p in (m.weight.numpy(), m.bias.numpy()):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound
    assert abs(m.weight.numpy().std() - bound / np.sqrt(3)) < 0.03 * bound


def test_norm_init() -> None:
    g = gnn.GroupNorm(2, 4)
    np.testing.assert_array_equal(g.weight.numpy(), 1.0)
    np.testing.assert_array_equal(g.bias.numpy(), 0.0)
    assert gnn.InstanceNorm2d(3).weight is None  # affine=False by default, as PyTorch
    assert list(gnn.InstanceNorm2d(3).state_dict()) == []


# ----------------------------------------------------------------------------- max_norm


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_embedding_max_norm_renorms_in_place(norm_type: float) -> None:
    w = randn(6, 4, scale=2.0)
    i = np.array([[0, 3, 3], [5, 1, 0]])
    wo, wt = pair(w, requires_grad=True)
    yo = GF.embedding(tg.tensor(i), wo, max_norm=1.5, norm_type=norm_type)
    yt = TF.embedding(torch.tensor(i), wt, max_norm=1.5, norm_type=norm_type)
    assert_close(yo, yt, what="value")
    assert_close(wo.detach(), wt.detach(), what="weight after renorm")
    yo.sum().backward()
    yt.sum().backward()
    assert_close(wo.grad, wt.grad, what="grad")
    ours, theirs = gnn.Embedding(6, 4, max_norm=1.0), tnn.Embedding(6, 4, max_norm=1.0)
    copy_torch_weights(ours, theirs)
    assert_close(ours(tg.tensor(i)), theirs(torch.tensor(i)))
    assert_close(ours.weight.detach(), theirs.weight.detach(), what="module weight")


# ----------------------------------------------------------------------------- containers


def test_parameter_list_and_dict_keys_as_torch() -> None:
    def build(nn: Any, torch_mod: Any) -> Any:
        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.params = nn.ParameterList([nn.Parameter(torch_mod.ones(2, 3))
                                                for _ in range(2)])
                self.params.append(torch_mod.zeros(4))  # a plain tensor is wrapped
                self.table = nn.ParameterDict({"right": nn.Parameter(torch_mod.ones(1)),
                                               "left": torch_mod.zeros(2, 2)})
                self.table["middle"] = nn.Parameter(torch_mod.ones(3))
                self.ordered = nn.ParameterDict(OrderedDict(b=nn.Parameter(torch_mod.ones(1)),
                                                            a=nn.Parameter(torch_mod.ones(2))))
        return Net()

    ours, theirs = build(gnn, tg), build(tnn, torch)
    _same_state(ours, theirs)
    assert list(ours.state_dict()) == ["params.0", "params.1", "params.2", "table.left",
                                       "table.right", "table.middle", "ordered.b", "ordered.a"]
    assert isinstance(ours.params[2], gnn.Parameter) and ours.params[2].requires_grad
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert ours.params.extra_repr() == theirs.params.extra_repr().replace("torch.", "")
    assert ours.table.extra_repr() == theirs.table.extra_repr().replace(
        "torch.FloatTensor", "float32")
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def test_parameter_list_behaves_as_a_list() -> None:
    for nn, lib in ((gnn, tg), (tnn, torch)):
        pl = nn.ParameterList([lib.ones(1), lib.ones(2)])
        pl += [lib.ones(3)]
        pl[0] = nn.Parameter(lib.zeros(5))
        assert len(pl) == 3 and [tuple(p.shape) for p in pl] == [(5,), (2,), (3,)]
        assert tuple(pl[-1].shape) == (3,)
        sub = pl[1:]
        assert type(sub) is type(pl) and len(sub) == 2
        assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
        with pytest.raises(IndexError):
            pl[3]
        with pytest.raises(RuntimeError):
            pl()
        pd = nn.ParameterDict()
        pd.update([("x", lib.ones(1)), ("a", lib.ones(2))])
        assert list(pd) == ["x", "a"] and "x" in pd and len(pd) == 2
        assert tuple(pd.pop("x").shape) == (1,) and list(pd.keys()) == ["a"]
        assert pd.get("zz") is None
        pd.setdefault("b", nn.Parameter(lib.ones(4)))
        assert [k for k, _ in pd.named_parameters()] == ["a", "b"]
        assert pd.popitem()[0] == "b"
        pd.clear()
        assert len(pd) == 0 and list(pd.parameters()) == []
        with pytest.raises(AttributeError):  # PyTorch's error (ours is a KeyError too)
            pd["missing"]
        with pytest.raises(TypeError):
            nn.ParameterList().extend(lib.ones(2))


def test_containers_train_with_an_optimizer() -> None:
    pl = gnn.ParameterList([tg.tensor([1.0, 2.0])])
    opt = tg.optim.SGD(pl.parameters(), lr=0.5)
    (pl[0] * pl[0]).sum().backward()
    opt.step()
    np.testing.assert_allclose(pl[0].numpy(), [0.0, 0.0])


# ----------------------------------------------------------------------------- dropout


@pytest.mark.filterwarnings("ignore:dropout2d")  # 3-D input: tested below
@pytest.mark.parametrize("kind,shape", [("Dropout2d", (8, 50, 3, 3)), ("Dropout1d", (8, 50, 4)),
                                        ("Dropout3d", (4, 50, 2, 2, 2)),
                                        ("Dropout1d", (200, 4)), ("Dropout2d", (10, 40, 3))])
def test_channel_dropout_statistics_and_eval(kind: str, shape: tuple[int, ...]) -> None:
    tg.manual_seed(0)
    m = getattr(gnn, kind)(p=0.3)
    x = tg.ones(*shape)
    y = m(x).numpy()
    batched = len(shape) == {"Dropout1d": 3, "Dropout2d": 4, "Dropout3d": 5}[kind] or (
        kind == "Dropout2d")
    channels = y.reshape(shape[:2] + (-1,)) if batched else y.reshape(1, shape[0], -1)
    # whole channels are zero or scaled by 1 / (1 - p)
    assert np.all((channels == 0).all(-1) | np.isclose(channels, 1 / 0.7).all(-1))
    kept = (channels != 0).all(-1).mean()
    n = channels.shape[0] * channels.shape[1]
    assert abs(kept - 0.7) < 4 * np.sqrt(0.21 / n), kept  # four standard errors
    tg.manual_seed(0)
    np.testing.assert_array_equal(getattr(gnn, kind)(p=0.3)(x).numpy(), y)  # reproducible
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), x.numpy())
    assert repr(m) == repr(getattr(tnn, kind)(p=0.3))


def test_dropout2d_warns_as_torch() -> None:
    for F, lib in ((GF, tg), (TF, torch)):
        with pytest.warns(UserWarning, match="3D input|3-D input"):
            F.dropout2d(lib.ones(2, 3, 4))
        with pytest.warns(UserWarning, match="2-D input"):
            F.dropout2d(lib.ones(2, 3))


def test_channel_dropout_gradient_and_inplace() -> None:
    tg.manual_seed(1)
    x = tg.tensor(randn(4, 6, 3, 3), requires_grad=True)
    y = GF.dropout2d(x, 0.5)
    y.sum().backward()
    mask = (y.numpy() != 0).astype(float)
    np.testing.assert_allclose(x.grad.numpy(), mask * 2.0)
    z = tg.tensor(np.ones((2, 3, 2, 2)))
    out = GF.dropout2d(z, p=1.0, training=True, inplace=True)
    assert out is z and np.all(z.numpy() == 0)
    for F, lib in ((GF, tg), (TF, torch)):  # unbatched input is changed in place too
        u = lib.ones(3, 4)
        assert F.dropout1d(u, 1.0, inplace=True) is u and not u.numpy().any()
    tg.manual_seed(3)  # an unbatched input draws the mask of a batch of one
    a = GF.dropout1d(tg.ones(8, 2), 0.5).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, GF.dropout1d(tg.ones(1, 8, 2), 0.5).numpy()[0])
    x1 = tg.tensor(randn(5, 4), requires_grad=True)
    tg.manual_seed(4)
    with pytest.warns(UserWarning, match="dropout3d: received a 2-D input"):  # as PyTorch
        y1 = GF.dropout3d(x1 * 1.0, 0.5, inplace=True)  # in place inside a graph
    y1.sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), (y1.numpy() != 0) * 2.0)


# ----------------------------------------------------------------------------- errors

ERRORS: dict[str, Callable[[Any, Any], Any]] = {
    "embedding index too large": lambda F, t: F.embedding(t.tensor([[0, 6]]), t.ones(6, 2)),
    "embedding negative index": lambda F, t: F.embedding(t.tensor([-1]), t.ones(6, 2)),
    "embedding float index": lambda F, t: F.embedding(t.tensor([1.0]), t.ones(6, 2)),
    "embedding 1-d weight": lambda F, t: F.embedding(t.tensor([1]), t.ones(6)),
    "embedding padding_idx": lambda F, t: F.embedding(t.tensor([1]), t.ones(6, 2),
                                                      padding_idx=6),
    "interpolate both": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), size=2, scale_factor=2),
    "interpolate neither": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3)),
    "interpolate size length": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), size=(2,)),
    "interpolate align nearest": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2,
                                                            align_corners=True),
    "interpolate linear 4d": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), size=2,
                                                        mode="linear"),
    "interpolate bilinear 3d": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2,
                                                          mode="bilinear"),
    "interpolate 2d input": lambda F, t: F.interpolate(t.ones(3, 3), size=2),
    "interpolate zero size": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), scale_factor=0.1),
    "interpolate recompute size": lambda F, t: F.interpolate(
        t.ones(1, 1, 3), size=2, recompute_scale_factor=True),
    "adaptive 2d input": lambda F, t: F.adaptive_avg_pool2d(t.ones(3, 3), 2),
    "adaptive empty dim": lambda F, t: F.adaptive_max_pool2d(t.ones(1, 2, 0, 3), 2),
    "adaptive max empty channels": lambda F, t: F.adaptive_max_pool2d(t.ones(2, 0, 3, 3), 2),
    "adaptive avg empty plane": lambda F, t: F.adaptive_avg_pool2d(t.ones(2, 3, 0, 3), 2),
    "adaptive size length": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 3), (1, 2, 3)),
    "adaptive int input": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 3,
                                                                    dtype=t.int64), 2),
    "pixel_shuffle channels": lambda F, t: F.pixel_shuffle(t.ones(1, 6, 2, 2), 2),
    "pixel_shuffle 2d": lambda F, t: F.pixel_shuffle(t.ones(4, 2), 2),
    "pixel_unshuffle size": lambda F, t: F.pixel_unshuffle(t.ones(1, 1, 3, 4), 2),
    "group_norm groups": lambda F, t: F.group_norm(t.ones(2, 3, 4), 2),
    "group_norm weight": lambda F, t: F.group_norm(t.ones(2, 4, 3), 2, t.ones(3)),
    "group_norm one value": lambda F, t: F.group_norm(t.ones(1, 2), 2),
    "instance_norm one position": lambda F, t: F.instance_norm(t.ones(2, 3, 1)),
    "bilinear shapes": lambda F, t: F.bilinear(t.ones(2, 3), t.ones(2, 2), t.ones(4, 2, 2)),
    "bilinear leading": lambda F, t: F.bilinear(t.ones(2, 3), t.ones(3, 2), t.ones(4, 3, 2)),
    "instance_norm running_mean only": lambda F, t: F.instance_norm(t.ones(2, 3, 4),
                                                                    running_mean=t.zeros(3)),
    "instance_norm no running stats": lambda F, t: F.instance_norm(t.ones(2, 3, 4),
                                                                   use_input_stats=False),
    "adaptive output_size None": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 4), None),
    "adaptive output_size float": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 4), 2.0),
    "adaptive max 1d of 4d": lambda F, t: F.adaptive_max_pool1d(t.ones(1, 2, 3, 4), 2),
    "bilinear bias shape": lambda F, t: F.bilinear(t.ones(2, 3), t.ones(2, 2), t.ones(4, 3, 2),
                                                   t.ones(3)),
    "bilinear broadcast": lambda F, t: F.bilinear(t.ones(1, 3), t.ones(2, 2), t.ones(4, 3, 2)),
    "group_norm 1d": lambda F, t: F.group_norm(t.ones(4), 2),
    "group_norm zero groups": lambda F, t: F.group_norm(t.ones(2, 4), 0),
    "pixel_shuffle zero factor": lambda F, t: F.pixel_shuffle(t.ones(1, 4, 2, 2), 0),
    "interpolate float size": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2.0),
    "interpolate unknown mode": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2, mode="cubic"),
    "embedding 3-d weight": lambda F, t: F.embedding(t.tensor([0]), t.ones(2, 3, 4)),
    "embedding padding_idx below": lambda F, t: F.embedding(t.tensor([0]), t.ones(2, 3),
                                                            padding_idx=-3),
    "dropout2d p": lambda F, t: F.dropout2d(t.ones(2, 3, 2, 2), 1.5),
    "dropout1d 4d": lambda F, t: F.dropout1d(t.ones(2, 3, 2, 2)),
    "pad circular wraps twice": lambda F, t: F.pad(t.ones(1, 1, 5), (6, 0), mode="circular"),
    "pad circular wraps the cropped twice": lambda F, t: F.pad(t.ones(1, 1, 5), (3, -3),
                                                               mode="circular"),
    "pad circular crop below zero": lambda F, t: F.pad(t.ones(1, 1, 5), (1, -6),
                                                       mode="circular"),
    "pad reflect 1d input": lambda F, t: F.pad(t.ones(5), (1, 1), mode="reflect"),
    "pad replicate 4d with 1 pair": lambda F, t: F.pad(t.ones(1, 1, 2, 3), (1, 1),
                                                       mode="replicate"),
    "pad reflect empty channel": lambda F, t: F.pad(t.ones(2, 0, 3), (1, 1), mode="reflect"),
    "pad reflect all cropped": lambda F, t: F.pad(t.ones(1, 1, 4), (-2, -2), mode="reflect"),
    "pad constant crop before pad": lambda F, t: F.pad(t.ones(1, 1, 4), (3, -5)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_where_torch_raises(name: str) -> None:
    call = ERRORS[name]
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's own types vary
        call(TF, torch)
    with pytest.raises((ValueError, TypeError, IndexError, NotImplementedError)):
        call(GF, tg)


MESSAGES: list[tuple[Callable[[], Any], type, tuple[str, ...]]] = [
    (lambda: GF.embedding(tg.tensor([[0, 6]]), tg.ones(6, 2)), IndexError,
     ("embedding", "index 6", "num_embeddings 6", "(1, 2)")),
    (lambda: gnn.Embedding(6, 2)(tg.tensor([-3])), IndexError,
     ("Embedding", "index -3", "num_embeddings 6")),
    (lambda: GF.embedding(tg.tensor([1]), tg.ones(6, 2), max_norm=None, sparse=True),
     NotImplementedError, ("embedding", "sparse")),
    (lambda: GF.interpolate(tg.ones(1, 1, 3, 3), size=(2,)), ValueError,
     ("interpolate", "(1, 1, 3, 3)", "(2,)")),
    (lambda: GF.interpolate(tg.ones(1, 1, 3, 3), size=2, mode="bicubic"), NotImplementedError,
     ("interpolate", "bicubic")),
    (lambda: gnn.Upsample(size=2, mode="linear")(tg.ones(1, 1, 3, 3)), NotImplementedError,
     ("Upsample", "(1, 1, 3, 3)", "linear")),
    (lambda: GF.adaptive_avg_pool2d(tg.ones(3, 3), 2), ValueError,
     ("adaptive_avg_pool2d", "(3, 3)")),
    (lambda: gnn.AdaptiveMaxPool2d(2)(tg.ones(1, 2, 0, 3)), ValueError,
     ("AdaptiveMaxPool2d", "adaptive_max_pool2d", "(1, 2, 0, 3)")),
    (lambda: GF.pixel_shuffle(tg.ones(1, 6, 2, 2), 2), ValueError,
     ("pixel_shuffle", "(1, 6, 2, 2)")),
    (lambda: GF.group_norm(tg.ones(2, 3, 4), 2), ValueError,
     ("group_norm", "(2, 3, 4)", "num_groups=2")),
    (lambda: gnn.GroupNorm(2, 4)(tg.ones(2, 3, 4)), ValueError, ("GroupNorm", "(2, 3, 4)")),
    (lambda: gnn.InstanceNorm2d(3, affine=True)(tg.ones(2, 4, 3, 3)), ValueError,
     ("InstanceNorm2d", "(2, 4, 3, 3)", "num_features (3)")),
    (lambda: gnn.Bilinear(3, 2, 4)(tg.ones(5, 3), tg.ones(5, 3)), ValueError,
     ("Bilinear", "(5, 3)", "(4, 3, 2)")),
    (lambda: GF.pad(tg.ones(1, 1, 5), (3, -3), mode="circular"), ValueError,
     ("pad", "(3, -3)", "(1, 1, 5)")),
    (lambda: GF.pad(tg.ones(5), (1, 1), mode="reflect"), NotImplementedError,
     ("pad", "(5,)", "(1, 1)")),
]


@pytest.mark.parametrize("k", range(len(MESSAGES)))
def test_error_messages_name_the_op_and_shapes(k: int) -> None:
    call, kind, parts = MESSAGES[k]
    with pytest.raises(kind) as info:
        call()
    for part in parts:
        assert part in str(info.value), f"{part!r} missing from: {info.value}"
