"""The layers added for issue 19, numpy only: forward values against numpy references
written from the definitions (loops over PyTorch's windows and coordinates), and gradients
against central differences (float64, random upstream gradients) over shapes and sizes drawn
by hypothesis. PyTorch itself is the oracle in tests/conformance/test_layers_added.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.testing import assert_gradients_match

side = st.integers(1, 4)


def data(shape: tuple[int, ...], seed: int, distinct: bool = False) -> np.ndarray:
    """Normal samples; `distinct`: values at least 0.05 apart (no ties for max)."""
    rng = np.random.default_rng(seed)
    if distinct:
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.05 - n * 0.025).reshape(shape)
    return rng.standard_normal(shape)


def window(i: int, n: int, out: int) -> slice:
    return slice(math.floor(i * n / out), math.ceil((i + 1) * n / out))


# ----------------------------------------------------------------------------- adaptive pools


@given(n=side, c=side, h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 5),
       ow=st.integers(1, 5), seed=st.integers(0, 99))
def test_adaptive_avg_pool2d(n: int, c: int, h: int, w: int, oh: int, ow: int,
                             seed: int) -> None:
    x = data((n, c, h, w), seed)
    ref = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            ref[:, :, i, j] = x[:, :, window(i, h, oh), window(j, w, ow)].mean(axis=(2, 3))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(torch.tensor(x), (oh, ow)).numpy(), ref,
                               rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda t: F.adaptive_avg_pool2d(t, (oh, ow)), x)


@given(n=side, c=side, h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 5),
       ow=st.integers(1, 5), seed=st.integers(0, 99))
def test_adaptive_max_pool2d(n: int, c: int, h: int, w: int, oh: int, ow: int,
                             seed: int) -> None:
    x = data((n, c, h, w), seed, distinct=True)
    ref, ref_idx = np.empty((n, c, oh, ow)), np.empty((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            rows, cols = window(i, h, oh), window(j, w, ow)
            patch = x[:, :, rows, cols].reshape(n, c, -1)
            ref[:, :, i, j] = patch.max(-1)
            k = patch.argmax(-1)
            width = cols.stop - cols.start
            ref_idx[:, :, i, j] = (rows.start + k // width) * w + cols.start + k % width
    values, indices = F.adaptive_max_pool2d(torch.tensor(x), (oh, ow), return_indices=True)
    np.testing.assert_array_equal(values.numpy(), ref)
    np.testing.assert_array_equal(indices.numpy(), ref_idx)
    assert_gradients_match(lambda t: F.adaptive_max_pool2d(t, (oh, ow)), x)


@given(c=side, length=st.integers(1, 8), out=st.integers(1, 6), seed=st.integers(0, 99))
def test_adaptive_pool1d(c: int, length: int, out: int, seed: int) -> None:
    x = data((2, c, length), seed, distinct=True)
    avg = np.stack([x[..., window(i, length, out)].mean(-1) for i in range(out)], -1)
    mx = np.stack([x[..., window(i, length, out)].max(-1) for i in range(out)], -1)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(torch.tensor(x), out).numpy(), avg,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(F.adaptive_max_pool1d(torch.tensor(x), out).numpy(), mx)
    assert_gradients_match(lambda t: F.adaptive_avg_pool1d(t, out), x)
    assert_gradients_match(lambda t: F.adaptive_max_pool1d(t, out), x)


def test_adaptive_pool_modules_keep_none_sizes() -> None:
    x = torch.tensor(data((2, 3, 5, 4), 0))
    assert nn.AdaptiveAvgPool2d((None, 2))(x).shape == (2, 3, 5, 2)
    assert nn.AdaptiveMaxPool2d((3, None))(x).shape == (2, 3, 3, 4)
    assert nn.AdaptiveAvgPool2d(1)(x[0]).shape == (3, 1, 1)


# ----------------------------------------------------------------------------- interpolate


def linear_reference(x: np.ndarray, out: int, align_corners: bool) -> np.ndarray:
    """1-D linear resampling of the last axis from the definition (float64)."""
    n = x.shape[-1]
    y = np.empty(x.shape[:-1] + (out,))
    for d in range(out):
        if align_corners:
            src = d * (n - 1) / (out - 1) if out > 1 else 0.0
        else:
            src = max((d + 0.5) * n / out - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n - 1)
        i1 = min(i0 + 1, n - 1)
        lam = min(max(src - i0, 0.0), 1.0)
        y[..., d] = (1 - lam) * x[..., i0] + lam * x[..., i1]
    return y


@given(h=side, w=side, oh=st.integers(1, 7), ow=st.integers(1, 7),
       align_corners=st.booleans(), seed=st.integers(0, 99))
def test_interpolate_bilinear(h: int, w: int, oh: int, ow: int, align_corners: bool,
                              seed: int) -> None:
    x = data((2, 3, h, w), seed)
    along_w = linear_reference(x, ow, align_corners)
    ref = np.swapaxes(linear_reference(np.swapaxes(along_w, -1, -2), oh, align_corners), -1, -2)
    y = F.interpolate(torch.tensor(x), size=(oh, ow), mode="bilinear",
                      align_corners=align_corners)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert_gradients_match(lambda t: F.interpolate(t, (oh, ow), mode="bilinear",
                                                   align_corners=align_corners), x)


@given(n=st.integers(1, 6), out=st.integers(1, 9), align_corners=st.booleans(),
       seed=st.integers(0, 99))
def test_interpolate_linear(n: int, out: int, align_corners: bool, seed: int) -> None:
    x = data((2, 2, n), seed)
    y = F.interpolate(torch.tensor(x), size=out, mode="linear", align_corners=align_corners)
    np.testing.assert_allclose(y.numpy(), linear_reference(x, out, align_corners),
                               rtol=1e-10, atol=1e-12)
    assert_gradients_match(lambda t: F.interpolate(t, size=out, mode="linear",
                                                   align_corners=align_corners), x)


@given(h=side, w=side, oh=st.integers(1, 9), ow=st.integers(1, 9),
       mode=st.sampled_from(["nearest", "nearest-exact"]), seed=st.integers(0, 99))
def test_interpolate_nearest(h: int, w: int, oh: int, ow: int, mode: str, seed: int) -> None:
    x = data((1, 2, h, w), seed)
    y = F.interpolate(torch.tensor(x), size=(oh, ow), mode=mode).numpy()
    shift = 0.5 if mode == "nearest-exact" else 0.0
    rows = [min(int(np.floor((i + shift) * h / oh + 1e-9)), h - 1) for i in range(oh)]
    cols = [min(int(np.floor((j + shift) * w / ow + 1e-9)), w - 1) for j in range(ow)]
    np.testing.assert_array_equal(y, x[:, :, rows][:, :, :, cols])
    assert_gradients_match(lambda t: F.interpolate(t, size=(oh, ow), mode=mode), x)


def cubic_reference(x: np.ndarray, out: int, align_corners: bool) -> np.ndarray:
    """1-D bicubic resampling of the last axis from the definition (Keys, A = -0.75)."""
    n, a = x.shape[-1], -0.75

    def kernel(s: float) -> float:
        s = abs(s)
        if s <= 1:
            return (a + 2) * s**3 - (a + 3) * s**2 + 1
        return a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a if s < 2 else 0.0

    y = np.zeros(x.shape[:-1] + (out,))
    for d in range(out):
        if align_corners:
            src = d * (n - 1) / (out - 1) if out > 1 else 0.0
        else:
            src = (d + 0.5) * n / out - 0.5
        i = math.floor(src)
        for k in range(i - 1, i + 3):
            y[..., d] += kernel(src - k) * x[..., min(max(k, 0), n - 1)]
    return y


@given(h=side, w=side, oh=st.integers(1, 7), ow=st.integers(1, 7),
       align_corners=st.booleans(), seed=st.integers(0, 99))
def test_interpolate_bicubic(h: int, w: int, oh: int, ow: int, align_corners: bool,
                             seed: int) -> None:
    x = data((1, 2, h, w), seed)
    along_w = cubic_reference(x, ow, align_corners)
    ref = np.swapaxes(cubic_reference(np.swapaxes(along_w, -1, -2), oh, align_corners), -1, -2)
    y = F.interpolate(torch.tensor(x), size=(oh, ow), mode="bicubic",
                      align_corners=align_corners)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert_gradients_match(lambda t: F.interpolate(t, (oh, ow), mode="bicubic",
                                                   align_corners=align_corners), x)


@given(d=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 4),
       out=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
       seed=st.integers(0, 99))
def test_adaptive_pool3d(d: int, h: int, w: int, out: tuple[int, int, int], seed: int) -> None:
    x = data((2, 2, d, h, w), seed, distinct=True)
    avg, mx = np.empty((2, 2) + out), np.empty((2, 2) + out)
    for i in range(out[0]):
        for j in range(out[1]):
            for k in range(out[2]):
                box = x[:, :, window(i, d, out[0]), window(j, h, out[1]), window(k, w, out[2])]
                avg[:, :, i, j, k] = box.mean(axis=(2, 3, 4))
                mx[:, :, i, j, k] = box.max(axis=(2, 3, 4))
    np.testing.assert_allclose(F.adaptive_avg_pool3d(torch.tensor(x), out).numpy(), avg,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(F.adaptive_max_pool3d(torch.tensor(x), out).numpy(), mx)
    assert_gradients_match(lambda t: F.adaptive_avg_pool3d(t, out), x)
    assert_gradients_match(lambda t: F.adaptive_max_pool3d(t, out), x)


@given(shape=st.tuples(side, side, side), out=st.tuples(side, side, side),
       align_corners=st.booleans(), seed=st.integers(0, 99))
def test_interpolate_trilinear(shape: tuple[int, int, int], out: tuple[int, int, int],
                               align_corners: bool, seed: int) -> None:
    x = data((1, 2, *shape), seed)
    ref = x
    for axis in (4, 3, 2):  # the definition, one axis at a time
        ref = np.moveaxis(linear_reference(np.moveaxis(ref, axis, -1), out[axis - 2],
                                           align_corners), -1, axis)
    y = F.interpolate(torch.tensor(x), size=out, mode="trilinear", align_corners=align_corners)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert_gradients_match(lambda t: F.interpolate(t, size=out, mode="trilinear",
                                                   align_corners=align_corners), x)


def test_interpolate_integer_scale_repeats_pixels() -> None:
    x = data((1, 1, 2, 3), 1)
    y = nn.Upsample(scale_factor=2)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(y, x.repeat(2, axis=2).repeat(2, axis=3))
    z = nn.UpsamplingBilinear2d(size=(3, 5))(torch.tensor(x)).numpy()
    np.testing.assert_allclose(z[..., ::2, ::2], x)  # align_corners=True keeps the corners


# ----------------------------------------------------------------------------- pixel shuffle


@given(n=side, c=side, h=side, w=side, r=st.integers(1, 3), seed=st.integers(0, 99))
def test_pixel_shuffle_and_unshuffle(n: int, c: int, h: int, w: int, r: int,
                                     seed: int) -> None:
    x = data((n, c * r * r, h, w), seed)
    ref = np.empty((n, c, h * r, w * r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                ref[:, ch, i::r, j::r] = x[:, ch * r * r + i * r + j]
    y = F.pixel_shuffle(torch.tensor(x), r)
    np.testing.assert_array_equal(y.numpy(), ref)
    np.testing.assert_array_equal(nn.PixelUnshuffle(r)(y).numpy(), x)
    assert_gradients_match(lambda t: F.pixel_shuffle(t, r), x)
    assert_gradients_match(lambda t: F.pixel_unshuffle(t, r), ref)


# ----------------------------------------------------------------------------- norms


@given(n=side, groups=st.integers(1, 3), per=st.integers(1, 3), length=st.integers(2, 4),
       seed=st.integers(0, 99))
def test_group_norm(n: int, groups: int, per: int, length: int, seed: int) -> None:
    c = groups * per
    x, w, b = data((n, c, length), seed), data((c,), seed + 1), data((c,), seed + 2)
    g = x.reshape(n, groups, -1)
    ref = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5))
    ref = ref.reshape(n, c, length) * w[:, None] + b[:, None]
    np.testing.assert_allclose(F.group_norm(torch.tensor(x), groups, torch.tensor(w),
                                            torch.tensor(b)).numpy(), ref, rtol=1e-10,
                               atol=1e-12)
    assert_gradients_match(lambda t, wt, bt: F.group_norm(t, groups, wt, bt), x, w, b,
                           second_order=True)


@given(n=side, c=side, h=st.integers(1, 3), w=st.integers(2, 3), seed=st.integers(0, 99))
def test_instance_norm(n: int, c: int, h: int, w: int, seed: int) -> None:
    x, wt, bt = data((n, c, h, w), seed), data((c,), seed + 1), data((c,), seed + 2)
    mean, var = x.mean((2, 3), keepdims=True), x.var((2, 3), keepdims=True)
    ref = (x - mean) / np.sqrt(var + 1e-5) * wt[:, None, None] + bt[:, None, None]
    got = F.instance_norm(torch.tensor(x), weight=torch.tensor(wt), bias=torch.tensor(bt))
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert_gradients_match(lambda t, a, b: F.instance_norm(t, weight=a, bias=b), x, wt, bt,
                           second_order=True)


def test_instance_norm_running_stats_update() -> None:
    m = nn.InstanceNorm1d(2, track_running_stats=True, momentum=0.5).double()
    x = data((3, 2, 4), 5)
    m(torch.tensor(x))
    np.testing.assert_allclose(m.running_mean.numpy(), 0.5 * x.mean(2).mean(0))
    np.testing.assert_allclose(m.running_var.numpy(), 0.5 + 0.5 * x.var(2, ddof=1).mean(0))
    m.eval()
    y = m(torch.tensor(x)).numpy()
    ref = (x - m.running_mean.numpy()[:, None]) / np.sqrt(m.running_var.numpy()[:, None] + 1e-5)
    np.testing.assert_allclose(y, ref)


# ----------------------------------------------------------------------------- embedding


@given(rows=st.integers(1, 6), dim=st.integers(1, 4), shape=st.lists(side, max_size=3),
       pad=st.booleans(), freq=st.booleans(), seed=st.integers(0, 99))
def test_embedding(rows: int, dim: int, shape: list[int], pad: bool, freq: bool,
                   seed: int) -> None:
    rng = np.random.default_rng(seed)
    i = rng.integers(0, rows, size=tuple(shape)).astype(np.int64)
    w = data((rows, dim), seed)
    padding_idx = int(rng.integers(0, rows)) if pad else None
    out = F.embedding(torch.tensor(i), torch.tensor(w), padding_idx, scale_grad_by_freq=freq)
    np.testing.assert_array_equal(out.numpy(), w[i])
    up = rng.standard_normal(i.shape + (dim,))
    wt = torch.tensor(w, requires_grad=True)
    F.embedding(torch.tensor(i), wt, padding_idx, scale_grad_by_freq=freq).backward(
        torch.tensor(up))
    counts = np.bincount(i.reshape(-1), minlength=rows)
    ref = np.zeros_like(w)
    np.add.at(ref, i.reshape(-1), up.reshape(-1, dim))
    if freq:
        ref /= np.maximum(counts, 1)[:, None]
    if padding_idx is not None:
        ref[padding_idx] = 0.0
    np.testing.assert_allclose(wt.grad.numpy(), ref, rtol=1e-12, atol=1e-12)
    if not freq and padding_idx is None:  # else the gradient is by design not d(value)
        assert_gradients_match(lambda t: F.embedding(torch.tensor(i), t), w)


def test_embedding_layer_and_errors() -> None:
    torch.manual_seed(0)
    e = nn.Embedding(10, 3, padding_idx=0)
    assert e(torch.tensor([[1, 0], [9, 9]])).shape == (2, 2, 3)
    np.testing.assert_array_equal(e.weight.numpy()[0], 0.0)
    with pytest.raises(IndexError, match=r"^Embedding: embedding: index 10 is out of range "
                                         r"for num_embeddings 10"):
        e(torch.tensor([3, 10]))
    with pytest.raises(TypeError, match=r"int64 or int32"):
        e(torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"padding_idx 10 must be within num_embeddings 10"):
        nn.Embedding(10, 3, padding_idx=10)
    frozen = nn.Embedding.from_pretrained(torch.tensor(data((4, 2), 0)))
    assert not frozen.weight.requires_grad and list(frozen.parameters())


# ----------------------------------------------------------------------------- bilinear, pad


@given(n=side, a=side, b=side, k=side, seed=st.integers(0, 99))
def test_bilinear(n: int, a: int, b: int, k: int, seed: int) -> None:
    x1, x2, w, bias = data((n, a), seed), data((n, b), seed + 1), data((k, a, b), seed + 2), \
        data((k,), seed + 3)
    ref = np.einsum("ni,kij,nj->nk", x1, w, x2) + bias
    got = F.bilinear(torch.tensor(x1), torch.tensor(x2), torch.tensor(w), torch.tensor(bias))
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert_gradients_match(F.bilinear, x1, x2, w, bias, second_order=True)


def test_bilinear_layer_shapes() -> None:
    m = nn.Bilinear(3, 2, 4)
    assert m.weight.shape == (4, 3, 2) and m.bias.shape == (4,)
    assert m(torch.ones(5, 3), torch.ones(5, 2)).shape == (5, 4)
    assert list(m.state_dict()) == ["weight", "bias"]


@st.composite
def circular_widths(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A (N, C, *spatial) shape and circular pad widths PyTorch accepts: each dim cropped
    to k >= 1 elements, then wrapped by at most k on either side."""
    spatial = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    widths: list[int] = []
    for n in reversed(spatial):
        lo_crop = draw(st.integers(0, n - 1))
        hi_crop = draw(st.integers(0, n - 1 - lo_crop))
        kept = n - lo_crop - hi_crop
        lo = -lo_crop if lo_crop else draw(st.integers(0, kept))
        hi = -hi_crop if hi_crop else draw(st.integers(0, kept))
        widths += [lo, hi]
    return (2, 1, *spatial), tuple(widths)


@given(spec=circular_widths(), seed=st.integers(0, 99))
def test_circular_pad_with_cropping(spec: tuple[tuple[int, ...], tuple[int, ...]],
                                    seed: int) -> None:
    shape, widths = spec
    x = data(shape, seed)
    d = len(shape) - 2
    pairs = [(widths[2 * (d - 1 - a)], widths[2 * (d - 1 - a) + 1]) for a in range(d)]
    cropped = x[(slice(None), slice(None)) + tuple(slice(-min(lo, 0), n + min(hi, 0))
                                                   for (lo, hi), n in zip(pairs, shape[2:]))]
    ref = np.pad(cropped, [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pairs],
                 mode="wrap")
    got = F.pad(torch.tensor(x), widths, mode="circular")
    np.testing.assert_array_equal(got.numpy(), ref)
    assert_gradients_match(lambda t: F.pad(t, widths, mode="circular"), x)


# ----------------------------------------------------------------------------- containers


def test_parameter_list_and_dict_in_a_model() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scales = nn.ParameterList([torch.ones(2), torch.ones(2)])
            self.shifts = nn.ParameterDict({"b": torch.zeros(2), "a": torch.zeros(2)})

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for s in self.scales:
                x = x * s
            return x + self.shifts["a"] + self.shifts["b"]

    net = Net()
    assert list(net.state_dict()) == ["scales.0", "scales.1", "shifts.a", "shifts.b"]
    assert [n for n, _ in net.named_parameters()] == list(net.state_dict())
    net(torch.tensor([1.0, 2.0])).sum().backward()
    np.testing.assert_allclose(net.scales[0].grad.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(net.shifts["a"].grad.numpy(), [1.0, 1.0])
