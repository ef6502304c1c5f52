"""The tensor surface a PyTorch user types (issue 8), written as PyTorch code: constructors
and their dtypes, seeding, module-level functions, Tensor methods (max/min(dim) returning
(values, indices), var/std unbiased by default, ...). In-place methods and the version
counter are tested in test_torch_autograd.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as torch
from tinygrad_edu.testing import assert_gradients_match, float_arrays, shapes

# ----------------------------------------------------------------------------- creation


@pytest.mark.parametrize(("data", "dtype"), [
    (3, torch.int64), (3.0, torch.float32), (True, torch.bool), ([0, 3, 1], torch.int64),
    ([1, 2.5], torch.float32), ([[True, False]], torch.bool),
    (np.zeros(2, np.float64), torch.float64), (np.zeros(2, np.int32), torch.int32),
    (np.float64(1.5), torch.float64),
])
def test_tensor_infers_dtypes_as_pytorch(data: object, dtype: object) -> None:
    assert torch.tensor(data).dtype == dtype


def test_tensor_copies_and_from_numpy_shares() -> None:
    a = np.zeros(3, dtype=np.float32)
    copied, shared = torch.tensor(a), torch.from_numpy(a)
    a[0] = 7.0
    assert copied[0].item() == 0.0 and shared[0].item() == 7.0
    assert torch.tensor([1, 2], dtype=torch.float64, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="from_numpy: expected a numpy array"):
        torch.from_numpy([1, 2])


def test_requires_grad_needs_a_float_tensor() -> None:
    with pytest.raises(RuntimeError, match=r"requires_grad: only floating-point .* int64"):
        torch.tensor([1, 2], requires_grad=True)


def test_dtype_names() -> None:
    assert torch.float is torch.float32 and torch.double is torch.float64
    assert torch.long is torch.int64 and torch.int is torch.int32
    assert torch.ones(2, dtype=torch.bool).dtype == torch.bool
    assert torch.ones(2).to(torch.double).dtype == torch.float64


@pytest.mark.parametrize("make", [
    lambda: torch.zeros(2, 3), lambda: torch.zeros((2, 3)), lambda: torch.ones([2, 3]),
    lambda: torch.empty(2, 3), lambda: torch.full((2, 3), 1.5), lambda: torch.randn(2, 3),
    lambda: torch.rand((2, 3)), lambda: torch.normal(0.0, 1.0, size=(2, 3)),
    lambda: torch.eye(2, 3), lambda: torch.zeros_like(torch.ones(2, 3)),
    lambda: torch.randn_like(torch.ones(2, 3)), lambda: torch.full_like(torch.ones(2, 3), 2),
])
def test_float_constructors_give_float32_of_the_shape(make: object) -> None:
    t = make()  # type: ignore[operator]
    assert (t.shape, t.dtype) == ((2, 3), torch.float32)


def test_integer_constructors_and_like_functions_keep_dtypes() -> None:
    assert torch.full((2,), 3).dtype == torch.int64
    assert torch.arange(5).dtype == torch.int64 and torch.arange(0, 1, 0.25).dtype == torch.float32
    assert torch.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert torch.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert torch.ones_like(torch.tensor([1, 2])).dtype == torch.int64
    assert torch.zeros_like(torch.ones(2, dtype=torch.float64)).dtype == torch.float64
    assert torch.zeros(2, dtype=torch.float64, requires_grad=True).requires_grad


def test_randint_has_both_pytorch_overloads() -> None:
    high_only = torch.randint(5, (200,))
    low_high = torch.randint(3, 6, (4, 50))
    keyword = torch.randint(0, 2, size=(10,))
    assert high_only.dtype == low_high.dtype == keyword.dtype == torch.int64
    assert low_high.shape == (4, 50) and keyword.shape == (10,)
    assert 0 <= high_only.min().item() and high_only.max().item() <= 4
    assert set(low_high.flatten().tolist()) == {3, 4, 5}


def test_randperm_is_a_permutation() -> None:
    p = torch.randperm(10)
    assert p.dtype == torch.int64 and sorted(p.tolist()) == list(range(10))


def test_manual_seed_makes_every_random_function_repeat() -> None:
    def draw() -> list[object]:
        return [torch.randn(3), torch.rand(3), torch.randint(0, 9, (3,)), torch.randperm(5),
                torch.normal(torch.zeros(3), torch.ones(3)), torch.randn_like(torch.ones(2)),
                torch.empty(3).normal_(), torch.empty(3).uniform_(-1, 1)]

    torch.manual_seed(123)
    first = draw()
    torch.manual_seed(123)
    second = draw()
    assert all(torch.equal(a, b) for a, b in zip(first, second))  # type: ignore[arg-type]


def test_a_generator_repeats_and_leaves_the_default_alone() -> None:
    torch.manual_seed(0)
    expected_default = torch.randn(4)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(42)
    a = [torch.randn(3, generator=g), torch.rand(2, generator=g),
         torch.randint(0, 10, (3,), generator=g), torch.randperm(4, generator=g),
         torch.normal(0.0, 1.0, size=(2,), generator=g), torch.zeros(2).normal_(generator=g),
         torch.zeros(2).uniform_(0, 1, generator=g)]
    assert torch.equal(torch.randn(4), expected_default)  # g did not advance the default
    g.manual_seed(42)
    b = [torch.randn(3, generator=g), torch.rand(2, generator=g),
         torch.randint(0, 10, (3,), generator=g), torch.randperm(4, generator=g),
         torch.normal(0.0, 1.0, size=(2,), generator=g), torch.zeros(2).normal_(generator=g),
         torch.zeros(2).uniform_(0, 1, generator=g)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))


# ----------------------------------------------------------------------------- functions


def test_module_level_functions_match_the_methods() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    pairs = [
        (torch.exp(x), x.exp()), (torch.log(x.abs()), x.abs().log()), (torch.tanh(x), x.tanh()),
        (torch.sigmoid(x), x.sigmoid()), (torch.relu(x), x.relu()), (torch.abs(x), x.abs()),
        (torch.sqrt(x.abs()), x.abs().sqrt()), (torch.clamp(x, -0.5, 0.5), x.clamp(-0.5, 0.5)),
        (torch.maximum(x, y), x.maximum(y)), (torch.minimum(x, y), x.minimum(y)),
        (torch.sum(x, dim=1), x.sum(1)), (torch.mean(x), x.mean()),
        (torch.max(x, 1).values, x.max(1).values), (torch.min(x, dim=0)[0], x.min(dim=0)[0]),
        (torch.max(x), x.max()), (torch.max(x, y), x.maximum(y)),
        (torch.argmax(x, dim=1), x.argmax(dim=1)), (torch.matmul(x, y.T), x @ y.T),
        (torch.logsumexp(x, dim=1), x.logsumexp(1)), (torch.softmax(x, dim=0), x.softmax(0)),
        (torch.log_softmax(x, 1), x.log_softmax(1)), (torch.where(x > 0, x, y), x.where(x > 0, y)),
    ]
    for got, want in pairs:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


@given(x=float_arrays(shape=(3, 4)), y=float_arrays(shape=(4, 2)))
def test_linear_algebra_functions_match_numpy(x: np.ndarray, y: np.ndarray) -> None:
    a, b = torch.from_numpy(x), torch.from_numpy(y)
    np.testing.assert_allclose(torch.einsum("ij,jk->ik", a, b).numpy(), x @ y, atol=1e-12)
    np.testing.assert_allclose(torch.outer(a[0], b[:, 0]).numpy(), np.outer(x[0], y[:, 0]))
    np.testing.assert_allclose(torch.diag(a[:, :3]).numpy(), np.diag(x[:, :3]))
    np.testing.assert_allclose(torch.diag(a[0]).numpy(), np.diag(x[0]))
    np.testing.assert_allclose(torch.stack([a, a], dim=1).numpy(), np.stack([x, x], axis=1))
    np.testing.assert_allclose(torch.cat([a, a], dim=1).numpy(), np.concatenate([x, x], 1))


def test_comparison_helpers() -> None:
    a = torch.tensor([1.0, 2.0])
    assert torch.allclose(a, a + 1e-9) and not torch.allclose(a, a + 1e-3)
    assert torch.equal(a, torch.tensor([1.0, 2.0])) and not torch.equal(a, torch.tensor([1.0]))
    assert torch.isclose(a, torch.tensor([1.0, 2.1])).tolist() == [True, False]


def test_floor_division_and_remainder_follow_python() -> None:
    x = torch.arange(-5, 6)
    np.testing.assert_array_equal((x % 3).numpy(), np.arange(-5, 6) % 3)
    np.testing.assert_array_equal((x // 3).numpy(), np.arange(-5, 6) // 3)
    assert (x % 3).dtype == torch.int64 and (x // 2).dtype == torch.int64
    assert (7 % torch.tensor([3, -3])).tolist() == [1, -2] and (7 // torch.tensor([2])).item() == 3
    assert (torch.tensor([5.5, -1.25]) % 2.0).tolist() == [1.5, 0.75]
    assert torch.tensor([1.0, 2.0]).remainder(0.75).tolist() == [0.25, 0.5]
    # d(x % y)/dx = 1, d(x % y)/dy = -floor(x / y) (away from the jumps)
    assert_gradients_match(lambda a, b: a % b, np.array([1.0, 2.3, -0.4]),
                           np.array([0.7, 0.9, 0.3]))


# ----------------------------------------------------------------------------- methods


def test_size_numel_dim_view() -> None:
    x = torch.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3
    assert x.view(6, 4).shape == (6, 4) and x.view(-1).shape == (24,)
    assert x.view(2, -1).shape == (2, 12)
    with pytest.raises(IndexError, match=r"size: dim 3 is out of range .* \(2, 3, 4\)"):
        x.size(3)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape .* \(2, 3, 4\) .* \(5, -1\)"):
        x.view(5, -1)


def test_casts_and_clone() -> None:
    x = torch.tensor([1.7, -2.2], requires_grad=True)
    assert x.double().dtype == torch.float64 and x.float().dtype == torch.float32
    assert x.long().tolist() == [1, -2] and x.int().dtype == torch.int32
    assert x.bool().dtype == torch.bool and x.to(dtype=torch.float64).dtype == torch.float64
    assert x.to("cpu") is x and x.to(torch.zeros(1, dtype=torch.int64)).dtype == torch.int64
    (x.double() * 3).sum().backward()  # the cast is in the graph
    assert x.grad is not None and x.grad.dtype == torch.float32
    assert x.grad.tolist() == [3.0, 3.0]
    c = x.clone()
    assert c.requires_grad and not c.is_leaf
    with torch.no_grad():
        c += 1
    assert x[0].item() == pytest.approx(1.7)


@given(x=float_arrays(shape=shapes(min_dims=1, max_dims=3)))
def test_clamp_values_and_gradient(x: np.ndarray) -> None:
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(t.clamp(-1.0, 0.5).numpy(), np.clip(x, -1.0, 0.5))
    np.testing.assert_array_equal(t.clamp(min=0.0).numpy(), np.maximum(x, 0.0))
    np.testing.assert_array_equal(t.clamp(max=0.0).numpy(), np.minimum(x, 0.0))
    leaf = torch.tensor(x, requires_grad=True)
    leaf.clamp(-1.0, 0.5).sum().backward()
    assert leaf.grad is not None
    np.testing.assert_array_equal(leaf.grad.numpy(), ((x >= -1.0) & (x <= 0.5)).astype(float))


@given(x=float_arrays(shape=(3, 4)), data=st.data())
def test_gather_matches_take_along_axis(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.sampled_from([0, 1, -1]))
    shape = (2, 4) if dim == 0 else (3, 5)
    index = np.asarray(data.draw(st.lists(st.integers(0, x.shape[dim] - 1),
                                          min_size=int(np.prod(shape)),
                                          max_size=int(np.prod(shape))))).reshape(shape)
    got = torch.from_numpy(x).gather(dim, torch.from_numpy(index))
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(x, index, axis=dim))
    # repeated indices add their gradients
    assert_gradients_match(lambda t: t.gather(dim, torch.from_numpy(index)), x)


def test_masked_fill() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    mask = torch.tensor([[True, False], [False, True]])
    y = x.masked_fill(mask, -1.0)
    assert y.tolist() == [[-1.0, 2.0], [3.0, -1.0]]
    (y * torch.tensor([[5.0, 6.0], [7.0, 8.0]])).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [[0.0, 6.0], [7.0, 0.0]]
    with pytest.raises(TypeError, match="masked_fill: mask must be bool, got int64"):
        x.masked_fill(torch.tensor([[1, 0], [0, 1]]), 0.0)


@given(x=float_arrays(shape=shapes(min_dims=2, max_dims=3)), data=st.data())
def test_max_min_with_dim_return_values_and_indices(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    keepdim = data.draw(st.booleans())
    t = torch.from_numpy(x)
    for method, ref, arg in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
        values, indices = getattr(t, method)(dim, keepdim)
        by_keyword = getattr(t, method)(dim=dim, keepdim=keepdim)
        assert torch.equal(by_keyword.values, values) and torch.equal(by_keyword.indices, indices)
        np.testing.assert_array_equal(values.numpy(), ref(x, axis=dim, keepdims=keepdim))
        np.testing.assert_array_equal(indices.numpy(), arg(x, axis=dim, keepdims=keepdim))
        assert indices.dtype == torch.int64
        # numpy's axis= gives the values alone, as amax/amin do
        np.testing.assert_array_equal(getattr(t, method)(axis=dim).numpy(), ref(x, axis=dim))
    np.testing.assert_array_equal(t.amax(dim=(0, 1)).numpy(), x.max(axis=(0, 1)))
    np.testing.assert_array_equal(t.amin(0).numpy(), x.min(axis=0))
    np.testing.assert_array_equal(t.argmax(dim, keepdim).numpy(),
                                  np.argmax(x, axis=dim, keepdims=keepdim))
    assert t.max().item() == x.max() and t.argmin().item() == np.argmin(x)


def test_max_with_dim_is_differentiable_through_values() -> None:
    x = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    (values * torch.tensor([10.0, 20.0])).sum().backward()
    assert indices.tolist() == [1, 0] and not indices.requires_grad
    assert x.grad is not None and x.grad.tolist() == [[0, 10, 0], [20, 0, 0]]


def test_topk_and_sort() -> None:
    x = torch.tensor([[3.0, 1.0, 4.0, 1.5], [9.0, 2.0, 6.0, 5.0]])
    values, indices = x.topk(2)
    assert values.tolist() == [[4.0, 3.0], [9.0, 6.0]] and indices.tolist() == [[2, 0], [0, 2]]
    assert x.topk(1, dim=0, largest=False).indices.tolist() == [[0, 0, 0, 0]]
    assert torch.topk(x, 2).values.tolist() == values.tolist()
    assert x.sort(dim=1).values[0].tolist() == [1.0, 1.5, 3.0, 4.0]
    with pytest.raises(ValueError, match=r"topk: k=5 is out of range for dim -1"):
        x.topk(5)


@given(x=float_arrays(shape=shapes(min_dims=1, max_dims=3, min_side=2)), data=st.data())
def test_var_and_std_are_unbiased_by_default(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    t = torch.from_numpy(x)
    np.testing.assert_allclose(t.var().item(), x.var(ddof=1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.var(dim).numpy(), x.var(axis=dim, ddof=1), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(t.std(dim, keepdim=True).numpy(),
                               x.std(axis=dim, ddof=1, keepdims=True), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.var(dim, unbiased=False).numpy(), x.var(axis=dim),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.std(dim=dim, correction=0).numpy(), x.std(axis=dim),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(torch.std(t).item(), x.std(ddof=1), rtol=1e-10, atol=1e-12)


def test_var_std_gradients_and_degenerate_cases() -> None:
    rng = np.random.default_rng(0)
    assert_gradients_match(lambda t: t.std(1), rng.standard_normal((3, 4)))
    assert_gradients_match(lambda t: t.var(0, correction=0), rng.standard_normal((3, 4)),
                           second_order=True)
    constant = torch.ones(4, dtype=torch.float64, requires_grad=True)
    constant.std().backward()  # zero spread: gradient 0, as PyTorch (not 0/0)
    assert constant.grad is not None and constant.grad.tolist() == [0.0] * 4
    with pytest.warns(RuntimeWarning, match="var: 1 values with correction=1"):
        assert np.isnan(torch.tensor([2.0]).var().item())


def test_norm() -> None:
    x = torch.tensor([[3.0, -4.0], [0.0, 1.0]])
    assert x[0].norm().item() == 5.0 and x.norm(dim=1).tolist() == [5.0, 1.0]
    assert x.norm(p=1).item() == 8.0 and x.norm(float("inf")).item() == 4.0
    assert x.norm(3, dim=1).tolist() == pytest.approx([(27 + 64) ** (1 / 3), 1.0])
    assert_gradients_match(lambda t: t.norm(dim=0), np.array([[3.0, -1.0], [4.0, 2.0]]))
    zero = torch.zeros(3, requires_grad=True)
    zero.norm().backward()  # the subgradient 0 at the origin, as PyTorch (not nan)
    assert zero.grad is not None and zero.grad.tolist() == [0.0, 0.0, 0.0]


def test_shape_methods() -> None:
    x = torch.arange(24).view(2, 3, 4)
    assert x.flatten(1).shape == (2, 12) and x.flatten().shape == (24,)
    assert x.flatten(0, 1).shape == (6, 4) and torch.flatten(x, 1).shape == (2, 12)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert torch.zeros(1, 3, 1).squeeze().shape == (3,)
    assert torch.zeros(1, 3, 1).squeeze(0).shape == (3, 1)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert x.transpose(0, 2).shape == (4, 3, 2) and x.permute(2, 0, 1).shape == (4, 2, 3)
    np.testing.assert_array_equal(x.repeat(2, 1, 3).numpy(), np.tile(x.numpy(), (2, 1, 3)))
    assert [c.shape for c in torch.arange(10).chunk(3)] == [(4,), (4,), (2,)]
    assert [s.tolist() for s in torch.arange(5).split(2)] == [[0, 1], [2, 3], [4]]
    assert [s.shape for s in x.split([1, 3], dim=2)] == [(2, 3, 1), (2, 3, 3)]
    with pytest.raises(ValueError, match=r"split: sizes \[1, 2\] do not sum to 4"):
        x.split([1, 2], dim=2)


def test_shape_methods_pass_gradients() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3))
    assert_gradients_match(lambda t: t.repeat(2, 2), x)
    assert_gradients_match(lambda t: torch.cat([c * (i + 1.0) for i, c in
                                                enumerate(t.chunk(2, dim=1))], dim=1), x)
    assert_gradients_match(lambda t: t.unsqueeze(1).flatten(0, 1).T.softmax(dim=0), x)
    assert_gradients_match(lambda t: t.amax(dim=1) + t.max(dim=0).values.sum(), x)


def test_conversions() -> None:
    x = torch.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]] and isinstance(x.numpy(), np.ndarray)
    assert x[0, 1].item() == 2.0 and isinstance(torch.tensor([3]).item(), int)
    with pytest.raises(ValueError, match=r"item: only one-element tensors .* \(1, 2\)"):
        x.item()
