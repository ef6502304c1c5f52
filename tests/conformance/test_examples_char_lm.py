"""examples/char_lm.py's models built with PyTorch (`build_model(torch, ...)`, as
benchmarks/bench_char_lm.py does) are the same models as with tinygrad_edu: the same
parameter names and shapes, and with PyTorch's weights loaded the same logits (so the
benchmark compares like with like)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

import tinygrad_edu

CHAR_LM = Path(__file__).resolve().parents[2] / "examples" / "char_lm.py"


def _char_lm() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_example_char_lm", CHAR_LM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_char_lm_is_the_same_model_in_pytorch(model: str) -> None:
    char_lm = _char_lm()
    torch.manual_seed(0)
    theirs = char_lm.build_model(torch, model, 57, 32, 16)
    ours = char_lm.build_model(tinygrad_edu, model, 57, 32, 16)
    state = theirs.state_dict()
    assert [(n, tuple(p.shape)) for n, p in ours.state_dict().items()] == \
        [(n, tuple(p.shape)) for n, p in state.items()]
    ours.load_state_dict({n: tinygrad_edu.tensor(p.numpy()) for n, p in state.items()})
    ids = np.random.default_rng(2).integers(0, 57, size=(3, 16))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(ids))[0].numpy()
    np.testing.assert_allclose(ours(tinygrad_edu.from_numpy(ids))[0].numpy(), expected,
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_char_lm_trains_alike_in_both_libraries(model: str) -> None:
    """Five Adam steps on the same batches from the same weights: the same losses."""
    char_lm = _char_lm()
    corpus = char_lm.Corpus()
    torch.manual_seed(0)
    theirs = char_lm.build_model(torch, model, len(corpus.alphabet), 32, 16)
    ours = char_lm.build_model(tinygrad_edu, model, len(corpus.alphabet), 32, 16)
    ours.load_state_dict({n: tinygrad_edu.tensor(p.detach().numpy().copy())
                          for n, p in theirs.state_dict().items()})
    losses = []
    for lib, m in ((torch, theirs), (tinygrad_edu, ours)):
        opt = lib.optim.Adam(m.parameters(), lr=char_lm.DEFAULT_LR[model])
        rng = np.random.default_rng(5)
        losses.append([char_lm.train_step(lib, m, opt, *char_lm.batch(corpus.train, 8, 16, rng))
                       for _ in range(5)])
    np.testing.assert_allclose(losses[1], losses[0], rtol=2e-4)
    assert losses[0][-1] < losses[0][0]
