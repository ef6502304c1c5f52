"""Issue 19's linear algebra, reductions, random draws and autograd utilities against
PyTorch: mm, bmm, mv, addmm, addmv, baddbmm, kron, tensordot, cdist, cumprod, median,
nanmedian, var_mean, std_mean, multinomial, bernoulli(_), Tensor.register_hook,
inference_mode and Size.

Each call is PyTorch code in a string (the test id) run on both libraries: values,
dtypes, gradients and second derivatives (float64, where PyTorch has them), positional and
keyword spellings, and the calls PyTorch refuses (we must refuse them too). The random draws
are checked by statistics under a fixed seed and by reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tests.conformance._ops_helpers import grads, same, sample

# ----------------------------------------------------------------------------- products

PRODUCTS = [  # (src, shapes)
    ("torch.mm(x, y)", [(2, 3), (3, 4)]),
    ("torch.mm(input=x, mat2=y)", [(2, 3), (3, 4)]),
    ("x.mm(y)", [(2, 3), (3, 4)]),
    ("x.mm(mat2=y)", [(1, 3), (3, 1)]),
    ("torch.bmm(x, y)", [(5, 2, 3), (5, 3, 4)]),
    ("x.bmm(mat2=y)", [(1, 2, 3), (1, 3, 4)]),
    ("torch.bmm(input=x, mat2=y)", [(2, 1, 3), (2, 3, 1)]),
    ("torch.mv(x, y)", [(2, 3), (3,)]),
    ("x.mv(vec=y)", [(4, 3), (3,)]),
    ("torch.mv(input=x, vec=y)", [(1, 3), (3,)]),
    ("torch.addmm(c, x, y)", [(2, 4), (2, 3), (3, 4)]),
    ("torch.addmm(c, x, y, beta=0.5, alpha=2)", [(4,), (2, 3), (3, 4)]),
    ("torch.addmm(input=c, mat1=x, mat2=y, alpha=-1.5)", [(2, 1), (2, 3), (3, 4)]),
    ("c.addmm(x, y, beta=2)", [(1, 4), (2, 3), (3, 4)]),
    ("torch.addmm(c, x, y, beta=0)", [(2, 4), (2, 3), (3, 4)]),
    ("torch.addmv(c, x, y)", [(2,), (2, 3), (3,)]),
    ("torch.addmv(c, x, y, beta=3, alpha=0.5)", [(1,), (2, 3), (3,)]),
    ("c.addmv(mat=x, vec=y, beta=0)", [(2,), (2, 3), (3,)]),
    ("torch.baddbmm(c, x, y)", [(5, 2, 4), (5, 2, 3), (5, 3, 4)]),
    ("torch.baddbmm(c, x, y, beta=0.5, alpha=2)", [(4,), (5, 2, 3), (5, 3, 4)]),
    ("c.baddbmm(batch1=x, batch2=y, alpha=3)", [(2, 1), (5, 2, 3), (5, 3, 4)]),
]


def _args(n: int) -> str:
    return {2: "x, y", 3: "c, x, y"}[n]


@pytest.mark.parametrize(("src", "shapes"), PRODUCTS, ids=[p[0] + str(p[1]) for p in PRODUCTS])
def test_products_gradients(src: str, shapes: list) -> None:
    """Value, the gradient of every operand, and the second derivative (float64)."""
    arrays = [sample(s, "float64", k) for k, s in enumerate(shapes)]
    grads(src, *arrays, args=_args(len(shapes)))


@pytest.mark.parametrize(("src", "shapes"), PRODUCTS, ids=[p[0] + str(p[1]) for p in PRODUCTS])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_products_dtypes(src: str, shapes: list, dtype: str) -> None:
    arrays = [sample(s, dtype, k) for k, s in enumerate(shapes)]
    same(src, *arrays, args=_args(len(shapes)))


def test_addmm_beta_zero_ignores_nan() -> None:
    """beta=0: the input is not read, so NaN in it does not reach the result (PyTorch)."""
    c = np.full((2, 4), np.nan)
    same("torch.addmm(c, x, y, beta=0)", c, sample((2, 3), "float64", 1),
         sample((3, 4), "float64", 2), args="c, x, y")
    same("torch.addmv(c, x, y, beta=0, alpha=2)", np.full(2, np.nan),
         sample((2, 3), "float64", 1), sample((3,), "float64", 2), args="c, x, y")


def test_integer_scalars() -> None:
    """Integer products scale by integers (PyTorch truncates a float beta/alpha)."""
    same("torch.addmm(c, x, y, beta=2, alpha=3)", sample((1, 4), "int64", 0),
         sample((2, 3), "int64", 1), sample((3, 4), "int64", 2), args="c, x, y")


PRODUCT_ERRORS = [  # PyTorch refuses each of these: strict ranks, sizes, dtypes
    ("torch.mm(x, y)", [(3,), (3, 2)], "float32"),
    ("torch.mm(x, y)", [(2, 3), (3,)], "float32"),
    ("torch.mm(x, y)", [(2, 2, 3), (3, 2)], "float32"),
    ("torch.mm(x, y)", [(2, 3), (4, 2)], "float32"),
    ("torch.mm(x, y)", [(2, 3), (3, 2)], "bool"),
    ("torch.bmm(x, y)", [(2, 3), (3, 2)], "float32"),
    ("torch.bmm(x, y)", [(2, 2, 3), (3, 3, 2)], "float32"),
    ("torch.bmm(x, y)", [(2, 2, 3), (1, 3, 2)], "float32"),
    ("torch.bmm(x, y)", [(2, 2, 3), (2, 4, 2)], "float32"),
    ("torch.bmm(x, y)", [(2, 2, 3), (2, 3)], "float32"),
    ("torch.mv(x, y)", [(2, 3), (4,)], "float32"),
    ("torch.mv(x, y)", [(2, 3), (3, 1)], "float32"),
    ("torch.mv(x, y)", [(3,), (3,)], "float32"),
]


@pytest.mark.parametrize(("src", "shapes", "dtype"), PRODUCT_ERRORS,
                         ids=[f"{p[0]}{p[1]}{p[2]}" for p in PRODUCT_ERRORS])
def test_products_refuse(src: str, shapes: list, dtype: str) -> None:
    same(src, *[sample(s, dtype, k) for k, s in enumerate(shapes)], args="x, y")


@pytest.mark.parametrize(("src", "shapes"), [
    ("torch.addmm(c, x, y)", [(3,), (2, 3), (3, 4)]),
    ("torch.addmm(c, x, y)", [(3, 4), (2, 3), (3, 4)]),
    ("torch.addmm(c, x, y)", [(1, 2, 4), (2, 3), (3, 4)]),
    ("torch.addmv(c, x, y)", [(3,), (2, 3), (3,)]),
    ("torch.baddbmm(c, x, y)", [(4, 2, 4), (5, 2, 3), (5, 3, 4)]),
])
def test_scaled_products_refuse(src: str, shapes: list) -> None:
    same(src, *[sample(s, "float32", k) for k, s in enumerate(shapes)], args="c, x, y")


def test_mixed_dtypes_refuse() -> None:
    """PyTorch's mm/bmm/mv do not promote (matmul does)."""
    same("torch.mm(x, y)", sample((2, 3), "float32"), sample((3, 2), "float64"), args="x, y")
    same("torch.bmm(x, y)", sample((1, 2, 3), "float64"), sample((1, 3, 2), "float32"),
         args="x, y")
    same("torch.mv(x, y)", sample((2, 3), "float32"), sample((3,), "int64"), args="x, y")


@pytest.mark.parametrize(("call", "shapes", "named"), [
    (lambda x, y: tg.mm(x, y), [(2, 3), (4, 2)], "mm"),
    (lambda x, y: tg.mm(x, y), [(3,), (3, 2)], "mm"),
    (lambda x, y: tg.bmm(x, y), [(2, 2, 3), (3, 3, 2)], "bmm"),
    (lambda x, y: tg.mv(x, y), [(2, 3), (4,)], "mv"),
    (lambda x, y: tg.tensordot(x, y, dims=([1], [0])), [(2, 3), (4, 3)], "tensordot"),
    (lambda x, y: tg.cdist(x, y), [(2, 3), (2, 4)], "cdist"),
])
def test_errors_name_the_op_and_both_shapes(call: object, shapes: list, named: str) -> None:
    x, y = (tg.ones(*s) for s in shapes)
    with pytest.raises(tg.ShapeError) as info:
        call(x, y)  # type: ignore[operator]
    message = str(info.value)
    assert message.startswith(named + ":"), message
    for s in shapes:
        assert str(tuple(s)) in message, message


def test_scaled_product_errors_name_every_shape() -> None:
    for op, shapes in (("addmm", [(3,), (2, 3), (3, 4)]), ("addmv", [(3,), (2, 3), (3,)]),
                       ("baddbmm", [(3, 2, 4), (2, 2, 3), (2, 3, 4)])):
        with pytest.raises(tg.ShapeError) as info:
            getattr(tg, op)(*(tg.ones(*s) for s in shapes))
        message = str(info.value)
        assert message.startswith(op + ":") and all(str(s) in message for s in shapes), message


def test_products_use_matmul_gradients_into_a_shared_operand() -> None:
    """`x.mm(x.T)`: one tensor on both sides, its two gradients add up."""
    grads("x.mm(x.T) + torch.addmm(x.mm(x.T), x, x.T, beta=2)", sample((3, 3), "float64"))


# ----------------------------------------------------------------------------- kron, tensordot

KRON = [
    ("torch.kron(x, y)", (2, 3), (4, 5)), ("x.kron(y)", (3,), (2,)),
    ("torch.kron(input=x, other=y)", (2, 1, 3), (2, 2)), ("torch.kron(x, y)", (), (3,)),
    ("torch.kron(x, y)", (2, 2), ()), ("torch.kron(x, y)", (0, 2), (2, 3)),
]


@pytest.mark.parametrize(("src", "sx", "sy"), KRON, ids=[f"{k[0]}{k[1]}{k[2]}" for k in KRON])
def test_kron(src: str, sx: tuple, sy: tuple) -> None:
    grads(src, sample(sx, "float64", 1), sample(sy, "float64", 2), args="x, y")
    same(src, sample(sx, "int64", 1), sample(sy, "int64", 2), args="x, y")
    same(src, sample(sx, "float32", 1), sample(sy, "int64", 2), args="x, y")


TENSORDOT = [
    ("torch.tensordot(x, y)", (2, 3, 4), (3, 4, 5)),
    ("torch.tensordot(x, y, 1)", (2, 3, 4), (4, 5)),
    ("torch.tensordot(x, y, dims=0)", (2, 3), (4,)),
    ("torch.tensordot(x, y, dims=([1, 2], [1, 0]))", (2, 3, 4), (4, 3)),
    ("torch.tensordot(x, y, dims=[[1], [1]])", (2, 3, 4), (4, 3)),
    ("torch.tensordot(x, y, dims=([0, -1], [-1, 0]))", (2, 3, 4), (4, 5, 2)),
    ("torch.tensordot(a=x, b=y, dims=([], []))", (2,), (3,)),
    ("torch.tensordot(x, y, dims=3)", (2, 3, 4), (2, 3, 4)),
    ("torch.tensordot(x, y, dims=((2,), (0,)))", (2, 3, 4), (4, 5)),
]


@pytest.mark.parametrize(("src", "sx", "sy"), TENSORDOT, ids=[t[0] for t in TENSORDOT])
def test_tensordot(src: str, sx: tuple, sy: tuple) -> None:
    grads(src, sample(sx, "float64", 1), sample(sy, "float64", 2), args="x, y")
    same(src, sample(sx, "int64", 1), sample(sy, "int64", 2), args="x, y")


def test_tensordot_dims_as_tensor() -> None:
    same("torch.tensordot(x, y, dims=torch.tensor([[1], [1]]))", sample((2, 3, 4), "float32"),
         sample((4, 3), "float32"), args="x, y")


@pytest.mark.parametrize("src", [
    "torch.tensordot(x, y, dims=([1], [0]))", "torch.tensordot(x, y, dims=-1)",
    "torch.tensordot(x, y, dims=4)", "torch.tensordot(x, y, dims=([1, 0], [0]))",
    "torch.tensordot(x, y.double(), dims=1)", "torch.tensordot(x, y, dims=([5], [0]))",
    "torch.tensordot(x, y, dims=(2, 0))", "torch.tensordot(x, y, dims=[2, 0])",
])
def test_tensordot_refuses(src: str) -> None:
    same(src, sample((2, 3, 4), "float32"), sample((4, 3), "float32"), args="x, y")


# ----------------------------------------------------------------------------- cdist

# Rows chosen so that some pairs are at distance 0 (the gradient there is 0, as PyTorch's)
# and no |difference| ties for the max-norm (PyTorch then gives every tied entry the full
# gradient; ours shares it, the subgradient convention of max).
X1 = np.array([[0.0, 0.0, 1.0], [1.0, 2.5, -1.0], [3.0, 4.0, 0.5], [0.3, -0.2, 0.1]])
X2 = np.array([[0.0, 0.0, 1.0], [1.5, 2.0, 0.25], [3.0, 4.0, 0.5]])


@pytest.mark.parametrize("src", [
    "torch.cdist(x, y)", "torch.cdist(x, y, p=1)", "torch.cdist(x, y, p=inf)",
    "torch.cdist(x, y, 0)", "torch.cdist(x, y, p=3)", "torch.cdist(x, y, p=0.5)",
    "torch.cdist(x1=x, x2=y, p=2.0)",
    "torch.cdist(x, y, compute_mode='donot_use_mm_for_euclid_dist')",
    "torch.cdist(x, x)",
])
def test_cdist(src: str) -> None:
    """PyTorch has no second derivative of cdist; the first is compared."""
    grads(src, X1, X2, args="x, y", second=False)
    same(src, X1.astype("float32"), X2.astype("float32"), args="x, y")


@pytest.mark.parametrize(("sx", "sy"), [((2, 4, 3), (2, 5, 3)), ((2, 1, 4, 3), (3, 5, 3)),
                                         ((4, 3), (2, 5, 3)), ((0, 3), (2, 3)), ((2, 0), (3, 0))])
def test_cdist_batches(sx: tuple, sy: tuple) -> None:
    grads("torch.cdist(x, y)", sample(sx, "float64", 1), sample(sy, "float64", 2),
          args="x, y", second=False)


def test_cdist_zero_distance_gradient_is_zero() -> None:
    x = tg.tensor(X1[:1], dtype=tg.float64, requires_grad=True)
    for p in (2.0, 1.0, 3.0, 0.5, float("inf")):
        (g,) = tg.grad(tg.cdist(x, tg.tensor(X1[:1], dtype=tg.float64), p=p).sum(), [x])
        assert np.all(g.numpy() == 0), (p, g)


@pytest.mark.parametrize(("src", "sx", "sy", "dtype"), [
    ("torch.cdist(x, y)", (3,), (3,), "float32"),
    ("torch.cdist(x, y)", (2, 3), (2, 4), "float32"),
    ("torch.cdist(x, y, p=-1)", (2, 3), (2, 3), "float32"),
    ("torch.cdist(x, y)", (2, 3), (2, 3), "int64"),
    ("torch.cdist(x, y.double())", (2, 3), (2, 3), "float32"),
    ("torch.cdist(x, y)", (2, 2, 3), (3, 2, 3), "float32"),
])
def test_cdist_refuses(src: str, sx: tuple, sy: tuple, dtype: str) -> None:
    same(src, sample(sx, dtype, 1), sample(sy, dtype, 2), args="x, y")


# ----------------------------------------------------------------------------- cumprod

ZEROS = {  # inputs with no, one and several zeros: prod / x would be wrong at each zero
    "none": np.array([2.0, -0.5, 3.0, 1.5, 4.0]),
    "one": np.array([2.0, 0.0, 3.0, -1.5, 4.0]),
    "first": np.array([0.0, 2.0, 3.0, -1.5]),
    "last": np.array([2.0, 3.0, -1.5, 0.0]),
    "two": np.array([2.0, 0.0, 3.0, 0.0, 4.0]),
    "adjacent": np.array([1.5, 0.0, 0.0, 3.0, 2.0, -1.0, 0.5]),
    "all": np.zeros(4),
    "single": np.array([0.0]),
}


@pytest.mark.parametrize("name", list(ZEROS))
@pytest.mark.parametrize("src", ["torch.cumprod(x, 0)", "x.cumprod(dim=-1)",
                                 "torch.cumprod(input=x, dim=0).sum()"])
def test_cumprod_with_zeros(src: str, name: str) -> None:
    """Value, gradient and second derivative equal PyTorch's, zeros included."""
    grads(src, ZEROS[name])


def test_cumprod_matrix_with_zeros() -> None:
    x = sample((3, 6, 2), "float64", 5)
    x[0, 2, 0] = x[1, 0, 1] = x[1, 4, 1] = x[2, 1, 0] = x[2, 3, 0] = 0.0
    for src in ("torch.cumprod(x, 1)", "x.cumprod(0)", "x.cumprod(-1)", "x.cumprod(dim=1)"):
        grads(src, x)


@pytest.mark.parametrize("src", [
    "torch.cumprod(x, 1)", "x.cumprod(0)", "x.cumprod(-1, dtype=torch.float64)",
    "torch.cumprod(x, dim=0, dtype=torch.float32)",
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_cumprod_dtypes(src: str, dtype: str) -> None:
    x = sample((3, 4), dtype, 2)
    if dtype in ("int64", "int32"):
        x = x % 5 - 2  # small, so products stay in range
    if dtype == "uint8":
        x = x % 3
    same(src, x)


@pytest.mark.parametrize(("src", "shape"), [
    ("torch.cumprod(x, 0)", ()), ("x.cumprod(-1)", ()), ("torch.cumprod(x, 0)", (0,)),
    ("torch.cumprod(x, 1)", (2, 0)), ("torch.cumprod(x, 2)", (2, 3)),
    ("torch.cumprod(x, 1)", ()),
])
def test_cumprod_edges(src: str, shape: tuple) -> None:
    same(src, sample(shape, "float32", 1))
    if 0 not in shape and "2)" not in src and "1)" not in src:
        grads(src, sample(shape, "float64", 1))


def test_cumprod_long_axis() -> None:
    """Many scan steps (n = 37: not a power of two), a zero in the middle."""
    x = 1.0 + 0.1 * sample((37,), "float64", 3)
    x[20] = 0.0
    grads("x.cumprod(0)", x)


# ----------------------------------------------------------------------------- median

M = np.array([[3.0, 1.0, 2.0, 4.0, -1.5], [5.5, 0.5, 1.0, 0.0, 2.0], [0.25, -2.0, 7.0, 3.5, 1.0]])
TIES = np.array([[2.0, 1.0, 2.0, 2.0], [5.0, 5.0, 1.0, 0.0], [1.0, 2.0, 2.0, 3.0]])
NANS = np.array([[1.0, np.nan, 3.0, np.nan, 2.0], [np.nan, np.nan, np.nan, np.nan, np.nan],
                 [4.0, 3.0, 2.0, 1.0, np.nan]])

MEDIAN = [
    "torch.median(x)", "x.median()", "torch.median(x, 1)", "x.median(0)", "x.median(-1, True)",
    "torch.median(x, dim=1, keepdim=True)", "torch.median(input=x, dim=0)",
    "torch.median(x, 1).values", "torch.median(x, 1)[1]", "x.median(dim=1).indices",
    "torch.nanmedian(x)", "x.nanmedian(1)", "torch.nanmedian(x, dim=0, keepdim=True)",
]


@pytest.mark.parametrize("src", MEDIAN)
@pytest.mark.parametrize("data", ["plain", "ties", "nans"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_median_values(src: str, data: str, dtype: str) -> None:
    """Values and indices; for ties, the index a stable sort puts in the middle, which is
    PyTorch's on these rows (PyTorch leaves the tie choice unspecified)."""
    x = {"plain": M, "ties": TIES, "nans": NANS}[data]
    if "nanmedian" in src and data == "nans":  # an all-NaN row: PyTorch's index varies
        x = NANS[[0, 2]]                         # with the row's length (test below)
    same(src, x.astype(dtype))


def test_nanmedian_of_only_nans() -> None:
    """A row of NaN only: the value is NaN (PyTorch's index then depends on the length:
    2 of 5, 0 of 3; ours is the first NaN)."""
    for n in (1, 2, 3, 5):
        same("torch.nanmedian(x, 1).values", np.full((2, n), np.nan))
        same("torch.nanmedian(x)", np.full((2, n), np.nan))


@pytest.mark.parametrize("src", [s for s in MEDIAN if "[1]" not in s and "indices" not in s])
@pytest.mark.parametrize("data", ["plain", "ties"])
def test_median_gradients(src: str, data: str) -> None:
    """With a dim the gradient goes to the chosen entry; without one it is shared by the
    entries equal to the median (PyTorch's rule: ties below share 1/3 each)."""
    wrapped = f"({src}).values" if _returns_pair(src) else src
    grads(wrapped, {"plain": M, "ties": TIES}[data])


def _returns_pair(src: str) -> bool:
    return "(x)" not in src and "()" not in src and ".values" not in src


@pytest.mark.parametrize("src", ["torch.median(x)", "torch.median(x, 0)", "x.median(1)",
                                 "torch.nanmedian(x, 1)", "x.nanmedian()"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_median_integers(src: str, dtype: str) -> None:
    same(src, sample((3, 4), dtype, 4))


@pytest.mark.parametrize(("src", "shape"), [
    ("torch.median(x)", (0,)), ("torch.median(x)", (2, 0)), ("torch.median(x, 1)", (0, 3)),
    ("torch.median(x, 0)", (0, 3)), ("torch.median(x)", ()), ("torch.median(x, 0)", ()),
    ("torch.median(x, -1, True)", ()), ("torch.median(x, 1)", (3,)),
    ("torch.nanmedian(x)", (0,)), ("x.median(2)", (2, 3)),
])
def test_median_edges(src: str, shape: tuple) -> None:
    same(src, sample(shape, "float32", 1))


def test_median_infinite_ties() -> None:
    """-inf as the median: only the tied entries share the gradient."""
    grads("torch.median(x)", np.array([-np.inf, 1.0, -np.inf, 2.0]), second=False)
    grads("torch.median(x)", np.array([np.inf, 1.0, np.inf, 2.0, np.inf]), second=False)


def test_median_of_an_empty_integer_tensor_refuses() -> None:
    """PyTorch returns NaN cast to int64 (a large negative number); we refuse."""
    with pytest.raises(ValueError, match=r"median: .*\(0,\)"):
        tg.median(tg.tensor([], dtype=tg.int64))


# ----------------------------------------------------------------------------- var_mean, std_mean

MOMENTS = [
    "torch.var_mean(x)", "torch.std_mean(x)", "torch.var_mean(x, 1)", "torch.std_mean(x, 0)",
    "torch.var_mean(x, 1, False)", "torch.std_mean(x, [0, 2], True, True)",
    "torch.var_mean(x, dim=(0, 1), keepdim=True)", "torch.var_mean(x, unbiased=False)",
    "torch.std_mean(x, -1, correction=0)", "torch.var_mean(input=x, dim=2, correction=2)",
    "torch.std_mean(x, False)", "torch.var_mean(x, 1, keepdim=True, correction=0)",
]


@pytest.mark.parametrize("src", MOMENTS)
def test_moments(src: str) -> None:
    """A tuple (spread, mean), as PyTorch; each part's gradient and second derivative."""
    x = sample((2, 3, 4), "float64", 6)
    same(src, x)
    same(src, x.astype("float32"))
    grads(f"{src}[0]", x)
    grads(f"{src}[1]", x)
    grads(f"{src}[0] * {src}[1]", x)


def test_moments_refuse_integers() -> None:
    same("torch.var_mean(x)", sample((3,), "int64"))
    same("torch.std_mean(x, 0)", sample((3,), "int32"))
    assert type(tg.var_mean(tg.ones(3))) is tuple
