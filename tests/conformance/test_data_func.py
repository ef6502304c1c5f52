"""torch.utils.data and torch.func against tinygrad_edu: TensorDataset, DataLoader batches
(shuffle=False, drop_last, batch sizes, collation of Python samples), the
`torch.utils.data` namespace itself, and the function transforms shared with torch.func
(grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian)."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
import torch
import torch.func as tfunc
import torch.utils.data as tdata

import tinygrad_edu as tg
import tinygrad_edu.data as gdata
import tinygrad_edu.func as gfunc

from .nn_helpers import randn
from .oracle import as_numpy, assert_close, pair

# ----------------------------------------------------------------------------- namespace


def test_utils_data_namespace_exists() -> None:
    """`import tinygrad_edu as torch` then `torch.utils.data.DataLoader`, as PyTorch code
    spells it."""
    lib = importlib.import_module("tinygrad_edu")
    assert hasattr(lib, "utils"), "tinygrad_edu.utils is missing (torch.utils)"
    assert lib.utils.data.DataLoader is gdata.DataLoader
    assert lib.utils.data.TensorDataset is gdata.TensorDataset
    assert lib.utils.data.Dataset is gdata.Dataset


def test_from_utils_data_import() -> None:
    """`from torch.utils.data import DataLoader, TensorDataset, Dataset, random_split`."""
    mod = importlib.import_module("tinygrad_edu.utils.data")
    for name in ("DataLoader", "TensorDataset", "Dataset", "Subset", "ConcatDataset",
                 "random_split", "default_collate"):
        assert hasattr(mod, name), name
        assert hasattr(tdata, name), name


# ----------------------------------------------------------------------------- datasets

N = 13
XS = randn(N, 3, 2, seed=1, dtype=np.float32)
YS = np.arange(N, dtype=np.int64) % 4


def datasets() -> tuple[Any, Any]:
    return (gdata.TensorDataset(tg.tensor(XS.copy()), tg.tensor(YS.copy())),
            tdata.TensorDataset(torch.tensor(XS.copy()), torch.tensor(YS.copy())))


def test_tensor_dataset_items() -> None:
    ours, theirs = datasets()
    assert len(ours) == len(theirs) == N
    for i in (0, 5, N - 1, -1):
        so, st = ours[i], theirs[i]
        assert isinstance(so, tuple) and len(so) == len(st) == 2
        assert_close(so[0], st[0], what=f"x[{i}]")
        assert_close(so[1], st[1], what=f"y[{i}]")
    assert_close(ours.tensors[0], theirs.tensors[0], what="tensors[0]")


def test_tensor_dataset_from_numpy_tensors_and_slices() -> None:
    ours = gdata.TensorDataset(tg.from_numpy(XS.copy()), tg.tensor(YS.copy()))
    theirs = tdata.TensorDataset(torch.from_numpy(XS.copy()), torch.tensor(YS.copy()))
    so, st = ours[2:5], theirs[2:5]
    assert_close(so[0], st[0], what="slice x")
    assert_close(so[1], st[1], what="slice y")


LOADERS = {
    "batch4": lambda D, ds: D.DataLoader(ds, batch_size=4),
    "batch4_positional": lambda D, ds: D.DataLoader(ds, 4),
    "batch5_shuffle_false": lambda D, ds: D.DataLoader(ds, batch_size=5, shuffle=False),
    "batch5_drop_last": lambda D, ds: D.DataLoader(ds, batch_size=5, drop_last=True),
    "batch5_positional_shuffle": lambda D, ds: D.DataLoader(ds, 5, False, drop_last=False),
    "batch13": lambda D, ds: D.DataLoader(ds, batch_size=13, drop_last=True),
    "batch20": lambda D, ds: D.DataLoader(ds, batch_size=20),
    "batch20_drop_last": lambda D, ds: D.DataLoader(ds, batch_size=20, drop_last=True),
    "default_batch_size": lambda D, ds: D.DataLoader(ds),
}


@pytest.mark.parametrize("name", list(LOADERS))
def test_dataloader_batches(name: str) -> None:
    ds_o, ds_t = datasets()
    lo, lt = LOADERS[name](gdata, ds_o), LOADERS[name](tdata, ds_t)
    assert len(lo) == len(lt)
    for epoch in range(2):  # a loader can be iterated again
        bo, bt = list(lo), list(lt)
        assert len(bo) == len(bt), f"epoch {epoch}: {len(bo)} batches, PyTorch {len(bt)}"
        for i, (a, b) in enumerate(zip(bo, bt)):
            assert len(a) == len(b) == 2
            assert_close(a[0], b[0], what=f"epoch {epoch} batch {i} x")
            assert_close(a[1], b[1], what=f"epoch {epoch} batch {i} y")
        x_o, y_o = next(iter(lo)) if len(lo) else (None, None)
        if x_o is not None:
            assert x_o.shape[1:] == (3, 2) and y_o.dtype == tg.int64


def test_dataloader_batch_is_a_list_like_pytorch() -> None:
    """PyTorch's default_collate turns a batch of tuples into a list [X, Y]."""
    ds_o, ds_t = datasets()
    bo, bt = next(iter(gdata.DataLoader(ds_o, batch_size=4))), next(iter(
        tdata.DataLoader(ds_t, batch_size=4)))
    assert type(bt) is list
    assert type(bo) is list, f"batch is a {type(bo).__name__}, PyTorch gives a list"


class _Samples:
    """A map-style dataset of Python/numpy samples (as users write them)."""

    def __init__(self, base: Any) -> None:
        self.base = base

    def __len__(self) -> int:
        return 7

    def __getitem__(self, i: int) -> Any:
        x = np.arange(4, dtype=np.float32).reshape(2, 2) * i
        return x, int(i % 3), float(i) / 2, {"idx": i, "w": np.float64(i) * 0.5}


def samples_for(D: Any) -> Any:
    cls = type("Samples", (_Samples, D.Dataset), {})
    return cls(None)


def test_dataloader_collates_python_samples() -> None:
    lo = gdata.DataLoader(samples_for(gdata), batch_size=3)
    lt = tdata.DataLoader(samples_for(tdata), batch_size=3)
    assert len(lo) == len(lt)
    for bo, bt in zip(lo, lt):
        assert len(bo) == len(bt) == 4
        for k in range(3):
            assert_close(bo[k], bt[k], what=f"field {k}")
        assert sorted(bo[3]) == sorted(bt[3])
        for key in bt[3]:
            assert_close(bo[3][key], bt[3][key], what=f"dict field {key}")


def test_dataloader_batch_size_none() -> None:
    """batch_size=None: samples one by one, arrays converted to tensors, Python numbers
    left as they are (PyTorch's default_convert)."""
    lo = list(gdata.DataLoader(samples_for(gdata), batch_size=None))
    lt = list(tdata.DataLoader(samples_for(tdata), batch_size=None))
    assert len(lo) == len(lt)
    for so, st in zip(lo, lt):
        assert_close(so[0], st[0], what="array field")
        assert type(so[1]) is type(st[1]) is int, f"int field became {type(so[1]).__name__}"
        assert type(so[2]) is type(st[2]) is float, f"float field became {type(so[2])}"


def test_dataloader_shuffle_is_a_permutation_each_epoch() -> None:
    ds_o, _ = datasets()
    loader = gdata.DataLoader(ds_o, batch_size=4, shuffle=True)
    for _ in range(2):
        ys = np.concatenate([as_numpy(y) for _, y in loader])
        xs = np.concatenate([as_numpy(x) for x, _ in loader])
        assert sorted(ys.tolist()) == sorted(YS.tolist())
        assert xs.shape == XS.shape


def test_subset_concat_random_split() -> None:
    ds_o, ds_t = datasets()
    so, st = gdata.Subset(ds_o, [3, 1, 4]), tdata.Subset(ds_t, [3, 1, 4])
    assert len(so) == len(st)
    for i in range(3):
        assert_close(so[i][0], st[i][0], what=f"subset {i}")
    co, ct = gdata.ConcatDataset([ds_o, so]), tdata.ConcatDataset([ds_t, st])
    assert len(co) == len(ct)
    for i in (0, N - 1, N, N + 2, -1):
        assert_close(co[i][1], ct[i][1], what=f"concat {i}")
    for lengths in ([0.5, 0.3, 0.2], [4, 9], [0.25, 0.25, 0.25, 0.25]):
        parts_o = gdata.random_split(ds_o, lengths)
        parts_t = tdata.random_split(ds_t, lengths)
        assert [len(p) for p in parts_o] == [len(p) for p in parts_t], lengths
    bo = list(gdata.DataLoader(so, batch_size=2))
    bt = list(tdata.DataLoader(st, batch_size=2))
    for a, b in zip(bo, bt):
        assert_close(a[0], b[0], what="loader over a Subset")


# ----------------------------------------------------------------------------- torch.func


def scalar_f(x: Any, y: Any) -> Any:
    return (x.tanh() * y).sum() + (x**3).sum() * 0.1 + (x * x * y).exp().mean()


def vector_f(x: Any, y: Any) -> Any:
    return x.tanh() * y.sum() + (x**2) * y[0]


X1, Y1 = randn(4, seed=10) * 0.5, randn(4, seed=11) * 0.5


def test_func_grad() -> None:
    xo, xt = pair(X1)
    yo, yt = pair(Y1)
    assert_close(gfunc.grad(scalar_f)(xo, yo), tfunc.grad(scalar_f)(xt, yt), what="grad")
    assert_close(gfunc.grad(scalar_f, argnums=1)(xo, yo),
                 tfunc.grad(scalar_f, argnums=1)(xt, yt), what="grad argnums=1")
    go, gt = gfunc.grad(scalar_f, argnums=(0, 1))(xo, yo), tfunc.grad(scalar_f, (0, 1))(xt, yt)
    assert isinstance(go, tuple) and len(go) == 2
    for a, b in zip(go, gt):
        assert_close(a, b, what="grad argnums=(0, 1)")


def test_func_grad_has_aux_and_grad_and_value() -> None:
    def f(x: Any, y: Any) -> Any:
        v = scalar_f(x, y)
        return v, x * 2

    xo, xt = pair(X1)
    yo, yt = pair(Y1)
    (go, aux_o), (gt, aux_t) = gfunc.grad(f, has_aux=True)(xo, yo), tfunc.grad(
        f, has_aux=True)(xt, yt)
    assert_close(go, gt, what="grad has_aux")
    assert_close(aux_o, aux_t, what="aux")
    (g2o, vo), (g2t, vt) = gfunc.grad_and_value(scalar_f)(xo, yo), tfunc.grad_and_value(
        scalar_f)(xt, yt)
    assert_close(g2o, g2t, what="grad_and_value grad")
    assert_close(vo, vt, what="grad_and_value value")


def test_func_nested_grad_second_derivative() -> None:
    def g(x: Any) -> Any:
        return (x.tanh() * x * x).sum()

    xo, xt = pair(np.array(0.7))
    assert_close(gfunc.grad(gfunc.grad(g))(xo), tfunc.grad(tfunc.grad(g))(xt),
                 what="grad(grad(f))")
    assert_close(gfunc.grad(gfunc.grad(gfunc.grad(g)))(xo),
                 tfunc.grad(tfunc.grad(tfunc.grad(g)))(xt), what="third derivative")


def test_func_vjp() -> None:
    xo, xt = pair(X1)
    yo, yt = pair(Y1)
    out_o, fn_o = gfunc.vjp(vector_f, xo, yo)
    out_t, fn_t = tfunc.vjp(vector_f, xt, yt)
    assert_close(out_o, out_t, what="vjp output")
    v = randn(4, seed=12)
    vo, vt = fn_o(tg.tensor(v)), fn_t(torch.tensor(v))
    assert isinstance(vo, tuple) and len(vo) == 2
    for a, b in zip(vo, vt):
        assert_close(a, b, what="vjp cotangent")


def test_func_jvp() -> None:
    xo, xt = pair(X1)
    yo, yt = pair(Y1)
    t1, t2 = randn(4, seed=13), randn(4, seed=14)
    out_o, jo = gfunc.jvp(vector_f, (xo, yo), (tg.tensor(t1), tg.tensor(t2)))
    out_t, jt = tfunc.jvp(vector_f, (xt, yt), (torch.tensor(t1), torch.tensor(t2)))
    assert_close(out_o, out_t, what="jvp output")
    assert_close(jo, jt, what="jvp tangent")


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_func_jacobians(name: str) -> None:
    xo, xt = pair(X1)
    yo, yt = pair(Y1)
    jac_o, jac_t = getattr(gfunc, name), getattr(tfunc, name)
    assert_close(jac_o(vector_f)(xo, yo), jac_t(vector_f)(xt, yt), what=f"{name}")
    jo, jt = jac_o(vector_f, argnums=(0, 1))(xo, yo), jac_t(vector_f, argnums=(0, 1))(xt, yt)
    assert isinstance(jo, tuple) and len(jo) == 2
    for a, b in zip(jo, jt):
        assert_close(a, b, what=f"{name} argnums=(0, 1)")
    mo, mt = pair(randn(2, 3, seed=15))
    assert_close(jac_o(lambda m: m.tanh() * 2)(mo), jac_t(lambda m: m.tanh() * 2)(mt),
                 what=f"{name} matrix input")


def test_func_hessian() -> None:
    xo, xt = pair(X1)
    yo, yt = pair(Y1)
    assert_close(gfunc.hessian(scalar_f)(xo, yo), tfunc.hessian(scalar_f)(xt, yt),
                 what="hessian")
    assert_close(gfunc.hessian(scalar_f, argnums=1)(xo, yo),
                 tfunc.hessian(scalar_f, argnums=1)(xt, yt), what="hessian argnums=1")
