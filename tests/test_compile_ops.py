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

#: op-table rows that compile refuses at trace time, with the reason (docs/compile.md)
UNSUPPORTED: dict[str, str] = {
    "softmax": "the max shift is computed on arrays (_unary._finite_max), a value-derived "
               "constant",
    "logsumexp": "the same max shift as softmax",
    "leaky_relu": "its mask (x > 0) is computed on arrays",
    "nan_to_num": "its masks (isnan, isinf) are computed on arrays",
    "clamp": "it branches on the values (which bound is active) outside the primitives",
    "clip": "as clamp",
    "lerp_tensor_weight": "it branches on the weight's values outside the primitives",
    "topk": "its indices are computed on arrays (an index that depends on the values)",
    "scatter_inplace": "an in-place change (compile cannot replay one)",
    "masked_fill_": "an in-place change",
}


@pytest.mark.parametrize("fn", [
    lambda t: t.clamp(-1.0, 1.0), lambda t: tg.nn.functional.leaky_relu(t, 0.1),
    lambda t: t.softmax(0), lambda t: t.logsumexp(0), lambda t: t.nan_to_num(),
])
def test_unsupported_ops_raise_at_trace_time(fn: Any) -> None:
    x = Tensor(np.array([0.5, -0.25, 0.75]), requires_grad=True)
    with pytest.raises(TraceError, match="changes with the input values"):
        tg.compile(fn)(x)


def _eager(op: Op, arrays: list[np.ndarray], params: dict[str, Any], upstream: Any
           ) -> tuple[np.ndarray, list[np.ndarray | None]]:
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = op.fn(*leaves, **params)
    gs = tg.grad(out, leaves, grad_outputs=Tensor(upstream), allow_unused=True)
    return out.numpy(), [None if g is None else g.numpy() for g in gs]


def _compiled(fn: Any, arrays: list[np.ndarray], upstream: Any
              ) -> tuple[np.ndarray, list[np.ndarray | None]]:
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
    if op.name in UNSUPPORTED:
        # the trace must refuse; an edge case with nothing value-dependent (topk with k=0)
        # may compile, and must then be exact like any other row
        try:
            compiled(*[Tensor(a, requires_grad=True) for a in arrays])
        except TraceError:
            return
    for values in (arrays, [_other(a) for a in arrays]):
        shape = np.shape(op.fn(*[Tensor(a) for a in values], **params).numpy())
        upstream = np.random.default_rng(0).standard_normal(shape)
        out, grads = _compiled(compiled, values, upstream)
        out_e, grads_e = _eager(op, values, params, upstream)
        _close(out, out_e, f"{op.name}: value")
        for i, (g, ge) in enumerate(zip(grads, grads_e)):
            _close(g, ge, f"{op.name}: gradient of input {i}")
    assert compiled.traces == 1, f"{op.name}: traced {compiled.traces} times for one shape"
