"""The functional forms added for issue 19 against torch.nn.functional: embedding (and its
max_norm renorm), interpolate, adaptive pooling, pixel (un)shuffle, group and instance norm,
bilinear, and F.pad's circular mode with cropping widths; the errors where PyTorch raises.
The modules, containers and channel dropout: test_layers_added_modules.py.

Every call is written once as `lambda F, *xs: ...` and run with F = torch.nn.functional and
F = tinygrad_edu.nn.functional: values, gradients under a random upstream gradient, second
derivatives (float64) and float32 values and gradients."""

from __future__ import annotations

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
    ("interpolate_bicubic", lambda F, x: F.interpolate(x, size=(5, 7), mode="bicubic"),
     lambda: [randn(2, 2, 3, 4)]),
    ("interpolate_bicubic_align_corners",
     lambda F, x: F.interpolate(x, size=(6, 3), mode="bicubic", align_corners=True),
     lambda: [randn(1, 2, 4, 5)]),
    ("interpolate_bicubic_scale", lambda F, x: F.interpolate(x, scale_factor=1.5, mode="bicubic"),
     lambda: [randn(1, 1, 5, 3)]),
    ("interpolate_bicubic_down", lambda F, x: F.interpolate(x, size=(2, 3), mode="bicubic"),
     lambda: [randn(1, 2, 7, 8)]),
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
    ("adaptive_avg_pool3d", lambda F, x: F.adaptive_avg_pool3d(x, (2, None, 3)),
     lambda: [randn(2, 2, 3, 4, 5)]),
    ("adaptive_avg_pool3d_unbatched", lambda F, x: F.adaptive_avg_pool3d(x, 2),
     lambda: [randn(2, 3, 5, 4)]),
    ("adaptive_max_pool3d", lambda F, x: F.adaptive_max_pool3d(x, (2, 3, 2)),
     lambda: [randn(2, 2, 3, 4, 5)]),
    ("adaptive_max_pool3d_indices",
     lambda F, x: F.adaptive_max_pool3d(x, 2, return_indices=True)[1].double(),
     lambda: [randn(1, 2, 5, 3, 4)]),
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


# PyTorch's backward picks its sources by another rule than its forward here: the 1-D and
# 3-D nearest and the bicubic forward kernels use the scale factor even for an equal or
# doubled size (the backward copies or repeats), and float64 nearest rounds the source
# index from a double scale (the backward from a float one). The values are PyTorch's; the
# gradient is the derivative of those values, checked by central differences.
NEAREST_FORWARD_ONLY: dict[str, tuple[Callable[..., Any], np.ndarray]] = {
    "bicubic_scale_keeps_size": (lambda F, x: F.interpolate(x, scale_factor=1.1,
                                                            mode="bicubic"), randn(1, 1, 5, 3)),
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


@pytest.mark.parametrize("mode", ["circular", "reflect", "replicate", "constant"])
def test_pad_random_widths_against_torch(mode: str) -> None:
    """Seeded random widths (cropping ones included) on shapes PyTorch pads in every mode:
    where PyTorch pads, the same values and gradient; where it raises, we raise. In circular
    mode, a width beyond the cropped size makes PyTorch's own copy overlap itself (it raises,
    or returns uninitialized or order-dependent values): we always raise there."""
    rng = np.random.default_rng(["circular", "reflect", "replicate", "constant"].index(mode))
    for shape in [(1, 2, 5), (2, 3, 4), (2, 1, 3, 4), (3, 4, 2), (1, 1, 2, 3, 4), (2, 3, 3, 2)]:
        x = randn(*shape, seed=len(shape))
        k = len(shape) - 2 if len(shape) > 2 else 1
        for _ in range(25):
            widths = tuple(int(w) for w in rng.integers(-4, 5, size=2 * k))
            pairs = [(widths[2 * j], widths[2 * j + 1]) for j in range(k)]
            kept = [n + min(lo, 0) + min(hi, 0) for (lo, hi), n in
                    zip(pairs, reversed(shape))]
            if mode == "circular" and any(max(lo, hi) > c for (lo, hi), c in zip(pairs, kept)):
                with pytest.raises(ValueError, match="^pad: "):
                    GF.pad(tg.tensor(x), widths, mode=mode)
                continue
            try:
                TF.pad(torch.tensor(x), widths, mode=mode)
            except (RuntimeError, ValueError, NotImplementedError):
                with pytest.raises((ValueError, NotImplementedError)):
                    GF.pad(tg.tensor(x), widths, mode=mode)
                continue
            check_function(lambda t, w=widths: GF.pad(t, w, mode=mode),
                           lambda t, w=widths: TF.pad(t, w, mode=mode), [x], second=False,
                           what=f"pad {shape} {widths} {mode}")


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
