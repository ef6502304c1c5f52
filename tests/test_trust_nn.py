"""nn APIs called the way PyTorch code calls them: generators of parameters, ignored
targets, broadcast targets, pooling windows larger than the input, NaN through activations,
state dicts that copy where PyTorch copies. Expected numbers are derived with numpy."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as torch
from tinygrad_edu import Tensor, nn
from tinygrad_edu.gradcheck import numerical_grad
from tinygrad_edu.nn import functional as F


# ----------------------------------------------------------------------------- generators
def _model_with_grads() -> tuple[nn.Module, list[np.ndarray]]:
    """A Linear layer whose gradients are large (joint norm well above 1)."""
    torch.manual_seed(0)
    model = nn.Linear(3, 2).double()
    x = Tensor(np.arange(12.0).reshape(4, 3))
    (model(x).sum() * 100.0).backward()
    return model, [p.grad.numpy().copy() for p in model.parameters()]


def test_clip_grad_norm_with_a_generator_clips() -> None:
    model, grads = _model_with_grads()
    total = np.sqrt(sum(float((g * g).sum()) for g in grads))
    assert total > 10
    returned = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert returned.item() == pytest.approx(total)
    coef = 1.0 / (total + 1e-6)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-12)


def test_clip_grad_norm_inf_norm_with_a_generator_clips() -> None:
    model, grads = _model_with_grads()
    total = max(float(np.abs(g).max()) for g in grads)
    returned = nn.utils.clip_grad_norm_((p for p in model.parameters()), 2.0, norm_type="inf")
    assert returned.item() == pytest.approx(total)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g * (2.0 / (total + 1e-6)), rtol=1e-12)


def test_clip_grad_value_with_a_generator() -> None:
    model, grads = _model_with_grads()
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -0.5, 0.5))


def test_get_total_norm_with_a_generator_and_a_single_tensor() -> None:
    model, grads = _model_with_grads()
    expected = np.sqrt(sum(float((g * g).sum()) for g in grads))
    total = nn.utils.get_total_norm(p.grad for p in model.parameters())
    assert total.item() == pytest.approx(expected)
    one = Tensor(np.array([3.0, -4.0]))
    assert nn.utils.get_total_norm(one).item() == pytest.approx(5.0)
    assert nn.utils.get_total_norm(Tensor(np.array(-2.0))).item() == pytest.approx(2.0)


def test_parameters_to_vector_and_back_with_generators() -> None:
    model, _ = _model_with_grads()
    arrays = [p.numpy().copy() for p in model.parameters()]
    vec = nn.utils.parameters_to_vector(model.parameters())
    np.testing.assert_array_equal(vec.numpy(), np.concatenate([a.ravel() for a in arrays]))
    nn.utils.vector_to_parameters(vec * 2.0, model.parameters())
    for p, a in zip(model.parameters(), arrays):
        np.testing.assert_array_equal(p.numpy(), 2.0 * a)


def test_l2_penalty_with_a_generator() -> None:
    model, _ = _model_with_grads()
    expected = 0.5 * 0.1 * sum(float((p.numpy() ** 2).sum()) for p in model.parameters())
    got = F.l2_penalty((p for p in model.parameters()), 0.1)
    assert got.item() == pytest.approx(expected)


def test_clip_grad_norm_with_a_nan_gradient_makes_every_gradient_nan() -> None:
    # PyTorch multiplies every gradient by max_norm / (nan + 1e-6) = nan: the NaN is not
    # left hiding in one gradient while the others look clipped and healthy.
    p = nn.Parameter(Tensor(np.array([1.0, 2.0])))
    q = nn.Parameter(Tensor(np.array([1.0])))
    p.grad = Tensor(np.array([np.nan, 1.0]))
    q.grad = Tensor(np.array([3.0]))
    total = nn.utils.clip_grad_norm_(iter([p, q]), 1.0)
    assert np.isnan(total.item())
    assert np.isnan(p.grad.numpy()).all() and np.isnan(q.grad.numpy()).all()


# ----------------------------------------------------------------------------- ignore_index
RNG = np.random.default_rng(7)
LOGITS = RNG.standard_normal((5, 4))
LABELS = np.array([0, 2, 0, 3, 1])  # ignore_index=0 ignores rows 0 and 2
CLASS_W = np.array([1.0, 2.0, 3.0, 4.0])


def _log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _expected_ce(x: np.ndarray, y: np.ndarray, ignore: int, w: np.ndarray | None,
                 smoothing: float, reduction: str) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's cross_entropy with class labels, written in numpy: loss and d(sum loss)/dx.

    Row n (labelled): q_n = (1 - s) w_{y_n} onehot(y_n) + s w / C, loss_n = -q_n . logp_n;
    an ignored row has q_n = 0. 'mean' divides by sum of w_{y_n} over labelled rows.
    """
    n, c = x.shape
    w = np.ones(c) if w is None else w
    keep = y != ignore
    onehot = (y[:, None] == np.arange(c)) & keep[:, None]
    q = (1 - smoothing) * onehot * w + smoothing * keep[:, None] * w / c
    logp = _log_softmax(x)
    rows = -(q * logp).sum(axis=1)
    grad_rows = np.exp(logp) * q.sum(axis=1, keepdims=True) - q
    if reduction == "none":
        return rows, grad_rows
    if reduction == "sum":
        return rows.sum(), grad_rows
    total = (onehot * w).sum()
    return rows.sum() / total, grad_rows / total


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_ignores_a_target_that_is_a_valid_class(reduction: str, weighted: bool,
                                                              smoothing: float) -> None:
    w = CLASS_W if weighted else None
    expected, expected_grad = _expected_ce(LOGITS, LABELS, 0, w, smoothing, reduction)
    x = Tensor(LOGITS, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(LABELS), weight=w, ignore_index=0, reduction=reduction,
                           label_smoothing=smoothing)
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(x.grad.numpy()[[0, 2]], 0.0)  # no gradient from ignored


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_ignores_a_target_that_is_a_valid_class(reduction: str, weighted: bool) -> None:
    w = CLASS_W if weighted else np.ones(4)
    logp = _log_softmax(LOGITS)
    keep = LABELS != 0
    picked = np.where(keep, -w[LABELS] * logp[np.arange(5), LABELS], 0.0)
    grad = np.zeros_like(logp)
    grad[np.arange(5), LABELS] = np.where(keep, -w[LABELS], 0.0)
    total = w[LABELS][keep].sum()
    expected = {"none": picked, "sum": picked.sum(), "mean": picked.sum() / total}[reduction]
    if reduction == "mean":
        grad = grad / total
    x = Tensor(logp, requires_grad=True)
    loss = F.nll_loss(x, Tensor(LABELS), weight=w if weighted else None, ignore_index=0,
                      reduction=reduction)
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-12)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_target_ignored(fn: Any, weighted: bool) -> None:
    """PyTorch: 'mean' is nan (0 / 0) but the gradient is 0; 'sum' is 0; 'none' zeros."""
    w = CLASS_W if weighted else None
    labels = Tensor(np.zeros(5, dtype=np.int64))
    for reduction, value in (("mean", np.nan), ("sum", 0.0), ("none", np.zeros(5))):
        x = Tensor(LOGITS, requires_grad=True)
        loss = fn(x, labels, weight=w, ignore_index=0, reduction=reduction)
        loss.sum().backward()
        np.testing.assert_array_equal(loss.numpy(), value)
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((5, 4)))
    one = Tensor(LOGITS[0], requires_grad=True)  # a single (C,) prediction, ignored
    loss = fn(one, Tensor(np.array(2)), ignore_index=2)
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(one.grad.numpy(), np.zeros(4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_ignore_index_k_dimensional(reduction: str) -> None:
    """(N, C, d1, d2) logits and (N, d1, d2) labels: the same as the (N d1 d2, C) rows."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3, 2))
    y = rng.integers(0, 4, (2, 3, 2))
    assert (y == 1).any() and (y != 1).any()
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 4)
    expected, grad_rows = _expected_ce(rows, y.reshape(-1), 1, CLASS_W, 0.1, reduction)
    if reduction == "none":
        expected = expected.reshape(2, 3, 2)
    xt = Tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, Tensor(y), weight=CLASS_W, ignore_index=1, reduction=reduction,
                           label_smoothing=0.1)
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    grad = grad_rows.reshape(2, 3, 2, 4).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(xt.grad.numpy(), grad, rtol=1e-12, atol=1e-15)
    logp = Tensor(_log_softmax(x), requires_grad=True)
    nll = F.nll_loss(logp, Tensor(y), ignore_index=1, reduction=reduction)
    nll.sum().backward()
    keep = y != 1
    picked = -np.take_along_axis(_log_softmax(x), y[:, None], axis=1)[:, 0] * keep
    want = {"none": picked, "sum": picked.sum(), "mean": picked.sum() / keep.sum()}[reduction]
    np.testing.assert_allclose(nll.numpy(), want, rtol=1e-12)
    assert np.count_nonzero(logp.grad.numpy()) == keep.sum()


def test_loss_modules_pass_ignore_index() -> None:
    for module, inputs in ((nn.CrossEntropyLoss(ignore_index=0), LOGITS),
                           (nn.NLLLoss(ignore_index=0), _log_softmax(LOGITS))):
        x = Tensor(inputs, requires_grad=True)
        module(x, Tensor(LABELS)).backward()
        np.testing.assert_array_equal(x.grad.numpy()[[0, 2]], 0.0)
    expected, _ = _expected_ce(LOGITS, LABELS, 0, None, 0.0, "mean")
    assert nn.CrossEntropyLoss(ignore_index=0)(Tensor(LOGITS), Tensor(LABELS)).item() == (
        pytest.approx(expected, rel=1e-12))


# ----------------------------------------------------------------------------- target errors
def test_integer_one_hot_target_error_names_the_dtype_and_both_valid_targets() -> None:
    x = Tensor(LOGITS[:4, :3])
    onehot = Tensor(np.eye(3, dtype=np.int64)[[0, 1, 2, 0]])
    with pytest.raises(TypeError) as info:
        F.cross_entropy(x, onehot)
    message = str(info.value)
    assert message.startswith("cross_entropy: target of shape (4, 3) has the input's shape "
                              "(4, 3) but dtype int64")
    assert "probability targets must be floating point" in message
    assert "class-index targets must be integers of shape (4,)" in message
    with pytest.raises(ValueError, match=r"^nll_loss: target of shape \(4, 3\) has the input's "
                                         r"shape \(4, 3\), but nll_loss takes no probability "
                                         r"targets: class-index targets must be integers of "
                                         r"shape \(4,\)"):
        F.nll_loss(x, onehot)
    with pytest.raises(TypeError, match=r"^cross_entropy: .* shape \(2, 4\)"):
        F.cross_entropy(Tensor(np.zeros((2, 3, 4))), Tensor(np.zeros((2, 3, 4), np.int64)))
    # what the message suggests works
    probs = F.cross_entropy(x, onehot.float())
    labels = F.cross_entropy(x, onehot.argmax(1))
    assert probs.item() == pytest.approx(labels.item(), rel=1e-12)


# ----------------------------------------------------------------------------- broadcast targets
REGRESSION = {
    "mse_loss": (F.mse_loss, lambda d: d * d, lambda d: 2 * d),
    "l1_loss": (F.l1_loss, np.abs, np.sign),
    "huber_loss": (F.huber_loss, lambda d: np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5),
                   lambda d: np.clip(d, -1, 1)),
    "smooth_l1_loss": (F.smooth_l1_loss,
                       lambda d: np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5),
                       lambda d: np.clip(d, -1, 1)),
}


@pytest.mark.parametrize("name", list(REGRESSION))
@pytest.mark.parametrize("target_shape", [(4, 1), (3,), (2, 4, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_broadcast_a_target_with_a_warning(name: str, target_shape: Any,
                                                             reduction: str) -> None:
    """PyTorch warns ("Using a target size ...") and computes with broadcasting; gradients
    of both sides are summed back to their own shapes."""
    fn, value, slope = REGRESSION[name]
    rng = np.random.default_rng(5)
    x_np, t_np = rng.standard_normal((4, 3)), 2 * rng.standard_normal(target_shape)
    d = x_np - t_np  # numpy broadcasts the same way
    scale = 1.0 / d.size if reduction == "mean" else 1.0
    expected = {"none": value(d), "sum": value(d).sum(), "mean": value(d).mean()}[reduction]
    x, t = Tensor(x_np, requires_grad=True), Tensor(t_np, requires_grad=True)
    with pytest.warns(UserWarning, match=rf"^Using a target size {re.escape(str(target_shape))} "
                                         r"that is different to the input size \(4, 3\) in "
                                         rf"{name}\.") as record:
        loss = fn(x, t, reduction=reduction)
    assert record[0].filename == __file__  # points at the caller, as PyTorch's
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    g = slope(d) * scale
    np.testing.assert_allclose(x.grad.numpy(), _sum_to(g, (4, 3)), rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), _sum_to(-g, target_shape), rtol=1e-12)


def _sum_to(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo broadcasting: sum the leading axes away, then the axes that were 1."""
    a = a.sum(axis=tuple(range(a.ndim - len(shape))))
    return a.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def test_loss_modules_broadcast_too_and_same_shapes_do_not_warn() -> None:
    x, t = Tensor(np.zeros((4, 3))), Tensor(np.ones((4, 1)))
    with pytest.warns(UserWarning, match="^Using a target size"):
        assert nn.MSELoss()(x, t).item() == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.MSELoss()(x, Tensor(np.ones((4, 3)))).item() == 1.0
    with pytest.raises(ValueError, match=r"^mse_loss: target shape \(5,\) and input shape "
                                         r"\(4, 3\) cannot be broadcast together"):
        nn.MSELoss()(x, Tensor(np.ones(5)))


# ----------------------------------------------------------------------------- pooling
POOL_CASES = [  # (H, W, kernel, stride, padding): the kernel reaches past the padded input
    (2, 2, 3, 3, 0), (2, 3, 3, 2, 1), (1, 4, 2, 2, 0), (3, 3, 4, 4, 1), (2, 5, (3, 2), 3, 0),
]


@pytest.mark.parametrize(("h", "w", "kernel", "stride", "padding"), POOL_CASES)
@pytest.mark.parametrize("mode", ["max", "avg_include_pad", "avg_exclude_pad"])
def test_pool2d_ceil_mode_with_a_kernel_larger_than_the_input(h: int, w: int, kernel: Any,
                                                              stride: int, padding: int,
                                                              mode: str) -> None:
    """PyTorch: with ceil_mode the last window need only start inside the input or its left
    padding; max takes the input elements it covers, avg divides by its positions inside
    the padded input (count_include_pad) or inside the input."""
    from test_pool import naive_pool2d

    x_np = np.random.default_rng(h * 10 + w).permutation(2 * 3 * h * w).reshape(2, 3, h, w)
    x_np = x_np * 0.5 - 3.0
    k2 = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    include = mode == "avg_include_pad"
    expected = naive_pool2d(x_np, k2, (stride, stride), (padding, padding), (1, 1), mode[:3],
                            count_include_pad=include, ceil_mode=True)
    assert expected.size
    x = Tensor(x_np, requires_grad=True)
    if mode == "max":
        out = F.max_pool2d(x, kernel, stride, padding, ceil_mode=True)
    else:
        out = F.avg_pool2d(x, kernel, stride, padding, ceil_mode=True,
                           count_include_pad=include)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(Tensor(upstream))
    numeric = numerical_grad(lambda a: (naive_pool2d(
        a, k2, (stride, stride), (padding, padding), (1, 1), mode[:3],
        count_include_pad=include, ceil_mode=True) * upstream).sum(), x_np)
    np.testing.assert_allclose(x.grad.numpy(), numeric, atol=1e-6)


def test_pool_ceil_mode_kernel_larger_than_the_input_by_hand() -> None:
    """The brief's case: (1, 1, 2, 2), kernel 3, stride 3, ceil_mode: one window over all four."""
    x = Tensor(np.array([[[[1.0, 4.0], [2.0, 3.0]]]]))
    assert F.max_pool2d(x, 3, 3, ceil_mode=True).numpy().tolist() == [[[[4.0]]]]
    assert F.avg_pool2d(x, 3, 3, ceil_mode=True).numpy().tolist() == [[[[2.5]]]]
    assert nn.MaxPool2d(3, 3, ceil_mode=True)(x).numpy().tolist() == [[[[4.0]]]]
    # 1-d: length 1, kernel 2 (stride 2): one window; with padding 1, kernel 3, stride 3 the
    # window covers the left pad, the element and the right pad (divisor 3 including pads)
    line = Tensor(np.array([[[5.0]]]))
    assert F.max_pool1d(line, 2, ceil_mode=True).numpy().tolist() == [[[5.0]]]
    assert F.avg_pool1d(line, 2, ceil_mode=True).numpy().tolist() == [[[5.0]]]
    assert F.avg_pool1d(line, 3, 3, 1, ceil_mode=True).item() == pytest.approx(5.0 / 3)
    assert F.avg_pool1d(line, 3, 3, 1, ceil_mode=True,
                        count_include_pad=False).numpy().tolist() == [[[5.0]]]
    row = Tensor(np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]]))
    # windows start at 0 and 3: [1, 2, 3] and [4, 5] (+ one position past the input)
    assert F.max_pool1d(row, 3, ceil_mode=True).numpy().tolist() == [[[3.0, 5.0]]]
    assert F.avg_pool1d(row, 3, ceil_mode=True).numpy().tolist() == [[[2.0, 4.5]]]
    with pytest.raises(ValueError, match=r"^max_pool2d: kernel size \(3, 3\) .* larger than the "
                                         r"padded input \(2, 2\) .* ceil_mode=True would"):
        F.max_pool2d(x, 3, 3)


# ----------------------------------------------------------------------------- NaN stays NaN
WITH_NAN = np.array([np.nan, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0])
ACTIVATIONS = {
    "relu": F.relu, "leaky_relu": F.leaky_relu, "sigmoid": F.sigmoid, "tanh": F.tanh,
    "silu": F.silu, "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, "tanh"),
    "softplus": F.softplus, "elu": F.elu, "elu_alpha": lambda x: F.elu(x, 0.5),
    "hardtanh": F.hardtanh, "ReLU": nn.ReLU(), "LeakyReLU": nn.LeakyReLU(), "ELU": nn.ELU(),
    "Hardtanh": nn.Hardtanh(-0.5, 0.5), "Softplus": nn.Softplus(2.0, 5.0), "GELU": nn.GELU(),
    "SiLU": nn.SiLU(), "Sigmoid": nn.Sigmoid(), "Tanh": nn.Tanh(),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_keep_nan(name: str) -> None:
    x = Tensor(WITH_NAN, requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = ACTIVATIONS[name](x)
    assert np.isnan(out.numpy()[0]), f"{name}(nan) = {out.numpy()[0]}"
    assert not np.isnan(out.numpy()[1:]).any()


def test_elu_of_nan_is_nan_with_pytorch_gradient() -> None:
    x = Tensor(WITH_NAN, requires_grad=True)
    out = F.elu(x, 0.5)
    out.sum().backward()
    negative = 0.5 * (np.exp(WITH_NAN[1:4]) - 1)
    np.testing.assert_allclose(out.numpy()[1:], np.r_[negative, 0.5, 2.0, 30.0], rtol=1e-12)
    # PyTorch's gradient at NaN is 1 (the linear branch); below 0 it is alpha e^x
    np.testing.assert_allclose(x.grad.numpy(), np.r_[1.0, 0.5 * np.exp(WITH_NAN[1:4]), 1, 1, 1],
                               rtol=1e-12)


def test_losses_do_not_turn_a_nan_probability_into_a_number() -> None:
    probs = Tensor(np.array([[np.nan, 0.5, 0.5], [0.2, 0.3, 0.5]]))
    rows = F.cross_entropy_from_probs(probs, Tensor(np.array([1, 2])), reduction="none")
    assert np.isnan(rows.numpy()[0]) and rows.numpy()[1] == pytest.approx(-np.log(0.5))
    assert np.isnan(F.cross_entropy_from_probs(probs, Tensor(np.array([0, 2]))).item())
    # PyTorch refuses NaN probabilities in binary_cross_entropy; the clamped logs would
    # otherwise give the finite loss 100 for them
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: input must hold "
                                         r"probabilities in \[0, 1\], got values in "
                                         r"\[0.5, 0.5\] and NaN"):
        F.binary_cross_entropy(Tensor(np.array([np.nan, 0.5])), Tensor(np.array([1.0, 0.0])))


# ----------------------------------------------------------------------------- state dicts
def test_state_dict_values_share_memory_with_the_parameters_as_pytorch() -> None:
    model = nn.Linear(2, 2).double()
    state = model.state_dict()
    assert np.shares_memory(state["weight"].numpy(), model.weight.numpy())
    assert not state["weight"].requires_grad  # detached, as PyTorch's
    with torch.no_grad():
        model.weight.add_(1.0)
    np.testing.assert_array_equal(state["weight"].numpy(), model.weight.numpy())


@pytest.mark.parametrize("kind", ["tensor", "array"])
def test_load_state_dict_copies_into_the_parameters(kind: str) -> None:
    """PyTorch copies the values into the existing parameters (param.copy_(value)): the
    Parameter objects stay (an optimizer holding them keeps working) and changing the
    source afterwards does not change the model."""
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).double()
    weight, running_mean = model[0].weight, model[1].running_mean
    arrays = {k: np.full(v.shape, 3.0) if v.dtype.kind == "f" else np.asarray(5)
              for k, v in model.state_dict().items()}
    source = {k: Tensor(v) for k, v in arrays.items()} if kind == "tensor" else arrays
    model.load_state_dict(source)
    assert model[0].weight is weight and model[1].running_mean is running_mean
    for value in source.values():
        if kind == "tensor":
            value.array[...] = -1
        else:
            value[...] = -1
    np.testing.assert_array_equal(model[0].weight.numpy(), np.full((2, 2), 3.0))
    np.testing.assert_array_equal(model[1].running_mean.numpy(), np.full(2, 3.0))
    assert int(model[1].num_batches_tracked.item()) == 5
    for name, value in model.state_dict().items():
        assert not np.shares_memory(value.numpy(), arrays[name])


def test_load_state_dict_from_another_models_state_dict_does_not_tie_them() -> None:
    a, b = nn.Linear(3, 2).double(), nn.Linear(3, 2).double()
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    with torch.no_grad():
        a.weight.mul_(2.0)
    assert not np.array_equal(a.weight.numpy(), b.weight.numpy())


def test_inf_norm_does_not_hide_a_nan_that_is_not_first() -> None:
    # Python's max(3.0, nan) is 3.0: the inf-norm took it when the NaN came second
    grads = [Tensor(np.array([3.0])), Tensor(np.array([np.nan, 1.0]))]
    assert np.isnan(nn.utils.get_total_norm(grads, float("inf")).item())
    assert np.isnan(nn.utils.get_total_norm(iter(grads[::-1]), float("inf")).item())
    with pytest.raises(RuntimeError, match=r"^get_total_norm: the total norm of order inf is nan"):
        nn.utils.get_total_norm(grads, float("inf"), error_if_nonfinite=True)


def test_clip_grads_with_norm_takes_a_generator() -> None:
    model, grads = _model_with_grads()
    total = nn.utils.get_total_norm(p.grad for p in model.parameters())
    nn.utils.clip_grads_with_norm_(model.parameters(), 1.0, total)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g / (total.item() + 1e-6), rtol=1e-12)


def test_avg_pool2d_module_takes_divisor_override_as_pytorch() -> None:
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    out = nn.AvgPool2d(2, divisor_override=3)(x)
    np.testing.assert_allclose(out.numpy(), F.avg_pool2d(x, 2, divisor_override=3).numpy())
    np.testing.assert_allclose(out.numpy()[0, 0, 0, 0], (0 + 1 + 4 + 5) / 3)
    with pytest.raises(TypeError):
        nn.AvgPool1d(2, divisor_override=3)
