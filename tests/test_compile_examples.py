"""The examples' models, compiled, train to the eager weights (issue 20): the char-LM's LSTM
and transformer (examples/char_lm.py), the tiny transformer (examples/tiny_transformer.py),
the PyTorch-style convnet with BatchNorm2d in training mode and the moons MLP
(examples/pytorch_style/), and the autoencoder's loss (examples/autoencoder.py). Twenty
steps each, small sizes, the same data and random draws in both runs; the parameters and
buffers (running statistics) must agree to 1e-10, and one trace must serve every step."""

from __future__ import annotations

import copy
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, nn

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_compiled_{Path(path).stem}",
                                                  EXAMPLES / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Batch = Callable[[np.random.Generator], tuple[Tensor, Tensor]]


def _tokens(vocab: int, shape: tuple[int, int]) -> Batch:
    return lambda rng: (Tensor(rng.integers(0, vocab, shape)),
                        Tensor(rng.integers(0, vocab, shape)))


def _images(shape: tuple[int, ...], classes: int) -> Batch:
    return lambda rng: (Tensor(rng.standard_normal(shape).astype(np.float32)),
                        Tensor(rng.integers(0, classes, shape[0])))


def _sequence_loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    out = model(x)
    logits = out[0] if isinstance(out, tuple) else out
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def _char_lm(kind: str) -> nn.Module:
    return _load("char_lm.py").build_model(tg, kind, vocab=12, hidden=16, seq_len=6, heads=2)


def _moons() -> nn.Module:
    return _load("pytorch_style/mlp_moons.py").MLP(2, 16, 2)  # (its data: scikit-learn)


CASES: dict[str, tuple[Callable[[], nn.Module], Batch, Callable[..., Tensor]]] = {
    "char_lm_lstm": (lambda: _char_lm("lstm"), _tokens(12, (3, 6)), _sequence_loss),
    "char_lm_transformer": (lambda: _char_lm("transformer"), _tokens(12, (3, 6)),
                            _sequence_loss),
    "tiny_transformer": (lambda: _load("tiny_transformer.py").TinyTransformer(5, 8, 2, 1),
                         _tokens(10, (4, 5)), _sequence_loss),
    "convnet_digits_batchnorm": (lambda: _load("pytorch_style/convnet_digits.py").ConvNet(),
                                 _images((6, 1, 8, 8), 10),
                                 lambda m, x, y: F.cross_entropy(m(x), y)),
    "mlp_moons": (_moons, _images((8, 2), 2), lambda m, x, y: F.cross_entropy(m(x), y)),
}


def _train(model: nn.Module, step: Callable[[Tensor, Tensor], Tensor], batch: Batch
           ) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)
    tg.manual_seed(5)
    for _ in range(20):
        x, y = batch(rng)
        opt.zero_grad()
        step(x, y).backward()
        opt.step()
    return [(k, v.numpy().copy()) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", CASES)
def test_example_models_compiled_train_to_the_eager_weights(name: str) -> None:
    make, batch, loss = CASES[name]
    tg.manual_seed(0)
    eager_model = make()
    compiled_model = copy.deepcopy(eager_model)
    eager = _train(eager_model, lambda x, y: loss(eager_model, x, y), batch)
    step = tg.compile(lambda x, y: loss(compiled_model, x, y))
    ours = _train(compiled_model, step, batch)
    assert step.traces == 1
    for (key, a), (_, b) in zip(ours, eager):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=f"{name}: {key}")


def test_the_autoencoder_loss_compiled_gives_the_closed_form_gradient() -> None:
    example = _load("autoencoder.py")
    rng = np.random.default_rng(1)
    step = tg.compile(example.autoencoder_loss)
    for _ in range(3):
        W, x = rng.standard_normal((3, 5)), rng.standard_normal(5)
        w = Tensor(W, requires_grad=True)
        step(w, Tensor(x)).backward()
        assert w.grad is not None
        np.testing.assert_allclose(w.grad.numpy(), example.closed_form(W, x), rtol=1e-12)
    assert step.traces == 1
