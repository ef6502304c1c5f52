"""examples/pytorch_style: PyTorch scripts that run here with only their imports changed.

Each script is run as a user runs it (a subprocess) and must exit 0 and print its `OK:`
line. A checker reads each script and asserts that it *is* a PyTorch script: its header
comment holds the PyTorch import block, the tinygrad_edu imports are exactly that block
with the module names of issue 8 swapped, and the body names nothing that PyTorch lacks
(every `torch.*`, `nn.*`, `F.*`, ... name is a PyTorch name; no tinygrad_edu-only method
or keyword). PyTorch itself is never imported here.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

import tinygrad_edu as torch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "pytorch_style"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))

#: tinygrad_edu module -> the PyTorch module it stands for (issue 8's list).
MODULE_MAP = {
    "tinygrad_edu": "torch",
    "tinygrad_edu.nn": "torch.nn",
    "tinygrad_edu.nn.functional": "torch.nn.functional",
    "tinygrad_edu.optim": "torch.optim",
    "tinygrad_edu.optim.lr_scheduler": "torch.optim.lr_scheduler",
    "tinygrad_edu.func": "torch.func",
    "tinygrad_edu.autograd": "torch.autograd",
    "tinygrad_edu.data": "torch.utils.data",
}

#: PyTorch names the scripts may use through those modules (each checked once against a
#: real PyTorch install; extend the list, after checking, when a script needs more).
PYTORCH_NAMES = frozenset("""
torch torch.Generator torch.Tensor torch.allclose torch.arange torch.argmax torch.autograd
torch.autograd.Function torch.autograd.grad torch.cat torch.enable_grad torch.equal torch.exp
torch.eye torch.flatten torch.float32 torch.float64 torch.from_numpy torch.full torch.int64
torch.linalg torch.linalg.solve torch.linspace torch.load torch.log torch.long
torch.manual_seed torch.matmul torch.max torch.mean torch.no_grad torch.ones torch.rand
torch.randint torch.randn torch.randperm torch.save torch.set_grad_enabled torch.sigmoid
torch.softmax torch.sqrt torch.stack torch.sum torch.tanh torch.tensor torch.where
torch.zeros torch.zeros_like
torch.func.grad torch.func.grad_and_value torch.func.hessian torch.func.jacfwd
torch.func.jacrev torch.func.jvp torch.func.vjp
torch.nn torch.nn.BatchNorm1d torch.nn.BatchNorm2d torch.nn.Conv2d torch.nn.CrossEntropyLoss
torch.nn.Dropout torch.nn.Flatten torch.nn.Linear torch.nn.MSELoss torch.nn.MaxPool2d
torch.nn.Module torch.nn.ModuleList torch.nn.ReLU torch.nn.Sequential torch.nn.Tanh
torch.nn.functional torch.nn.functional.binary_cross_entropy_with_logits
torch.nn.functional.cross_entropy torch.nn.functional.max_pool2d torch.nn.functional.mse_loss
torch.nn.functional.relu torch.nn.functional.softplus
torch.nn.init torch.nn.init.kaiming_normal_ torch.nn.init.zeros_
torch.nn.utils torch.nn.utils.clip_grad_norm_ torch.nn.utils.clip_grad_value_
torch.optim torch.optim.Adam torch.optim.SGD torch.optim.RMSprop
torch.optim.lr_scheduler.CosineAnnealingLR torch.optim.lr_scheduler.StepLR
torch.utils.data.DataLoader torch.utils.data.TensorDataset
""".split())

#: Methods, attributes and keywords that tinygrad_edu has and PyTorch does not.
TINYGRAD_ONLY = frozenset("""
draw zero_grad_ swish num_parameters set_epoch svm_loss SVMLoss l2_penalty
cross_entropy_from_probs conv2d_nhwc max_pool2d_nhwc value_and_grad hvp jacobian
record_gradients module_scope load_dataset course seed eps_inside_sqrt keepdims axis ddof
""".split())

HEADER_MARK = "# PyTorch imports"


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def _tinygrad_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in tree.body:
        if isinstance(node, ast.Import) and node.names[0].name.startswith("tinygrad_edu"):
            found.append(node)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_edu"):
            found.append(node)
    return found


def _as_torch(node: ast.Import | ast.ImportFrom) -> str:
    """The PyTorch import that a tinygrad_edu import stands for."""
    if isinstance(node, ast.ImportFrom):
        assert node.module in MODULE_MAP, f"unexpected module {node.module}"
        names = ", ".join(a.name if a.asname is None else f"{a.name} as {a.asname}"
                          for a in node.names)
        return f"from {MODULE_MAP[node.module or '']} import {names}"
    (alias,) = node.names
    assert alias.name in MODULE_MAP, f"unexpected module {alias.name}"
    target = MODULE_MAP[alias.name]
    if alias.asname is None or alias.asname == target:
        return f"import {target}"
    return f"import {target} as {alias.asname}"


def _header(source: str) -> list[str]:
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(HEADER_MARK))
    block = []
    for line in lines[start + 1:]:
        if not line.startswith("#   "):
            break
        block.append(line[4:].strip())
    return block


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted PyTorch name it stands for."""
    out: dict[str, str] = {}
    for node in _tinygrad_imports(tree):
        if isinstance(node, ast.ImportFrom):
            for a in node.names:
                out[a.asname or a.name] = f"{MODULE_MAP[node.module or '']}.{a.name}"
        else:
            (a,) = node.names
            out[a.asname or a.name.split(".")[0]] = MODULE_MAP[a.name]
    return out


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None


def test_there_are_the_four_kinds_of_script() -> None:
    assert {"mlp_moons.py", "convnet_digits.py", "custom_derivation.py",
            "optimizer_loop.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs_and_reports_success(script: str) -> None:
    result = _run(script)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    assert "\nOK: " in "\n" + result.stdout, f"{script} printed no OK line:\n{result.stdout}"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_imports_are_the_pytorch_block_renamed(script: str) -> None:
    source = (EXAMPLES / script).read_text()
    header = _header(source)
    translated = [_as_torch(node) for node in _tinygrad_imports(ast.parse(source))]
    assert header, f"{script}: no '{HEADER_MARK}' comment block"
    assert translated == header, (f"{script}: the imports stand for {translated}, the header "
                                  f"says {header}")
    assert "import tinygrad_edu as torch" in source


@pytest.mark.parametrize("script", SCRIPTS)
def test_body_names_nothing_outside_pytorch(script: str) -> None:
    source = (EXAMPLES / script).read_text()
    tree = ast.parse(source)
    aliases = _aliases(tree)
    unknown = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            name = _dotted(node, aliases)
            if name is not None and name not in PYTORCH_NAMES:
                unknown.add(name)
    assert not unknown, f"{script} uses names PyTorch lacks (or not yet vetted): {unknown}"
    specific = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    specific |= {kw.arg for node in ast.walk(tree) if isinstance(node, ast.Call)
                 for kw in node.keywords if kw.arg}
    assert not specific & TINYGRAD_ONLY, f"{script} uses {specific & TINYGRAD_ONLY}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_tinygrad_edu_appears_only_in_imports_and_comments(script: str) -> None:
    source = (EXAMPLES / script).read_text()
    import_lines = {n.lineno for n in _tinygrad_imports(ast.parse(source))}
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    offending = [(tok.start[0], tok.string) for tok in tokens
                 if tok.type in (tokenize.NAME, tokenize.STRING)
                 and "tinygrad" in tok.string and tok.start[0] not in import_lines]
    assert not offending, f"{script}: tinygrad_edu named outside the imports: {offending}"


def test_the_checker_catches_a_tinygrad_only_name() -> None:
    bad = ("import tinygrad_edu as torch\nimport tinygrad_edu.nn.functional as F\n"
           "x = torch.randn(3)\nF.svm_loss(x, x)\nx.draw()\n")
    tree = ast.parse(bad)
    aliases = _aliases(tree)
    names = {_dotted(n, aliases) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert "torch.nn.functional.svm_loss" in names - PYTORCH_NAMES
    assert "draw" in {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & (
        TINYGRAD_ONLY)


def test_the_checker_translates_every_import_form() -> None:
    source = ("import tinygrad_edu as torch\nimport tinygrad_edu.nn as nn\n"
              "from tinygrad_edu.data import DataLoader, TensorDataset\n"
              "from tinygrad_edu import autograd\n"
              "from tinygrad_edu.optim.lr_scheduler import StepLR as Step\n")
    assert [_as_torch(n) for n in _tinygrad_imports(ast.parse(source))] == [
        "import torch", "import torch.nn as nn",
        "from torch.utils.data import DataLoader, TensorDataset", "from torch import autograd",
        "from torch.optim.lr_scheduler import StepLR as Step"]


def test_every_vetted_name_exists_here() -> None:
    """The other direction: what the checker lets a script use, tinygrad_edu provides."""
    import importlib

    reverse = {v: k for k, v in MODULE_MAP.items()}
    missing = []
    for name in sorted(PYTORCH_NAMES):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            if ".".join(parts[:cut]) in reverse:
                break
        obj = importlib.import_module(reverse[".".join(parts[:cut])])
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            missing.append(name)
    assert not missing, f"PyTorch names the scripts may use but tinygrad_edu lacks: {missing}"
    # `torch.nn` after `import tinygrad_edu as torch` is the module the scripts import
    assert torch.nn is importlib.import_module("tinygrad_edu.nn")
