"""The array-level shortcuts inside the fused convolution (ops.conv.ConvIm2col): the
bias as a column of the weight against a row of ones, and the flat-shift fold of dx for
stride-1 convolutions whose output rows are as long as the input's. Each is held to the
node-by-node composite (conv2d_composite), whose gradients come from SlidingWindows and
FoldWindows alone, and to central differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.kernels import flat_shifts
from tinygrad_edu.nn._conv import _padding, conv1d, conv2d, conv2d_composite
from tinygrad_edu.ops.windows import window_output_size
from tinygrad_edu.testing import assert_gradients_match

# (x shape, w shape, conv2d keywords): every one keeps the output rows as long as the input's
SAME_WIDTH = [
    ((2, 3, 5, 6), (4, 3, 3, 3), {"padding": 1}),
    ((2, 4, 4, 7), (6, 2, 3, 3), {"padding": 1, "groups": 2}),
    ((1, 2, 6, 5), (3, 2, 2, 4), {"padding": "same"}),  # uneven: pads (0, 1) and (1, 2)
    ((1, 2, 6, 7), (3, 2, 3, 2), {"padding": "same", "dilation": (2, 3)}),
    ((2, 3, 4, 5), (2, 3, 1, 1), {}),  # 1x1: no shift at all
    ((2, 3, 7, 5), (2, 3, 3, 3), {"padding": (0, 1)}),  # the output has fewer rows
    ((1, 2, 3, 3), (2, 2, 3, 5), {"padding": 2}),  # the output has more rows than the input
    ((1, 1, 2, 1), (1, 1, 3, 3), {"padding": 1}),  # one column: every side tap wraps
]


def _shifts(x_shape: tuple[int, ...], w_shape: tuple[int, ...], kwargs: dict[str, Any]
            ) -> tuple[int, ...] | None:
    """What ConvIm2col's backward will decide for this call."""
    kernel = w_shape[2:]
    dilation = kwargs.get("dilation", 1)
    dilation = (dilation,) * 2 if isinstance(dilation, int) else dilation
    pads = _padding(kwargs.get("padding", 0), 2, kernel, (1, 1), dilation, "conv2d")
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads))
    out = window_output_size(padded, kernel, (1, 1), dilation)
    return flat_shifts(x_shape[2:], kernel, out, (1, 1), dilation, pads)


def _fused_and_composite_grads(arrays: list[np.ndarray], kwargs: dict[str, Any], seed: int
                               ) -> tuple[list[Tensor], list[Tensor]]:
    results = []
    for fn in (conv2d, conv2d_composite):
        leaves = [Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*leaves, **kwargs)
        upstream = Tensor(np.random.default_rng(seed).standard_normal(out.shape))
        results.append(list(tg.autograd.grad(out, leaves, grad_outputs=upstream)))
    return results[0], results[1]


@pytest.mark.parametrize("x_shape,w_shape,kwargs", SAME_WIDTH)
def test_flat_fold_equals_the_composite(x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                                        kwargs: dict[str, Any]) -> None:
    assert _shifts(x_shape, w_shape, kwargs) is not None  # the shortcut is what is tested
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
              rng.standard_normal(w_shape[0])]
    fused, composite = _fused_and_composite_grads(arrays, kwargs, seed=1)
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)
    assert_gradients_match(lambda x, w, b: conv2d(x, w, b, **kwargs), *arrays)


@pytest.mark.parametrize("x_shape,w_shape,kwargs", [
    ((1, 2, 5, 6), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
    ((1, 2, 5, 6), (3, 2, 3, 3), {"padding": 0}),  # 'valid': rows shrink
    ((1, 2, 5, 6), (3, 2, 3, 3), {"padding": 2}),  # rows grow
])
def test_other_convolutions_take_the_general_fold(
        x_shape: tuple[int, ...], w_shape: tuple[int, ...], kwargs: dict[str, Any]) -> None:
    if "stride" not in kwargs:
        assert _shifts(x_shape, w_shape, kwargs) is None
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    fused, composite = _fused_and_composite_grads(arrays, kwargs, seed=3)
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.integers(1, 6),
       st.integers(1, 6), st.booleans(), st.integers(0, 2**32 - 1))
def test_same_padding_gradients_equal_the_composite(
        kh: int, kw: int, r: int, h: int, w: int, bias: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    kwargs = {"padding": "same", "dilation": r}
    arrays = [rng.standard_normal((2, 2, h, w)), rng.standard_normal((3, 2, kh, kw))]
    if bias:
        arrays.append(rng.standard_normal(3))
    assert _shifts(arrays[0].shape, arrays[1].shape, kwargs) is not None
    fused, composite = _fused_and_composite_grads(arrays, kwargs, seed=seed % 1000)
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)


def test_conv1d_same_uses_the_flat_fold_and_matches_conv2d() -> None:
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, 4)), \
        rng.standard_normal(6)
    assert flat_shifts((9,), (4,), (9,), (1,), (1,), ((1, 2),)) == (-1, 0, 1, 2)
    leaves = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    upstream = rng.standard_normal((2, 6, 9))
    conv1d(*leaves, padding="same", groups=2).backward(Tensor(upstream))
    reference = [Tensor(a, requires_grad=True) for a in (np.pad(x, ((0, 0), (0, 0), (1, 2)))
                                                         [:, :, None], w[:, :, None], b)]
    conv2d_composite(*reference, groups=2).backward(Tensor(upstream[:, :, None]))
    np.testing.assert_allclose(leaves[0].grad.numpy(),  # type: ignore[union-attr]
                               reference[0].grad.numpy()[:, :, 0, 1:10],  # type: ignore[union-attr]
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(leaves[1].grad.numpy(),  # type: ignore[union-attr]
                               reference[1].grad.numpy()[:, :, 0], rtol=1e-10)  # type: ignore[union-attr]
    np.testing.assert_allclose(leaves[2].grad.numpy(),  # type: ignore[union-attr]
                               reference[2].grad.numpy(), rtol=1e-10)  # type: ignore[union-attr]


def test_bias_gradient_alone_and_float32() -> None:
    """db comes out of the dw product (the ones row); it must also come when only the bias
    needs a gradient, and stay float32 with float32 inputs."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    b = Tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    upstream = rng.standard_normal((3, 4, 6, 6)).astype(np.float32)
    conv2d(x, w, b, padding=1).backward(Tensor(upstream))
    assert b.grad is not None and b.grad.dtype == np.float32
    np.testing.assert_allclose(b.grad.numpy(), upstream.sum(axis=(0, 2, 3)), rtol=1e-5)
