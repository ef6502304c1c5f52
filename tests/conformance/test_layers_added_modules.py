"""The modules added for issue 19 against torch.nn: Embedding, GroupNorm, InstanceNorm1d/2d,
Bilinear, the Upsample family, PixelShuffle, adaptive pooling layers (same weights, copied
through a state_dict whose keys and shapes must equal torch's, and loaded back into torch),
their initial weights, ParameterList / ParameterDict, and channel dropout (statistics,
reproducibility, eval mode, in place). Functional forms: test_layers_added.py."""

from __future__ import annotations

from collections import OrderedDict
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

from .nn_helpers import copy_torch_weights, randn
from .oracle import assert_close, pair


def idx(*shape: int, n: int = 6, seed: int = 0) -> np.ndarray:
    """int64 indices in [0, n) with repeats (so gradient rows accumulate)."""
    return np.random.default_rng(seed).integers(0, n, size=shape).astype(np.int64)


# ----------------------------------------------------------------------------- modules


def _same_state(ours: Any, theirs: tnn.Module) -> None:
    mine = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    other = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(mine.items()) == list(other.items()), f"state_dict {mine} vs torch {other}"
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


MODULES: dict[str, tuple[Callable[[Any], Any], Callable[[], list[np.ndarray]]]] = {
    "Embedding": (lambda nn: nn.Embedding(6, 4), lambda: [idx(3, 2)]),
    "Embedding_padding": (lambda nn: nn.Embedding(6, 4, padding_idx=1),
                          lambda: [np.array([1, 2, 1, 5])]),
    "Embedding_keywords": (lambda nn: nn.Embedding(num_embeddings=6, embedding_dim=3,
                                                   padding_idx=-2, scale_grad_by_freq=True),
                           lambda: [np.array([[4, 4, 0]])]),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), lambda: [randn(3, 4, 5)]),
    "GroupNorm_no_affine": (lambda nn: nn.GroupNorm(3, 6, affine=False),
                            lambda: [randn(2, 6, 2, 2)]),
    "GroupNorm_no_bias": (lambda nn: nn.GroupNorm(1, 2, eps=1e-3, bias=False),
                          lambda: [randn(2, 2, 3)]),
    "InstanceNorm1d": (lambda nn: nn.InstanceNorm1d(3), lambda: [randn(2, 3, 5)]),
    "InstanceNorm1d_unbatched": (lambda nn: nn.InstanceNorm1d(3, affine=True),
                                 lambda: [randn(3, 5)]),
    "InstanceNorm2d_affine": (lambda nn: nn.InstanceNorm2d(2, affine=True),
                              lambda: [randn(2, 2, 3, 4)]),
    "InstanceNorm2d_stats": (lambda nn: nn.InstanceNorm2d(2, track_running_stats=True),
                             lambda: [randn(3, 2, 3, 3)]),
    "InstanceNorm2d_no_bias": (lambda nn: nn.InstanceNorm2d(2, affine=True, bias=False),
                               lambda: [randn(2, 2, 3, 2)]),
    "Bilinear": (lambda nn: nn.Bilinear(3, 2, 4), lambda: [randn(5, 3), randn(5, 2)]),
    "Bilinear_no_bias": (lambda nn: nn.Bilinear(2, 2, 3, bias=False),
                         lambda: [randn(2, 4, 2), randn(2, 4, 2)]),
    "Upsample": (lambda nn: nn.Upsample(scale_factor=2), lambda: [randn(1, 2, 3, 3)]),
    "Upsample_bilinear": (lambda nn: nn.Upsample(size=(5, 4), mode="bilinear"),
                          lambda: [randn(1, 2, 3, 3)]),
    "Upsample_linear_align": (lambda nn: nn.Upsample(None, 1.5, "linear", True),
                              lambda: [randn(2, 2, 4)]),
    "UpsamplingNearest2d": (lambda nn: nn.UpsamplingNearest2d(size=5), lambda: [randn(1, 2, 3, 2)]),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
                             lambda: [randn(1, 2, 3, 2)]),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), lambda: [randn(1, 8, 2, 3)]),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), lambda: [randn(1, 2, 4, 6)]),
    "AdaptiveAvgPool2d": (lambda nn: nn.AdaptiveAvgPool2d((3, None)),
                          lambda: [randn(2, 2, 5, 4)]),
    "AdaptiveMaxPool2d": (lambda nn: nn.AdaptiveMaxPool2d(2), lambda: [randn(2, 2, 5, 4)]),
    "AdaptiveAvgPool3d": (lambda nn: nn.AdaptiveAvgPool3d((2, 1, None)),
                          lambda: [randn(2, 1, 3, 4, 2)]),
    "AdaptiveMaxPool3d": (lambda nn: nn.AdaptiveMaxPool3d(2), lambda: [randn(1, 3, 4, 4)]),
    "Upsample_bicubic": (lambda nn: nn.Upsample(scale_factor=1.5, mode="bicubic",
                                                align_corners=True), lambda: [randn(1, 2, 3, 3)]),
    "AdaptiveAvgPool1d": (lambda nn: nn.AdaptiveAvgPool1d(3), lambda: [randn(2, 2, 7)]),
    "AdaptiveMaxPool1d": (lambda nn: nn.AdaptiveMaxPool1d(output_size=3),
                          lambda: [randn(2, 7)]),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_module_matches_torch(name: str) -> None:
    make, inputs = MODULES[name]
    theirs = make(tnn).double()
    ours = make(gnn)
    _same_state(ours, theirs)
    ours.double()
    with torch.no_grad():  # weights away from their initial ones/zeros
        for p in theirs.parameters():
            p.copy_(torch.tensor(randn(*p.shape, seed=p.numel())))
    copy_torch_weights(ours, theirs)
    arrays = inputs()
    pairs = [pair(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    yo, yt = ours(*[o for o, _ in pairs]), theirs(*[t for _, t in pairs])
    assert_close(yo, yt, what=f"{name} output")
    assert ours.extra_repr() == theirs.extra_repr()
    up = randn(*yt.shape, seed=9)
    (yo * tg.tensor(up)).sum().backward()
    (yt * torch.tensor(up)).sum().backward()
    for (o, t) in pairs:
        if t.requires_grad:
            assert_close(o.grad, t.grad, what=f"{name} input grad")
    mine = dict(ours.named_parameters())
    for k, p in theirs.named_parameters():
        assert_close(mine[k].grad, p.grad, what=f"{name} {k}.grad")
    for k, b in theirs.named_buffers():
        assert_close(dict(ours.named_buffers())[k], b, what=f"{name} buffer {k}")
    fresh = make(tnn).double()  # our state_dict loads into PyTorch's module unchanged
    fresh.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in
                           ours.state_dict().items()})
    for k, v in fresh.state_dict().items():
        assert_close(ours.state_dict()[k], v, what=f"{name} {k} loaded into torch")


def test_instance_norm_running_stats_train_and_eval() -> None:
    kw = {"track_running_stats": True, "affine": True, "momentum": 0.3}
    ours, theirs = gnn.InstanceNorm1d(3, **kw).double(), tnn.InstanceNorm1d(3, **kw).double()
    for step in range(3):
        xo, xt = pair(randn(4, 3, 5, seed=step, scale=1 + step) + step)
        assert_close(ours(xo), theirs(xt), what=f"train step {step}")
        for k in ("running_mean", "running_var", "num_batches_tracked"):
            assert_close(getattr(ours, k), getattr(theirs, k), what=f"step {step} {k}")
    ours.eval()
    theirs.eval()
    xo, xt = pair(randn(2, 3, 5, seed=7), requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt, what="eval with running stats")
    yo.sum().backward()
    yt.sum().backward()
    assert_close(xo.grad, xt.grad, what="eval grad")
    fo = GF.instance_norm(tg.tensor(randn(2, 3, 4)), ours.running_mean, ours.running_var,
                          use_input_stats=False)
    ft = TF.instance_norm(torch.tensor(randn(2, 3, 4)), theirs.running_mean,
                          theirs.running_var, use_input_stats=False)
    assert_close(fo, ft, what="F.instance_norm(use_input_stats=False)")


def test_module_float32_defaults() -> None:
    x = randn(2, 4, 3, 3, dtype=np.float32)
    for make in (lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.InstanceNorm2d(4),
                 lambda nn: nn.Upsample(scale_factor=1.5, mode="bilinear")):
        ours, theirs = make(gnn), make(tnn)
        copy_torch_weights(ours, theirs)
        assert_close(ours(tg.tensor(x)), theirs(torch.tensor(x)))


# ----------------------------------------------------------------------------- init


def test_embedding_init_and_from_pretrained() -> None:
    tg.manual_seed(0)
    e = gnn.Embedding(2000, 50, padding_idx=3)
    w = e.weight.numpy()
    assert w.dtype == np.float32 and w.shape == (2000, 50)
    np.testing.assert_array_equal(w[3], 0.0)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01  # N(0, 1)
    tg.manual_seed(5)
    a = gnn.Embedding(4, 3).weight.numpy().copy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(a, gnn.Embedding(4, 3).weight.numpy())
    table = randn(5, 3)
    for kw in ({}, {"freeze": False}, {"padding_idx": 2}):
        ours = gnn.Embedding.from_pretrained(tg.tensor(table), **kw)
        theirs = tnn.Embedding.from_pretrained(torch.tensor(table), **kw)
        assert ours.weight.requires_grad == theirs.weight.requires_grad
        assert ours.padding_idx == theirs.padding_idx
        i = np.array([2, 0, 4])
        assert_close(ours(tg.tensor(i)), theirs(torch.tensor(i)))
        assert ours.extra_repr() == theirs.extra_repr()
    shared = tg.tensor(table)
    gnn.Embedding.from_pretrained(shared).weight.numpy()[0, 0] = 42.0
    assert shared.numpy()[0, 0] == 42.0  # PyTorch shares the table too


def test_bilinear_init_bounds() -> None:
    tg.manual_seed(0)
    m = gnn.Bilinear(16, 5, 300)
    bound = 1 / np.sqrt(16)
    for p in (m.weight.numpy(), m.bias.numpy()):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound
    assert abs(m.weight.numpy().std() - bound / np.sqrt(3)) < 0.03 * bound


def test_norm_init() -> None:
    g = gnn.GroupNorm(2, 4)
    np.testing.assert_array_equal(g.weight.numpy(), 1.0)
    np.testing.assert_array_equal(g.bias.numpy(), 0.0)
    assert gnn.InstanceNorm2d(3).weight is None  # affine=False by default, as PyTorch
    assert list(gnn.InstanceNorm2d(3).state_dict()) == []


# ----------------------------------------------------------------------------- containers


def test_parameter_list_and_dict_keys_as_torch() -> None:
    def build(nn: Any, torch_mod: Any) -> Any:
        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.params = nn.ParameterList([nn.Parameter(torch_mod.ones(2, 3))
                                                for _ in range(2)])
                self.params.append(torch_mod.zeros(4))  # a plain tensor is wrapped
                self.table = nn.ParameterDict({"right": nn.Parameter(torch_mod.ones(1)),
                                               "left": torch_mod.zeros(2, 2)})
                self.table["middle"] = nn.Parameter(torch_mod.ones(3))
                self.ordered = nn.ParameterDict(OrderedDict(b=nn.Parameter(torch_mod.ones(1)),
                                                            a=nn.Parameter(torch_mod.ones(2))))
        return Net()

    ours, theirs = build(gnn, tg), build(tnn, torch)
    _same_state(ours, theirs)
    assert list(ours.state_dict()) == ["params.0", "params.1", "params.2", "table.left",
                                       "table.right", "table.middle", "ordered.b", "ordered.a"]
    assert isinstance(ours.params[2], gnn.Parameter) and ours.params[2].requires_grad
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert ours.params.extra_repr() == theirs.params.extra_repr().replace("torch.", "")
    assert ours.table.extra_repr() == theirs.table.extra_repr().replace(
        "torch.FloatTensor", "float32")
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def test_parameter_list_behaves_as_a_list() -> None:
    for nn, lib in ((gnn, tg), (tnn, torch)):
        pl = nn.ParameterList([lib.ones(1), lib.ones(2)])
        pl += [lib.ones(3)]
        pl[0] = nn.Parameter(lib.zeros(5))
        assert len(pl) == 3 and [tuple(p.shape) for p in pl] == [(5,), (2,), (3,)]
        assert tuple(pl[-1].shape) == (3,)
        sub = pl[1:]
        assert type(sub) is type(pl) and len(sub) == 2
        assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
        with pytest.raises(IndexError):
            pl[3]
        with pytest.raises(RuntimeError):
            pl()
        pd = nn.ParameterDict()
        pd.update([("x", lib.ones(1)), ("a", lib.ones(2))])
        assert list(pd) == ["x", "a"] and "x" in pd and len(pd) == 2
        assert tuple(pd.pop("x").shape) == (1,) and list(pd.keys()) == ["a"]
        assert pd.get("zz") is None
        pd.setdefault("b", nn.Parameter(lib.ones(4)))
        assert [k for k, _ in pd.named_parameters()] == ["a", "b"]
        assert pd.popitem()[0] == "b"
        pd.clear()
        assert len(pd) == 0 and list(pd.parameters()) == []
        with pytest.raises(AttributeError):  # PyTorch's error (ours is a KeyError too)
            pd["missing"]
        with pytest.raises(TypeError):
            nn.ParameterList().extend(lib.ones(2))


def test_containers_train_with_an_optimizer() -> None:
    pl = gnn.ParameterList([tg.tensor([1.0, 2.0])])
    opt = tg.optim.SGD(pl.parameters(), lr=0.5)
    (pl[0] * pl[0]).sum().backward()
    opt.step()
    np.testing.assert_allclose(pl[0].numpy(), [0.0, 0.0])


# ----------------------------------------------------------------------------- dropout


@pytest.mark.filterwarnings("ignore:dropout2d")  # 3-D input: tested below
@pytest.mark.parametrize("kind,shape", [("Dropout2d", (8, 50, 3, 3)), ("Dropout1d", (8, 50, 4)),
                                        ("Dropout3d", (4, 50, 2, 2, 2)),
                                        ("Dropout1d", (200, 4)), ("Dropout2d", (10, 40, 3))])
def test_channel_dropout_statistics_and_eval(kind: str, shape: tuple[int, ...]) -> None:
    tg.manual_seed(0)
    m = getattr(gnn, kind)(p=0.3)
    x = tg.ones(*shape)
    y = m(x).numpy()
    batched = len(shape) == {"Dropout1d": 3, "Dropout2d": 4, "Dropout3d": 5}[kind] or (
        kind == "Dropout2d")
    channels = y.reshape(shape[:2] + (-1,)) if batched else y.reshape(1, shape[0], -1)
    # whole channels are zero or scaled by 1 / (1 - p)
    assert np.all((channels == 0).all(-1) | np.isclose(channels, 1 / 0.7).all(-1))
    kept = (channels != 0).all(-1).mean()
    n = channels.shape[0] * channels.shape[1]
    assert abs(kept - 0.7) < 4 * np.sqrt(0.21 / n), kept  # four standard errors
    tg.manual_seed(0)
    np.testing.assert_array_equal(getattr(gnn, kind)(p=0.3)(x).numpy(), y)  # reproducible
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), x.numpy())
    assert repr(m) == repr(getattr(tnn, kind)(p=0.3))


def test_dropout2d_warns_as_torch() -> None:
    for F, lib in ((GF, tg), (TF, torch)):
        with pytest.warns(UserWarning, match="3D input|3-D input"):
            F.dropout2d(lib.ones(2, 3, 4))
        with pytest.warns(UserWarning, match="2-D input"):
            F.dropout2d(lib.ones(2, 3))


def test_channel_dropout_gradient_and_inplace() -> None:
    tg.manual_seed(1)
    x = tg.tensor(randn(4, 6, 3, 3), requires_grad=True)
    y = GF.dropout2d(x, 0.5)
    y.sum().backward()
    mask = (y.numpy() != 0).astype(float)
    np.testing.assert_allclose(x.grad.numpy(), mask * 2.0)
    z = tg.tensor(np.ones((2, 3, 2, 2)))
    out = GF.dropout2d(z, p=1.0, training=True, inplace=True)
    assert out is z and np.all(z.numpy() == 0)
    for F, lib in ((GF, tg), (TF, torch)):  # unbatched input is changed in place too
        u = lib.ones(3, 4)
        assert F.dropout1d(u, 1.0, inplace=True) is u and not u.numpy().any()
    tg.manual_seed(3)  # an unbatched input draws the mask of a batch of one
    a = GF.dropout1d(tg.ones(8, 2), 0.5).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, GF.dropout1d(tg.ones(1, 8, 2), 0.5).numpy()[0])
    x1 = tg.tensor(randn(5, 4), requires_grad=True)
    tg.manual_seed(4)
    with pytest.warns(UserWarning, match="dropout3d: received a 2-D input"):  # as PyTorch
        y1 = GF.dropout3d(x1 * 1.0, 0.5, inplace=True)  # in place inside a graph
    y1.sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), (y1.numpy() != 0) * 2.0)
