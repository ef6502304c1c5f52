"""The activations and similarities added for issue 19 (celu ... pairwise_distance), in
`nn.functional` and as modules, against PyTorch: values, gradients under a random upstream
gradient and second derivatives (float64), float32 values and gradients, keyword and
positional calls, the gradient exactly at each kink, in-place forms, integer, 0-d and
empty input, and the errors. The losses are in `test_losses_added.py`. Each call is
written once, as PyTorch code in a string (see `_added_helpers`)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF
from tinygrad_edu.errors import ShapeError

from ._added_helpers import LIBS, both, fn, raises_like_torch
from .nn_helpers import randn
from .oracle import as_numpy, assert_close, pair

DTYPES = [np.float64, np.float32]


# ----------------------------------------------------------------------------- values, grads

ACTIVATIONS = [
    "F.celu(x)", "F.celu(x, 0.5)", "F.celu(input=x, alpha=2.0)", "F.celu(x, -1.5)",
    "F.selu(x)", "F.selu(input=x)", "F.mish(x)", "F.mish(x * 10)",
    "F.relu6(x * 4 + 3)", "F.relu6(input=x * 4 + 3)",
    "F.hardswish(x * 3)", "F.hardswish(input=x * 3)",
    "F.softsign(x)", "F.softsign(input=x * 5)", "F.logsigmoid(x * 5)", "F.logsigmoid(input=x)",
    "F.softmin(x, 1)", "F.softmin(x, dim=0)", "F.softmin(input=x, dim=-1)",
    "F.softmin(x, 1, 3, torch.float64)", "F.softmin(x, -1, dtype=torch.float64)",
    "F.glu(x)", "F.glu(x, 0)", "F.glu(input=x, dim=-2)",
    "F.normalize(x)", "F.normalize(x, 1.0, 0)", "F.normalize(input=x, p=3.0, dim=-1)",
    "F.normalize(x, p=float('inf'), dim=1)", "F.normalize(x, 2, 1, 0.5)",
    "nn.CELU()(x)", "nn.CELU(0.7)(x)", "nn.SELU()(x)", "nn.Mish()(x)", "nn.ReLU6()(x * 4 + 3)",
    "nn.Hardswish()(x * 3)", "nn.Softsign()(x)", "nn.LogSigmoid()(x)", "nn.Softmin(1)(x)",
    "nn.Softmin(dim=0)(x)", "nn.GLU()(x)", "nn.GLU(dim=0)(x)",
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("src", ACTIVATIONS)
def test_activation(src: str, dtype: Any) -> None:
    both(src, randn(4, 6, seed=len(src), dtype=dtype), second=dtype == np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("src", ["F.hardsigmoid(x * 3)", "F.hardsigmoid(input=x * 3)",
                                 "nn.Hardsigmoid()(x * 3)"])
def test_hardsigmoid(src: str, dtype: Any) -> None:
    """First order as PyTorch; PyTorch has no second derivative (it raises), ours is 0."""
    both(src, randn(4, 6, seed=3, dtype=dtype), second=False)
    x = tg.tensor(randn(4, 6, seed=3), requires_grad=True)
    (g,) = tg.grad(GF.hardsigmoid(x * 3).sum(), [x], create_graph=True)
    assert not g.requires_grad or np.all(as_numpy(tg.grad(g.sum(), [x])[0]) == 0)
    xt = torch.tensor(randn(4, 6, seed=3), requires_grad=True)
    (gt,) = torch.autograd.grad(TF.hardsigmoid(xt * 3).sum(), [xt], create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        torch.autograd.grad(gt.sum(), [xt])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("src", [
    "F.prelu(x, w)", "F.prelu(input=x, weight=w)", "F.prelu(x * 0 + x, w)"])
@pytest.mark.parametrize("shape,w_shape", [((4, 3), (1,)), ((4, 3), (3,)), ((2, 3, 5), (3,)),
                                           ((2, 3, 2, 2), (3,)), ((5,), (1,)), ((), ()),
                                           ((4, 3), ())])
def test_prelu(src: str, shape: tuple[int, ...], w_shape: tuple[int, ...], dtype: Any) -> None:
    w = np.linspace(-0.5, 0.75, int(np.prod(w_shape))).reshape(w_shape).astype(dtype)
    both(src, randn(*shape, seed=5, dtype=dtype), w, names="x, w",
         second=dtype == np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("src", [
    "F.cosine_similarity(a, b)", "F.cosine_similarity(a, b, 0)",
    "F.cosine_similarity(x1=a, x2=b, dim=-1, eps=1e-3)", "F.cosine_similarity(a, b[0])",
    "F.cosine_similarity(a[:, None], b[None], dim=-1)", "F.cosine_similarity(a[0], b[1], dim=0)",
    "F.pairwise_distance(a, b)", "F.pairwise_distance(a, b, 1.0)",
    "F.pairwise_distance(x1=a, x2=b, p=3.0, eps=1e-3, keepdim=True)",
    "F.pairwise_distance(a, b, float('inf'))", "F.pairwise_distance(a, b, -float('inf'))",
    "F.pairwise_distance(a, b, 0.5)", "F.pairwise_distance(a, b[0])",
    "F.pairwise_distance(a[0], b[0])", "F.pairwise_distance(a[0, 0], b[0, 0])",
    "F.pairwise_distance(a[:, :1], b)", "F.pairwise_distance(a, b, 0)",
    "nn.CosineSimilarity()(a, b)", "nn.CosineSimilarity(dim=0, eps=0.1)(a, b)",
    "nn.PairwiseDistance()(a, b)", "nn.PairwiseDistance(p=1.0, eps=0.0, keepdim=True)(a, b)",
])
def test_similarity(src: str, dtype: Any) -> None:
    both(src, randn(3, 4, seed=6, dtype=dtype), randn(3, 4, seed=7, dtype=dtype),
         names="a, b", second=dtype == np.float64)


# ----------------------------------------------------------------------------- kinks and edges

KINKS = [  # (call, points exactly at and next to its kinks)
    ("F.relu6(x)", [0.0, 6.0, -1.0, 3.0, 7.0]),
    ("F.hardswish(x)", [-3.0, 3.0, 0.0, -4.0, 4.0, 1.0]),
    ("F.celu(x, 0.5)", [0.0, -1.0, 1.0]),
    ("F.selu(x)", [0.0, -1.0, 1.0]),
    ("F.softsign(x)", [0.0, -1.0, 1.0]),
    ("F.logsigmoid(x)", [0.0, -1e4, 1e4, -800.0]),
    ("F.mish(x)", [0.0, -1e4, 50.0, -50.0]),  # at +1e4 PyTorch's second derivative is NaN
    ("F.prelu(x, torch.tensor([0.25], dtype=torch.float64))", [0.0, -1.0, 2.0]),
    ("F.prelu(x, w)", [0.0, -1.0, 2.0]),
]


@pytest.mark.parametrize("src,points", KINKS)
def test_gradient_at_kinks(src: str, points: list[float]) -> None:
    """The documented kink rules: relu6' = 0 at 0 and 6, hardswish' = 0 at -3 and 1 at 3,
    celu' = 1 and selu' = scale * alpha at 0, prelu' = weight at 0 (all to second order)."""
    x = np.array(points)
    if "w)" in src:
        both(src, x, np.array([0.25]), names="x, w")
    else:
        both(src, x)


def test_hardsigmoid_at_kinks() -> None:
    both("F.hardsigmoid(x)", np.array([-3.0, 3.0, 0.0, -4.0, 4.0]), second=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("src", ["F.logsigmoid(x)", "F.mish(x)", "F.softsign(x)",
                                 "F.celu(x)", "F.selu(x)", "F.softmin(x, 0)",
                                 "F.hardswish(x)", "F.hardsigmoid(x)", "F.relu6(x)"])
def test_large_inputs_stay_finite(src: str, dtype: Any) -> None:
    """Inputs of +-1e4 and +-1e30: values and gradients as PyTorch's, and finite."""
    x = np.array([-1e30, -1e4, -100.0, 100.0, 1e4, 1e30], dtype=dtype)
    both(src, x, second=False)
    out = fn(src, "x")(GF, gnn, tg, tg.tensor(x))
    assert np.isfinite(as_numpy(out)).all(), f"{src}: {as_numpy(out)}"


@pytest.mark.parametrize("src", ["F.cosine_similarity(a, b, 0)",
                                 "F.cosine_similarity(a, b, 0, 1e-3)",
                                 "F.normalize(a, dim=0)", "F.pairwise_distance(a, b)"])
@pytest.mark.parametrize("a,b", [([0.0, 0.0], [1.0, 2.0]), ([1e-9, 0.0], [1.0, 2.0]),
                                 ([1.0, 2.0], [1.0, 2.0])])
def test_similarity_at_zero_and_below_eps(src: str, a: list[float], b: list[float]) -> None:
    """Zero vectors and norms below eps: the clamp changes the value, not the gradient path
    (first order: PyTorch's second derivative at a zero norm is NaN)."""
    both(src, np.array(a), np.array(b), names="a, b", second=False)


# ----------------------------------------------------------------------------- in place

INPLACE = ["F.celu(y, 0.5, True)", "F.selu(y, inplace=True)", "F.mish(y, inplace=True)",
           "F.relu6(y, inplace=True)", "F.hardswish(y, True)", "F.hardsigmoid(y, True)",
           "nn.CELU(inplace=True)(y)", "nn.SELU(True)(y)", "nn.Mish(True)(y)",
           "nn.ReLU6(True)(y)", "nn.Hardswish(True)(y)", "nn.Hardsigmoid(inplace=True)(y)"]


@pytest.mark.parametrize("src", INPLACE)
def test_inplace(src: str) -> None:
    """The result is the input tensor itself, overwritten; the gradient flows through."""
    x = randn(3, 4, seed=8) * 4
    results = {}
    for lib, (F, nn, torch_like) in LIBS.items():
        leaf = torch_like.tensor(x.copy(), requires_grad=True)
        y = leaf * 1.0
        out = fn(src, "y")(F, nn, torch_like, y)
        assert out is y, f"{lib}: {src} did not return its input"
        (out * torch_like.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        results[lib] = (out, leaf.grad)
        plain = fn(src, "y")(F, nn, torch_like, torch_like.tensor(x.copy()))
        np.testing.assert_allclose(as_numpy(plain), as_numpy(out), err_msg=f"{lib} no-grad")
    assert_close(results["ours"][0], results["torch"][0].detach(), what=src)
    assert_close(results["ours"][1], results["torch"][1], what=f"{src} grad")


@pytest.mark.parametrize("src", ["F.celu(x, inplace=True)", "F.relu6(x, inplace=True)"])
def test_inplace_on_a_leaf_that_requires_grad_raises(src: str) -> None:
    for F, nn, torch_like in LIBS.values():
        with pytest.raises(RuntimeError):
            fn(src, "x")(F, nn, torch_like, torch_like.tensor([1.0, -1.0], requires_grad=True))


# ----------------------------------------------------------------------------- dtypes, shapes

@pytest.mark.parametrize("src", ["F.relu6(x)", "F.softsign(x)", "nn.ReLU6()(x)",
                                 "F.pairwise_distance(x, x * 2)",
                                 "F.softmin(x, 0, dtype=torch.float64)",
                                 "F.cosine_similarity(x * 1.0, x, 0)"])
def test_integer_input(src: str) -> None:
    x = np.array([-2, 0, 3, 7, 9], dtype=np.int64)
    xo, xt = pair(x)
    assert_close(fn(src, "x")(GF, gnn, tg, xo), fn(src, "x")(TF, tnn, torch, xt), what=src)


@pytest.mark.parametrize("src", ["F.celu(x)", "F.selu(x)", "F.mish(x)", "F.hardswish(x)",
                                 "F.hardsigmoid(x)", "F.logsigmoid(x)", "F.softmin(x, 0)",
                                 "F.glu(x)", "F.normalize(x, dim=0)",
                                 "F.cosine_similarity(x, x, 0)",
                                 "F.prelu(x, torch.tensor([0.25]))"])
def test_integer_input_raises(src: str) -> None:
    raises_like_torch(src, np.array([-2, 0, 3, 7], dtype=np.int64))


@pytest.mark.parametrize("src", ["F.celu(x)", "F.selu(x)", "F.mish(x)", "F.relu6(x)",
                                 "F.hardswish(x)", "F.hardsigmoid(x)", "F.softsign(x)",
                                 "F.logsigmoid(x)", "F.softmin(x, 0)",
                                 "F.prelu(x, torch.tensor([0.25], dtype=torch.float64))"])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_0d_and_empty(src: str, shape: tuple[int, ...]) -> None:
    both(src, randn(*shape, seed=9), second=False)


def test_glu_empty_and_normalize_empty() -> None:
    both("F.glu(x, 1)", randn(0, 4, seed=1), second=False)
    both("F.normalize(x)", randn(0, 4, seed=1), second=False)
    both("F.cosine_similarity(a, b)", randn(0, 4, seed=1), randn(0, 4, seed=2),
         names="a, b", second=False)


def test_mixed_float_dtypes_promote() -> None:
    a, b = randn(2, 4, seed=1, dtype=np.float32), randn(2, 4, seed=2)
    both("F.cosine_similarity(a, b)", a, b, names="a, b", second=False)
    both("F.pairwise_distance(a, b)", a, b, names="a, b", second=False)


def test_softmin_without_dim_warns_and_picks_the_legacy_dim() -> None:
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = randn(*shape, seed=1)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
            ours = GF.softmin(tg.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_close(ours, TF.softmin(torch.tensor(x)), what=f"softmin {shape}")
        with pytest.warns(UserWarning, match="softmin") as record:
            gnn.Softmin()(tg.tensor(x))
        assert record[0].filename == __file__, "the warning should point at the caller"


# ----------------------------------------------------------------------------- modules

@pytest.mark.parametrize("num,init", [(1, 0.25), (3, 0.1), (3, -0.5)])
def test_prelu_module(num: int, init: float) -> None:
    ours, theirs = gnn.PReLU(num, init), tnn.PReLU(num, init).double()
    ours.double()
    assert list(dict(ours.named_parameters())) == ["weight"]
    assert ours.num_parameters == theirs.num_parameters == num
    assert ours.init == theirs.init
    assert ours.num_parameters() == num  # still our Module's count of scalars
    assert repr(ours).startswith(repr(theirs))
    x = randn(4, 3, 2, seed=num)
    xo, xt = pair(x, requires_grad=True)
    up = randn(4, 3, 2, seed=11)
    (ours(xo) * tg.tensor(up)).sum().backward()
    (theirs(xt) * torch.tensor(up)).sum().backward()
    assert_close(xo.grad, xt.grad, what="PReLU input grad")
    assert_close(ours.weight.grad, theirs.weight.grad, what="PReLU weight grad")
    assert gnn.PReLU().weight.dtype == np.float32
    assert gnn.PReLU(dtype=tg.float64).weight.dtype == np.float64


@pytest.mark.parametrize("src", ["nn.CELU(alpha=2.0, inplace=True)", "nn.SELU(inplace=True)",
                                 "nn.Mish()", "nn.ReLU6(inplace=True)", "nn.ReLU6()",
                                 "nn.Softmin(dim=1)", "nn.GLU()", "nn.GLU(0)",
                                 "nn.PReLU(num_parameters=3, init=0.5)", "nn.Softsign()",
                                 "nn.LogSigmoid()"])
def test_module_attributes_and_repr(src: str) -> None:
    ours, theirs = fn(src, "_")(GF, gnn, tg, None), fn(src, "_")(TF, tnn, torch, None)
    assert repr(ours).split("  #")[0] == repr(theirs)
    for name in ("alpha", "inplace", "dim", "init", "min_val", "max_val"):
        assert getattr(ours, name, None) == getattr(theirs, name, None), name


def test_similarity_module_attributes() -> None:
    assert vars(gnn.PairwiseDistance(1.0, 0.1, True)).keys() >= {"norm", "eps", "keepdim"}
    assert gnn.PairwiseDistance(3.0).norm == tnn.PairwiseDistance(3.0).norm
    assert gnn.CosineSimilarity(0, 0.5).dim == 0 and gnn.CosineSimilarity(0, 0.5).eps == 0.5


# ----------------------------------------------------------------------------- errors

ERRORS = [  # (call, arrays, the shapes our message must name)
    ("F.glu(x, 1)", [randn(3, 3)], ["(3, 3)"]),
    ("F.glu(x)", [np.array(1.0)], ["()"]),
    ("F.glu(x, 2)", [randn(2, 4)], ["(2, 4)"]),
    ("F.prelu(x, w)", [randn(2, 4, 5), randn(3)], ["(3,)", "(2, 4, 5)"]),
    ("F.prelu(x, w)", [randn(4), randn(4)], ["(4,)"]),
    ("F.prelu(x, w)", [randn(2, 4), randn(4, 1)], ["(4, 1)", "(2, 4)"]),
    ("F.normalize(x)", [randn(3)], ["(3,)"]),
    ("F.cosine_similarity(a, b)", [randn(3, 4), randn(2, 4)], ["(3, 4)", "(2, 4)"]),
    ("F.cosine_similarity(a, b)", [randn(4), randn(4)], ["(4,)"]),
    ("F.pairwise_distance(a, b)", [randn(3, 4), randn(2, 4)], ["(3, 4)", "(2, 4)"]),
]


@pytest.mark.parametrize("src,arrays,shapes", ERRORS)
def test_errors_name_the_shapes(src: str, arrays: list[np.ndarray], shapes: list[str]) -> None:
    names = "x" if len(arrays) == 1 else ("x, w" if "prelu" in src else "a, b")
    error = raises_like_torch(src, *arrays, names=names)
    assert isinstance(error, ShapeError | IndexError), type(error)
    for shape in shapes:
        assert shape in str(error), f"{src}: {error} does not name {shape}"


def test_prelu_refuses_mixed_dtypes_and_celu_alpha_zero() -> None:
    raises_like_torch("F.prelu(x, w)", randn(2, 3, dtype=np.float32), randn(1), names="x, w")
    raises_like_torch("F.celu(x, 0.0)", randn(3))


def test_normalize_out_and_prelu_reset() -> None:
    x = randn(2, 3, seed=1)
    outs = []
    for F, _, torch_like in LIBS.values():
        out = torch_like.zeros(2, 3, dtype=torch_like.float64)
        assert F.normalize(torch_like.tensor(x), out=out) is out
        outs.append(out)
    assert_close(outs[0], outs[1], what="normalize(out=)")
    with pytest.raises(RuntimeError, match="out="):
        GF.normalize(tg.tensor(x, requires_grad=True), out=tg.zeros(2, 3, dtype=tg.float64))
    m = gnn.PReLU(2, 0.1)
    with tg.no_grad():
        m.weight.mul_(5.0)
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.numpy(), np.float32([0.1, 0.1]))


def test_gradient_at_nan_deliberate_differences() -> None:
    """A NaN input: relu6's gradient is 0 (as our hardtanh; PyTorch's is 1 for a short array,
    0 in its vectorized loop), hardswish's is NaN (PyTorch's is 1): no NaN turns into a
    number. Values are NaN in both."""
    for name, ours_grad, torch_grad in (("relu6", 0.0, 1.0), ("hardswish", np.nan, 1.0)):
        x, xt = tg.tensor([np.nan], requires_grad=True), torch.tensor([np.nan],
                                                                      requires_grad=True)
        getattr(GF, name)(x).sum().backward()
        getattr(torch.nn.functional, name)(xt).sum().backward()
        assert x.grad is not None and xt.grad is not None
        np.testing.assert_array_equal(as_numpy(x.grad), [ours_grad])
        np.testing.assert_array_equal(as_numpy(xt.grad), [torch_grad])
