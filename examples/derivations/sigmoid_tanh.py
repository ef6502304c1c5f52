"""sigmoid'(x) = s (1 - s) and tanh'(x) = 1 - tanh(x)^2, with s = sigmoid(x).

A course write-up gives tanh'(x) = 1 / (1 + e^{2x}); the check catches it (it is not even
right at x = 0, where tanh' = 1). The second derivative sigmoid'' = s (1 - s)(1 - 2 s) is
checked too, as the diagonal of a Hessian.

    python examples/derivations/sigmoid_tanh.py --out out/derivations
"""

import numpy as np
from _common import Gallery, leaf

from tinygrad_edu.derive import check_derivation, check_hessian

gallery = Gallery("sigmoid_tanh", __doc__)
x0 = np.linspace(-3, 3, 7)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


gallery.section("claimed: sigmoid'(x) = s (1 - s)")
gallery.expect_ok(check_derivation(lambda x: x.sigmoid().sum(),
                                   lambda x: sigmoid(x) * (1 - sigmoid(x)), x0),
                  "sigmoid' = s (1 - s)")

gallery.section("claimed: sigmoid''(x) = s (1 - s)(1 - 2 s) (the Hessian's diagonal)")
gallery.expect_ok(check_hessian(lambda x: x.sigmoid().sum(),
                                lambda x: (s := sigmoid(x)) * (1 - s) * (1 - 2 * s), x0,
                                diagonal=True),
                  "sigmoid'' = s (1 - s)(1 - 2 s)")

gallery.section("claimed: tanh'(x) = 1 - tanh(x)^2")
gallery.expect_ok(check_derivation(lambda x: x.tanh().sum(), lambda x: 1 - np.tanh(x) ** 2, x0),
                  "tanh' = 1 - tanh^2")

gallery.section("a write-up's claim: tanh'(x) = 1 / (1 + e^{2x})")
gallery.expect_caught(check_derivation(lambda x: x.tanh().sum(),
                                       lambda x: 1 / (1 + np.exp(2 * x)), x0),
                      "tanh' = 1 / (1 + e^{2x})", "WRONG")

gallery.section("graph of sum(sigmoid(x)) (gradients on the edges)")
x = leaf(x0, "x")
gallery.graph(x.sigmoid().sum(), {"x": x})
gallery.finish()
