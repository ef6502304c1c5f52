"""The image-processing check from the deep-learning course notebooks, with conv2d.

Two 3x3 filters on a batch of two small RGB images (made here, no downloads):
  filter 0 turns the image to grayscale: 0.3 R + 0.6 G + 0.1 B at the centre tap;
  filter 1 detects horizontal edges in the blue channel with the Sobel kernel
  [[1, 2, 1], [0, 0, 0], [-1, -2, -1]] and adds a bias of 128 (so "no edge" is mid-grey).
Stride 1 and padding 1 keep the 16 x 16 size. Both outputs are checked against a direct
numpy computation; the script exits with status 1 on a mismatch.

    .venv/bin/python examples/image_filters.py [--save filters.png]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.nn._conv import conv2d

SIZE = 16


def make_images() -> np.ndarray:
    """(2, 3, 16, 16) in [0, 255]: blue horizontal stripes over a red ramp, and a square."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    stripes = np.stack([cols * 16.0,                      # red: left-to-right ramp
                        np.full((SIZE, SIZE), 100.0),     # green: flat
                        np.where((rows // 4) % 2 == 0, 255.0, 0.0)])  # blue: 4-row bands
    inside = (rows >= 4) & (rows < 12) & (cols >= 4) & (cols < 12)
    square = np.stack([np.where(inside, 50.0, 200.0),     # red: dark square on light
                       rows * 10.0,                       # green: top-to-bottom ramp
                       np.where(inside, 200.0, 20.0)])    # blue: bright square
    return np.stack([stripes, square])


def make_filters() -> tuple[np.ndarray, np.ndarray]:
    """Weights (2, 3, 3, 3) in PyTorch's (C_out, C_in, kh, kw) layout, and the biases."""
    w = np.zeros((2, 3, 3, 3))
    w[0, :, 1, 1] = [0.3, 0.6, 0.1]  # grayscale at the centre tap, for R, G, B
    w[1, 2] = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]  # horizontal edges, blue channel only
    b = np.array([0.0, 128.0])
    return w, b


def direct_numpy(x: np.ndarray) -> np.ndarray:
    """The same two outputs written out by hand (no windows, no loops over kernels)."""
    gray = 0.3 * x[:, 0] + 0.6 * x[:, 1] + 0.1 * x[:, 2]
    blue = np.pad(x[:, 2], ((0, 0), (1, 1), (1, 1)))  # zero padding, as the conv
    above = blue[:, :-2, :-2] + 2 * blue[:, :-2, 1:-1] + blue[:, :-2, 2:]
    below = blue[:, 2:, :-2] + 2 * blue[:, 2:, 1:-1] + blue[:, 2:, 2:]
    edges = above - below + 128.0
    return np.stack([gray, edges], axis=1)


def show(name: str, image: np.ndarray) -> None:
    print(f"{name} (rows 0-7, columns 0-7):")
    for row in image[:8, :8]:
        print("  " + " ".join(f"{v:7.1f}" for v in row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", metavar="PNG", help="also draw inputs and outputs")
    args = parser.parse_args(argv)

    x = make_images()
    w, b = make_filters()
    out = conv2d(tg.tensor(x), tg.tensor(w), tg.tensor(b), stride=1, padding=1)
    expected = direct_numpy(x)
    print(f"input x: {x.shape}  weights w: {w.shape}  bias b: {b.shape}")
    print(f"output:  {out.shape}  (N, filters, H, W)")
    show("image 0, grayscale", out.numpy()[0, 0])
    show("image 0, blue horizontal edges + 128", out.numpy()[0, 1])

    ok = True
    for k, name in enumerate(["grayscale", "blue horizontal edges"]):
        error = float(np.max(np.abs(out.numpy()[:, k] - expected[:, k])))
        good = error < 1e-9
        ok &= good
        print(f"{name}: {'match' if good else 'MISMATCH'} with direct numpy "
              f"(max abs difference {error:.2e})")
    if args.save:
        save_figure(args.save, x, out.numpy())
    return 0 if ok and out.shape == (2, 2, SIZE, SIZE) else 1


def save_figure(path: str, x: np.ndarray, out: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(7.5, 5))
    for n in range(2):
        panels = [(x[n].transpose(1, 2, 0) / 255.0, "input"),
                  (out[n, 0], "grayscale"), (out[n, 1], "edges (blue)")]
        for ax, (image, title) in zip(axes[n], panels):
            ax.imshow(image, cmap=None if image.ndim == 3 else "gray")
            ax.set_title(title)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
