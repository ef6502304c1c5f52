"""The autoencoder: dL/dW = W x g^T + W g x^T for L = 1/2 ||W^T W x - x||^2.

Here g = W^T W x - x. W is used twice (in h = W x and as W^T), so its gradient is the sum
of two contributions, one per path: W g x^T reaches W through h = W x, W x g^T through
W^T. The report lists them; a write-up that keeps only one is caught as a missing path.

    python examples/derivations/autoencoder.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf

from tinygrad_edu import check_derivation

gallery = Gallery("autoencoder", __doc__)
m, n = 3, 5  # W (m, n) with m < n: a bottleneck
W0 = gallery.rng.standard_normal((m, n)) * 0.5
x0 = gallery.rng.standard_normal(n)


def loss(W, x):
    return 0.5 * ((W.T @ (W @ x) - x) ** 2).sum()


def claimed(W, x):
    g = W.T @ W @ x - x
    return np.outer(W @ x, g) + np.outer(W @ g, x)


gallery.section("claimed: dL/dW = W x g^T + W g x^T with g = W^T W x - x")
report = check_derivation(loss, claimed, W0, x0, wrt="W")
gallery.expect_ok(report, "dL/dW = W x g^T + W g x^T")

gallery.section("the two paths into W, separately and summed")
g0 = W0.T @ W0 @ x0 - x0
terms = {"W g x^T (through h = W x)": np.outer(W0 @ g0, x0),
         "W x g^T (through W^T)": np.outer(W0 @ x0, g0)}
paths = report["W"].paths
for p in paths:
    match = [t for t, v in terms.items() if np.allclose(p.gradient, v)]
    print(f"path through {p.label}:\n{p.gradient}\n  = {match[0] if match else '?'}")
    gallery.expect(len(match) == 1, f"the path through {p.label} is one closed-form term")
total = sum(p.gradient for p in paths)
print(f"sum of the paths:\n{total}")
gallery.expect(len(paths) == 2 and np.allclose(total, claimed(W0, x0)),
               "the two contributions sum to dL/dW")

gallery.section("a common mistake: differentiating W only through h = W x")
gallery.expect_caught(check_derivation(loss, lambda W, x: np.outer(W @ (W.T @ W @ x - x), x),
                                       W0, x0, wrt="W"),
                      "only W g x^T", "missing path")

gallery.section("graph (gradients on the edges; W sums 2 paths)")
W, x = leaf(W0, "W"), const(x0, "x")
gallery.graph(loss(W, x), {"W": W})
gallery.finish()
