"""Issue 19's random draws (multinomial, bernoulli, bernoulli_), autograd utilities
(Tensor.register_hook, inference_mode, is_inference_mode_enabled) and Size, against PyTorch.

Random draws cannot equal PyTorch's numbers: they are checked by statistics under a fixed
seed (chi-square bounds at the 0.1% level, so a wrong distribution fails and a right one
passes, deterministically), by reproducibility under `manual_seed` and `generator=`, and
the errors against PyTorch's. Hooks and modes run the same scenario on both libraries and
compare everything observed: the order of calls, what each hook saw, `.grad`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import compare, same

# chi-square quantiles at 0.999, by degrees of freedom
CHI2_999 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 11: 31.26}


def chi_square(counts: np.ndarray, expected: np.ndarray) -> float:
    return float(((counts - expected) ** 2 / expected).sum())


# ----------------------------------------------------------------------------- multinomial

def test_multinomial_with_replacement_follows_the_weights() -> None:
    tg.manual_seed(0)
    w = tg.tensor([[1.0, 2.0, 3.0, 4.0, 0.0], [0.0, 5.0, 0.0, 0.0, 5.0]])
    n = 20000
    draws = tg.multinomial(w, n, replacement=True)
    assert draws.shape == (2, n) and draws.dtype == np.int64
    counts0 = np.bincount(draws[0].numpy(), minlength=5)
    assert counts0[4] == 0  # a zero weight is never drawn
    assert chi_square(counts0[:4], n * np.array([0.1, 0.2, 0.3, 0.4])) < CHI2_999[3]
    counts1 = np.bincount(draws[1].numpy(), minlength=5)
    assert counts1[[0, 2, 3]].sum() == 0
    assert chi_square(counts1[[1, 4]], n * np.array([0.5, 0.5])) < CHI2_999[1]


def test_multinomial_without_replacement_draws_in_turn() -> None:
    """Ordered pairs (i, j): P = w_i * w_j / (1 - w_i), the law of successive draws."""
    tg.manual_seed(1)
    w = np.array([0.1, 0.2, 0.3, 0.4])
    n = 20000
    draws = tg.multinomial(tg.tensor(np.tile(w, (n, 1))), 2).numpy()
    assert np.all(draws[:, 0] != draws[:, 1])
    counts = np.zeros((4, 4))
    np.add.at(counts, (draws[:, 0], draws[:, 1]), 1)
    expected = np.array([[w[i] * w[j] / (1 - w[i]) if i != j else 0 for j in range(4)]
                         for i in range(4)]) * n
    off = ~np.eye(4, dtype=bool)
    assert chi_square(counts[off], expected[off]) < CHI2_999[11]


def test_multinomial_without_replacement_takes_zero_weights_last() -> None:
    """As PyTorch: once the positive weights are used up, the zero ones follow."""
    tg.manual_seed(2)
    out = tg.multinomial(tg.tensor([0.0, 0.2, 0.8, 0.0]), 4).numpy()
    assert sorted(out[:2]) == [1, 2] and sorted(out[2:]) == [0, 3]
    assert sorted(tg.multinomial(tg.tensor([1.0, 1.0, 1.0]), 3).numpy().tolist()) == [0, 1, 2]


@pytest.mark.parametrize("call", [
    lambda m, w: m.multinomial(w, 5, replacement=True),
    lambda m, w: m.multinomial(w, 3),
    lambda m, w: w.multinomial(4, True),
    lambda m, w: m.multinomial(input=w, num_samples=2, replacement=False),
])
def test_multinomial_shapes_and_reproducible(call: Callable[..., Any]) -> None:
    w_np = np.array([[0.2, 0.3, 0.5, 1.0], [1.0, 0.0, 2.0, 3.0]])
    theirs = call(torch, torch.tensor(w_np))
    tg.manual_seed(7)
    first = call(tg, tg.tensor(w_np))
    tg.manual_seed(7)
    again = call(tg, tg.tensor(w_np))
    assert first.shape == tuple(theirs.shape) and first.dtype == np.int64
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    one_row = call(tg, tg.tensor(w_np[0]))
    assert one_row.shape == tuple(call(torch, torch.tensor(w_np[0])).shape)


def test_multinomial_generator() -> None:
    """An explicit generator gives the same draws for the same seed and leaves the
    default generator alone."""
    w = tg.tensor([0.1, 0.2, 0.3, 0.4])
    a = tg.multinomial(w, 10, True, generator=tg.Generator().manual_seed(5))
    b = tg.multinomial(w, 10, True, generator=tg.Generator().manual_seed(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    tg.manual_seed(11)
    expected = tg.rand(4).numpy()
    tg.manual_seed(11)
    w.multinomial(3, generator=tg.Generator().manual_seed(5))
    np.testing.assert_array_equal(tg.rand(4).numpy(), expected)


@pytest.mark.parametrize(("w", "src"), [
    ([0.2, 0.8], "torch.multinomial(x, 3)"),
    ([[0.2, -0.8]], "torch.multinomial(x, 1)"),
    ([[0.0, 0.0]], "torch.multinomial(x, 1)"),
    ([[0.0, 0.0]], "torch.multinomial(x, 1, True)"),
    ([[1.0, np.inf]], "torch.multinomial(x, 1)"),
    ([[1.0, np.nan]], "torch.multinomial(x, 1, replacement=True)"),
    (1.0, "torch.multinomial(x, 1)"),
    (np.ones((2, 2, 2)), "torch.multinomial(x, 1)"),
    (np.ones((2, 3)), "torch.multinomial(x, 0)"),
    (np.ones(3), "torch.multinomial(x, -1, True)"),
    (np.ones((2, 0)), "torch.multinomial(x, 2)"),
    (np.array([1, 2]), "torch.multinomial(x, 2)"),
])
def test_multinomial_refuses(w: Any, src: str) -> None:
    same(src, np.asarray(w))


def test_multinomial_empty_batch() -> None:
    assert tg.multinomial(tg.ones(0, 3), 2).shape == (0, 2)


# ----------------------------------------------------------------------------- bernoulli

def test_bernoulli_follows_each_probability() -> None:
    tg.manual_seed(3)
    p = np.tile([0.0, 1.0, 0.25, 0.75, 0.5], (4000, 1))
    draws = tg.bernoulli(tg.tensor(p)).numpy()
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 1.0}
    assert np.all(draws[:, 0] == 0) and np.all(draws[:, 1] == 1)
    for col, q in ((2, 0.25), (3, 0.75), (4, 0.5)):
        ones = draws[:, col].sum()
        assert chi_square(np.array([ones, 4000 - ones]), 4000 * np.array([q, 1 - q])) < 10.83


def test_bernoulli_with_p() -> None:
    tg.manual_seed(4)
    x = tg.zeros(20000, dtype=tg.float64)
    draws = tg.bernoulli(x, 0.3)
    assert draws.dtype == np.float64
    ones = float(draws.sum())
    assert chi_square(np.array([ones, 20000 - ones]), 20000 * np.array([0.3, 0.7])) < 10.83
    assert float(x.bernoulli(p=0.0).sum()) == 0 and float(x.bernoulli(1.0).sum()) == 20000


def test_bernoulli_reproducible() -> None:
    p = tg.rand(50)
    tg.manual_seed(9)
    a = p.bernoulli()
    tg.manual_seed(9)
    b = tg.bernoulli(input=p)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g1 = tg.bernoulli(p, generator=tg.Generator().manual_seed(1))
    g2 = p.bernoulli(generator=tg.Generator().manual_seed(1))
    np.testing.assert_array_equal(g1.numpy(), g2.numpy())


def test_bernoulli_gradient_is_zero_as_pytorch() -> None:
    """The sample does not move with p: PyTorch hands p a zero gradient (not None)."""
    p_np = np.array([0.0, 1.0, 0.5])
    ours, theirs = tg.tensor(p_np, requires_grad=True), torch.tensor(p_np, requires_grad=True)
    (tg.bernoulli(ours) * 3).sum().backward()
    (torch.bernoulli(theirs) * 3).sum().backward()
    compare(ours.grad, theirs.grad)


def test_bernoulli_inplace() -> None:
    tg.manual_seed(5)
    x = tg.zeros(3)
    assert x.bernoulli_(tg.tensor([1.0, 0.0, 1.0])) is x
    np.testing.assert_array_equal(x.numpy(), [1.0, 0.0, 1.0])
    i = tg.zeros(3, dtype=tg.int64).bernoulli_(1.0)
    assert i.dtype == np.int64 and i.tolist() == [1, 1, 1]
    big = tg.zeros(20000).bernoulli_(p=0.2)
    ones = float(big.sum())
    assert chi_square(np.array([ones, 20000 - ones]), 20000 * np.array([0.2, 0.8])) < 10.83
    assert tg.zeros(2, 3).bernoulli_(tg.tensor(1.0)).tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize(("src", "x"), [
    ("torch.bernoulli(x)", [0.0, 1.0, 1.5]), ("torch.bernoulli(x)", [0.0, -0.5]),
    ("torch.bernoulli(x)", [0.0, np.nan]), ("torch.bernoulli(x, p=1.5)", [0.0, 1.0]),
    ("torch.bernoulli(x)", np.array([0, 1])), ("x.bernoulli_(1.5)", [0.0, 1.0]),
    ("x.bernoulli_(p=torch.tensor([1.0, 0.0]))", [0.0, 1.0, 0.0]),
])
def test_bernoulli_refuses(src: str, x: Any) -> None:
    same(src, np.asarray(x))


# ----------------------------------------------------------------------------- hooks

def hooks_scenario(lib: Any) -> list[Any]:
    """Two hooks and retain_grad on an intermediate, a hook on a leaf, two backward calls
    (the leaf's .grad accumulates what its hook returned), then a removed hook."""
    seen: list[Any] = []
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    b.retain_grad()
    h1 = b.register_hook(lambda g: (seen.append(("b1", g.tolist())), g * 10)[1])
    b.register_hook(lambda g: seen.append(("b2", g.tolist())))
    a.register_hook(lambda g: (seen.append(("a", g.tolist())), g + 1)[1])
    (b * b).sum().backward()
    seen.append(("grads", b.grad.tolist(), a.grad.tolist()))
    (a * 2).sum().backward()
    seen.append(("a.grad", a.grad.tolist()))
    h1.remove()
    c = a * 3
    c.register_hook(lambda g: seen.append(("c", g.tolist())))
    c.sum().backward()
    seen.append(("a.grad", a.grad.tolist()))
    return seen


def retain_after_hook(lib: Any) -> list[Any]:
    """The retained gradient is the hooked one, whichever was registered first."""
    out = []
    for first_retain in (False, True):
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        if first_retain:
            y.retain_grad()
        y.register_hook(lambda g: g * 5)
        if not first_retain:
            y.retain_grad()
        y.backward(lib.ones(1))
        out.append((y.grad.tolist(), x.grad.tolist()))
    return out


def grad_and_outputs(lib: Any) -> list[Any]:
    """autograd.grad runs the hooks of its inputs and intermediates (not .grad); a hook on
    a leaf used twice sees the summed gradient once; a hook on the output itself fires."""
    seen: list[Any] = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: (seen.append(("x", g.tolist())), g * 2)[1])
    y = x * x
    y.register_hook(lambda g: (seen.append(("y", g.tolist())), g * 3)[1])
    seen.append(("grad", [g.tolist() for g in lib.autograd.grad(y.sum(), x, retain_graph=True)]))
    seen.append(("x.grad", x.grad))
    z = lib.tensor(1.5, requires_grad=True)
    z.register_hook(lambda g: seen.append(("z", g.item())))
    (z * 2 + z * 3).backward()
    z.backward()
    seen.append(("z.grad", z.grad.item()))
    return seen


def second_order(lib: Any) -> list[Any]:
    """With create_graph the hook's result stays in the graph."""
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = x ** 3
    y.register_hook(lambda g: g * x)
    (gx,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (hx,) = lib.autograd.grad(gx.sum(), x)
    return [gx.tolist(), hx.tolist()]


@pytest.mark.parametrize("scenario", [hooks_scenario, retain_after_hook, grad_and_outputs,
                                      second_order])
def test_hooks_as_pytorch(scenario: Callable[[Any], list[Any]]) -> None:
    assert scenario(tg) == scenario(torch)


def test_hook_refusals() -> None:
    for lib in (torch, tg):
        with pytest.raises(RuntimeError):
            lib.ones(2).register_hook(lambda g: g)
    x = tg.ones(2, requires_grad=True)
    (x * 2).register_hook(lambda g: g)  # a dropped intermediate: nothing to call later
    y = x * 2
    y.register_hook(lambda g: tg.ones(3))
    with pytest.raises(RuntimeError, match=r"register_hook: .*\(3,\).*\(2,\)"):
        y.sum().backward()


def test_hook_handle_as_context_manager() -> None:
    seen: list[int] = []
    x = tg.ones(2, requires_grad=True)
    with x.register_hook(lambda g: seen.append(1)):
        x.sum().backward()
    x.sum().backward()
    assert seen == [1]


# ----------------------------------------------------------------------------- inference_mode

def modes_scenario(lib: Any) -> list[Any]:
    seen = []
    x = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled(),
                     (x * 2).requires_grad))
        with lib.inference_mode(False):
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled(),
                         (x * 2).requires_grad))
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
    with lib.no_grad(), lib.inference_mode(mode=False):  # PyTorch: grad mode is back on
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))

    @lib.inference_mode
    def bare() -> Any:
        return lib.is_grad_enabled(), lib.is_inference_mode_enabled(), (x * 2).requires_grad

    @lib.inference_mode()
    def called() -> Any:
        return lib.is_grad_enabled(), (x * 2).requires_grad

    seen += [bare(), called(), bare.__name__, lib.is_grad_enabled(),
             lib.is_inference_mode_enabled()]
    try:
        with lib.inference_mode():
            raise KeyError
    except KeyError:
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
    return seen


def test_inference_mode_as_pytorch() -> None:
    assert modes_scenario(tg) == modes_scenario(torch)


# ----------------------------------------------------------------------------- Size

def size_scenario(lib: Any) -> list[Any]:
    s = lib.Size([2, 3, 4])
    empty = lib.Size()
    return [repr(s), s == (2, 3, 4), (2, 3, 4) == s, s.numel(), empty.numel(), repr(empty),
            repr(s[1:]), type(s[1:]).__name__, s[0], repr(s + (5,)), repr((1,) + s),
            repr(s * 2), list(s), isinstance(s, tuple), len(s), repr(lib.Size(range(3))),
            repr(lib.Size(lib.tensor([2, 5]))), repr(lib.Size([np.int64(3)])),
            s == lib.ones(2, 3, 4).shape, lib.Size([2, 3]) == lib.ones(2, 3).size(),
            hash(s) == hash((2, 3, 4)), repr(lib.ones(2, 0).size()), repr(lib.ones(()).size()),
            lib.ones(2, 3).size().numel(), type(lib.ones(2, 3).size()) is lib.Size,
            repr(lib.ones(2, 3, 4).size()[1:])]


def test_size_as_pytorch() -> None:
    assert size_scenario(tg) == size_scenario(torch)


@pytest.mark.parametrize("bad", [[2.5], ["a"], [None], 3])
def test_size_refuses_what_pytorch_refuses(bad: Any) -> None:
    with pytest.raises(TypeError):
        torch.Size(bad)
    with pytest.raises(TypeError):
        tg.Size(bad)
