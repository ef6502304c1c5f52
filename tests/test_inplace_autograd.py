"""In place inside a graph: `relu_` (PyTorch's rewiring: the tensor becomes the output of
a ReLU node whose input is its old value), and the engine's reuse of a gradient array that
nothing else holds (private gradients: `kernels.py`). Each is held to the
out-of-place computation, and every way the reused array could be seen elsewhere (a
retained grad, a requested input, the gradient tape, a second consumer) is checked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn import functional as F
from tinygrad_edu.testing import assert_gradients_match


def _conv_relu_pool(x: Tensor, w: Tensor, inplace: bool) -> Tensor:
    return F.max_pool2d(F.relu(F.conv2d(x, w, padding=1), inplace=inplace), 2)


# ----------------------------------------------------------------------------- relu_


@given(st.integers(1, 3), st.integers(1, 3), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_relu_inplace_gives_the_out_of_place_gradients(n: int, c: int, size: int,
                                                        seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((n, c, size, size)), rng.standard_normal((2, c, 3, 3))
    results = []
    for inplace in (False, True):
        leaves = [Tensor(a, requires_grad=True) for a in (x, w)]
        out = _conv_relu_pool(*leaves, inplace=inplace)
        upstream = Tensor(np.random.default_rng(seed % 997).standard_normal(out.shape))
        results.append([out.numpy(), *tg.autograd.grad(out, leaves, grad_outputs=upstream)])
    for a, b in zip(*results):
        np.testing.assert_array_equal(getattr(a, "data", a), getattr(b, "data", b))


def test_relu_inplace_numeric_first_and_second_order() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    x[np.abs(x) < 0.1] = 0.5  # keep away from the kink for central differences
    assert_gradients_match(lambda t: (t * 1.5 + 0.25).relu_() ** 2, x, second_order=True)


def test_relu_inplace_writes_into_the_tensor_and_rewires_it() -> None:
    h = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True) * 1.0
    producer = h.grad_fn
    data, version = h.numpy(), h._version
    out = h.relu_()
    assert out is h and h.numpy() is data and h._version == version + 1
    np.testing.assert_array_equal(h.numpy(), [0.0, 0.0, 2.0])
    assert h.grad_fn is not producer and h.grad_fn.op == "ReLU"
    assert h.grad_fn.inputs[0]._ctx is producer  # the old value, by its producer
    with pytest.raises(RuntimeError, match=r"relu_: this value \(shape \(3,\)\) was overwritten"):
        _ = h.grad_fn.inputs[0].array


def test_relu_inplace_without_a_graph_is_plain_numpy() -> None:
    t = Tensor(np.array([-2.0, 3.0]))
    assert t.relu_() is t and t.grad_fn is None
    np.testing.assert_array_equal(t.numpy(), [0.0, 3.0])
    leaf = Tensor(np.array([-2.0, 3.0]), requires_grad=True)
    with tg.no_grad():
        leaf.relu_()
    np.testing.assert_array_equal(leaf.numpy(), [0.0, 3.0])


@pytest.mark.parametrize("make,match", [
    (lambda x: x, "relu_: in-place change of a leaf tensor that requires grad"),
    (lambda x: (x * 2).reshape(-1), r"relu_: in-place change of a view \(shape \(6,\)\)"),
])
def test_relu_inplace_refuses_leaves_and_views(make: Any, match: str) -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=match):
        make(x).relu_()


@pytest.mark.parametrize("first,op", [(lambda t: t.exp(), "Exp"),
                                      (lambda t: t.sigmoid(), "Sigmoid"),
                                      (lambda t: (t * 1.0).relu(), "ReLU")])
def test_relu_inplace_after_an_op_that_needs_its_output_raises_at_backward(
        first: Any, op: str) -> None:
    x = Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    y = first(x)
    y.relu_()
    with pytest.raises(RuntimeError, match=f"output of {op} .*modified in place"):
        y.sum().backward()


def test_relu_inplace_when_another_op_saved_the_old_value_raises_at_backward() -> None:
    x = Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    h = x * 2.0
    square = h * h  # Mul saved h's old value
    h.relu_()
    with pytest.raises(RuntimeError, match="input of Mul .*modified in place"):
        (square.sum() + h.sum()).backward()


def test_relu_module_and_functional_inplace() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    grads = []
    for inplace in (False, True):
        torch_like = nn.Sequential(nn.Linear(5, 6), nn.ReLU(inplace=inplace), nn.Linear(6, 2))
        tg.manual_seed(0)
        for p in torch_like.parameters():
            with tg.no_grad():
                p.copy_(np.random.default_rng(p.numel()).standard_normal(p.shape))
        torch_like(Tensor(x)).sum().backward()
        grads.append([p.grad.numpy() for p in torch_like.parameters()])  # type: ignore[union-attr]
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    assert "inplace=True" in repr(nn.ReLU(inplace=True))


# ----------------------------------------------------------------------------- owned gradients


def _pool_grad(x: np.ndarray, w: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """d(sum(upstream * pool(a)))/da for a = relu(conv(x, w)), computed without relu's
    backward: what must reach `a` untouched."""
    a = Tensor(F.relu(F.conv2d(x, w, padding=1)).numpy(), requires_grad=True)
    F.max_pool2d(a, 2).backward(Tensor(upstream))
    return a.grad.numpy()  # type: ignore[union-attr]


def _setup() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    return x, w, rng.standard_normal((2, 3, 2, 2))


def test_a_retained_grad_is_not_reused_in_place() -> None:
    x, w, upstream = _setup()
    wt = Tensor(w, requires_grad=True)
    a = F.relu(F.conv2d(x, wt, padding=1))
    a.retain_grad()
    F.max_pool2d(a, 2).backward(Tensor(upstream))
    np.testing.assert_array_equal(a.grad.numpy(), _pool_grad(x, w, upstream))  # type: ignore[union-attr]


def test_a_requested_input_gradient_is_not_reused_in_place() -> None:
    x, w, upstream = _setup()
    wt = Tensor(w, requires_grad=True)
    a = F.relu(F.conv2d(x, wt, padding=1))
    ga, gw = tg.autograd.grad(F.max_pool2d(a, 2), [a, wt], grad_outputs=Tensor(upstream))
    np.testing.assert_array_equal(ga.numpy(), _pool_grad(x, w, upstream))
    assert gw.shape == w.shape


def test_the_gradient_tape_keeps_what_each_edge_carried() -> None:
    x, w, upstream = _setup()
    wt = Tensor(w, requires_grad=True)
    a = F.relu(F.conv2d(x, wt, padding=1))
    pooled = F.max_pool2d(a, 2)
    with tg.record_gradients() as tape:
        pooled.backward(Tensor(upstream))
    np.testing.assert_array_equal(tape.edges[(pooled.grad_fn, 0)], _pool_grad(x, w, upstream))


def test_two_consumers_sum_before_any_reuse() -> None:
    """`a` feeds a pool and a sum: its gradient is a new array (the sum of both), reused
    in place by relu, and equal to what the numeric check gives."""
    x, w, _ = _setup()

    def f(wt: Tensor) -> Tensor:
        a = F.relu(F.conv2d(x, wt, padding=1))
        return (F.max_pool2d(a, 2) ** 2).sum() + (a * 0.5).sum()

    assert_gradients_match(f, w)


def test_a_backward_that_failed_leaves_nothing_behind_for_the_next() -> None:
    """Which gradients are private is the state of one backward pass (engine_steps.Step),
    never a global: after an error, the next backward gets the out-of-place result."""
    class Boom(tg.autograd.Function):
        def forward(self, x: np.ndarray) -> np.ndarray:
            return x.copy()

        def backward(self, grad: Tensor) -> Tensor:
            raise ValueError("boom")

    x = Tensor(np.ones(3), requires_grad=True)
    y = F.max_pool1d(Boom.apply(x * 1.0).reshape(1, 1, 3), 1)
    with pytest.raises(ValueError, match="boom"):
        (y * 1.0).sum().backward()
    h = Tensor(np.array([-1.0, 2.0, 3.0]), requires_grad=True)
    kept = h * 2.0
    kept.retain_grad()
    (F.relu(kept) * 3.0).sum().backward()
    np.testing.assert_array_equal(kept.grad.numpy(), [0.0, 3.0, 3.0])
    np.testing.assert_array_equal(h.grad.numpy(), [0.0, 6.0, 6.0])


def test_leaf_grads_from_fresh_producers_are_handed_out_without_a_copy_yet_stay_apart() -> None:
    """conv2d's x.grad and b.grad are views of arrays only the backward made: no copy, and
    changing one .grad in place changes no other gradient."""
    rng = np.random.default_rng(3)
    x, w, b = (Tensor(a, requires_grad=True) for a in (
        rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)),
        rng.standard_normal(4)))
    F.conv2d(x, w, b, padding=1).sum().backward()
    grads = [t.grad for t in (x, w, b)]
    assert x.grad is not None and x.grad.numpy().base is not None  # the fold's view, kept
    before = [g.numpy().copy() for g in grads]  # type: ignore[union-attr]
    for i, g in enumerate(grads):
        g.numpy()[...] = -7.0  # type: ignore[union-attr]
        for j, (other, old) in enumerate(zip(grads, before)):
            if j > i:
                np.testing.assert_array_equal(other.numpy(), old)  # type: ignore[union-attr]


def test_a_taped_leaf_gradient_is_copied_into_grad() -> None:
    """The gradient tape keeps the array it saw; .grad must not be that same array."""
    rng = np.random.default_rng(4)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = F.conv2d(rng.standard_normal((2, 3, 5, 5)), w, padding=1)
    with tg.record_gradients() as tape:
        out.sum().backward()
    assert w.grad is not None
    assert not any(np.shares_memory(w.grad.numpy(), a) for a in tape.edges.values())


def test_a_shared_gradient_is_still_copied_for_each_leaf() -> None:
    a, b = (Tensor(np.ones(3), requires_grad=True) for _ in range(2))
    (a + b).sum().backward()
    assert a.grad is not None and b.grad is not None
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
