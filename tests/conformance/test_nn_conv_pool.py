"""torch.nn.functional conv1d/conv2d and max/avg pooling against tinygrad_edu: values,
gradients and second derivatives in float64, float32 values; every argument spelling
(positional, keyword, int, tuple, 'same', 'valid').

Deliberate difference asserted here (docs: the tie rule of max): tied maxima in a max-pool
window share the upstream gradient equally; PyTorch gives all of it to one index. Every
other test uses continuous random data, so no window has a tie."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as GF

from .nn_helpers import randn
from .oracle import assert_close, check_function, pair

# ----------------------------------------------------------------------------- conv2d

CONV2D: dict[str, tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = {
    # name: (input shape, weight shape, keyword arguments)
    "plain": ((2, 3, 6, 5), (4, 3, 3, 3), {}),
    "stride2": ((1, 2, 7, 6), (3, 2, 3, 2), {"stride": 2}),
    "stride_tuple": ((1, 2, 7, 6), (3, 2, 2, 3), {"stride": (2, 1)}),
    "padding1": ((1, 2, 5, 5), (2, 2, 3, 3), {"padding": 1}),
    "padding_tuple": ((1, 2, 5, 4), (2, 2, 3, 3), {"padding": (2, 1)}),
    "padding_same_odd": ((1, 2, 5, 6), (3, 2, 3, 3), {"padding": "same"}),
    "padding_same_even": ((1, 2, 5, 6), (3, 2, 4, 2), {"padding": "same"}),
    "padding_same_dilated": ((1, 2, 7, 6), (2, 2, 2, 3), {"padding": "same", "dilation": 2}),
    "padding_valid": ((1, 2, 5, 6), (3, 2, 3, 3), {"padding": "valid"}),
    "dilation2": ((1, 2, 7, 7), (2, 2, 3, 3), {"dilation": 2}),
    "dilation_tuple": ((1, 2, 7, 7), (2, 2, 2, 3), {"dilation": (3, 1)}),
    "groups2": ((2, 4, 5, 5), (6, 2, 3, 3), {"groups": 2}),
    "depthwise": ((1, 3, 5, 5), (3, 1, 3, 3), {"groups": 3, "padding": 1}),
    "everything": ((2, 4, 8, 7), (4, 2, 3, 2), {"stride": (2, 1), "padding": (1, 2),
                                                 "dilation": (1, 2), "groups": 2}),
    "kernel_1x1": ((2, 3, 4, 4), (5, 3, 1, 1), {}),
}


@pytest.mark.parametrize("name", list(CONV2D))
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_float64(name: str, bias: bool) -> None:
    xs, ws, kw = CONV2D[name]
    x, w, b = randn(*xs, seed=1), randn(*ws, seed=2), randn(ws[0], seed=3)
    if bias:
        check_function(lambda a, c, d: GF.conv2d(a, c, d, **kw),
                       lambda a, c, d: TF.conv2d(a, c, d, **kw), [x, w, b], what=name)
    else:
        check_function(lambda a, c: GF.conv2d(a, c, **kw), lambda a, c: TF.conv2d(a, c, **kw),
                       [x, w], what=name)


@pytest.mark.parametrize("name", list(CONV2D))
def test_conv2d_float32(name: str) -> None:
    xs, ws, kw = CONV2D[name]
    x, w = randn(*xs, seed=4, dtype=np.float32), randn(*ws, seed=5, dtype=np.float32)
    b = randn(ws[0], seed=6, dtype=np.float32)
    check_function(lambda a, c, d: GF.conv2d(a, c, d, **kw),
                   lambda a, c, d: TF.conv2d(a, c, d, **kw), [x, w, b], second=False,
                   what=f"{name} float32")


def test_conv2d_positional_arguments() -> None:
    x, w, b = randn(1, 4, 7, 7, seed=7), randn(4, 2, 3, 3, seed=8), randn(4, seed=9)
    check_function(lambda a, c, d: GF.conv2d(a, c, d, 2, 1, 1, 2),
                   lambda a, c, d: TF.conv2d(a, c, d, 2, 1, 1, 2), [x, w, b],
                   what="conv2d(x, w, b, stride, padding, dilation, groups)")
    check_function(lambda a, c: GF.conv2d(a, c, None, 1, "same"),
                   lambda a, c: TF.conv2d(a, c, None, 1, "same"), [x, randn(3, 4, 2, 3, seed=9)],
                   what="conv2d(x, w, None, 1, 'same')")


# ----------------------------------------------------------------------------- conv1d

CONV1D: dict[str, tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = {
    "plain": ((2, 3, 9), (4, 3, 3), {}),
    "stride": ((2, 2, 9), (3, 2, 2), {"stride": 3}),
    "padding": ((1, 2, 6), (3, 2, 3), {"padding": 2}),
    "padding_tuple": ((1, 2, 6), (3, 2, 3), {"padding": (1,)}),
    "same_even": ((1, 2, 7), (3, 2, 4), {"padding": "same"}),
    "same_dilated": ((1, 2, 9), (3, 2, 3), {"padding": "same", "dilation": 3}),
    "valid": ((1, 2, 7), (3, 2, 4), {"padding": "valid"}),
    "dilation": ((1, 2, 11), (2, 2, 3), {"dilation": 4}),
    "groups": ((2, 6, 8), (3, 2, 3), {"groups": 3, "stride": 2, "padding": 1}),
}


@pytest.mark.parametrize("name", list(CONV1D))
@pytest.mark.parametrize("bias", [True, False])
def test_conv1d_float64(name: str, bias: bool) -> None:
    xs, ws, kw = CONV1D[name]
    x, w, b = randn(*xs, seed=10), randn(*ws, seed=11), randn(ws[0], seed=12)
    if bias:
        check_function(lambda a, c, d: GF.conv1d(a, c, d, **kw),
                       lambda a, c, d: TF.conv1d(a, c, d, **kw), [x, w, b], what=name)
    else:
        check_function(lambda a, c: GF.conv1d(a, c, **kw), lambda a, c: TF.conv1d(a, c, **kw),
                       [x, w], what=name)


def test_conv1d_float32_positional() -> None:
    x, w = randn(2, 4, 10, seed=13, dtype=np.float32), randn(6, 2, 3, seed=14, dtype=np.float32)
    b = randn(6, seed=15, dtype=np.float32)
    check_function(lambda a, c, d: GF.conv1d(a, c, d, 2, 1, 2, 2),
                   lambda a, c, d: TF.conv1d(a, c, d, 2, 1, 2, 2), [x, w, b], second=False,
                   what="conv1d float32 positional")


# ----------------------------------------------------------------------------- pooling

POOL2D: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {
    "k2": ((2, 3, 6, 6), {"kernel_size": 2}),
    "k3_s1": ((1, 2, 5, 6), {"kernel_size": 3, "stride": 1}),
    "k_tuple_s_tuple": ((1, 2, 7, 6), {"kernel_size": (3, 2), "stride": (2, 1)}),
    "padding": ((1, 2, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    "padding_tuple": ((1, 2, 6, 5), {"kernel_size": (2, 3), "padding": (1, 1)}),
    "ceil": ((1, 2, 5, 7), {"kernel_size": 2, "ceil_mode": True}),
    "ceil_stride_padding": ((1, 1, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                           "ceil_mode": True}),
    "ceil_kernel_larger_than_input": ((1, 2, 2, 3), {"kernel_size": 4, "stride": 4,
                                                     "ceil_mode": True}),
    "ceil_kernel_larger_padding": ((1, 1, 3, 3), {"kernel_size": 4, "stride": 2,
                                                  "padding": 1, "ceil_mode": True}),
}
MAX_ONLY = {
    "dilation": ((1, 2, 7, 7), {"kernel_size": 2, "stride": 1, "dilation": 2}),
    "dilation_ceil": ((1, 1, 8, 7), {"kernel_size": 2, "stride": 2, "dilation": 2,
                                     "ceil_mode": True}),
}
AVG_ONLY = {
    "padding_exclude": ((1, 2, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1,
                                       "count_include_pad": False}),
    "ceil_padding_exclude": ((1, 1, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                            "ceil_mode": True, "count_include_pad": False}),
    "divisor_override": ((1, 2, 6, 6), {"kernel_size": 3, "padding": 1,
                                        "divisor_override": 4}),
}


@pytest.mark.parametrize("name", list(POOL2D) + list(MAX_ONLY))
def test_max_pool2d(name: str) -> None:
    shape, kw = {**POOL2D, **MAX_ONLY}[name]
    x = randn(*shape, seed=16)
    check_function(lambda t: GF.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x],
                   what=f"max_pool2d {name}")
    x32 = randn(*shape, seed=17, dtype=np.float32)
    check_function(lambda t: GF.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x32],
                   second=False, what=f"max_pool2d {name} float32")


@pytest.mark.parametrize("name", list(POOL2D) + list(AVG_ONLY))
def test_avg_pool2d(name: str) -> None:
    shape, kw = {**POOL2D, **AVG_ONLY}[name]
    x = randn(*shape, seed=18)
    check_function(lambda t: GF.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw), [x],
                   what=f"avg_pool2d {name}")
    x32 = randn(*shape, seed=19, dtype=np.float32)
    check_function(lambda t: GF.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw), [x32],
                   second=False, what=f"avg_pool2d {name} float32")


POOL1D: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {
    "k2": ((2, 3, 8), {"kernel_size": 2}),
    "k3_s2": ((1, 2, 9), {"kernel_size": 3, "stride": 2}),
    "padding": ((1, 2, 7), {"kernel_size": 4, "stride": 2, "padding": 2}),
    "ceil": ((1, 2, 7), {"kernel_size": 2, "ceil_mode": True}),
    "ceil_padding": ((1, 2, 8), {"kernel_size": 3, "stride": 2, "padding": 1,
                                 "ceil_mode": True}),
    "ceil_kernel_larger_than_input": ((1, 2, 2), {"kernel_size": 3, "ceil_mode": True}),
    "ceil_kernel_larger_stride2": ((1, 1, 3), {"kernel_size": 5, "stride": 2, "padding": 1,
                                               "ceil_mode": True}),
}


@pytest.mark.parametrize("name", list(POOL1D))
def test_max_pool1d(name: str) -> None:
    shape, kw = POOL1D[name]
    x = randn(*shape, seed=20)
    check_function(lambda t: GF.max_pool1d(t, **kw), lambda t: TF.max_pool1d(t, **kw), [x],
                   what=f"max_pool1d {name}")


@pytest.mark.parametrize("name", [*POOL1D, "exclude_pad"])
def test_avg_pool1d(name: str) -> None:
    shape, kw = POOL1D.get(name, ((1, 2, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                              "count_include_pad": False}))
    x = randn(*shape, seed=21)
    check_function(lambda t: GF.avg_pool1d(t, **kw), lambda t: TF.avg_pool1d(t, **kw), [x],
                   what=f"avg_pool1d {name}")


def test_pool_positional_arguments() -> None:
    x = randn(1, 2, 7, 7, seed=22)
    check_function(lambda t: GF.max_pool2d(t, 3, 2, 1, 1, True),
                   lambda t: TF.max_pool2d(t, 3, 2, 1, 1, True), [x],
                   what="max_pool2d(x, k, s, p, dilation, ceil_mode)")
    check_function(lambda t: GF.avg_pool2d(t, 3, 2, 1, True, False),
                   lambda t: TF.avg_pool2d(t, 3, 2, 1, True, False), [x],
                   what="avg_pool2d(x, k, s, p, ceil_mode, count_include_pad)")
    x1 = randn(1, 2, 9, seed=23)
    check_function(lambda t: GF.max_pool1d(t, 3, 2, 1), lambda t: TF.max_pool1d(t, 3, 2, 1),
                   [x1], what="max_pool1d(x, k, s, p)")
    check_function(lambda t: GF.avg_pool1d(t, 3, 2, 1, False, False),
                   lambda t: TF.avg_pool1d(t, 3, 2, 1, False, False), [x1],
                   what="avg_pool1d(x, k, s, p, ceil_mode, count_include_pad)")


def test_pool_unbatched_input() -> None:
    x = randn(2, 6, 6, seed=24)
    check_function(lambda t: GF.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x],
                   what="max_pool2d (C, H, W)")
    check_function(lambda t: GF.avg_pool2d(t, 3, 1), lambda t: TF.avg_pool2d(t, 3, 1), [x],
                   what="avg_pool2d (C, H, W)")


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2,
                                                       "padding": 1, "ceil_mode": True}])
def test_max_pool_return_indices(kw: dict[str, Any]) -> None:
    x = randn(2, 3, 7, 6, seed=25)
    ours, theirs = pair(x)
    vo, io = GF.max_pool2d(ours, return_indices=True, **kw)
    vt, it = TF.max_pool2d(theirs, return_indices=True, **kw)
    assert_close(vo, vt, what="values")
    assert_close(io, it, what="indices")
    x1 = randn(2, 3, 9, seed=26)
    ours, theirs = pair(x1)
    vo, io = GF.max_pool1d(ours, return_indices=True, **kw)
    vt, it = TF.max_pool1d(theirs, return_indices=True, **kw)
    assert_close(vo, vt, what="1d values")
    assert_close(io, it, what="1d indices")


@pytest.mark.parametrize("kw", [{"kernel_size": 3}, {"kernel_size": 5, "stride": 2}])
def test_pooling_too_large_kernel_raises_in_both(kw: dict[str, Any]) -> None:
    """Without ceil_mode a kernel larger than the (padded) input has no output position:
    PyTorch raises, and so must we."""
    x = randn(1, 1, 2, 2, seed=27)
    with pytest.raises(RuntimeError):
        TF.max_pool2d(torch.tensor(x), **kw)
    with pytest.raises(Exception):  # noqa: B017 - any clear error
        GF.max_pool2d(tg.tensor(x), **kw)


def test_max_pool_ties_share_gradient_deliberate_difference() -> None:
    """Ours (documented): t tied maxima get 1/t of the window's gradient each. PyTorch
    gives all of it to one of them; both agree on the values and on the sum per window."""
    x = np.array([[[[1.0, 1.0], [0.0, 1.0]]]])
    ours, theirs = pair(x, requires_grad=True)
    GF.max_pool2d(ours, 2).sum().backward()
    TF.max_pool2d(theirs, 2).sum().backward()
    assert ours.grad is not None and theirs.grad is not None
    np.testing.assert_allclose(ours.grad.numpy(), [[[[1 / 3, 1 / 3], [0.0, 1 / 3]]]])
    assert ours.grad.numpy().sum() == pytest.approx(float(theirs.grad.sum()))
