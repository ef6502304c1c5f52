"""The README and docs/*.md, held to what they show.

- Every ```python block runs as written: alone, in a fresh namespace (as `python block.py`
  would run it), inside a temporary working directory so that files it writes land there.
- A top-level comment `# prints:` is followed by comment lines holding what the code above
  it prints (since the previous `# prints:`), one line each; a line `...` stands for any
  number of lines. Whitespace runs compare equal, so columns may be re-aligned.
- Every relative link (and image) points to a file that exists, and an `#anchor` to one of
  its headings.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250  # the front door (issue 15); the long sections live in docs/


PRINTS = "# prints:"
ELLIPSIS = "..."


@dataclass(frozen=True)
class Block:
    page: Path
    number: int  # 1-based among the page's python blocks
    line: int  # line of the opening fence
    code: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:block{self.number}-line{self.line}"


def python_blocks(page: Path) -> list[Block]:
    blocks: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    fence: tuple[str, int] | None = None  # (language, line of the opening fence)
    body: list[str] = []
    for i, line in enumerate(lines, start=1):
        if not line.startswith("```"):
            body.append(line)
        elif fence is None:
            fence, body = (line[3:].strip(), i), []
        else:
            if fence[0] == "python":
                blocks.append(Block(page, len(blocks) + 1, fence[1], "\n".join(body) + "\n"))
            fence = None
    assert fence is None, f"{page.name}: the code fence opened on line {fence[1]} never closes"
    return blocks


def chunks(code: str) -> list[tuple[str, list[str] | None]]:
    """The code cut after each `# prints:` section: (code up to the end of the section,
    expected output lines), and last the code after the last section (None: unchecked)."""
    out: list[tuple[str, list[str] | None]] = []
    lines = code.splitlines()
    start = i = 0
    while i < len(lines):
        if lines[i].rstrip() == PRINTS:
            j = i + 1
            while j < len(lines) and lines[j].startswith("#"):
                j += 1
            expected = [re.sub(r"^# ?", "", line) for line in lines[i + 1:j]]
            out.append(("\n".join(lines[start:j]) + "\n", expected))
            start = i = j
        else:
            i += 1
    out.append(("\n".join(lines[start:]) + "\n", None))
    return out


def _normal(line: str) -> str:
    return " ".join(line.split())


def assert_prints(printed: str, expected: list[str], where: str) -> None:
    pattern = "".join(r"(?:[^\n]*\n)*?" if _normal(e) == ELLIPSIS else re.escape(_normal(e))
                      + r"\n" for e in expected)
    actual = "".join(_normal(line) + "\n" for line in printed.splitlines())
    assert re.fullmatch(pattern, actual), (
        f"{where}: the output shown after `{PRINTS}` is not what the code prints.\n"
        "shown:\n" + "\n".join(expected) + "\nprinted:\n" + printed)


BLOCKS = [block for page in PAGES for block in python_blocks(page)]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_python_block_runs_as_written(block: Block, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if "viz.render(" in block.code and shutil.which("dot") is None:
        pytest.fail("this block draws with Graphviz's `dot`, which is not installed: "
                    "`make test` installs it (`make dot`)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__main__"}
    line = block.line + 1
    for code, expected in chunks(block.code):
        # Line numbers in a traceback are the page's own.
        compiled = compile("\n" * (line - 1) + code, str(block.page), "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compiled, namespace)
        if expected is not None:
            assert_prints(printed.getvalue(), expected, f"{block.id}, the code from line {line}")
        line += code.count("\n")


def test_blocks_are_found() -> None:
    readme = [b for b in BLOCKS if b.page.name == "README.md"]
    assert len(readme) >= 3, "the README's python blocks were not found"
    assert chunks("a = 1\n# prints:\n# 1\n# ...\nb = 2\n") == [
        ("a = 1\n# prints:\n# 1\n# ...\n", ["1", "..."]), ("b = 2\n", None)]
    assert_prints("x\ny\nz\n", ["x", "...", "z"], "here")
    with pytest.raises(AssertionError):
        assert_prints("x\ny\n", ["x"], "here")


# ---------------------------------------------------------------------------- links

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose(page: Path) -> list[tuple[int, str]]:
    """The page's lines outside code fences, with inline code removed."""
    out, in_fence = [], False
    for i, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence:
            out.append((i, re.sub(r"`[^`]*`", "", line)))
    return out


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, a
    repeated heading gets -1, -2, ..."""
    seen: dict[str, int] = {}
    for _, line in prose(page):
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            seen[slug] = seen.get(slug, -1) + 1
            if seen[slug]:
                seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for number, line in prose(page):
        for target in LINK.findall(line):
            if SCHEME.match(target):
                continue
            path_part, _, anchor = target.partition("#")
            path = (page.parent / path_part).resolve() if path_part else page
            name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
            if not path.exists():
                broken.append(f"line {number}: {target} ({name} does not exist)")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"line {number}: {target} (no heading #{anchor} in {name})")
    assert not broken, f"{page.name}: broken links\n" + "\n".join(broken)


def test_readme_is_the_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines; move long sections to docs/ (<= {README_MAX_LINES})")


def test_the_reading_guides_backward_is_the_engines_loop() -> None:
    """docs/reading.md's twenty-line backward runs (its block is tested above); here each
    statement of the algorithm it shows is also a statement of `engine.backpropagate`."""
    import inspect

    from tinygrad_edu import engine

    engine_lines = {line.strip() for line in inspect.getsource(engine.backpropagate).splitlines()}
    guide = (ROOT / "docs" / "reading.md").read_text(encoding="utf-8")
    shared = ["ready = [node for node in seeds if counts.get(node, 0) == 0]",
              "while ready:", "node = ready.pop()",
              "for t, parent, g in zip(node.inputs, node.parents, input_grads):",
              "key = t if parent is None else parent  # a leaf sums under its own name",
              "counts[parent] -= 1", "if counts[parent] == 0:", "ready.append(parent)"]
    for statement in shared:
        assert statement in engine_lines, statement
        assert statement.replace("input_grads", "grads") in guide, statement
