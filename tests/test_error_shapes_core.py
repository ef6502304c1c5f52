"""Core shape errors (issue 18): raised at the call, naming the op and the full shape of
every operand, as Python prints a tuple."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as Fn
from tinygrad_edu import ShapeError, Tensor


def t(*shape: int) -> Tensor:
    return Tensor(np.ones(shape))


def g(*shape: int) -> Tensor:
    """A non-leaf in a graph, so in-place ops record a node."""
    return Tensor(np.ones(shape), requires_grad=True) * 1.0


def _has(msg: str, *parts: str) -> None:
    for p in parts:
        assert p in msg, f"{p!r} missing from {msg!r}"


def test_linear_bias_mismatch_prints_input_weight_and_bias_shapes() -> None:
    with pytest.raises(ShapeError, match="linear: bias") as e:
        Fn.linear(t(2, 3), t(4, 3), t(5))
    _has(str(e.value), "linear", "(2, 3)", "(4, 3)", "(5,)")


def test_cat_mismatch_prints_every_operand_shape() -> None:
    with pytest.raises(ShapeError, match="cat: tensor 1") as e:
        Fn.cat([t(2, 3), t(4, 3), t(2, 5)], 1)
    _has(str(e.value), "cat", "(2, 3)", "(4, 3)", "(2, 5)")


def test_stack_mismatch_prints_every_operand_shape() -> None:
    with pytest.raises(ShapeError, match="stack: tensor 2") as e:
        Fn.stack([t(2, 3), t(2, 3), t(2, 4)])
    _has(str(e.value), "stack", "(2, 3)", "(2, 4)")


def test_stack_bad_dim_names_stack() -> None:
    with pytest.raises(IndexError) as e:
        Fn.stack([t(2, 3), t(2, 3)], 4)
    _has(str(e.value), "stack", "(2, 3)", "-3..2")


@pytest.mark.parametrize("index", [np.zeros((5, 3), np.int64), np.full((2, 3), 7)])
def test_gather_bad_index_names_gather_and_both_shapes(index: np.ndarray) -> None:
    with pytest.raises(IndexError) as e:
        t(2, 3).gather(1, Tensor(index))
    msg = str(e.value)
    _has(msg, "gather", str(index.shape), "(2, 3)", "0..2")
    assert "array(" not in msg


def test_getitem_unbroadcastable_index_arrays_print_their_shapes() -> None:
    with pytest.raises(IndexError) as e:
        t(3, 4, 5)[np.zeros((2, 2), np.int64), np.zeros((3, 2), np.int64)]
    _has(str(e.value), "getitem", "(3, 4, 5)", "(2, 2)", "(3, 2)")


@pytest.mark.parametrize("in_graph", [False, True])
def test_setitem_out_of_range_index_is_our_error(in_graph: bool) -> None:
    x = g(3, 4) if in_graph else t(3, 4)
    with pytest.raises(IndexError) as e:
        x[7] = 1.0
    _has(str(e.value), "__setitem__", "7", "(3, 4)")


def test_setitem_non_broadcastable_value_prints_selection_shape() -> None:
    with pytest.raises(RuntimeError, match="__setitem__: cannot write") as e:
        t(3, 4, 5)[0:2] = np.ones((3, 4, 5))
    _has(str(e.value), "__setitem__", "(3, 4, 5)", "(2, 4, 5)")


def test_repeat_too_few_sizes_says_how_many() -> None:
    with pytest.raises(ValueError, match="repeat: 1 sizes") as e:
        t(2, 3).repeat(2)
    _has(str(e.value), "repeat", "(2, 3)", "at least 2")


@pytest.mark.parametrize("which", ["min", "max", "np.clip"])
def test_clamp_with_non_broadcastable_bound_is_our_error(which: str) -> None:
    with pytest.raises(ShapeError) as e:
        if which == "min":
            t(2, 3).clamp(t(4), t(2, 3))
        elif which == "max":
            t(2, 3).clamp(None, t(5))
        else:
            np.clip(t(2, 3), t(4), 5.0)
    msg = str(e.value)
    _has(msg, "clamp", "(2, 3)", "(5,)" if which == "max" else "(4,)")
    assert "operands could not" not in msg


def test_masked_fill_names_itself_and_both_shapes() -> None:
    with pytest.raises(ShapeError) as e:
        t(2, 3).masked_fill(Tensor(np.ones(4, bool)), 0.0)
    _has(str(e.value), "masked_fill", "(4,)", "(2, 3)")


def test_topk_k_out_of_range_says_what_is_valid() -> None:
    with pytest.raises(ValueError, match="topk: k=5") as e:
        t(2, 3).topk(5)
    _has(str(e.value), "topk", "(2, 3)", "0..3")


def test_vector_norm_dim_out_of_range_says_what_is_valid() -> None:
    with pytest.raises(IndexError) as e:
        tg.linalg.vector_norm(t(2, 3), dim=5)
    _has(str(e.value), "vector_norm", "(2, 3)", "-2..1")


def test_gradient_free_numpy_call_with_bad_axis_names_the_call_and_shape() -> None:
    with pytest.raises(np.exceptions.AxisError) as e:
        np.argmax(t(2, 3), axis=5)
    _has(str(e.value), "np.argmax", "(2, 3)")


def test_gradient_free_numpy_call_with_bad_shapes_prints_python_tuples() -> None:
    with pytest.raises(ValueError) as e:
        np.isclose(t(2, 3), t(4))
    _has(str(e.value), "np.isclose", "(2, 3)", "(4,)")


def test_inplace_add_in_a_graph_names_add_() -> None:
    with pytest.raises(ShapeError) as e:
        g(2, 3).add_(t(4, 3))
    _has(str(e.value), "add_", "(2, 3)", "(4, 3)")


def test_inplace_add_outside_a_graph_says_what_is_valid() -> None:
    with pytest.raises(RuntimeError, match="add_: cannot combine") as e:
        t(2, 3).add_(t(4, 3))
    _has(str(e.value), "add_", "(2, 3)", "(4, 3)", "must broadcast to shape (2, 3)")


def test_np_trace_rectangular_names_np_trace_and_the_shape() -> None:
    with pytest.raises(ShapeError) as e:
        np.trace(t(2, 3, 4))
    _has(str(e.value), "np.trace", "(2, 3, 4)")


def test_np_vdot_size_mismatch_prints_original_shapes() -> None:
    with pytest.raises(ShapeError) as e:
        np.vdot(t(2, 3), t(4))
    _has(str(e.value), "np.vdot", "(2, 3)", "(4,)")


def test_vecdot_names_vecdot_and_both_shapes() -> None:
    with pytest.raises(ShapeError) as e:
        tg.linalg.vecdot(t(2, 3), t(4))
    _has(str(e.value), "vecdot", "(2, 3)", "(4,)")


def test_matrix_norm_repeated_dim_prints_shape() -> None:
    with pytest.raises(ValueError, match="matrix_norm: dim") as e:
        tg.linalg.matrix_norm(t(2, 3), dim=(0, 0))
    _has(str(e.value), "matrix_norm", "(2, 3)")


@pytest.mark.parametrize("make, name, shape", [
    (lambda: tg.zeros(2, -3), "zeros", "(2, -3)"),
    (lambda: tg.ones((-1,)), "ones", "(-1,)"),
    (lambda: tg.full((2, -3), 1.0), "full", "(2, -3)"),
    (lambda: tg.randn(2, -3), "randn", "(2, -3)"),
    (lambda: tg.eye(-1), "eye", "(-1, -1)"),
])
def test_creation_negative_size_names_the_op(make: object, name: str, shape: str) -> None:
    with pytest.raises(ValueError) as e:
        make()  # type: ignore[operator]
    _has(str(e.value), name, shape)


def test_expand_says_what_would_fit() -> None:
    with pytest.raises(ShapeError, match="expand: cannot broadcast") as e:
        t(2, 3).expand(4, 3)
    _has(str(e.value), "expand", "(2, 3)", "(4, 3)", "must be 1")


def test_einsum_operand_count_mismatch_prints_shapes() -> None:
    with pytest.raises(ValueError, match="einsum: subscripts") as e:
        Fn.einsum("ij->ij", t(2, 3), t(3, 5))
    _has(str(e.value), "einsum", "(2, 3)", "(3, 5)")


def test_max_with_several_dims_prints_the_shape() -> None:
    with pytest.raises(ValueError, match="max: dim= must be a single int") as e:
        t(2, 3).max(dim=(0, 1))
    _has(str(e.value), "max", "(0, 1)", "(2, 3)")
