"""numpy called on our Tensors against numpy called on PyTorch's, where PyTorch gives a
defined answer: `np.array`/`np.asarray` copy semantics, and the values and dtypes of ufuncs
and numpy functions on tensors that do not require grad (PyTorch computes those in numpy and
wraps or returns the array; values are compared, the container is ours: a Tensor).

On tensors that require grad PyTorch refuses numpy (RuntimeError: "Can't call numpy() on
Tensor that requires grad"); we keep the graph instead. There the oracle is PyTorch's own
spelling of the same maths (`np.var(x, axis=0)` against `torch.var(x, dim=0,
correction=0)`): values, gradients and second derivatives through `oracle.check_function`.

Deliberate differences (asserted here): `np.array(t)` on a tensor that requires grad copies
its values (PyTorch raises); `np.array(t, copy=False)` shares memory (PyTorch's `__array__`
has no copy= parameter, so numpy 2 raises); a numpy scalar operand is weak, as a Python one
(numpy 2 makes `np.float64(1) + float32 array` float64; we keep float32, as `t + 1.0`); a
comparison ufunc gives bool (PyTorch wraps numpy's bool answer as uint8, while its own
`torch.gt` gives bool)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg

from .oracle import NUMPY_DTYPES, assert_close, check_function, pair

# PyTorch's __array__ and __array_wrap__ predate numpy 2's signatures; numpy warns each time
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning"),
]

RNG = np.random.default_rng(7)
X = RNG.uniform(-2.0, 2.0, (3, 4))
K = RNG.uniform(-2.0, 2.0, (3, 4))  # an ndarray in the numpy code


def _mutate(t: Any) -> None:
    with torch.no_grad() if isinstance(t, torch.Tensor) else tg.no_grad():
        t.add_(1.0)


# ----------------------------------------------------------------------------- __array__

CONVERSIONS = {
    "np.array": lambda t: np.array(t),
    "np.asarray": lambda t: np.asarray(t),
    "np.asarray-copy": lambda t: np.asarray(t, copy=True),
    "np.array-dtype": lambda t: np.array(t, dtype=np.float32),
    "np.asarray-dtype": lambda t: np.asarray(t, dtype=np.float32),
    "np.asanyarray": lambda t: np.asanyarray(t),
}


@pytest.mark.parametrize("convert", CONVERSIONS.values(), ids=CONVERSIONS.keys())
def test_conversion_copies_exactly_when_pytorch_does(convert: Callable[[Any], np.ndarray]
                                                     ) -> None:
    ours, theirs = pair(X)
    a_ours, a_theirs = convert(ours), convert(theirs)
    assert a_ours.dtype == a_theirs.dtype
    np.testing.assert_array_equal(a_ours, a_theirs)
    _mutate(ours)
    _mutate(theirs)
    follows_ours = bool(np.array_equal(a_ours, np.asarray(ours.numpy(), a_ours.dtype)))
    follows_theirs = bool(np.array_equal(a_theirs, theirs.numpy().astype(a_theirs.dtype)))
    assert follows_ours == follows_theirs


def test_a_needed_copy_with_copy_false_raises_as_in_pytorch() -> None:
    ours, theirs = pair(X)
    for t in (ours, theirs):
        with pytest.raises(ValueError):
            np.asarray(t, dtype=np.float32, copy=False)


def test_differences_copy_false_and_requires_grad() -> None:
    ours, theirs = pair(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.array(theirs)
    snapshot = np.array(ours)  # ours: a copy of the values (the Solver's snapshots use it)
    assert not np.shares_memory(snapshot, ours.numpy())
    assert np.array(ours, copy=False) is ours.numpy()  # numpy 2's contract: no copy needed


# ----------------------------------------------------------------------------- values

F32 = X.astype(np.float32)
CALLS: dict[str, tuple[Callable[[Any], Any], np.ndarray]] = {
    "exp": (lambda t: np.exp(t), X),
    "log": (lambda t: np.log(t), np.abs(X) + 0.5),
    "sqrt": (lambda t: np.sqrt(t), np.abs(X)),
    "tanh": (lambda t: np.tanh(t), X),
    "abs": (lambda t: np.abs(t), X),
    "negative": (lambda t: np.negative(t), X),
    "square": (lambda t: np.square(t), X),
    "sign": (lambda t: np.sign(t), X),
    "maximum-0": (lambda t: np.maximum(0, t), X),
    "minimum-1": (lambda t: np.minimum(t, 1.0), X),
    "add-scalar": (lambda t: np.add(t, 1), X),
    "add-scalar-f32": (lambda t: np.add(t, 1.5), F32),
    "subtract-rev": (lambda t: np.subtract(2.0, t), X),
    "multiply-ndarray": (lambda t: np.multiply(t, K), X),
    "multiply-ndarray-f32": (lambda t: np.multiply(t, K), F32),
    "divide": (lambda t: np.true_divide(t, 3.0), X),
    "power": (lambda t: np.power(t, 2), X),
    "matmul-ndarray-left": (lambda t: np.matmul(K.T, t), X),
    "greater": (lambda t: np.greater(t, 0.5), X),
    "isfinite": (lambda t: np.isfinite(t), X),
    "add.reduce": (lambda t: np.add.reduce(t, axis=0), X),
    "maximum.reduce": (lambda t: np.maximum.reduce(t, axis=1), X),
    "transpose": (lambda t: np.transpose(t), X),
    "reshape": (lambda t: np.reshape(t, (4, 3)), X),
    "clip": (lambda t: np.clip(t, -1.0, 1.0), X),
    "concatenate": (lambda t: np.concatenate([t, t], axis=1), X),
    "where": (lambda t: np.where(t > 0, t, 0.0), X),
    "dot": (lambda t: np.dot(t, t.T), X),
    "einsum": (lambda t: np.einsum("ij,ij->i", t, t), X),
    "argmax": (lambda t: np.argmax(t, axis=1), X),
    "shape": (lambda t: np.shape(t), X),
    "allclose": (lambda t: np.allclose(t, t), X),
}


@pytest.mark.parametrize("call, data", CALLS.values(), ids=CALLS.keys())
def test_values_equal_numpy_on_pytorch_tensors(call: Callable[[Any], Any], data: np.ndarray
                                               ) -> None:
    ours, theirs = pair(data)
    got, expected = call(ours), call(theirs)
    if not isinstance(expected, torch.Tensor | np.ndarray):  # shapes, bools
        assert got == expected
        return
    assert isinstance(got, tg.Tensor), f"numpy on a Tensor gave {type(got).__name__}"
    want = np.asarray(expected) if isinstance(expected, np.ndarray) else expected.numpy()
    dtype = NUMPY_DTYPES[expected.dtype] if isinstance(expected, torch.Tensor) else want.dtype
    if dtype == np.uint8 and got.dtype == np.bool_:
        dtype = np.dtype(np.bool_)  # PyTorch wraps numpy's bool answer as uint8; torch.gt: bool
    assert got.dtype == dtype, f"dtype {got.dtype}, numpy on PyTorch's gives {dtype}"
    assert_close(got, torch.as_tensor(want), check_dtype=False)  # checked just above


def test_numpy_scalars_are_weak_unlike_numpy_2() -> None:
    ours, theirs = pair(F32)
    assert np.add(theirs, np.float64(1.0)).dtype == torch.float64  # numpy 2 (NEP 50)
    assert np.add(ours, np.float64(1.0)).dtype == np.float32  # ours: as `t + 1.0`


# ----------------------------------------------------------------------------- gradients

W = RNG.uniform(-1.0, 1.0, (4, 2))
EYE = np.eye(3)
GRADIENTS: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = {
    "affine-relu": (lambda x, w: np.maximum(0, x @ w), lambda x, w: torch.clamp(x @ w, min=0),
                    [X, W]),
    "ndarray-left-matmul": (lambda w: X @ w, lambda w: torch.tensor(X) @ w, [W]),
    "sum-exp": (lambda x: np.sum(np.exp(x), axis=1), lambda x: torch.exp(x).sum(1), [X]),
    "mean-keepdims": (lambda x: np.mean(x, axis=0, keepdims=True),
                      lambda x: x.mean(0, keepdim=True), [X]),
    "var-ddof0": (lambda x: np.var(x, axis=0), lambda x: torch.var(x, dim=0, correction=0), [X]),
    "std-ddof1": (lambda x: np.std(x, ddof=1), lambda x: torch.std(x), [X]),
    "max-axis": (lambda x: np.max(x, axis=1), lambda x: torch.amax(x, dim=1), [X]),
    "prod": (lambda x: np.prod(x, axis=1), lambda x: torch.prod(x, dim=1), [X]),
    "cumsum": (lambda x: np.cumsum(x, axis=1), lambda x: torch.cumsum(x, dim=1), [X]),
    "tensordot": (lambda x, y: np.tensordot(x, y, axes=([1], [0])),
                  lambda x, y: torch.tensordot(x, y, dims=([1], [0])), [X, W]),
    "dot-nd": (lambda x, y: np.dot(x, y), lambda x, y: torch.tensordot(x, y, dims=([1], [1])),
               [X, RNG.uniform(-1, 1, (2, 4, 3))]),
    "einsum": (lambda x, y: np.einsum("ij,jk->ik", x, y),
               lambda x, y: torch.einsum("ij,jk->ik", x, y), [X, W]),
    "outer": (lambda x, y: np.outer(x, y), lambda x, y: torch.outer(x.reshape(-1), y), [X, W[0]]),
    "concatenate": (lambda x, y: np.concatenate([x, y.T], axis=0),
                    lambda x, y: torch.cat([x, y.T], dim=0), [X, W]),
    "stack": (lambda x: np.stack([x, K], axis=-1), lambda x: torch.stack(
        [x, torch.tensor(K)], dim=-1), [X]),
    "where": (lambda x: np.where(x > 0, x, 0.5 * x), lambda x: torch.where(x > 0, x, 0.5 * x),
              [X]),
    "clip": (lambda x: np.clip(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), [X]),
    "pad": (lambda x: np.pad(x, ((1, 0), (2, 1))),
            lambda x: torch.nn.functional.pad(x, (2, 1, 1, 0)), [X]),
    "sort": (lambda x: np.sort(x, axis=0), lambda x: torch.sort(x, dim=0).values, [X]),
    "moveaxis": (lambda x: np.moveaxis(x, 0, -1), lambda x: torch.movedim(x, 0, -1), [X]),
    "norm-axis": (lambda x: np.linalg.norm(x, axis=1), lambda x: torch.linalg.norm(x, dim=1),
                  [X]),
    "inv": (lambda x: np.linalg.inv(x + 4 * EYE),
            lambda x: torch.linalg.inv(x + 4 * torch.eye(3, dtype=x.dtype)), [X[:, :3]]),
    "softmax-loss": (
        lambda s: -np.mean(np.log(np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True))[
            np.arange(3), [0, 2, 1]]),
        lambda s: torch.nn.functional.cross_entropy(s, torch.tensor([0, 2, 1])), [X]),
}


@pytest.mark.parametrize("ours, theirs, arrays", GRADIENTS.values(), ids=GRADIENTS.keys())
def test_numpy_code_on_tensors_differentiates_as_pytorch(ours: Callable[..., Any],
                                                         theirs: Callable[..., Any],
                                                         arrays: list[np.ndarray]) -> None:
    check_function(ours, theirs, arrays, what="numpy on Tensors")


def test_pytorch_refuses_numpy_on_a_tensor_that_requires_grad_we_keep_the_graph() -> None:
    ours, theirs = pair(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.exp(theirs)
    out = np.exp(ours)
    assert isinstance(out, tg.Tensor) and out.requires_grad
