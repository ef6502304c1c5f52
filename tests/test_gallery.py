"""Every script of the derivation gallery (examples/derivations) runs, exits 0, prints its
checks and the mistakes it catches, and draws its graph."""

import subprocess
import sys
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parent.parent / "examples" / "derivations"

# script -> lines its output must contain (besides the common ones)
EXPECTED = {
    "autoencoder": ["check passed: dL/dW = W x g^T + W g x^T",
                    "yes: the two contributions sum to dL/dW", "missing path",
                    "mistake caught: only W g x^T"],
    "softmax_two_logits": ["check passed: dL/ds1 = p1 - 1, dL/ds2 = p2", "sign flip",
                           "mistake caught"],
    "sigmoid_tanh": ["check passed: sigmoid' = s (1 - s)", "check passed: tanh' = 1 - tanh^2",
                     "check passed: sigmoid'' = s (1 - s)(1 - 2 s)",
                     "mistake caught: tanh' = 1 / (1 + e^{2x})"],
    "softmax_jacobian": ["check passed: J = diag(s) - s s^T",
                         "the diagonal (i = j) entries match",
                         "mistake caught: J_ij = s_i (delta_ij - s_i)"],
    "cross_entropy": ["check passed: dL/dy_hat = -y / (m y_hat)",
                      "check passed: dL/dz = (p - y) / m", "autograd = 1/4 x claimed",
                      "mistake caught"],
    "swish_network": ["check passed: the four gradients", "reaches z1 through Sigmoid",
                      "mistake caught: swish' = sigmoid(z)"],
    "fully_connected": ["check passed: (D, M) layout", "check passed: (out, in) layout",
                        "check passed: affine_backward", "transpose: claimed.T matches",
                        "mistake caught: db = dout (no sum over the batch)"],
    "convolution": ["check passed: conv2d gradients", "check passed: max-pool routing",
                    "mistake caught: dX without the flip",
                    "mistake caught: max pool spread like average pool"],
    "batchnorm": ["check passed: batch norm backward", "holding mu and var constant",
                  "mistake caught"],
    "matrix_calculus": ["check passed: J[i,j,k,l] = -(A^-1)[i,k] (A^-1)[l,j]",
                        "check passed: dL/dA = -A^-T G A^-T",
                        "check passed: d log|det A| = A^-T", "mistake caught: A^-1 for A^-T"],
    "l2_regularization": ["check passed: reg W", "autograd = 2 x claimed",
                          "mistake caught: the penalty's reg W forgotten"],
}


def test_every_script_is_listed():
    scripts = {p.stem for p in GALLERY.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every script at once (they are mostly waiting on imports and dot), then
    collect (returncode, stdout, stderr, out dir) by name."""
    started = {}
    for name in EXPECTED:
        out = tmp_path_factory.mktemp(name)
        proc = subprocess.Popen([sys.executable, str(GALLERY / f"{name}.py"), "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=GALLERY.parent.parent)
        started[name] = (proc, out)
    results = {}
    for name, (proc, out) in started.items():
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = (proc.returncode, stdout, stderr, out)
    return results


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_script_runs_and_catches_its_mistakes(runs, name):
    code, stdout, stderr, out = runs[name]
    assert code == 0, f"{name} exited {code}\n{stdout}\n{stderr}"
    assert f"{name}: all checks as expected" in stdout
    assert "UNEXPECTED" not in stdout
    for line in EXPECTED[name]:
        assert line in stdout, f"{name}: missing {line!r} in\n{stdout}"
    graphs = list(out.glob(f"{name}*.svg")) or list(out.glob(f"{name}*.dot"))
    assert graphs, f"{name}: no graph written to {out}"
    assert f"graph: {graphs[0]}" in stdout or any(f"graph: {g}" in stdout for g in graphs)
    if graphs[0].suffix == ".svg":
        assert graphs[0].read_text().lstrip().startswith(("<?xml", "<svg"))
