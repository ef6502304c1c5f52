"""L2 regularization: d/dW (0.5 reg ||W||^2) = reg W.

The 0.5 is there to cancel the 2 of the square. Code that adds reg * sum(W * W) (no 0.5)
but keeps reg * W in its gradient is off by a factor 2: caught as a constant factor.

    python examples/derivations/l2_regularization.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf

from tinygrad_edu import check_derivation

gallery = Gallery("l2_regularization", __doc__)
reg = 0.1
W0 = gallery.rng.standard_normal((4, 3))
X0 = gallery.rng.standard_normal((5, 4))


def penalty(W):
    return 0.5 * reg * (W**2).sum()


def penalty_no_half(W):
    return reg * (W**2).sum()


gallery.section("claimed: d/dW 0.5 reg ||W||^2 = reg W")
gallery.expect_ok(check_derivation(penalty, lambda W: reg * W, W0), "reg W")

gallery.section("a mistake: the loss adds reg ||W||^2, the gradient still says reg W")
gallery.expect_caught(check_derivation(penalty_no_half, lambda W: reg * W, W0),
                      "reg W for reg ||W||^2", "autograd = 2 x claimed")


def regularized(W, X):  # a data term plus the penalty: W feeds two paths
    return (X @ W).tanh().sum() + penalty(W)


gallery.section("with a data term, dL/dW = X^T (1 - tanh(X W)^2) + reg W; forgetting reg W")
gallery.expect_caught(check_derivation(regularized, lambda W, X: X.T @ (1 - np.tanh(X @ W) ** 2),
                                       W0, X0, wrt="W"),
                      "the penalty's reg W forgotten", "missing path")

gallery.section("graph of the regularized loss (W sums 2 paths)")
W = leaf(W0, "W")
gallery.graph(regularized(W, const(X0, "X")), {"W": W})
gallery.finish()
