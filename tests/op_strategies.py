"""Input strategies and kink-avoiding helpers for the op table (`op_table.py`).

Every strategy draws `(arrays, params)`: the float64 arrays that become the differentiated
inputs, and the non-differentiable parameters (axes, indices, exponents) of one call.

Kinks are avoided by construction, never by filtering:
- `OFFGRID` values are (k + 1/2) / 4, so they are never 0 and two of them differ by a
  multiple of 1/4;
- `distinct(t)` adds offsets in (0, 1/16), all different, so on off-grid values no two
  entries tie, no two absolute values tie and none is 0 (gaps are at least ~1e-3, far
  wider than the 1e-6 step of the numeric gradient).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Tensor
from tinygrad_edu.testing import broadcastable_shapes, einsum_specs, matmul_shapes, shapes

ANY = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, width=64)
OFFGRID = st.integers(-12, 11).map(lambda k: (k + 0.5) / 4)

Case = tuple[tuple[np.ndarray, ...], dict[str, Any]]


def small_shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 3
                 ) -> Any:
    return shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape: Any, elements: Any = ANY) -> Any:
    return hnp.arrays(np.float64, shape, elements=elements)


# ----------------------------------------------------------------------------- tie breaking


def tiebreak(shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape))
    return ((np.arange(size) + 1.0) / (16.0 * (size + 1))).reshape(shape)


def distinct(t: Tensor) -> Tensor:
    return t + Tensor(tiebreak(t.shape))


def distinct_np(a: np.ndarray) -> np.ndarray:
    return a + tiebreak(a.shape)


def norm_axes(axis: Any, ndim: int) -> Any:
    """numpy's form of an axis argument as the library reads it (0-d: dim 0/-1 is allowed)."""
    if axis is None:
        return None
    items = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in items) if ndim else ()


# ----------------------------------------------------------------------------- basic kinds


@st.composite
def unary(draw: Any, elements: Any = ANY, shape: Any = None) -> Case:
    s = draw(shape if shape is not None else small_shapes())
    return (draw(arrays(s, elements)),), {}


@st.composite
def binary(draw: Any, elements: Any = ANY) -> Case:
    s1, s2 = draw(broadcastable_shapes(min_dims=0, max_dims=3, max_side=3))
    return (draw(arrays(s1, elements)), draw(arrays(s2, elements))), {}


@st.composite
def ternary_where(draw: Any) -> Case:
    s_cond, s_a, s_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=3, min_dims=0, max_dims=3, max_side=3)).input_shapes
    cond = draw(hnp.arrays(np.bool_, s_cond))
    return (draw(arrays(s_a)), draw(arrays(s_b))), {"cond": cond}


@st.composite
def axes_for(draw: Any, ndim: int, allow_none: bool = True, multi: bool = True) -> Any:
    """None, one axis or a tuple of distinct axes, each possibly negative."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1] if allow_none else [0, -1]))
    kinds = ["int"] + (["none"] if allow_none else []) + (["tuple"] if multi else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)


@st.composite
def reduction(draw: Any, elements: Any = ANY, multi: bool = True, allow_none: bool = True,
              shape: Any = None) -> Case:
    s = draw(shape if shape is not None else small_shapes())
    axis = draw(axes_for(len(s), allow_none=allow_none, multi=multi))
    return (draw(arrays(s, elements)),), {"axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def variance(draw: Any, min_side: int = 1) -> Case:
    shape = small_shapes(min_dims=1 if min_side > 1 else 0, min_side=min_side)
    (a,), params = draw(reduction(OFFGRID, shape=shape))
    axes = norm_axes(params["axis"], a.ndim)
    count = a.size if axes is None else int(np.prod([a.shape[i] for i in axes]))
    params["correction"] = draw(st.sampled_from([0, 1])) if count > 1 else 0
    return (a,), params


@st.composite
def one_dim(draw: Any, elements: Any = ANY, min_dims: int = 0) -> Case:
    s = draw(small_shapes(min_dims=min_dims))
    nd = max(len(s), 1)
    return (draw(arrays(s, elements)),), {"dim": draw(st.integers(-nd, nd - 1))}


# ----------------------------------------------------------------------------- movement


@st.composite
def reshape_target(draw: Any) -> Case:
    s = draw(small_shapes())
    n = int(np.prod(s))
    divisors = [k for k in range(1, n + 1) if n % k == 0]
    k = draw(st.sampled_from(divisors))
    target = draw(st.sampled_from([(n,), (-1,), (1, n), (n // k, k), (k, -1, 1),
                                   tuple(reversed(s)), ()] if n == 1 else
                                  [(n,), (-1,), (1, n), (n // k, k), (k, -1, 1),
                                   tuple(reversed(s))]))
    return (draw(arrays(s)),), {"shape": target}


@st.composite
def permutation(draw: Any) -> Case:
    s = draw(small_shapes())
    perm = draw(st.permutations(range(len(s))))
    perm = tuple(p - len(s) if draw(st.booleans()) else p for p in perm)
    return (draw(arrays(s)),), {"dims": perm}


@st.composite
def two_dims(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    nd = len(s)
    return (draw(arrays(s)),), {"dims": (draw(st.integers(-nd, nd - 1)),
                                         draw(st.integers(-nd, nd - 1)))}


@st.composite
def expand_target(draw: Any) -> Case:
    s = draw(small_shapes(max_side=2))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    body = tuple(draw(st.integers(1, 3)) if n == 1 else draw(st.sampled_from([n, -1]))
                 for n in s)
    return (draw(arrays(s)),), {"shape": lead + body}


@st.composite
def basic_index(draw: Any) -> Case:
    s = draw(small_shapes())
    index = draw(hnp.basic_indices(s, allow_newaxis=True, allow_ellipsis=True))
    return (draw(arrays(s)),), {"index": index}


@st.composite
def integer_array_index(draw: Any) -> Case:
    """Integer arrays (and lists) with repeated and negative entries, alone or mixed with
    ints, slices, None and an ellipsis."""
    s = draw(small_shapes(min_dims=1))
    nd = len(s)

    def ints(n: int, shape: tuple[int, ...]) -> np.ndarray:
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(-n, n - 1)))

    kind = draw(st.sampled_from(["one", "list", "two", "mixed", "ellipsis"]))
    if kind == "two" and nd < 2:
        kind = "one"
    if kind == "one":
        axis = draw(st.integers(0, nd - 1))
        idx_shape = draw(st.sampled_from([(4,), (2, 3), (1,)]))
        index: Any = (slice(None),) * axis + (ints(s[axis], idx_shape),)
    elif kind == "list":
        index = [int(i) for i in ints(s[0], (5,))]
    elif kind == "two":
        index = (ints(s[0], (3, 1)), ints(s[1], (4,)))
    elif kind == "mixed":
        index = (draw(st.integers(-s[0], s[0] - 1)), *([None] if draw(st.booleans()) else []),
                 *((ints(s[1], (3,)),) if nd > 1 else ()))
    else:
        index = (Ellipsis, ints(s[-1], (2, 2)))
    return (draw(arrays(s)),), {"index": index}


@st.composite
def boolean_index(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    k = draw(st.integers(1, len(s)))
    mask = draw(hnp.arrays(np.bool_, s[:k]))
    index: Any = mask if draw(st.booleans()) else (mask, Ellipsis)
    if len(s) >= 2 and draw(st.booleans()):  # a mask on the middle axes
        index = (slice(None), draw(hnp.arrays(np.bool_, s[1:2])))
    return (draw(arrays(s)),), {"index": index}


@st.composite
def pad_widths(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))  # numpy's pad has no 0-d form either
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in s)
    return (draw(arrays(s)),), {"widths": widths, "value": draw(st.sampled_from([0.0, 1.5]))}


@st.composite
def concat_inputs(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(s), len(s) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    axis = dim % len(s)
    xs = tuple(draw(arrays(s[:axis] + (n,) + s[axis + 1:])) for n in sizes)
    return xs, {"dim": dim}


@st.composite
def stack_inputs(draw: Any) -> Case:
    s = draw(small_shapes())
    count = draw(st.integers(1, 3))
    dim = draw(st.integers(-len(s) - 1, len(s)))
    return tuple(draw(arrays(s)) for _ in range(count)), {"dim": dim}


@st.composite
def matmul_pair(draw: Any) -> Case:
    sa, sb = draw(matmul_shapes(max_side=3))
    return (draw(arrays(sa)), draw(arrays(sb))), {}


@st.composite
def einsum_inputs(draw: Any, table: Any = None) -> Case:
    spec, specs_shapes = draw(table if table is not None else einsum_specs())
    return tuple(draw(arrays(tuple(s))) for s in specs_shapes), {"spec": spec}


@st.composite
def extra_einsum_specs(draw: Any) -> Any:
    """Specs the shared strategy lacks: ellipsis in other places, size-1 broadcasting,
    a label repeated inside a product, transposes of 3-D operands."""
    n, m, b = (draw(st.integers(1, 3)) for _ in range(3))
    return draw(st.sampled_from([
        ("i...->...", [(n, b, m)]),
        ("...i,...i->...", [(b, n), (n,)]),
        ("ij,ij->ij", [(1, m), (n, m)]),
        ("ijk->kji", [(n, m, b)]),
        ("ii,i->i", [(n, n), (n,)]),
        ("ii", [(n, n)]),
        ("i,i->i", [(n,), (n,)]),
        ("bi,bj->bij", [(b, n), (b, m)]),
    ]))


# ----------------------------------------------------------------------------- composites


@st.composite
def split_sizes(draw: Any) -> Case:
    (a,), params = draw(one_dim(min_dims=1))
    n = a.shape[params["dim"]]
    if draw(st.booleans()):
        params["split"] = draw(st.integers(1, n + 1))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
        params["split"] = [hi - lo for lo, hi in zip([0, *cuts], [*cuts, n])]
    return (a,), params


@st.composite
def gather_index(draw: Any) -> Case:
    s = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(s), len(s) - 1))
    d = dim % len(s)
    idx_shape = tuple(draw(st.integers(1, 4)) if i == d else draw(st.integers(1, n))
                      for i, n in enumerate(s))
    index = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, s[d] - 1)))
    return (draw(arrays(s)),), {"dim": dim, "index": index}


@st.composite
def masked(draw: Any) -> Case:
    s_x, s_m = draw(broadcastable_shapes(min_dims=0, max_dims=3, max_side=3))
    out = np.broadcast_shapes(s_x, s_m)
    if out != tuple(s_x):  # masked_fill keeps the input's shape: the mask broadcasts to it
        s_m = s_x
    return (draw(arrays(s_x)),), {"mask": draw(hnp.arrays(np.bool_, s_m)),
                                  "value": draw(st.sampled_from([0.0, -2.5]))}


@st.composite
def repeats(draw: Any) -> Case:
    s = draw(small_shapes(max_side=2))
    extra = draw(st.integers(0, 1))
    return (draw(arrays(s)),), {"sizes": tuple(draw(st.integers(1, 3))
                                               for _ in range(len(s) + extra))}


@st.composite
def norms(draw: Any) -> Case:
    s = draw(small_shapes())
    nd = max(len(s), 1)
    dim = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if s else None
    return (draw(arrays(s, OFFGRID)),), {"p": draw(st.sampled_from([2, 1, float("inf"), 3])),
                                         "dim": dim, "keepdim": draw(st.booleans())}


@st.composite
def topk_args(draw: Any) -> Case:
    (a,), params = draw(one_dim(OFFGRID, min_dims=1))
    params["k"] = draw(st.integers(0, a.shape[params["dim"]]))
    params["largest"] = draw(st.booleans())
    return (a,), params


@st.composite
def flatten_dims(draw: Any) -> Case:
    s = draw(small_shapes())
    nd = max(len(s), 1)
    start = draw(st.integers(0, nd - 1))
    end = draw(st.integers(start, nd - 1))
    as_negative = draw(st.booleans()) and s
    return (draw(arrays(s)),), {"start_dim": start - nd if as_negative else start,
                                "end_dim": end - nd if as_negative else end}


@st.composite
def squeeze_dims(draw: Any) -> Case:
    s = draw(small_shapes(max_side=2))
    dim = draw(axes_for(len(s)))
    return (draw(arrays(s)),), {"dim": dim}


@st.composite
def unsqueeze_dim(draw: Any) -> Case:
    s = draw(small_shapes())
    return (draw(arrays(s)),), {"dim": draw(st.integers(-len(s) - 1, len(s)))}


@st.composite
def clamp_bounds(draw: Any) -> Case:
    (a,), _ = draw(unary(OFFGRID))
    low, high = draw(st.sampled_from([(-1.0, 1.0), (None, 0.6), (-0.6, None), (0.3, 0.3)]))
    return (a,), {"min": low, "max": high}
