"""Memory ceilings on short runs (the long runs are `benchmarks/bench_memory.py`).

tracemalloc sees Python's allocations and numpy's array buffers (numpy reports them), so
"traced memory after step N minus after step M" is what training keeps, independent of
the allocator holding pages for reuse. Timings are never asserted here.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor, nn, optim
from tinygrad_edu.nn import functional as F

KB = 1024


@pytest.fixture
def traced() -> Iterator[None]:
    gc.collect()
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def _current() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_mlp_training_memory_is_flat(traced: None) -> None:
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = Tensor(rng.standard_normal((16, 64), dtype=np.float32))
    y = Tensor(rng.integers(0, 10, 16))
    after_50 = 0
    for step in range(1, 301):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if step == 50:
            after_50 = _current()
    growth = _current() - after_50
    # one step's graph for these shapes is ~40 KB; a per-step leak of even a few hundred
    # bytes would add > 50 KB over 250 steps
    assert growth < 32 * KB, f"traced memory grew by {growth / KB:.1f} KB over 250 steps"


def _chain(x: Tensor, n: int) -> Tensor:
    y = x
    for i in range(n):
        y = y * 1.0 if i % 2 else y + 0.0
    return y


def test_long_chain_backward_completes_and_frees(traced: None) -> None:
    x = Tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    _chain(x, 100).sum().backward()  # first calls allocate caches that stay: not the graph
    x.grad = None
    base = _current()
    y = _chain(x, 100_000)  # deeper than any recursion limit
    held = tracemalloc.get_traced_memory()[0] - base
    assert held > 10 * 1024 * KB  # the graph is really there (~87 MB)...
    y.sum().backward()
    assert x.grad is not None and x.grad.numpy().tolist() == [1.0] * 4
    node = weakref.ref(y._ctx)
    del y
    assert node() is None  # freed by reference counting
    x.grad = None
    assert _current() - base < 64 * KB  # ...and all of it is returned


class _Boom(Exception):
    pass


class _RaisesInBackward(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * 2.0

    def backward(self, grad: Tensor) -> Tensor:
        raise _Boom("backward failed on purpose")


def _graph_that_raises(w: Tensor) -> tuple[Tensor, list[weakref.ref]]:
    x = Tensor(np.ones((4, 8), dtype=np.float32))
    h = (x @ w).relu()
    mid = _RaisesInBackward.apply(h)
    loss = (mid @ w).tanh().sum()  # these nodes run their backward before the raise
    refs = [weakref.ref(t) for t in (h, mid, loss)]
    refs += [weakref.ref(t._ctx) for t in (h, mid, loss)]
    return loss, refs


def test_graph_dropped_mid_backward_is_not_retained() -> None:
    w = Tensor(np.full((8, 8), 0.1, dtype=np.float32), requires_grad=True)
    loss, refs = _graph_that_raises(w)
    with pytest.raises(_Boom):
        loss.backward()
    del loss
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"still alive after a failed backward: {alive}"


def test_graph_dropped_mid_backward_by_reference_counting() -> None:
    """Without the cyclic GC: the exception's traceback must not tie the graph in a cycle."""
    w = Tensor(np.full((8, 8), 0.1, dtype=np.float32), requires_grad=True)
    gc.disable()
    try:
        loss, refs = _graph_that_raises(w)
        try:
            loss.backward()
        except _Boom:
            pass
        del loss
        alive = [r() for r in refs if r() is not None]
    finally:
        gc.enable()
    assert not alive, f"kept alive by a reference cycle after a failed backward: {alive}"


def test_repeated_failed_backward_memory_is_flat(traced: None) -> None:
    w = Tensor(np.full((8, 8), 0.1, dtype=np.float32), requires_grad=True)
    after_20 = 0
    for i in range(1, 201):
        loss, _ = _graph_that_raises(w)
        with pytest.raises(_Boom):
            loss.backward()
        del loss
        if i == 20:
            after_20 = _current()
    growth = _current() - after_20
    assert growth < 16 * KB, f"traced memory grew by {growth / KB:.1f} KB over 180 failures"
