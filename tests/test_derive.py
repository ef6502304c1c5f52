"""check_derivation / check_jacobian / check_hessian: verdicts, diagnoses, paths, report
formats and error messages."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor, linalg
from tinygrad_edu.derive import (
    DerivationError,
    assert_derivation,
    check_derivation,
    check_hessian,
    check_jacobian,
)

RNG = np.random.default_rng(0)


def autoencoder(W, x):
    return 0.5 * ((W.T @ (W @ x) - x) ** 2).sum()


def autoencoder_grad(W, x):
    g = W.T @ W @ x - x
    return W @ x @ g.T + W @ g @ x.T if x.ndim == 2 else np.outer(W @ x, g) + np.outer(W @ g, x)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ----------------------------------------------------------------------------- correct claims


@given(m=st.integers(1, 3), extra=st.integers(1, 2), batch=st.sampled_from([None, 1, 3]),
       seed=st.integers(0, 2**16))
def test_autoencoder_closed_form_and_its_two_paths(m, extra, batch, seed):
    rng = np.random.default_rng(seed)
    n = m + extra
    W = rng.standard_normal((m, n))
    x = rng.standard_normal((n,) if batch is None else (n, batch))
    report = check_derivation(autoencoder, autoencoder_grad, W, x, wrt="W")
    assert report.ok, report
    paths = report["W"].paths
    assert len(paths) == 2
    g = W.T @ W @ x - x
    through_wx = (W @ g)[:, None] * x if batch is None else W @ g @ x.T
    through_wt = np.outer(W @ x, g) if batch is None else W @ x @ g.T
    by_op = {p.label.split()[0]: p.gradient for p in paths}
    np.testing.assert_allclose(by_op["MatMul"], through_wx, atol=1e-12)
    np.testing.assert_allclose(by_op["Permute"], through_wt, atol=1e-12)
    np.testing.assert_allclose(sum(p.gradient for p in paths), report["W"].autograd, atol=1e-12)


def test_report_fields_and_text():
    W, x = RNG.standard_normal((2, 4)), RNG.standard_normal(4)
    def both(W, x):
        return autoencoder_grad(W, x), (W.T @ W - np.eye(4)) @ (W.T @ W @ x - x)

    report = check_derivation(autoencoder, both, W, x)
    assert [r.name for r in report.inputs] == ["W", "x"]
    assert report.ok and bool(report)
    row = report["W"]
    assert row.verdict == "ok" and row.shape == (2, 4) and row.worst is not None
    assert row.max_abs_error < 1e-12 and row.rel_error < 1e-12
    assert row.claimed_at == pytest.approx(row.autograd_at)
    assert report.value == pytest.approx(autoencoder(Tensor(W), Tensor(x)).item())
    text = str(report)
    assert text.startswith("check_derivation of autoencoder at value")
    assert "OK" in text.splitlines()[0]
    for column in ("max abs err", "rel err", "worst", "claimed", "autograd", "numeric", "verdict"):
        assert column in text
    assert "its gradient is the sum of 2 paths" in text
    assert report[0] is row
    with pytest.raises(KeyError, match="no input named 'V'"):
        report["V"]


def test_html_report():
    report = check_derivation(lambda x: (x * x).sum(), lambda x: x, np.array([1.0, 2.0]))
    page = report._repr_html_()
    assert page.startswith("<div>") and "<table" in page and "WRONG" in page
    assert "autograd = 2 x claimed" in page
    assert "<b>check_derivation of f" in page


def test_scalar_inputs_python_floats_and_int_constants():
    def loss(s1, s2, k):
        z = tg.stack([s1, s2])
        return -z.log_softmax(-1)[k]

    def claimed(s1, s2, k):
        p = np.exp([s1, s2]) / np.exp([s1, s2]).sum()
        return p[0] - (k == 0), p[1] - (k == 1)

    report = check_derivation(loss, claimed, 0.3, -1.2, 1)
    assert report.ok, report
    assert [r.name for r in report.inputs] == ["s1", "s2"]
    assert report["s1"].shape == ()


def test_wrt_by_index_name_and_dict_claims():
    W, x = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    assert check_derivation(autoencoder, autoencoder_grad, W, x, wrt=0).ok
    both = check_derivation(autoencoder, lambda W, x: {"W": autoencoder_grad(W, x),
                                                       "x": (W.T @ W - np.eye(3)) @
                                                       (W.T @ W @ x - x)}, W, x)
    assert both.ok, both
    precomputed = check_derivation(autoencoder, autoencoder_grad(W, x), W, x, wrt=["W"])
    assert precomputed.ok


def test_tensor_names_label_the_inputs():
    a = Tensor(np.array([1.0, 2.0]), name="alpha")
    report = check_derivation(lambda *t: (t[0] ** 2).sum(), lambda v: 2 * v, a)
    assert report.inputs[0].name == "alpha"


def test_claimed_gets_copies_and_everything_is_float64():
    x = np.array([0.5, -1.0], dtype=np.float32)

    def claimed(v):
        v *= 0  # student code may overwrite what it is handed
        return np.exp(x.astype(np.float64))

    report = check_derivation(lambda t: (t.exp() * tg.tensor([1.0, 1.0])).sum(), claimed, x)
    assert report.ok, report
    assert report["t"].autograd.dtype == np.float64
    np.testing.assert_array_equal(x, [0.5, -1.0])


# ----------------------------------------------------------------------------- diagnoses


def test_missing_path_at_the_input_is_named_and_marked():
    W, x = RNG.standard_normal((3, 5)), RNG.standard_normal(5)

    def one_path(W, x):
        return np.outer(W @ (W.T @ W @ x - x), x)

    report = check_derivation(autoencoder, one_path, W, x, wrt="W")
    row = report["W"]
    assert row.verdict == "WRONG" and not report.ok
    assert any("missing path" in d and "Permute" in d for d in row.diagnosis)
    assert [p.matches_claimed for p in row.paths] == [p.label.startswith("MatMul")
                                                      for p in row.paths]


def test_constant_factor_names_the_batch_axis():
    y = np.eye(3)[[0, 2, 1, 1]]
    z = RNG.standard_normal((4, 3))

    def loss(z, y):
        return -(y * z.log_softmax(-1)).sum() / y.shape[0]

    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    report = check_derivation(loss, lambda z, y: p - y, z, y, wrt="z")
    (text,) = report["z"].diagnosis
    assert text.startswith("constant factor: autograd = 1/4 x claimed")
    assert "4 is the size of axis 0 of z" in text


def test_sign_flip():
    report = check_derivation(lambda x: x.exp().sum(), lambda x: -np.exp(x), np.ones(3))
    assert report["x"].diagnosis == ["sign flip: claimed = -autograd"]


def test_transpose_of_a_square_matrix():
    A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    report = check_derivation(lambda A: linalg.slogdet(A).logabsdet, np.linalg.inv, A)
    assert report["A"].diagnosis[0].startswith("transpose: claimed.T matches autograd")


def test_transposed_shape_is_wrong_even_with_right_values():
    X, W = RNG.standard_normal((4, 2)), RNG.standard_normal((3, 2))
    report = check_derivation(lambda W, X: (X @ W.T).sum(), lambda W, X: X.T @ np.ones((4, 3)),
                              W, X, wrt="W")
    row = report["W"]
    assert row.verdict == "WRONG"
    assert "transposed" in row.diagnosis[0] and "transpose: claimed.T matches" in row.diagnosis[1]


def test_reshaped_claim_has_the_shape_verdict():
    report = check_derivation(lambda b: (b * b).sum(), lambda b: (2 * b)[None, :], np.ones(3))
    assert report["b"].verdict == "SHAPE" and not report.ok


def test_missing_sum_over_the_batch_axis():
    X, b, dY = RNG.standard_normal((5, 3)), RNG.standard_normal(3), RNG.standard_normal((5, 3))
    report = check_derivation(lambda X, b, dY: ((X + b) * dY).sum(), lambda X, b, dY: dY,
                              X, b, dY, wrt="b")
    row = report["b"]
    assert np.isnan(row.max_abs_error) and row.worst is None
    assert "summed over axes (0,) it matches" in row.diagnosis[0]


def swish_loss(W1, b1, W2, x):
    z1 = W1 @ x + b1
    z1.name = "z1"
    return (W2 @ (z1 * z1.sigmoid())).sum()


def test_missing_path_at_an_interior_tensor():
    W1, b1 = RNG.standard_normal((3, 2)), RNG.standard_normal(3)
    W2, x = RNG.standard_normal((2, 3)), RNG.standard_normal(2)

    def gate_only(W1, b1, W2, x):  # swish'(z) taken as sigmoid(z)
        z1 = W1 @ x + b1
        return np.outer(sigmoid(z1) * W2.sum(0), x)

    report = check_derivation(swish_loss, gate_only, W1, b1, W2, x, wrt="W1")
    assert any("reaches z1 through Sigmoid" in d for d in report["W1"].diagnosis), report


def test_paths_held_constant():
    x, dy = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 2))

    def standardize(x, dy):
        mu = x.mean(axis=0)
        mu.name = "mu"
        xc = x - mu
        var = (xc * xc).mean(axis=0)
        var.name = "var"
        return (xc / (var + 1e-5).sqrt() * dy).sum()

    report = check_derivation(standardize, lambda x, dy: dy / np.sqrt(x.var(0) + 1e-5), x, dy,
                              wrt="x")
    assert any(d.startswith("missing paths: holding mu and var constant")
               for d in report["x"].diagnosis), report


def test_gradient_routed_to_fewer_elements():
    x = np.array([-1.0, 2.0, -3.0, 4.0])
    report = check_derivation(lambda x: x.relu().sum(), np.ones_like, x)
    assert "zero at 2 of 4 elements" in report["x"].diagnosis[0]


def test_no_simple_pattern():
    x = np.linspace(-2, 2, 5)
    report = check_derivation(lambda x: x.tanh().sum(), lambda x: 1 / (1 + np.exp(2 * x)), x)
    assert report["x"].diagnosis[0].startswith("no simple pattern")
    assert "matches autograd at 0 of 5 elements" in report["x"].diagnosis[0]


def test_zero_claims_and_zero_gradients():
    x = np.ones(3)
    zero_claim = check_derivation(lambda x: x.sum(), np.zeros_like, x)
    assert "claimed is zero" in zero_claim[0].diagnosis[0]
    report = check_derivation(lambda x, y: (y * 2).sum(), lambda x, y: (x, 2 * np.ones_like(y)),
                              x, x)
    assert "autograd's gradient is zero here" in report["x"].diagnosis[0]


class BadSquare(Function):
    """y = x^2 with a wrong backward (3x instead of 2x)."""

    def forward(self, x):
        return x * x

    def backward(self, grad):
        return grad * 3 * self.inputs[0]


def test_a_wrong_custom_backward_is_flagged():
    report = check_derivation(lambda x: BadSquare.apply(x).sum(), lambda x: 2 * x,
                              np.array([1.0, 2.0]))
    assert report["x"].verdict == "AUTOGRAD?"
    assert "autograd and the numeric estimate differ at 2 of 2" in str(report)


def test_a_kink_makes_the_verdict_unsure():
    report = check_derivation(lambda x: x.relu().sum(), np.zeros_like, np.array([0.0]))
    assert report["x"].verdict == "UNSURE"


# ----------------------------------------------------------------------------- jacobian / hessian


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_softmax_jacobian_and_the_boxed_mistake():
    z = RNG.standard_normal(4)
    good = check_jacobian(lambda z: z.softmax(-1), lambda z: np.diag(softmax(z)) - np.outer(
        softmax(z), softmax(z)), z)
    assert good.ok and good.kind == "jacobian" and good[0].shape == (4, 4)
    bad = check_jacobian(lambda z: z.softmax(-1),
                         lambda z: softmax(z)[:, None] * (np.eye(4) - softmax(z)[:, None]), z)
    text = "\n".join(bad[0].diagnosis)
    assert "the diagonal (i = j) entries match, the off-diagonal ones do not" in text
    assert "autograd's matrix is symmetric" in text


def test_jacobian_layout_mix_up_is_a_transpose():
    W, x = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    report = check_jacobian(lambda W, x: W @ x, lambda W, x: W.T, W, x, wrt="x")
    assert report["x"].verdict == "WRONG" and "transpose" in str(report)
    assert check_jacobian(lambda W, x: W @ x, lambda W, x: W, W, x, wrt="x").ok


def test_jacobian_for_several_inputs():
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    report = check_jacobian(lambda a, b: a * b, lambda a, b: (np.diag(b), np.diag(a)), a, b)
    assert report.ok, report


def test_hessian_of_a_quadratic_form():
    A, x = RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    f = lambda x, A: x @ (A @ x)  # noqa: E731
    assert check_hessian(f, lambda x, A: A + A.T, x, A, wrt="x").ok
    bad = check_hessian(f, lambda x, A: 2 * A, x, A, wrt="x")
    assert not bad.ok and "symmetric" in str(bad)


def test_second_derivative_of_a_scalar_function():
    report = check_hessian(lambda x: x**3, lambda x: 6 * x, 0.7)
    assert report.ok and report[0].shape == ()
    wrong = check_hessian(lambda x: x**3, lambda x: 3 * x**2, 0.7)
    assert not wrong.ok


def test_hessian_diagonal_of_an_elementwise_function():
    x = np.linspace(-2, 2, 5)
    s = sigmoid(x)
    assert check_hessian(lambda x: x.sigmoid().sum(), s * (1 - s) * (1 - 2 * s), x,
                         diagonal=True).ok


# ----------------------------------------------------------------------------- assert / errors


def test_assert_derivation_raises_with_the_report():
    x = np.array([1.0, 2.0])
    ok = assert_derivation(lambda x: (x * x).sum(), lambda x: 2 * x, x)
    assert ok.ok
    with pytest.raises(DerivationError, match=r"(?s)MISMATCH for x.*autograd = 2 x claimed"):
        assert_derivation(lambda x: (x * x).sum(), lambda x: x, x)
    with pytest.raises(AssertionError):
        tg.assert_derivation(lambda x: (x * x).sum(), lambda x: x, x)


def test_package_level_exports():
    assert tg.check_derivation is check_derivation


def test_error_messages():
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"^check_derivation: f must return a scalar; it "
                                         r"returned shape \(3,\)\. Use check_jacobian"):
        check_derivation(lambda x: x * 2, lambda x: x, x)
    with pytest.raises(TypeError, match=r"^check_derivation: f must return a Tensor, got float"):
        check_derivation(lambda x: 1.0, lambda x: x, x)
    with pytest.raises(ValueError, match=r"^check_derivation: expected 2 claimed gradients "
                                         r"\(for \['a', 'b'\]\), got 1"):
        check_derivation(lambda a, b: (a * b).sum(), lambda a, b: b, x, x)
    with pytest.raises(ValueError, match=r"^check_derivation: wrt='z' names no input; inputs "
                                         r"are \['a', 'k'\]"):
        check_derivation(lambda a, k: a.sum(), lambda a, k: a, x, 2, wrt="z")
    with pytest.raises(TypeError, match=r"^check_derivation: input 'k' is not floating point"):
        check_derivation(lambda a, k: a.sum(), lambda a, k: a, x, 2, wrt="k")
    with pytest.raises(ValueError, match=r"^check_derivation: no floating-point input"):
        check_derivation(lambda k: Tensor(1.0), lambda k: 0, 3)
    with pytest.raises(KeyError, match=r"check_derivation: the claimed gradient has no entry "
                                       r"for \['a'\]"):
        check_derivation(lambda a: a.sum(), lambda a: {"b": a}, x)
    with pytest.raises(ValueError, match=r"^check_hessian: f must return a scalar"):
        check_hessian(lambda a: a * 1.0, lambda a: a, x)
