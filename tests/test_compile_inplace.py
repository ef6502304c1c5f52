"""In-place ops inside a compiled function are replayed as the out-of-place ops they stand
for (the tensor changed in place then reads the new value's slot): each call's values and
gradients equal eager's. What the generated code could not repeat is an error at trace
time: an argument changed in place (the caller's tensor would not change on later calls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.compile import TraceError


def _masked_fill(x: Tensor) -> Tensor:
    y = x * 2.0
    y.masked_fill_(x > 0.5, -1.0)
    return y


def _setitem(x: Tensor) -> Tensor:
    y = x * 1.5
    y[0] = x[2] * 3.0
    y[1:3] = y[1:3] + x[:2] * 2.0
    return y


def _view(x: Tensor) -> Tensor:
    y = x * 2.0
    v = y[1:]
    v *= 3.0
    return y * v.sum()


def _view_taken_before(x: Tensor) -> Tensor:
    y = x.sin()
    v = y[:2]
    y.mul_(x)
    return v * 2.0 + y.sum()


def _arithmetic(x: Tensor) -> Tensor:
    y = x + 0.0
    y += 1.0
    y.mul_(x)
    y.sub_(x.sin())
    y.div_(2.0)
    y.clamp_(-0.75, 2.0)
    return y


def _scatter(x: Tensor) -> Tensor:
    y = x * 1.0
    index = Tensor(np.array([3, 0, 0, 2]))
    y.scatter_(0, index, x * 3.0)
    return y


def _copy_and_zero(x: Tensor) -> Tensor:
    y = x.sin()
    y[:2].zero_()
    z = x * 1.0
    z.copy_(y * x)
    return z + y


CASES: dict[str, Callable[[Tensor], Tensor]] = {
    "masked_fill_": _masked_fill, "setitem": _setitem, "view": _view,
    "view_taken_before": _view_taken_before, "arithmetic": _arithmetic,
    "scatter_": _scatter, "copy_and_zero_": _copy_and_zero,
}


def _run(fn: Callable[[Tensor], Tensor], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = Tensor(values.copy(), requires_grad=True)
    out = fn(x)
    upstream = np.linspace(-1.0, 2.0, out.numel()).reshape(out.shape)
    out.backward(Tensor(upstream))
    assert x.grad is not None
    return out.numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", CASES)
def test_in_place_ops_give_the_eager_values_on_every_call(name: str) -> None:
    fn = CASES[name]
    compiled = tg.compile(fn)
    for values in ([0.25, 0.75, -1.5, 2.0], [1.0, -0.5, 0.3, 0.9], [-2.0, 3.0, 0.6, 0.1]):
        a = np.array(values)
        out, grad = _run(compiled, a)
        out_e, grad_e = _run(fn, a)
        np.testing.assert_array_equal(out, out_e, err_msg=f"{name}: value for {values}")
        np.testing.assert_array_equal(grad, grad_e, err_msg=f"{name}: gradient for {values}")
    assert compiled.traces == 1


@pytest.mark.parametrize("change", [
    lambda x, i: i.add_(1), lambda x, i: i.zero_(), lambda x, i: i.__setitem__(0, 2),
])
def test_changing_an_argument_in_place_is_an_error(change: Any) -> None:
    def fn(x: Tensor, i: Tensor) -> Tensor:
        change(x, i)
        return x[i].sum()

    x, i = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True), Tensor(np.array([0, 1]))
    with pytest.raises(TraceError, match="changes its input 'i'.*in place"):
        tg.compile(fn)(x, i)


def test_a_cumulative_batchnorm_reads_its_count_and_is_refused() -> None:
    model = tg.nn.BatchNorm1d(3, momentum=None).double()
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    with pytest.raises(TraceError, match="reads the value of a traced tensor"):
        tg.compile(model)(x)
    assert int(model.num_batches_tracked.item()) == 0  # the trace's change was undone


def test_boolean_indexing_with_a_computed_mask_is_refused() -> None:
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    with pytest.raises(TraceError, match="boolean mask.*depends on the values"):
        tg.compile(lambda t: t[t > 0].sum())(x)
    compiled = tg.compile(lambda t, i: t[i] * 2.0)  # an integer index passed in: per call
    for index in ([0, 2], [1, 1], [-1, 0]):
        out = compiled(x, Tensor(np.array(index)))
        np.testing.assert_array_equal(out.numpy(), x.numpy()[index] * 2.0)
    assert compiled.traces == 1


def test_changing_a_parameter_under_no_grad_is_refused() -> None:
    w = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)

    def clipped(x: Tensor) -> Tensor:
        with tg.no_grad():
            w.clamp_(-1.0, 1.0)  # a weight constraint inside the forward
        return (x * w).sum()

    with pytest.raises(TraceError, match="in-place change of a tensor that requires grad"):
        tg.compile(clipped)(Tensor(np.ones(3)))
    np.testing.assert_array_equal(w.numpy(), [1.0, -2.0, 3.0])  # refused before any change


def test_running_statistics_switching_train_and_eval_match_eager() -> None:
    """Compiled training updates the statistics and counts the change in their versions,
    as eager does; an eval program reads them as they are now (never a stale copy), and
    the training program is not traced again by its own updates."""
    def make() -> tg.nn.Module:
        tg.manual_seed(0)
        return tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4),
                                tg.nn.Unflatten(1, (2, 2)),
                                tg.nn.InstanceNorm1d(2, track_running_stats=True)).double()

    eager, ours = make(), make()
    compiled = tg.compile(ours)
    rng = np.random.default_rng(0)
    for phase in ("train", "train", "eval", "train", "train", "eval", "eval"):
        for m in (eager, ours):
            m.train(phase == "train")
        x = Tensor(rng.standard_normal((5, 3)))
        np.testing.assert_array_equal(compiled(x).numpy(), eager(x).numpy(), err_msg=phase)
        for (name, a), b in zip(ours.named_buffers(), eager.buffers()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{phase}: {name}")
            assert a._version == b._version, name
    assert compiled.traces <= 4  # train once, eval after each round of training
