"""The backward engine: accumulation over paths, broadcasting, long chains, graph release,
`.grad` semantics, higher order, user Functions, node metadata, in-place checks, anomaly
detection, the gradient tape and garbage collection. (Grad modes, detach, dtype rules and
`tinygrad_edu.grad` are in `test_engine_modes.py`; user-defined Functions in
`test_custom_function.py`.)"""

from __future__ import annotations

import gc
import sys
import weakref
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor
from tinygrad_edu.autograd import module_scope


def _leaf(values: Any) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _grad(t: Tensor) -> np.ndarray:
    assert t.grad is not None
    return t.grad.numpy()


# ----------------------------------------------------------------------------- paths


def test_diamond_graph_sums_both_paths() -> None:
    x = _leaf([0.5, -1.0])
    a, b = x * 2.0, x.exp()
    (a * b).sum().backward()
    xv = x.numpy()
    np.testing.assert_allclose(_grad(x), 2 * np.exp(xv) + 2 * xv * np.exp(xv))


def test_shared_input_used_by_several_ops() -> None:
    x, y = _leaf(1.5), _leaf(-2.0)
    (x * y + x * x + y).backward()
    assert _grad(x) == pytest.approx(-2.0 + 3.0)
    assert _grad(y) == pytest.approx(1.5 + 1.0)


def test_w_in_wt_w_x_gets_two_contributions() -> None:
    rng = np.random.default_rng(0)
    W, x = _leaf(rng.standard_normal((3, 5))), Tensor(rng.standard_normal(5))
    with tg.record_gradients() as tape:
        r = W.T @ (W @ x) - x
        (0.5 * (r * r).sum()).backward()
    assert tape.paths[W] == 2
    Wv, xv = W.numpy(), x.numpy()
    g = Wv.T @ Wv @ xv - xv
    np.testing.assert_allclose(_grad(W), np.outer(Wv @ xv, g) + np.outer(Wv @ g, xv))
    np.testing.assert_allclose(tape.totals[W], _grad(W))


def test_edges_of_the_tape_hold_each_input_gradient() -> None:
    x = _leaf([1.0, 2.0])
    with tg.record_gradients() as tape:
        y = x * 3.0
        z = (y * y).sum()
        z.backward()
    mul_node = y.grad_fn
    np.testing.assert_allclose(tape.edges[(mul_node, 0)], [18.0, 36.0])
    assert (z.grad_fn, 0) in tape.edges
    assert tape.paths[x] == 1


@given(shapes=st.sampled_from([((3, 1), (4,)), ((2, 3), ()), ((1, 3), (2, 1)), ((), (2, 2)),
                               ((2, 1, 3), (4, 1))]))
def test_broadcast_gradients_sum_back_to_input_shapes(shapes: Any) -> None:
    rng = np.random.default_rng(1)
    a, b = _leaf(rng.standard_normal(shapes[0])), _leaf(rng.standard_normal(shapes[1]))
    out = a * b
    upstream = rng.standard_normal(out.shape)
    out.backward(Tensor(upstream))
    full_a = np.broadcast_to(a.numpy(), out.shape)
    full_b = np.broadcast_to(b.numpy(), out.shape)
    for leaf, dense in ((a, upstream * full_b), (b, upstream * full_a)):
        lead = dense.ndim - leaf.ndim
        summed = dense.sum(axis=tuple(range(lead)))
        axes = tuple(i for i, n in enumerate(leaf.shape) if n == 1)
        summed = summed.sum(axis=axes, keepdims=True)
        assert _grad(leaf).shape == leaf.shape
        np.testing.assert_allclose(_grad(leaf), summed.reshape(leaf.shape))


# ----------------------------------------------------------------------------- long chains


def test_chain_of_100000_ops_runs_backward_without_recursion() -> None:
    x = _leaf(2.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    assert sys.getrecursionlimit() < 100_000
    y.backward()
    assert _grad(x) == 1.0


class _Counted(Function):
    """y = x; counts how often its backward runs."""

    calls = 0
    reads_inputs = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, grad: Tensor) -> Tensor:
        type(self).calls += 1
        return grad


@pytest.mark.parametrize("n", [10, 1000, 10_000])
def test_chain_backward_visits_each_node_once(n: int) -> None:
    x = _leaf(1.0)
    y = x
    for _ in range(n):
        y = _Counted.apply(y)
    _Counted.calls = 0
    with tg.record_gradients() as tape:
        y.backward()
    assert _Counted.calls == n  # work linear in the length: one backward per node
    assert len(tape.edges) == n


def test_ladder_of_diamonds_runs_each_node_once() -> None:
    # 60 stacked diamonds have 2**60 paths; each node must still run exactly once
    x = _leaf(1.0)
    y = x
    for _ in range(60):
        y = _Counted.apply(y) + _Counted.apply(y)
    _Counted.calls = 0
    y.backward()
    assert _Counted.calls == 120
    assert _grad(x) == 2.0**60


# ----------------------------------------------------------------------------- release


def test_second_backward_through_a_freed_graph_raises() -> None:
    x = _leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_two_backwards_and_grads_accumulate() -> None:
    x = _leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(_grad(x), [2.0, 4.0])
    y.backward()
    np.testing.assert_allclose(_grad(x), [4.0, 8.0])


def test_leaf_grad_accumulates_and_is_reset_like_pytorch() -> None:
    x = _leaf([1.0, -1.0])
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(_grad(x), [6.0, 6.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(_grad(x), [2.0, -2.0])
    assert x.grad is not None
    x.grad.zero_()
    np.testing.assert_allclose(_grad(x), [0.0, 0.0])
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(_grad(x), [5.0, 5.0])
    x.zero_grad_()
    assert x.grad is None


def test_intermediates_keep_no_grad_unless_retained() -> None:
    x = _leaf([1.0, 2.0])
    h = x * 2.0
    k = x * 3.0
    k.retain_grad()
    assert k.retains_grad and not h.retains_grad
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(_grad(k), h.numpy())
    np.testing.assert_allclose(_grad(x), 2.0 * k.numpy() + 3.0 * h.numpy())
    assert x.is_leaf and not h.is_leaf


# ----------------------------------------------------------------------------- higher order


@given(x=st.floats(-3, 3, allow_nan=False))
def test_third_derivative_of_x4_is_24x(x: float) -> None:
    t = _leaf(x)
    y = t**4
    (g1,) = tg.grad(y, t, create_graph=True)
    (g2,) = tg.grad(g1, t, create_graph=True)
    (g3,) = tg.grad(g2, t)
    assert g1.item() == pytest.approx(4 * x**3, abs=1e-9)
    assert g2.item() == pytest.approx(12 * x**2, abs=1e-9)
    assert g3.item() == pytest.approx(24 * x, abs=1e-9)


def test_backward_with_create_graph_records_the_gradient() -> None:
    x = _leaf([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad is not None and x.grad.requires_grad
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(_grad(x), 6 * x.numpy())


@given(n=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_hessian_vector_product_of_quadratic_form(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    v = rng.standard_normal(n)
    x = _leaf(rng.standard_normal(n))
    f = x @ (Tensor(A) @ x)
    (g,) = tg.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), (A + A.T) @ x.numpy(), atol=1e-12)
    (hv,) = tg.grad((g * Tensor(v)).sum(), x)
    np.testing.assert_allclose(hv.numpy(), (A + A.T) @ v, atol=1e-12)


# ----------------------------------------------------------------------------- metadata


def test_nodes_record_op_inputs_shape_dtype_and_module_path() -> None:
    W = Tensor(np.ones((2, 3)), requires_grad=True, name="W")
    x = Tensor(np.ones((3, 1), dtype=np.float64), name="x")
    with module_scope("encoder.fc1"):
        y = W @ x
    z = y.relu()
    node = y.grad_fn
    assert node is not None
    assert node.op == "MatMul"
    assert node.inputs[0] is W and node.inputs[1] is x
    assert node.needs_input_grad == (True, False)
    assert node.shape == (2, 1) and node.dtype == np.float64
    assert node.module_path == "encoder.fc1"
    assert z.grad_fn is not None and z.grad_fn.module_path == ""
    assert W.name == "W" and "W" in repr(W)
    assert x.grad_fn is None and W.grad_fn is None


# ----------------------------------------------------------------------------- in-place


def test_in_place_change_of_a_saved_input_raises_at_backward() -> None:
    x = _leaf([1.0, 2.0])
    a = Tensor(np.array([3.0, 4.0]))
    y = (x * a).sum()
    a.mul_(2.0)
    with pytest.raises(RuntimeError, match="Mul.*modified in place"):
        y.backward()


def test_in_place_change_of_a_saved_intermediate_raises_at_backward() -> None:
    x = _leaf([1.0, 2.0])
    h = x * 2.0
    y = h.exp().sum() + (h * h).sum()
    with tg.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_in_place_change_not_read_by_backward_is_allowed() -> None:
    x = _leaf([1.0, 2.0])
    a = Tensor(np.array([3.0, 4.0]))
    y = (x + a).sum()  # add's backward does not read its inputs
    a.zero_()
    y.backward()
    np.testing.assert_allclose(_grad(x), [1.0, 1.0])


# ----------------------------------------------------------------------------- anomaly


def test_detect_anomaly_names_the_op_and_where_it_was_made() -> None:
    """Backward: the first NaN/Inf gradient names its op and where the op was created."""
    with tg.detect_anomaly():
        w = _leaf([0.0, 1.0])
        s = w.sqrt().sum()  # finite, but d sqrt(w) / dw is inf at 0
        with np.errstate(divide="ignore"), pytest.raises(
                FloatingPointError, match=r"Sqrt\.backward produced NaN/Inf.*test_engine\.py"):
            s.backward()
    w2 = _leaf([-1.0])
    with np.errstate(invalid="ignore"):
        w2.sqrt().sum().backward()  # without detect_anomaly the NaN just flows
    assert np.isnan(_grad(w2)).all()


def test_detect_anomaly_names_the_forward_op_that_made_the_first_nan() -> None:
    """Forward: the op whose output has a NaN none of its inputs had raises, named with
    the shapes and the line that called it; a NaN passed along, or an Inf, does not."""
    with tg.detect_anomaly():
        w = _leaf([-1.0, 1.0])
        with np.errstate(invalid="ignore"), pytest.raises(
                FloatingPointError,
                match=r"^Sqrt produced NaN in its forward \(inputs of shape \(2,\), output "
                      r"\(2,\)\) at .*test_engine\.py"):
            w.sqrt()
        nan = _leaf([np.nan, 1.0])
        assert np.isnan((nan * 2.0).numpy()[0])  # the NaN came in: not this op's doing
        with np.errstate(divide="ignore"):
            assert (_leaf([1.0]) / 0.0).numpy()[0] == np.inf  # an Inf is no anomaly here


# ----------------------------------------------------------------------------- GC


def test_dropped_graph_is_freed_by_reference_counting() -> None:
    gc.collect()
    gc.disable()
    try:
        x = _leaf(np.ones(4))
        h = x * 2.0
        y = h.exp().sum()
        refs = [weakref.ref(t) for t in (h, y)] + [weakref.ref(y.grad_fn), weakref.ref(h.grad_fn)]
        del h, y
        assert [r() for r in refs] == [None] * 4  # no cycle keeps any of them
        assert x.grad is None
    finally:
        gc.enable()


def test_backward_releases_intermediates_the_caller_dropped() -> None:
    gc.collect()
    gc.disable()
    try:
        x = _leaf(np.ones(4))
        h = x * 2.0
        y = (h * h).sum()
        ref = weakref.ref(h)
        del h
        assert ref() is not None  # the graph still needs it
        y.backward()
        assert ref() is None  # saved arrays go with the released graph
        assert y.grad_fn is not None and y.grad_fn.released
    finally:
        gc.enable()


def test_no_grad_results_hold_no_graph() -> None:
    x = _leaf(np.ones(3))
    with tg.no_grad():
        y = x * 2.0
    assert y.grad_fn is None and not y.requires_grad
    ref = weakref.ref(y)
    del y
    assert ref() is None
