"""Two-logit softmax by hand: dL/ds1 = p1 - 1, dL/ds2 = p2.

With p_i = e^{s_i} / (e^{s_1} + e^{s_2}) and the true class 1, L = -log p_1.

Built from scalar tensors, one op at a time, so the graph shows every step of the chain
rule. A write-up that differentiates log p_1 instead of -log p_1 flips both signs: caught.

    python examples/derivations/softmax_two_logits.py --out out/derivations
"""

import numpy as np
from _common import Gallery, leaf

from tinygrad_edu import check_derivation

gallery = Gallery("softmax_two_logits", __doc__)
s1_0, s2_0 = 1.3, -0.4


def loss(s1, s2):
    e1, e2 = s1.exp(), s2.exp()
    p1 = e1 / (e1 + e2)
    return -p1.log()


def claimed(s1, s2):
    p1 = np.exp(s1) / (np.exp(s1) + np.exp(s2))
    return p1 - 1, 1 - p1  # (dL/ds1, dL/ds2) = (p1 - 1, p2)


gallery.section("claimed: dL/ds1 = p1 - 1, dL/ds2 = p2")
gallery.expect_ok(check_derivation(loss, claimed, s1_0, s2_0), "dL/ds1 = p1 - 1, dL/ds2 = p2")

gallery.section("a mistake: the derivative of log p1 instead of -log p1")
gallery.expect_caught(check_derivation(loss, lambda s1, s2: tuple(-g for g in claimed(s1, s2)),
                                       s1_0, s2_0),
                      "1 - p1 and -p2", "sign flip")

gallery.section("graph (every scalar step, gradients on the edges)")
s1, s2 = leaf(s1_0, "s1"), leaf(s2_0, "s2")
gallery.graph(loss(s1, s2), {"s1": s1, "s2": s2}, grad_format="value")
gallery.finish()
