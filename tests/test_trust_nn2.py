"""nn, optim and data behaviours kept from PyTorch (second round): circular padding with
negative widths, `inplace=True` activations, 'same' convolutions with non-zero padding
modes, state dicts of shared modules, frozen parameters given to optimizers, and the
DataLoader's batch types. Expected values are derived with numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_edu as torch
from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn import functional as F
from tinygrad_edu.testing import assert_gradients_match


# ----------------------------------------------------------------------------- pad circular
def test_circular_pad_crops_first_then_wraps_the_cropped_tensor() -> None:
    x = torch.arange(6.0).reshape(1, 1, 6)
    np.testing.assert_array_equal(F.pad(x, (-1, 2), mode="circular").numpy()[0, 0],
                                  [1, 2, 3, 4, 5, 1, 2])
    np.testing.assert_array_equal(F.pad(x, (2, -1), mode="circular").numpy()[0, 0],
                                  [3, 4, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(F.pad(x, (-2, -1), mode="circular").numpy()[0, 0],
                                  [2, 3, 4])


def test_circular_pad_crops_every_dim_before_wrapping_any() -> None:
    a = np.arange(12.0).reshape(1, 1, 3, 4)
    out = F.pad(Tensor(a), (-1, 2, 1, -2), mode="circular").numpy()
    cropped = a[..., :1, 1:]                                # rows 0..0, columns 1..3
    expected = np.pad(cropped, ((0, 0), (0, 0), (1, 0), (0, 2)), mode="wrap")
    np.testing.assert_array_equal(out, expected)


def test_circular_pad_with_negative_widths_gradient() -> None:
    assert_gradients_match(lambda t: F.pad(t, (-1, 2, 2, -1), mode="circular"),
                           np.random.default_rng(0).normal(size=(1, 2, 3, 4)))


def test_circular_pad_refuses_to_wrap_more_than_once() -> None:
    x = torch.arange(6.0).reshape(1, 1, 6)
    assert F.pad(x, (6, 0), mode="circular").shape == (1, 1, 12)  # exactly once is fine
    with pytest.raises(ValueError, match=r"pad: circular padding \(7, 0\) would wrap"):
        F.pad(x, (7, 0), mode="circular")
    with pytest.raises(ValueError, match=r"circular padding \(-3, 4\) .* size 3 \(after "
                                         "cropping\\)"):
        F.pad(x, (-3, 4), mode="circular")


# ----------------------------------------------------------------------------- inplace=True
def _np_elu(a: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))


INPLACE: dict[str, tuple[Any, Any]] = {
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2, True),
                   lambda a: np.where(a > 0, a, 0.2 * a)),
    "elu": (lambda x: F.elu(x, 0.5, inplace=True), lambda a: _np_elu(a, 0.5)),
    "silu": (lambda x: F.silu(x, inplace=True), lambda a: a / (1 + np.exp(-a))),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.5, True), lambda a: np.clip(a, -0.5, 0.5)),
    "LeakyReLU": (nn.LeakyReLU(0.2, inplace=True), lambda a: np.where(a > 0, a, 0.2 * a)),
    "ELU": (nn.ELU(0.5, inplace=True), lambda a: _np_elu(a, 0.5)),
    "SiLU": (nn.SiLU(inplace=True), lambda a: a / (1 + np.exp(-a))),
    "Hardtanh": (nn.Hardtanh(-0.5, 0.5, inplace=True), lambda a: np.clip(a, -0.5, 0.5)),
}
_A = np.array([[-2.0, -0.7, -0.1], [0.2, 0.6, 3.0]])


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_activation_overwrites_and_returns_its_input(name: str) -> None:
    f, reference = INPLACE[name]
    x = Tensor(_A.copy())
    array = x.array
    out = f(x)
    assert out is x and x.array is array  # the same tensor, the same memory
    np.testing.assert_allclose(x.numpy(), reference(_A), rtol=1e-12)


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_activation_in_a_graph_has_the_out_of_place_gradient(name: str) -> None:
    """Applied to an intermediate (y = 2x), as in a network: the result replaces y and the
    gradient (and the second derivative) is that of the function."""
    f, _ = INPLACE[name]

    def through_inplace(t: Tensor) -> Tensor:
        y = t * 2.0
        out = f(y)
        assert out is y
        return out

    assert_gradients_match(through_inplace, _A + 0.03, second_order=True)


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_activation_refuses_a_leaf_that_requires_grad(name: str) -> None:
    f, _ = INPLACE[name]
    x = Tensor(_A.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(inplace=True\): a leaf tensor that requires "
                                           "grad"):
        f(x)
    np.testing.assert_array_equal(x.numpy(), _A)  # untouched
    with torch.no_grad():
        f(x)  # allowed without grad mode, as in PyTorch
    assert not np.array_equal(x.numpy(), _A)


def test_inplace_activation_over_a_saved_output_raises_at_backward() -> None:
    """exp saves its output; overwriting it in place must not give a silently wrong
    gradient (PyTorch raises too)."""
    x = Tensor(_A.copy(), requires_grad=True)
    y = F.elu(x.exp(), inplace=True)  # recording it is fine
    with pytest.raises(RuntimeError, match="Exp"):
        y.sum().backward()


def test_dropout_inplace() -> None:
    x = Tensor(_A.copy())
    assert F.dropout(x, 0.3, training=False, inplace=True) is x  # eval: x itself
    np.testing.assert_array_equal(x.numpy(), _A)
    out = F.dropout(x, 0.5, True, True, generator=3)
    expected = F.dropout(Tensor(_A.copy()), 0.5, True, generator=3).numpy()
    assert out is x
    np.testing.assert_array_equal(x.numpy(), expected)
    m = nn.Dropout(0.5, inplace=True, generator=3)
    x = Tensor(_A.copy())
    assert m(x) is x
    np.testing.assert_array_equal(x.numpy(), expected)
    assert repr(m) == "Dropout(p=0.5, inplace=True)"


def test_inplace_modules_repr_as_pytorch() -> None:
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.ELU(0.5, True)) == "ELU(alpha=0.5, inplace=True)"
    assert repr(nn.SiLU(True)) == "SiLU(inplace=True)"
    assert repr(nn.SiLU()) == "SiLU()"
    assert repr(nn.Hardtanh(-0.5, 0.5, True)) == "Hardtanh(min_val=-0.5, max_val=0.5, inplace=True)"


# ----------------------------------------------------------------------------- conv 'same'
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(("kernel", "dilation"), [((3, 4), (1, 1)), ((2, 3), (3, 1)), (3, 2)])
def test_conv2d_same_with_a_padding_mode_pads_the_extra_after(mode: str, kernel: Any,
                                                              dilation: Any) -> None:
    """padding='same' with padding_mode != 'zeros': dilation * (k - 1) padded in all, half
    before and the odd one after (PyTorch's split), in that mode; the output has the input's
    spatial shape."""
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, kernel, padding="same", dilation=dilation,
                     padding_mode=mode).double()
    x = Tensor(np.random.default_rng(1).normal(size=(2, 2, 7, 8)))
    out = conv(x)
    assert out.shape == (2, 3, 7, 8)
    ks = (kernel, kernel) if isinstance(kernel, int) else kernel
    ds = (dilation, dilation) if isinstance(dilation, int) else dilation
    totals = [d * (k - 1) for d, k in zip(ds, ks)]
    widths = [totals[1] // 2, totals[1] - totals[1] // 2, totals[0] // 2,
              totals[0] - totals[0] // 2]
    expected = F.conv2d(F.pad(x, widths, mode=mode), conv.weight, conv.bias,
                        dilation=dilation)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


def test_conv1d_same_circular_wraps_the_extra_after() -> None:
    conv = nn.Conv1d(1, 1, 4, padding="same", padding_mode="circular", bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(np.array([[[1.0, 10.0, 100.0, 1000.0]]]))
    x = np.arange(6.0)
    out = conv(Tensor(x.reshape(1, 1, 6))).numpy().ravel()
    padded = np.concatenate([x[-1:], x, x[:2]])  # 3 in all: 1 before, 2 after
    expected = [padded[i:i + 4] @ [1.0, 10.0, 100.0, 1000.0] for i in range(6)]
    np.testing.assert_allclose(out, expected)


# ----------------------------------------------------------------------------- state_dict
class _Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(3, 3)
        self.again = self.enc
        self.dec = nn.Linear(3, 2)


def test_state_dict_lists_a_shared_submodule_under_every_name() -> None:
    m = _Shared()
    assert list(m.state_dict()) == ["enc.weight", "enc.bias", "again.weight", "again.bias",
                                    "dec.weight", "dec.bias"]
    assert m.state_dict()["again.weight"].array is m.enc.weight.array
    # named_modules / named_parameters still list it once
    assert [n for n, _ in m.named_modules()] == ["", "enc", "dec"]
    assert [n for n, _ in m.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight",
                                                   "dec.bias"]
    # its own state dict loads back, and one without the second name is missing keys
    m.load_state_dict(m.state_dict())
    partial = {k: v for k, v in m.state_dict().items() if not k.startswith("again.")}
    assert m.load_state_dict(partial, strict=False).missing_keys == ["again.weight",
                                                                     "again.bias"]


def test_reassigned_parameter_buffer_and_module_keep_their_place() -> None:
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight  # weight tying
    assert list(b.state_dict()) == ["weight", "bias"]
    assert b.weight is a.weight
    b.register_parameter("weight", nn.Parameter(torch.zeros(2, 2)))
    assert list(b.state_dict()) == ["weight", "bias"]
    bn = nn.BatchNorm1d(2)
    bn.running_mean = torch.ones(2)
    bn.register_buffer("running_mean", torch.zeros(2))
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    seq[0] = nn.Linear(2, 3)
    seq.add_module("0", nn.Linear(2, 4))
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    assert seq[0].out_features == 4
    # A registered parameter takes only a Parameter or None (PyTorch's TypeError); a
    # Parameter may replace a sub-module, and goes to the end of the parameters.
    with pytest.raises(TypeError, match="cannot assign Linear to parameter 'bias'"):
        b.bias = nn.Linear(1, 1)
    m = _Shared()
    m.dec = nn.Parameter(torch.zeros(1))
    assert list(m.state_dict()) == ["dec", "enc.weight", "enc.bias", "again.weight",
                                    "again.bias"]


# ----------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("make", [
    lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: torch.optim.Adam(ps, lr=0.1),
    lambda ps: torch.optim.AdamW(ps, lr=0.1),
    lambda ps: torch.optim.RMSprop(ps, lr=0.1, momentum=0.5),
    lambda ps: torch.optim.Adagrad(ps, lr=0.1),
], ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_optimizers_keep_and_skip_frozen_parameters(make: Any) -> None:
    """Fine-tuning: model.parameters() with a frozen first layer. PyTorch accepts the
    frozen tensors (they stay in the group) and never updates them."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    model[0].requires_grad_(False)
    frozen = [p.numpy().copy() for p in model[0].parameters()]
    trained = [p.numpy().copy() for p in model[2].parameters()]
    opt = make(model.parameters())
    assert len(opt.param_groups[0]["params"]) == 4
    x = Tensor(np.random.default_rng(0).normal(size=(5, 3)))
    for _ in range(3):
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()
    for p, before in zip(model[0].parameters(), frozen):
        assert p.grad is None
        np.testing.assert_array_equal(p.numpy(), before)
    assert all(not np.array_equal(p.numpy(), b) for p, b in zip(model[2].parameters(), trained))
    assert set(opt.state_dict()["state"]) == {2, 3}  # state only for the trained ones


def test_optimizer_still_refuses_non_leaves_and_non_tensors() -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="is not a leaf tensor"):
        torch.optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="is a ndarray, not a Tensor"):
        torch.optim.SGD([np.ones(2)], lr=0.1)
    torch.optim.SGD([Tensor(np.ones(2))], lr=0.1).step()  # accepted, nothing to do


# ----------------------------------------------------------------------------- DataLoader
def test_a_batch_of_a_tuple_dataset_is_a_list() -> None:
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    fast = next(iter(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        Tensor(X), Tensor(y)), batch_size=4)))

    class Pairs(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 6

        def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
            return X[i], int(y[i])

    generic = next(iter(torch.utils.data.DataLoader(Pairs(), batch_size=4)))
    for batch in (fast, generic):
        assert type(batch) is list and len(batch) == 2
        np.testing.assert_array_equal(batch[0].numpy(), X[:4])
        np.testing.assert_array_equal(batch[1].numpy(), y[:4])
        assert batch[1].dtype == torch.int64


def test_default_collate_types_as_pytorch() -> None:
    from collections import namedtuple

    from tinygrad_edu.data import default_collate

    assert default_collate(["a", "b"]) == ["a", "b"]
    ints, words = default_collate([(1, "a"), (2, "b")])
    assert ints.tolist() == [1, 2] and words == ("a", "b")  # a field of strings: a tuple
    lists = default_collate([[1, 2], [3, 4]])
    assert type(lists) is list and [t.tolist() for t in lists] == [[1, 3], [2, 4]]
    Pair = namedtuple("Pair", "a b")
    pair = default_collate([Pair(1.0, np.float32(2)), Pair(3.0, np.float32(4))])
    assert type(pair) is Pair and pair.a.dtype == torch.float64
    assert pair.b.dtype == torch.float32
    with pytest.raises(TypeError, match="dtype <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_batch_size_none_converts_like_pytorch_default_convert() -> None:
    from tinygrad_edu.data import default_convert

    class Samples(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> Any:
            return np.full(2, i, np.float32), i, float(i) / 2, np.int32(i), "s", {"k": (i,)}

    items = list(torch.utils.data.DataLoader(Samples(), batch_size=None))
    assert len(items) == 3
    arr, i, f, n, s, d = items[2]
    assert type(items[2]) is list
    assert isinstance(arr, Tensor) and arr.dtype == torch.float32 and arr.tolist() == [2, 2]
    assert type(i) is int and i == 2 and type(f) is float and f == 1.0
    assert isinstance(n, Tensor) and n.dtype == torch.int32 and n.shape == ()
    assert s == "s" and d == {"k": [2]}
    a = np.arange(3)
    assert default_convert(a).array is a  # shares memory, as torch.as_tensor
    t = Tensor(a)
    assert default_convert(t) is t


# ----------------------------------------------------------------------------- kinks, order 2
def _first_and_second(f: Any, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = Tensor(points.copy(), requires_grad=True)
    (g,) = torch.autograd.grad(f(x).sum(), [x], create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), [x])
    return g.numpy(), h.numpy()


def test_elu_second_derivative_is_zero_at_zero_as_pytorch() -> None:
    """elu'(0) = alpha (the negative branch), elu''(0) = 0 (PyTorch's double backward
    tests x < 0); elsewhere the derivatives are alpha e^x and 1, 0."""
    pts = np.array([-1.0, -0.0, 0.0, 2.0, -np.inf])
    g, h = _first_and_second(lambda t: F.elu(t, 0.5), pts)
    np.testing.assert_allclose(g, [0.5 * np.exp(-1), 0.5, 0.5, 1.0, 0.0])
    np.testing.assert_allclose(h, [0.5 * np.exp(-1), 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(F.elu(Tensor(pts), 0.5).numpy()[[1, 2, 4]], [0, 0, -0.5])


def test_softplus_second_derivative_is_zero_at_the_threshold_as_pytorch() -> None:
    """At beta * x == threshold: the soft branch's value and slope sigmoid(threshold), but
    second derivative 0 (PyTorch's double backward tests < threshold)."""
    sig = 1 / (1 + np.exp(-3.0))
    pts = np.array([1.0, 1.5, 2.0])
    g, h = _first_and_second(lambda t: F.softplus(t, beta=2.0, threshold=3.0), pts)
    np.testing.assert_allclose(g, [1 / (1 + np.exp(-2.0)), sig, 1.0])
    np.testing.assert_allclose(h, [2 * np.exp(-2.0) / (1 + np.exp(-2.0)) ** 2, 0.0, 0.0])
    np.testing.assert_allclose(F.softplus(Tensor(pts), 2.0, 3.0).numpy()[1],
                               np.log1p(np.exp(3.0)) / 2)
