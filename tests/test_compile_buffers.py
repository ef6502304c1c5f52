"""The buffers of compiled code (`tinygrad_edu.compile`): what the generated code writes in
place is an array only it holds, so results equal eager's to the bit, and nothing handed
to the caller (an output, a gradient in `.grad`) changes on a later call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor
from tinygrad_edu.models import SmallConvNet
from tinygrad_edu.ops.elementwise import Add


def _batch(n: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.random((n, 1, 28, 28), dtype=np.float32),
            rng.integers(0, 10, n).astype(np.int64))


def _train(compiled: bool, steps: int = 3) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """SmallConvNet trained by SGD on three batches: each step's loss and gradients."""
    model = SmallConvNet(seed=0)
    opt = tg.optim.SGD(model.parameters(), lr=0.05)

    def loss(x: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(model(x), y)

    fn = tg.compile(loss) if compiled else loss
    out = []
    for step in range(steps):
        x, y = _batch(seed=step)
        opt.zero_grad()
        value = fn(Tensor(x), Tensor(y))
        value.backward()
        out.append((value.numpy().copy(), [p.grad.numpy().copy()  # type: ignore[union-attr]
                                          for p in model.parameters()]))
        opt.step()
    return out


def test_the_compiled_convnet_step_equals_eager_to_the_bit() -> None:
    for (loss_e, grads_e), (loss_c, grads_c) in zip(_train(False), _train(True)):
        np.testing.assert_array_equal(loss_c, loss_e)
        for gc, ge in zip(grads_c, grads_e):
            assert gc.dtype == ge.dtype == np.float32
            np.testing.assert_array_equal(gc, ge)


def test_a_later_call_leaves_the_arrays_of_an_earlier_one_alone() -> None:
    model = SmallConvNet(seed=1)
    step = tg.compile(lambda x, y: F.cross_entropy(model(x), y))
    params = list(model.parameters())
    held = []
    for seed in range(3):
        x, y = _batch(seed=seed)
        loss = step(Tensor(x), Tensor(y))
        loss.backward()
        grads = [p.grad for p in params]
        held.append((loss, grads, loss.numpy().copy(), [g.numpy().copy() for g in grads]))
        for p in params:
            p.grad = None  # the next call's gradients are new arrays, these stay with us
    for loss, grads, loss_copy, grad_copies in held:
        np.testing.assert_array_equal(loss.numpy(), loss_copy)
        for g, c in zip(grads, grad_copies):
            np.testing.assert_array_equal(g.numpy(), c)
    arrays = [g.array for _, grads, _, _ in held for g in grads]
    assert len({id(a) for a in arrays}) == len(arrays)


def _mlp(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) -> Tensor:
    return ((x @ W1 + b1).relu() @ W2 + b2).square().mean()


def _mlp_args(dtype: Any = np.float64) -> list[Tensor]:
    rng = np.random.default_rng(0)
    shapes = [(128, 64), (64, 256), (256,), (256, 10), (10,)]
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=i > 0)
            for i, s in enumerate(shapes)]


def _values_and_grads(fn: Callable[..., Tensor], args: list[Tensor]
                      ) -> tuple[np.ndarray, list[np.ndarray | None]]:
    for a in args:
        a.grad = None
    out = fn(*args)
    out.backward()
    return out.numpy().copy(), [None if a.grad is None else a.grad.numpy().copy()
                                for a in args]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_sum_written_in_place_is_the_eager_sum(dtype: Any) -> None:
    args = _mlp_args(dtype)
    compiled = tg.compile(_mlp)
    for _ in range(2):  # the tracing call and a call of the generated code
        value_c, grads_c = _values_and_grads(compiled, args)
        value_e, grads_e = _values_and_grads(_mlp, args)
        np.testing.assert_array_equal(value_c, value_e)
        for gc, ge in zip(grads_c, grads_e):
            np.testing.assert_array_equal(gc, ge)  # type: ignore[arg-type]
    # x @ W1 is a new array only the addition reads: b1 is added into it
    assert "= np.add(matmul, expand, out=matmul)  # Add, in place" in compiled.source


def test_an_input_and_a_saved_array_are_never_written() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((64, 300)), requires_grad=True)
    keep = x.numpy().copy()

    def f(x: Tensor) -> Tensor:
        h = x * 2.0 + 1.0  # x is the caller's; x * 2 is new and read once: written in place
        return (h * h).sum() + h.exp().sum()  # h is read three times: never overwritten

    compiled = tg.compile(f)
    for _ in range(2):
        x.grad = None
        value = compiled(x)
        value.backward()
        np.testing.assert_array_equal(x.numpy(), keep)
        grad = x.grad.numpy().copy()  # type: ignore[union-attr]
        x.grad = None
        f(x).backward()
        np.testing.assert_array_equal(value.numpy(), f(x).numpy())
        np.testing.assert_array_equal(grad, x.grad.numpy())  # type: ignore[union-attr]
    assert "out=x)" not in compiled.source


@pytest.mark.parametrize("rows, dtype", [(1, np.float64), (128, np.float32)])
def test_a_broadcast_or_a_narrower_dtype_is_not_the_target(rows: int, dtype: Any) -> None:
    rng = np.random.default_rng(0)
    v = Tensor(rng.standard_normal((rows, 64)).astype(dtype))
    W = Tensor(rng.standard_normal((64, 256)).astype(dtype))
    M = Tensor(rng.standard_normal((128, 256)))  # float64

    def f(v: Tensor, W: Tensor, M: Tensor) -> Tensor:
        # v @ W is new and read once, but (1, 256), or float32: the (128, 256) float64 sum
        # cannot live in it (numpy would cast it down without a word). The primitive
        # itself, which broadcasts and promotes in numpy: `+` would expand and cast first.
        return Add.apply(v @ W, M)

    compiled = tg.compile(f)
    for _ in range(2):
        value = compiled(v, W, M).numpy()
        assert value.dtype == np.float64 and value.shape == (128, 256)
        np.testing.assert_array_equal(value, f(v, W, M).numpy())
    assert "in place" not in compiled.source, compiled.source


def test_gradients_of_two_paths_are_summed_in_place() -> None:
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((96, 128)), requires_grad=True)
    x = Tensor(rng.standard_normal((128, 64)))

    def loss(W: Tensor, x: Tensor) -> Tensor:
        return ((W.T @ (W @ x) - x) ** 2).sum()

    compiled = tg.compile(loss)
    value_c, (gw_c, _) = _values_and_grads(compiled, [W, x])
    value_c2, (gw_c2, _) = _values_and_grads(compiled, [W, x])
    value_e, (gw_e, _) = _values_and_grads(loss, [W, x])
    np.testing.assert_array_equal(value_c2, value_e)
    np.testing.assert_array_equal(gw_c2, gw_e)  # type: ignore[arg-type]
    np.testing.assert_array_equal(gw_c, gw_e)  # type: ignore[arg-type]
    summed = compiled.source.split("# dL/dW: sum of 2 paths\n")[1].splitlines()[0]
    assert "out=" in summed and summed.endswith("# Add, in place"), summed


def test_relu_of_a_0d_result_compiles() -> None:
    # a ufunc on 0-d arrays gives a numpy scalar: no memory to write relu into
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)

    def f(x: Tensor) -> Tensor:
        return (x.sum() * 2.0).relu() + x.sum()

    compiled = tg.compile(f)
    for _ in range(2):
        value_c, (grad_c,) = _values_and_grads(compiled, [x])
        value_e, (grad_e,) = _values_and_grads(f, [x])
        np.testing.assert_array_equal(value_c, value_e)
        np.testing.assert_array_equal(grad_c, grad_e)  # type: ignore[arg-type]


def test_an_output_written_in_place_is_still_new_on_every_call() -> None:
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((64, 256)), requires_grad=True)
    b = Tensor(rng.standard_normal(256), requires_grad=True)

    def f(x: Tensor) -> Tensor:
        return (x @ W + b) * 2.0  # + b and * 2 written into x @ W's array: the output

    compiled = tg.compile(f)
    held = []
    for seed in range(3):
        x = Tensor(np.random.default_rng(seed).standard_normal((128, 64)))
        out = compiled(x)
        upstream = Tensor(np.ones((128, 256)))
        out.backward(upstream)
        np.testing.assert_array_equal(upstream.numpy(), 1.0)  # the caller's: never written
        grads = (W.grad, b.grad)
        W.grad = b.grad = None
        held.append((out, grads, out.numpy().copy(), [g.numpy().copy() for g in grads]))
        eager = f(x)
        np.testing.assert_array_equal(out.numpy(), eager.numpy())
        W.grad = b.grad = None
    for out, grads, out_copy, grad_copies in held:
        np.testing.assert_array_equal(out.numpy(), out_copy)
        for g, c in zip(grads, grad_copies):
            np.testing.assert_array_equal(g.numpy(), c)
    assert compiled.source.count("in place") >= 2, compiled.source
