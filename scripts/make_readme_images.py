"""Regenerate the README's graph pictures: `python scripts/make_readme_images.py`.

docs/img/autoencoder_graph.svg  L = ½‖WᵀWx − x‖² after backward(): the gradient on every
                                edge, W feeding two paths and the Σ where they are summed.
docs/img/convnet_graph.svg      a small convnet with its loss, grouped by module.
docs/img/mlp20_graph.svg        a 20-layer MLP: the repeated Linear -> ReLU folded into one
                                box (×20), the loss as one CrossEntropy box.
Needs Graphviz's `dot`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import viz  # noqa: E402


def main(out_dir: Path = ROOT / "docs" / "img") -> list[Path]:
    written = [
        viz.render(viz.examples.draw("autoencoder", show_data=False),
                   out_dir / "autoencoder_graph.svg"),
        viz.render(viz.examples.draw("convnet", show_data=False, rankdir="TB"),
                   out_dir / "convnet_graph.svg"),
        viz.render(viz.examples.draw("mlp20", show_data=False), out_dir / "mlp20_graph.svg"),
    ]
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return written


if __name__ == "__main__":
    main()
