"""The fused primitives `Linear` and `LogSoftmax` against the composites they replace:
same values, same first derivatives (the unrecorded array backward) and same second
derivatives (the recorded Tensor backward), plus central differences."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import assert_gradients_match, float_arrays


@st.composite
def linear_problem(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lead = draw(st.sampled_from([(), (3,), (2, 3)]))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(float_arrays(shape=lead + (n_in,)))
    w = draw(float_arrays(shape=(n_out, n_in)))
    b = draw(float_arrays(shape=(n_out,)))
    return x, w, b


def _both_grads(f, arrays: list[np.ndarray], upstream: np.ndarray, create_graph: bool
                ) -> list[np.ndarray]:
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = f(*leaves)
    grads = tg.grad(out, leaves, grad_outputs=Tensor(upstream), create_graph=create_graph)
    if not create_graph:
        return [g.numpy() for g in grads]
    # the second derivative along a fixed direction, through the recorded backward
    total = sum(((g * g).sum() for g in grads), start=Tensor(np.zeros(())))
    second = tg.grad(total, leaves, allow_unused=True)  # a bias has no second derivative
    return [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(second, arrays)]


@given(problem=linear_problem(), bias=st.booleans())
def test_linear_matches_the_composite_to_second_order(
        problem: tuple[np.ndarray, np.ndarray, np.ndarray], bias: bool) -> None:
    x, w, b = problem
    arrays = [x, w, b] if bias else [x, w]

    def fused(*t: Tensor) -> Tensor:
        return tg.linear(*t)

    def composite(*t: Tensor) -> Tensor:
        return t[0] @ t[1].T + t[2] if bias else t[0] @ t[1].T

    upstream = np.random.default_rng(0).standard_normal(fused(*map(Tensor, arrays)).shape)
    np.testing.assert_allclose(fused(*map(Tensor, arrays)).numpy(),
                               composite(*map(Tensor, arrays)).numpy(), atol=1e-12)
    for order in (False, True):
        for a, c in zip(_both_grads(fused, arrays, upstream, order),
                        _both_grads(composite, arrays, upstream, order)):
            np.testing.assert_allclose(a, c, atol=1e-10)
    assert_gradients_match(fused, *arrays, second_order=True)


@given(x=float_arrays(shape=st.sampled_from([(4,), (3, 4), (2, 3, 4)]), low=-20, high=20),
       dim=st.sampled_from([0, -1]))
def test_log_softmax_matches_the_composite_to_second_order(x: np.ndarray, dim: int) -> None:
    def fused(t: Tensor) -> Tensor:
        return t.log_softmax(dim)

    def composite(t: Tensor) -> Tensor:
        return t - t.logsumexp(dim, keepdim=True)

    upstream = np.random.default_rng(1).standard_normal(x.shape)
    np.testing.assert_allclose(fused(Tensor(x)).numpy(), composite(Tensor(x)).numpy(),
                               atol=1e-12)
    for order in (False, True):
        for a, c in zip(_both_grads(fused, [x], upstream, order),
                        _both_grads(composite, [x], upstream, order)):
            np.testing.assert_allclose(a, c, atol=1e-9)
