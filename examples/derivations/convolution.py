"""Convolution and max pooling: dL/db, dL/dW and dL/dX as correlations; max-pool routing.

For Y = conv2d(X, W, b) (a cross-correlation, stride 1, no padding) and upstream dY:
    dL/db[f]         = sum_{n,p,q} dY[n,f,p,q]
    dL/dW[f,c,i,j]   = sum_{n,p,q} X[n,c,p+i,q+j] dY[n,f,p,q]      (X correlated with dY)
    dL/dX[n,c,h,w]   = sum_{f,i,j} dYpad[n,f,h+i,w+j] W[f,c,K-1-i,K-1-j]
                       (dY padded by K-1 on every side, correlated with the flipped
                       filters: a "full" convolution)
Forgetting the flip is caught. Max pooling routes each window's gradient to its maximum;
spreading it over the window as average pooling would is caught too.

    python examples/derivations/convolution.py --out out/derivations
"""

import numpy as np
from _common import Gallery, const, leaf
from numpy.lib.stride_tricks import sliding_window_view

import tinygrad_edu.nn.functional as F
from tinygrad_edu import check_derivation

gallery = Gallery("convolution", __doc__)
rng = gallery.rng
N, C, Fo, S, K = 2, 2, 3, 5, 3  # batch, channels in, filters, image side, kernel side
X0, W0, b0 = (rng.standard_normal((N, C, S, S)), rng.standard_normal((Fo, C, K, K)),
              rng.standard_normal(Fo))
dY0 = rng.standard_normal((N, Fo, S - K + 1, S - K + 1))


def loss(X, W, b, dY):
    return (F.conv2d(X, W, b) * dY).sum()


def claimed(X, W, b, dY, flip=True):
    db = dY.sum(axis=(0, 2, 3))
    out = dY.shape[-1]
    dW = np.einsum("ncijpq,nfpq->fcij", sliding_window_view(X, (out, out), axis=(2, 3)), dY)
    padded = np.pad(dY, ((0, 0), (0, 0), (K - 1, K - 1), (K - 1, K - 1)))
    filters = W[:, :, ::-1, ::-1] if flip else W
    dX = np.einsum("nfhwij,fcij->nchw", sliding_window_view(padded, (K, K), axis=(2, 3)),
                   filters)
    return dX, dW, db


wrt = ("X", "W", "b")
gallery.section("claimed: db = sum dY, dW = X (correlated with) dY, dX = full conv of dY with "
                "flipped W")
gallery.expect_ok(check_derivation(loss, claimed, X0, W0, b0, dY0, wrt=wrt), "conv2d gradients")

gallery.section("a mistake: dX with the filters not flipped")
report = check_derivation(loss, lambda *a: claimed(*a, flip=False), X0, W0, b0, dY0, wrt=wrt)
gallery.expect_caught(report, "dX without the flip", "MISMATCH for X")
gallery.expect(report["W"].ok and report["b"].ok, "dW and db are unaffected")

P = 2  # max pooling, 2 x 2 windows, stride 2
Xp0 = rng.standard_normal((N, C, 4, 4))
dP0 = rng.standard_normal((N, C, 2, 2))


def pool_loss(X, dP):
    return (F.max_pool2d(X, P) * dP).sum()


def windows(X):  # (N, C, 2, P, 2, P): window (a, b), offset (i, j) inside it
    return X.reshape(N, C, 2, P, 2, P)


def routed(X, dP):
    w = windows(X)
    is_max = w == w.max(axis=(3, 5), keepdims=True)
    return (is_max * dP[:, :, :, None, :, None]).reshape(X.shape)


def spread(X, dP):
    return np.broadcast_to(dP[:, :, :, None, :, None] / P**2, windows(X).shape).reshape(X.shape)


gallery.section("claimed: max pooling routes each window's gradient to its maximum")
gallery.expect_ok(check_derivation(pool_loss, routed, Xp0, dP0, wrt="X"), "max-pool routing")

gallery.section("a mistake: spreading the gradient over the window (average pooling's rule)")
gallery.expect_caught(check_derivation(pool_loss, spread, Xp0, dP0, wrt="X"),
                      "max pool spread like average pool", "zero at 48 of 64")

gallery.section("graph of <conv2d(X, W, b), dY> (gradients on the edges)")
X, W, b = leaf(X0, "X"), leaf(W0, "W"), leaf(b0, "b")
gallery.graph(loss(X, W, b, const(dY0, "dY")), {"X": X, "W": W, "b": b})
Xp = leaf(Xp0, "X")
gallery.graph(pool_loss(Xp, const(dP0, "dP")), {"X": Xp}, suffix="_maxpool")
gallery.finish()
