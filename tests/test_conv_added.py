"""The convolution family added for issue 19, numpy only: transposed convolutions,
unfold/fold and the 3-D forms against naive nested-loop references (values) and against
central differences (first and second order), under hypothesis."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.nn import functional as F
from tinygrad_edu.ops.windows import FoldWindows
from tinygrad_edu.testing import assert_gradients_match

GRADIENT_EXAMPLES = settings(max_examples=20)  # each example checks every element

# ----------------------------------------------------------------------------- references


def naive_conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                         stride: tuple[int, ...], padding: tuple[int, ...],
                         output_padding: tuple[int, ...], dilation: tuple[int, ...],
                         groups: int) -> np.ndarray:
    """Each input element scatters weight * x into the output (loops, for clarity)."""
    n, c_in = x.shape[:2]
    per_in, per_out = c_in // groups, w.shape[1]
    kernel, size = w.shape[2:], x.shape[2:]
    full = [(m - 1) * s + r * (k - 1) + 1 + q
            for m, s, r, k, q in zip(size, stride, dilation, kernel, output_padding)]
    y = np.zeros((n, per_out * groups, *full))
    for batch, c in itertools.product(range(n), range(c_in)):
        g = c // per_in
        for i in itertools.product(*map(range, size)):
            for j in itertools.product(*map(range, kernel)):
                at = tuple(a * s + t * r for a, s, t, r in zip(i, stride, j, dilation))
                for o in range(per_out):
                    y[(batch, g * per_out + o) + at] += w[(c, o) + j] * x[(batch, c) + i]
    y = y[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
    return y if b is None else y + b.reshape((-1,) + (1,) * len(size))


@st.composite
def transposed_cases(draw: Any, d: int = 2) -> dict[str, Any]:
    groups = draw(st.sampled_from([1, 1, 2]))
    c_group, o_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    output_padding = tuple(draw(st.integers(0, max(s, r) - 1))
                           for s, r in zip(stride, dilation))
    size = tuple(draw(st.integers(1, 3)) for _ in range(d))
    # padding may remove at most what the kernel and stride add (output size >= 1)
    padding = tuple(draw(st.integers(0, ((m - 1) * s + r * (k - 1) + q) // 2))
                    for m, s, r, k, q in zip(size, stride, dilation, kernel, output_padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.standard_normal((draw(st.integers(1, 2)), groups * c_group, *size)),
        "w": rng.standard_normal((groups * c_group, o_group, *kernel)),
        "b": rng.standard_normal(groups * o_group) if draw(st.booleans()) else None,
        "stride": stride, "padding": padding, "output_padding": output_padding,
        "dilation": dilation, "groups": groups,
    }


def _transposed_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    return {k: case[k] for k in ("stride", "padding", "output_padding", "dilation", "groups")}


_TRANSPOSED = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


# ----------------------------------------------------------------------------- conv_transpose


@given(st.sampled_from([1, 2, 3]).flatmap(transposed_cases))
def test_conv_transpose_values_equal_the_naive_scatter(case: dict[str, Any]) -> None:
    d = case["x"].ndim - 2
    b = None if case["b"] is None else Tensor(case["b"])
    y = _TRANSPOSED[d](Tensor(case["x"]), Tensor(case["w"]), b, **_transposed_kwargs(case))
    expected = naive_conv_transpose(case["x"], case["w"], case["b"],
                                    **_transposed_kwargs(case))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@GRADIENT_EXAMPLES
@given(transposed_cases())
def test_conv_transpose2d_gradients_first_and_second_order(case: dict[str, Any]) -> None:
    kw = _transposed_kwargs(case)
    operands = [case["x"], case["w"]] + ([] if case["b"] is None else [case["b"]])

    def f(*ts: Tensor) -> Tensor:  # squared, so the second derivative is not zero
        return F.conv_transpose2d(ts[0] * ts[0], *ts[1:], **kw)

    assert_gradients_match(f, *operands, second_order=True)


@GRADIENT_EXAMPLES
@given(transposed_cases(d=1))
def test_conv_transpose1d_gradients(case: dict[str, Any]) -> None:
    kw = _transposed_kwargs(case)
    assert_gradients_match(lambda t, u: F.conv_transpose1d(t, u * u, **kw), case["x"],
                           case["w"], second_order=True)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 3),
       st.integers(0, 2**32 - 1))
def test_fold_windows_into_a_longer_shape(k: int, s: int, r: int, extra: int, seed: int
                                          ) -> None:
    """FoldWindows into a shape longer than the windows reach (output_padding, fold's
    output_size): the extra positions are zero and the gradient keeps x's windows only."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, k, 3))
    reach = 2 * s + r * (k - 1) + 1
    spec = {"kernel": (k,), "stride": (s,), "dilation": (r,), "shape": (2, reach + extra)}
    y = FoldWindows.apply(Tensor(x), **spec)
    np.testing.assert_array_equal(y.numpy()[:, reach:], 0)
    assert_gradients_match(lambda t: FoldWindows.apply(t * t, **spec), x, second_order=True)


# ----------------------------------------------------------------------------- unfold and fold


def naive_unfold(x: np.ndarray, kernel: tuple[int, int], dilation: tuple[int, int],
                 padding: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """im2col by loops: column l = oy * OW + ox holds the (channel, i, j) entries."""
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * padding[0], w + 2 * padding[1]))
    xp[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    out = [(m - r * (k - 1) - 1) // s + 1
           for m, k, r, s in zip(xp.shape[2:], kernel, dilation, stride)]
    cols = np.zeros((n, c * kernel[0] * kernel[1], out[0] * out[1]))
    for b, ch, i, j, oy, ox in itertools.product(range(n), range(c), range(kernel[0]),
                                                 range(kernel[1]), range(out[0]),
                                                 range(out[1])):
        cols[b, (ch * kernel[0] + i) * kernel[1] + j, oy * out[1] + ox] = xp[
            b, ch, oy * stride[0] + i * dilation[0], ox * stride[1] + j * dilation[1]]
    return cols


@st.composite
def fold_cases(draw: Any) -> dict[str, Any]:
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(max(1, r * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 3))
                 for k, r, p in zip(kernel, dilation, padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {"x": rng.standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size)),
            "kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}


def _fold_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    return {k: case[k] for k in ("kernel_size", "dilation", "padding", "stride")}


@given(fold_cases())
def test_unfold_equals_naive_im2col_and_fold_is_its_adjoint(case: dict[str, Any]) -> None:
    kw = _fold_kwargs(case)
    x = case["x"]
    cols = F.unfold(Tensor(x), **kw)
    expected = naive_unfold(x, kw["kernel_size"], kw["dilation"], kw["padding"], kw["stride"])
    np.testing.assert_array_equal(cols.numpy(), expected)
    # <unfold(x), c> = <x, fold(c)>: fold is the transpose of unfold
    c = np.random.default_rng(0).standard_normal(cols.shape)
    folded = F.fold(Tensor(c), x.shape[2:], **kw)
    np.testing.assert_allclose(np.sum(expected * c), np.sum(x * folded.numpy()), rtol=1e-10)


@GRADIENT_EXAMPLES
@given(fold_cases())
def test_unfold_and_fold_gradients_first_and_second_order(case: dict[str, Any]) -> None:
    kw = _fold_kwargs(case)
    x = case["x"]
    assert_gradients_match(lambda t: F.unfold(t * t, **kw), x, second_order=True)
    cols = np.random.default_rng(1).standard_normal(F.unfold(Tensor(x), **kw).shape)
    assert_gradients_match(lambda t: F.fold(t * t, x.shape[2:], **kw), cols,
                           second_order=True)


# ----------------------------------------------------------------------------- 3-D forms


@st.composite
def conv3d_cases(draw: Any) -> dict[str, Any]:
    groups = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(3))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(3))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(3))
    size = tuple(max(1, r * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 2))
                 for k, r, p in zip(kernel, dilation, padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {"x": rng.standard_normal((1, groups, *size)),
            "w": rng.standard_normal((groups * draw(st.integers(1, 2)), 1, *kernel)),
            "b": rng.standard_normal(1),
            "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


@GRADIENT_EXAMPLES
@given(conv3d_cases())
def test_conv3d_fused_equals_composite_and_central_differences(case: dict[str, Any]) -> None:
    from tinygrad_edu.nn._conv import _conv

    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    b = np.repeat(case["b"], case["w"].shape[0])

    def fused(t: Tensor, u: Tensor, v: Tensor) -> Tensor:
        return F.conv3d(t * t, u, v, **kw)

    def composite(t: Tensor, u: Tensor, v: Tensor) -> Tensor:
        return _conv("conv3d", 3, t * t, u, v, kw["stride"], kw["padding"], kw["dilation"],
                     kw["groups"], fused=False)

    ts = [Tensor(a, requires_grad=True) for a in (case["x"], case["w"], b)]
    np.testing.assert_allclose(fused(*ts).numpy(), composite(*ts).numpy(), rtol=1e-12,
                               atol=1e-12)
    assert_gradients_match(fused, case["x"], case["w"], b, second_order=True)


def naive_pool3d(x: np.ndarray, kernel: int, stride: int, padding: int, reduce: Any,
                 fill: float) -> np.ndarray:
    """Windows by loops over a padded copy (fill: -inf for max, 0 for the mean)."""
    xp = np.pad(x, ((0, 0), (0, 0)) + ((padding, padding),) * 3, constant_values=fill)
    out = [(m - kernel) // stride + 1 for m in xp.shape[2:]]
    y = np.zeros(x.shape[:2] + tuple(out))
    for i, j, k in itertools.product(*map(range, out)):
        window = xp[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel,
                    k * stride:k * stride + kernel]
        y[:, :, i, j, k] = reduce(window.reshape(x.shape[:2] + (-1,)), axis=-1)
    return y


@st.composite
def pool3d_cases(draw: Any) -> dict[str, Any]:
    kernel, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.integers(0, kernel // 2))
    size = tuple(max(1, kernel - 2 * padding) + draw(st.integers(0, 2)) for _ in range(3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {"x": rng.standard_normal((1, 2, *size)), "kernel_size": kernel, "stride": stride,
            "padding": padding}


@given(pool3d_cases())
def test_pool3d_values_equal_naive_loops(case: dict[str, Any]) -> None:
    x, k, s, p = case["x"], case["kernel_size"], case["stride"], case["padding"]
    np.testing.assert_allclose(F.max_pool3d(Tensor(x), k, s, p).numpy(),
                               naive_pool3d(x, k, s, p, np.max, -np.inf), rtol=1e-12)
    np.testing.assert_allclose(F.avg_pool3d(Tensor(x), k, s, p).numpy(),
                               naive_pool3d(x, k, s, p, np.mean, 0.0), rtol=1e-12)


@GRADIENT_EXAMPLES
@given(pool3d_cases())
def test_pool3d_gradients_first_and_second_order(case: dict[str, Any]) -> None:
    kw = {k: case[k] for k in ("kernel_size", "stride", "padding")}
    # continuous random data: no ties, so max pooling is differentiable at the sample
    assert_gradients_match(lambda t: F.max_pool3d(t * t, **kw), case["x"], second_order=True)
    assert_gradients_match(lambda t: F.avg_pool3d(t * t, count_include_pad=False, **kw),
                           case["x"], second_order=True)
