"""Memory, devices and conversions against PyTorch: what shares storage with what
(`numpy()`, `np.array`, `np.asarray`, `.data`), `device`, `to`, `cpu`, `double()` & co."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tests.conformance.oracle import assert_close, pair


def exact(ours: Any, theirs: torch.Tensor, what: str = "value") -> None:
    assert_close(ours, theirs, what=what, rtol=0.0, atol=0.0)


# ---------------------------------------------------------------- numpy views and copies

def test_numpy_shares_memory() -> None:
    t = tg.tensor([1.0, 2.0, 3.0])
    a = t.numpy()
    a[0] = 9.0
    assert t.tolist() == [9.0, 2.0, 3.0]
    with tg.no_grad():
        t.add_(1.0)
    assert a.tolist() == [10.0, 3.0, 4.0]


def test_np_array_copies() -> None:
    """PyTorch: `np.array(t)` copies (numpy's default copy=True)."""
    t = tg.tensor([1.0, 2.0, 3.0])
    a = np.array(t)
    assert a.dtype == np.float32 and a.shape == (3,)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0, 3.0]
    b = np.array(t, copy=True)
    b[1] = 9.0
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_np_asarray_shares_memory() -> None:
    t = tg.tensor([1.0, 2.0, 3.0])
    a = np.asarray(t)
    a[0] = 9.0
    assert t.tolist() == [9.0, 2.0, 3.0]
    same = np.asarray(t, dtype=np.float32)
    same[1] = 8.0
    assert t.tolist() == [9.0, 8.0, 3.0]


def test_np_asarray_with_other_dtype_converts() -> None:
    t = tg.tensor([1.5, 2.0])
    a = np.asarray(t, dtype=np.float64)
    assert a.dtype == np.float64 and a.tolist() == [1.5, 2.0]
    a[0] = 0.0
    assert t.tolist() == [1.5, 2.0]
    assert np.asarray(tg.tensor([1, 2]), dtype=np.float32).dtype == np.float32


def test_array_protocol_copy_keyword() -> None:
    """numpy 2's `__array__(dtype=None, copy=None)` contract (DESIGN: Interoperability).
    PyTorch's `__array__` has no `copy` (numpy then raises on copy=False); ours follows
    numpy 2: copy=False shares when no conversion is needed and raises ValueError when one
    is, copy=True always copies."""
    t = tg.tensor([1.0, 2.0])
    view = np.array(t, copy=False)
    view[0] = 5.0
    assert t.tolist() == [5.0, 2.0]
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float64, copy=False)
    fresh = t.__array__(copy=True)
    fresh[1] = 7.0
    assert t.tolist() == [5.0, 2.0]
    shared = t.__array__(copy=None)
    shared[1] = 7.0
    assert t.tolist() == [5.0, 7.0]
    converted = t.__array__(np.float64, copy=None)
    assert converted.dtype == np.float64 and converted.tolist() == [5.0, 7.0]
    with pytest.raises(ValueError):
        t.__array__(np.float64, copy=False)


def test_numpy_of_a_tensor_that_requires_grad() -> None:
    """PyTorch refuses `numpy()` / `np.asarray` / `np.array` on a tensor that requires grad.
    Deliberate difference (docs/pytorch.md): here they give the values (`numpy()` and
    `np.asarray` the tensor's memory, `np.array` a copy), because reading a parameter's
    values is what the courses' numpy code and the Solver's snapshots do; numpy *functions*
    on such a tensor stay in the graph (`__array_ufunc__`/`__array_function__`)."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for read in (lambda t: t.numpy(), np.asarray, np.array):
        with pytest.raises(RuntimeError, match="detach"):
            read(x)
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    assert np.shares_memory(w.numpy(), np.asarray(w))
    snapshot = np.array(w)
    with tg.no_grad():
        w.mul_(3)
    assert snapshot.tolist() == [1.0, 2.0] and w.detach().numpy().tolist() == [3.0, 6.0]
    assert isinstance(np.exp(w), tg.Tensor) and np.exp(w).requires_grad


def test_item_tolist_float_int() -> None:
    for data in ([[1.5, 2.0]], [3], 2.5, True, [[True]], 7):
        o, t = tg.tensor(data), torch.tensor(data)
        assert o.tolist() == t.tolist() and type(o.tolist()) is type(t.tolist())
        if o.numel() == 1:
            assert o.item() == t.item() and type(o.item()) is type(t.item())
            assert float(o) == float(t) and int(o) == int(t) and bool(o) == bool(t)


# ---------------------------------------------------------------- .data

def test_data_is_an_untracked_tensor_sharing_storage() -> None:
    p_o, p_t = pair(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for p, lib in ((p_t, torch), (p_o, tg)):
        d = p.data
        assert isinstance(d, lib.Tensor), f"{lib.__name__}: .data is {type(d)}"
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
        assert d.dtype == p.dtype and tuple(d.shape) == (3,)
        y = p * 2.0
        assert not y.data.requires_grad and y.data.grad_fn is None


def test_data_zero_and_add_with_alpha_write_through() -> None:
    """The optimizer idioms `p.data.zero_()` and `p.data.add_(g, alpha=-lr)`, outside
    no_grad, change the parameter itself."""
    for lib in (torch, tg):
        p = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        p.data.zero_()
        assert p.detach().numpy().tolist() == [0.0, 0.0, 0.0]
        p.data.add_(lib.tensor([1.0, 2.0, 4.0], dtype=lib.float64), alpha=-0.5)
        assert p.detach().numpy().tolist() == [-0.5, -1.0, -2.0], lib.__name__
        assert p.requires_grad and p.is_leaf


def test_data_clone_and_numpy() -> None:
    for lib in (torch, tg):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        c = p.data.clone()
        c[0] = 9.0
        assert p.detach().numpy().tolist() == [1.0, 2.0]
        n = p.data.numpy()
        n[1] = 4.0
        assert p.detach().numpy().tolist() == [1.0, 4.0], lib.__name__


def test_grad_data_zero() -> None:
    for lib in (torch, tg):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        (p * p).sum().backward()
        assert p.grad is not None
        p.grad.data.zero_()
        assert p.grad.numpy().tolist() == [0.0, 0.0], lib.__name__


def test_data_assignment_replaces_storage() -> None:
    """`p.data = other` swaps the values (and dtype) and keeps requires_grad."""
    for lib in (torch, tg):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        p.data = lib.zeros(3, dtype=lib.float64)
        assert p.dtype == lib.float64 and tuple(p.shape) == (3,), lib.__name__
        assert p.requires_grad and p.is_leaf
        assert isinstance(p.data, lib.Tensor)
        values = p.detach().numpy()
        assert type(values) is np.ndarray and values.dtype == np.float64
        assert values.tolist() == [0.0, 0.0, 0.0]
        (p * 2.0).sum().backward()
        assert p.grad is not None and p.grad.dtype == lib.float64
        assert p.grad.numpy().tolist() == [2.0, 2.0, 2.0], lib.__name__


def test_inplace_through_data_is_seen_by_views() -> None:
    for lib in (torch, tg):
        p = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        p.data[0] = lib.tensor([5.0, 6.0])
        assert p.detach().numpy().tolist() == [[5.0, 6.0], [3.0, 4.0]], lib.__name__


# ---------------------------------------------------------------- device

def test_device_compares_like_pytorch() -> None:
    o, t = tg.tensor([1.0]), torch.tensor([1.0])
    assert t.device == torch.device("cpu")
    assert o.device == tg.device("cpu")
    assert str(o.device) == str(t.device) == "cpu"
    assert o.device.type == t.device.type == "cpu"
    # PyTorch 2.13: a torch.device does not compare equal to the string
    assert (o.device == "cpu") == (t.device == "cpu")


def test_device_keyword_and_device_objects() -> None:
    exact(tg.tensor([1.5], device=tg.device("cpu")), torch.tensor([1.5], device="cpu"))
    exact(tg.zeros(2, device=tg.device("cpu")), torch.zeros(2, device=torch.device("cpu")))
    x = tg.tensor([1.0])
    assert x.to(tg.device("cpu")) is x
    assert x.is_cpu is torch.tensor([1.0]).is_cpu is True
    assert x.is_cuda is torch.tensor([1.0]).is_cuda is False


@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "mps"])
def test_to_unknown_device_names_the_devices(dev: str) -> None:
    """PyTorch's CPU build raises too (AssertionError/RuntimeError); ours must raise an
    error that names the device asked for and the one that exists."""
    with pytest.raises((AssertionError, RuntimeError)):
        torch.ones(2).to(dev)
    with pytest.raises((AssertionError, RuntimeError)) as info:
        tg.ones(2).to(dev)
    msg = str(info.value)
    assert dev.split(":")[0] in msg and "cpu" in msg, msg


def test_cuda_method_raises_clearly() -> None:
    with pytest.raises(AssertionError):
        torch.ones(2).cuda()
    with pytest.raises((AssertionError, RuntimeError), match="cpu"):
        tg.ones(2).cuda()


# ---------------------------------------------------------------- to / casts

def test_to_cpu_returns_self() -> None:
    x, xt = tg.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert x.to("cpu") is x and xt.to("cpu") is xt
    assert x.cpu() is x and xt.cpu() is xt
    assert x.to(tg.float32) is x and xt.to(torch.float32) is xt
    assert x.to(device="cpu") is x


TO_CASES = {
    "dtype_positional": (lambda lib: (lib.float64,), {}),
    "dtype_keyword": (lambda lib: (), {"dtype": "float64"}),
    "device_and_dtype": (lambda lib: ("cpu", lib.float64), {}),
    "device_kw_dtype_kw": (lambda lib: (), {"device": "cpu", "dtype": "int64"}),
    "other_tensor": (lambda lib: (lib.ones(1, dtype=lib.int64),), {}),
    "to_int32": (lambda lib: (lib.int32,), {}),
    "to_bool": (lambda lib: (lib.bool,), {}),
    "to_float16": (lambda lib: (lib.float16,), {}),
}


@pytest.mark.parametrize("name", list(TO_CASES))
def test_to(name: str) -> None:
    make_args, kwargs = TO_CASES[name]
    x = np.array([1.5, -2.7, 0.0, 3.9], dtype=np.float32)
    o, t = pair(x)
    kw_o = {k: getattr(tg, v) if k == "dtype" else v for k, v in kwargs.items()}
    kw_t = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    exact(o.to(*make_args(tg), **kw_o), t.to(*make_args(torch), **kw_t), what=name)


@pytest.mark.parametrize("method", ["double", "float", "long", "int", "bool", "half"])
@pytest.mark.parametrize("src", ["float32", "float64", "int64", "bool"])
def test_cast_methods(method: str, src: str) -> None:
    x = np.array([1.5, -2.7, 0.0, 3.9, 1.0]).astype(src)
    o, t = pair(x)
    exact(getattr(o, method)(), getattr(t, method)(), what=f"{src}.{method}()")


def test_type_as_and_type() -> None:
    o, t = pair(np.array([1.5, -2.5], dtype=np.float32))
    oi, ti = pair(np.array([1, 2]))
    exact(o.type_as(oi), t.type_as(ti))
    exact(oi.type_as(o), ti.type_as(t))
    exact(o.type(tg.float64), t.type(torch.float64))
    assert o.type() == t.type() == "torch.FloatTensor"
    assert oi.type() == ti.type() == "torch.LongTensor"


def test_float_to_int_truncates_toward_zero() -> None:
    x = np.array([-1.7, -0.5, 0.5, 1.7, 2.5, -2.5])
    o, t = pair(x)
    exact(o.long(), t.long())
    exact(o.to(tg.int32), t.to(torch.int32))
    exact(o.to(tg.uint8)[2:], t.to(torch.uint8)[2:])


def test_cast_gradient_flows_back_in_the_source_dtype() -> None:
    for lib in (torch, tg):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.double()
        assert y.requires_grad and y.dtype == lib.float64
        (y * y).sum().backward()
        assert x.grad is not None and x.grad.dtype == lib.float32, lib.__name__
        assert x.grad.numpy().tolist() == [2.0, 4.0]
        z = x.long()
        assert not z.requires_grad


def test_to_copy_keyword_and_clone() -> None:
    o, t = pair(np.array([1.0, 2.0]))
    oc, tc = o.to(tg.float64, copy=True), t.to(torch.float64, copy=True)
    exact(oc, tc)
    oc.numpy()[0] = 9.0
    assert o.tolist() == [1.0, 2.0]
    c = o.clone()
    c.numpy()[0] = 9.0
    assert o.tolist() == [1.0, 2.0]
