"""The course models: shapes and names, values and gradients against the courses' numpy
formulas and numeric gradients (float64), the courses' sanity checks, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Tensor, no_grad
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.gradcheck import numerical_grad, rel_error
from tinygrad_edu.models import MLP, FullyConnectedNet, SmallConvNet, TwoLayerNet
from tinygrad_edu.nn import Linear, Module, ReLU, Sequential, Tanh
from tinygrad_edu.testing import assert_close


def numeric_param_grads(model: Any, X: np.ndarray, y: np.ndarray, h: float = 1e-5
                        ) -> dict[str, np.ndarray]:
    """Central differences of model.loss(X, y) in every element of every course parameter
    (each array is perturbed in place and restored)."""
    out = {}
    with no_grad():
        for name, p in model.params.items():
            out[name] = numerical_grad(lambda _: model.loss(X, y).item(), p.numpy(), h=h)
    return out


def norm_rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def graph_module_paths(out: Tensor) -> set[str]:
    seen, stack, paths = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        paths.add(node.module_path)
        stack.extend(t._ctx for t in node.inputs)
    return paths


# ----------------------------------------------------------------------------- TwoLayerNet


def toy_two_layer(reg: float = 0.05) -> tuple[TwoLayerNet, np.ndarray, np.ndarray]:
    """The course's toy problem: 5 examples, 4 features, 10 hidden units, 3 classes."""
    rng = np.random.default_rng(1)
    X = 10 * rng.standard_normal((5, 4))
    y = np.array([0, 1, 2, 2, 1])
    return TwoLayerNet(4, 10, 3, std=1e-1, reg=reg, seed=0), X, y


def course_two_layer(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray,
                     X: np.ndarray, y: np.ndarray, reg: float
                     ) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """Scores, loss and gradients the way the course derives them by hand."""
    n = X.shape[0]
    h = X @ W1.T + b1
    a = np.maximum(h, 0)
    scores = a @ W2.T + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean() + 0.5 * reg * ((W1**2).sum() + (W2**2).sum())
    ds = p.copy()
    ds[np.arange(n), y] -= 1
    ds /= n
    da = ds @ W2
    dh = da * (h > 0)
    grads = {"W1": dh.T @ X + reg * W1, "b1": dh.sum(axis=0), "W2": ds.T @ a + reg * W2,
             "b2": ds.sum(axis=0)}
    return scores, float(loss), grads


def test_two_layer_net_has_the_course_shapes_names_and_init() -> None:
    net = TwoLayerNet(input_dim=6, hidden_dim=5, num_classes=3, std=1e-2, seed=7)
    assert isinstance(net, Module)
    assert list(net.state_dict()) == ["W1", "b1", "W2", "b2"]
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (5, 6), "b1": (5,), "W2": (3, 5), "b2": (3,)}
    rng = np.random.default_rng(7)
    assert_close(net.W1, 1e-2 * rng.standard_normal((5, 6)))
    assert_close(net.W2, 1e-2 * rng.standard_normal((3, 5)))
    assert not net.b1.numpy().any() and not net.b2.numpy().any()
    assert net.W1.dtype == np.float64
    assert_close(TwoLayerNet(6, 5, 3, std=1e-2, seed=7).W1, net.W1)
    assert not np.allclose(TwoLayerNet(6, 5, 3, std=1e-2, seed=8).W1.numpy(), net.W1.numpy())
    assert "W1 (5, 6)" in repr(net) and "53 params" in repr(net)


def test_two_layer_net_scores_loss_and_gradients_are_the_courses() -> None:
    net, X, y = toy_two_layer()
    arrays = {k: v.numpy().copy() for k, v in net.params.items()}
    scores, loss, grads = course_two_layer(arrays["W1"], arrays["b1"], arrays["W2"],
                                           arrays["b2"], X, y, reg=0.05)
    assert_close(net.loss(X), scores, rtol=1e-12)
    assert_close(net(Tensor(X)), scores, rtol=1e-12)
    out = net.loss(X, y)
    assert out.item() == pytest.approx(loss, rel=1e-12)
    out.backward()
    for name, p in net.params.items():
        assert p.grad is not None
        assert rel_error(p.grad, grads[name]) < 1e-12, name


def test_two_layer_net_gradients_match_numeric_to_1e_8() -> None:
    net, X, y = toy_two_layer()
    loss, grads = net.loss_and_grads(X, y)
    assert all(p.grad is None for p in net.parameters())  # loss_and_grads leaves .grad alone
    assert loss == pytest.approx(net.loss(X, y).item())
    numeric = numeric_param_grads(net, X, y)
    for name in ("W1", "b1", "W2", "b2"):
        assert rel_error(grads[name], numeric[name]) < 1e-8, name


def test_two_layer_net_sanity_initial_loss_and_regularization() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 50))
    y = rng.integers(0, 10, 100)
    net = TwoLayerNet(50, 40, 10, std=1e-4)
    assert net.loss(X, y).item() == pytest.approx(np.log(10), rel=1e-3)
    losses = [TwoLayerNet(50, 40, 10, std=1e-1, reg=r).loss(X, y).item() for r in (0, 0.1, 1)]
    assert losses[0] < losses[1] < losses[2]
    penalty = 0.5 * 1.0 * sum((p.numpy()**2).sum() for p in (net.W1, net.W2))
    assert losses[2] - losses[0] == pytest.approx(penalty * 1e6, rel=1e-9)  # std^2 = 1e6 x


def test_two_layer_net_predict_and_image_input() -> None:
    net = TwoLayerNet(2 * 3 * 3, 7, 4, std=1.0, seed=3)
    X = np.random.default_rng(2).standard_normal((6, 2, 3, 3))
    labels = net.predict(X)
    assert labels.dtype == np.int64 and labels.shape == (6,)
    assert_close(labels, net.loss(X.reshape(6, -1)).numpy().argmax(axis=1))
    assert net.loss(X.astype(np.float32)).dtype == np.float64  # converted to the model dtype
    assert_close(net.loss(X.astype(np.float32)), net.loss(X), rtol=1e-5, atol=1e-5)


def test_two_layer_net_input_error_names_the_model_and_shapes() -> None:
    net = TwoLayerNet(10, 5, 3)
    with pytest.raises(ShapeError, match=r"^TwoLayerNet: expected input of shape \(N, 10\) "
                                         r"\(or \(N, d1, ..., dk\) with 10 features\), got "
                                         r"\(4, 9\)"):
        net.loss(np.zeros((4, 9)))
    with pytest.raises(IndexError, match=r"^cross_entropy: target label 3 is out of range"):
        net.loss(np.zeros((2, 10)), np.array([0, 3]))


# ----------------------------------------------------------------------------- FullyConnectedNet


@pytest.mark.parametrize("normalization,dropout,reg", [
    (None, 0.0, 0.0), (None, 0.25, 3.14), ("batchnorm", 0.0, 0.0),
    ("batchnorm", 0.25, 3.14), ("layernorm", 0.25, 0.7),
])
def test_fully_connected_net_gradients_match_numeric(normalization: str | None,
                                                     dropout: float, reg: float) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 15))
    y = rng.integers(0, 10, 5)
    model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, dropout=dropout,
                              normalization=normalization, reg=reg, weight_scale=5e-2,
                              seed=0, dropout_seed=123)
    loss, grads = model.loss_and_grads(X, y)
    numeric = numeric_param_grads(model, X, y)
    assert set(grads) == set(numeric) == set(model.params)
    for name, g in grads.items():
        if normalization == "batchnorm" and name in ("b1", "b2"):
            # a bias right before batch norm is subtracted away again: its gradient is 0
            assert np.abs(g).max() < 1e-12 and np.abs(numeric[name]).max() < 1e-8
            continue
        assert norm_rel_error(g, numeric[name]) < 1e-6, name


def test_fully_connected_net_sanity_initial_loss_and_regularization() -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 30))
    y = rng.integers(0, 10, 50)
    losses = []
    for reg in (0.0, 0.5, 5.0):
        model = FullyConnectedNet([40, 40], input_dim=30, num_classes=10, reg=reg,
                                  weight_scale=5e-2, seed=0)
        losses.append(model.loss(X, y).item())
    assert losses[0] == pytest.approx(np.log(10), rel=0.02)
    assert losses[0] < losses[1] < losses[2]


def test_fully_connected_net_names_init_and_state_dict() -> None:
    model = FullyConnectedNet([8, 6], input_dim=5, num_classes=3, normalization="batchnorm",
                              dropout=0.5, weight_scale=0.3, seed=4)
    assert list(model.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2",
                                  "beta2", "W3", "b3"]
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes["W1"] == (8, 5) and shapes["W2"] == (6, 8) and shapes["W3"] == (3, 6)
    assert shapes["gamma2"] == (6,)
    assert [k for k in model.state_dict() if k.startswith("norm1")] == [
        "norm1.weight", "norm1.bias", "norm1.running_mean", "norm1.running_var",
        "norm1.num_batches_tracked"]
    assert "fc3.weight" in model.state_dict() and len(list(model.parameters())) == 10
    big = FullyConnectedNet([400], input_dim=300, num_classes=3, weight_scale=0.3, seed=4)
    assert big.params["W1"].numpy().std() == pytest.approx(0.3, rel=0.02)
    assert not model.params["b1"].numpy().any() and (model.params["gamma1"].numpy() == 1).all()
    assert all(p.dtype == np.float64 for p in model.parameters())
    clone = FullyConnectedNet([8, 6], input_dim=5, num_classes=3, normalization="batchnorm",
                              dropout=0.5, weight_scale=0.3, seed=4)
    assert_close(clone.params["W2"], model.params["W2"])


def test_fully_connected_net_graph_nodes_record_layer_paths() -> None:
    model = FullyConnectedNet([4], input_dim=3, num_classes=2, normalization="batchnorm",
                              seed=0)
    X = Tensor(np.random.default_rng(0).standard_normal((6, 3)))
    paths = graph_module_paths(model.loss(X, np.zeros(6, dtype=np.int64)))
    assert {"fc1", "norm1", "fc2"} <= paths


def test_fully_connected_net_dropout_masks() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    y = rng.integers(0, 3, 20)

    def build(**kwargs: Any) -> FullyConnectedNet:
        return FullyConnectedNet([30], input_dim=6, num_classes=3, dropout=0.5,
                                 weight_scale=0.5, seed=1, **kwargs)

    fixed = build(dropout_seed=5)
    assert fixed.loss(X, y).item() == fixed.loss(X, y).item()  # the same masks every call
    free = build()
    first, second = free.loss(X, y).item(), free.loss(X, y).item()
    assert first != second  # new masks on every call ...
    again = build()
    assert [again.loss(X, y).item(), again.loss(X, y).item()] == [first, second]  # ... seeded
    free.eval()
    assert free.loss(X, y).item() == free.loss(X, y).item()  # eval: dropout is the identity
    assert_close(free.loss(X), build().loss(X))  # scores without labels: no dropout
    no_drop = FullyConnectedNet([30], input_dim=6, num_classes=3, weight_scale=0.5, seed=1)
    assert free.loss(X, y).item() == pytest.approx(no_drop.loss(X, y).item(), rel=1e-12)


def test_fully_connected_net_batchnorm_uses_running_stats_in_eval() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 4)) * 3 + 2
    model = FullyConnectedNet([5], input_dim=4, num_classes=2, normalization="batchnorm",
                              weight_scale=0.5, seed=0)
    train_scores = model(Tensor(X)).numpy()
    assert model.state_dict()["norm1.num_batches_tracked"].item() == 1
    model.eval()
    eval_scores = model(Tensor(X)).numpy()
    assert not np.allclose(eval_scores, train_scores)
    assert model.training is False
    model.train()
    # the courses' loss(X) without labels is their 'test' mode: running statistics
    assert_close(model.loss(X), eval_scores)
    assert_close(model.predict(X[:3]), eval_scores[:3].argmax(axis=1))
    assert model.training is True
    assert model.state_dict()["norm1.num_batches_tracked"].item() == 1


def test_fully_connected_net_overfits_a_small_batch() -> None:
    from tinygrad_edu.optim import Adam

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20))
    y = rng.integers(0, 5, 50)
    model = FullyConnectedNet([50, 50], input_dim=20, num_classes=5, weight_scale=0.1,
                              normalization="batchnorm", seed=0)
    opt = Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        model.loss(X, y).backward()
        opt.step()
    assert (model.predict(X) == y).mean() == 1.0


def test_fully_connected_net_errors() -> None:
    with pytest.raises(ValueError, match=r"^FullyConnectedNet: normalization must be None, "
                                         r"'batchnorm' or 'layernorm', got 'groupnorm'"):
        FullyConnectedNet([3], normalization="groupnorm")
    with pytest.raises(ValueError, match=r"^FullyConnectedNet: dropout must be in \[0, 1\), "
                                         r"got 1.0"):
        FullyConnectedNet([3], dropout=1.0)
    with pytest.raises(ShapeError, match=r"^FullyConnectedNet: expected input of shape "
                                         r"\(N, 7\)"):
        FullyConnectedNet([3], input_dim=7).loss(np.zeros((2, 8)))


# ----------------------------------------------------------------------------- SmallConvNet


def np_conv_same(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 cross-correlation with padding 1, one kernel offset at a time."""
    n, _, h, wd = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd)) + b[None, :, None, None]
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", padded[:, :, i:i + h, j:j + wd], w[:, :, i, j])
    return out


def np_pool2(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    x = x[:, :, : h // 2 * 2, : w // 2 * 2]
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def test_small_convnet_is_conv_relu_pool_twice_then_linear() -> None:
    model = SmallConvNet(in_channels=2, num_classes=4, channels=(3, 5), input_size=(10, 9),
                         seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((3, 2, 10, 9))
    p = {k: v.numpy() for k, v in model.state_dict().items()}
    h = np_pool2(np.maximum(np_conv_same(x, p["conv1.weight"], p["conv1.bias"]), 0))
    h = np_pool2(np.maximum(np_conv_same(h, p["conv2.weight"], p["conv2.bias"]), 0))
    assert h.shape == (3, 5, 2, 2)
    expected = h.reshape(3, -1) @ p["fc.weight"].T + p["fc.bias"]
    assert_close(model(Tensor(x)), expected, rtol=1e-10)


def test_small_convnet_defaults_are_the_mnist_net() -> None:
    model = SmallConvNet(seed=0)
    assert [(k, v.shape) for k, v in model.state_dict().items()] == [
        ("conv1.weight", (16, 1, 3, 3)), ("conv1.bias", (16,)),
        ("conv2.weight", (32, 16, 3, 3)), ("conv2.bias", (32,)),
        ("fc.weight", (10, 32 * 7 * 7)), ("fc.bias", (10,))]
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32))
    out = model(x)
    assert out.shape == (2, 10) and out.dtype == np.float32
    assert_close(SmallConvNet(seed=0).conv2.weight, model.conv2.weight)
    assert not np.allclose(SmallConvNet(seed=1).conv2.weight.numpy(), model.conv2.weight.numpy())
    assert {"conv1", "pool1", "conv2", "pool2", "fc"} <= graph_module_paths(out)


def test_small_convnet_gradients_match_numeric() -> None:
    model = SmallConvNet(in_channels=1, num_classes=3, channels=(2, 3), input_size=8, seed=1,
                         dtype=np.float64)
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((2, 1, 8, 8)))
    y = np.array([0, 2])
    from tinygrad_edu.nn.losses import cross_entropy

    cross_entropy(model(x), y).backward()
    with no_grad():
        for name, p in model.named_parameters():
            picks = [tuple(int(i) for i in np.unravel_index(k, p.shape))
                     for k in rng.choice(p.numel(), size=min(p.numel(), 12), replace=False)]
            numeric = numerical_grad(lambda _: cross_entropy(model(x), y).item(), p.numpy(),
                                     indices=picks)
            assert p.grad is not None
            for idx in picks:
                assert p.grad.numpy()[idx] == pytest.approx(numeric[idx], rel=1e-5, abs=1e-9), (
                    name, idx)


def test_small_convnet_errors() -> None:
    with pytest.raises(ShapeError, match=r"^SmallConvNet: expected input of shape "
                                         r"\(N, 1, 28, 28\), got \(2, 1, 32, 32\)"):
        SmallConvNet()(Tensor(np.zeros((2, 1, 32, 32), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"^SmallConvNet: channels must be two numbers"):
        SmallConvNet(channels=(8,))


# ----------------------------------------------------------------------------- MLP


def test_mlp_is_a_sequential_of_linear_and_activation() -> None:
    mlp = MLP([6, 5, 4, 3], activation="tanh", seed=0, dtype=np.float64)
    assert isinstance(mlp, Sequential) and len(mlp) == 5
    assert [type(m) for m in mlp] == [Linear, Tanh, Linear, Tanh, Linear]
    assert list(mlp.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias",
                                      "4.weight", "4.bias"]
    x = np.random.default_rng(0).standard_normal((7, 6))
    p = {k: v.numpy() for k, v in mlp.state_dict().items()}
    h = np.tanh(x @ p["0.weight"].T + p["0.bias"])
    h = np.tanh(h @ p["2.weight"].T + p["2.bias"])
    assert_close(mlp(Tensor(x)), h @ p["4.weight"].T + p["4.bias"], rtol=1e-12)
    assert_close(MLP([6, 5, 4, 3], activation="tanh", seed=0).state_dict()["2.weight"],
                 p["2.weight"].astype(np.float32))


def test_mlp_options_and_errors() -> None:
    mlp = MLP([784, 256, 10])
    assert [type(m) for m in mlp] == [Linear, ReLU, Linear]
    assert mlp[0].weight.shape == (256, 784) and mlp[0].weight.dtype == np.float32
    with_dropout = MLP([4, 8, 8, 2], dropout=0.2, bias=False)
    assert [type(m).__name__ for m in with_dropout] == [
        "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert list(with_dropout.state_dict()) == ["0.weight", "3.weight", "6.weight"]
    with pytest.raises(ValueError, match=r"^MLP: unknown activation 'swishy' \(valid: relu, "):
        MLP([2, 2], activation="swishy")
    with pytest.raises(ValueError, match=r"^MLP: sizes needs at least an input and an output "
                                         r"size, got \[3\]"):
        MLP([3])


def test_course_models_follow_a_dtype_change() -> None:
    net = TwoLayerNet(4, 3, 2, std=0.1).float()
    assert net.dtype == np.float32
    assert net.loss(np.ones((2, 4))).dtype == np.float32
    fc = FullyConnectedNet([3], input_dim=4, num_classes=2, normalization="batchnorm").float()
    out = fc.loss(np.ones((2, 4)), np.array([0, 1]))
    assert out.dtype == np.float32
