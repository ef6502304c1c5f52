"""Imports point one way (issue 15): no cycle among the modules of tinygrad_edu/ and viz/, no
arrow against the tier order, no import of the package root from inside the package, and no
import of viz from the core, nn, optim or data.

Every module is read with `ast`, not imported. Imports at module level and inside functions
count alike (a lazy import still ties two modules together), and so do
`importlib.import_module("...")` calls with a literal name; only imports under
`if TYPE_CHECKING:` are left out, since they never run. The tiers are the table below; the
team's structure tool (shared/tools/structure.py, its LAYERS table) measures the same arrows,
and this test is at least as strict as it: it also keeps siblings (course and training, viz
and data) apart and the facade out of reach.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "tinygrad_edu"
TOP_LEVELS = (PACKAGE, "viz")

# The tier of a module: the row with the longest matching dotted prefix. A module at the
# package's top level that no row names (tensor, autograd, the mixins, functional, creation,
# func, linalg, gradcheck, testing, errors, serialization, device, files, the tracer
# compile/ (its entry point, which wraps a Module, is nn.compiled), ...) and ops/ are core.
# The package root itself, tinygrad_edu/__init__.py, is the facade.
TIER_OF = {
    PACKAGE: "core",
    f"{PACKAGE}.nn": "nn",
    f"{PACKAGE}.optim": "nn",
    f"{PACKAGE}.models": "nn",
    f"{PACKAGE}.data": "data",
    f"{PACKAGE}.utils": "data",  # `torch.utils.data` -> tinygrad_edu.utils.data re-exports data/
    f"{PACKAGE}.train": "training",
    f"{PACKAGE}.sweep": "training",
    f"{PACKAGE}.course": "course",
    f"{PACKAGE}.checks": "course",
    f"{PACKAGE}.derive": "course",
    f"{PACKAGE}.cli": "cli",
    f"{PACKAGE}._cli_commands": "cli",
    "viz": "viz",
}

# What the modules of each tier may import besides their own tier: the order is
#   core < nn (nn/, optim/, models) < data < training (train, sweep) < cli
#   core < nn < course (course/, checks, derive/) < cli
# Course and training are siblings and import neither each other nor (course) data: the
# courses work on arrays they are given. viz draws core graphs and builds nn examples; only
# training (the sweep's heatmap) and the cli, which wire training and viz together, import it.
# The facade (`import tinygrad_edu`) gathers the public names of the tiers below it; the
# training tier it loads only on first use (`tinygrad_edu.train`, through its __getattr__), so
# importing the package never imports viz. Nothing in the package or in viz imports it.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "nn": frozenset({"core"}),
    "data": frozenset({"core", "nn"}),
    "training": frozenset({"core", "nn", "data", "viz"}),
    "course": frozenset({"core", "nn"}),
    "viz": frozenset({"core", "nn"}),
    "cli": frozenset({"core", "nn", "data", "training", "course", "viz"}),
    "facade": frozenset({"core", "nn", "data", "course"}),
}
NEVER_IMPORT_VIZ = ("core", "nn", "data")  # optim and models are in the nn tier


@dataclass(frozen=True)
class Arrow:
    """`source` imports `target` at `path:line`."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} -> {self.target}"


# ----------------------------------------------------------------------------- reading


def find_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under tinygrad_edu/ and viz/."""
    modules = {}
    for top in TOP_LEVELS:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "TYPE_CHECKING" or
               isinstance(n, ast.Attribute) and n.attr == "TYPE_CHECKING" for n in ast.walk(test))


def _nodes_that_run(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of `tree` except the bodies of `if TYPE_CHECKING:` (their `else` runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _named(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement (or `importlib.import_module("x")`) loads; for
    `from pkg import name`, `pkg.name` when that is a module, else `pkg`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        stem = _absolute(node, module, is_package)
        return [f"{stem}.{alias.name}" for alias in node.names]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """The module a dotted name lands in: itself, else its longest prefix that is a module
    (`tinygrad_edu.Tensor` -> the package root)."""
    known = set(modules)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def read_arrows(modules: dict[str, Path], root: Path = ROOT) -> list[Arrow]:
    """Every import from one module of tinygrad_edu/viz to another."""
    arrows: dict[Arrow, None] = {}  # in reading order, each once
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        where = path.relative_to(root).as_posix()
        for node in _nodes_that_run(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _named(node, module, is_package):
                target = _resolve(name, modules)
                if target is not None and target != module:
                    arrows[Arrow(module, target, where, getattr(node, "lineno", 0))] = None
    return list(arrows)


def tier_of(module: str) -> str:
    if module == PACKAGE:
        return "facade"
    rows = [p for p in TIER_OF if module == p or module.startswith(p + ".")]
    return TIER_OF[max(rows, key=len)]


# ----------------------------------------------------------------------------- cycles


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of two or more modules that import each other, directly or around a loop
    (Tarjan's algorithm with an explicit stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    groups.append(_pop_group(stack, on_stack, node))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return [sorted(g) for g in groups if len(g) > 1]


def _pop_group(stack: list[str], on_stack: set[str], root: str) -> list[str]:
    group = []
    while True:
        node = stack.pop()
        on_stack.discard(node)
        group.append(node)
        if node == root:
            return group


def shortest_loop(start: str, arrows: list[Arrow], group: set[str]) -> list[Arrow]:
    """The shortest chain of imports from `start` back to itself inside `group`."""
    out: dict[str, list[Arrow]] = {}
    for a in arrows:
        if a.source in group and a.target in group:
            out.setdefault(a.source, []).append(a)
    came_by: dict[str, Arrow] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for a in out.get(node, []):
            if a.target == start:
                chain = [a]
                while chain[0].source != start:
                    chain.insert(0, came_by[chain[0].source])
                return chain
            if a.target not in came_by:
                came_by[a.target] = a
                queue.append(a.target)
    return []


# ----------------------------------------------------------------------------- the checks

MODULES = find_modules()
ARROWS = read_arrows(MODULES)


def _fail_if_any(title: str, lines: list[str]) -> None:
    if lines:
        pytest.fail(f"{title} ({len(lines)}):\n  " + "\n  ".join(lines), pytrace=False)


def test_no_import_cycle() -> None:
    # A cycle through several tiers swallows any smaller one; the cycles inside each tier
    # are listed too, so that one tier's fix does not wait for another's.
    graphs = [ARROWS] + [[a for a in ARROWS if tier_of(a.source) == tier_of(a.target) == tier]
                         for tier in MAY_IMPORT]
    groups: list[list[str]] = []
    for arrows in graphs:
        graph: dict[str, set[str]] = {}
        for a in arrows:
            graph.setdefault(a.source, set()).add(a.target)
        groups += [g for g in strongly_connected(graph) if g not in groups]
    lines = []
    for group in groups:
        loop = shortest_loop(group[0], ARROWS, set(group))
        lines.append(f"{len(group)} modules ({', '.join(sorted({tier_of(m) for m in group}))}): "
                     f"{', '.join(group)}\n    e.g. " + "\n         ".join(str(a) for a in loop))
    _fail_if_any("import cycles", lines)


def test_imports_follow_the_tier_order() -> None:
    against = [f"{a}  ({tier_of(a.source)} may not import {tier_of(a.target)})"
               for a in ARROWS if tier_of(a.target) != tier_of(a.source)
               and tier_of(a.target) not in MAY_IMPORT[tier_of(a.source)]]
    _fail_if_any("imports against the tier order", against)


def test_nothing_inside_the_package_imports_the_package_root() -> None:
    # `from tinygrad_edu import nn` names a submodule and is fine; `from tinygrad_edu import
    # Tensor` or `import tinygrad_edu` runs the facade, which imports every tier.
    to_root = [str(a) for a in ARROWS
               if a.target == PACKAGE and a.source.startswith(PACKAGE + ".")]
    _fail_if_any("imports of the package root from inside it", to_root)


def test_core_nn_optim_and_data_never_import_viz() -> None:
    to_viz = [str(a) for a in ARROWS
              if tier_of(a.target) == "viz" and tier_of(a.source) in NEVER_IMPORT_VIZ]
    _fail_if_any("imports of viz from below it", to_viz)


# ----------------------------------------------------------------------------- the test's own


def test_the_tier_table_is_an_order() -> None:
    """Every tier a module may import is a tier the table knows; what a tier may import, its
    importers may import too (transitive); and no two tiers may import each other."""
    tiers = set(MAY_IMPORT)
    assert set(TIER_OF.values()) | {"facade"} == tiers
    for tier, below in MAY_IMPORT.items():
        assert below <= tiers and tier not in below
        for lower in below:
            assert MAY_IMPORT[lower] <= below, f"{tier} may import {lower} but not all it may"
            assert tier not in MAY_IMPORT[lower], f"{tier} and {lower} may import each other"
    for tier in NEVER_IMPORT_VIZ:
        assert "viz" not in MAY_IMPORT[tier]


def test_tiers_of_known_modules() -> None:
    expected = {"tinygrad_edu.tensor": "core", "tinygrad_edu.ops.movement": "core",
                "tinygrad_edu.nn.functional": "nn", "tinygrad_edu.optim.adam": "nn",
                "tinygrad_edu.models": "nn", "tinygrad_edu.utils.data": "data",
                "tinygrad_edu.train": "training", "tinygrad_edu.derive": "course",
                "tinygrad_edu._cli_commands": "cli", "viz.graph": "viz",
                "tinygrad_edu": "facade"}
    assert {m: tier_of(m) for m in expected} == expected


def test_the_reader_sees_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (tmp_path / "viz").mkdir()
    (tmp_path / "viz" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tinygrad_edu import b\n"
        "else:\n    import viz\n"
        "def f():\n    from .sub import c\n    from tinygrad_edu import Tensor\n"
        "    import importlib\n    importlib.import_module('tinygrad_edu.b')\n")
    (pkg / "b.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import c\n")
    (pkg / "sub" / "c.py").write_text("from ..b import x\n")
    modules = find_modules(tmp_path)
    arrows = {(a.source, a.target, a.line) for a in read_arrows(modules, tmp_path)}
    assert arrows == {
        ("tinygrad_edu.a", "viz", 5), ("tinygrad_edu.a", "tinygrad_edu.sub.c", 7),
        ("tinygrad_edu.a", "tinygrad_edu", 8), ("tinygrad_edu.a", "tinygrad_edu.b", 10),
        ("tinygrad_edu.sub", "tinygrad_edu.sub.c", 1), ("tinygrad_edu.sub.c", "tinygrad_edu.b", 1),
    }


def test_cycles_are_found_with_a_loop_to_show() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    arrows = [Arrow(s, t, "x.py", i) for i, (s, t) in enumerate(
        [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])]
    assert [(a.source, a.target) for a in shortest_loop("b", arrows, {"a", "b", "c"})] == [
        ("b", "c"), ("c", "a"), ("a", "b")]
