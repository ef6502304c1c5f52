"""`tinygrad_edu.compile`: models train to the eager weights, retracing, the trace-time
errors, guards, randomness, the generated source (the op table is in test_compile_ops.py)."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, nn
from tinygrad_edu.compile import TraceError
from tinygrad_edu.models import MLP, FullyConnectedNet, SmallConvNet, TwoLayerNet


def _convnet() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6, 3))


def _convnet_bn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3))


MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], int]] = {
    "two_layer": (lambda: TwoLayerNet(input_dim=12, hidden_dim=10, num_classes=4, reg=0.1,
                                      seed=0), (8, 12), 4),
    "fully_connected": (lambda: FullyConnectedNet([10, 7], input_dim=12, num_classes=4,
                                                  reg=0.05, seed=1, dtype=np.float64),
                        (8, 12), 4),
    "mlp": (lambda: MLP([12, 16, 4]).double(), (8, 12), 4),
    "mlp_float32_dropout": (lambda: MLP([12, 16, 4], dropout=0.3), (8, 12), 4),
    "small_convnet": (lambda: SmallConvNet(1, 3).double(), (2, 1, 28, 28), 3),
    "convnet": (lambda: _convnet().double(), (4, 1, 6, 6), 3),
    "fully_connected_batchnorm_dropout": (
        lambda: FullyConnectedNet([10, 7], input_dim=12, num_classes=4, dropout=0.2,
                                  normalization="batchnorm", seed=2, dtype=np.float64),
        (8, 12), 4),
    "convnet_batchnorm": (lambda: _convnet_bn().double(), (4, 1, 6, 6), 3),
}


def _train(model: nn.Module, step: Callable[[Tensor, Tensor], Tensor], shape: tuple[int, ...],
           classes: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    dtype = next(iter(model.parameters())).dtype
    tg.manual_seed(3)  # the same dropout masks in both runs
    for _ in range(20):
        x = Tensor(rng.standard_normal(shape).astype(dtype))
        y = Tensor(rng.integers(0, classes, shape[0]))
        opt.zero_grad()
        step(x, y).backward()
        opt.step()
    return [p.numpy().copy() for p in model.parameters()]


def _loss_of(model: nn.Module) -> Callable[[Tensor, Tensor], Tensor]:
    if hasattr(model, "loss"):
        return model.loss  # type: ignore[no-any-return]
    return lambda x, y: F.cross_entropy(model(x), y)


@pytest.mark.parametrize("name", MODELS)
def test_models_train_to_the_eager_weights(name: str) -> None:
    make, shape, classes = MODELS[name]
    eager_model, compiled_model = make(), make()
    compiled_model.load_state_dict(eager_model.state_dict())
    eager = _train(eager_model, _loss_of(eager_model), shape, classes)
    step = tg.compile(_loss_of(compiled_model))
    ours = _train(compiled_model, step, shape, classes)
    assert step.traces == 1
    for a, b in zip(ours, eager):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for (name, a), b in zip(_state(compiled_model), [b for _, b in _state(eager_model)]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


def _state(model: nn.Module) -> list[tuple[str, np.ndarray]]:
    """The running statistics too (a course model keeps them in its bn_params)."""
    if hasattr(model, "state_dict"):
        return [(k, np.asarray(v.numpy() if isinstance(v, Tensor) else v))
                for k, v in model.state_dict().items()]
    return []


def test_a_compiled_module_is_called_with_its_parameters() -> None:
    model = MLP([5, 7, 3]).double()
    compiled = tg.compile(model)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 5)))
    out = compiled(x)
    np.testing.assert_array_equal(out.numpy(), model(x).numpy())
    out.sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
    assert "def forward(input_, linear0_weight, linear0_bias" in compiled.source
    assert compiled.training is model.training  # attributes are the module's


def test_gradients_reach_arguments_that_require_grad_and_their_graph() -> None:
    f = tg.compile(lambda a, b: (a * b).exp().sum())
    a = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    b0 = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    b = b0 * 1.5  # an argument with a graph of its own
    f(a, b).backward()
    ga, gb = a.grad.numpy().copy(), b0.grad.numpy().copy()
    a.grad = b0.grad = None
    ((a * (b0 * 1.5)).exp().sum()).backward()
    np.testing.assert_allclose(ga, a.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb, b0.grad.numpy(), rtol=1e-12)


def test_new_shapes_trace_again_and_many_retraces_warn_once() -> None:
    f = tg.compile(lambda x: (x * x).sum())
    f(Tensor(np.ones(3)))
    f(Tensor(np.ones(3) * 2))
    assert f.traces == 1
    f(Tensor(np.ones(4)))
    assert f.traces == 2
    f(Tensor(np.ones(4, dtype=np.float32)))
    assert f.traces == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(5, 15):
            assert f(Tensor(np.ones(n))).item() == n
    retrace = [w for w in caught if "traced" in str(w.message)]
    assert len(retrace) == 1 and retrace[0].category is UserWarning
    assert retrace[0].filename == __file__  # it points at the call of the compiled function


def test_a_branch_on_a_tensor_value_is_an_error_at_trace_time() -> None:
    def f(x: Tensor) -> Tensor:
        return x * 2 if x.sum() > 0 else -x

    with pytest.raises(TraceError, match="branch on a tensor's value.*torch.jit.trace"):
        tg.compile(f)(Tensor(np.array([1.0, 2.0])))
    for read in (lambda x: x.item(), lambda x: float(x.sum()), lambda x: x.tolist(),
                 lambda x: x.numpy()):
        with pytest.raises(TraceError, match="reads the value of a traced tensor"):
            tg.compile(lambda x, read=read: x * read(x))(Tensor(np.array(1.0)))


def test_a_constant_computed_from_the_inputs_is_an_error_naming_its_op() -> None:
    def f(x: Tensor) -> Tensor:
        return (x * Tensor(x.array > 0)).sum()  # numpy code on the values: baked in

    with pytest.raises(TraceError, match="uses a constant of shape \\(3,\\) that changes"):
        tg.compile(f)(Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True))


def test_buffer_updates_are_replayed_and_relu_in_place_is_recorded() -> None:
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    f = tg.compile(lambda x: ((x * 2.0).relu_() * x).sum())  # relu_ is recorded as relu
    f(x).backward()
    assert np.array_equal(x.grad.numpy(), [4.0, 0.0, 12.0])
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    for _ in range(2):  # training mode: each call updates the running statistics once
        x = Tensor(np.random.default_rng(0).standard_normal((5, 3)))
        eager = copy.deepcopy(model)
        np.testing.assert_array_equal(tg.compile(model)(x).numpy(), eager(x).numpy())
        for (n, a), b in zip(model.named_buffers(), eager.buffers()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    assert int(model[1].num_batches_tracked.item()) == 2
    model.eval()
    x = Tensor(np.random.default_rng(1).standard_normal((5, 3)))
    np.testing.assert_allclose(tg.compile(model)(x).numpy(), model(x).numpy(), rtol=1e-12)


def test_create_graph_through_a_compiled_function_is_refused() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = tg.compile(lambda x: (x * x * x).sum())(x)
    with pytest.raises(RuntimeError, match="create_graph=True.*not supported"):
        y.backward(create_graph=True)


def test_a_second_backward_needs_retain_graph() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = tg.compile(lambda x: (x * x).sum())(x)
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        y.backward()


def test_the_autoencoder_source_shows_both_paths_to_W_and_their_sum() -> None:
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((3, 5)), requires_grad=True)
    x = Tensor(rng.standard_normal(5))

    def loss(W: Tensor, x: Tensor) -> Tensor:
        return 0.5 * ((W.T @ (W @ x) - x) ** 2).sum()

    compiled = tg.compile(loss)
    compiled(W, x).backward()
    src = compiled.source
    assert "def forward(W, x):" in src and "def backward(grad_out" in src
    assert "# dL/dW: sum of 2 paths" in src
    summed = src.split("# dL/dW: sum of 2 paths\n")[1].splitlines()[0]
    assert summed.strip().startswith("d_W") and " + d_W" in summed
    g = W.grad.numpy().copy()
    gvec = W.numpy().T @ (W.numpy() @ x.numpy()) - x.numpy()
    closed = W.numpy() @ np.outer(x.numpy(), gvec) + W.numpy() @ np.outer(gvec, x.numpy())
    np.testing.assert_allclose(g, closed, rtol=1e-12)


def test_guards_raise_the_eager_errors_on_later_calls() -> None:
    model = MLP([4, 3]).double()
    step = tg.compile(lambda x, y: F.cross_entropy(model(x), y))
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)))
    step(x, Tensor(np.array([0, 2, 1])))
    bad = Tensor(np.array([0, 3, 1]))
    with pytest.raises(IndexError) as eager:
        F.cross_entropy(model(x), bad)
    with pytest.raises(IndexError) as compiled:
        step(x, bad)
    assert str(compiled.value) == str(eager.value)
    assert step.traces == 1
    bce = tg.compile(lambda p, y: F.binary_cross_entropy(p.sigmoid() * 2.0, y))
    p, y = Tensor(np.array([-3.0, -2.0])), Tensor(np.array([0.0, 1.0]))
    bce(p, y)
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        bce(Tensor(np.array([3.0, -2.0])), y)


def test_a_guarded_branch_that_changes_runs_eagerly() -> None:
    step = tg.compile(lambda x, y: F.cross_entropy(x, y))
    y = Tensor(np.array([0, 1]))
    step(Tensor(np.array([[0.5, 1.0, 2.0], [1.0, 0.0, -1.0]]), requires_grad=True), y)
    masked = Tensor(np.array([[0.5, 1.0, -np.inf], [1.0, 0.0, -1.0]]), requires_grad=True)
    out = step(masked, y)
    eager = F.cross_entropy(masked, y)
    np.testing.assert_allclose(out.numpy(), eager.numpy(), rtol=1e-12)
    assert np.isfinite(out.numpy())


def test_dropout_draws_a_fresh_mask_on_every_call_and_follows_manual_seed() -> None:
    model = nn.Sequential(nn.Linear(6, 50), nn.Dropout(0.5)).double()
    compiled = tg.compile(model)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 6)))
    first, second = compiled(x).numpy(), compiled(x).numpy()
    assert not np.array_equal(first == 0, second == 0)
    for _ in range(2):  # the tracing call and a later one
        tg.manual_seed(7)
        ours = compiled(x)
        tg.manual_seed(7)
        eager = model(x)
        np.testing.assert_array_equal(ours.numpy(), eager.numpy())
    ours.sum().backward()
    g = model[0].weight.grad.numpy().copy()
    model.zero_grad()
    eager.sum().backward()
    np.testing.assert_allclose(g, model[0].weight.grad.numpy(), rtol=1e-12)
    model.eval()
    np.testing.assert_allclose(compiled(x).numpy(), model(x).numpy(), rtol=1e-12)


def test_a_changed_constant_tensor_makes_it_trace_again() -> None:
    scale = Tensor(np.array([1.0, 2.0]))
    f = tg.compile(lambda x: (x * scale).sum())
    x = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    assert f(x).item() == 3.0
    scale.array = np.array([5.0, 5.0])
    assert f(x).item() == 10.0
    assert f.traces == 2


def test_no_grad_calls_and_integer_outputs() -> None:
    f = tg.compile(lambda x: (x * 3.0).sum())
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with tg.no_grad():
        out = f(x)
    assert out.item() == 9.0 and out.grad_fn is None
    with pytest.raises(TraceError, match="returned a tuple"):
        tg.compile(lambda x: (x, x))(x)


def _source_lines(src: str, fn: str) -> list[str]:
    return src.split(f"def {fn}(")[1].split("\n\n")[0].splitlines()[1:]


def test_the_two_layer_source_is_readable() -> None:
    model = TwoLayerNet(input_dim=6, hidden_dim=5, num_classes=3, reg=0.0, seed=0)
    step = tg.compile(model.loss)
    step(Tensor(np.ones((2, 6))), Tensor(np.array([0, 2])))
    src = step.source
    assert "def forward(X, y, W1, b1, W2, b2):" in src  # a bound method: its module's names
    backward = _source_lines(src, "backward")
    assert any(ln.strip().startswith("d_add, = relu_backward(") for ln in backward), src
    assert "return (None, None, d_W1, d_b1, d_W2, d_b2,)" in src


def test_options_as_torch_compile() -> None:
    f = tg.compile(mode="reduce-overhead")(lambda x: (x * x).sum())
    assert f(Tensor(np.array([2.0]))).item() == 4.0 and f.traces == 1

    def g(x: Tensor) -> Tensor:
        return x.sum()

    assert tg.compile(g, disable=True) is g


def test_labels_that_are_all_equal_still_prove_the_one_hot_is_not_constant() -> None:
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    same = Tensor(np.array([1, 1, 1]))
    with pytest.raises(TraceError, match="changes with the input values"):  # built on arrays
        tg.compile(lambda x, y: (x * Tensor(np.eye(4)[y.array])).sum())(x, same)
    other = Tensor(np.array([0, 3, 2]))
    for loss in (F.cross_entropy, F.nll_loss, F.multi_margin_loss, F.cross_entropy_from_probs):
        step = tg.compile(lambda x, y, loss=loss: loss(x.softmax(1), y))
        step(x, same)  # the one-hot rows come from a primitive: rebuilt for `other`
        np.testing.assert_allclose(step(x, other).numpy(), loss(x.softmax(1), other).numpy(),
                                   rtol=1e-12)
        assert step.traces == 1


@pytest.mark.parametrize("example", ["two_layer", "autoencoder", "mlp", "convnet"])
def test_the_cli_prints_the_generated_code(example: str, capsys: Any) -> None:
    from tinygrad_edu.cli import main

    assert main(["compile", "--example", example]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# tinygrad-edu compile --example {example}:")
    assert "def forward(" in out and "def backward(grad_out" in out
    if example == "autoencoder":
        assert "# dL/dW: sum of 2 paths" in out
    if example == "two_layer":
        assert "def forward(X, y, W1, b1, W2, b2):" in out


def test_an_in_place_change_of_an_input_before_backward_raises_as_eager() -> None:
    W = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    f = tg.compile(lambda x: (x @ W).relu().sum())
    x = Tensor(np.array([[1.0, -1.0]]))
    f(x)  # the tracing call
    loss = f(x)
    opt = tg.optim.SGD([W], lr=0.1)
    W.grad = Tensor(np.ones((2, 2)))
    opt.step()  # changes W in place before loss.backward()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_outputs_without_a_gradient_path_have_no_graph() -> None:
    x = Tensor(np.array([1.0, 3.0, 2.0]), requires_grad=True)
    i = Tensor(np.array([1, 2]))
    f = tg.compile(lambda x, i: (i * 3).sum())  # x wants a gradient, but no path from it
    out = f(x, i)
    assert out.item() == 9 and not out.requires_grad and out.dtype == np.int64
    with pytest.raises(TraceError, match="returns one of its inputs unchanged"):
        tg.compile(lambda x: x)(x)


def test_a_compiled_module_is_a_module_the_solver_and_optimizers_take() -> None:
    from tinygrad_edu.train import Solver

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    data = {"X_train": X, "y_train": y, "X_val": X[:10], "y_val": y[:10]}
    eager, ours = MLP([5, 8, 3]).double(), MLP([5, 8, 3]).double()
    ours.load_state_dict(eager.state_dict())
    compiled = tg.compile(ours)
    assert isinstance(compiled, nn.Module)
    assert list(compiled.state_dict()) == [f"_orig_mod.{k}" for k in ours.state_dict()]
    for model in (eager, compiled):
        Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 0.1},
               num_epochs=2, batch_size=10, verbose=False).train()
    for a, b in zip(compiled.parameters(), eager.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    assert compiled.traces >= 1 and "def backward" in compiled.source
    assert getattr(compiled, "0") is ours[0]  # other attributes are the module's


def test_the_core_tracer_knows_a_module_by_what_it_calls_on_one() -> None:
    from tinygrad_edu.compile import Compiled, is_module
    from tinygrad_edu.nn.compiled import CompiledModule

    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    assert is_module(model) and is_module(model[0]) and is_module(tg.compile(model))
    assert not any(is_module(x) for x in (nn.Linear, lambda x: x, Tensor(np.ones(2)), None,
                                          Compiled(lambda x: x), np.ones(2), F))
    assert type(tg.compile(model)) is CompiledModule
    assert type(tg.compile(lambda x: x.sum())) is Compiled


def test_relu_in_place_never_touches_an_array_someone_else_holds() -> None:
    x = Tensor(np.array([[1.0, -2.0], [-3.0, 4.0]]), requires_grad=True)
    before = x.numpy().copy()
    for fn in (lambda x: x.relu().sum(), lambda x: tg.einsum("ij->ji", x * 1.0).relu().sum(),
               lambda x: ((x * 2.0).relu() + (x * 2.0)).sum()):
        f = tg.compile(fn)
        for _ in range(2):
            out = f(x)
            np.testing.assert_array_equal(x.numpy(), before)
            np.testing.assert_allclose(out.numpy(), fn(x).numpy(), rtol=1e-12)
    src = tg.compile(lambda x: (x * 2.0).relu().sum())
    src(x)
    assert "out=mul)  # ReLU, in place" in src.source


def test_a_rebound_closure_variable_traces_again() -> None:
    x = Tensor(np.ones((2, 3)))
    models = [MLP([3, 2]).double(), MLP([3, 2]).double()]
    model = models[0]
    f = tg.compile(lambda x: model(x).sum())
    first = f(x).item()
    model = models[1]  # noqa: F841  (read by the lambda)
    assert f(x).item() == models[1](x).sum().item() != first
    assert f.traces == 2
    models[1].train(False)
    f(x)
    assert f.traces == 3  # a module's mode is part of the key too
