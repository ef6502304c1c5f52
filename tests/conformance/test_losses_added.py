"""The losses added for issue 19 (kl_div, soft_margin_loss, margin_ranking_loss,
triplet_margin_loss, poisson_nll_loss, gaussian_nll_loss, cosine_embedding_loss,
hinge_embedding_loss, multilabel_soft_margin_loss), functional and modules, against
PyTorch: every reduction, float32 and float64, values, gradients and second derivatives
(float64), keyword and positional calls (also the deprecated size_average/reduce),
broadcast targets, numeric edges (+-1e4) and the errors, which name every shape. Calls are
PyTorch code in strings, as in test_activations_losses_added.py."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu.errors import ShapeError

from ._added_helpers import LIBS, both, fn, loss_data, raises_like_torch
from .nn_helpers import randn
from .oracle import assert_close

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float64, np.float32]


# (call with R for the reduction, differentiated operands, constant operands)
CASES = [
    ("F.kl_div(logp, q, reduction=RED)", "logp, q", ""),
    ("F.kl_div(logp, logq, None, None, RED, True)", "logp, logq", ""),
    ("F.kl_div(input=logp, target=q, reduction=RED, log_target=False)", "logp", "q"),
    ("nn.KLDivLoss(reduction=RED)(logp, q)", "logp, q", ""),
    ("nn.KLDivLoss(None, None, RED, True)(logp, logq)", "logp, logq", ""),
    ("F.soft_margin_loss(x, sign, reduction=RED)", "x", "sign"),
    ("F.soft_margin_loss(input=x, target=sign, reduction=RED)", "x", "sign"),
    ("nn.SoftMarginLoss(reduction=RED)(x, sign)", "x", "sign"),
    ("F.margin_ranking_loss(x, y, sign, reduction=RED)", "x, y", "sign"),
    ("F.margin_ranking_loss(x, y, sign, 0.5, None, None, RED)", "x, y", "sign"),
    ("F.margin_ranking_loss(input1=x, input2=y, target=sign, margin=0.3, reduction=RED)",
     "x, y", "sign"),
    ("nn.MarginRankingLoss(0.5, reduction=RED)(x, y, sign)", "x, y", "sign"),
    ("F.triplet_margin_loss(x, y, z, reduction=RED)", "x, y, z", ""),
    ("F.triplet_margin_loss(x, y, z, 0.5, 1, 1e-3, True, None, None, RED)", "x, y, z", ""),
    ("F.triplet_margin_loss(anchor=x, positive=y, negative=z, margin=2.0, p=3, eps=0.0, "
     "swap=True, reduction=RED)", "x, y, z", ""),
    ("F.triplet_margin_loss(x[0], y[0], z[0], reduction=RED)", "x, y, z", ""),
    ("nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True, reduction=RED)(x, y, z)", "x, y, z", ""),
    ("F.poisson_nll_loss(x, counts, reduction=RED)", "x", "counts"),
    ("F.poisson_nll_loss(x, counts, True, True, None, 1e-8, None, RED)", "x", "counts"),
    ("F.poisson_nll_loss(input=pos, target=counts, log_input=False, full=True, eps=1e-3, "
     "reduction=RED)", "pos", "counts"),
    ("F.poisson_nll_loss(x, pos * 3, full=True, reduction=RED)", "x, pos", ""),
    ("nn.PoissonNLLLoss(log_input=False, reduction=RED)(pos, counts)", "pos", "counts"),
    ("F.gaussian_nll_loss(x, y, var, reduction=RED)", "x, y, var", ""),
    ("F.gaussian_nll_loss(x, y, var, True, 0.5, RED)", "x, y, var", ""),
    ("F.gaussian_nll_loss(input=x, target=y, var=var_rows, full=True, reduction=RED)",
     "x, y, var_rows", ""),
    ("F.gaussian_nll_loss(x, y, var_rows[:, None], reduction=RED)", "x, y, var_rows", ""),
    ("F.gaussian_nll_loss(x, y, var[:1], reduction=RED)", "x, y, var", ""),
    ("F.gaussian_nll_loss(x, y, 0.7, reduction=RED)", "x, y", ""),
    ("nn.GaussianNLLLoss(full=True, eps=1e-3, reduction=RED)(x, y, var)", "x, y, var", ""),
    ("F.cosine_embedding_loss(x, y, row_sign, reduction=RED)", "x, y", "row_sign"),
    ("F.cosine_embedding_loss(x, y, row_sign, 0.2, None, None, RED)", "x, y", "row_sign"),
    ("F.cosine_embedding_loss(input1=x[0], input2=y[0], target=row_sign[1], margin=-0.5, "
     "reduction=RED)", "x, y", "row_sign"),
    ("nn.CosineEmbeddingLoss(0.1, reduction=RED)(x, y, row_sign)", "x, y", "row_sign"),
    ("F.hinge_embedding_loss(x * 2, sign, reduction=RED)", "x", "sign"),
    ("F.hinge_embedding_loss(x * 2, sign, 0.5, None, None, RED)", "x", "sign"),
    ("F.hinge_embedding_loss(input=x, target=sign, margin=2.0, reduction=RED)", "x", "sign"),
    ("nn.HingeEmbeddingLoss(margin=0.5, reduction=RED)(x * 2, sign)", "x", "sign"),
    ("F.multilabel_soft_margin_loss(x * 3, bits, reduction=RED)", "x", "bits"),
    ("F.multilabel_soft_margin_loss(x, bits, w, None, None, RED)", "x", "bits, w"),
    ("F.multilabel_soft_margin_loss(input=x[0], target=bits[0], weight=w, reduction=RED)", "x",
     "bits, w"),
    ("F.multilabel_soft_margin_loss(x, q, reduction=RED)", "x, q", ""),
    ("nn.MultiLabelSoftMarginLoss(w, reduction=RED)(x, bits)", "x", "bits, w"),
]


def _run(src: str, diff: str, consts: str, dtype: Any, reduction: str) -> None:
    data = loss_data(dtype)
    names = [n for n in (diff + ", " + consts).split(", ") if n]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div 'mean' and the legacy arguments warn
        both(src.replace("RED", repr(reduction)), *[data[n] for n in diff.split(", ")],
             names=", ".join(names), second=dtype == np.float64,
             consts=tuple(data[n] for n in consts.split(", ") if n))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("src,diff,consts", CASES)
def test_loss(src: str, diff: str, consts: str, reduction: str, dtype: Any) -> None:
    _run(src, diff, consts, dtype, reduction)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("src,diff,consts", [c for c in CASES if "kl" in c[0].lower()])
def test_kl_div_batchmean(src: str, diff: str, consts: str, dtype: Any) -> None:
    _run(src, diff, consts, dtype, "batchmean")


@pytest.mark.parametrize("legacy", ["size_average=False", "reduce=False", "size_average=True"])
def test_kl_div_batchmean_with_legacy_arguments(legacy: str) -> None:
    """PyTorch divides what the legacy pair picks by the batch size."""
    data = loss_data(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(f"F.kl_div(a, b, {legacy}, reduction='batchmean')", data["logp"], data["q"],
             names="a, b")


def test_kl_div_batchmean_of_a_0d_input_is_the_sum() -> None:
    both("F.kl_div(a, b, reduction='batchmean')", np.array(-0.5), np.array(0.3), names="a, b")


@pytest.mark.parametrize("module", [False, True])
def test_kl_div_mean_warns_as_pytorch(module: bool) -> None:
    src = "nn.KLDivLoss()(a, b)" if module else "F.kl_div(a, b)"
    messages = []
    for F, nn, torch_like in LIBS.values():
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size") as rec:
            fn(src, "a, b")(F, nn, torch_like, torch_like.tensor([[-1.0]]),
                            torch_like.tensor([[0.5]]))
        messages.append(str(rec[0].message))
    assert messages[0] == messages[1]


# ----------------------------------------------------------------------------- legacy args

LEGACY = [("F.soft_margin_loss(x, sign, {})", "x", "sign"),
          ("F.kl_div(logp, q, {})", "logp", "q"),
          ("F.margin_ranking_loss(x, y, sign, 0.0, {})", "x, y", "sign"),
          ("F.triplet_margin_loss(x, y, z, 1.0, 2, 1e-6, False, {})", "x, y, z", ""),
          ("F.poisson_nll_loss(x, counts, True, False, {})", "x", "counts"),
          ("F.cosine_embedding_loss(x, y, row_sign, 0.0, {})", "x, y", "row_sign"),
          ("F.hinge_embedding_loss(x, sign, 1.0, {})", "x", "sign"),
          ("F.multilabel_soft_margin_loss(x, bits, None, {})", "x", "bits"),
          ("nn.SoftMarginLoss({})(x, sign)", "x", "sign"),
          ("nn.KLDivLoss({})(logp, q)", "logp", "q"),
          ("nn.MultiLabelSoftMarginLoss(None, {})(x, bits)", "x", "bits"),
          ("nn.TripletMarginLoss(1.0, 2.0, 1e-6, False, {})(x, y, z)", "x, y, z", "")]


@pytest.mark.parametrize("legacy", ["size_average=False", "size_average=True", "reduce=False",
                                    "size_average=False, reduce=True",
                                    "reduce=True, size_average=True"])
@pytest.mark.parametrize("src,diff,consts", LEGACY)
def test_size_average_and_reduce(src: str, diff: str, consts: str, legacy: str) -> None:
    """The deprecated pair picks the reduction after PyTorch's own warning."""
    src = src.format(legacy)
    data = loss_data(np.float64)
    names = [n for n in (diff + ", " + consts).split(", ") if n]
    results = []
    for F, nn, torch_like in LIBS.values():
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            results.append(fn(src, ", ".join(names))(F, nn, torch_like,
                                                     *[torch_like.tensor(data[n]) for n in names]))
    assert_close(results[0], results[1], what=src)


# ----------------------------------------------------------------------------- broadcasting

BROADCAST = [  # PyTorch broadcasts these silently
    ("F.soft_margin_loss(x, t, reduction='none')", (3, 4), (4,)),
    ("F.kl_div(x, t, reduction='none')", (3, 4), (4,)),
    ("F.kl_div(x, t, reduction='batchmean')", (4,), (3, 4)),
    ("F.poisson_nll_loss(x, t, reduction='none')", (3, 4), (3, 1)),
    ("F.hinge_embedding_loss(x, t, reduction='none')", (3, 4), (4,)),
    ("F.hinge_embedding_loss(x, t, reduction='none')", (4,), (3, 4)),
    ("F.multilabel_soft_margin_loss(x, t, reduction='none')", (3, 4), (4,)),
    ("F.gaussian_nll_loss(x, t, torch.ones(3, 4, dtype=torch.float64), reduction='none')",
     (3, 4), (4,)),
    ("F.margin_ranking_loss(x, x * 0.5, t, reduction='none')", (3, 4), (1, 4)),
    ("F.cosine_embedding_loss(x, t, torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64), "
     "reduction='none')", (3, 4), (1, 4)),
    ("F.triplet_margin_loss(x, t, x * 2, reduction='none')", (3, 4), (1, 4)),
]


@pytest.mark.parametrize("src,x_shape,t_shape", BROADCAST)
def test_broadcast_targets(src: str, x_shape: tuple[int, ...], t_shape: tuple[int, ...]
                           ) -> None:
    t = np.abs(randn(*t_shape, seed=2)) if "kl" in src or "poisson" in src else \
        np.sign(randn(*t_shape, seed=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning, as in PyTorch
        both(src, randn(*x_shape, seed=1), names="x, t", consts=(t,))


NOT_BROADCASTABLE = [
    ("F.soft_margin_loss(a, b)", "a, b"), ("F.kl_div(a, b, reduction='sum')", "a, b"),
    ("F.poisson_nll_loss(a, b)", "a, b"), ("F.hinge_embedding_loss(a, b)", "a, b"),
    ("F.multilabel_soft_margin_loss(a, b)", "a, b"),
    ("F.gaussian_nll_loss(a, b, torch.ones(3, 4, dtype=torch.float64))", "a, b"),
    ("F.margin_ranking_loss(a, a, b)", "a, b"), ("F.triplet_margin_loss(a, b, a)", "a, b"),
    ("F.multilabel_soft_margin_loss(a, a * 0 + 1, b[:, :3])", "a, b"),
]


@pytest.mark.parametrize("src,names", NOT_BROADCASTABLE)
def test_shapes_that_do_not_broadcast_raise_naming_both(src: str, names: str) -> None:
    error = raises_like_torch(src, randn(3, 4, seed=1), randn(2, 4, seed=2), names=names)
    assert isinstance(error, ShapeError), repr(error)
    for shape in ("(3, 4)", "(2, 4)" if "b[:, :3]" not in src else "(2, 3)"):
        assert shape in str(error), f"{src}: {error}"


# ----------------------------------------------------------------------------- errors

ERRORS = [  # (call, arrays, names, shapes the message must name)
    ("F.margin_ranking_loss(a, b, c)", [randn(3, 4), randn(3, 4), randn(4)], "a, b, c",
     ["(3, 4)", "(4,)"]),
    ("F.triplet_margin_loss(a, b, c)", [randn(3, 4), randn(4), randn(3, 4)], "a, b, c",
     ["(3, 4)", "(4,)"]),
    ("F.cosine_embedding_loss(a, b, c)", [randn(3, 4), randn(3, 4), randn(3, 4)], "a, b, c",
     ["(3, 4)"]),
    ("F.cosine_embedding_loss(a, b, c)", [randn(3, 4), randn(3, 4), np.array(1.0)], "a, b, c",
     ["(3, 4)", "()"]),
    ("F.cosine_embedding_loss(a, b, c)", [randn(3, 4), randn(3, 4), randn(2)], "a, b, c",
     ["(3,)", "(2,)"]),
    ("F.cosine_embedding_loss(a, b, c)", [randn(3, 4), randn(3, 5), randn(3)], "a, b, c",
     ["(3, 4)", "(3, 5)"]),
    ("F.multilabel_soft_margin_loss(a, b)", [np.array(1.0), np.array(1.0)], "a, b", ["()"]),
    ("F.gaussian_nll_loss(a, b, c)", [randn(3, 4), randn(3, 4), randn(4) ** 2], "a, b, c",
     ["(3, 4)", "(4,)"]),
    ("F.gaussian_nll_loss(a, b, c)", [randn(3, 4), randn(3, 4), np.ones((1, 1))], "a, b, c",
     ["(3, 4)", "(1, 1)"]),
    ("F.gaussian_nll_loss(a, b, c)", [randn(3, 4), randn(3, 4), np.array(1.0)], "a, b, c",
     ["(3, 4)", "()"]),
]


@pytest.mark.parametrize("src,arrays,names,shapes", ERRORS)
def test_errors_name_the_shapes(src: str, arrays: list[np.ndarray], names: str,
                                shapes: list[str]) -> None:
    error = raises_like_torch(src, *arrays, names=names)
    assert isinstance(error, ShapeError), repr(error)
    for shape in shapes:
        assert shape in str(error), f"{src}: {error} does not name {shape}"


@pytest.mark.parametrize("src", [
    "F.gaussian_nll_loss(a, b, -torch.ones(3, 4, dtype=torch.float64))",
    "F.gaussian_nll_loss(a, b, -1.0)", "F.gaussian_nll_loss(a, b, 2)",
    "F.triplet_margin_loss(a, b, a, margin=0.0)", "nn.TripletMarginLoss(margin=-1.0)",
    "F.soft_margin_loss(a, b, reduction='avg')", "F.kl_div(a, b, reduction='batch')",
    "F.gaussian_nll_loss(a, b, torch.ones(3, 4, dtype=torch.float64), reduction='x')",
    "F.poisson_nll_loss(a, b, reduction='x')", "F.multilabel_soft_margin_loss(a, b, "
    "reduction='x')", "F.kl_div(a, (b * 10).long())", "F.soft_margin_loss(a.long(), b)",
])
def test_bad_options_raise(src: str) -> None:
    error = raises_like_torch(src, randn(3, 4, seed=1), randn(3, 4, seed=2), names="a, b")
    assert isinstance(error, ValueError | TypeError), repr(error)


def test_bad_reduction_raises_at_module_construction() -> None:
    with pytest.raises(ValueError, match="SoftMarginLoss"):
        tg.nn.SoftMarginLoss(reduction="avg")
    assert tg.nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


@pytest.mark.parametrize("src", ["F.margin_ranking_loss(a, b, t, reduction='none')",
                                 "F.hinge_embedding_loss(a, t, reduction='none')",
                                 "F.cosine_embedding_loss(a, b, t[:, 0], reduction='none')"])
def test_integer_targets(src: str) -> None:
    t = np.where(randn(3, 4, seed=3) > 0, 1, -1).astype(np.int64)
    both(src, randn(3, 4, seed=1), randn(3, 4, seed=2), names="a, b, t", consts=(t,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (0,), (0, 4)])
@pytest.mark.parametrize("src", [
    "F.soft_margin_loss(a, b.sign().detach(), reduction=RED)",
    "F.kl_div(a, b.abs(), reduction=RED)",
    "F.poisson_nll_loss(a, b.abs(), reduction=RED)",
    "F.gaussian_nll_loss(a, b, b.abs() + 0.5, reduction=RED)",
    "F.hinge_embedding_loss(a, b.sign(), reduction=RED)",
    "F.margin_ranking_loss(a, b, b.sign(), reduction=RED)",
    "F.multilabel_soft_margin_loss(a, b.sigmoid(), reduction=RED)",
    "F.triplet_margin_loss(a, b, b * 2, reduction=RED)",
])
def test_0d_and_empty(src: str, shape: tuple[int, ...], reduction: str) -> None:
    """0-d and empty inputs as PyTorch (an empty 'mean' is NaN); where PyTorch raises (a
    multilabel or triplet loss of a 0-d input), so do we."""
    src = src.replace("RED", repr(reduction))
    a, b = randn(*shape, seed=1), randn(*shape, seed=2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(src, "a, b")(torch.nn.functional, torch.nn, torch, torch.tensor(a),
                            torch.tensor(b))
    except (RuntimeError, IndexError, ValueError):
        raises_like_torch(src, a, b, names="a, b")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(src, a, b, names="a, b", second=False)
