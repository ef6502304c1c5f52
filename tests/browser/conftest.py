"""Browser tests: Debian's Chromium driven by Playwright. `make browser` installs both
(apt-get install chromium; pip install playwright, never `playwright install`, which
downloads a browser from outside the reachable registries) and runs this directory.
A missing browser or Playwright is a failure naming the Make target, not a skip."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"

try:
    from playwright.sync_api import sync_playwright
except ImportError as e:  # pragma: no cover - the failure is the point
    raise RuntimeError("tests/browser needs Playwright; run `make browser`, which installs "
                       "it into .venv") from e

if shutil.which(CHROMIUM) is None:  # pragma: no cover
    raise RuntimeError(f"tests/browser needs Chromium at {CHROMIUM}; run `make browser`, which "
                       "installs Debian's chromium package")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-quic"])
        yield b
        b.close()


@pytest.fixture()
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
