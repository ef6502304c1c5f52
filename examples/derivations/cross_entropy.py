"""Cross-entropy: dL/dy_hat = -y / (m y_hat) and dL/dz = (p - y) / m.

L = -(1/m) sum_i sum_c y_ic log y_hat_ic over m examples with one-hot targets y: w.r.t.
the probabilities y_hat it is -y / (m y_hat); with y_hat = p = softmax(z), w.r.t. the
logits z it is (p - y) / m. Forgetting the mean's 1/m is caught as a constant factor,
and the report names m as the size of the batch axis.

    python examples/derivations/cross_entropy.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf

from tinygrad_edu import check_derivation

gallery = Gallery("cross_entropy", __doc__)
m, classes = 4, 3
y0 = np.eye(classes)[gallery.rng.integers(0, classes, m)]  # one-hot targets
z0 = gallery.rng.standard_normal((m, classes))
p0 = np.exp(z0) / np.exp(z0).sum(axis=1, keepdims=True)


def loss_of_probs(y_hat, y):
    return -(y * y_hat.log()).sum() / y.shape[0]


def loss_of_logits(z, y):
    return -(y * z.log_softmax(-1)).sum() / y.shape[0]


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


gallery.section("claimed: dL/dy_hat = -y / (m y_hat)")
gallery.expect_ok(check_derivation(loss_of_probs, lambda y_hat, y: -y / (len(y) * y_hat), p0, y0,
                                   wrt="y_hat"),
                  "dL/dy_hat = -y / (m y_hat)")

gallery.section("claimed: dL/dz = (p - y) / m")
gallery.expect_ok(check_derivation(loss_of_logits, lambda z, y: (softmax(z) - y) / len(y), z0, y0,
                                   wrt="z"),
                  "dL/dz = (p - y) / m")

gallery.section("a mistake: dL/dz = p - y (the mean's 1/m forgotten)")
gallery.expect_caught(check_derivation(loss_of_logits, lambda z, y: softmax(z) - y, z0, y0,
                                       wrt="z"),
                      "p - y without 1/m", f"autograd = 1/{m} x claimed", "axis 0 of z")

gallery.section("graph of the loss of the logits (gradients on the edges)")
z = leaf(z0, "z")
gallery.graph(loss_of_logits(z, const(y0, "y")), {"z": z})
gallery.finish()
