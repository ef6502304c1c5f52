"""Losses, functional and module forms, against PyTorch: every reduction, class-index and
probability targets, weights, ignore_index, label smoothing, K-dimensional inputs, numeric
edges. Each call is written once as `lambda F, ...` (F: torch.nn.functional or ours) or
`lambda nn: nn.SomeLoss(...)`, so both libraries see the same spelling."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF

from .nn_helpers import labels, randn
from .oracle import as_numpy, assert_close, check_function, pair

REDUCTIONS = ["none", "mean", "sum"]
W4 = np.array([0.5, 2.0, 1.0, 3.0])


def both(f: Callable[..., Any], arrays: list[np.ndarray], *, second: bool = True,
         what: str = "", consts: tuple[np.ndarray, ...] = ()) -> None:
    """check_function for `f(F, *tensors, *constants)`: `consts` (targets, weights) are
    constants of each library (no gradient is taken with respect to them)."""
    check_function(lambda *t: f(GF, *t, *[tg.tensor(c.copy()) for c in consts]),
                   lambda *t: f(TF, *t, *[torch.tensor(c.copy()) for c in consts]),
                   arrays, second=second, what=what)


def soft_targets(*shape: int, seed: int, axis: int = 1) -> np.ndarray:
    z = randn(*shape, seed=seed)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ----------------------------------------------------------------------------- cross_entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_indices(reduction: str) -> None:
    x, y = randn(6, 4, seed=1, scale=2.0), labels(6, 4, seed=2)
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x, y], what="ce")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_target_spellings(reduction: str) -> None:
    x = randn(4, 3, seed=3)
    y_list = [2, 0, 1, 1]
    xo, xt = pair(x)
    want = TF.cross_entropy(xt, torch.tensor(y_list), reduction=reduction)
    for what, target in (("list", tg.tensor(y_list)),
                         ("numpy int64", tg.tensor(np.array(y_list))),
                         ("from_numpy", tg.from_numpy(np.array(y_list, dtype=np.int64))),
                         ("long()", tg.tensor([2.0, 0.0, 1.0, 1.0]).long())):
        assert_close(GF.cross_entropy(xo, target, reduction=reduction), want, what=what)
    assert_close(GF.cross_entropy(xo, tg.tensor(np.array(y_list, dtype=np.uint8)),
                                  reduction=reduction),
                 TF.cross_entropy(xt, torch.tensor(y_list, dtype=torch.uint8),
                                  reduction=reduction), what="uint8 labels")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unbatched_0d_target(reduction: str) -> None:
    x, y = randn(5, seed=4), np.array(3, dtype=np.int64)
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x, y], what="(C,) 0-d")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight(reduction: str) -> None:
    x, y = randn(6, 4, seed=5), labels(6, 4, seed=6)
    both(lambda F, a, t, w: F.cross_entropy(a, t, weight=w, reduction=reduction), [x, y],
         consts=(W4,), what="ce weight")
    both(lambda F, a, t, w: F.cross_entropy(a, t, w, reduction=reduction), [x, y],
         consts=(W4,), what="ce weight positional")


@pytest.mark.parametrize("ignore_index", [0, -100, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_ignore_index(ignore_index: int, reduction: str) -> None:
    x = randn(6, 4, seed=7)
    y = np.array([0, 1, ignore_index, 3, 0, ignore_index], dtype=np.int64)
    both(lambda F, a, t: F.cross_entropy(a, t, ignore_index=ignore_index, reduction=reduction),
         [x, y], what=f"ignore_index={ignore_index}")
    both(lambda F, a, t, w: F.cross_entropy(a, t, w, ignore_index=ignore_index,
                                            reduction=reduction),
         [x, y], consts=(W4,), what=f"weighted ignore_index={ignore_index}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [0, -100])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_every_target_ignored(loss: str, ignore_index: int, reduction: str) -> None:
    """PyTorch: mean over no labelled target is NaN with a zero gradient; sum is 0 with a
    zero gradient; none is all zeros."""
    x = randn(3, 4, seed=8)
    y = np.full(3, ignore_index, dtype=np.int64)
    xo, xt = pair(x, requires_grad=True)
    lo = getattr(GF, loss)(xo, tg.tensor(y), ignore_index=ignore_index, reduction=reduction)
    lt = getattr(TF, loss)(xt, torch.tensor(y), ignore_index=ignore_index, reduction=reduction)
    assert_close(lo, lt, what=f"{loss} {reduction} loss")
    lo.sum().backward()
    lt.sum().backward()
    assert xo.grad is not None
    assert_close(xo.grad, xt.grad, what=f"{loss} {reduction} gradient (PyTorch: zeros)")


@pytest.mark.parametrize("smoothing", [0.1, 0.35])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing(smoothing: float, reduction: str) -> None:
    x, y = randn(5, 4, seed=9), labels(5, 4, seed=10)
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction, label_smoothing=smoothing),
         [x, y], what="smoothing")
    y_ign = y.copy()
    y_ign[1] = -100
    both(lambda F, a, t, w: F.cross_entropy(a, t, weight=w, reduction=reduction,
                                            label_smoothing=smoothing),
         [x, y_ign], consts=(W4,), what="smoothing + weight + ignored")
    q = soft_targets(5, 4, seed=11)
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction, label_smoothing=smoothing),
         [x], consts=(q,), what="smoothing, probability targets")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction: str) -> None:
    x, q = randn(5, 4, seed=12), soft_targets(5, 4, seed=13)
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x], consts=(q,),
         what="soft targets")
    both(lambda F, a, t, w: F.cross_entropy(a, t, weight=w, reduction=reduction), [x],
         consts=(q, W4), what="soft targets + weight")
    onehot = np.eye(4)[labels(5, 4, seed=14)]
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x], consts=(onehot,),
         what="float one-hot targets")
    x32, q32 = pair(x.astype(np.float32))[0], q.astype(np.float32)
    assert_close(GF.cross_entropy(x32, tg.tensor(q32), reduction=reduction),
                 TF.cross_entropy(torch.tensor(x.astype(np.float32)), torch.tensor(q32),
                                  reduction=reduction), what="float32 soft targets")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_k_dimensional(reduction: str) -> None:
    x = randn(2, 4, 3, seed=15)
    y = labels(6, 4, seed=16, shape=(2, 3))
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x, y], what="(N, C, d1)")
    y2 = y.copy()
    y2[0, 1] = -100
    both(lambda F, a, t, w: F.cross_entropy(a, t, w, reduction=reduction), [x, y2],
         consts=(W4,), what="(N, C, d1) weight ignore")
    x4 = randn(2, 4, 2, 3, seed=17)
    y4 = labels(12, 4, seed=18, shape=(2, 2, 3))
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction, label_smoothing=0.2),
         [x4, y4], what="(N, C, d1, d2) smoothing")
    q = soft_targets(2, 4, 3, seed=19)
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x], consts=(q,),
         what="(N, C, d1) probabilities")


def test_cross_entropy_integer_one_hot_target_names_the_dtype() -> None:
    """PyTorch: 'Expected floating point type for target with class probabilities, got
    Long'. Ours must raise too, and say the problem is the dtype."""
    x = randn(3, 4, seed=20)
    onehot = np.eye(4, dtype=np.int64)[[1, 0, 2]]
    with pytest.raises(RuntimeError, match="floating point"):
        TF.cross_entropy(torch.tensor(x), torch.tensor(onehot))
    with pytest.raises(Exception) as info:  # noqa: B017 - the message is what is checked
        GF.cross_entropy(tg.tensor(x), tg.tensor(onehot))
    msg = str(info.value)
    assert "int64" in msg and ("float" in msg or "dtype" in msg), (
        f"the error must name the target's dtype (int64) and ask for floats: {msg!r}")


# ----------------------------------------------------------------------------- nll_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction: str) -> None:
    x, y = randn(6, 4, seed=21), labels(6, 4, seed=22)
    both(lambda F, a, t: F.nll_loss(F.log_softmax(a, 1), t, reduction=reduction), [x, y],
         what="nll(log_softmax)")
    both(lambda F, a, t: F.nll_loss(a, t, reduction=reduction), [x, y], what="nll raw")
    both(lambda F, a, t, w: F.nll_loss(a, t, w, reduction=reduction), [x, y], consts=(W4,),
         what="nll weight")


@pytest.mark.parametrize("ignore_index", [0, -100, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_ignore_index(ignore_index: int, reduction: str) -> None:
    x = randn(6, 4, seed=21)
    y = np.array([ignore_index, 1, 3, ignore_index, 0, 2], dtype=np.int64)
    both(lambda F, a, t: F.nll_loss(a, t, ignore_index=ignore_index, reduction=reduction),
         [x, y], what=f"nll ignore_index={ignore_index}")
    both(lambda F, a, t, w: F.nll_loss(a, t, weight=w, ignore_index=ignore_index,
                                       reduction=reduction),
         [x, y], consts=(W4,), what=f"nll weight ignore_index={ignore_index}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_k_dimensional_and_unbatched(reduction: str) -> None:
    x, y = randn(2, 4, 3, seed=23), labels(6, 4, seed=24, shape=(2, 3))
    both(lambda F, a, t: F.nll_loss(a, t, reduction=reduction), [x, y], what="(N, C, d1)")
    both(lambda F, a, t: F.nll_loss(a, t, reduction=reduction), [randn(4, seed=25),
                                                                   np.array(1)],
         what="(C,) with 0-d target")


# ----------------------------------------------------------------------------- numeric edges


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_at_extreme_logits(dtype: Any, reduction: str) -> None:
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]], dtype=dtype)
    y = np.array([1, 2, 2], dtype=np.int64)
    sec = dtype == np.float64
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x, y], second=sec,
         what="ce extreme")
    both(lambda F, a, t: F.nll_loss(F.log_softmax(a, dim=1), t, reduction=reduction), [x, y],
         second=sec, what="nll(log_softmax) extreme")
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction, label_smoothing=0.1),
         [x, y], second=sec, what="ce smoothing extreme")
    q = np.array([[0, 1, 0], [0.5, 0.25, 0.25], [0, 0, 1]], dtype=dtype)
    both(lambda F, a, t: F.cross_entropy(a, t, reduction=reduction), [x], consts=(q,),
         second=sec, what="ce probabilities extreme")
    yb = np.array([[1, 0, 1], [0, 1, 0.5], [1, 1, 0]], dtype=dtype)
    both(lambda F, a, t: F.binary_cross_entropy_with_logits(a, t, reduction=reduction), [x],
         consts=(yb,), second=sec, what="bce_with_logits extreme")
    both(lambda F, a, t, pw: F.binary_cross_entropy_with_logits(a, t, pos_weight=pw,
                                                                reduction=reduction),
         [x], consts=(yb, np.array([2.0, 0.5, 1.0], dtype=dtype)), second=sec,
         what="bce_with_logits pos_weight extreme")


# ----------------------------------------------------------------------------- regression

REGRESSION = {
    "mse": lambda F, a, t, r: F.mse_loss(a, t, reduction=r),
    "l1": lambda F, a, t, r: F.l1_loss(a, t, reduction=r),
    "smooth_l1": lambda F, a, t, r: F.smooth_l1_loss(a, t, reduction=r),
    "smooth_l1_beta": lambda F, a, t, r: F.smooth_l1_loss(a, t, reduction=r, beta=0.5),
    "smooth_l1_beta0": lambda F, a, t, r: F.smooth_l1_loss(a, t, reduction=r, beta=0.0),
    "huber": lambda F, a, t, r: F.huber_loss(a, t, reduction=r),
    "huber_delta": lambda F, a, t, r: F.huber_loss(a, t, reduction=r, delta=0.4),
    "huber_delta_positional": lambda F, a, t, r: F.huber_loss(a, t, r, 2.0),
}


@pytest.mark.parametrize("name", list(REGRESSION))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(name: str, reduction: str) -> None:
    f = REGRESSION[name]
    x, t = randn(3, 5, seed=26, scale=1.5), randn(3, 5, seed=27)
    check_function(lambda a, b: f(GF, a, b, reduction), lambda a, b: f(TF, a, b, reduction),
                   [x, t], what=name)
    x32, t32 = x.astype(np.float32), t.astype(np.float32)
    check_function(lambda a, b: f(GF, a, b, reduction), lambda a, b: f(TF, a, b, reduction),
                   [x32, t32], second=False, what=f"{name} float32")


@pytest.mark.parametrize("name", list(REGRESSION))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 1), (3,)), ((4,), (2, 4)),
                                    ((2, 1, 3), (4, 1))], ids=str)
def test_regression_losses_broadcast_target(name: str, reduction: str, shapes: Any) -> None:
    """PyTorch warns that the sizes differ and computes with broadcasting; ours must give
    the same values and gradients."""
    f = REGRESSION[name]
    x, t = randn(*shapes[0], seed=28), randn(*shapes[1], seed=29)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_function(lambda a, b: f(GF, a, b, reduction), lambda a, b: f(TF, a, b, reduction),
                       [x, t], second=False, what=f"{name} {reduction} broadcast {shapes}")


# ----------------------------------------------------------------------------- binary


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction: str) -> None:
    rng = np.random.default_rng(30)
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    yb = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    both(lambda F, a, t: F.binary_cross_entropy(a, t, reduction=reduction), [p],
         consts=(y,), what="bce soft")
    both(lambda F, a, t, w: F.binary_cross_entropy(a, t, weight=w, reduction=reduction), [p],
         consts=(yb, np.array([1.0, 2.0, 0.5])), what="bce weight broadcast")
    both(lambda F, a, t, w: F.binary_cross_entropy(a, t, w, reduction=reduction), [p],
         consts=(yb, rng.uniform(0.5, 2, (4, 3))), what="bce weight positional")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_at_probability_edges(dtype: Any) -> None:
    """p = 0 and p = 1 (and p so small that log p < -100): PyTorch clamps each log at
    -100, so the loss stays finite. Values here; gradients, float32's tiny p and the target
    gradient in test_loss_edges.py."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-45 if dtype == np.float64 else 1e-40, 0.5],
                 dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.25], dtype=dtype)
    for reduction in REDUCTIONS:
        assert_close(GF.binary_cross_entropy(tg.tensor(p), tg.tensor(y), reduction=reduction),
                     TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y),
                                             reduction=reduction), what=f"bce {reduction}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction: str) -> None:
    rng = np.random.default_rng(31)
    x, y = randn(4, 3, seed=32, scale=3.0), rng.uniform(0, 1, (4, 3))
    pw, w = np.array([3.0, 0.5, 1.0]), rng.uniform(0.5, 2, (4, 3))
    both(lambda F, a, t: F.binary_cross_entropy_with_logits(a, t, reduction=reduction), [x],
         consts=(y,), what="bce logits")
    both(lambda F, a, t, q: F.binary_cross_entropy_with_logits(a, t, pos_weight=q,
                                                               reduction=reduction),
         [x], consts=(y, pw), what="bce logits pos_weight")
    both(lambda F, a, t, v, q: F.binary_cross_entropy_with_logits(a, t, v, reduction=reduction,
                                                                  pos_weight=q),
         [x], consts=(y, w, pw), what="bce logits weight + pos_weight")
    check_function(lambda a, b: GF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                   lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                   [x, y], what="gradient with respect to the target too")


# ----------------------------------------------------------------------------- margin


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss(reduction: str) -> None:
    x, y = randn(6, 4, seed=33), labels(6, 4, seed=34)
    for kw in ({}, {"p": 2}, {"margin": 0.5}, {"p": 2, "margin": 2.0}):
        both(lambda F, a, t, kw=kw: F.multi_margin_loss(a, t, reduction=reduction, **kw),
             [x, y], second=False, what=f"multi_margin {kw}")
    both(lambda F, a, t, w: F.multi_margin_loss(a, t, 1, 1.0, w, reduction=reduction), [x, y],
         consts=(W4,), second=False, what="multi_margin weight positional")
    both(lambda F, a, t: F.multi_margin_loss(a, t, reduction=reduction), [x[0], y[0]],
         second=False, what="multi_margin unbatched")


# ----------------------------------------------------------------------------- modules

MODULES: dict[str, tuple[Callable[[Any], Any], str]] = {
    # name: (constructor given the nn namespace, kind of target)
    "CrossEntropyLoss": (lambda nn: nn.CrossEntropyLoss(), "labels"),
    "CrossEntropyLoss_options": (lambda nn, w: nn.CrossEntropyLoss(weight=w, ignore_index=1,
                                                                   label_smoothing=0.1), "labels"),
    "CrossEntropyLoss_probs": (lambda nn: nn.CrossEntropyLoss(label_smoothing=0.2), "probs"),
    "NLLLoss": (lambda nn: nn.NLLLoss(), "labels"),
    "NLLLoss_options": (lambda nn, w: nn.NLLLoss(w, ignore_index=0), "labels"),
    "MSELoss": (lambda nn: nn.MSELoss(), "real"),
    "L1Loss": (lambda nn: nn.L1Loss(), "real"),
    "HuberLoss": (lambda nn: nn.HuberLoss(delta=0.5), "real"),
    "SmoothL1Loss": (lambda nn: nn.SmoothL1Loss(beta=0.5), "real"),
    "BCELoss": (lambda nn, w: nn.BCELoss(weight=w), "probs01"),
    "BCEWithLogitsLoss": (lambda nn, w: nn.BCEWithLogitsLoss(pos_weight=w), "unit"),
    "MultiMarginLoss": (lambda nn, w: nn.MultiMarginLoss(p=2, margin=0.7, weight=w), "labels"),
}


@pytest.mark.parametrize("name", list(MODULES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules(name: str, reduction: str) -> None:
    make, kind = MODULES[name]
    rng = np.random.default_rng(35)
    x = randn(6, 4, seed=36)
    target = {"labels": labels(6, 4, seed=37), "probs": soft_targets(6, 4, seed=38),
              "real": randn(6, 4, seed=39), "unit": rng.uniform(0, 1, (6, 4)),
              "probs01": rng.uniform(0, 1, (6, 4))}[kind]
    if kind == "probs01":
        x = rng.uniform(0.05, 0.95, (6, 4))
    takes_weight = make.__code__.co_argcount == 2

    def build(nn: Any, lib: Any) -> Any:
        m = make(nn, lib.tensor(W4.copy())) if takes_weight else make(nn)
        m.reduction = reduction
        return m

    m_ours, m_torch = build(gnn, tg), build(tnn, torch)
    assert m_ours.reduction == m_torch.reduction
    check_function(lambda a: m_ours(a, tg.tensor(target.copy())),
                   lambda a: m_torch(a, torch.tensor(target.copy())), [x],
                   second=name not in ("MultiMarginLoss",), what=name)
    # reduction given to the constructor, as users write it
    m2 = (make(gnn, tg.tensor(W4.copy())) if takes_weight else make(gnn))
    ours = type(m2)(reduction=reduction)
    theirs = getattr(tnn, type(m2).__name__)(reduction=reduction)
    xo, xt = pair(x)
    assert_close(ours(xo, tg.tensor(target.copy())), theirs(xt, torch.tensor(target.copy())),
                 what=f"{name}(reduction={reduction!r})")


def test_loss_module_buffers_match_pytorch() -> None:
    """The class weight is a buffer (in state_dict) in both."""
    ours = gnn.CrossEntropyLoss(weight=tg.tensor(W4.copy()))
    theirs = tnn.CrossEntropyLoss(weight=torch.tensor(W4.copy()))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours_b = gnn.BCEWithLogitsLoss(pos_weight=tg.tensor([1.0, 2.0]))
    theirs_b = tnn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0]))
    assert list(ours_b.state_dict()) == list(theirs_b.state_dict())
    assert as_numpy(ours_b.state_dict()["pos_weight"]).tolist() == [1.0, 2.0]
