"""In-place ops and `__setitem__` with autograd, against PyTorch's semantics.

Each case is a small PyTorch program (a string, run with `torch` bound to PyTorch and to
tinygrad_edu) followed by the expressions to compare afterwards: values of the tensors it
built and the gradients of its leaves. Where PyTorch raises (an in-place change of a leaf
that requires grad; an in-place change of a value a backward needs), we must raise too.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance._ops_helpers import compare
from tests.conformance.oracle import assert_close

RNG = np.random.default_rng(21)
DATA = {
    "X": np.array([0.7, -1.3, 0.4]),
    "X2": RNG.standard_normal((2, 3)),
    "W0": RNG.standard_normal((3, 3)) * 0.5,
    "XS0": RNG.standard_normal((4, 3)),
}


def run(src: str, module: Any) -> dict[str, Any]:
    env: dict[str, Any] = {"torch": module, "np": np, **{k: v.copy() for k, v in DATA.items()}}
    exec(textwrap.dedent(src), env)  # noqa: S102 - the test's own program text
    return env


def check_program(src: str, checks: tuple[str, ...]) -> None:
    """Run on both; then every check expression (evaluated in each program's namespace)
    matches. If PyTorch raises anywhere, we must raise too."""
    try:
        theirs = run(src, torch)
    except Exception as e:
        if isinstance(e, NameError | SyntaxError):  # the test's own program is wrong
            raise
        with pytest.raises(Exception):  # noqa: B017 - PyTorch's error types vary
            run(src, tg)
        return
    ours = run(src, tg)
    for expr in checks:
        compare(eval(expr, ours), eval(expr, theirs), what=expr)  # noqa: S307


def case(name: str, src: str, *checks: str) -> Any:
    return pytest.param(src, checks, id=name)


SETITEM = [
    case("setitem_then_mul_gives_12", """
        w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        out = torch.zeros(2, dtype=torch.float64)
        out[0] = w * 3
        (out * w).sum().backward()
        """, "w.grad", "out", "out.requires_grad"),
    case("setitem_then_sum_gives_3", """
        w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        out = torch.zeros(2, dtype=torch.float64)
        out[0] = w * 3
        out.sum().backward()
        """, "w.grad", "out"),
    case("rnn_loop_outs_t_eq_h", """
        W = torch.tensor(W0, requires_grad=True)
        xs = torch.tensor(XS0, requires_grad=True)
        h = torch.zeros(3, dtype=torch.float64)
        outs = torch.zeros(4, 3, dtype=torch.float64)
        for t in range(4):
            h = torch.tanh(W @ h + xs[t])
            outs[t] = h
        loss = (outs * outs).sum()
        loss.backward()
        """, "loss", "outs", "W.grad", "xs.grad"),
    case("setitem_overwritten_value_gets_no_grad", """
        x = torch.tensor(X, requires_grad=True)
        out = torch.zeros(2, dtype=torch.float64)
        out[0] = x[0] * 5
        out[0] = x[1]
        out.sum().backward()
        """, "out", "x.grad"),
    case("setitem_mask_on_nonleaf", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        y[y < 0] = 0
        (y * x).sum().backward()
        """, "y", "x.grad"),
    case("setitem_mask_with_tensor_values", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        y[x > 0] = x[x > 0] ** 2
        y.sum().backward()
        """, "y", "x.grad"),
    case("setitem_slice_2d", """
        x = torch.tensor(X, requires_grad=True)
        y = torch.zeros(2, 3, dtype=torch.float64)
        y[:, 1] = x[:2]
        y[0] = y[0] + x
        y[1, ::2] = x[2]
        (y * y).sum().backward()
        """, "y", "x.grad"),
    case("setitem_after_clone", """
        x = torch.tensor(X, requires_grad=True)
        y = x.clone()
        y[0] = 0
        (y * 3).sum().backward()
        """, "y", "x.grad"),
    case("setitem_int_index_tensor", """
        x = torch.tensor(X, requires_grad=True)
        y = torch.zeros(5, dtype=torch.float64)
        y[torch.tensor([4, 0, 2])] = x * 2
        (y * torch.arange(5, dtype=torch.float64)).sum().backward()
        """, "y", "x.grad"),
    case("setitem_scalar_into_graph_tensor", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 2
        y[1] = 7.0
        (y * y).sum().backward()
        """, "y", "x.grad"),
    case("setitem_broadcast_row", """
        x = torch.tensor(X, requires_grad=True)
        y = torch.zeros(2, 3, dtype=torch.float64)
        y[:] = x
        (y * torch.tensor([[1.0], [2.0]], dtype=torch.float64)).sum().backward()
        """, "y", "x.grad"),
]

INPLACE_GRAPH = [
    case("iadd_on_nonleaf", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        y += 1
        (y * y).sum().backward()
        """, "y", "x.grad"),
    case("mul__chained", """
        x = torch.tensor(X, requires_grad=True)
        y = (x * 1).mul_(3)
        y.sum().backward()
        """, "y", "x.grad"),
    case("imul_itruediv_isub", """
        x = torch.tensor(X, requires_grad=True)
        y = x + 0
        y *= 4
        y /= 2
        y -= x
        (y * x).sum().backward()
        """, "y", "x.grad"),
    case("add__with_alpha_and_tensor", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 2
        y.add_(x * x, alpha=0.5)
        y.sub_(x, alpha=3)
        y.sum().backward()
        """, "y", "x.grad"),
    case("copy__grad_flows_from_source", """
        x = torch.tensor(X, requires_grad=True)
        z = torch.zeros(3, dtype=torch.float64)
        z.copy_(x * 2)
        (z * z).sum().backward()
        """, "z", "z.requires_grad", "x.grad"),
    case("copy__into_slice", """
        x = torch.tensor(X, requires_grad=True)
        z = torch.zeros(5, dtype=torch.float64)
        z[1:4].copy_(x)
        (z * torch.arange(5, dtype=torch.float64)).sum().backward()
        """, "z", "x.grad"),
    case("inplace_on_view_of_nonleaf", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        y[0].mul_(2)
        y[1:] *= 3
        y.sum().backward()
        """, "y", "x.grad"),
    case("base_changed_view_used", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        v = y[1:]
        y.add_(1)
        (v * v).sum().backward()
        """, "v", "x.grad"),
    case("clamp__on_nonleaf", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        y.clamp_(-0.5, 0.5)
        y.sum().backward()
        """, "y", "x.grad"),
    case("clamp__min_only", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 2
        y.clamp_(min=0)
        (y * y).sum().backward()
        """, "y", "x.grad"),
    case("zero__cuts_gradient", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        y.zero_()
        (y + x).sum().backward()
        """, "y", "x.grad"),
    case("fill__cuts_gradient", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 1
        y[1:].fill_(2.0)
        (y * x).sum().backward()
        """, "y", "x.grad"),
    case("relu__after_mul", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 2
        y.relu_()
        y.sum().backward()
        """, "y", "x.grad"),
    case("exp__after_mul", """
        x = torch.tensor(X, requires_grad=True)
        y = x * 2
        y.exp_()
        y.sum().backward()
        """, "y", "x.grad"),
    case("sigmoid_saves_output_so_changing_input_is_fine", """
        x = torch.tensor(X, requires_grad=True)
        a = x * 1
        b = a.sigmoid()
        a.mul_(2)
        b.sum().backward()
        """, "a", "b", "x.grad"),
    case("add_saves_nothing_so_changing_input_is_fine", """
        x = torch.tensor(X, requires_grad=True)
        a = x * 1
        b = a + 1
        a.add_(1)
        (b * 2).sum().backward()
        """, "a", "b", "x.grad"),
    case("inplace_in_loop_accumulator", """
        x = torch.tensor(X2, requires_grad=True)
        acc = torch.zeros(3, dtype=torch.float64)
        for row in x:
            acc += row * row
        acc.sum().backward()
        """, "acc", "x.grad"),
]

RAISES_AT_BACKWARD = [
    case("exp_output_changed", """
        x = torch.tensor(X, requires_grad=True)
        y = x.exp()
        y.add_(1)
        y.sum().backward()
        """),
    case("exp_output_mul_", """
        x = torch.tensor(X, requires_grad=True)
        y = x.exp()
        y.mul_(2)
        y.sum().backward()
        """),
    case("mul_input_changed", """
        x = torch.tensor(X, requires_grad=True)
        a = x * 1
        b = a * a
        a.add_(1)
        b.sum().backward()
        """),
    case("tanh_output_changed_other_consumer", """
        x = torch.tensor(X, requires_grad=True)
        y = x.tanh()
        z = y * 2
        y.add_(1)
        z.sum().backward()
        """),
    case("relu__of_exp_output", """
        x = torch.tensor(X, requires_grad=True)
        y = x.exp()
        y.relu_()
        y.sum().backward()
        """),
    case("setitem_into_saved_value", """
        x = torch.tensor(X, requires_grad=True)
        a = x * 1
        b = a.exp() * a
        a[0] = 5.0
        b.sum().backward()
        """),
    case("matmul_operand_changed", """
        W = torch.tensor(W0, requires_grad=True)
        h = torch.tensor(X) * 1
        y = W @ h
        h.mul_(2)
        y.sum().backward()
        """),
]

LEAF_RAISES = [
    case("leaf_add_", """
        w = torch.ones(2, requires_grad=True)
        w.add_(1)
        """),
    case("leaf_setitem", """
        w = torch.ones(2, requires_grad=True)
        w[0] = 3.0
        """),
    case("leaf_iadd", """
        w = torch.ones(2, requires_grad=True)
        w += 1
        """),
    case("leaf_mul_", """
        w = torch.ones(2, requires_grad=True)
        w.mul_(2)
        """),
    case("leaf_zero_", """
        w = torch.ones(2, requires_grad=True)
        w.zero_()
        """),
    case("leaf_copy_", """
        w = torch.ones(2, requires_grad=True)
        w.copy_(torch.zeros(2))
        """),
    case("leaf_fill_", """
        w = torch.ones(2, requires_grad=True)
        w.fill_(3.0)
        """),
    case("leaf_view_add_", """
        w = torch.ones(2, requires_grad=True)
        w[0].add_(1)
        """),
    case("leaf_clamp_", """
        w = torch.ones(2, requires_grad=True)
        w.clamp_(0, 0.5)
        """),
    case("int_tensor_iadd_float_refused", """
        t = torch.zeros(3, dtype=torch.int64)
        t += 1.5
        """),
    case("int_tensor_itruediv_refused", """
        t = torch.ones(3, dtype=torch.int64)
        t /= 2
        """),
]

NO_GRAD = [
    case("no_grad_updates_leaf", """
        w = torch.tensor(X, requires_grad=True)
        with torch.no_grad():
            w.add_(1)
            w[0] = 5.0
            w.mul_(2)
        (w * w).sum().backward()
        """, "w", "w.grad", "w.is_leaf", "w.requires_grad"),
    case("sgd_step", """
        w = torch.tensor(X, requires_grad=True)
        (w * w * w).sum().backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
        (w * w).sum().backward()
        """, "w", "w.grad", "w.is_leaf"),
    case("grad_none_then_accumulate", """
        w = torch.tensor(X, requires_grad=True)
        (w * 2).sum().backward()
        (w * 3).sum().backward()
        g = w.grad.clone()
        w.grad = None
        (w * w).sum().backward()
        """, "g", "w.grad"),
]

NO_AUTOGRAD = [
    case("fill_add_on_1d_views", """
        t = torch.tensor([1.0, 2.0, 3.0])
        t[0].fill_(5)
        t[1].add_(2)
        t[2].mul_(10)
        """, "t"),
    case("views_of_a_matrix", """
        m = torch.arange(6.0).reshape(2, 3)
        m[0].fill_(1)
        m[:, 1].add_(1)
        m[1][2] = 9
        """, "m"),
    case("transpose_view", """
        m = torch.arange(6.0).reshape(2, 3)
        m.T[0].zero_()
        m.t()[2] = -1
        """, "m"),
    case("reshape_view_setitem", """
        m = torch.arange(6.0).reshape(2, 3)
        m.view(-1)[4] = 7
        m.reshape(6)[0] = -1
        """, "m"),
    case("strided_views", """
        m = torch.arange(12.0).reshape(3, 4)
        m[:, ::2].mul_(2)
        m[1, 1:].sub_(1)
        m[::2, -1] = 0.5
        """, "m"),
    case("detach_shares_storage", """
        t = torch.ones(3)
        d = t.detach()
        d[1] = 5
        d.add_(1)
        """, "t", "d"),
    case("ellipsis_and_full_slice_assign", """
        t = torch.zeros(2, 3)
        t[...] = 3
        t[:, :] += 1
        t[0, ...] = torch.tensor([1.0, 2.0, 3.0])
        """, "t"),
    case("setitem_casts_to_dtype", """
        t = torch.zeros(3, dtype=torch.int64)
        t[1] = 2.7
        t[2] = True
        f = torch.zeros(2)
        f[0] = 3
        f[1] = torch.tensor(1.5, dtype=torch.float64)
        """, "t", "f"),
    case("setitem_bool_mask_and_index_list", """
        t = torch.arange(6)
        t[t % 2 == 0] = -1
        t[[1, 3]] = torch.tensor([10, 30])
        t[torch.tensor([5])] += 100
        """, "t"),
    case("repeated_index_iadd_is_not_accumulated", """
        t = torch.zeros(3)
        t[[0, 0, 1]] += 1
        """, "t"),
    case("inplace_returns_self", """
        t = torch.ones(3)
        r = t.add_(1)
        same_object = r is t
        s = t.mul_(2).sub_(1)
        """, "t", "same_object", "s"),
    case("inplace_keeps_dtype", """
        t = torch.ones(3)
        t += torch.ones(3, dtype=torch.float64)
        t *= 2
        i = torch.ones(3, dtype=torch.int64)
        i += 2
        i *= torch.tensor([1, 2, 3])
        """, "t", "i"),
    case("chunk_pieces_are_views", """
        t = torch.zeros(6)
        a, b = t.chunk(2)
        a.fill_(1)
        b[0] = 2
        """, "t"),
    case("unbound_rows_are_views", """
        t = torch.zeros(2, 3)
        for row in t:
            row[1] = 4
        """, "t"),
]

PARAMS = SETITEM + INPLACE_GRAPH + NO_GRAD + NO_AUTOGRAD


@pytest.mark.parametrize(("src", "checks"), PARAMS)
def test_program(src: str, checks: tuple[str, ...]) -> None:
    check_program(src, checks)


@pytest.mark.parametrize(("src", "checks"), RAISES_AT_BACKWARD)
def test_saved_value_changed_raises(src: str, checks: tuple[str, ...]) -> None:
    """An in-place change of a value a backward needs raises (in PyTorch at backward)."""
    with pytest.raises(RuntimeError):
        run(src, torch)
    with pytest.raises(RuntimeError):
        run(src, tg)


@pytest.mark.parametrize(("src", "checks"), LEAF_RAISES)
def test_refused(src: str, checks: tuple[str, ...]) -> None:
    """In-place change of a leaf that requires grad (outside no_grad), and in-place ops
    that would need a dtype change: both libraries raise."""
    with pytest.raises(RuntimeError):
        run(src, torch)
    with pytest.raises(RuntimeError):
        run(src, tg)


def test_version_counter_survives_numpy_aliasing() -> None:
    """`t.numpy()` shares memory in both: writing through it changes the tensor."""
    for m in (torch, tg):
        t = m.zeros(3)
        t.numpy()[1] = 4.0
        assert t.tolist() == [0.0, 4.0, 0.0], m.__name__


# Deliberate difference (docs/pytorch.md): our Mul and Pow nodes keep every value their
# backward may read, even when the other operand is a constant that needs no gradient;
# PyTorch keeps only what the requested gradients read. So an in-place change of such a
# value raises at backward here (an error, never a wrong gradient) where PyTorch computes.
SAVES_MORE = [
    case("setitem_chain_through_itself", """
        x = torch.tensor(X, requires_grad=True)
        out = torch.zeros(3, dtype=torch.float64)
        out[1] = x[0] * x[1]
        out[2] = out[1] * 2 + x[2]
        out.sum().backward()
        """, "out", "x.grad"),
    case("pow__and_neg_", """
        x = torch.tensor(X, requires_grad=True)
        y = x + 1
        y.pow_(2)
        y.neg_()
        y.sum().backward()
        """, "y", "x.grad"),
]


@pytest.mark.parametrize(("src", "checks"), SAVES_MORE)
def test_saves_more_than_pytorch(src: str, checks: tuple[str, ...]) -> None:
    run(src, torch)
    with pytest.raises(RuntimeError, match="modified in place"):
        run(src, tg)


def test_setitem_reads_an_index_as_getitem_does() -> None:
    """`t[0, :, [1, 3]] = v` selects what `t[0, :, [1, 3]]` reads (PyTorch: the int first,
    so v has shape (3, 2)); `t[[]] = v` writes nothing; the gradient reaches v."""
    v = np.arange(6.0).reshape(3, 2)
    outs = []
    for lib in (torch, tg):
        w = lib.tensor(v, requires_grad=True)
        out = lib.zeros(2, 3, 4, dtype=lib.float64)
        out[0, :, [1, 3]] = w * 2
        out[[]] = 5.0
        (out * out).sum().backward()
        outs.append((out, w.grad))
    (o_t, g_t), (o_g, g_g) = outs
    assert_close(o_g.detach(), o_t.detach())
    assert_close(g_g, g_t)
