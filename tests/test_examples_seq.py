"""The sequence-model examples (examples/char_lm.py, examples/tiny_transformer.py) run as a
user runs them, on small settings, and deliver what they promise: the char-LM's loss falls,
its samples are made of the text's characters and are reproducible under a seed; the tiny
transformer learns its task above chance and draws its attention weights. (That the char-LM
is the same model in PyTorch, as benchmarks/bench_char_lm.py assumes, is checked in
tests/conformance/test_examples_char_lm.py: this suite does not import torch.)"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import tinygrad_edu

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TEXT = EXAMPLES / "data" / "harbour.txt"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHAR_LM_TINY = ("--epochs", "3", "--steps", "8", "--hidden", "32", "--seq-len", "16",
                "--batch-size", "16", "--sample-len", "40")


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _samples(out: str) -> list[str]:
    return [ast.literal_eval(s) for s in re.findall(r"^sample: (.+)$", out, re.M)]


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_char_lm_loss_falls_and_samples_use_the_alphabet(model: str, tmp_path: Path) -> None:
    result = _run("char_lm.py", "--model", model, *CHAR_LM_TINY, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    history = json.loads((tmp_path / "history.json").read_text())
    losses = np.array(history["loss_history"])
    assert losses.shape == (24,) and np.isfinite(losses).all()
    # from about log(57) = 4.04 (uniform) clearly down within 24 small steps
    assert 3.6 < losses[:3].mean() < 4.6
    assert losses[-4:].mean() < losses[:4].mean() - 0.5  # seeds 0-5: 0.75-0.83 lower
    assert len(history["val_loss"]) == 3 and history["val_loss"][-1] < history["val_loss"][0]
    epochs = re.findall(r"^epoch (\d) steps (\d+) ", result.stdout, re.M)
    assert epochs == [("1", "8"), ("2", "16"), ("3", "24")]
    samples = _samples(result.stdout)
    alphabet = set(TEXT.read_text(encoding="utf-8"))
    assert len(samples) == 3
    for s in samples:
        assert s.startswith("The ") and len(s) == 4 + 40 and set(s) <= alphabet
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG_MAGIC


def test_char_lm_is_reproducible_under_its_seed(tmp_path: Path) -> None:
    def run(seed: str) -> list[str]:
        r = _run("char_lm.py", "--model", "lstm", *CHAR_LM_TINY, "--epochs", "1", "--seed", seed,
                 "--out", str(tmp_path))
        assert r.returncode == 0, r.stderr
        losses = json.loads((tmp_path / "history.json").read_text())["loss_history"]
        return [*_samples(r.stdout), *map(str, losses)]

    first, again, other = run("3"), run("3"), run("4")
    assert first == again
    assert first != other


def test_char_lm_rejects_bad_arguments() -> None:
    bad = _run("char_lm.py", "--seq-len", "0")
    assert bad.returncode == 2 and "--seq-len must be >= 1" in bad.stderr
    steps = _run("char_lm.py", "--steps", "0")
    assert steps.returncode == 2 and "--steps must be >= 1" in steps.stderr
    empty = _run("char_lm.py", "--prompt", "")
    assert empty.returncode == 2 and "--prompt must not be empty" in empty.stderr
    prompt = _run("char_lm.py", "--prompt", "ü", "--epochs", "1", "--steps", "1")
    assert prompt.returncode == 2 and "not in the text" in prompt.stderr
    heads = _run("char_lm.py", "--model", "transformer", "--hidden", "30", "--steps", "1")
    assert heads.returncode == 2 and "--hidden 30 must be a multiple of --heads 4" in heads.stderr


def test_char_lm_lstm_state_carries_the_context() -> None:
    """Sampling feeds the LSTM one character at a time with its state: the logits must be
    those of the whole prefix at once."""
    char_lm = _load("char_lm")
    tinygrad_edu.manual_seed(0)
    model = char_lm.build_model(tinygrad_edu, "lstm", 57, 16, 8)
    ids = np.random.default_rng(0).integers(0, 57, size=(2, 7))
    whole, _ = model(tinygrad_edu.from_numpy(ids))
    _, state = model(tinygrad_edu.from_numpy(ids[:, :6]))
    last, _ = model(tinygrad_edu.from_numpy(ids[:, 6:]), state)
    np.testing.assert_allclose(last.numpy()[:, 0], whole.numpy()[:, -1], rtol=1e-5, atol=1e-6)


def test_char_lm_transformer_is_causal() -> None:
    """Changing the last character changes no earlier position's logits."""
    char_lm = _load("char_lm")
    tinygrad_edu.manual_seed(0)
    model = char_lm.build_model(tinygrad_edu, "transformer", 57, 16, 8)
    ids = np.random.default_rng(1).integers(0, 57, size=(1, 8))
    changed = ids.copy()
    changed[0, -1] = (changed[0, -1] + 1) % 57
    a = model(tinygrad_edu.from_numpy(ids))[0].numpy()
    b = model(tinygrad_edu.from_numpy(changed))[0].numpy()
    np.testing.assert_allclose(a[0, :-1], b[0, :-1], rtol=1e-5, atol=1e-6)
    assert np.abs(a[0, -1] - b[0, -1]).max() > 1e-4


def test_tiny_transformer_learns_and_draws_attention(tmp_path: Path) -> None:
    result = _run("tiny_transformer.py", "--length", "4", "--steps", "60", "--d-model", "32",
                  "--test-size", "500", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    found = re.search(r"token accuracy ([0-9.]+)%, sequence accuracy ([0-9.]+)%", result.stdout)
    assert found is not None, result.stdout
    assert float(found.group(1)) > 90.0  # chance is 10%; seeds 0-4 reach 100%
    png = tmp_path / "attention.png"
    assert png.read_bytes()[:8] == PNG_MAGIC
    from matplotlib.image import imread

    image = imread(png)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_tiny_transformer_targets_and_attention_weights() -> None:
    tiny = _load("tiny_transformer")
    rng = np.random.default_rng(0)
    x, y = tiny.make_batch("reverse", 5, 6, rng)
    np.testing.assert_array_equal(y, x[:, ::-1])
    x, y = tiny.make_batch("sort", 5, 6, rng)
    np.testing.assert_array_equal(y, np.sort(x, axis=1))
    tinygrad_edu.manual_seed(0)
    model = tiny.TinyTransformer(6, 16, 2, 2)
    weights = model.attention(tinygrad_edu.from_numpy(x[:1]))
    assert [w.shape for w in weights] == [(1, 2, 6, 6), (1, 2, 6, 6)]
    for w in weights:
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
        assert (w >= 0).all()


def test_tiny_transformer_rejects_bad_arguments() -> None:
    bad = _run("tiny_transformer.py", "--d-model", "30", "--heads", "4")
    assert bad.returncode == 2 and "multiple of --heads" in bad.stderr
    few = _run("tiny_transformer.py", "--steps", "5")
    assert few.returncode == 2 and "--steps must be >= 10" in few.stderr


def test_the_text_is_small_and_regenerates_from_its_grammar() -> None:
    assert 30_000 < TEXT.stat().st_size < 200_000
    result = subprocess.run([sys.executable, str(EXAMPLES / "data" / "make_harbour.py"),
                             "--check"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0 and "up to date" in result.stdout
