"""The course layer functions (forward against plain-numpy references, backward against the
courses' numeric checker under random upstream gradients, in float64), their conventions
(relu'(0) = 0, SVM margins, pool ties, biased batchnorm variance and momentum, dropout's
keep probability), the ownership rules for student code, the numeric helpers, and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.course import layers as L
from tinygrad_edu.course.classifiers import softmax_loss_vectorized, svm_loss_vectorized
from tinygrad_edu.course.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
from tinygrad_edu.errors import ShapeError

TOL = 1e-6  # max elementwise relative error; a wrong gradient gives ~1e-1


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def check_backward(forward: Any, backward: Any, args: list[Any], diff: list[int],
                   seed: int = 0) -> np.ndarray:
    """backward's gradients vs eval_numerical_gradient_array for the inputs in `diff`."""
    out, cache = forward(*args)
    dout = rng(seed + 100).standard_normal(out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for k, i in enumerate(diff):
        def f(v: np.ndarray, i: int = i) -> np.ndarray:
            return forward(*[v if j == i else a for j, a in enumerate(args)])[0]

        numeric = eval_numerical_gradient_array(f, args[i], dout)
        assert grads[k].shape == args[i].shape
        # The courses' elementwise rel_error, on entries not dwarfed by the array's scale:
        # on a near-zero entry the central difference's own ~1e-10 error is all there is.
        scale = np.max(np.abs(numeric)) + 1e-12
        big = np.abs(numeric) > 1e-3 * scale
        assert rel_error(grads[k][big], numeric[big]) < TOL, (forward.__name__, i)
        assert np.max(np.abs(grads[k] - numeric)) < TOL * scale, (forward.__name__, i)
    return out


# ----------------------------------------------------------------------------- references


def naive_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int
               ) -> np.ndarray:
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = 1 + (h + 2 * pad - hh) // stride, 1 + (wd + 2 * pad - ww) // stride
    out = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w) + b
    return out


def naive_pool(x: np.ndarray, ph: int, pw: int, stride: int) -> np.ndarray:
    n, c, h, w = x.shape
    oh, ow = 1 + (h - ph) // stride, 1 + (w - pw) // stride
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + ph,
                                j * stride:j * stride + pw].max(axis=(2, 3))
    return out


def numpy_softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1
    return float(loss), p / n


def numpy_svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    n = len(y)
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    dx = (margins > 0).astype(float)
    dx[np.arange(n), y] = -dx.sum(axis=1)
    return float(margins.sum() / n), dx / n


# ----------------------------------------------------------------------------- affine / relu

dims = st.integers(1, 4)


@given(n=dims, shape=st.lists(dims, min_size=1, max_size=3), m=dims, seed=st.integers(0, 99))
def test_affine_forward_and_backward(n: int, shape: list[int], m: int, seed: int) -> None:
    r = rng(seed)
    x = r.standard_normal((n, *shape))
    w = r.standard_normal((int(np.prod(shape)), m))
    b = r.standard_normal(m)
    out = check_backward(L.affine_forward, L.affine_backward, [x, w, b], [0, 1, 2], seed)
    assert rel_error(out, x.reshape(n, -1) @ w + b) < 1e-12


def test_relu_and_affine_relu() -> None:
    r = rng(1)
    x = r.standard_normal((4, 5))
    out = check_backward(L.relu_forward, L.relu_backward, [x], [0])
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    w, b = r.standard_normal((5, 3)), r.standard_normal(3)
    out = check_backward(L.affine_relu_forward, L.affine_relu_backward, [x, w, b], [0, 1, 2])
    np.testing.assert_allclose(out, np.maximum(x @ w + b, 0), rtol=1e-12)


def test_relu_derivative_at_zero_is_zero() -> None:
    x = np.array([[-1.0, 0.0, 2.0]])
    _, cache = L.relu_forward(x)
    np.testing.assert_array_equal(L.relu_backward(np.array([[5.0, 5.0, 5.0]]), cache),
                                  [[0.0, 0.0, 5.0]])


# ----------------------------------------------------------------------------- conv / pool


@given(n=st.integers(1, 2), c=st.integers(1, 2), f=st.integers(1, 3), size=st.integers(3, 6),
       k=st.sampled_from([1, 2, 3]), stride=st.integers(1, 2), pad=st.integers(0, 1),
       seed=st.integers(0, 99))
def test_conv_forward_and_backward(n: int, c: int, f: int, size: int, k: int, stride: int,
                                   pad: int, seed: int) -> None:
    r = rng(seed)
    x, w, b = r.standard_normal((n, c, size, size + 1)), r.standard_normal((f, c, k, k)), \
        r.standard_normal(f)
    cp = {"stride": stride, "pad": pad}
    out = check_backward(lambda x, w, b: L.conv_forward(x, w, b, cp), L.conv_backward,
                         [x, w, b], [0, 1, 2], seed)
    np.testing.assert_allclose(out, naive_conv(x, w, b, stride, pad), rtol=1e-10, atol=1e-12)


def test_conv_course_shapes_and_aliases() -> None:
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = L.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    assert out.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(out, naive_conv(x, w, b, 2, 1), rtol=1e-12)
    # the fast names are the engine's layers; the naive ones are separate loops
    assert L.conv_forward_fast is L.conv_forward and L.max_pool_backward_fast is \
        L.max_pool_backward
    assert L.conv_forward_naive is not L.conv_forward


@given(ph=st.integers(1, 3), pw=st.integers(1, 3), stride=st.integers(1, 3),
       seed=st.integers(0, 99))
def test_max_pool_forward_and_backward(ph: int, pw: int, stride: int, seed: int) -> None:
    x = rng(seed).standard_normal((2, 2, 5, 6))
    pp = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out = check_backward(lambda x: L.max_pool_forward(x, pp), L.max_pool_backward, [x], [0],
                         seed)
    np.testing.assert_array_equal(out, naive_pool(x, ph, pw, stride))


def test_max_pool_ties_share_the_gradient() -> None:
    x = np.ones((1, 1, 2, 2))
    _, cache = L.max_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    np.testing.assert_allclose(L.max_pool_backward(np.full((1, 1, 1, 1), 4.0), cache),
                               np.ones((1, 1, 2, 2)))


def test_conv_relu_and_conv_relu_pool() -> None:
    r = rng(3)
    x, w, b = r.standard_normal((2, 3, 6, 6)), r.standard_normal((4, 3, 3, 3)), \
        r.standard_normal(4)
    cp, pp = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    out = check_backward(lambda x, w, b: L.conv_relu_forward(x, w, b, cp),
                         L.conv_relu_backward, [x, w, b], [0, 1, 2])
    np.testing.assert_allclose(out, np.maximum(naive_conv(x, w, b, 1, 1), 0), atol=1e-12)
    out = check_backward(lambda x, w, b: L.conv_relu_pool_forward(x, w, b, cp, pp),
                         L.conv_relu_pool_backward, [x, w, b], [0, 1, 2])
    np.testing.assert_allclose(out, naive_pool(np.maximum(naive_conv(x, w, b, 1, 1), 0), 2,
                                               2, 2), atol=1e-12)


# ----------------------------------------------------------------------------- losses


@given(n=st.integers(1, 6), c=st.integers(2, 6), seed=st.integers(0, 99))
def test_softmax_and_svm_losses(n: int, c: int, seed: int) -> None:
    r = rng(seed)
    x, y = r.standard_normal((n, c)), r.integers(0, c, n)
    for ours, ref in ((L.softmax_loss, numpy_softmax_loss), (L.svm_loss, numpy_svm_loss)):
        loss, dx = ours(x, y)
        want_loss, want_dx = ref(x, y)
        assert isinstance(loss, float)
        assert abs(loss - want_loss) < 1e-12
        np.testing.assert_allclose(dx, want_dx, atol=1e-14)


def test_losses_on_tiny_scores_and_svm_zero_margin() -> None:
    x = 1e-3 * rng(4).standard_normal((50, 10))
    y = rng(5).integers(0, 10, 50)
    assert abs(L.softmax_loss(x, y)[0] - np.log(10)) < 1e-2
    assert abs(L.svm_loss(x, y)[0] - 9.0) < 0.1   # summed over classes, not divided by C
    # margin s_j - s_y + 1 exactly 0 passes no gradient (the courses' margins > 0)
    _, dx = L.svm_loss(np.array([[0.0, -1.0, 0.5]]), np.array([0]))
    np.testing.assert_array_equal(dx, [[-1.0, 0.0, 1.0]])


def test_linear_classifier_losses_match_loops() -> None:
    r = rng(6)
    W, X, y, reg = 1e-2 * r.standard_normal((7, 4)), r.standard_normal((9, 7)), \
        r.integers(0, 4, 9), 0.1
    for fn, ref in ((svm_loss_vectorized, numpy_svm_loss),
                    (softmax_loss_vectorized, numpy_softmax_loss)):
        loss, dW = fn(W, X, y, reg)
        data_loss, dscores = ref(X @ W, y)
        assert abs(loss - (data_loss + reg * np.sum(W * W))) < 1e-12
        np.testing.assert_allclose(dW, X.T @ dscores + 2 * reg * W, atol=1e-13)


# ----------------------------------------------------------------------------- normalization


def test_batchnorm_train_forward_running_stats_and_backward() -> None:
    r = rng(7)
    x = 3 + 5 * r.standard_normal((20, 4))
    gamma, beta = r.standard_normal(4), r.standard_normal(4)
    bn_param: dict[str, Any] = {"mode": "train", "momentum": 0.8}
    out, _ = L.batchnorm_forward(x, gamma, beta, bn_param)
    mu, var = x.mean(axis=0), x.var(axis=0)   # biased, as the courses
    np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(var + 1e-5) + beta, atol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], 0.2 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.2 * var, rtol=1e-12)
    check_backward(lambda x, g, b: L.batchnorm_forward(x, g, b, {"mode": "train"}),
                   L.batchnorm_backward, [x, gamma, beta], [0, 1, 2])
    _, cache = L.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = r.standard_normal(x.shape)
    for a, b in zip(L.batchnorm_backward(dout, cache), L.batchnorm_backward_alt(dout, cache)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_batchnorm_test_mode_uses_running_stats() -> None:
    r = rng(8)
    x, gamma, beta = r.standard_normal((6, 3)), r.standard_normal(3), r.standard_normal(3)
    rm, rv = r.standard_normal(3), 1 + r.random(3)
    bn = {"mode": "test", "running_mean": rm, "running_var": rv, "eps": 1e-3}
    out, _ = L.batchnorm_forward(x, gamma, beta, bn)
    np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + 1e-3) + beta, atol=1e-12)
    check_backward(lambda x, g, b: L.batchnorm_forward(x, g, b, dict(bn)),
                   L.batchnorm_backward, [x, gamma, beta], [0, 1, 2])


def test_spatial_batchnorm_layernorm_groupnorm() -> None:
    r = rng(9)
    x = 2 + 3 * r.standard_normal((3, 4, 3, 2))
    g, b = r.standard_normal(4), r.standard_normal(4)
    out = check_backward(lambda x, g, b: L.spatial_batchnorm_forward(x, g, b, {"mode": "train"}),
                         L.spatial_batchnorm_backward, [x, g, b], [0, 1, 2])
    mu, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    want = (x - mu) / np.sqrt(var + 1e-5) * g.reshape(1, 4, 1, 1) + b.reshape(1, 4, 1, 1)
    np.testing.assert_allclose(out, want, atol=1e-12)
    x2, g2, b2 = r.standard_normal((5, 6)), r.standard_normal(6), r.standard_normal(6)
    out = check_backward(lambda x, g, b: L.layernorm_forward(x, g, b, {}),
                         L.layernorm_backward, [x2, g2, b2], [0, 1, 2])
    want = (x2 - x2.mean(1, keepdims=True)) / np.sqrt(x2.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, want * g2 + b2, atol=1e-12)
    g4, b4 = r.standard_normal((1, 4, 1, 1)), r.standard_normal((1, 4, 1, 1))
    out = check_backward(lambda x, g, b: L.spatial_groupnorm_forward(x, g, b, 2, {}),
                         L.spatial_groupnorm_backward, [x, g4, b4], [0, 1, 2])
    grouped = x.reshape(3, 2, 2, 3, 2)
    mu, var = grouped.mean(axis=(2, 3, 4), keepdims=True), grouped.var(axis=(2, 3, 4),
                                                                       keepdims=True)
    want = ((grouped - mu) / np.sqrt(var + 1e-5)).reshape(x.shape) * g4 + b4
    np.testing.assert_allclose(out, want, atol=1e-12)


def test_dropout_p_is_the_keep_probability() -> None:
    x = np.ones((400, 500))
    out, cache = L.dropout_forward(x, {"p": 0.3, "mode": "train", "seed": 5})
    kept = out != 0
    assert abs(kept.mean() - 0.3) < 0.01          # p = 0.3 keeps 30%, not 70%
    np.testing.assert_allclose(out[kept], 1 / 0.3)  # inverted dropout: E[out] = x
    # the same mask a student draws with np.random.seed(seed); np.random.rand(...) < p
    expected = (np.random.RandomState(5).rand(400, 500) < 0.3) / 0.3
    np.testing.assert_array_equal(cache.mask, expected)
    dout = rng(10).standard_normal(x.shape)
    np.testing.assert_array_equal(L.dropout_backward(dout, cache), dout * expected)
    x = rng(11).standard_normal((5, 6))
    check_backward(lambda x: L.dropout_forward(x, {"p": 0.6, "mode": "train", "seed": 1}),
                   L.dropout_backward, [x], [0])
    out, cache = L.dropout_forward(x, {"p": 0.6, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(L.dropout_backward(dout[:5, :6], cache), dout[:5, :6])


def test_dropout_without_seed_draws_new_masks() -> None:
    x = np.ones((50, 50))
    a, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train"})
    b, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train"})
    assert not np.array_equal(a, b)


# ----------------------------------------------------------------------------- ownership


def test_student_code_cannot_corrupt_the_cache() -> None:
    r = rng(12)
    x, w, b = r.standard_normal((3, 4)), r.standard_normal((4, 2)), r.standard_normal(2)
    out, cache = L.affine_relu_forward(x, w, b)
    dout = r.standard_normal(out.shape)
    expected = L.affine_relu_backward(dout.copy(), cache)
    x[:] = 0.0       # the caller reuses its arrays
    w *= 3
    out[:] = 7.0     # and writes into the output
    got = L.affine_relu_backward(dout, cache)   # backward twice through one cache
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
    got[0][:] = 1.0  # a returned gradient is the caller's own
    np.testing.assert_array_equal(L.affine_relu_backward(dout, cache)[1], expected[1])
    dout_before = dout.copy()
    _, cache = L.dropout_forward(dout, {"p": 1.0, "mode": "test"})
    dx = L.dropout_backward(dout, cache)
    dx[:] = 0.0
    np.testing.assert_array_equal(dout, dout_before)
    xs, ws, bs = cache_inputs = L.affine_forward(np.ones((2, 3)), np.ones((3, 1)),
                                                 np.zeros(1))[1]
    assert xs.shape == (2, 3) and ws.shape == (3, 1) and bs.shape == (1,)
    with pytest.raises(ValueError, match="read-only"):
        xs[0, 0] = 5.0
    assert "affine_forward" in repr(cache_inputs)


# ----------------------------------------------------------------------------- numeric helpers


def test_eval_numerical_gradient_in_place_protocol() -> None:
    params = {"W": rng(13).standard_normal((3, 2))}
    X = rng(14).standard_normal((4, 3))

    def loss(_: np.ndarray) -> float:   # reads W through the dict, as the courses' checks
        return float(np.sum((X @ params["W"]) ** 2))

    before = params["W"].copy()
    grad = eval_numerical_gradient(loss, params["W"], verbose=False)
    np.testing.assert_allclose(grad, 2 * X.T @ (X @ before), rtol=1e-7)
    np.testing.assert_array_equal(params["W"], before)   # restored


def test_checkers_pass_copies_and_restore_on_error() -> None:
    x = rng(15).standard_normal((3, 4))

    def relu_in_place(v: np.ndarray) -> np.ndarray:
        v[v < 0] = 0   # a student's forward that overwrites its input
        return v

    df = rng(16).standard_normal(x.shape)
    numeric = eval_numerical_gradient_array(relu_in_place, x, df)
    np.testing.assert_allclose(numeric, df * (x > 0), atol=1e-8)

    def scalar_in_place(v: np.ndarray) -> float:
        v *= 2
        return float(np.sum(v))

    np.testing.assert_allclose(eval_numerical_gradient(scalar_in_place, x, verbose=False),
                               np.full(x.shape, 2.0), rtol=1e-8)
    before = x.copy()

    def boom(v: np.ndarray) -> float:
        raise RuntimeError("student bug")

    with pytest.raises(RuntimeError, match="student bug"):
        eval_numerical_gradient_array(boom, x, df)
    np.testing.assert_array_equal(x, before)


def test_eval_numerical_gradient_prints_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    eval_numerical_gradient(lambda v: float(np.sum(v * v)), np.array([1.0, 2.0]))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("(0,) 2.0") and lines[1].startswith("(1,) 4.0")


def test_grad_check_sparse(capsys: pytest.CaptureFixture[str]) -> None:
    x = rng(17).standard_normal((5, 4))
    errors = grad_check_sparse(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2, num_checks=6,
                               seed=0)
    assert len(errors) == 6 and max(errors) < 1e-8
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[0].startswith("numerical: ")
    assert "relative error: " in lines[0]
    wrong = grad_check_sparse(lambda v: float(np.sum(v ** 3)), x, 2 * x ** 2, num_checks=3,
                              seed=0)
    assert min(wrong) > 0.1
    assert grad_check_sparse(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2, 4, seed=3) == \
        grad_check_sparse(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2, 4, seed=3)


def test_rel_error() -> None:
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    assert rel_error(0.0, 0.0) == 0.0                              # the 1e-8 floor
    assert rel_error(1e-9, 0.0) == pytest.approx(0.1)
    assert rel_error(np.array([2.0, 2.0]), 2.0) == 0.0             # scalar broadcast
    with pytest.raises(ShapeError, match=r"rel_error: shapes \(3,\) and \(3, 1\)"):
        rel_error(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ShapeError, match="do not broadcast"):
        rel_error(np.zeros(3), np.zeros(4))


# ----------------------------------------------------------------------------- errors


def test_error_messages() -> None:
    x, w, b = np.zeros((2, 3, 4)), np.zeros((10, 5)), np.zeros(5)
    with pytest.raises(ShapeError, match=r"affine_forward: x of shape \(2, 3, 4\) has D = 12 "
                       r".* w must be \(12, M\); got w of shape \(10, 5\)"):
        L.affine_forward(x, w, b)
    with pytest.raises(ShapeError, match=r"affine_forward: b must have shape \(5,\)"):
        L.affine_forward(np.zeros((2, 10)), w, np.zeros(4))
    x4, w4, b4 = np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)), np.zeros(2)
    with pytest.raises(ShapeError, match="conv_forward: x .* has C = 3 channels but w"):
        L.conv_forward(x4, w4, b4, {"stride": 1, "pad": 0})
    with pytest.raises(KeyError, match=r"conv_forward: conv_param is missing 'pad'"):
        L.conv_forward(x4, np.zeros((2, 3, 3, 3)), b4, {"stride": 1})
    with pytest.raises(ValueError, match=r"conv_forward: conv_param\['stride'\] must be a "
                       "positive int, got 0"):
        L.conv_forward(x4, np.zeros((2, 3, 3, 3)), b4, {"stride": 0, "pad": 0})
    with pytest.raises(ShapeError, match="max_pool_forward: the 6x2 pooling window is larger"):
        L.max_pool_forward(x4, {"pool_height": 6, "pool_width": 2, "stride": 1})
    with pytest.raises(ShapeError, match=r"softmax_loss: y must be labels of shape \(2,\)"):
        L.softmax_loss(np.zeros((2, 3)), np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="svm_loss: y must hold integer class labels"):
        L.svm_loss(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"softmax_loss: labels must be in \[0, 3\)"):
        L.softmax_loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="batchnorm_forward: bn_param\\['mode'\\] must be "
                       "'train' or 'test', got 'eval'"):
        L.batchnorm_forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), {"mode": "eval"})
    with pytest.raises(ShapeError, match=r"batchnorm_forward: gamma must have shape \(3,\)"):
        L.batchnorm_forward(np.zeros((2, 3)), np.ones(4), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="dropout_forward: dropout_param\\['p'\\] is the "
                       "probability of keeping"):
        L.dropout_forward(np.zeros(3), {"p": 0.0, "mode": "train"})
    with pytest.raises(TypeError, match="affine_forward: x must be a numeric array"):
        L.affine_forward(np.array([["a"]]), np.zeros((1, 1)), np.zeros(1))


def test_backward_errors() -> None:
    out, cache = L.relu_forward(np.ones((2, 2)))
    with pytest.raises(TypeError, match="affine_backward: cache must be the cache returned "
                       "by affine_forward"):
        L.affine_backward(out, (1, 2, 3))
    with pytest.raises(ValueError, match="affine_backward: this cache comes from "
                       "relu_forward, not from affine_forward"):
        L.affine_backward(out, cache)
    with pytest.raises(ShapeError, match=r"relu_backward: dout has shape \(3,\) but "
                       r"relu_forward returned an output of shape \(2, 2\)"):
        L.relu_backward(np.ones(3), cache)
    with pytest.raises(AttributeError, match="has no 'mask'"):
        _ = cache.mask
    with pytest.raises(ShapeError, match=r"eval_numerical_gradient_array: f returned shape "
                       r"\(2,\) but df has shape \(3,\)"):
        eval_numerical_gradient_array(lambda v: v, np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="eval_numerical_gradient: x must be a floating-point"):
        eval_numerical_gradient(lambda v: 0.0, np.ones(2, dtype=int))
