"""In-place elementwise methods and augmented operators against PyTorch: `add_/sub_/mul_/
div_` (with `alpha=`), `clamp_`, `relu_`, `zero_/fill_/copy_`, `+= -= *= /=`: the values,
that the same object comes back and every view sees the change, the dtype rules (an integer
tensor cannot take a float result) and what autograd allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance.oracle import assert_close, pair

INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "add_": lambda lib, t: t.add_(lib.tensor([1.0, 2.0, 3.0], dtype=t.dtype)),
    "add_scalar": lambda lib, t: t.add_(2.5),
    "add_alpha": lambda lib, t: t.add_(lib.tensor([1.0, 2.0, 3.0], dtype=t.dtype), alpha=-0.5),
    "sub_": lambda lib, t: t.sub_(lib.tensor([1.0, 2.0, 3.0], dtype=t.dtype)),
    "sub_alpha": lambda lib, t: t.sub_(lib.tensor([1.0, 2.0, 3.0], dtype=t.dtype), alpha=2),
    "mul_": lambda lib, t: t.mul_(lib.tensor([2.0, -1.0, 0.5], dtype=t.dtype)),
    "mul_scalar": lambda lib, t: t.mul_(3),
    "div_": lambda lib, t: t.div_(lib.tensor([2.0, -4.0, 0.5], dtype=t.dtype)),
    "div_scalar": lambda lib, t: t.div_(4.0),
    "add_broadcast": lambda lib, t: t.add_(lib.tensor(1.5, dtype=t.dtype)),
    "add_other_float_dtype": lambda lib, t: t.add_(lib.tensor([1.0, 2.0, 3.0],
                                                              dtype=lib.float64)),
    "clamp_": lambda lib, t: t.clamp_(-0.5, 0.5),
    "clamp_min": lambda lib, t: t.clamp_(min=0.0),
    "clamp_max": lambda lib, t: t.clamp_(max=0.1),
    "relu_": lambda lib, t: t.relu_(),
    "zero_": lambda lib, t: t.zero_(),
    "fill_": lambda lib, t: t.fill_(7.5),
    "copy_": lambda lib, t: t.copy_(lib.tensor([9.0, 8.0, 7.0])),
    "copy_broadcast": lambda lib, t: t.copy_(lib.tensor(4.0, dtype=lib.float64)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_method(name: str, dtype: str) -> None:
    f = INPLACE[name]
    x = np.array([1.5, -2.0, 0.25], dtype=dtype)
    o, t = pair(x)
    view_o, view_t = o[1:], t[1:]
    r_o, r_t = f(tg, o), f(torch, t)
    assert r_o is o and r_t is t, f"{name} must return the tensor itself"
    assert_close(o, t, what=name)
    assert_close(view_o, view_t, what=f"{name}: a view sees the change")


AUGMENTED = {"+=": lambda a, b: a.__iadd__(b), "-=": lambda a, b: a.__isub__(b),
             "*=": lambda a, b: a.__imul__(b), "/=": lambda a, b: a.__itruediv__(b)}


@pytest.mark.parametrize("operand", ["int", "float", "tensor", "0d_float64"])
@pytest.mark.parametrize("op", list(AUGMENTED))
def test_augmented_assignment_is_in_place(op: str, operand: str) -> None:
    """`x += y` changes x's own memory (an alias sees it) and keeps x's dtype."""
    f = AUGMENTED[op]
    values: dict[str, Callable[[Any], Any]] = {
        "int": lambda lib: 2, "float": lambda lib: 0.5,
        "tensor": lambda lib: lib.tensor([2.0, 4.0]),
        "0d_float64": lambda lib: lib.tensor(2.0, dtype=lib.float64)}
    o, t = pair(np.array([1.0, 3.0], dtype=np.float32))
    alias_o, alias_t = o, t
    array = o.numpy()
    o2, t2 = f(o, values[operand](tg)), f(t, values[operand](torch))
    assert o2 is alias_o and t2 is alias_t
    assert_close(o2, t2, what=f"x {op} {operand}")
    assert np.shares_memory(array, o2.numpy())


@pytest.mark.parametrize("op", list(AUGMENTED))
def test_augmented_assignment_on_integers(op: str) -> None:
    """An int tensor takes `+= 2` and `*= 2`; `/= 2` and `+= 0.5` cannot be cast back
    (PyTorch raises RuntimeError)."""
    f = AUGMENTED[op]
    for operand in (2, 0.5):
        o, t = pair(np.array([1, 3]))
        try:
            expected = f(t, operand)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                f(o, operand)
            continue
        assert_close(f(o, operand), expected, what=f"int {op} {operand}")


def test_inplace_shape_mismatch_raises() -> None:
    for lib in (torch, tg):
        with pytest.raises(RuntimeError):
            lib.ones(2).add_(lib.ones(2, 2))


def test_inplace_on_a_leaf_that_requires_grad() -> None:
    """Refused with grad mode on, allowed under no_grad (the optimizer idiom)."""
    for lib in (torch, tg):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            w.add_(1.0)
        with lib.no_grad():
            w.add_(1.0)
            w.mul_(2.0)
            w.sub_(lib.tensor([1.0, 1.0]), alpha=2)
            w.div_(2.0)
        assert w.requires_grad and w.is_leaf
        assert w.detach().numpy().tolist() == [1.0, -2.0], lib.__name__


def test_relu_inplace_on_a_non_leaf_backpropagates() -> None:
    for lib in (torch, tg):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = w * 2.0
        y.relu_()
        (y * y).sum().backward()
        assert w.grad is not None
        assert w.grad.numpy().tolist() == [8.0, 0.0, 24.0], lib.__name__


def test_inplace_arithmetic_on_a_non_leaf_backpropagates() -> None:
    """PyTorch records `y.add_(3)` and `y.mul_(2)` on a non-leaf in the graph; the gradient
    flows through them (ours documents a refusal in _inplace.py; PyTorch code does this)."""
    for lib in (torch, tg):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        y = w * 3.0
        y.add_(1.0)
        y.mul_(2.0)
        (y * y).sum().backward()
        assert w.grad is not None, lib.__name__
        assert w.grad.numpy().tolist() == [96.0, -120.0], lib.__name__
