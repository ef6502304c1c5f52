"""Value-dependent branches and value-derived arrays inside the library's composites, under
`tinygrad_edu.compile`: each function is traced with ordinary values, then called with
values that take the other branch (inf, NaN, zeros, a fully masked attention row, values
on the other side of a threshold). The compiled call must give eager's values and
gradients exactly (NaN equal to NaN), through a guard (`modes.value_check`: that call runs
eagerly), a held array (`ops.values.held`: recomputed per call) or the general masked
form the library takes under compile; what cannot be replayed raises `TraceError` at
trace time. See docs/compile.md, "Guards"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor
from tinygrad_edu.compile import TraceError
from tinygrad_edu.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, unpad_sequence


def _run(fn: Callable[..., Tensor], arrays: Sequence[Any], diff: Sequence[int]
         ) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """fn's value on `arrays` and the gradients of the inputs numbered in `diff` for a
    fixed upstream gradient."""
    leaves = [Tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    out = fn(*leaves)
    upstream = np.linspace(-1.5, 2.0, out.numel()).reshape(out.shape).astype(out.dtype)
    grads = tg.grad(out, [leaves[i] for i in diff], grad_outputs=Tensor(upstream),
                    allow_unused=True)
    return out.numpy(), [None if g is None else g.numpy() for g in grads]


def _same_draws_as_eager(fn: Callable[..., Tensor], x: np.ndarray) -> None:
    """Under the same seeds, compiled calls draw the masks eager draws (values and the
    gradient of x equal), from one trace."""
    compiled = tg.compile(fn)
    for seed in (0, 1, 2):
        tg.manual_seed(seed)
        out, (g,) = _run(compiled, [x], (0,))
        tg.manual_seed(seed)
        out_e, (g_e,) = _run(fn, [x], (0,))
        np.testing.assert_array_equal(out, out_e)
        np.testing.assert_array_equal(g, g_e)
    assert compiled.traces == 1


def _same_as_eager(fn: Callable[..., Tensor], first: Sequence[Any],
                   later: Sequence[Sequence[Any]], diff: Sequence[int] = (0,)) -> None:
    """Trace fn on `first`, then each of `later` compiled equals eager exactly; one trace."""
    compiled = tg.compile(fn)
    with np.errstate(all="ignore"):
        _run(compiled, first, diff)
        for arrays in later:
            out, grads = _run(compiled, arrays, diff)
            out_e, grads_e = _run(fn, arrays, diff)
            np.testing.assert_array_equal(out, out_e, err_msg=f"value for {arrays}")
            assert out.dtype == out_e.dtype
            for g, g_e in zip(grads, grads_e, strict=True):
                assert (g is None) == (g_e is None), f"gradient for {arrays}"
                if g is not None:
                    np.testing.assert_array_equal(g, g_e, err_msg=f"gradient for {arrays}")
    assert compiled.traces == 1


def _a(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


ORDINARY = _a(0.5, -1.25, 2.0, -0.3)


# ----------------------------------------------------------------------------- activations


def test_softplus_inf_is_a_guard() -> None:
    """`Tensor.softplus`: the +inf branch is a guard, the shift max(x, 0) held."""
    _same_as_eager(lambda t: t.softplus(), [ORDINARY],
                   [[_a(np.inf, 1.0, -2.0, 0.5)], [_a(-np.inf, np.nan, 40.0, -40.0)],
                    [_a(3.0, -1.0, 0.25, 7.0)]])


def test_functional_softplus_threshold_and_kink_are_held() -> None:
    """`F.softplus(beta, threshold)`: the linear region and the kink at beta x ==
    threshold are held masks."""
    _same_as_eager(lambda t: F.softplus(t, beta=2.0, threshold=3.0), [ORDINARY],
                   [[_a(1.5, 1.6, -2.0, 0.5)], [_a(np.inf, 10.0, 1.4, np.nan)]])


@pytest.mark.parametrize("name", ["elu", "celu", "selu", "hardtanh", "relu6", "hardswish",
                                  "hardsigmoid", "mish", "logsigmoid"])
def test_piecewise_activation_masks_are_held(name: str) -> None:
    """Their branch masks (x <= 0, x == 0, inside the bounds) and clipped values are
    held: kinks, bounds, NaN and inf on later calls."""
    fn = getattr(F, name)
    _same_as_eager(lambda t: fn(t), [ORDINARY],
                   [[_a(0.0, 1.0, -1.0, 6.0)], [_a(-3.0, 3.0, np.nan, np.inf)],
                    [_a(-np.inf, 7.0, -0.5, 0.0)]])


def test_prelu_kink_is_a_guard() -> None:
    """`F.prelu`: the x == 0 test is a guard (its second-derivative rule at the kink),
    the masks are held."""
    _same_as_eager(lambda t, w: F.prelu(t, w), [ORDINARY, _a(0.25)],
                   [[_a(0.0, 1.0, -1.0, 0.0), _a(0.5)], [_a(-3.0, np.nan, 2.0, -1.0), _a(0.1)]],
                   diff=(0, 1))


# ----------------------------------------------------------------------------- norms


@pytest.mark.parametrize("name", ["norm_half", "norm_2", "norm_3_dim", "std", "std_dim",
                                  "vector_norm", "vector_norm_3"])
def test_zero_safe_roots_and_powers_mask_zeros_on_every_call(name: str) -> None:
    """`_reduce.abs_pow_zero_safe` and `root_zero_safe` (norm, std, linalg.vector_norm):
    under compile the zero mask is held and the masked form always taken, so a later
    call with zeros (or a zero variance) gets gradient 0 there as eager, not NaN."""
    fns: dict[str, Callable[[Tensor], Tensor]] = {
        "norm_half": lambda t: t.norm(p=0.5),
        "norm_2": lambda t: t.norm(),
        "norm_3_dim": lambda t: t.reshape(2, 2).norm(p=3, dim=1),
        "std": lambda t: t.std(),
        "std_dim": lambda t: t.reshape(2, 2).std(dim=1),
        "vector_norm": lambda t: tg.linalg.vector_norm(t.reshape(2, 2), dim=1),
        "vector_norm_3": lambda t: tg.linalg.vector_norm(t, 3.0),
    }
    _same_as_eager(fns[name], [ORDINARY],
                   [[_a(0.0, 1.0, -2.0, 0.5)], [_a(0.0, 0.0, 1.0, 1.0)], [_a(0.0, 0.0, 0.0, 0.0)],
                    [_a(3.0, -1.0, 0.25, 7.0)]])


def test_cosine_similarity_norm_below_eps_is_lifted_on_every_call() -> None:
    """`F.cosine_similarity`: the lift of a norm below eps is held (always added under
    compile; it is 0 where the norm is above eps)."""
    x2 = np.arange(1.0, 7.0).reshape(2, 3)
    _same_as_eager(lambda a, b: F.cosine_similarity(a, b),
                   [np.ones((2, 3)), x2],
                   [[np.full((2, 3), 1e-10), x2], [np.array([[1e-12, 0.0, 0.0], [1.0, 2.0, 3.0]]),
                                                   x2]], diff=(0, 1))


def test_slogdet_sign_and_logdet_term_are_held() -> None:
    """`linalg.slogdet`: the sign is held and log|det| computed by `LogAbsDet` per call;
    `logdet`'s NaN / -inf term is held (always added under compile)."""
    later = [[_a(-2.0, 0.0, 0.0, 3.0)], [_a(0.5, 1.0, 1.0, 0.25)], [_a(0.5, 1.0, -1.0, 0.25)]]
    _same_as_eager(lambda t: tg.linalg.slogdet(t.reshape(2, 2)).logabsdet, [_a(2, 1, 0.5, 3)],
                   later)
    _same_as_eager(lambda t: tg.linalg.slogdet(t.reshape(2, 2)).sign * t.sum(),
                   [_a(2, 1, 0.5, 3)], later)
    _same_as_eager(lambda t: tg.linalg.logdet(t.reshape(2, 2)), [_a(2, 1, 0.5, 3)], later)


# ----------------------------------------------------------------------------- losses


def test_kl_div_zero_target_is_held() -> None:
    p = _a(0.2, 0.3, 0.4, 0.1)
    _same_as_eager(lambda x, t: F.kl_div(x, t, reduction="sum"), [np.log(p), p],
                   [[np.log(p), _a(0.0, 0.5, 0.5, 0.0)]], diff=(0, 1))


def test_poisson_nll_full_stirling_mask_is_held() -> None:
    _same_as_eager(lambda x, t: F.poisson_nll_loss(x, t, full=True), [ORDINARY, _a(2, 3, 4, 5)],
                   [[ORDINARY, _a(0.0, 1.0, 4.0, 0.5)], [ORDINARY, _a(7.0, 8.0, 9.0, 9.0)]],
                   diff=(0, 1))


def test_gaussian_nll_var_below_eps_is_lifted_on_every_call() -> None:
    _same_as_eager(lambda x, t, v: F.gaussian_nll_loss(x, t, v), [ORDINARY, ORDINARY * 2,
                                                                  _a(0.2, 0.7, 0.5, 0.9)],
                   [[ORDINARY, ORDINARY * 2, _a(0.0, 1e-9, 0.5, 1.0)]], diff=(0, 1, 2))


def test_gaussian_nll_negative_var_raises_as_eager() -> None:
    """The negative-var check is a guard: the later call runs eagerly and raises."""
    compiled = tg.compile(lambda x, t, v: F.gaussian_nll_loss(x, t, v))
    compiled(Tensor(ORDINARY), Tensor(ORDINARY), Tensor(_a(0.2, 0.7, 0.5, 0.9)))
    with pytest.raises(ValueError, match=r"var has negative entry/entries \(var shape \(4,\)\)"):
        compiled(Tensor(ORDINARY), Tensor(ORDINARY), Tensor(_a(0.2, -0.7, 0.5, 0.9)))


@pytest.mark.parametrize("name", ["huber", "smooth_l1", "huber_none"])
def test_huber_quadratic_mask_is_held(name: str) -> None:
    """`_huber`: |d| < delta is a held comparison; under compile d is always masked."""
    fn = {"huber": lambda x, y: F.huber_loss(x, y),
          "smooth_l1": lambda x, y: F.smooth_l1_loss(x, y, beta=0.5),
          "huber_none": lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.3)}[name]
    zeros = np.zeros(4)
    _same_as_eager(fn, [ORDINARY * 0.1, zeros],
                   [[_a(5.0, -5.0, 0.2, 0.1), zeros], [_a(np.inf, np.nan, -np.inf, 0.0), zeros],
                    [ORDINARY * 10, zeros]], diff=(0, 1))


def test_margin_ranking_clamp_nan_is_a_guard() -> None:
    """`clamp_min0`: its mask is held, its NaN test a guard."""
    y = _a(1, -1, 1, -1)
    _same_as_eager(lambda a, b, t: F.margin_ranking_loss(a, b, t, reduction="none"),
                   [ORDINARY, ORDINARY[::-1].copy(), y],
                   [[_a(np.nan, 1.0, -3.0, 2.0), ORDINARY, y], [ORDINARY, ORDINARY, -y]],
                   diff=(0, 1))


def test_hinge_and_cosine_embedding_target_masks_are_held() -> None:
    """The +-1 target masks of hinge_embedding_loss and cosine_embedding_loss are held:
    later targets pick other terms."""
    _same_as_eager(lambda x, t: F.hinge_embedding_loss(x, t, reduction="none"),
                   [ORDINARY, _a(1, -1, 1, -1)],
                   [[ORDINARY, _a(-1, -1, 1, 1)], [_a(np.nan, 2.0, 3.0, -4.0), _a(1, 1, 1, -1)]])
    x1 = np.arange(8.0).reshape(2, 4) + 1
    _same_as_eager(lambda a, b, t: F.cosine_embedding_loss(a, b, t, reduction="none"),
                   [x1, np.ones((2, 4)), _a(1, -1)],
                   [[x1, np.ones((2, 4)), _a(-1, 1)], [x1, -x1, _a(-1, -1)]], diff=(0, 1))


# ----------------------------------------------------------------------------- attention


_Q = np.random.default_rng(0).standard_normal((1, 3, 4))


def test_sdpa_fully_masked_row_is_held() -> None:
    """`_safe_softmax`: the dead-row mask is held and the masked form taken under
    compile, so a later call whose float mask kills a whole row gives zeros there (as
    eager), not NaN."""
    inf = -np.inf
    _same_as_eager(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                   [_Q, _Q, _Q, np.zeros((3, 3))],
                   [[_Q, _Q, _Q, np.array([[inf, inf, inf], [0.0, inf, 0.0], [0.0, 0.0, 0.0]])],
                    [_Q, _Q, _Q, np.full((3, 3), inf)]], diff=(0, 1, 2))


def test_sdpa_bool_mask_argument_is_held() -> None:
    """`additive_mask`: a bool mask passed in becomes the additive mask per call."""
    def fn(q: Tensor, k: Tensor, v: Tensor, m: Tensor) -> Tensor:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    _same_as_eager(fn, [_Q, _Q, _Q, np.ones((3, 3), dtype=bool)],
                   [[_Q, _Q, _Q, np.tril(np.ones((3, 3), dtype=bool))],
                    [_Q, _Q, _Q, np.array([[False] * 3, [True, False, True], [True] * 3])]],
                   diff=(0, 1, 2))


def test_multihead_attention_key_padding_mask_argument_is_held() -> None:
    tg.manual_seed(0)
    mha = tg.nn.MultiheadAttention(4, 2, batch_first=True)
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    _same_as_eager(lambda t, m: mha(t, t, t, key_padding_mask=m, need_weights=False)[0],
                   [x, np.zeros((2, 3), dtype=bool)],
                   [[x, np.array([[False, True, True], [False, False, True]])],
                    [x, np.array([[True, True, True], [False, False, False]])]])


def test_sdpa_dropout_draws_a_fresh_mask_per_call() -> None:
    """The attention weights' dropout mask is a primitive (`DropoutMask`): compiled calls
    draw what eager draws under the same seed."""
    def fn(q: Tensor) -> Tensor:
        return F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)

    _same_draws_as_eager(fn, _Q)


# ----------------------------------------------------------------------------- refused


def test_embedding_max_norm_is_refused() -> None:
    """max_norm renorms the weight in place with numpy: compile cannot replay it."""
    weight = Tensor(np.full((3, 2), 0.1), requires_grad=True)
    compiled = tg.compile(lambda w, i: F.embedding(i, w, max_norm=1.0))
    with pytest.raises(TraceError, match=r"embedding\(max_norm=1.0\).*shape \(3, 2\)"):
        compiled(weight, Tensor(np.array([0, 2])))
    layer = tg.nn.Embedding(3, 2, max_norm=1.0)
    with pytest.raises(TraceError, match="max_norm"):
        tg.compile(lambda i: layer(i))(Tensor(np.array([0, 2])))


def test_packing_by_lengths_passed_in_is_refused() -> None:
    """The lengths set the shapes of the packed data: a lengths tensor traced is refused."""
    x = Tensor(np.arange(12.0).reshape(3, 2, 2), requires_grad=True)
    lengths = Tensor(np.array([3, 2]))
    packed = tg.compile(lambda t, n: pad_packed_sequence(pack_padded_sequence(t, n))[0])
    with pytest.raises(TraceError, match="pack_padded_sequence's lengths reads the value"):
        packed(x, lengths)
    unpadded = tg.compile(lambda t, n: unpad_sequence(t, n)[1].sum())
    with pytest.raises(TraceError, match="unpad_sequence's lengths reads the value"):
        unpadded(x, lengths)
    # lengths given as a list are constants: compiled as any shape
    fixed = tg.compile(lambda t: pad_packed_sequence(pack_padded_sequence(t, [3, 2]))[0])
    np.testing.assert_array_equal(fixed(x).numpy(),
                                  pad_packed_sequence(pack_padded_sequence(x, [3, 2]))[0].numpy())


# ----------------------------------------------------------------------------- normalization


def test_batch_norm_eval_reads_the_running_statistics_on_every_call() -> None:
    """Eval-mode batch_norm reads the running statistics through Tensor ops: a later
    change to them (training, `load_state_dict`, `copy_`) is seen by the compiled call."""
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    bn = tg.nn.BatchNorm1d(3).double().eval()
    compiled = tg.compile(lambda t: bn(t))
    np.testing.assert_array_equal(compiled(x).numpy(), bn(x).numpy())
    bn.running_mean.copy_(Tensor(np.array([1.0, 2.0, 3.0])))
    bn.running_var.copy_(Tensor(np.array([4.0, 2.0, 3.0])))
    np.testing.assert_array_equal(compiled(x).numpy(), bn(x).numpy())
    bn.train()
    bn(Tensor(np.random.default_rng(1).standard_normal((4, 3))))  # updates the statistics
    bn.eval()
    out = compiled(x)
    np.testing.assert_array_equal(out.numpy(), bn(x).numpy())
    (g,) = tg.grad(out.sum(), [x])
    (g_e,) = tg.grad(bn(x).sum(), [x])
    np.testing.assert_array_equal(g.numpy(), g_e.numpy())


def test_batch_norm_eval_statistics_passed_in_are_inputs() -> None:
    x = np.random.default_rng(0).standard_normal((4, 3))
    _same_as_eager(lambda t, m, v: F.batch_norm(t, m, v, training=False),
                   [x, np.zeros(3), np.ones(3)],
                   [[x, np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.25, 1e-9])]])


def test_instance_norm_running_statistics_are_read_and_updated_per_call() -> None:
    """InstanceNorm with running statistics: eval reads them per call, training replays
    their update (held) on every call, as eager."""
    xs = [Tensor(np.random.default_rng(i).standard_normal((2, 3, 4))) for i in range(3)]
    ours = tg.nn.InstanceNorm1d(3, track_running_stats=True).double()
    ref = tg.nn.InstanceNorm1d(3, track_running_stats=True).double()
    compiled = tg.compile(lambda t: ours(t))
    for x in xs:
        np.testing.assert_array_equal(compiled(x).numpy(), ref(x).numpy())
        np.testing.assert_array_equal(ours.running_mean.numpy(), ref.running_mean.numpy())
        np.testing.assert_array_equal(ours.running_var.numpy(), ref.running_var.numpy())
    ours.eval()
    ref.eval()
    evaluated = tg.compile(lambda t: ours(t))
    np.testing.assert_array_equal(evaluated(xs[0]).numpy(), ref(xs[0]).numpy())
    for m in (ours, ref):
        m.running_mean.copy_(Tensor(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(evaluated(xs[1]).numpy(), ref(xs[1]).numpy())


# ----------------------------------------------------------------------------- indices


def test_one_hot_codes_are_held_and_the_range_check_a_guard() -> None:
    compiled = tg.compile(lambda x, t: (x * F.one_hot(t, 3)).sum())
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    for labels in ([0, 2], [1, 1], [2, 0]):
        t = Tensor(np.array(labels))
        out = compiled(x, t)
        np.testing.assert_array_equal(out.numpy(), (x * F.one_hot(t, 3)).sum().numpy())
        (g,) = tg.grad(out, [x])
        np.testing.assert_array_equal(g.numpy(), np.eye(3)[labels])
    with pytest.raises(ValueError, match=r"one_hot: labels must be in \[0, 3\), got values "
                                         "from 0 to 3"):
        compiled(x, Tensor(np.array([0, 3])))
    assert compiled.traces == 1
    with pytest.raises(TraceError, match=r"one_hot\(num_classes=-1\) reads the value"):
        tg.compile(lambda x, t: (x * F.one_hot(t)).sum())(x, Tensor(np.array([0, 2])))


def test_median_along_a_dim_holds_its_index() -> None:
    _same_as_eager(lambda t: t.reshape(2, 2).median(dim=1).values, [ORDINARY],
                   [[_a(3.0, -1.0, np.nan, 7.0)], [_a(1.0, 1.0, -2.0, -3.0)]])
    _same_as_eager(lambda t: t.reshape(2, 2).nanmedian(dim=0).values * 2, [ORDINARY],
                   [[_a(3.0, np.nan, np.nan, 7.0)], [_a(1.0, 1.0, -2.0, -3.0)]])


def test_median_over_all_elements_is_refused() -> None:
    """Its gradient is shared among the tied entries, whose number sets a shape."""
    with pytest.raises(TraceError, match=r"median\(\) over all elements reads the value"):
        tg.compile(lambda t: t.median())(Tensor(ORDINARY, requires_grad=True))


def test_adaptive_max_pool_sources_are_held() -> None:
    x = np.random.default_rng(0).standard_normal((1, 2, 5))
    later = [[x[..., ::-1].copy()], [np.where(x > 0, np.nan, x)], [-x]]
    _same_as_eager(lambda t: F.adaptive_max_pool1d(t, 2), [x], later)
    compiled = tg.compile(lambda t: F.adaptive_max_pool1d(t, 3, return_indices=True)[1] * 1.0)
    for values in [x, *[v[0] for v in later]]:
        np.testing.assert_array_equal(
            compiled(Tensor(values)).numpy(),
            F.adaptive_max_pool1d(Tensor(values), 3, return_indices=True)[1].numpy())
    assert compiled.traces == 1


def test_max_pool_indices_are_held() -> None:
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    compiled = tg.compile(lambda t: F.max_pool2d(t, 2, return_indices=True)[1] * 1.0)
    for values in (x, -x, np.ascontiguousarray(x[..., ::-1, :])):
        np.testing.assert_array_equal(
            compiled(Tensor(values)).numpy(),
            F.max_pool2d(Tensor(values), 2, return_indices=True)[1].numpy())
    assert compiled.traces == 1


def test_cdist_scale_is_held() -> None:
    """cdist goes through vector_norm, whose 2-norm scale max |x| is held."""
    y = np.arange(6.0).reshape(3, 2)
    _same_as_eager(lambda a, b: tg.cdist(a, b), [np.ones((2, 2)), y],
                   [[y[:2].copy(), y], [np.zeros((2, 2)), np.zeros((3, 2))]], diff=(0, 1))


@pytest.mark.parametrize("inplace", [False, True])
def test_feature_dropout_draws_a_fresh_mask_per_call(inplace: bool) -> None:
    def fn(t: Tensor) -> Tensor:
        return F.dropout2d(t * 1.0, 0.5, inplace=inplace)

    _same_draws_as_eager(fn, np.random.default_rng(0).standard_normal((3, 4, 2, 2)))


def test_argmax_max_indices_and_logical_reductions_are_held() -> None:
    """argmax/argmin, max(dim)'s indices, integer max/min and any/all are held: used in the
    graph they follow each call's values, and a Python branch on them is refused."""
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]])
    later = [[x[:, ::-1].copy()], [-x], [np.array([[np.nan, 1.0, 2.0], [1.0, 1.0, 1.0]])]]
    _same_as_eager(lambda t: t.gather(1, t.argmax(dim=1, keepdim=True)) * 2.0, [x], later)
    _same_as_eager(lambda t: t.gather(1, t.argmin(1, keepdim=True)), [x], later)
    _same_as_eager(lambda t: t * t.max(dim=0).indices + t.reshape(-1)[t.argmax()], [x], later)
    _same_as_eager(lambda t: t * (t > 0).any(dim=1, keepdim=True) + (t < 1).all(), [x], later)
    _same_as_eager(lambda t: t * (t > 0).int().amax(dim=0) - (t > 0).int().max(dim=1).indices[0],
                   [x], later)
    with pytest.raises(TraceError, match="reads the value of a traced tensor"):
        tg.compile(lambda t: t * 2 if (t > 0).any() else t)(Tensor(x))


def test_floor_divide_and_remainder_hold_the_quotient() -> None:
    y = np.array([1.5, -2.0, 0.75, 3.0])
    _same_as_eager(lambda t, d: t % d + t // d, [ORDINARY, y],
                   [[_a(7.0, -7.0, np.nan, np.inf), y], [ORDINARY, _a(0.0, -0.25, 4.0, -1.0)]],
                   diff=(0, 1))


def test_cross_entropy_traced_with_masked_logits_holds_the_unused_mask() -> None:
    """With a -inf logit at trace time the logits are zeroed where the coefficients are 0;
    that mask follows each call's labels (held)."""
    inf = np.inf
    logits = np.array([[-inf, 0.5, 1.0], [0.2, -inf, 0.1]])
    for reduction in ("mean", "none"):
        _same_as_eager(lambda x, t: F.cross_entropy(x, t, reduction=reduction),  # noqa: B023
                       [logits, np.array([1, 2])],
                       [[logits, np.array([2, 0])], [logits * 2, np.array([1, 0])],
                        [np.zeros((2, 3)), np.array([0, 0])]])


def test_class_weights_changed_in_place_or_passed_in() -> None:
    """A class weight tensor of another dtype than the scores was converted to a numpy
    constant: changed in place later (`copy_`), the compiled loss kept the old weights. It
    is held now: the change makes the next call trace again; where the weights enter the
    graph (multi_margin_loss, probability targets) a weight passed in is read per call;
    as an option of the label coefficients (cross_entropy / nll_loss with labels) a weight
    passed in is refused."""
    x = Tensor(np.array([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]]), requires_grad=True)
    t = Tensor(np.array([0, 2]))
    for loss in ("cross_entropy", "nll_loss", "multi_margin_loss"):
        w = Tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))
        fn = getattr(F, loss)
        compiled = tg.compile(lambda a, b: fn(a, b, weight=w))  # noqa: B023
        compiled(x, t)
        w.copy_(Tensor(np.array([5.0, 1.0, 0.5])))
        np.testing.assert_array_equal(compiled(x, t).numpy(), fn(x, t, weight=w).numpy())
    probs = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    for fn, target in ((F.multi_margin_loss, t.numpy()), (F.cross_entropy, probs)):
        _same_as_eager(lambda a, b, ww: fn(a, b, weight=ww),  # noqa: B023
                       [x.numpy(), target, np.array([1.0, 2.0, 3.0])],
                       [[x.numpy(), target, np.array([5.0, 1.0, 0.5])]])
    with pytest.raises(TraceError, match="cross_entropy's class weight reads the value"):
        tg.compile(lambda a, b, ww: F.cross_entropy(a, b, weight=ww))(
            x, t, Tensor(np.array([1.0, 2.0, 3.0])))


def test_argsort_indices_are_held() -> None:
    later = [[ORDINARY[::-1].copy()], [_a(1.0, np.nan, 1.0, -np.inf)]]
    _same_as_eager(lambda t: t[t.argsort()] * 2.0, [ORDINARY], later)
    _same_as_eager(lambda t: t[t.argsort(descending=True)] * 2.0, [ORDINARY], later)


def test_binary_cross_entropy_clamped_logs_run_per_call() -> None:
    """Fine as is (no change): `BinaryCrossEntropy`'s backward, which branches on p > 0 and
    p < 1 (`_bce.clamped_log`), is not in TRACED_BACKWARDS, so the generated code calls it
    on every call; a later p of exactly 0 or 1 gets eager's gradients."""
    p, y = _a(0.2, 0.7, 0.5, 0.9), _a(1.0, 0.0, 1.0, 0.0)
    _same_as_eager(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), [p, y],
                   [[_a(0.0, 1.0, 1e-50, 1.0 - 1e-17), _a(0.3, 0.1, 1.0, 0.0)]], diff=(0, 1))
