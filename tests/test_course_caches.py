"""The naive reference layers (explicit loops) against the engine's fast layers and numeric
gradients, and every course backward fed the caches the courses build by hand, checked
against the courses' own formulas written in numpy here (float64)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.course import layers as L
from tinygrad_edu.course import naive
from tinygrad_edu.course.gradient_check import eval_numerical_gradient_array, rel_error
from tinygrad_edu.errors import ShapeError

TOL = 1e-8


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_all_close(got: Any, want: Any, tol: float = 1e-10) -> None:
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- naive vs fast


@settings(max_examples=25)
@given(n=st.integers(1, 2), c=st.integers(1, 2), f=st.integers(1, 3), h=st.integers(3, 6),
       k=st.sampled_from([1, 2, 3]), stride=st.integers(1, 2), pad=st.integers(0, 2),
       seed=st.integers(0, 99))
def test_conv_naive_and_fast_agree_in_every_pairing(n: int, c: int, f: int, h: int, k: int,
                                                    stride: int, pad: int, seed: int) -> None:
    r = rng(seed)
    x, w, b = r.standard_normal((n, c, h, h + 1)), r.standard_normal((f, c, k, k)), \
        r.standard_normal(f)
    cp = {"stride": stride, "pad": pad}
    out_naive, cache_naive = L.conv_forward_naive(x, w, b, cp)
    out_fast, cache_fast = L.conv_forward_fast(x, w, b, cp)
    # two summation orders: a few ulps of a near-cancelling output (1.6e-12 at seed 51)
    assert rel_error(out_naive, out_fast) < 1e-10
    dout = r.standard_normal(out_naive.shape)
    reference = L.conv_backward_naive(dout, cache_naive)
    for backward, cache in ((L.conv_backward_naive, cache_fast),
                            (L.conv_backward_fast, cache_naive),
                            (L.conv_backward_fast, cache_fast)):
        assert_all_close(backward(dout, cache), reference)


def test_conv_naive_backward_matches_numeric_gradients() -> None:
    r = rng(1)
    x, w, b = r.standard_normal((2, 3, 5, 4)), r.standard_normal((2, 3, 3, 3)), \
        r.standard_normal(2)
    cp = {"stride": 2, "pad": 1}
    out, cache = L.conv_forward_naive(x, w, b, cp)
    assert out.shape == (2, 2, 3, 2)
    dout = r.standard_normal(out.shape)
    dx, dw, db = L.conv_backward_naive(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: L.conv_forward_naive(v, w, b, cp)[0], x,
                                           dout)
    dw_num = eval_numerical_gradient_array(lambda v: L.conv_forward_naive(x, v, b, cp)[0], w,
                                           dout)
    db_num = eval_numerical_gradient_array(lambda v: L.conv_forward_naive(x, w, v, cp)[0], b,
                                           dout)
    for analytic, numeric in ((dx, dx_num), (dw, dw_num), (db, db_num)):
        assert rel_error(analytic, numeric) < TOL


@settings(max_examples=25)
@given(ph=st.integers(1, 3), pw=st.integers(1, 3), stride=st.integers(1, 3),
       seed=st.integers(0, 99))
def test_max_pool_naive_and_fast_agree(ph: int, pw: int, stride: int, seed: int) -> None:
    r = rng(seed)
    x = r.standard_normal((2, 2, 5, 6))
    pp = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out_naive, cache_naive = L.max_pool_forward_naive(x, pp)
    out_fast, cache_fast = L.max_pool_forward_fast(x, pp)
    np.testing.assert_array_equal(out_naive, out_fast)
    dout = r.standard_normal(out_naive.shape)
    reference = L.max_pool_backward_naive(dout, cache_naive)
    numeric = eval_numerical_gradient_array(lambda v: L.max_pool_forward_naive(v, pp)[0], x,
                                            dout)
    assert rel_error(reference, numeric) < TOL
    for backward, cache in ((L.max_pool_backward_naive, cache_fast),
                            (L.max_pool_backward_fast, cache_naive),
                            (L.max_pool_backward_fast, cache_fast)):
        assert_all_close(backward(dout, cache), reference)


def test_naive_pool_gives_a_tie_to_its_first_maximum() -> None:
    x = np.ones((1, 1, 2, 2))
    pp = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dout = np.full((1, 1, 1, 1), 4.0)
    _, cache = L.max_pool_forward_naive(x, pp)
    np.testing.assert_array_equal(L.max_pool_backward_naive(dout, cache),
                                  [[[[4.0, 0.0], [0.0, 0.0]]]])
    np.testing.assert_array_equal(L.max_pool_backward_fast(dout, cache), np.ones((1, 1, 2, 2)))


def test_naive_layers_return_the_courses_caches_as_copies() -> None:
    x, w, b = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1)
    cp = {"stride": 1, "pad": 0}
    out, cache = L.conv_forward_naive(x, w, b, cp)
    xc, wc, bc, cpc = cache
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 4.0))
    x[:] = 7.0
    cp["pad"] = 5
    assert xc[0, 0, 0, 0] == 1.0 and cpc == {"stride": 1, "pad": 0}
    assert wc is not w and bc is not b
    out, (xp, pp) = L.max_pool_forward_naive(np.arange(16.0).reshape(1, 1, 4, 4),
                                             {"pool_height": 2, "pool_width": 2, "stride": 2})
    np.testing.assert_array_equal(out, [[[[5.0, 7.0], [13.0, 15.0]]]])
    assert xp.shape == (1, 1, 4, 4) and pp["stride"] == 2
    assert naive.__all__ == ["conv_forward_naive", "conv_backward_naive",
                             "max_pool_forward_naive", "max_pool_backward_naive"]


# ----------------------------------------------------------------------------- course formulas


def course_affine_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray
                           ) -> tuple[np.ndarray, ...]:
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.sum(axis=0)


def course_batchnorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                              eps: float = 1e-5) -> tuple[np.ndarray, ...]:
    """The simplified closed form the courses derive for batchnorm_backward_alt."""
    n = len(x)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    dxhat = dout * gamma
    dx = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def test_affine_relu_and_layer_utils_caches() -> None:
    r = rng(2)
    x, w, b = r.standard_normal((4, 2, 3)), r.standard_normal((6, 5)), r.standard_normal(5)
    dout = r.standard_normal((4, 5))
    assert_all_close(L.affine_backward(dout, (x, w, b)), course_affine_backward(dout, x, w))
    assert_all_close(L.affine_backward(dout, [x, w, b]), course_affine_backward(dout, x, w))
    h = r.standard_normal((4, 5))
    assert_all_close(L.relu_backward(dout, h), dout * (h > 0))
    a = x.reshape(4, -1) @ w + b
    want = course_affine_backward(dout * (a > 0), x, w)
    assert_all_close(L.affine_relu_backward(dout, ((x, w, b), a)), want)


def test_conv_caches_of_the_courses_fast_and_composite_layers() -> None:
    r = rng(3)
    x, w, b = r.standard_normal((2, 3, 6, 6)), r.standard_normal((4, 3, 3, 3)), \
        r.standard_normal(4)
    cp, pp = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    a, _ = naive.conv_forward_naive(x, w, b, cp)
    dout = r.standard_normal(a.shape)
    want = naive.conv_backward_naive(dout, (x, w, b, cp))
    x_cols = r.standard_normal((27, 72))   # what the courses' im2col version appends
    assert_all_close(L.conv_backward_fast(dout, (x, w, b, cp, x_cols)), want)
    relu_grad = dout * (a > 0)
    assert_all_close(L.conv_relu_backward(dout, ((x, w, b, cp), a)),
                     naive.conv_backward_naive(relu_grad, (x, w, b, cp)))
    s = np.maximum(a, 0)
    pooled, pool_cache = naive.max_pool_forward_naive(s, pp)
    dpool = r.standard_normal(pooled.shape)
    ds = naive.max_pool_backward_naive(dpool, pool_cache)
    assert_all_close(L.conv_relu_pool_backward(dpool, ((x, w, b, cp), a, (s, pp))),
                     naive.conv_backward_naive(ds * (a > 0), (x, w, b, cp)))


def test_max_pool_caches_of_the_courses_fast_versions() -> None:
    r = rng(4)
    x = r.standard_normal((2, 3, 4, 6))
    pp = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, _ = naive.max_pool_forward_naive(x, pp)
    dout = r.standard_normal(out.shape)
    want = naive.max_pool_backward_naive(dout, (x, pp))
    x_reshaped = x.reshape(2, 3, 2, 2, 3, 2)
    for cache in ((x, pp), ("reshape", (x, x_reshaped, out)),
                  ("im2col", (x, np.zeros((4, 36)), np.zeros(36, dtype=int), pp))):
        assert_all_close(L.max_pool_backward(dout, cache), want)
        assert_all_close(L.max_pool_backward_naive(dout, cache), want)


def test_batchnorm_caches_against_the_closed_form() -> None:
    r = rng(5)
    x = 2 + 3 * r.standard_normal((8, 4))
    gamma, beta = r.standard_normal(4), r.standard_normal(4)
    bn_param: dict[str, Any] = {"mode": "train"}
    L.batchnorm_forward(x, gamma, beta, bn_param)
    running = bn_param["running_mean"].copy()
    dout = r.standard_normal(x.shape)
    want = course_batchnorm_backward(dout, x, gamma)
    assert_all_close(L.batchnorm_backward(dout, (x, gamma, beta, bn_param)), want)
    assert_all_close(L.batchnorm_backward_alt(dout, (x, gamma, beta, bn_param)), want)
    np.testing.assert_array_equal(bn_param["running_mean"], running)  # not updated again
    test_param = {"mode": "test", "running_mean": running, "running_var": 1 + r.random(4)}
    dx, dgamma, dbeta = L.batchnorm_backward(dout, (x, gamma, beta, test_param))
    inv_std = 1 / np.sqrt(test_param["running_var"] + 1e-5)
    assert_all_close(dx, dout * gamma * inv_std)
    assert_all_close(dgamma, (dout * (x - running) * inv_std).sum(axis=0))
    xs = r.standard_normal((2, 4, 3, 3))
    ds = r.standard_normal(xs.shape)
    flat = xs.transpose(0, 2, 3, 1).reshape(-1, 4)
    dflat = ds.transpose(0, 2, 3, 1).reshape(-1, 4)
    fdx, fdg, fdb = course_batchnorm_backward(dflat, flat, gamma)
    assert_all_close(L.spatial_batchnorm_backward(ds, (xs, gamma, beta, {"mode": "train"})),
                     (fdx.reshape(2, 3, 3, 4).transpose(0, 3, 1, 2), fdg, fdb))


def test_layernorm_and_groupnorm_caches() -> None:
    r = rng(6)
    x = r.standard_normal((5, 6))
    gamma, beta = r.standard_normal(6), r.standard_normal(6)
    dout = r.standard_normal(x.shape)
    # layer norm is batch norm of x^T: the courses' closed form on the transpose
    dxt, _, _ = course_batchnorm_backward((dout * gamma).T, x.T, np.ones(5))
    xhat = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    assert_all_close(L.layernorm_backward(dout, (x, gamma, beta, {})),
                     (dxt.T, (dout * xhat).sum(axis=0), dout.sum(axis=0)))
    xg = r.standard_normal((2, 4, 3, 3))
    g4, b4 = r.standard_normal((1, 4, 1, 1)), r.standard_normal((1, 4, 1, 1))
    dg = r.standard_normal(xg.shape)
    _, ours = L.spatial_groupnorm_forward(xg, g4, b4, 2, {"eps": 1e-5})
    assert_all_close(L.spatial_groupnorm_backward(dg, (xg, g4, b4, 2, {"eps": 1e-5})),
                     L.spatial_groupnorm_backward(dg, ours))
    numeric = eval_numerical_gradient_array(
        lambda v: L.spatial_groupnorm_forward(v, g4, b4, 2, {})[0], xg, dg)
    assert rel_error(L.spatial_groupnorm_backward(dg, (xg, g4, b4, 2, {}))[0], numeric) < 1e-7


def test_dropout_course_cache() -> None:
    r = rng(7)
    dout = r.standard_normal((4, 5))
    mask = (r.random((4, 5)) < 0.6) / 0.6
    np.testing.assert_array_equal(L.dropout_backward(dout, ({"mode": "train", "p": 0.6}, mask)),
                                  dout * mask)
    np.testing.assert_array_equal(L.dropout_backward(dout, ({"mode": "test", "p": 0.6}, None)),
                                  dout)


# ----------------------------------------------------------------------------- errors


def test_bad_course_caches_name_the_backward_and_the_expected_tuple() -> None:
    dout = np.ones((2, 3))
    with pytest.raises(TypeError, match=r"affine_backward: cache must be the cache returned "
                       r"by affine_forward \(ours\) or the courses' tuple \(x, w, b\); got a "
                       r"tuple of 2 \(ndarray, ndarray\)"):
        L.affine_backward(dout, (np.ones((2, 4)), np.ones((4, 3))))
    with pytest.raises(TypeError, match=r"relu_backward: .* the courses' x \(the layer's input "
                       r"array\); got a tuple of 1"):
        L.relu_backward(dout, (np.ones((2, 3)),))
    with pytest.raises(TypeError, match=r"conv_backward: .* \(x, w, b, conv_param\); got a "
                       r"tuple of 4 \(ndarray, ndarray, ndarray, list\)"):
        L.conv_backward(dout, (np.ones(1), np.ones(1), np.ones(1), [1, 0]))
    with pytest.raises(TypeError, match=r"affine_relu_backward: .* the courses' \(fc_cache, "
                       r"relu_cache\); got an array of shape \(3,\)"):
        L.affine_relu_backward(dout, np.ones(3))
    with pytest.raises(TypeError, match=r"batchnorm_backward: .* \(x, gamma, beta, "
                       r"bn_param\)"):
        L.batchnorm_backward(dout, (np.ones((2, 3)), np.ones(3), np.ones(3)))
    with pytest.raises(TypeError, match=r"dropout_backward: .* \(dropout_param, mask\)"):
        L.dropout_backward(dout, (np.ones((2, 3)), {"mode": "train"}))
    with pytest.raises(ShapeError, match=r"dropout_backward: in 'train' mode the mask must "
                       r"have dout's shape \(2, 3\), got \(3, 2\)"):
        L.dropout_backward(dout, ({"mode": "train", "p": 0.5}, np.ones((3, 2))))
    with pytest.raises(ShapeError, match=r"affine_backward: dout has shape \(2, 4\) but "
                       r"affine_forward returned an output of shape \(2, 3\)"):
        L.affine_backward(np.ones((2, 4)), (np.ones((2, 4)), np.ones((4, 3)), np.ones(3)))


def test_naive_errors() -> None:
    x, w, b = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1)
    _, relu_cache = L.relu_forward(x)
    with pytest.raises(ValueError, match="conv_backward_naive: this cache comes from "
                       "relu_forward, not from conv_forward or conv_forward_naive"):
        L.conv_backward_naive(np.ones((1, 1, 2, 2)), relu_cache)
    _, cache = L.conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    with pytest.raises(ShapeError, match=r"conv_backward_naive: dout has shape \(1, 1, 3, 3\) "
                       r"but the forward's output has shape \(1, 1, 2, 2\)"):
        L.conv_backward_naive(np.ones((1, 1, 3, 3)), cache)
    with pytest.raises(TypeError, match=r"max_pool_backward_naive: cache must be the cache "
                       r"returned by max_pool_forward_naive or max_pool_forward \(ours\) or the "
                       r"courses' tuple \(x, pool_param\)"):
        L.max_pool_backward_naive(np.ones((1, 1, 1, 1)), (x,))
    with pytest.raises(KeyError, match="conv_forward_naive: conv_param is missing 'pad'"):
        L.conv_forward_naive(x, w, b, {"stride": 1})
    with pytest.raises(ShapeError, match="max_pool_forward_naive: the 4x4 pooling window"):
        L.max_pool_forward_naive(x, {"pool_height": 4, "pool_width": 4, "stride": 1})
