"""Regenerate the README's still of the step-through page: `python scripts/make_steps_still.py`.

docs/img/backprop_steps.png   the autoencoder's page at the backward step where the second
                              path's gradient reaches W and its running sum completes.
Needs Graphviz's `dot`, Debian's Chromium and Playwright (`make browser` installs both).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from viz import steps_examples  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def main(out: Path = ROOT / "docs" / "img" / "backprop_steps.png") -> Path:
    view = steps_examples.view("autoencoder")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_file = view.save(Path(tmp) / "autoencoder.html")
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 560})
        page.goto(page_file.as_uri())
        for _ in range(view.n_steps):  # the last step: W's second path arrives
            page.click("#next")
        page.screenshot(path=str(out))
        browser.close()
    print(out.relative_to(ROOT))
    return out


if __name__ == "__main__":
    main()
