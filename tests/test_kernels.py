"""The fast backward kernels (`tinygrad_edu.kernels`) against their primitives' formulas:
for each registered primitive, the kernel's arrays equal what the primitive's `backward`
computes in Tensor ops, for every subset of wanted gradients, with the received gradient
private or not; and the engine runs a kernel exactly when the backward is not recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.kernels import KERNELS
from tinygrad_edu.nn import functional as F
from tinygrad_edu.ops.conv import ConvIm2col
from tinygrad_edu.ops.elementwise import ReLU
from tinygrad_edu.ops.linalg import Linear
from tinygrad_edu.ops.reduce import LogSoftmax
from tinygrad_edu.ops.windows import WindowMax

Build = Callable[[np.random.Generator, list[bool]], Tensor]


def _leaves(arrays: list[np.ndarray], needs: list[bool]) -> list[Tensor]:
    return [Tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]


def _relu(rng: np.random.Generator, needs: list[bool]) -> Tensor:
    (x,) = _leaves([rng.standard_normal((3, 4))], needs)
    return x.relu()


def _log_softmax(rng: np.random.Generator, needs: list[bool]) -> Tensor:
    (x,) = _leaves([rng.standard_normal((3, 5))], needs)
    return F.log_softmax(x, dim=1)


def _linear(rng: np.random.Generator, needs: list[bool]) -> Tensor:
    arrays = [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)),
              rng.standard_normal(5)]
    return tg.linear(*_leaves(arrays, needs))


def _window_max(rng: np.random.Generator, needs: list[bool]) -> Tensor:
    x = rng.integers(0, 3, (2, 2, 5, 5)).astype(np.float64)  # ties in most windows
    (t,) = _leaves([x], needs)
    return F.max_pool2d(t, 3, stride=2)


def _conv(rng: np.random.Generator, needs: list[bool]) -> Tensor:
    arrays = [rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((6, 2, 3, 3)),
              rng.standard_normal(6)]
    return F.conv2d(*_leaves(arrays, needs), padding=1, groups=2)


def _strided_conv(rng: np.random.Generator, needs: list[bool]) -> Tensor:
    arrays = [rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))]
    return F.conv2d(*_leaves(arrays, needs), stride=2, dilation=(1, 2))


CASES: dict[str, tuple[type, int, Build]] = {
    "relu": (ReLU, 1, _relu),
    "log_softmax": (LogSoftmax, 1, _log_softmax),
    "linear": (Linear, 3, _linear),
    "window_max": (WindowMax, 1, _window_max),
    "conv": (ConvIm2col, 3, _conv),
    "strided_conv": (ConvIm2col, 2, _strided_conv),
}


def test_every_kernel_is_tested() -> None:
    assert set(KERNELS) == {op for op, _, _ in CASES.values()}


@pytest.mark.parametrize("case", sorted(CASES))
@given(seed=st.integers(0, 2**32 - 1), private=st.booleans(), data=st.data())
def test_kernel_equals_the_primitives_formula(case: str, seed: int, private: bool,
                                              data: Any) -> None:
    op, n_inputs, build = CASES[case]
    needs = data.draw(st.lists(st.booleans(), min_size=n_inputs, max_size=n_inputs)
                      .filter(any))
    rng = np.random.default_rng(seed)
    out = build(rng, needs)
    node = out.grad_fn
    assert type(node) is op
    grad = rng.standard_normal(out.shape)
    with tg.no_grad():
        formula = node.backward(Tensor(grad.copy()))
    formula = formula if isinstance(formula, tuple) else (formula,)
    fast = KERNELS[op](node, grad.copy(), private)
    assert len(fast) == len(formula)
    for wanted, a, b in zip(node.needs_input_grad, fast, formula):
        if not wanted:
            assert a is None
            continue
        assert a is not None and a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12, atol=1e-12)


def test_only_a_private_gradient_is_overwritten() -> None:
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    y = x.relu()
    node = y.grad_fn
    grad = np.array([5.0, 7.0])
    (shared,) = KERNELS[ReLU](node, grad, False)
    assert shared is not grad and grad.tolist() == [5.0, 7.0]
    (reused,) = KERNELS[ReLU](node, grad, True)
    assert reused is grad and grad.tolist() == [0.0, 7.0]


def test_the_engine_runs_a_kernel_only_when_the_backward_is_not_recorded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    relu = KERNELS[ReLU]

    def counted(node: Any, grad: np.ndarray, private: bool) -> Any:
        calls.append(private)
        return relu(node, grad, private)

    monkeypatch.setitem(KERNELS, ReLU, counted)
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    (x.relu() * 3.0).sum().backward()
    assert calls == [False]  # Mul's gradient (grad * 3) is not known to be private
    (g,) = tg.grad((x.relu() ** 2).sum(), [x], create_graph=True)
    assert calls == [False]  # recorded: the formula ran, so g can be differentiated
    (h,) = tg.grad(g.sum(), [x])
    np.testing.assert_array_equal(h.numpy(), [0.0, 2.0])
    x.grad = None
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    tg.linear(x.relu(), w).sum().backward()
    assert calls[-1] is True  # Linear's kernel made the relu's gradient: a private array
