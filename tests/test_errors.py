"""Bad input: each case checks the exception type and that the message starts with the
op's public name and shows the shapes (or dtypes) involved."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, ShapeError, Tensor, func


def t(*shape: int, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(shape), requires_grad=requires_grad)


def _released() -> Tensor:
    y = (t(2, requires_grad=True) * 2.0).sum()
    y.backward()
    return y


class _WrongShape(Function):
    """A broken op whose backward returns a gradient of the wrong shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * 2

    def backward(self, grad: Tensor) -> Tensor:
        return grad.sum()


def _unused_input() -> None:
    x, unused = t(2, requires_grad=True), t(2, requires_grad=True)
    tg.grad((x * 2.0).sum(), [x, unused])


def _in_place_on_leaf() -> None:
    t(2, requires_grad=True).add_(1.0)


def _setitem_on_leaf() -> None:
    x = t(2, requires_grad=True)
    x[0] = 5.0


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    # ---- shapes of operands
    ("matmul_2d", lambda: t(3, 4) @ t(5, 2), ShapeError,
     "matmul: shapes (3, 4) and (5, 2) do not align (4 != 5)"),
    ("matmul_batched", lambda: t(2, 3, 4) @ t(5, 2), ShapeError,
     "matmul: shapes (2, 3, 4) and (5, 2) do not align (4 != 5)"),
    ("matmul_batch_broadcast", lambda: t(2, 3, 4) @ t(3, 4, 5), ShapeError,
     "matmul: shapes (2, 3, 4) and (3, 4, 5) have batch shapes (2,) and (3,) that cannot be "
     "broadcast"),
    ("matmul_vector", lambda: t(3) @ t(4), ShapeError, "matmul: shapes (3,) and (4,)"),
    ("matmul_0d", lambda: t() @ t(3), ShapeError, "matmul: .* shapes () and (3,)"),
    ("add_broadcast", lambda: t(2, 3) + t(4), ShapeError,
     "add: shapes (2, 3) and (4,) cannot be broadcast together"),
    ("mul_broadcast", lambda: t(2, 3, requires_grad=True) * t(3, 2), ShapeError,
     "mul: shapes (2, 3) and (3, 2) cannot be broadcast"),
    ("maximum_broadcast", lambda: t(2).maximum(t(3)), ShapeError,
     "maximum: shapes (2,) and (3,) cannot be broadcast"),
    ("where_broadcast", lambda: tg.where(np.ones((2, 3), bool), t(2, 3), t(4)), ShapeError,
     "where: condition (2, 3), input (2, 3) and other (4,) cannot be broadcast"),
    ("compare_broadcast", lambda: t(2) < t(3), ShapeError, "lt: shapes (2,) and (3,)"),
    # ---- backward
    ("backward_non_scalar", lambda: (t(2, requires_grad=True) * 2.0).backward(), RuntimeError,
     "backward: output has shape (2,); .* Pass gradient="),
    ("backward_twice", lambda: _released().backward(), RuntimeError,
     "backward: the graph through Sum (output shape ()) was already freed"),
    ("backward_gradient_shape",
     lambda: (t(2, requires_grad=True) * 2.0).backward(t(3)), RuntimeError,
     "backward: gradient has shape (3,) but the output has shape (2,)"),
    ("backward_without_graph", lambda: t(2).sum().backward(), RuntimeError,
     "backward: tensor of shape () does not require grad"),
    ("function_gradient_shape",
     lambda: _WrongShape.apply(t(3, requires_grad=True)).sum().backward(), RuntimeError,
     "_WrongShape.backward: gradient for input 0 has shape () and dtype float64, but that "
     "input has shape (3,)"),
    ("grad_unused_input", _unused_input, RuntimeError,
     "grad: input 1 (shape (2,)) was not used to compute the outputs; pass allow_unused=True"),
    ("grad_input_without_grad", lambda: tg.grad(t(2, requires_grad=True).sum(), [t(2)]),
     RuntimeError, "grad: input 0 (shape (2,)) does not require grad"),
    ("func_grad_non_scalar", lambda: func.grad(lambda x: x * 2.0)(np.ones(3)),
     RuntimeError, "grad: the function must return a scalar; it returned shape (3,)"),
    # ---- dtypes and in-place
    ("requires_grad_int", lambda: Tensor([1, 2, 3], requires_grad=True), RuntimeError,
     "requires_grad: only floating-point tensors can require gradients; this one is int64 "
     "with shape (3,)"),
    ("in_place_leaf", _in_place_on_leaf, RuntimeError,
     "add_: in-place change of a leaf tensor that requires grad (shape (2,))"),
    ("setitem_leaf", _setitem_on_leaf, RuntimeError,
     "__setitem__: in-place change of a leaf tensor that requires grad (shape (2,))"),
    ("copy_wrong_shape", lambda: t(2, 3).copy_(t(4)), RuntimeError,
     "copy_: cannot write values of shape (4,) into a tensor of shape (2, 3)"),
    ("item_many", lambda: t(2, 2).item(), ValueError,
     "item: only one-element tensors can be converted to a Python scalar; this one has "
     "shape (2, 2)"),
    ("bool_many", lambda: bool(t(3)), RuntimeError, "bool: a tensor of shape (3,)"),
    ("ragged_list", lambda: Tensor([[1.0, 2.0], [3.0]]), ValueError, "tensor: cannot make"),
    # ---- axes
    ("sum_axis", lambda: t(2, 3).sum(axis=2), IndexError,
     "sum: axis 2 is out of range for a tensor of shape (2, 3) (valid: -2..1)"),
    ("sum_negative_axis", lambda: t(2, 3).sum(dim=-3), IndexError,
     "sum: axis -3 is out of range for a tensor of shape (2, 3)"),
    ("sum_repeated_axis", lambda: t(2, 3).sum(axis=(1, -1)), ValueError,
     "sum: axis (1, -1) repeats an axis"),
    ("softmax_axis", lambda: t(2, 3).softmax(dim=5), IndexError,
     "softmax: axis 5 is out of range for a tensor of shape (2, 3)"),
    ("max_axis", lambda: t(4).max(dim=1), IndexError,
     "max: axis 1 is out of range for a tensor of shape (4,)"),
    ("unsqueeze_dim", lambda: t(2, 3).unsqueeze(4), IndexError,
     "unsqueeze: dim 4 is out of range for a tensor of shape (2, 3) (valid: -3..2)"),
    ("transpose_dim", lambda: t(2, 3).transpose(0, 2), IndexError,
     "transpose: dim 2 is out of range for a tensor of shape (2, 3)"),
    ("permute_dims", lambda: t(2, 3).permute(0, 0), ValueError,
     "permute: (0, 0) is not a permutation of the 2 dims of a tensor of shape (2, 3)"),
    # ---- einsum
    ("einsum_bad_char", lambda: tg.einsum("i1,j->ij", t(2), t(3)), ValueError,
     "einsum: invalid character '1' in subscripts 'i1,j->ij'"),
    ("einsum_operand_count", lambda: tg.einsum("ij,jk->ik", t(2, 3)), ValueError,
     "einsum: subscripts 'ij,jk->ik' name 2 operands but 1 were given"),
    ("einsum_axis_count", lambda: tg.einsum("ij,jk->ik", t(2, 3, 4), t(4, 5)), ValueError,
     "einsum: operand 0 has 3 axes (shape (2, 3, 4)) but its subscripts 'ij' name 2"),
    ("einsum_label_sizes", lambda: tg.einsum("ij,jk->ik", t(2, 3), t(4, 5)), ShapeError,
     "einsum: label 'j' has size 3 in operand 0 (shape (2, 3)) and 4 in operand 1 "
     "(shape (4, 5))"),
    ("einsum_repeated_label_sizes", lambda: tg.einsum("ii->", t(2, 3)), ShapeError,
     "einsum: operand 0 repeats label 'i' over axes of different sizes (shape (2, 3))"),
    ("einsum_output_label", lambda: tg.einsum("ij->k", t(2, 3)), ValueError,
     "einsum: output label 'k' in 'ij->k' appears in no operand"),
    # ---- movement
    ("reshape_size", lambda: t(2, 3).reshape(4), ShapeError,
     "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into (4,)"),
    ("reshape_two_unknowns", lambda: t(2, 3).reshape(-1, -1), ShapeError,
     "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into (-1, -1)"),
    ("expand_incompatible", lambda: t(2, 3).expand(4, 3), ShapeError,
     "expand: cannot broadcast shape (2, 3) to (4, 3)"),
    ("expand_fewer_dims", lambda: t(2, 3).expand(3), ShapeError,
     "expand: cannot expand shape (2, 3) to (3,)"),
    ("cat_shapes", lambda: tg.cat([t(2, 3), t(2, 4)], dim=0), ShapeError,
     "cat: tensor 1 has shape (2, 4), which does not match (2, 3) outside dim 0"),
    ("cat_dims", lambda: tg.cat([t(2, 3), t(3)]), ShapeError,
     "cat: tensor 1 has shape (3,), which does not match (2, 3)"),
    ("stack_shapes", lambda: tg.stack([t(2), t(2), t(3)]), ShapeError,
     "stack: tensor 2 has shape (3,) but tensor 0 has (2,); stack needs equal shapes"),
    ("getitem_range", lambda: t(3)[5], IndexError,
     "getitem: index 5 is invalid for a tensor of shape (3,)"),
    ("getitem_range_grad", lambda: t(2, 3, requires_grad=True)[:, 3], IndexError,
     "getitem: index (slice(None, None, None), 3) is invalid for a tensor of shape (2, 3)"),
    ("getitem_too_many", lambda: t(3)[0, 0], IndexError,
     "getitem: index (0, 0) is invalid for a tensor of shape (3,)"),
    ("split_sizes", lambda: t(5).split([2, 2]), ValueError,
     "split: sizes [2, 2] do not sum to 5 (dim 0 of shape (5,))"),
    ("gather_dims", lambda: t(2, 3).gather(1, Tensor(np.zeros(2, np.int64))), ShapeError,
     "gather: index has 1 dims but input has 2 (shapes (2,) and (2, 3))"),
    ("pad_negative", lambda: t(2).pad(-1), ValueError,
     "pad: widths must be non-negative, got -1"),
    ("topk_k", lambda: t(3).topk(4), ValueError,
     "topk: k=4 is out of range for dim -1 of shape (3,)"),
]


@pytest.mark.parametrize("name,call,exc,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(name: str, call: Callable[[], Any],
                                        exc: type[BaseException], message: str) -> None:
    # `.*` in a message stands for free text; everything else must appear literally
    pattern = ".*".join(re.escape(part) for part in message.split(".*"))
    with pytest.raises(exc, match=pattern) as info:
        call()
    op = message.split(":")[0]
    assert str(info.value).startswith(op), f"message should start with {op!r}: {info.value}"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 15


def test_shape_error_is_both_value_error_and_runtime_error() -> None:
    for exc in (ValueError, RuntimeError):
        with pytest.raises(exc):
            t(3, 4) @ t(5, 2)
