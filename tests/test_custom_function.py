"""User-defined ops: a `Function` subclass in both documented styles (forward on arrays
with a Tensor backward; PyTorch's static methods with `ctx.save_for_backward`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given

from tinygrad_edu import Function, Tensor
from tinygrad_edu.testing import assert_gradients_match, float_arrays, shapes


def _leaf(values: Any) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _grad(t: Tensor) -> np.ndarray:
    assert t.grad is not None
    return t.grad.numpy()


# ----------------------------------------------------------------------------- Function


class Cube(Function):
    """y = x^3;  dy/dx = 3 x^2 (array-style forward, Tensor backward)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x**3

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * x * x * 3.0


class ScaledProduct(Function):
    """y = k a b with an attribute k;  dy/da = k b, dy/db = k a."""

    __slots__ = ("k",)

    def forward(self, a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
        self.k = k
        return k * a * b

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (grad * b * self.k if na else None), (grad * a * self.k if nb else None)


class TorchStyleScaledProduct(Function):
    """The same op written as PyTorch writes custom Functions."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, k: float) -> Tensor:
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a * b * k

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        a, b = ctx.saved_tensors
        return grad * b * ctx.k, grad * a * ctx.k, None


@given(x=float_arrays(shapes(min_dims=0)))
def test_user_function_array_style(x: np.ndarray) -> None:
    np.testing.assert_allclose(Cube.apply(Tensor(x)).numpy(), x**3)
    assert_gradients_match(lambda t: Cube.apply(t), x, second_order=True)


@pytest.mark.parametrize("op", [ScaledProduct, TorchStyleScaledProduct])
@given(pair=float_arrays((2, 3)).flatmap(lambda a: float_arrays((2, 3)).map(lambda b: (a, b))))
def test_user_function_with_attributes_both_styles(op: Any, pair: Any) -> None:
    a, b = pair
    out = op.apply(Tensor(a), Tensor(b), k=2.5) if op is ScaledProduct else op.apply(
        Tensor(a), Tensor(b), 2.5)
    np.testing.assert_allclose(out.numpy(), 2.5 * a * b, rtol=1e-12, atol=1e-12)

    def f(s: Tensor, t: Tensor) -> Tensor:
        return op.apply(s, t, k=2.5) if op is ScaledProduct else op.apply(s, t, 2.5)

    assert_gradients_match(f, a, b)


def test_torch_style_function_records_a_node_and_frees_saved_tensors() -> None:
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    out = TorchStyleScaledProduct.apply(a, b, 2.0)
    assert out.grad_fn is not None and out.grad_fn.op == "TorchStyleScaledProduct"
    out.sum().backward()
    np.testing.assert_allclose(_grad(a), [6.0, 8.0])
    np.testing.assert_allclose(_grad(b), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="freed"):
        out.grad_fn.saved_tensors  # noqa: B018
