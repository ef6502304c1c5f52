"""The silent wrong answers of issue 14, each pinned without PyTorch (the conformance suite
checks the same against PyTorch itself): Python data with a dtype, in place inside a graph,
views, reductions' dtypes and positional order, NaN handling, gradients at 0."""

import numpy as np
import pytest

import tinygrad_edu as tg


def test_python_floats_go_straight_to_float64() -> None:
    t = tg.tensor([0.3, -0.7], dtype=tg.float64)
    assert t.numpy().tolist() == [0.3, -0.7]
    assert np.isfinite(tg.tensor(1e300, dtype=tg.float64).item())
    assert tg.as_tensor([0.3], dtype=tg.float64).numpy()[0] == 0.3
    assert tg.tensor([np.float64(1.1)]).dtype == np.float64
    assert tg.tensor([np.int64(3), 2.5]).dtype == np.float32


@pytest.mark.parametrize("data", [["a", "b"], [object()], [[1], [2, 3]], [None]])
def test_data_that_is_not_numbers_is_refused_at_construction(data: list) -> None:
    with pytest.raises(TypeError):
        tg.tensor(data)
    with pytest.raises(ValueError):
        tg.tensor(data)


def test_setitem_of_a_tensor_that_needs_grad_keeps_both_paths() -> None:
    w = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    out = tg.zeros(2, dtype=tg.float64)
    out[0] = w * 3
    (out * w).sum().backward()
    assert w.grad is not None and w.grad.item() == 12.0  # 3w^2 -> 6w
    w.grad = None
    out = tg.zeros(2, dtype=tg.float64)
    out[0] = w * 3
    out.sum().backward()
    assert w.grad.item() == 3.0


def test_rnn_style_writes_into_a_buffer() -> None:
    h0 = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    outs, h = tg.zeros(3, 2, dtype=tg.float64), h0
    for t in range(3):
        h = h * 2
        outs[t] = h
    outs.sum().backward()
    assert h0.grad.numpy().tolist() == [14.0, 14.0]  # 2 + 4 + 8


def test_inplace_on_non_leaf_tensors_records_the_op() -> None:
    x = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    y = x * 2
    y += 1
    y[y < 0] = 0
    y.sum().backward()
    assert x.grad.numpy().tolist() == [2.0, 0.0]
    x.grad = None
    (x * 1).mul_(3).sum().backward()
    assert x.grad.numpy().tolist() == [3.0, 3.0]


def test_view_taken_before_an_inplace_change_of_its_base_follows_it() -> None:
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    y = x * 1
    v = y[1:]
    y.mul_(3)
    (v * 1).sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 3.0, 3.0]


def test_inplace_through_a_view_reaches_the_base() -> None:
    t = tg.zeros(3)
    t[0].fill_(5)
    t[1].add_(2)
    assert t.numpy().tolist() == [5.0, 2.0, 0.0]
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    z = tg.zeros(5, dtype=tg.float64)
    z[1:4].copy_(x)
    (z * tg.arange(5, dtype=tg.float64)).sum().backward()
    assert x.grad.numpy().tolist() == [1.0, 2.0, 3.0]


def test_leaf_that_requires_grad_cannot_change_in_place_with_grad_on() -> None:
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.add_(1)
    with tg.no_grad():
        w.add_(1)
    assert w.numpy().tolist() == [2.0, 2.0]


def test_saved_value_changed_in_place_raises_at_backward() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_var_and_std_positional_order_is_pytorchs() -> None:
    x = tg.tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(x.var(1, False).numpy(), np.var(np.arange(4.0)))
    assert tg.std(x, 1, False, True).shape == (3, 1)
    np.testing.assert_allclose(x.var(False).item(), np.var(np.arange(12.0)))


def test_nan_is_never_turned_into_a_number() -> None:
    t = tg.tensor([np.nan, 1.0])
    assert np.isnan(t.clamp(0, 0.5).numpy()[0])
    assert np.isnan(t.clamp(max=0.0).numpy()[0])
    assert np.isnan(tg.nn.functional.elu(t).numpy()[0])
    assert np.isnan(t.sign().numpy()[0])


def test_gradients_at_zero_are_pytorchs() -> None:
    a = tg.tensor([0.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    a.prod().backward()
    assert a.grad.numpy().tolist() == [6.0, 0.0, 0.0]
    x = tg.tensor([0.0, 2.0], dtype=tg.float64, requires_grad=True)
    (x**0).sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0]
    (g,) = tg.grad((x**1).sum(), x, create_graph=True)
    (h,) = tg.grad(g.sum(), x, allow_unused=True)
    assert h is None or h.numpy().tolist() == [0.0, 0.0]
    z = tg.tensor([0.0, 2.0], dtype=tg.float64, requires_grad=True)
    z.norm(0.5).backward()
    assert z.grad.numpy()[0] == 0.0
    z.grad = None
    tg.linalg.vector_norm(z * 0).backward()
    assert z.grad.numpy().tolist() == [0.0, 0.0]


def test_dtypes_of_integer_and_bool_reductions() -> None:
    assert tg.tensor(np.array([200, 100], np.uint8)).sum().item() == 300
    assert tg.tensor(np.array([200, 100], np.uint8)).sum().dtype == np.int64
    assert tg.tensor(np.array([1, 2], np.int32)).cumsum(0).dtype == np.int64
    assert tg.tensor([True, False]).cumsum(0).dtype == np.int64
    assert tg.tensor([True, False]).prod().dtype == np.int64
    assert np.isnan(tg.zeros(0).mean().item())
    assert tg.tensor([1.0, 2.0]).mean(dtype=tg.float64).dtype == np.float64
    assert [p.shape for p in tg.zeros(0, 3).split(2)] == [(0, 3)]


def test_type_promotion_with_0d_tensors_and_bitwise_ops() -> None:
    assert (tg.tensor(2.0, dtype=tg.float64) * tg.ones(3)).dtype == np.float32
    assert (tg.tensor(2.0, dtype=tg.float64) + tg.tensor([1, 2])).dtype == np.float64
    i = tg.tensor([1, 2, 3])
    assert (i & tg.tensor([2, 2, 2])).numpy().tolist() == [0, 2, 2]
    assert (i | 4).numpy().tolist() == [5, 6, 7]
    assert (i ^ 1).numpy().tolist() == [0, 3, 2]
    assert i.sigmoid().dtype == np.float32


def test_valid_pytorch_calls_that_used_to_crash() -> None:
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    x.sign().sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0]
    assert tg.tensor(3.0).sort().values.item() == 3.0
    assert tg.tensor(3.0).topk(1).indices.item() == 0
    assert tg.ones(3)[[]].shape == (0,)
    assert (tg.ones(3) == None) is False  # noqa: E711
    b = tg.tensor([True, False])
    assert b.prod().item() == 0 and b.min().item() is False
    assert b.sign().dtype == np.bool_ and b.sigmoid().dtype == np.float32
    assert tg.utils.data.DataLoader is tg.data.DataLoader


def test_data_is_an_untracked_tensor_sharing_storage() -> None:
    p = tg.ones(3, requires_grad=True)
    p.grad = tg.ones(3)
    p.data.add_(p.grad, alpha=-0.5)
    assert p.numpy().tolist() == [0.5, 0.5, 0.5]
    assert not p.data.requires_grad and p.data.numpy() is not None
    p.grad.data.zero_()
    assert p.grad.numpy().tolist() == [0.0, 0.0, 0.0]
    p.data.zero_()
    assert p.numpy().tolist() == [0.0, 0.0, 0.0]
    c = p.data.clone()
    c.add_(1)
    assert p.numpy().tolist() == [0.0, 0.0, 0.0]


def test_devices() -> None:
    t = tg.ones(2)
    assert t.device == tg.device("cpu") and t.device.type == "cpu"
    assert t.to("cpu") is t and t.cpu() is t
    with pytest.raises(RuntimeError, match="only device is 'cpu'"):
        t.to("cuda")
    with pytest.raises(RuntimeError, match="only device is 'cpu'"):
        tg.zeros(2, device="cuda")
    assert tg.zeros(2, device="cpu").shape == (2,)
