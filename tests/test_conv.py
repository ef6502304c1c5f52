"""Convolution: the sliding-window primitives, conv2d/conv1d against a naive nested-loop
reference, gradients against central differences (first and second order), the fused
primitive against the composite, channels-last, errors, and the image-filter example."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.nn._conv import conv1d, conv2d, conv2d_composite, conv2d_nhwc
from tinygrad_edu.ops.windows import FoldWindows, SlidingWindows
from tinygrad_edu.testing import assert_gradients_match

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# ----------------------------------------------------------------------------- reference


def naive_conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                 stride: tuple[int, int], pads: tuple[tuple[int, int], tuple[int, int]],
                 dilation: tuple[int, int], groups: int) -> np.ndarray:
    """The course's nested loops, written for clarity, not speed."""
    n_batch, c_in, h, w_in = x.shape
    c_out, c_group, kh, kw = w.shape
    (top, bottom), (left, right) = pads
    xp = np.zeros((n_batch, c_in, h + top + bottom, w_in + left + right))
    xp[:, :, top:top + h, left:left + w_in] = x
    sh, sw = stride
    dh, dw = dilation
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_batch, c_out, oh, ow))
    per_group = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // per_group) * c_group
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if b is None else b[o]
                    for c in range(c_group):
                        for p in range(kh):
                            for q in range(kw):
                                total += w[o, c, p, q] * xp[n, first + c, i * sh + p * dh,
                                                            j * sw + q * dw]
                    out[n, o, i, j] = total
    return out


@st.composite
def conv_cases(draw: Any, max_extra: int = 3) -> dict[str, Any]:
    """A small conv2d problem: shapes, stride, padding, dilation, groups, and data."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_group, o_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    sizes = []
    for k, r, p in zip(kernel, dilation, padding):
        smallest = max(1, r * (k - 1) + 1 - 2 * p)  # the kernel must fit the padded input
        sizes.append(draw(st.integers(smallest, smallest + max_extra)))
    n = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    with_bias = draw(st.booleans())
    return {
        "x": rng.standard_normal((n, groups * c_group, *sizes)),
        "w": rng.standard_normal((groups * o_group, c_group, *kernel)),
        "b": rng.standard_normal(groups * o_group) if with_bias else None,
        "stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
    }


def _kwargs(case: dict[str, Any]) -> dict[str, Any]:
    return {k: case[k] for k in ("stride", "padding", "dilation", "groups")}


def _naive(case: dict[str, Any]) -> np.ndarray:
    pads = tuple((p, p) for p in case["padding"])
    return naive_conv2d(case["x"], case["w"], case["b"], case["stride"], pads,  # type: ignore[arg-type]
                        case["dilation"], case["groups"])


# ----------------------------------------------------------------------------- primitives


def test_sliding_windows_is_a_read_only_view() -> None:
    x = Tensor(np.arange(2 * 3 * 5 * 6, dtype=np.float64).reshape(2, 3, 5, 6))
    win = SlidingWindows.apply(x, kernel=(2, 3), stride=(2, 1), dilation=(1, 2))
    assert win.shape == (2, 3, 2, 3, 2, 2)  # lead + kernel + out
    assert np.shares_memory(win.numpy(), x.numpy())
    assert not win.numpy().flags.writeable
    # y[..., j, o] = x[..., o * stride + j * dilation]
    assert win.numpy()[1, 2, 1, 2, 1, 0] == x.numpy()[1, 2, 1 * 2 + 1 * 1, 0 * 1 + 2 * 2]


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(0, 3),
       st.integers(0, 2**32 - 1))
def test_fold_is_the_adjoint_of_windows(k: int, s: int, r: int, extra: int, seed: int) -> None:
    """<windows(x), g> == <x, fold(g)> for every x, g: FoldWindows is the transpose."""
    rng = np.random.default_rng(seed)
    size = r * (k - 1) + 1 + extra
    x = rng.standard_normal((2, size, size + 1))
    win = SlidingWindows.apply(Tensor(x), kernel=(k, k), stride=(s, s), dilation=(r, r))
    g = rng.standard_normal(win.shape)
    folded = FoldWindows.apply(Tensor(g), kernel=(k, k), stride=(s, s), dilation=(r, r),
                               shape=x.shape)
    assert np.isclose(np.sum(win.numpy() * g), np.sum(x * folded.numpy()))


def test_fold_accumulates_overlapping_windows() -> None:
    # 1-d, kernel 3, stride 1 on 5 positions: position p is read by min(p, 2, 4 - p) + 1
    # windows, so folding ones counts the windows covering each position.
    ones = Tensor(np.ones((1, 3, 3)))
    counts = FoldWindows.apply(ones, kernel=(3,), stride=(1,), dilation=(1,), shape=(1, 5))
    np.testing.assert_array_equal(counts.numpy(), [[1, 2, 3, 2, 1]])


@pytest.mark.parametrize("kernel,stride,dilation", [((2, 2), (1, 1), (1, 1)),
                                                     ((2, 3), (2, 1), (1, 2)),
                                                     ((2, 2), (2, 2), (1, 1))])
def test_window_primitives_gradients_first_and_second_order(
        kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 5))
    spec = {"kernel": kernel, "stride": stride, "dilation": dilation}
    win_shape = SlidingWindows.apply(Tensor(x), **spec).shape

    # squared so the second derivative is not identically zero
    def windows(t: Tensor) -> Tensor:
        return SlidingWindows.apply(t * t, **spec)

    def fold(t: Tensor) -> Tensor:
        return FoldWindows.apply(t * t, shape=x.shape, **spec)

    assert_gradients_match(windows, x, second_order=True)
    assert_gradients_match(fold, rng.standard_normal(win_shape), second_order=True)


# ----------------------------------------------------------------------------- forward


@given(conv_cases())
def test_conv2d_forward_matches_naive_loops(case: dict[str, Any]) -> None:
    out = conv2d(Tensor(case["x"]), Tensor(case["w"]),
                 None if case["b"] is None else Tensor(case["b"]), **_kwargs(case))
    np.testing.assert_allclose(out.numpy(), _naive(case), rtol=1e-10, atol=1e-10)
    composite = conv2d_composite(case["x"], case["w"], case["b"], **_kwargs(case))
    np.testing.assert_allclose(composite.numpy(), out.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kernel,dilation", [((3, 3), (1, 1)), ((2, 4), (1, 1)),
                                             ((3, 2), (2, 3))])
def test_padding_same_keeps_the_size_and_pads_extra_after(
        kernel: tuple[int, int], dilation: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, *kernel))
    out = conv2d(x, w, padding="same", dilation=dilation)
    assert out.shape == (2, 4, 6, 7)
    # PyTorch's split: total r (k - 1), half before, the odd one after
    totals = [r * (k - 1) for k, r in zip(kernel, dilation)]
    pads = tuple((t // 2, t - t // 2) for t in totals)
    expected = naive_conv2d(x, w, None, (1, 1), pads, dilation, 1)  # type: ignore[arg-type]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)
    valid = conv2d(x, w, padding="valid", dilation=dilation)
    np.testing.assert_allclose(valid.numpy(), conv2d(x, w, dilation=dilation).numpy())


def test_float32_stays_float32_and_values_match_float64() -> None:
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((5, 3, 3, 3)), \
        rng.standard_normal(5)
    out32 = conv2d(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32),
                   padding=1)
    assert out32.dtype == np.float32
    out64 = conv2d(x, w, b, padding=1)
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-4, atol=1e-4)


def test_conv1d_matches_the_2d_reference() -> None:
    rng = np.random.default_rng(3)
    for stride, padding, dilation, groups in [(1, 0, 1, 1), (2, 1, 1, 2), (1, 2, 2, 1),
                                              (3, 1, 2, 2)]:
        x, w, b = (rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 4 // groups, 3)),
                   rng.standard_normal(6))
        out = conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        expected = naive_conv2d(x[:, :, None], w[:, :, None], b, (1, stride),
                                ((0, 0), (padding, padding)), (1, dilation), groups)
        np.testing.assert_allclose(out.numpy(), expected[:, :, 0], rtol=1e-10, atol=1e-10)
    assert conv1d(rng.standard_normal((1, 2, 5)), rng.standard_normal((3, 2, 2)),
                  padding="same").shape == (1, 3, 5)


# ----------------------------------------------------------------------------- gradients


@given(conv_cases(max_extra=2))
def test_conv2d_gradients_match_numeric(case: dict[str, Any]) -> None:
    kwargs = _kwargs(case)
    if case["b"] is None:
        assert_gradients_match(lambda x, w: conv2d(x, w, **kwargs), case["x"], case["w"])
    else:
        assert_gradients_match(lambda x, w, b: conv2d(x, w, b, **kwargs),
                               case["x"], case["w"], case["b"])


@given(conv_cases(max_extra=2))
def test_fused_gradients_equal_the_composite_gradients(case: dict[str, Any]) -> None:
    """The fused primitive (conv2d) and the node-by-node composition give the same
    input/weight/bias gradients under a random upstream gradient."""
    kwargs = _kwargs(case)
    arrays = [a for a in (case["x"], case["w"], case["b"]) if a is not None]
    grads = []
    for fn in (conv2d, conv2d_composite):
        leaves = [Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*leaves, **kwargs)
        upstream = np.random.default_rng(0).standard_normal(out.shape)
        grads.append(tg.autograd.grad(out, leaves, grad_outputs=Tensor(upstream)))
    for fused, composite in zip(*grads):
        np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=1e-10, atol=1e-10)


SECOND_ORDER = [
    {"stride": 1, "padding": 1, "dilation": 1, "groups": 1},
    {"stride": 2, "padding": (1, 0), "dilation": 1, "groups": 2},
    {"stride": (1, 2), "padding": 0, "dilation": (2, 1), "groups": 1},
]


@pytest.mark.parametrize("kwargs", SECOND_ORDER)
def test_conv2d_second_derivatives(kwargs: dict[str, Any]) -> None:
    rng = np.random.default_rng(4)
    groups = kwargs["groups"]
    x = rng.standard_normal((1, 2, 4, 4))
    w = rng.standard_normal((2, 2 // groups, 2, 2))
    b = rng.standard_normal(2)
    # conv is bilinear in (x, w): the tanh makes every second derivative non-trivial
    assert_gradients_match(lambda x, w, b: conv2d(x, w, b, **kwargs).tanh(), x, w, b,
                           second_order=True)


@pytest.mark.parametrize("kwargs", SECOND_ORDER)
def test_fused_second_derivatives_equal_the_composite(kwargs: dict[str, Any]) -> None:
    rng = np.random.default_rng(5)
    groups = kwargs["groups"]
    arrays = [rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((4, 2 // groups, 2, 3)),
              rng.standard_normal(4)]
    results = []
    for fn in (conv2d, conv2d_composite):
        leaves = [Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*leaves, **kwargs).tanh()
        upstream = Tensor(np.random.default_rng(6).standard_normal(out.shape))
        first = tg.autograd.grad(out, leaves, grad_outputs=upstream, create_graph=True)
        total = sum(((g * g).sum() for g in first), Tensor(0.0))
        results.append(tg.autograd.grad(total, leaves))
    for fused, composite in zip(*results):
        np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=1e-9, atol=1e-9)


def test_conv1d_gradients_match_numeric() -> None:
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 2, 7)), rng.standard_normal((4, 1, 3)), \
        rng.standard_normal(4)
    assert_gradients_match(lambda x, w, b: conv1d(x, w, b, stride=2, padding=1, dilation=2,
                                                  groups=2), x, w, b)


def test_gradients_accumulate_into_grad_for_float32() -> None:
    rng = np.random.default_rng(8)
    x = Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad is not None and w.grad is not None and b.grad is not None
    assert (x.grad.dtype, w.grad.dtype, b.grad.dtype) == (np.float32,) * 3
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 2 * 6 * 6))


def test_only_the_tensors_that_require_grad_get_one() -> None:
    rng = np.random.default_rng(10)
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    for x_grad, w_grad in ((False, True), (True, False)):
        xt, wt = Tensor(x, requires_grad=x_grad), Tensor(w, requires_grad=w_grad)
        conv2d(xt, wt, stride=2, padding=1).sum().backward()
        assert (xt.grad is not None, wt.grad is not None) == (x_grad, w_grad)
    weight = Tensor(w, requires_grad=True)  # a plain array as input, as a first layer gets
    conv2d(x, weight, stride=2, padding=1).sum().backward()
    assert weight.grad is not None and weight.grad.shape == w.shape


@pytest.mark.parametrize("fn,op", [(conv2d, "ConvIm2col"), (conv2d_composite, "MatMul")])
def test_changing_the_input_in_place_before_backward_is_an_error(fn: Any, op: str) -> None:
    """The windows are a view of x: an in-place change to x after the forward would make
    the gradient silently wrong, so backward refuses, naming the op."""
    x = Tensor(np.random.default_rng(11).standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = Tensor(np.ones((1, 2, 2, 2)), requires_grad=True)
    out = fn(x, w)
    with tg.no_grad():
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match=f"in place.*{op}|{op}.*in place"):
        out.sum().backward()


# ----------------------------------------------------------------------------- channels last


def test_channels_last_equals_nchw_after_transposes() -> None:
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 3, 3, 4)), \
        rng.standard_normal(4)
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    out = conv2d_nhwc(xt, wt, bt, stride=2, padding=1)
    assert out.shape == (2, 4, 3, 4)
    reference = conv2d(x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), b, stride=2,
                       padding=1)
    np.testing.assert_allclose(out.numpy(), reference.numpy().transpose(0, 2, 3, 1))
    upstream = rng.standard_normal(out.shape)
    out.backward(Tensor(upstream))
    xr, wr = (Tensor(a, requires_grad=True) for a in (x.transpose(0, 3, 1, 2),
                                                     w.transpose(3, 2, 0, 1)))
    conv2d(xr, wr, b, stride=2, padding=1).backward(Tensor(upstream.transpose(0, 3, 1, 2)))
    assert xt.grad is not None and wt.grad is not None and xr.grad is not None
    assert wr.grad is not None
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy().transpose(0, 2, 3, 1))
    np.testing.assert_allclose(wt.grad.numpy(), wr.grad.numpy().transpose(2, 3, 1, 0))
    assert_gradients_match(lambda x, w, b: conv2d_nhwc(x, w, b, padding=1),
                           x[:1, :4, :4], w[:2, :2], b)
    unpadded = conv2d_nhwc(x, w, b)  # no padding: windows of the permuted view itself
    np.testing.assert_allclose(unpadded.numpy(), conv2d(
        x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), b).numpy().transpose(0, 2, 3, 1))


# ----------------------------------------------------------------------------- errors


def _raises(fn: Any, *needles: str) -> None:
    with pytest.raises((ValueError, RuntimeError)) as info:
        fn()
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_errors_name_the_op_and_the_shapes() -> None:
    x, w = np.zeros((2, 3, 5, 5)), np.zeros((4, 3, 3, 3))
    _raises(lambda: conv2d(x, np.zeros((4, 2, 3, 3))), "conv2d:", "(2, 3, 5, 5)",
            "(4, 2, 3, 3)", "channels")
    _raises(lambda: conv2d(x, np.zeros((4, 3, 7, 7)), padding=0), "conv2d:", "(7, 7)",
            "(5, 5)", "larger than the padded input")
    _raises(lambda: conv2d(x, np.zeros((4, 3, 7, 7)), padding=(1, 0)), "conv2d:",
            "(7, 5)")
    _raises(lambda: conv2d(x, w, stride=0), "conv2d:", "stride must be positive")
    _raises(lambda: conv2d(x, w, stride=(1, 0)), "conv2d:", "stride")
    _raises(lambda: conv2d(x, np.zeros((4, 1, 3, 3)), groups=2), "conv2d:", "groups=2",
            "3 input channels", "(2, 3, 5, 5)")
    _raises(lambda: conv2d(np.zeros((2, 4, 5, 5)), np.zeros((3, 2, 3, 3)), groups=2),
            "conv2d:", "groups=2", "3 output channels", "(3, 2, 3, 3)")
    _raises(lambda: conv2d(x[0], w), "conv2d:", "4-D input", "(3, 5, 5)", "unsqueeze(0)")
    _raises(lambda: conv2d(x, w[0]), "conv2d:", "4-D weight", "(3, 3, 3)")
    _raises(lambda: conv2d(x, w, padding="same", stride=2), "conv2d:", "padding='same'",
            "strided", "stride=(2, 2)")
    _raises(lambda: conv2d(x, w, padding="full"), "conv2d:", "'valid' or 'same'")
    _raises(lambda: conv2d(x, w, np.zeros(3)), "conv2d:", "bias", "(3,)", "(4,)")
    _raises(lambda: conv2d(x, w, groups=0), "conv2d:", "groups")
    _raises(lambda: conv1d(np.zeros((2, 3, 5)), np.zeros((4, 2, 3))), "conv1d:",
            "(2, 3, 5)", "(4, 2, 3)")
    _raises(lambda: conv2d_nhwc(np.zeros((2, 5, 5, 3)), np.zeros((3, 3, 2, 4))),
            "conv2d_nhwc:", "(2, 5, 5, 3)", "(3, 3, 2, 4)")


# ----------------------------------------------------------------------------- example


def test_image_filters_example_runs(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["image_filters.py"])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(EXAMPLES / "image_filters.py"), run_name="__main__")
    assert info.value.code == 0
    printed = capsys.readouterr().out
    assert "(2, 2, " in printed and "match" in printed
