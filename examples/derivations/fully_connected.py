"""Fully-connected layer: dX = dY W^T, dW = X^T dY, db = sum of dY over the rows.

Two weight layouts: the courses' (D, M), Y = X W + b, and PyTorch's (out, in),
Y = X W^T + b (`nn.functional.linear`), where the same reasoning gives dW = dY^T X and
dX = dY W. Carrying X^T dY over to the (out, in) layout is caught as a transpose; a
course-style `affine_backward` that forgets to sum db over the batch is caught by
`check_backward` as a missing sum over the broadcast axis.

    python examples/derivations/fully_connected.py --out out/derivations
"""

from _common import Gallery, const, leaf

import tinygrad_edu.nn.functional as F
from tinygrad_edu import check_derivation
from tinygrad_edu.checks import check_backward

gallery = Gallery("fully_connected", __doc__)
N, D, M = 5, 4, 3
rng = gallery.rng
X0, dY0 = rng.standard_normal((N, D)), rng.standard_normal((N, M))
W_dm, W_oi, b0 = rng.standard_normal((D, M)), rng.standard_normal((M, D)), rng.standard_normal(M)
wrt = ("X", "W", "b")


def loss_dm(X, W, b, dY):  # <Y, dY>: its gradients are the backward pass for upstream dY
    return ((X @ W + b) * dY).sum()


def loss_oi(X, W, b, dY):
    return (F.linear(X, W, b) * dY).sum()


gallery.section("(D, M) layout, Y = X W + b: dX = dY W^T, dW = X^T dY, db = sum_rows dY")
gallery.expect_ok(check_derivation(loss_dm, lambda X, W, b, dY: (dY @ W.T, X.T @ dY, dY.sum(0)),
                                   X0, W_dm, b0, dY0, wrt=wrt),
                  "(D, M) layout")

gallery.section("(out, in) layout, Y = X W^T + b: dX = dY W, dW = dY^T X, db = sum_rows dY")
gallery.expect_ok(check_derivation(loss_oi, lambda X, W, b, dY: (dY @ W, dY.T @ X, dY.sum(0)),
                                   X0, W_oi, b0, dY0, wrt=wrt),
                  "(out, in) layout")

gallery.section("a mistake: dW = X^T dY in the (out, in) layout")
gallery.expect_caught(check_derivation(loss_oi, lambda X, W, b, dY: (dY @ W, X.T @ dY, dY.sum(0)),
                                       X0, W_oi, b0, dY0, wrt=wrt),
                      "dW = X^T dY for (out, in) weights", "transpose")


def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def affine_backward_no_sum(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout


gallery.section("course style: affine_forward / affine_backward against autograd")
reference = lambda x, w, b: x @ w + b  # noqa: E731
gallery.expect_ok(check_backward(affine_forward, affine_backward, reference, X0, W_dm, b0),
                  "affine_backward")
gallery.expect_caught(check_backward(affine_forward, affine_backward_no_sum, reference,
                                     X0, W_dm, b0),
                      "db = dout (no sum over the batch)", "sum over the broadcast")

gallery.section("graph of <X W + b, dY> (gradients on the edges)")
X, W, b = leaf(X0, "X"), leaf(W_dm, "W"), leaf(b0, "b")
gallery.graph(loss_dm(X, W, b, const(dY0, "dY")), {"X": X, "W": W, "b": b})
gallery.finish()
