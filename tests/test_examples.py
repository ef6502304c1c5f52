"""The example scripts run as a user runs them (a subprocess with this interpreter) and
print what they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, timeout=120, cwd=EXAMPLES.parent)


def _matrix_after(title: str, out: str) -> np.ndarray:
    block = out.split(title + ":\n", 1)[1]
    rows = re.findall(r"\[+([^\[\]]+)\]", block.split(":\n", 1)[0])
    return np.array([[float(v) for v in row.split()] for row in rows])


def test_autoencoder_example_agrees_three_ways() -> None:
    result = _run("autoencoder.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "m=3, n=5, seed=0" in out
    errors = dict(re.findall(r"rel_error\((.+?)\) = ([0-9.e+-]+)", out))
    assert set(errors) == {"backward vs closed form", "backward vs numeric",
                           "closed form vs numeric"}
    assert float(errors["backward vs closed form"]) < 1e-12
    assert float(errors["backward vs numeric"]) < 1e-6
    assert "OK: all three agree" in out
    backward = _matrix_after("dL/dW from backward()", out)
    closed = _matrix_after("dL/dW closed form W x g^T + W g x^T", out)
    assert backward.shape == (3, 5)
    np.testing.assert_allclose(backward, closed, atol=2e-6)


def test_autoencoder_example_is_seeded() -> None:
    first, second = _run("autoencoder.py", "--seed", "7"), _run("autoencoder.py", "--seed", "7")
    assert first.returncode == 0 and first.stdout == second.stdout


def test_autoencoder_example_exits_nonzero_on_disagreement() -> None:
    result = _run("autoencoder.py", "--tol", "0")
    assert result.returncode == 1
    assert "MISMATCH" in result.stdout
    bad = _run("autoencoder.py", "--m", "5", "--n", "5")
    assert bad.returncode == 2 and "need 0 < m < n" in bad.stderr
