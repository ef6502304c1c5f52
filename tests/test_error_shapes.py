"""Shape errors name the op and print the full shape of every operand involved."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import ShapeError, Tensor


def t(*shape: int) -> Tensor:
    return Tensor(np.ones(shape))


def _has(msg: str, *parts: str) -> None:
    for p in parts:
        assert p in msg, f"{p!r} missing from {msg!r}"


def test_batched_matmul_batch_mismatch_prints_both_full_shapes() -> None:
    with pytest.raises(ShapeError) as e:
        t(2, 3, 4) @ t(5, 4, 6)
    _has(str(e.value), "matmul", "(2, 3, 4)", "(5, 4, 6)")


def test_matmul_batch_mismatch_of_different_ranks_prints_both_full_shapes() -> None:
    with pytest.raises(ShapeError) as e:
        t(2, 2, 3, 4) @ t(3, 4, 5)
    _has(str(e.value), "matmul", "(2, 2, 3, 4)", "(3, 4, 5)")


def test_sum_repeated_axis_prints_tensor_shape() -> None:
    with pytest.raises(ValueError) as e:
        t(2, 3, 4).sum(axis=(0, 0))
    _has(str(e.value), "sum", "(0, 0)", "(2, 3, 4)")


@pytest.mark.parametrize("as_tensor", [False, True])
def test_getitem_bool_mask_wrong_shape(as_tensor: bool) -> None:
    mask = np.ones(2, dtype=bool)
    with pytest.raises(IndexError) as e:
        t(3, 4)[Tensor(mask) if as_tensor else mask]
    msg = str(e.value)
    _has(msg, "getitem", "(2,)", "(3, 4)")
    assert "boolean index did not match" not in msg


def test_getitem_bool_mask_wrong_shape_after_ellipsis() -> None:
    with pytest.raises(IndexError) as e:
        t(3, 4)[..., np.ones(3, dtype=bool)]
    _has(str(e.value), "getitem", "(3,)", "(3, 4)")


@pytest.mark.parametrize("requires_grad", [False, True])
def test_setitem_bool_mask_wrong_shape(requires_grad: bool) -> None:
    x = Tensor(np.ones((3, 4)), requires_grad=requires_grad)
    if requires_grad:
        x = x * 1.0
    with pytest.raises(IndexError) as e:
        x[np.ones(2, dtype=bool)] = 0
    msg = str(e.value)
    _has(msg, "setitem", "(2,)", "(3, 4)")
    assert "boolean index did not match" not in msg


def test_bool_masks_of_the_right_shape_still_work() -> None:
    x = Tensor(np.arange(12.0).reshape(3, 4))
    assert x[x.array > 5].shape == (6,)
    assert x[..., np.array([True, False, True, False])].shape == (3, 2)
    assert x[0, np.array([True, False, True, False])].shape == (2,)
    x[x.array > 5] = 0
    assert x.array.sum() == 15


def test_einsum_size_mismatch_prints_both_operand_shapes() -> None:
    with pytest.raises(ShapeError) as e:
        tg.einsum("ij,jk->ik", t(2, 3), t(4, 5))
    _has(str(e.value), "einsum", "(2, 3)", "(4, 5)")


def test_conv2d_kernel_larger_than_input_prints_weight_shape() -> None:
    with pytest.raises(ShapeError) as e:
        F.conv2d(t(1, 1, 3, 3), t(2, 1, 5, 5))
    _has(str(e.value), "conv2d", "(1, 1, 3, 3)", "(2, 1, 5, 5)")


@pytest.mark.parametrize("widths", [((1, 1), (1, 1), (1, 1)), [(1, 2, 3)], (1, 2, 3)])
def test_tensor_pad_too_many_widths_is_our_error(widths: object) -> None:
    with pytest.raises(ValueError) as e:
        t(2, 3).pad(widths)
    msg = str(e.value)
    _has(msg, "pad", "(2, 3)")
    assert "broadcast" not in msg


def test_tensor_pad_valid_widths_still_work() -> None:
    assert t(2, 3).pad(1).shape == (4, 5)
    assert t(2, 3).pad((1, 2)).shape == (5, 6)
    assert t(2, 3).pad(((0, 1), (2, 0))).shape == (3, 5)
    assert t(2, 3).pad([(1,), (2,)]).shape == (4, 7)


# ----------------------------------------------------------------------------- audit


def test_numpy_moveaxis_repeated_axis_prints_shape() -> None:
    with pytest.raises(ValueError) as e:
        np.moveaxis(t(2, 3, 4), (0, 0), (1, 2))
    _has(str(e.value), "np.moveaxis", "(2, 3, 4)")


def test_numpy_squeeze_axis_out_of_range_prints_shape() -> None:
    with pytest.raises(IndexError) as e:
        np.squeeze(t(1, 3), axis=5)
    _has(str(e.value), "np.squeeze", "(1, 3)")


def test_numpy_expand_dims_bad_axis_prints_shape() -> None:
    with pytest.raises(IndexError) as e:
        np.expand_dims(t(2, 3), 5)
    _has(str(e.value), "np.expand_dims", "(2, 3)", "-3..2")
    with pytest.raises(ValueError) as e:
        np.expand_dims(t(2, 3), (0, 0))
    _has(str(e.value), "np.expand_dims", "(2, 3)")


def test_numpy_split_unequal_prints_shape() -> None:
    with pytest.raises(ValueError) as e:
        np.split(t(2, 4), 3, axis=1)
    _has(str(e.value), "np.split", "(2, 4)")


def test_einsum_ellipsis_mismatch_prints_full_shapes() -> None:
    with pytest.raises(ShapeError) as e:
        tg.einsum("...ij,...jk->...ik", t(2, 3, 4), t(5, 4, 6))
    _has(str(e.value), "einsum", "(2, 3, 4)", "(5, 4, 6)")


def test_course_conv_filter_larger_than_input_prints_both_shapes() -> None:
    from tinygrad_edu.course import layers as L

    x, w, b = np.ones((1, 1, 3, 3)), np.ones((2, 1, 5, 5)), np.zeros(2)
    with pytest.raises(ShapeError) as e:
        L.conv_forward(x, w, b, {"stride": 1, "pad": 0})
    _has(str(e.value), "conv_forward", "(1, 1, 3, 3)", "(2, 1, 5, 5)")
