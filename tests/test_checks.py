"""Hand-written backward passes (course style) checked against autograd: layer functions
with caches, (loss, grad) functions, CS189 layer, activation and loss objects."""

import numpy as np
import pytest

import tinygrad_edu.nn.functional as F
from tinygrad_edu.checks import check_backward, check_layer, check_loss, check_loss_layer

RNG = np.random.default_rng(0)


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def affine_reference(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


X, W, B = RNG.standard_normal((4, 2, 3)), RNG.standard_normal((6, 5)), RNG.standard_normal(5)


def test_affine_backward_matches():
    report = check_backward(affine_forward, affine_backward, affine_reference, X, W, B)
    assert report.ok, report
    assert [r.name for r in report.inputs] == ["x", "w", "b"]
    assert report.claim_label == "hand-written" and "hand-written" in str(report)
    assert max(r.rel_error for r in report.inputs) < 1e-12


def test_a_backward_that_forgets_the_bias_sum():
    def no_sum(dout, cache):
        dx, dw, _ = affine_backward(dout, cache)
        return dx, dw, dout

    report = check_backward(affine_forward, no_sum, affine_reference, X, W, B)
    assert [r.verdict for r in report.inputs] == ["ok", "ok", "WRONG"]
    assert "sum over the broadcast (batch) axes is missing" in report["b"].diagnosis[0]


def test_a_backward_that_ignores_its_upstream_gradient_is_caught():
    def ones_upstream(dout, cache):
        return affine_backward(np.ones_like(dout), cache)

    report = check_backward(affine_forward, ones_upstream, affine_reference, X, W, B)
    assert not report.ok  # dout is random: ones would have hidden this


def test_code_that_overwrites_what_it_is_handed_is_checked_on_copies():
    def relu_forward(x):
        out = x
        out[out < 0] = 0  # overwrites its input
        return out, out

    def relu_backward(dout, cache):
        dout[cache <= 0] = 0  # overwrites the upstream gradient
        return dout

    x = RNG.standard_normal((3, 4))
    before = x.copy()
    report = check_backward(relu_forward, relu_backward, lambda x: x.relu(), x)
    assert report.ok, report
    np.testing.assert_array_equal(x, before)


def test_settings_dicts_pass_through_and_get_no_gradient():
    def scale_forward(x, w, param):
        return param["scale"] * x * w, (x, w, param)

    def scale_backward(dout, cache):
        x, w, param = cache
        return param["scale"] * dout * w, param["scale"] * dout * x

    x, w = RNG.standard_normal(4), RNG.standard_normal(4)
    report = check_backward(scale_forward, scale_backward,
                            lambda x, w, param: param["scale"] * x * w, x, w, {"scale": 3.0})
    assert report.ok and [r.name for r in report.inputs] == ["x", "w"]
    only_w = check_backward(scale_forward, scale_backward,
                            lambda x, w, param: param["scale"] * x * w, x, w, {"scale": 3.0},
                            wrt="w")
    assert [r.name for r in only_w.inputs] == ["w"] and only_w.ok


def test_a_forward_that_differs_from_the_reference_fails_the_report():
    def twice_forward(x):
        return 2 * x, None

    report = check_backward(twice_forward, lambda dout, cache: 2 * dout, lambda x: 3 * x,
                            RNG.standard_normal(3))
    assert not report.ok
    assert "forward: the hand-written output differs from the reference's" in str(report)
    # the backward is consistent with its own forward: numeric agrees with it, not autograd
    assert report[0].verdict == "AUTOGRAD?"


def softmax_loss(x, y, forget_mean=False):
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean()
    dx = p.copy()
    dx[np.arange(n), y] -= 1
    return loss, dx if forget_mean else dx / n


def test_check_loss_with_integer_labels():
    x, y = RNG.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])
    assert check_loss(softmax_loss, lambda x, y: F.cross_entropy(x, y), x, y).ok
    bad = check_loss(lambda x, y: softmax_loss(x, y, forget_mean=True),
                     lambda x, y: F.cross_entropy(x, y), x, y)
    assert bad[0].diagnosis[0].startswith("constant factor: autograd = 1/5 x hand-written")


def test_check_loss_for_a_weight_matrix():
    def softmax_loss_vectorized(W, X, y, reg):
        loss, dscores = softmax_loss(X @ W, y)
        return loss + reg * np.sum(W * W), X.T @ dscores + 2 * reg * W

    W0, X0, y = RNG.standard_normal((4, 3)), RNG.standard_normal((6, 4)), RNG.integers(0, 3, 6)
    report = check_loss(softmax_loss_vectorized,
                        lambda W, X, y, reg: F.cross_entropy(X @ W, y) + reg * (W * W).sum(),
                        W0, X0, y, 0.1)
    assert report.ok and [r.name for r in report.inputs] == ["W"]


class FullyConnected:
    """CS189 style: parameters created at the first forward (n_in learned from X)."""

    def __init__(self, n_out):
        self.n_out, self.n_in = n_out, None
        self.parameters, self.gradients = {}, {}

    def forward(self, X):
        if self.n_in is None:
            self.n_in = X.shape[1]
            rng = np.random.default_rng(1)
            self.parameters = {"W": rng.standard_normal((self.n_in, self.n_out)),
                               "b": np.zeros((1, self.n_out))}
        self.X = X
        return X @ self.parameters["W"] + self.parameters["b"]

    def backward(self, dLdY):
        self.gradients = {"W": self.X.T @ dLdY, "b": dLdY.sum(axis=0, keepdims=True)}
        return dLdY @ self.parameters["W"].T


def test_layer_object_with_lazy_parameters():
    layer = FullyConnected(3)
    report = check_layer(layer, lambda X, W, b: X @ W + b, RNG.standard_normal((4, 5)))
    assert report.ok, report
    assert [r.name for r in report.inputs] == ["X", "W", "b"]
    assert report["b"].shape == (1, 3)


def test_layer_parameters_are_restored():
    layer = FullyConnected(2)
    X0 = RNG.standard_normal((3, 4))
    layer.forward(X0)
    W_before = layer.parameters["W"]
    values = W_before.copy()
    check_layer(layer, lambda X, W, b: X @ W + b, X0)
    assert layer.parameters["W"] is W_before
    np.testing.assert_array_equal(W_before, values)


def test_layer_with_a_wrong_weight_gradient():
    class Transposed(FullyConnected):
        def backward(self, dLdY):
            dX = super().backward(dLdY)
            self.gradients["W"] = (self.X.T @ dLdY).T
            return dX

    report = check_layer(Transposed(4), lambda X, W, b: X @ W + b, RNG.standard_normal((3, 4)))
    assert report["W"].verdict == "WRONG" and "transpose" in str(report)


def test_layer_without_a_gradient_entry():
    class Forgetful(FullyConnected):
        def backward(self, dLdY):
            dX = super().backward(dLdY)
            del self.gradients["b"]
            return dX

    with pytest.raises(KeyError, match="check_layer: layer.gradients has no entry 'b'"):
        check_layer(Forgetful(2), lambda X, W, b: X @ W + b, RNG.standard_normal((3, 2)))


class Sigmoid:
    def forward(self, Z):
        return 1 / (1 + np.exp(-Z))

    def backward(self, Z, dY):
        s = self.forward(Z)
        return dY * s * (1 - s)


def test_activation_object_with_backward_of_z_and_dy():
    report = check_layer(Sigmoid(), lambda Z: Z.sigmoid(), RNG.standard_normal((3, 4)))
    assert report.ok and [r.name for r in report.inputs] == ["Z"]


class CrossEntropy:
    def __init__(self, forget_mean=False):
        self.forget_mean = forget_mean

    def forward(self, Y, Y_hat):
        return -np.sum(Y * np.log(Y_hat)) / Y.shape[0]

    def backward(self, Y, Y_hat):
        return -Y / Y_hat / (1 if self.forget_mean else Y.shape[0])


def test_loss_object_target_first():
    Y = np.eye(3)[[0, 2, 1, 1]]
    Y_hat = RNG.dirichlet(np.ones(3), 4)

    def reference(Y, Y_hat):
        return -(Y * Y_hat.log()).sum() / Y.shape[0]

    assert check_loss_layer(CrossEntropy(), reference, Y, Y_hat).ok
    bad = check_loss_layer(CrossEntropy(forget_mean=True), reference, Y, Y_hat)
    assert "autograd = 1/4 x hand-written" in bad["Y_hat"].diagnosis[0]


def test_error_messages():
    with pytest.raises(TypeError, match=r"^check_backward: forward must return \(out, cache\), "
                                        r"got ndarray"):
        check_backward(lambda x: 2 * x, lambda d, c: d, lambda x: 2 * x, np.ones(2))
    with pytest.raises(ValueError, match=r"^check_backward: backward returned 1 gradient\(s\) but "
                                         r"3 input\(s\) are differentiated"):
        check_backward(affine_forward, lambda d, c: d, affine_reference, X, W, B)
    with pytest.raises(ValueError, match=r"^check_backward: dout has shape \(2,\) but the "
                                         r"reference output has shape \(4, 5\)"):
        check_backward(affine_forward, affine_backward, affine_reference, X, W, B,
                       dout=np.ones(2))
    with pytest.raises(TypeError, match=r"^check_backward: reference must return a Tensor"):
        check_backward(affine_forward, affine_backward, lambda x, w, b: 1.0, X, W, B)
    with pytest.raises(TypeError, match=r"^check_loss: loss_fn must return \(loss, gradient"):
        check_loss(lambda x: 1.0, lambda x: x.sum(), np.ones(2))


def test_missing_path_search_uses_the_random_upstream_gradient():
    def standardize_forward(x):
        mu, sigma = x.mean(0), x.std(0)
        return (x - mu) / sigma, sigma

    def constants_backward(dout, sigma):  # mean and std treated as constants
        return dout / sigma

    def reference(x):
        mu = x.mean(axis=0)
        mu.name = "mu"
        xc = x - mu
        var = (xc * xc).mean(axis=0)
        var.name = "var"
        return xc / var.sqrt()

    report = check_backward(standardize_forward, constants_backward, reference,
                            RNG.standard_normal((5, 2)))
    assert any(d.startswith("missing paths: holding mu and var constant")
               for d in report["x"].diagnosis), report
