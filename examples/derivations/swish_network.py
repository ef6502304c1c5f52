"""The swish network: dL/dW1 = ((h1 + sigmoid(z1)(1 - h1)) * W2^T (softmax(z2) - e_k)) x^T.

z1 = W1 x + b1, h1 = swish(z1) = z1 sigmoid(z1), z2 = W2 h1 + b2, L = CE(softmax(z2), k).
Backward: delta2 = softmax(z2) - e_k gives dL/dW2 = delta2 h1^T and dL/db2 = delta2; then
swish'(z) = sigmoid(z) + z sigmoid(z)(1 - sigmoid(z)) = h + sigmoid(z)(1 - h), so
delta1 = swish'(z1) * W2^T delta2, dL/dW1 = delta1 x^T, dL/db1 = delta1.

z1 feeds swish twice (z1 * sigmoid(z1)). Treating sigmoid(z1) as a constant gate gives
swish' = sigmoid(z1): the check catches it as the missing path z1 -> Sigmoid.

    python examples/derivations/swish_network.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf

from tinygrad_edu import check_derivation

gallery = Gallery("swish_network", __doc__)
D, H, C, k = 4, 3, 3, 1
rng = gallery.rng
W1_0, b1_0 = rng.standard_normal((H, D)), rng.standard_normal(H)
W2_0, b2_0 = rng.standard_normal((C, H)), rng.standard_normal(C)
x0 = rng.standard_normal(D)


def loss(W1, b1, W2, b2, x, k):
    z1 = W1 @ x + b1
    z1.name = "z1"
    h1 = z1 * z1.sigmoid()
    h1.name = "h1"
    z2 = W2 @ h1 + b2
    z2.name = "z2"
    return -z2.log_softmax(-1)[k]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def claimed(W1, b1, W2, b2, x, k, swish_grad=lambda z, h: h + sigmoid(z) * (1 - h)):
    z1 = W1 @ x + b1
    h1 = z1 * sigmoid(z1)
    z2 = W2 @ h1 + b2
    p = np.exp(z2 - z2.max())
    p /= p.sum()
    delta2 = p - np.eye(len(p))[k]
    delta1 = swish_grad(z1, h1) * (W2.T @ delta2)
    return np.outer(delta1, x), delta1, np.outer(delta2, h1), delta2


args = (W1_0, b1_0, W2_0, b2_0, x0, k)
wrt = ("W1", "b1", "W2", "b2")
gallery.section("claimed: dL/dW1, dL/db1, dL/dW2, dL/db2 as above")
gallery.expect_ok(check_derivation(loss, claimed, *args, wrt=wrt), "the four gradients")

gallery.section("a mistake: swish'(z) = sigmoid(z) (sigmoid treated as a constant gate)")
report = check_derivation(loss, lambda *a: claimed(*a, swish_grad=lambda z, h: sigmoid(z)),
                          *args, wrt=wrt)
gallery.expect_caught(report, "swish' = sigmoid(z)", "missing path", "reaches z1 through Sigmoid")
gallery.expect(report["W2"].ok and report["b2"].ok, "dL/dW2 and dL/db2 are still right")

gallery.section("graph (z1 sums the paths through Mul and Sigmoid)")
W1, b1, W2, b2 = leaf(W1_0, "W1"), leaf(b1_0, "b1"), leaf(W2_0, "W2"), leaf(b2_0, "b2")
gallery.graph(loss(W1, b1, W2, b2, const(x0, "x"), k), {"W1": W1, "b1": b1, "W2": W2, "b2": b2})
gallery.finish()
