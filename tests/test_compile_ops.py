"""Every row of the op table, compiled, gives the eager values and gradients (float64,
1e-12 relative): on the first call (which traces) and on a second call with other values
of the same shapes (the generated code alone). An op the compiler cannot trace raises
`TraceError` at trace time instead; those ops are listed in `UNSUPPORTED` (and in
docs/compile.md), and the test holds that they do raise."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import OPS, Op

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.compile import TraceError

#: ops whose masks, shifts or indices are computed from values (`ops.values.held`): the
#: generated code recomputes them on every call, so a call whose values fall on the other
#: side of every mask (NaN, inf, signs, order) still gives the eager values and gradients
HELD: dict[str, Any] = {
    "clamp": lambda t: t.clamp(-1.0, 1.0),
    "leaky_relu": lambda t: tg.nn.functional.leaky_relu(t, 0.1),
    "softmax": lambda t: t.softmax(0),
    "logsumexp": lambda t: t.logsumexp(0),
    "nan_to_num": lambda t: t.nan_to_num(),
    "nansum": lambda t: t.nansum(),
    "topk": lambda t: t.topk(2).values,
    "sort": lambda t: t.sort().values,
    "lerp": lambda t: t.lerp(t * 2.0, t),
    "where_tensor_condition": lambda t: tg.where(t.detach() > 0, t, t * 3.0),
}


@pytest.mark.parametrize("name", HELD)
def test_value_derived_masks_are_recomputed_on_every_call(name: str) -> None:
    fn = HELD[name]
    compiled = tg.compile(fn)
    calls = [np.array([0.5, -0.25, 0.75, 2.0]), np.array([-3.0, np.inf, -np.inf, np.nan]),
             np.array([1.5, 0.25, -0.75, -2.0]), np.array([np.nan, 0.0, -1e300, 1e300])]
    for values in calls:
        with np.errstate(all="ignore"):
            shape = np.shape(fn(Tensor(values)).numpy())
            upstream = np.array([1.0, -2.0, 0.5, 3.0])[:shape[0]] if shape else np.array(1.5)
            out, grads = _run(compiled, [values], upstream)
            out_e, grads_e = _run(fn, [values], upstream)
        np.testing.assert_array_equal(out, out_e, err_msg=f"{name}: value for {values}")
        np.testing.assert_array_equal(grads[0], grads_e[0],
                                      err_msg=f"{name}: gradient for {values}")
    assert compiled.traces == 1


def test_a_where_condition_passed_in_is_an_input_of_every_call() -> None:
    compiled = tg.compile(lambda c, x: tg.where(c, x, -x).masked_fill(~c, 7.0))
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for mask in ([True, False, True], [False, False, True], [True, True, False]):
        c = Tensor(np.array(mask))
        out = compiled(c, x)
        np.testing.assert_array_equal(out.numpy(), np.where(mask, [1.0, 2.0, 3.0], 7.0))
        (g,) = tg.grad(out.sum(), [x])
        np.testing.assert_array_equal(g.numpy(), np.where(mask, 1.0, 0.0))
    assert compiled.traces == 1


def test_a_mask_made_by_numpy_code_is_refused_and_a_comparison_is_recorded() -> None:
    """A mask computed by numpy code on `.array` is not recorded: it would be the first
    call's mask on every call, so the second traces refuse it. `x > 0` on a tensor is
    recorded (a held comparison) and reading it back with `.numpy()` is refused."""
    x = Tensor(np.array([0.5, -0.25, 0.75]), requires_grad=True)
    with pytest.raises(TraceError, match="changes with the input values"):
        tg.compile(lambda t: t * Tensor((t.array > 0).astype(float)))(x)
    with pytest.raises(TraceError, match="reads the value of a traced tensor"):
        tg.compile(lambda t: t * Tensor((t > 0).numpy().astype(float)))(x)
    compiled = tg.compile(lambda t: t * (t > 0).to(t.dtype))
    for values in ([0.5, -0.25, 0.75], [-1.0, 2.0, -3.0]):
        out = compiled(Tensor(np.array(values)))
        np.testing.assert_array_equal(out.numpy(), np.maximum(values, 0.0))


def _run(fn: Any, arrays: list[np.ndarray], upstream: Any
         ) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """fn (compiled or eager) on fresh leaves: its value and the gradients of `upstream`."""
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    gs = tg.grad(out, leaves, grad_outputs=Tensor(upstream), allow_unused=True)
    return out.numpy(), [None if g is None else g.numpy() for g in gs]


def _close(ours: Any, eager: Any, what: str) -> None:
    if eager is None or ours is None:
        assert ours is None or not np.any(ours), f"{what}: {ours} vs {eager}"
        return
    assert np.shape(ours) == np.shape(eager) and np.asarray(ours).dtype == eager.dtype, what
    np.testing.assert_allclose(ours, eager, rtol=1e-12, atol=1e-300, err_msg=what)


def _other(a: np.ndarray) -> np.ndarray:
    """Other values of the same shape, with the row's properties (distinct, off kinks)."""
    return a.reshape(-1)[::-1].reshape(a.shape).copy() if a.size > 1 else a * 0.5


@pytest.mark.parametrize("op", OPS, ids=repr)
@settings(max_examples=4)
@given(data=st.data())
def test_compiled_op_matches_eager(op: Op, data: Any) -> None:
    arrays, params = data.draw(op.inputs, label="inputs")
    compiled = tg.compile(lambda *ts: op.fn(*ts, **params))
    for values in (arrays, [_other(a) for a in arrays]):
        shape = np.shape(op.fn(*[Tensor(a) for a in values], **params).numpy())
        upstream = np.random.default_rng(0).standard_normal(shape)
        out, grads = _run(compiled, values, upstream)
        out_e, grads_e = _run(lambda *ts: op.fn(*ts, **params), values, upstream)
        _close(out, out_e, f"{op.name}: value")
        for i, (g, ge) in enumerate(zip(grads, grads_e)):
            _close(g, ge, f"{op.name}: gradient of input {i}")
    assert compiled.traces == 1, f"{op.name}: traced {compiled.traces} times for one shape"
