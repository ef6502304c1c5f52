"""Autograd as a PyTorch user drives it (issue 8): `backward`/`.grad`, `autograd.grad`
with `create_graph`, the grad modes, `autograd.Function` in PyTorch's style, and the
`torch.func` names; in-place methods and the version counter that guards saved tensors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given

import tinygrad_edu as torch
import tinygrad_edu.func as func
import tinygrad_edu.nn as nn
from tinygrad_edu import autograd
from tinygrad_edu.testing import assert_gradients_match, float_arrays, shapes

# ----------------------------------------------------------------------------- backward


def test_backward_accumulates_into_leaf_grads_only() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.sum().backward()
    assert x.grad is not None and x.grad.tolist() == [2.0, 4.0]
    assert y.grad is None and x.is_leaf and not y.is_leaf and y.grad_fn is not None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]  # accumulated, as PyTorch
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]


def test_retain_grad_keeps_an_intermediate_gradient() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    assert y.grad is not None and y.grad.tolist() == [4.0, 8.0]


def test_backward_of_a_non_scalar_needs_a_gradient() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match=r"backward: output has shape \(2,\); a gradient can "
                                           "only be created implicitly for a scalar output"):
        y.backward()
    y.backward(torch.tensor([1.0, 10.0]))
    assert x.grad is not None and x.grad.tolist() == [2.0, 40.0]


def test_a_freed_graph_cannot_be_walked_twice_unless_retained() -> None:
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad is not None and x.grad.item() == 12.0
    with pytest.raises(RuntimeError, match="already freed by an earlier backward.*"
                                           "retain_graph=True"):
        y.backward()


def test_backward_without_a_graph_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"backward: tensor of shape \(\) does not require "
                                           "grad"):
        torch.ones(2).sum().backward()


def test_manual_sgd_loop_as_in_the_pytorch_tutorial() -> None:
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 50)
    y = 3 * x - 0.5
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(300):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.3 * w.grad
            b -= 0.3 * b.grad
            w.grad.zero_()
            b.grad.zero_()
    assert w.item() == pytest.approx(3.0, abs=1e-3) and b.item() == pytest.approx(-0.5, abs=1e-3)


# ----------------------------------------------------------------------------- autograd.grad


def test_autograd_grad_leaves_dot_grad_alone() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = autograd.grad((x * w).sum(), [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    (gy,) = torch.autograd.grad(x * w, x, grad_outputs=torch.tensor([1.0, -1.0]))
    assert gy.tolist() == [3.0, -4.0]


def test_autograd_grad_unused_inputs() -> None:
    x = torch.tensor(1.0, requires_grad=True)
    unused = torch.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(\)\) was not used .* "
                                           "allow_unused=True"):
        autograd.grad(x * 2, [x, unused])
    assert autograd.grad(x * 2, [x, unused], allow_unused=True)[1] is None


@given(x=float_arrays(shape=shapes(min_dims=1, max_dims=2), low=-2.0, high=2.0))
def test_create_graph_gives_higher_derivatives(x: np.ndarray) -> None:
    t = torch.tensor(x, requires_grad=True)
    y = torch.tanh(t)
    (d1,) = autograd.grad(y.sum(), t, create_graph=True)
    (d2,) = autograd.grad(d1.sum(), t, create_graph=True)
    (d3,) = autograd.grad(d2.sum(), t)
    th = np.tanh(x)
    np.testing.assert_allclose(d1.numpy(), 1 - th**2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d2.numpy(), -2 * th * (1 - th**2), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(d3.numpy(), (1 - th**2) * (6 * th**2 - 2), rtol=1e-10,
                               atol=1e-12)
    assert d1.requires_grad and not d3.requires_grad


def test_a_gradient_penalty_backpropagates_to_the_weights() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(3, 1).double()
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    (gx,) = autograd.grad(torch.tanh(layer(x)).sum(), x, create_graph=True)
    ((gx * gx).sum()).backward()
    assert layer.weight.grad is not None and layer.bias.grad is not None

    def penalty(w: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():  # the numeric check calls this under no_grad
            xx = x.detach().requires_grad_()
            (g,) = autograd.grad(torch.tanh(xx @ w.T + layer.bias.detach()).sum(), xx,
                                 create_graph=True)
            return (g * g).sum()

    assert_gradients_match(penalty, layer.weight.detach().numpy())
    w = layer.weight.detach().clone().requires_grad_()
    (expected,) = autograd.grad(penalty(w), w)
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected.numpy(), rtol=1e-10)


# ----------------------------------------------------------------------------- grad modes


def test_no_grad_enable_grad_and_set_grad_enabled() -> None:
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        assert not (x * 2).requires_grad and not torch.is_grad_enabled()
        with torch.enable_grad():
            assert (x * 2).requires_grad
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()
    torch.set_grad_enabled(False)  # a plain call switches the mode, as in PyTorch
    try:
        assert not (x * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_modes_as_decorators() -> None:
    @torch.no_grad()
    def evaluate(t: torch.Tensor) -> torch.Tensor:
        return t * 2

    @torch.set_grad_enabled(False)
    def evaluate_too(t: torch.Tensor) -> torch.Tensor:
        return t * 2

    x = torch.ones(2, requires_grad=True)
    assert not evaluate(x).requires_grad and not evaluate_too(x).requires_grad
    assert torch.is_grad_enabled() and (x * 2).requires_grad


def test_detach_and_requires_grad_() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    with torch.no_grad():
        x.add_(1)
    assert d.tolist() == [2.0, 3.0]  # shares memory, as PyTorch
    leaf = (x * 2).detach().requires_grad_()
    assert leaf.is_leaf and leaf.requires_grad


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_detect_anomaly_names_the_op() -> None:
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with torch.autograd.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(FloatingPointError, match=r"Sqrt.backward produced NaN/Inf"):
            y.backward()


# ------------------------------------------------------------------- in place and versions


def test_inplace_methods_return_self_and_count_versions() -> None:
    x = torch.zeros(3)
    start = x._version
    assert x.fill_(2.0) is x and x.add_(torch.ones(3), alpha=3) is x
    assert x.mul_(2) is x and x.sub_(1.0, alpha=2) is x
    assert x.tolist() == [8.0, 8.0, 8.0]
    assert x.copy_(torch.tensor([1.0, 2.0, 3.0])).tolist() == [1.0, 2.0, 3.0]
    assert x.zero_().tolist() == [0.0, 0.0, 0.0]
    x += 1
    assert x._version == start + 7
    g = torch.Generator().manual_seed(0)
    assert x.normal_(0.0, 1.0, generator=g) is x and x.uniform_(2, 3) is x
    assert 2 <= x.min().item() and x.max().item() < 3


def test_inplace_on_a_leaf_that_requires_grad_needs_no_grad() -> None:
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul_: in-place change of a leaf tensor that "
                                           r"requires grad \(shape \(3,\)\)"):
        w.mul_(2)
    with torch.no_grad():
        w.mul_(2)
        w -= 0.5
    assert w.tolist() == [1.5, 1.5, 1.5] and w.requires_grad


def _mul() -> tuple[torch.Tensor, torch.Tensor]:
    x, w = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    return x * w, w


def _matmul() -> tuple[torch.Tensor, torch.Tensor]:
    x, w = torch.ones(2, 3, requires_grad=True), torch.ones(3, 4, requires_grad=True)
    return x @ w, w


def _div() -> tuple[torch.Tensor, torch.Tensor]:
    x, w = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    return x / w, w


def _log() -> tuple[torch.Tensor, torch.Tensor]:
    w = torch.ones(3, requires_grad=True)
    return w.log() * 2.0, w


@pytest.mark.parametrize(("make", "op"), [(_mul, "Mul"), (_matmul, "MatMul"), (_div, "Div"),
                                          (_log, "Log")])
def test_changing_a_saved_input_fails_at_backward_naming_the_op(make: object, op: str) -> None:
    out, w = make()  # type: ignore[operator]
    with torch.no_grad():
        w.mul_(2)  # as an optimizer step between forward and backward would
    with pytest.raises(RuntimeError, match=rf"backward: an input of {op} .* was modified in "
                                           r"place after .* saved it"):
        out.sum().backward()


def test_changing_a_saved_output_fails_at_backward() -> None:
    x = torch.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    with torch.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match=r"backward: the output of Exp \(shape \(2,\)\) was "
                                           "modified in place"):
        y.sum().backward()


def test_changing_a_tensor_no_backward_reads_is_allowed() -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor([5.0, 5.0])
    out = (w + c) * 3.0  # Add never reads its inputs; the constant 3 is not changed
    c.mul_(10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out.sum().backward()
    assert w.grad is not None and w.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("make", [
    lambda x, w: x * w,  # w (3,) is broadcast: Mul saves an expanded view of it
    lambda x, w: x[:, 1:] * w.view(3, 1)[1:].T,  # a reshaped and sliced view
])
def test_changing_the_base_of_a_saved_view_fails_at_backward(make: object) -> None:
    x = torch.ones(2, 3, requires_grad=True)
    w = torch.tensor([0.5, 1.5, 2.5], requires_grad=True)
    out = make(x, w)  # type: ignore[operator]
    with torch.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.sum().backward()


# ----------------------------------------------------------------------------- Function


class Swish(autograd.Function):
    """y = x * sigmoid(beta x); dy/dx = s + beta x s (1 - s), s = sigmoid(beta x)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, beta: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.beta = beta
        return x * torch.sigmoid(beta * x)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, None]:
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(ctx.beta * x)
        return grad_output * (s + ctx.beta * x * s * (1 - s)), None


@given(x=float_arrays(shape=shapes(min_dims=0, max_dims=2)))
def test_a_pytorch_style_function(x: np.ndarray) -> None:
    t = torch.from_numpy(x)
    np.testing.assert_allclose(Swish.apply(t, 1.5).numpy(), x / (1 + np.exp(-1.5 * x)),
                               rtol=1e-12)
    assert_gradients_match(lambda u: Swish.apply(u, 1.5), x, second_order=True)


def test_a_function_inside_a_module_and_under_no_grad() -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return Swish.apply(self.fc(x), 1.0)

    block = Block()
    out = block(torch.ones(3, 2))
    out.sum().backward()
    assert block.fc.weight.grad is not None and block.fc.weight.grad.shape == (2, 2)
    with torch.no_grad():
        assert not block(torch.ones(1, 2)).requires_grad
    assert torch.autograd.Function is torch.Function


# ----------------------------------------------------------------------------- torch.func


def _cubic(x: torch.Tensor) -> torch.Tensor:
    return (x**3).sum()


def test_func_grad_and_argnums() -> None:
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert func.grad(_cubic)(x).tolist() == [3.0, 12.0]
    assert func.grad(lambda t: func.grad(_cubic)(t).sum())(x).tolist() == [6.0, 12.0]
    gx, gy = func.grad(lambda a, b: (a * b * b).sum(), argnums=(0, 1))(x, x + 1)
    assert gx.tolist() == [4.0, 9.0] and gy.tolist() == [4.0, 12.0]
    g, aux = func.grad(lambda t: (_cubic(t), t.sum()), has_aux=True)(x)
    assert g.tolist() == [3.0, 12.0] and aux.item() == 3.0


def test_grad_and_value_has_pytorchs_order() -> None:
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    g, value = func.grad_and_value(_cubic)(x)
    value2, g2 = func.value_and_grad(_cubic)(x)
    assert value.item() == value2.item() == 9.0
    assert g.tolist() == g2.tolist() == [3.0, 12.0]


def test_vjp_jvp_and_jacobians_agree() -> None:
    torch.manual_seed(0)
    A = torch.randn(3, 2, dtype=torch.float64)

    def f(x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(A @ x) * x.sum()

    x = torch.randn(2, dtype=torch.float64)
    u, v = torch.randn(2, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    J = func.jacrev(f)(x)
    assert J.shape == (3, 2)
    np.testing.assert_allclose(func.jacfwd(f)(x).numpy(), J.numpy(), rtol=1e-12)
    assert func.jacobian is func.jacrev
    out, vjp_fn = func.vjp(f, x)
    (vJ,) = vjp_fn(v)
    out2, Ju = func.jvp(f, (x,), (u,))
    np.testing.assert_allclose(out.numpy(), f(x).numpy())
    np.testing.assert_allclose(out2.numpy(), f(x).numpy())
    np.testing.assert_allclose(vJ.numpy(), v.numpy() @ J.numpy(), rtol=1e-10)
    np.testing.assert_allclose(Ju.numpy(), J.numpy() @ u.numpy(), rtol=1e-10)


def test_hessian_matches_the_closed_form() -> None:
    torch.manual_seed(1)
    A = torch.randn(3, 3, dtype=torch.float64)
    Q = A @ A.T

    def f(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x @ Q @ x + (x**4).sum()

    x = torch.randn(3, dtype=torch.float64)
    expected = Q.numpy() + np.diag(12 * x.numpy() ** 2)
    np.testing.assert_allclose(func.hessian(f)(x).numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(func.jacrev(func.grad(f))(x).numpy(), expected, rtol=1e-10)


def test_func_errors_name_the_transform() -> None:
    with pytest.raises(RuntimeError, match=r"grad: the function must return a scalar; it "
                                           r"returned shape \(2,\)"):
        func.grad(lambda t: t * 2)(torch.ones(2))
    with pytest.raises(TypeError, match="grad: argument 0 must be floating point, got int64"):
        func.grad(_cubic)(torch.tensor([1, 2]))
