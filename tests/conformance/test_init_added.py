"""torch.nn.init against tinygrad_edu.nn.init for orthogonal_, trunc_normal_ and sparse_.
The draws come from different generators, so the two libraries are compared by what the
initializers promise: orthogonality (to 1e-10 in float64), the truncated normal's bounds and
moments (against the closed form and against PyTorch's own sample), the number of zeros
per column; plus dtypes, shapes, return values, keywords, reproducibility under
`manual_seed` and `generator=`, and the errors."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.init as TI

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.init as GI

from .oracle import NUMPY_DTYPES


def pair(shape: tuple[int, ...], dtype: Any = torch.float64) -> tuple[Any, Any]:
    return tg.zeros(shape, dtype=NUMPY_DTYPES[dtype]), torch.zeros(shape, dtype=dtype)


# ----------------------------------------------------------------------------- orthogonal_

@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 2, 3), (5, 3, 2, 2), (1, 5),
                                   (5, 1)])
@pytest.mark.parametrize("gain", [1, 0.5, math.sqrt(2)])
def test_orthogonal_rows_or_columns_orthonormal(shape: tuple[int, ...], gain: float) -> None:
    ours, theirs = pair(shape)
    out = GI.orthogonal_(ours, gain=gain)
    assert out is ours
    TI.orthogonal_(theirs, gain)
    for w in (ours.numpy(), theirs.numpy()):
        assert w.shape == shape and w.dtype == np.float64
        m = w.reshape(shape[0], -1) / gain
        small = min(m.shape)
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)


def test_orthogonal_float32_and_parameters() -> None:
    layer = gnn.Linear(7, 4)
    GI.orthogonal_(layer.weight)
    w = layer.weight.numpy()
    assert w.dtype == np.float32 and layer.weight.requires_grad
    np.testing.assert_allclose(w.astype(np.float64) @ w.T.astype(np.float64), np.eye(4),
                               atol=1e-6)


def test_orthogonal_is_haar_distributed() -> None:
    """Q with the sign fix is uniform on O(n): E[Q_ij] = 0, E[Q_ij^2] = 1 / n, and det Q is
    +1 or -1 with equal frequency (both libraries)."""
    n, draws = 4, 3000
    tg.manual_seed(0)
    torch.manual_seed(0)
    for lib, init, make in ((tg, GI, lambda: tg.zeros(n, n, dtype=tg.float64)),
                            (torch, TI, lambda: torch.zeros(n, n, dtype=torch.float64))):
        qs = np.stack([np.asarray(init.orthogonal_(make()).numpy()) for _ in range(draws)])
        assert abs(qs.mean()) < 0.01, lib.__name__
        np.testing.assert_allclose((qs**2).mean(0), np.full((n, n), 1 / n), atol=0.03)
        dets = np.linalg.det(qs)
        assert abs((dets > 0).mean() - 0.5) < 0.05, lib.__name__


def test_orthogonal_empty_and_errors_as_pytorch() -> None:
    ours, theirs = pair((0, 3))
    assert GI.orthogonal_(ours) is ours and TI.orthogonal_(theirs) is theirs
    for shape in ((5,), ()):
        ours, theirs = pair(shape)
        with pytest.raises(ValueError, match="2 or more dimensions"):
            TI.orthogonal_(theirs)
        with pytest.raises(ValueError, match=r"orthogonal_: .*2 or more dimensions.*shape"):
            GI.orthogonal_(ours)


# ----------------------------------------------------------------------------- trunc_normal_

def truncated_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """Mean and variance of N(mean, std^2) restricted to [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = mean + std * (phi(alpha) - phi(beta)) / z
    v = std**2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z
                  - ((phi(alpha) - phi(beta)) / z) ** 2)
    return m, v


TRUNC_CASES = [
    {},                                                    # mass 0.95: rejection from N
    {"std": 0.02, "a": -0.04, "b": 0.04},                  # ViT-style, 2 std either side
    {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 1.0},        # mass 0.38
    {"mean": 0.0, "std": 1.0, "a": 1.5, "b": 3.0},         # mass 0.06: uniform proposals
    {"mean": 1.0, "std": 0.5, "a": -0.5, "b": 0.2},        # mass 0.05, mean right of [a, b]
]


@pytest.mark.parametrize("case", TRUNC_CASES, ids=str)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_trunc_normal_bounds_and_moments(case: dict[str, float], dtype: Any) -> None:
    n = 40000
    ours, theirs = pair((200, n // 200), dtype)
    tg.manual_seed(1)
    out = GI.trunc_normal_(ours, **case)
    assert out is ours
    TI.trunc_normal_(theirs, **case)
    full = {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0, **case}
    m, v = truncated_moments(full["mean"], full["std"], full["a"], full["b"])
    for name, w in (("ours", ours.numpy()), ("torch", theirs.numpy())):
        assert w.dtype == NUMPY_DTYPES[dtype], name
        lo, hi = w.dtype.type(full["a"]), w.dtype.type(full["b"])
        assert w.min() >= lo and w.max() <= hi, name
        x = w.astype(np.float64)
        se = math.sqrt(v / n)
        assert abs(x.mean() - m) < 5 * se, f"{name}: mean {x.mean()} vs {m}"
        assert abs(x.var() - v) < 0.03 * v, f"{name}: var {x.var()} vs {v}"
    # the two samples agree with each other (two-sample Kolmogorov-Smirnov, 0.1% level)
    a_sorted, b_sorted = np.sort(ours.numpy().ravel()), np.sort(theirs.numpy().ravel())
    grid = np.concatenate([a_sorted, b_sorted])
    ks = np.abs(np.searchsorted(a_sorted, grid, side="right")
                - np.searchsorted(b_sorted, grid, side="right")).max() / n
    assert ks < 1.95 * math.sqrt(2 / n), f"KS distance {ks}"


def test_trunc_normal_positional_and_warning_as_pytorch() -> None:
    ours, theirs = pair((500,))
    with pytest.warns(UserWarning, match="more than 2 std"):
        TI.trunc_normal_(theirs, 5.0, 1.0, -1.0, 1.0)
    with pytest.warns(UserWarning, match="more than 2 std"):
        GI.trunc_normal_(ours, 5.0, 1.0, -1.0, 1.0)
    assert ours.numpy().min() >= -1.0 and ours.numpy().max() <= 1.0
    # most of the mass of N(5, 1) on [-1, 1] sits at 1: the mean is close to it
    assert ours.numpy().mean() > 0.75 and theirs.numpy().mean() > 0.75
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GI.trunc_normal_(ours, mean=0.0, std=1.0, a=-2.0, b=2.0)


# ----------------------------------------------------------------------------- sparse_

@pytest.mark.parametrize("shape,sparsity", [((10, 7), 0.35), ((20, 50), 0.1), ((8, 3), 0.0),
                                            ((5, 4), 1.0), ((3, 6), 0.5), ((1, 4), 0.2)])
def test_sparse_zeros_per_column_as_pytorch(shape: tuple[int, int], sparsity: float) -> None:
    ours, theirs = pair(shape)
    assert GI.sparse_(ours, sparsity) is ours
    TI.sparse_(theirs, sparsity)
    expected = math.ceil(sparsity * shape[0])
    for w in (ours.numpy(), theirs.numpy()):
        np.testing.assert_array_equal((w == 0).sum(0), np.full(shape[1], expected))


def test_sparse_std_and_zero_positions_are_random() -> None:
    ours = tg.zeros(400, 300, dtype=tg.float64)
    GI.sparse_(ours, sparsity=0.25, std=0.5)
    w = ours.numpy()
    nonzero = w[w != 0]
    assert abs(nonzero.std() - 0.5) < 0.01 and abs(nonzero.mean()) < 0.01
    # each row is zero in about a quarter of the columns (positions differ per column)
    frac = (w == 0).mean(1)
    assert abs(frac.mean() - 0.25) < 1e-12 and frac.min() > 0.1 and frac.max() < 0.4


def test_sparse_errors_as_pytorch() -> None:
    for shape in ((6,), (2, 3, 4)):
        ours, theirs = pair(shape)
        with pytest.raises(ValueError, match="2 dimensions"):
            TI.sparse_(theirs, 0.5)
        with pytest.raises(ValueError, match=r"sparse_: .*2 dimensions.*shape"):
            GI.sparse_(ours, 0.5)


# ----------------------------------------------------------------------------- reproducibility

INITS = [
    ("orthogonal_", (6, 4), {"gain": 2.0}),
    ("trunc_normal_", (50, 40), {"std": 0.1, "a": -0.1, "b": 0.3}),
    ("trunc_normal_", (50, 40), {"mean": 0.0, "std": 1.0, "a": 2.0, "b": 2.5}),
    ("sparse_", (12, 9), {"sparsity": 0.3, "std": 0.1}),
]


@pytest.mark.parametrize("name,shape,kw", INITS)
def test_reproducible_under_manual_seed_and_generator(name: str, shape: tuple[int, ...],
                                                      kw: dict[str, Any]) -> None:
    init = getattr(GI, name)

    def draw(**extra: Any) -> np.ndarray:
        t = tg.zeros(shape, dtype=tg.float64)
        init(t, **kw, **extra)
        return t.numpy().copy()

    tg.manual_seed(5)
    first, second = draw(), draw()
    tg.manual_seed(5)
    np.testing.assert_array_equal(draw(), first)
    np.testing.assert_array_equal(draw(), second)
    assert not np.array_equal(first, second)
    # an explicit generator, as in PyTorch (`generator=torch.Generator().manual_seed(3)`)
    g1, g2 = tg.Generator().manual_seed(3), tg.Generator().manual_seed(3)
    np.testing.assert_array_equal(draw(generator=g1), draw(generator=g2))
    tg.manual_seed(5)
    draw(generator=tg.Generator().manual_seed(9))  # leaves the default generator alone
    np.testing.assert_array_equal(draw(), first)
    # PyTorch takes the same keyword
    getattr(TI, name)(torch.zeros(shape, dtype=torch.float64), **kw,
                      generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("name", ["orthogonal_", "trunc_normal_", "sparse_"])
def test_integer_tensors_refused(name: str) -> None:
    args = (0.5,) if name == "sparse_" else ()
    with pytest.raises(TypeError, match=f"{name}: expected a floating-point tensor"):
        getattr(GI, name)(tg.zeros(3, 3, dtype=tg.int64), *args)
