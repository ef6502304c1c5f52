"""The softmax Jacobian: ds/dz = diag(s) - s s^T.

For s = softmax(z), ds_i/dz_j = s_i (delta_ij - s_j). A write-up boxes s_i (delta_ij - s_i)
instead: its diagonal is right, its off-diagonal entries are not, and it is not symmetric
while the true Jacobian is. The check says exactly that.

    python examples/derivations/softmax_jacobian.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf

from tinygrad_edu.derive import check_jacobian

gallery = Gallery("softmax_jacobian", __doc__)
z0 = gallery.rng.standard_normal(4)


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def claimed(z):
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


def boxed(z):  # s_i (delta_ij - s_i): row i uses s_i twice
    s = softmax(z)
    return s[:, None] * (np.eye(len(s)) - s[:, None])


gallery.section("claimed: J = diag(s) - s s^T")
gallery.expect_ok(check_jacobian(lambda z: z.softmax(-1), claimed, z0), "J = diag(s) - s s^T")

gallery.section("a write-up's boxed answer: J_ij = s_i (delta_ij - s_i)")
gallery.expect_caught(check_jacobian(lambda z: z.softmax(-1), boxed, z0),
                      "J_ij = s_i (delta_ij - s_i)", "diagonal (i = j) entries match",
                      "symmetric")

gallery.section("graph of v . softmax(z) for a random v (gradients on the edges)")
z = leaf(z0, "z")
v = const(gallery.rng.standard_normal(4), "v")
gallery.graph((z.softmax(-1) * v).sum(), {"z": z})
gallery.finish()
