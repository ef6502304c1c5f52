"""Property-based gradient tests (float64, central differences) for issue 19's products,
cumprod, median, var_mean/std_mean, tensordot, kron and cdist, over generated shapes and
values; cumprod also to second order with zeros in its input. Plus the engine's hook
step: a gradient a hook keeps is never overwritten by a fast kernel."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import assert_gradients_match, float_arrays

side = st.integers(1, 3)


def _t(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


@st.composite
def product_case(draw: Any) -> tuple[str, list[np.ndarray]]:
    """An op and operands of matching shapes (the scaled ones with a broadcast input)."""
    b, n, m, p = (draw(side) for _ in range(4))
    op = draw(st.sampled_from(["mm", "bmm", "mv", "addmm", "addmv", "baddbmm"]))
    shapes = {"mm": [(n, m), (m, p)], "bmm": [(b, n, m), (b, m, p)], "mv": [(n, m), (m,)],
              "addmm": [draw(st.sampled_from([(n, p), (p,), (1, p), (n, 1), ()])), (n, m),
                        (m, p)],
              "addmv": [draw(st.sampled_from([(n,), (1,), ()])), (n, m), (m,)],
              "baddbmm": [draw(st.sampled_from([(b, n, p), (n, p), (1, 1, p)])), (b, n, m),
                          (b, m, p)]}[op]
    return op, [draw(float_arrays(s)) for s in shapes]


@given(case=product_case(), beta=st.sampled_from([1.0, 0.0, -0.5]),
       alpha=st.sampled_from([1.0, 2.0]))
def test_products_gradient(case: tuple[str, list[np.ndarray]], beta: float, alpha: float) -> None:
    op, arrays = case
    if op.startswith(("add", "badd")):
        assert_gradients_match(
            lambda c, x, y: getattr(tg, op)(c, x, y, beta=beta, alpha=alpha),
            *[_t(a) for a in arrays])
    else:
        assert_gradients_match(getattr(tg, op), *[_t(a) for a in arrays])


@given(x=float_arrays(st.tuples(side, side)), y=float_arrays(st.tuples(side, side, side)))
def test_kron_gradient(x: np.ndarray, y: np.ndarray) -> None:
    assert_gradients_match(tg.kron, _t(x), _t(y))


@given(data=st.data(), k=st.integers(0, 2))
def test_tensordot_gradient(data: Any, k: int) -> None:
    shared = data.draw(st.lists(side, min_size=k, max_size=k))
    sa = data.draw(st.lists(side, max_size=2)) + shared
    sb = shared + data.draw(st.lists(side, max_size=2))
    x, y = data.draw(float_arrays(tuple(sa))), data.draw(float_arrays(tuple(sb)))
    assert_gradients_match(lambda a, b: tg.tensordot(a, b, dims=k), _t(x), _t(y))


with_zeros = st.one_of(st.just(0.0), st.floats(-2.0, 2.0, allow_nan=False))


@given(data=st.data())
def test_cumprod_gradient_with_zeros(data: Any) -> None:
    """Exact at zeros, to second order (the scan multiplies, never divides)."""
    shape = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple))
    x = np.array(data.draw(st.lists(with_zeros, min_size=int(np.prod(shape)),
                                    max_size=int(np.prod(shape))))).reshape(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert_gradients_match(lambda t: t.cumprod(dim), _t(x), second_order=True)


@st.composite
def distinct_array(draw: Any) -> np.ndarray:
    """Values at least 0.05 apart, so no finite step crosses a tie."""
    shape = draw(st.lists(side, min_size=1, max_size=3).map(tuple))
    n = int(np.prod(shape))
    order = draw(st.permutations(range(n)))
    return np.array(order, dtype=np.float64).reshape(shape) * 0.1 - 0.3


@given(x=distinct_array(), data=st.data())
def test_median_gradient(x: np.ndarray, data: Any) -> None:
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keep = data.draw(st.booleans())
    if dim is None:
        assert_gradients_match(lambda t: t.median() * t.sum(), _t(x))
    else:
        assert_gradients_match(lambda t: t.median(dim, keep).values, _t(x))
        assert_gradients_match(lambda t: tg.nanmedian(t, dim=dim, keepdim=keep)[0], _t(x))


@given(x=float_arrays(st.tuples(side, side, side)), dim=st.sampled_from([None, 0, -1, (0, 2)]),
       correction=st.sampled_from([0, 1]), keep=st.booleans())
def test_var_std_mean_gradient(x: np.ndarray, dim: Any, correction: int, keep: bool) -> None:
    n = x.size if dim is None else int(np.prod([x.shape[d] for d in np.atleast_1d(dim)]))
    assume(n > correction)
    x = x + np.arange(x.size).reshape(x.shape)  # spread, so the std stays away from 0

    def moments(t: Tensor) -> Tensor:
        v, m = tg.var_mean(t, dim, keepdim=keep, correction=correction)
        s, m2 = tg.std_mean(t, dim, keepdim=keep, correction=correction)
        return v * m + s * m2

    assert_gradients_match(moments, _t(x))


@given(data=st.data(), p=st.sampled_from([1.0, 2.0, 3.0, float("inf")]))
def test_cdist_gradient(data: Any, p: float) -> None:
    """Points on a grid 0.3 apart, each row shifted by 0.01 * row * (column + 1): no
    difference is 0 and no two |differences| of a pair tie (the max-norm's kink)."""
    r1, r2, m = data.draw(side), data.draw(side), data.draw(side)
    values = np.array(data.draw(st.permutations(range((r1 + r2) * m))), dtype=np.float64)
    rows = np.arange(r1 + r2)[:, None]
    x = values.reshape(r1 + r2, m) * 0.3 + 0.01 * rows * (np.arange(m) + 1)
    assert_gradients_match(lambda a, b: tg.cdist(a, b, p=p), _t(x[:r1]), _t(x[r1:]))


def test_a_kept_gradient_is_never_overwritten() -> None:
    """A hook that stores its gradient: the fast kernels must not write into that array
    later (the hook step marks it shared)."""
    kept: list[Tensor] = []
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x * 2).exp()
    y.register_hook(lambda g: kept.append(g))
    z = (y * 3).sum()
    z.backward()
    np.testing.assert_array_equal(kept[0].numpy(), np.full((2, 2), 3.0))
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.exp(2 * x.numpy()))


def test_an_intermediate_hook_outlives_its_tensor() -> None:
    """As PyTorch: the graph keeps the hook (an activation hooked inside a forward)."""
    seen: list[list[float]] = []

    def forward(x: Tensor) -> Tensor:
        hidden = x * 2
        hidden.register_hook(lambda g: seen.append(g.tolist()))
        return (hidden * 3).sum()

    x = tg.ones(2, requires_grad=True)
    forward(x).backward()
    assert seen == [[3.0, 3.0]]


def test_a_freed_graph_forgets_its_hooks() -> None:
    """A hook that refers to its own tensor does not keep the graph alive after backward."""
    import gc
    import weakref

    x = tg.ones(2, requires_grad=True)

    def hooked_backward() -> weakref.ref:
        y = x * 2
        y.register_hook(lambda g: g * y.detach())
        y.sum().backward()
        return weakref.ref(y._ctx)

    node = hooked_backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])
    gc.collect()
    assert node() is None
