"""Matrix inverse and log-determinant: d(A^-1) = -A^-1 dA A^-1 and d log|det A| = A^-T.

The differential d(A^-1) = -A^-1 dA A^-1 is a Jacobian, J[i,j,k,l] = -(A^-1)[i,k] (A^-1)[l,j],
checked directly; for a scalar L = <G, A^-1> it gives dL/dA = -A^-T G A^-T. For
log|det A| (`linalg.slogdet`) the gradient is A^-T; writing A^-1 is caught as a transpose.
A is built well conditioned: a random matrix plus 3 I.

    python examples/derivations/matrix_calculus.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf

from tinygrad_edu import check_derivation, linalg
from tinygrad_edu.derive import check_jacobian

gallery = Gallery("matrix_calculus", __doc__)
n = 3
A0 = gallery.rng.standard_normal((n, n)) + 3 * np.eye(n)
G0 = gallery.rng.standard_normal((n, n))
inv = np.linalg.inv

gallery.section("claimed: d(A^-1) = -A^-1 dA A^-1, as the Jacobian of A -> A^-1")
gallery.expect_ok(check_jacobian(linalg.inv, lambda A: -np.einsum("ik,lj->ijkl", inv(A), inv(A)),
                                 A0),
                  "J[i,j,k,l] = -(A^-1)[i,k] (A^-1)[l,j]")


def inner(A, G):
    return (linalg.inv(A) * G).sum()


gallery.section("claimed: dL/dA = -A^-T G A^-T for L = <G, A^-1>")
gallery.expect_ok(check_derivation(inner, lambda A, G: -inv(A).T @ G @ inv(A).T, A0, G0, wrt="A"),
                  "dL/dA = -A^-T G A^-T")


def logabsdet(A):
    return linalg.slogdet(A).logabsdet


gallery.section("claimed: d log|det A| = A^-T")
gallery.expect_ok(check_derivation(logabsdet, lambda A: inv(A).T, A0), "d log|det A| = A^-T")

gallery.section("a mistake: d log|det A| = A^-1")
gallery.expect_caught(check_derivation(logabsdet, inv, A0), "A^-1 for A^-T", "transpose")

gallery.section("graph of <G, A^-1> (gradients on the edges)")
A = leaf(A0, "A")
gallery.graph(inner(A, const(G0, "G")), {"A": A})
gallery.finish()
