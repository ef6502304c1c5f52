"""Hypothesis strategies and assertion helpers for gradient tests (yours and ours).

    from hypothesis import given
    from tinygrad_edu.testing import float_arrays, shapes, assert_gradients_match

    @given(x=float_arrays(shape=shapes(min_dims=0)))
    def test_log_gradient(x):
        assert_gradients_match(lambda t: (1 + t * t).log(), x)

Requires the `hypothesis` package (in the `dev` extra) for the strategies; the assertion
helpers work without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.gradcheck import GradcheckError, GradcheckReport, gradcheck, gradgradcheck
from tinygrad_edu.tensor import Tensor

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover - strategies need hypothesis; asserts do not
    st = None  # type: ignore[assignment]
    hnp = None  # type: ignore[assignment]


def _need_hypothesis() -> None:
    if st is None:
        raise ImportError("tinygrad_edu.testing strategies need hypothesis: "
                          "pip install 'tinygrad-edu[dev]' (or pip install hypothesis)")


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> Any:
    """Array shapes, including 0-d and size-1 axes."""
    _need_hypothesis()
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> Any:
    """Pairs of shapes that broadcast together (missing leading axes, ones)."""
    _need_hypothesis()
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                             max_side=max_side).map(lambda s: s.input_shapes)


def float_arrays(shape: Any = None, low: float = -3.0, high: float = 3.0,
                 dtype: Any = np.float64) -> Any:
    """float64 arrays with bounded values (no NaN/Inf); `shape` a tuple or a strategy."""
    _need_hypothesis()
    shape = shapes() if shape is None else shape
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def tensors(shape: Any = None, low: float = -3.0, high: float = 3.0,
            requires_grad: bool = True) -> Any:
    """Tensors (float64) wrapping `float_arrays`."""
    return float_arrays(shape, low, high).map(lambda a: Tensor(a, requires_grad=requires_grad))


def matmul_shapes(max_side: int = 4, batch: bool = True) -> Any:
    """Shape pairs that numpy's matmul accepts: 1-D, 2-D and broadcast batches."""
    _need_hypothesis()

    @st.composite
    def build(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
        kind = draw(st.sampled_from(["mm", "mv", "vm", "vv"] + (["batch"] if batch else [])))
        if kind == "mm":
            return (n, k), (k, m)
        if kind == "mv":
            return (n, k), (k,)
        if kind == "vm":
            return (k,), (k, m)
        if kind == "vv":
            return (k,), (k,)
        b1, b2 = draw(broadcastable_shapes(min_dims=1, max_dims=2, max_side=3))
        return tuple(b1) + (n, k), tuple(b2) + (k, m)

    return build()


def einsum_specs() -> Any:
    """(subscripts, shapes) pairs for einsum: products, traces, sums, outer, batched."""
    _need_hypothesis()

    @st.composite
    def build(draw: Any) -> tuple[str, list[tuple[int, ...]]]:
        n, m, k, b = (draw(st.integers(1, 4)) for _ in range(4))
        table = [
            ("ij,jk->ik", [(n, k), (k, m)]),
            ("ij,j->i", [(n, k), (k,)]),
            ("i,j->ij", [(n,), (m,)]),
            ("ii->", [(n, n)]),
            ("ii->i", [(n, n)]),
            ("ij->", [(n, m)]),
            ("ij->ji", [(n, m)]),
            ("bij,bjk->bik", [(b, n, k), (b, k, m)]),
            ("...ij,...jk->...ik", [(b, n, k), (k, m)]),
            ("ij,ij->", [(n, m), (n, m)]),
            ("ij,kj,k->i", [(n, m), (k, m), (k,)]),
            ("i,i", [(n,), (n,)]),
            ("ij", [(n, m)]),
            ("iij->j", [(n, n, m)]),
        ]
        return draw(st.sampled_from(table))

    return build()


def assert_gradients_match(f: Callable[..., Tensor], *inputs: Any, eps: float = 1e-6,
                           atol: float = 1e-5, rtol: float = 1e-3, second_order: bool = False,
                           sparse: int | None = None) -> GradcheckReport:
    """Assert that backward() through f agrees with central differences (float64).

    The failure message names f, the input, the worst element, the analytic and numeric
    values there and the relative error. `second_order=True` also checks the gradient of
    the gradient (create_graph=True).
    """
    arrays = [np.asarray(x.array if isinstance(x, Tensor) else x, dtype=np.float64)
              for x in inputs]
    report = gradcheck(f, arrays, eps=eps, atol=atol, rtol=rtol, raise_exception=False,
                       sparse=sparse)
    if not report.ok:
        raise GradcheckError(str(report))
    if second_order:
        report2 = gradgradcheck(f, arrays, eps=eps, atol=atol * 10, rtol=rtol * 10,
                                raise_exception=False)
        if not report2.ok:
            raise GradcheckError(str(report2))
    return report


def assert_close(actual: Any, expected: Any, rtol: float = 1e-7, atol: float = 1e-9,
                 name: str = "value") -> None:
    """numpy's assert_allclose on Tensors or arrays, with shapes checked first."""
    a = np.asarray(actual.array if isinstance(actual, Tensor) else actual)
    e = np.asarray(expected.array if isinstance(expected, Tensor) else expected)
    if a.shape != e.shape:
        raise AssertionError(f"{name}: shape {a.shape} != expected {e.shape}")
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=name)


__all__ = ["shapes", "broadcastable_shapes", "float_arrays", "tensors", "matmul_shapes",
           "einsum_specs", "assert_gradients_match", "assert_close", "GradcheckError"]
