"""Batch normalization's compact closed-form backward, checked against autograd.

Training mode over a batch x (N, D): mu = mean(x), var = mean((x - mu)^2) (biased, as the
courses), xhat = (x - mu) / sigma with sigma = sqrt(var + eps), y = gamma xhat + beta.
With upstream dy and dxhat = gamma dy the courses' one-line closed form is
    dx = (1 / (N sigma)) (N dxhat - sum_rows dxhat - xhat sum_rows(dxhat xhat)),
    dgamma = sum_rows(dy xhat),  dbeta = sum_rows dy.
x reaches the loss along three paths (directly, through mu and through var); the compact
form is their sum. Treating mu and sigma as constants (dx = dxhat / sigma) is caught.

    python examples/derivations/batchnorm.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf

from tinygrad_edu import check_derivation

gallery = Gallery("batchnorm", __doc__)
N, D, eps = 6, 3, 1e-5
rng = gallery.rng
x0 = rng.standard_normal((N, D)) * 2 + 1
gamma0, beta0 = rng.standard_normal(D), rng.standard_normal(D)
dy0 = rng.standard_normal((N, D))


def loss(x, gamma, beta, dy):
    mu = x.mean(axis=0)
    mu.name = "mu"
    xc = x - mu
    var = (xc * xc).mean(axis=0)
    var.name = "var"
    xhat = xc / (var + eps).sqrt()
    return ((gamma * xhat + beta) * dy).sum()


def claimed(x, gamma, beta, dy, keep_mean_and_var=True):
    sigma = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / sigma
    dxhat = gamma * dy
    if keep_mean_and_var:
        dx = (len(x) * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0)) / (len(x) * sigma)
    else:
        dx = dxhat / sigma
    return dx, (dy * xhat).sum(0), dy.sum(0)


wrt = ("x", "gamma", "beta")
gallery.section("claimed: the compact dx, dgamma = sum(dy xhat), dbeta = sum dy")
gallery.expect_ok(check_derivation(loss, claimed, x0, gamma0, beta0, dy0, wrt=wrt),
                  "batch norm backward")

gallery.section("a mistake: mu and sigma treated as constants, dx = gamma dy / sigma")
report = check_derivation(loss, lambda *a: claimed(*a, keep_mean_and_var=False),
                          x0, gamma0, beta0, dy0, wrt=wrt)
gallery.expect_caught(report, "dx without the paths through mu and var",
                      "holding mu and var constant")
gallery.expect(report["gamma"].ok and report["beta"].ok, "dgamma and dbeta are unaffected")

gallery.section("graph (x feeds mean, subtraction and variance)")
x, gamma, beta = leaf(x0, "x"), leaf(gamma0, "gamma"), leaf(beta0, "beta")
gallery.graph(loss(x, gamma, beta, const(dy0, "dy")), {"x": x, "gamma": gamma, "beta": beta})
gallery.finish()
