"""The conventions issue 8 settles, each with a test that fails under the other convention:
kink rules (relu'(0) = 0, abs'(0) = 0, ...), the multiclass hinge (PyTorch's divided by C,
the courses' summed), RMSprop's eps placement, the courses' momentum form against PyTorch
SGD, conv2d padding='same' with a stride, reduction='mean'|'sum'|'none' on every loss,
max/min(dim) -> (values, indices) against axis= -> values, and unbiased var/std."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu.optim import course


def _grad_at(f: Callable[[torch.Tensor], torch.Tensor], values: list[float]) -> list[float]:
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f(x).sum(), x)
    return g.tolist()


# ----------------------------------------------------------------------------- kinks


@pytest.mark.parametrize("relu", [lambda x: x.relu(), torch.relu, F.relu, nn.ReLU()])
def test_relu_derivative_at_zero_is_zero(relu: Callable[[torch.Tensor], torch.Tensor]) -> None:
    # the courses' `dout * (x > 0)`; `maximum`'s tie rule would give 1/2 here
    assert _grad_at(relu, [-1.0, 0.0, 2.0]) == [0.0, 0.0, 1.0]


def test_maximum_splits_a_tie_so_relu_must_not_use_it() -> None:
    assert _grad_at(lambda x: x.maximum(torch.zeros_like(x)), [0.0]) == [0.5]
    assert _grad_at(lambda x: torch.maximum(x, x.detach()), [1.0]) == [0.5]


@pytest.mark.parametrize(("name", "f", "at", "expected"), [
    ("abs'(0) = 0", lambda x: x.abs(), [0.0], [0.0]),
    ("l1_loss at x = y", lambda x: F.l1_loss(x, torch.zeros_like(x), reduction="sum"), [0.0],
     [0.0]),
    ("leaky_relu'(0) = slope", lambda x: F.leaky_relu(x, 0.2), [0.0], [0.2]),
    ("clamp: 1 at the bounds", lambda x: x.clamp(-1.0, 1.0), [-1.0, 1.0, 2.0], [1.0, 1.0, 0.0]),
    ("hardtanh: 0 at the bounds (PyTorch)", F.hardtanh, [-1.0, 1.0, 0.5], [0.0, 0.0, 1.0]),
    ("softplus'(0) = 1/2 (smooth)", F.softplus, [0.0], [0.5]),
    ("max: ties share", lambda x: x.max(), [2.0, 2.0, 1.0], [0.5, 0.5, 0.0]),
    ("svm margin 0 passes nothing", lambda x: F.svm_loss(x.view(1, 2), torch.tensor([0])),
     [1.0, 0.0], [0.0, 0.0]),
    ("norm of 0 (subgradient 0)", lambda x: x.norm(), [0.0, 0.0], [0.0, 0.0]),
])
def test_kink_rules(name: str, f: Callable[[torch.Tensor], torch.Tensor], at: list[float],
                    expected: list[float]) -> None:
    assert _grad_at(f, at) == pytest.approx(expected), name


# ----------------------------------------------------------------------------- hinge


def test_hinge_losses_for_ten_classes_and_tiny_scores() -> None:
    torch.manual_seed(0)
    scores, labels = 1e-4 * torch.randn(500, 10), torch.randint(0, 10, (500,))
    svm = F.svm_loss(scores, labels).item()
    pytorch = F.multi_margin_loss(scores, labels).item()
    assert svm == pytest.approx(9.0, abs=0.01)  # the courses' sanity check: C - 1
    assert pytorch == pytest.approx(0.9, abs=0.001)  # PyTorch's: (C - 1) / C
    assert nn.MultiMarginLoss()(scores, labels).item() == pytest.approx(pytorch)


def test_svm_loss_gradient_is_the_courses() -> None:
    rng = np.random.default_rng(0)
    s, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    scores = torch.tensor(s, requires_grad=True)
    loss = F.svm_loss(scores, torch.from_numpy(y))
    loss.backward()
    rows = np.arange(6)
    margins = np.maximum(0, s - s[rows, y][:, None] + 1)
    margins[rows, y] = 0
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = -dscores.sum(axis=1)
    assert loss.item() == pytest.approx(margins.sum() / 6)
    assert scores.grad is not None
    np.testing.assert_allclose(scores.grad.numpy(), dscores / 6, rtol=1e-12)
    assert F.svm_loss(scores, torch.from_numpy(y)).item() == pytest.approx(
        5 * F.multi_margin_loss(scores, torch.from_numpy(y)).item())


# ----------------------------------------------------------------------------- RMSprop


def _rmsprop_by_hand(grads: list[np.ndarray], inside: bool, lr: float = 0.01,
                     alpha: float = 0.99, eps: float = 1e-8) -> np.ndarray:
    x, cache = np.ones(3), np.zeros(3)
    for g in grads:
        cache = alpha * cache + (1 - alpha) * g * g
        x = x - lr * g / (np.sqrt(cache + eps) if inside else np.sqrt(cache) + eps)
    return x


@pytest.mark.parametrize("inside", [False, True])
def test_rmsprop_eps_placement(inside: bool) -> None:
    # tiny gradients: sqrt(cache) ~ 1e-7, so the two placements differ by a factor ~1000
    grads = [1e-6 * np.random.default_rng(i).standard_normal(3) for i in range(5)]
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt = optim.RMSprop([w], lr=0.01, eps_inside_sqrt=inside)
    for g in grads:
        w.grad = torch.from_numpy(g)
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), _rmsprop_by_hand(grads, inside), rtol=1e-12)
    other = _rmsprop_by_hand(grads, not inside)
    assert np.abs(w.detach().numpy() - other).max() > 1e-3
    x, config = np.ones(3), {"eps_inside_sqrt": inside, "learning_rate": 0.01}
    for g in grads:
        x, config = course.rmsprop(x, g, config)
    np.testing.assert_allclose(x, w.detach().numpy(), rtol=1e-12)


def test_rmsprop_default_is_pytorchs() -> None:
    assert optim.RMSprop([torch.ones(1, requires_grad=True)]).defaults["eps_inside_sqrt"] is False


# ----------------------------------------------------------------------------- momentum


def _course_momentum(lrs: list[float], mu: float, grad: Callable[[np.ndarray], np.ndarray]
                     ) -> np.ndarray:
    x, v = np.array([1.0, -2.0]), np.zeros(2)
    for lr in lrs:
        v = mu * v - lr * grad(x)  # the courses' form
        x = x + v
    return x


def _torch_sgd(lrs: list[float], mu: float) -> np.ndarray:
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([x], lr=lrs[0], momentum=mu)
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        opt.zero_grad()
        (x * x * torch.tensor([1.0, 3.0], dtype=torch.float64)).sum().backward()
        opt.step()
    return x.detach().numpy()


def _quadratic_grad(x: np.ndarray) -> np.ndarray:
    return 2 * x * np.array([1.0, 3.0])


def test_course_momentum_is_pytorch_sgd_at_constant_lr() -> None:
    lrs = [0.05] * 25
    np.testing.assert_allclose(_torch_sgd(lrs, 0.9), _course_momentum(lrs, 0.9, _quadratic_grad),
                               rtol=1e-12)
    w, config = np.array([1.0, -2.0]), {"learning_rate": 0.05, "momentum": 0.9}
    for _ in lrs:
        w, config = course.sgd_momentum(w, _quadratic_grad(w), config)
    np.testing.assert_allclose(w, _torch_sgd(lrs, 0.9), rtol=1e-12)


def test_when_lr_changes_sgd_keeps_pytorchs_form() -> None:
    lrs = [0.05] * 5 + [0.01] * 5  # PyTorch scales the whole buffer by the new lr
    x = np.array([1.0, -2.0])
    buf = None
    for lr in lrs:
        g = _quadratic_grad(x)
        buf = g if buf is None else 0.9 * buf + g
        x = x - lr * buf
    np.testing.assert_allclose(_torch_sgd(lrs, 0.9), x, rtol=1e-12)
    assert np.abs(_course_momentum(lrs, 0.9, _quadratic_grad) - x).max() > 1e-3


# ----------------------------------------------------------------------------- conv


@pytest.mark.parametrize("call", [
    lambda: F.conv2d(torch.randn(1, 1, 6, 6), torch.randn(2, 1, 3, 3), stride=2,
                     padding="same"),
    lambda: F.conv1d(torch.randn(1, 1, 6), torch.randn(2, 1, 3), stride=(2,), padding="same"),
    lambda: nn.Conv2d(1, 2, 3, stride=(1, 2), padding="same"),
])
def test_same_padding_with_a_stride_is_an_error(call: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match=r"(conv2d|conv1d|Conv2d): padding='same' is not "
                                         r"supported for strided convolutions \(stride="):
        call()


def test_same_padding_keeps_the_size_and_pads_the_extra_after() -> None:
    torch.manual_seed(0)
    x, w = torch.randn(1, 2, 5, 6), torch.randn(3, 2, 4, 4)  # even kernel: total pad 3
    same = F.conv2d(x, w, padding="same")
    explicit = F.conv2d(F.pad(x, (1, 2, 1, 2)), w)
    assert same.shape == (1, 3, 5, 6)
    np.testing.assert_allclose(same.numpy(), explicit.numpy(), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- reductions

_RNG = np.random.default_rng(0)
_X = _RNG.standard_normal((4, 3))
_P = _RNG.uniform(0.1, 0.9, (4, 3))
_Y01 = _RNG.integers(0, 2, (4, 3)).astype(float)
_LABELS = np.array([0, 2, 1, 2])


def _module(cls: type) -> Callable[..., torch.Tensor]:
    def call(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        return cls(reduction=reduction)(input, target)  # type: ignore[no-any-return]

    return call


LOSSES: list[tuple[str, Callable[..., torch.Tensor], tuple[Any, ...], tuple[int, ...]]] = [
    ("cross_entropy", F.cross_entropy, (_X, _LABELS), (4,)),
    ("nll_loss", F.nll_loss, (np.log(_P), _LABELS), (4,)),
    ("mse_loss", F.mse_loss, (_X, _P), (4, 3)),
    ("l1_loss", F.l1_loss, (_X, _P), (4, 3)),
    ("huber_loss", F.huber_loss, (_X, _P), (4, 3)),
    ("smooth_l1_loss", F.smooth_l1_loss, (_X, _P), (4, 3)),
    ("binary_cross_entropy", F.binary_cross_entropy, (_P, _Y01), (4, 3)),
    ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, (_X, _Y01),
     (4, 3)),
    ("multi_margin_loss", F.multi_margin_loss, (_X, _LABELS), (4,)),
    ("svm_loss", F.svm_loss, (_X, _LABELS), (4,)),
    *[(cls.__name__, _module(cls), args, shape) for cls, args, shape in [
        (nn.CrossEntropyLoss, (_X, _LABELS), (4,)), (nn.NLLLoss, (np.log(_P), _LABELS), (4,)),
        (nn.MSELoss, (_X, _P), (4, 3)), (nn.L1Loss, (_X, _P), (4, 3)),
        (nn.HuberLoss, (_X, _P), (4, 3)), (nn.SmoothL1Loss, (_X, _P), (4, 3)),
        (nn.BCELoss, (_P, _Y01), (4, 3)), (nn.BCEWithLogitsLoss, (_X, _Y01), (4, 3)),
        (nn.MultiMarginLoss, (_X, _LABELS), (4,)), (nn.SVMLoss, (_X, _LABELS), (4,)),
    ]],
]


@pytest.mark.parametrize(("name", "loss", "args", "shape"), LOSSES, ids=[c[0] for c in LOSSES])
def test_every_loss_has_the_three_reductions(name: str, loss: Callable[..., torch.Tensor],
                                             args: tuple[Any, ...], shape: tuple[int, ...]
                                             ) -> None:
    tensors = [torch.from_numpy(a) for a in args]
    none = loss(*tensors, reduction="none")
    total = loss(*tensors, reduction="sum")
    mean = loss(*tensors, reduction="mean")
    assert none.shape == shape and total.shape == () and mean.shape == ()
    assert total.item() == pytest.approx(none.sum().item(), rel=1e-12)
    assert mean.item() == pytest.approx(none.mean().item(), rel=1e-12)
    assert loss(*tensors).item() == mean.item()  # 'mean' is the default
    with pytest.raises(ValueError, match=r"reduction must be 'mean', 'sum' or 'none', got "
                                         "'average'"):
        loss(*tensors, reduction="average")


def test_a_summed_softmax_loss_is_n_times_the_mean() -> None:
    x, y = torch.from_numpy(_X), torch.from_numpy(_LABELS)
    assert F.cross_entropy(x, y, reduction="sum").item() == pytest.approx(
        4 * F.cross_entropy(x, y).item(), rel=1e-12)


# ----------------------------------------------------------------------------- numpy vs PyTorch


def test_max_with_dim_gives_values_and_indices_axis_gives_values() -> None:
    x = torch.tensor([[1.0, 9.0, 3.0], [7.0, 2.0, 8.0]])
    values, indices = x.max(1)
    assert values.tolist() == [9.0, 8.0] and indices.tolist() == [1, 2]
    assert x.max(dim=0).indices.tolist() == [1, 0, 1]
    assert x.min(1).indices.tolist() == [0, 1]
    assert isinstance(x.max(axis=1), torch.Tensor) and x.max(axis=1).tolist() == [9.0, 8.0]
    assert isinstance(x.amax(1), torch.Tensor) and x.max().item() == 9.0


def test_var_and_std_are_unbiased_unless_told() -> None:
    x = torch.tensor([1.0, 2.0, 3.0, 6.0])
    assert x.var().item() == pytest.approx(14 / 3)  # numpy's default would give 3.5
    assert x.var(unbiased=False).item() == pytest.approx(3.5)
    assert x.var(correction=0).item() == pytest.approx(3.5)
    assert x.std().item() == pytest.approx(np.sqrt(14 / 3))
