"""Check a hand-derived gradient with tinygrad_edu: the linear autoencoder.

    x in R^n,  W in R^{m x n} (m < n),  L = 1/2 ||W^T W x - x||^2

With g = W^T W x - x the gradient is dL/dW = W x g^T + W g x^T (W appears twice, so two
terms: the engine adds the contributions of both paths). This script computes dL/dW three
ways - backward(), the closed form, central differences - prints them with their relative
errors, and exits with status 1 if they disagree.

    python examples/autoencoder.py [--m 3] [--n 5] [--seed 0] [--tol 1e-6]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.gradcheck import numerical_grad, rel_error


def autoencoder_loss(W: Tensor, x: Tensor) -> Tensor:
    """L = 1/2 ||W^T W x - x||^2."""
    r = W.T @ (W @ x) - x
    return 0.5 * (r * r).sum()


def closed_form(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dL/dW = W x g^T + W g x^T with g = W^T W x - x."""
    g = W.T @ W @ x - x
    return np.outer(W @ x, g) + np.outer(W @ g, x)


def _show(title: str, a: np.ndarray) -> None:
    print(f"{title}:")
    print(np.array2string(a, precision=6, suppress_small=True, max_line_width=100))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=3, help="code size (rows of W)")
    parser.add_argument("--n", type=int, default=5, help="input size (columns of W)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tol", type=float, default=1e-6,
                        help="largest relative error accepted (default 1e-6)")
    args = parser.parse_args(argv)
    if not 0 < args.m < args.n:
        parser.error(f"need 0 < m < n, got m={args.m}, n={args.n}")

    rng = np.random.default_rng(args.seed)
    W = Tensor(rng.standard_normal((args.m, args.n)), requires_grad=True, name="W")
    x = Tensor(rng.standard_normal(args.n), name="x")  # float64: exact enough to compare

    loss = autoencoder_loss(W, x)
    loss.backward()
    assert W.grad is not None
    from_backward = W.grad.numpy()
    expected = closed_form(W.numpy(), x.numpy())
    numeric = numerical_grad(lambda w: autoencoder_loss(Tensor(w), x), W.numpy().copy())

    print(f"L = 1/2 ||W^T W x - x||^2 with m={args.m}, n={args.n}, seed={args.seed}: "
          f"L = {loss.item():.6f}")
    _show("dL/dW from backward()", from_backward)
    _show("dL/dW closed form W x g^T + W g x^T", expected)
    _show("dL/dW numeric (central differences)", numeric)
    errors = {
        "backward vs closed form": rel_error(from_backward, expected),
        "backward vs numeric": rel_error(from_backward, numeric),
        "closed form vs numeric": rel_error(expected, numeric),
    }
    for name, err in errors.items():
        print(f"rel_error({name}) = {err:.3e}")
    worst = max(errors.values())
    if worst > args.tol:
        print(f"MISMATCH: largest relative error {worst:.3e} > tolerance {args.tol:.1e}")
        return 1
    print(f"OK: all three agree (largest relative error {worst:.3e} <= {args.tol:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
