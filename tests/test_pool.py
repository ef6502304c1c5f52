"""Pooling: max/avg pooling (2-d, 1-d, channels-last) against naive loops, gradients
against central differences, the max-pool tie rule, the even spread of avg pooling, and
errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor
from tinygrad_edu.nn._pool import (
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_pool2d_composite,
    max_pool2d_nhwc,
)
from tinygrad_edu.testing import assert_gradients_match


def naive_pool2d(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int], mode: str,
                 count_include_pad: bool = True, ceil_mode: bool = False,
                 divisor_override: int | None = None) -> np.ndarray:
    """Loops over every output position and window element, with PyTorch's rules: max
    ignores padding (-inf if a window holds none of the input); avg divides by the
    window's positions inside the padded input (or inside the input itself when
    count_include_pad=False); ceil_mode adds a last window if it starts inside the input
    or its left padding."""
    n_batch, channels, h, w = x.shape

    def out_size(n: int, k: int, s: int, p: int, r: int) -> int:
        o = (n + 2 * p - r * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        return o - 1 if ceil_mode and (o - 1) * s >= n + p else o

    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = out_size(h, kh, sh, ph, dh), out_size(w, kw, sw, pw, dw)
    out = np.zeros((n_batch, channels, oh, ow))
    for n in range(n_batch):
        for c in range(channels):
            for i in range(oh):
                for j in range(ow):
                    values, inside = [], 0
                    for a in range(kh):
                        for b in range(kw):
                            row, col = i * sh - ph + a * dh, j * sw - pw + b * dw
                            inside += row < h + ph and col < w + pw
                            if 0 <= row < h and 0 <= col < w:
                                values.append(x[n, c, row, col])
                    if mode == "max":
                        out[n, c, i, j] = max(values) if values else -np.inf
                        continue
                    divisor = divisor_override or (inside if count_include_pad
                                                   else len(values))
                    out[n, c, i, j] = sum(values) / divisor
    return out


@st.composite
def pool_cases(draw: Any, dilate: bool = True) -> dict[str, Any]:
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilate else (1, 1)
    extents = [r * (k - 1) + 1 for k, r in zip(kernel, dilation)]
    padding = tuple(draw(st.integers(0, e // 2)) for e in extents)
    sizes = [draw(st.integers(max(1, e - 2 * p), max(1, e - 2 * p) + 3))
             for e, p in zip(extents, padding)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes)
    # distinct values, at least 0.1 apart: no ties, and the numeric derivative (step 1e-6)
    # never crosses from one maximum to another
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0
    return {"x": x, "kernel": kernel, "stride": stride, "padding": padding,
            "dilation": dilation, "ceil_mode": draw(st.booleans())}


# ----------------------------------------------------------------------------- max pooling


@given(pool_cases())
def test_max_pool2d_matches_naive_loops(case: dict[str, Any]) -> None:
    out = max_pool2d(Tensor(case["x"]), case["kernel"], case["stride"], case["padding"],
                     case["dilation"], ceil_mode=case["ceil_mode"])
    expected = naive_pool2d(case["x"], case["kernel"], case["stride"], case["padding"],
                            case["dilation"], "max", ceil_mode=case["ceil_mode"])
    np.testing.assert_array_equal(out.numpy(), expected)


@given(pool_cases())
def test_max_pool2d_gradient_matches_numeric(case: dict[str, Any]) -> None:
    expected = naive_pool2d(case["x"], case["kernel"], case["stride"], case["padding"],
                            case["dilation"], "max", ceil_mode=case["ceil_mode"])
    # with dilation a window can skip every real element and hold only padding: -inf, as
    # in PyTorch, and no derivative there to compare
    assume(np.isfinite(expected).all())
    assert_gradients_match(lambda t: max_pool2d(t, case["kernel"], case["stride"],
                                                case["padding"], case["dilation"],
                                                ceil_mode=case["ceil_mode"]), case["x"])


def test_max_pool_gradient_goes_to_the_argmax_and_ties_share_equally() -> None:
    x = np.array([[[[1.0, 5.0, 2.0, 2.0],
                    [3.0, 0.0, 2.0, 2.0],
                    [7.0, 7.0, 4.0, 0.0],
                    [1.0, 7.0, 4.0, 3.0]]]])
    xt = Tensor(x, requires_grad=True)
    out = max_pool2d(xt, 2)
    np.testing.assert_array_equal(out.numpy(), [[[[5.0, 2.0], [7.0, 4.0]]]])
    out.backward(Tensor(np.array([[[[6.0, 8.0], [9.0, 10.0]]]])))
    assert xt.grad is not None
    # one maximum: all of it; four tied 2s: a quarter each; three 7s: a third; two 4s: half
    np.testing.assert_allclose(xt.grad.numpy(), [[[[0.0, 6.0, 2.0, 2.0],
                                                [0.0, 0.0, 2.0, 2.0],
                                                [3.0, 3.0, 5.0, 0.0],
                                                [0.0, 3.0, 5.0, 0.0]]]])


def test_overlapping_max_windows_add_their_gradients() -> None:
    x = Tensor(np.array([[[0.0, 9.0, 1.0, 2.0]]]), requires_grad=True)
    out = max_pool1d(x, 2, stride=1)  # windows [0, 9], [9, 1], [1, 2]
    np.testing.assert_array_equal(out.numpy(), [[[9.0, 9.0, 2.0]]])
    out.backward(Tensor(np.array([[[1.0, 10.0, 100.0]]])))
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 11.0, 0.0, 100.0]]])


def test_max_pool_padding_never_wins_and_float32_is_kept() -> None:
    x = -np.arange(1.0, 17.0, dtype=np.float32).reshape(1, 1, 4, 4)  # all negative
    out = max_pool2d(x, 3, stride=2, padding=1)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), naive_pool2d(x.astype(np.float64), (3, 3),
                                                         (2, 2), (1, 1), (1, 1), "max"))


def test_max_pool_second_derivative_on_a_smooth_function() -> None:
    x = (np.random.default_rng(0).permutation(32).reshape(1, 2, 4, 4)) * 0.1 + 0.5
    assert_gradients_match(lambda t: max_pool2d(t * t, 2, stride=1), x, second_order=True)


@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_fused_max_pool_equals_the_composite_with_ties(case: dict[str, Any], seed: int
                                                       ) -> None:
    """WindowMax (what max_pool2d runs) against windows -> reshape -> amax: same values
    and the same gradients, on data with many ties (values from {0, 1, 2})."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, case["x"].shape).astype(np.float64)
    args = (case["kernel"], case["stride"], case["padding"], case["dilation"],
            case["ceil_mode"])
    results = []
    for fn in (max_pool2d, max_pool2d_composite):
        xt = Tensor(x, requires_grad=True)
        out = fn(xt, *args)
        upstream = np.random.default_rng(seed + 1).standard_normal(out.shape)
        (gx,) = tg.autograd.grad(out, [xt], grad_outputs=Tensor(upstream))
        results.append((out.numpy(), gx.numpy()))
    (out_f, g_f), (out_c, g_c) = results
    np.testing.assert_array_equal(out_f, out_c)
    np.testing.assert_allclose(g_f, g_c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("args", [(2, 2, 0, 1), (3, 1, 1, 1), ((2, 3), (1, 2), (1, 0), (2, 1))])
def test_fused_max_pool_second_derivatives_equal_the_composite(args: tuple[Any, ...]) -> None:
    x = np.random.default_rng(6).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) * 0.1
    results = []
    for fn in (max_pool2d, max_pool2d_composite):
        xt = Tensor(x, requires_grad=True)
        out = fn((xt * xt).tanh(), *args)
        upstream = Tensor(np.random.default_rng(7).standard_normal(out.shape))
        (first,) = tg.autograd.grad(out, [xt], grad_outputs=upstream, create_graph=True)
        (second,) = tg.autograd.grad((first * first).sum(), [xt])
        results.append(second.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- avg pooling


@given(pool_cases(dilate=False), st.booleans(), st.sampled_from([None, None, 5]))
def test_avg_pool2d_matches_naive_loops(case: dict[str, Any], include_pad: bool,
                                        divisor: int | None) -> None:
    out = avg_pool2d(Tensor(case["x"]), case["kernel"], case["stride"], case["padding"],
                     case["ceil_mode"], include_pad, divisor)
    expected = naive_pool2d(case["x"], case["kernel"], case["stride"], case["padding"],
                            (1, 1), "avg", include_pad, case["ceil_mode"], divisor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@given(pool_cases(dilate=False), st.booleans())
def test_avg_pool2d_gradient_matches_numeric(case: dict[str, Any], include_pad: bool) -> None:
    assert_gradients_match(lambda t: avg_pool2d(t, case["kernel"], case["stride"],
                                                case["padding"], case["ceil_mode"],
                                                include_pad), case["x"])


def test_avg_pool_spreads_the_gradient_evenly() -> None:
    x = Tensor(np.random.default_rng(1).standard_normal((1, 1, 4, 6)), requires_grad=True)
    out = avg_pool2d(x, (2, 3))
    upstream = np.array([[[[6.0, 12.0], [18.0, 24.0]]]])
    out.backward(Tensor(upstream))
    assert x.grad is not None
    expected = np.kron(upstream[0, 0], np.ones((2, 3))) / 6.0
    np.testing.assert_allclose(x.grad.numpy()[0, 0], expected)


def test_avg_pool_second_derivative() -> None:
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 5))
    assert_gradients_match(lambda t: avg_pool2d((t * t).tanh(), 3, 2, 1), x,
                           second_order=True)


# ----------------------------------------------------------------------------- 1-d, NHWC, 3-D


def test_pool1d_matches_the_2d_reference() -> None:
    rng = np.random.default_rng(3)
    x = rng.permutation(2 * 3 * 9).reshape(2, 3, 9) * 0.1
    for kernel, stride, padding in [(2, None, 0), (3, 2, 1), (3, 1, 0)]:
        s = kernel if stride is None else stride
        ref_max = naive_pool2d(x[:, :, None], (1, kernel), (1, s), (0, padding), (1, 1),
                               "max")
        ref_avg = naive_pool2d(x[:, :, None], (1, kernel), (1, s), (0, padding), (1, 1),
                               "avg")
        np.testing.assert_array_equal(max_pool1d(x, kernel, stride, padding).numpy(),
                                      ref_max[:, :, 0])
        np.testing.assert_allclose(avg_pool1d(x, kernel, stride, padding).numpy(),
                                   ref_avg[:, :, 0])
    assert_gradients_match(lambda t: max_pool1d(t, 3, 2, 1), x)
    assert_gradients_match(lambda t: avg_pool1d(t, 3, 2, 1), x)


def test_max_pool2d_nhwc_equals_nchw_after_transposes() -> None:
    x = np.random.default_rng(4).permutation(2 * 6 * 6 * 3).reshape(2, 6, 6, 3) * 0.1
    xt = Tensor(x, requires_grad=True)
    out = max_pool2d_nhwc(xt, 2)
    assert out.shape == (2, 3, 3, 3)
    reference = max_pool2d(x.transpose(0, 3, 1, 2), 2).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(out.numpy(), reference)
    assert_gradients_match(lambda t: max_pool2d_nhwc(t, 3, 2, 1), x)


def test_unbatched_input_is_pooled_like_pytorch() -> None:
    x = np.random.default_rng(5).permutation(3 * 4 * 4).reshape(3, 4, 4) * 1.0
    np.testing.assert_array_equal(max_pool2d(x, 2).numpy(), max_pool2d(x[None], 2).numpy()[0])
    np.testing.assert_allclose(avg_pool2d(x, 2).numpy(), avg_pool2d(x[None], 2).numpy()[0])


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("call,needles", [
    (lambda x: max_pool2d(x, 2, padding=2), ["max_pool2d:", "padding (2, 2)", "half"]),
    (lambda x: max_pool2d(x, 7), ["max_pool2d:", "(7, 7)", "(5, 5)", "larger"]),
    (lambda x: avg_pool2d(x, 6, padding=0), ["avg_pool2d:", "(6, 6)", "(2, 3, 5, 5)"]),
    (lambda x: max_pool2d(x, 2, stride=0), ["max_pool2d:", "stride must be positive"]),
    (lambda x: max_pool2d(x, 0), ["max_pool2d:", "kernel_size must be positive"]),
    (lambda x: max_pool2d(x[0, 0], 2), ["max_pool2d:", "3-D or 4-D", "(5, 5)"]),
    (lambda x: max_pool1d(x, 2), ["max_pool1d:", "2-D or 3-D", "(2, 3, 5, 5)"]),
    (lambda x: max_pool2d_nhwc(x[0], 2), ["max_pool2d_nhwc:", "(3, 5, 5)"]),
    (lambda x: avg_pool2d(x, 2, divisor_override=0), ["avg_pool2d:", "divisor_override"]),
])
def test_pool_errors_name_the_op_and_the_shapes(call: Any, needles: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        call(np.zeros((2, 3, 5, 5)))
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {str(info.value)!r}"


@pytest.mark.parametrize(("shape", "kernel", "stride", "padding"),
                         [((2, 3, 5, 6), 2, None, 1), ((1, 2, 7, 7), 3, 2, 0)])
def test_return_indices_point_at_each_windows_first_maximum(shape: tuple[int, ...],
                                                           kernel: int, stride: Any,
                                                           padding: int) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    values, indices = F.max_pool2d(Tensor(x), kernel, stride, padding, return_indices=True)
    assert indices.dtype == np.int64 and indices.shape == values.shape
    flat = x.reshape(shape[0], shape[1], -1)
    picked = np.take_along_axis(flat, indices.numpy().reshape(shape[0], shape[1], -1), 2)
    np.testing.assert_array_equal(picked.reshape(values.shape), values.numpy())
    layer_values, layer_indices = nn.MaxPool2d(kernel, stride, padding, return_indices=True)(
        Tensor(x))
    np.testing.assert_array_equal(layer_indices.numpy(), indices.numpy())


def test_avg_pool_layer_passes_ceil_mode_and_count_include_pad_by_name() -> None:
    x = Tensor(np.arange(2 * 5 * 5, dtype=np.float64).reshape(1, 2, 5, 5))
    out = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)(x)
    expected = F.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False)
    assert out.shape == (1, 2, 3, 3)
    np.testing.assert_allclose(out.numpy(), expected.numpy())
