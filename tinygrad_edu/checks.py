"""Check a hand-written backward against autograd, in the styles the courses use.

- `check_backward(forward, backward, reference, *inputs)`: cs231n-style layer functions,
  `forward(*arrays) -> (out, cache)` and `backward(dout, cache) -> grads`;
- `check_loss(loss_fn, reference, *inputs)`: `loss_fn(*arrays) -> (loss, grad(s))`, as
  `softmax_loss(x, y) -> (loss, dx)`;
- `check_layer(layer, reference, X)`: CS189-style objects with `forward(X)`,
  `backward(dLdY)` and `parameters`/`gradients` dicts (activations: `backward(Z, dY)`;
  layers that create their parameters at the first forward are fine);
- `check_loss_layer(loss, reference, Y, Y_hat)`: CS189 losses, `forward(Y, Y_hat)` and
  `backward(Y, Y_hat)`, target first.

`reference` builds the same output from Tensor ops; autograd differentiates it. Each
report (a `DerivationReport`, labelled "hand-written") gives per input the relative error
of hand-written vs autograd, the numeric estimate (central differences of *your* forward,
as the courses' `eval_numerical_gradient_array`), the worst element and a diagnosis.
Student code may overwrite the arrays it is handed (a relu backward that writes into
dout), so every call gets fresh copies.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, MutableMapping
from functools import partial
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.creation import from_numpy
from tinygrad_edu.derive import (
    DerivationReport,
    Inputs,
    PathFinder,
    Tolerance,
    compare,
    function_name,
)
from tinygrad_edu.gradcheck import numerical_grad
from tinygrad_edu.tensor import Tensor

__all__ = ["check_backward", "check_loss", "check_layer", "check_loss_layer"]

HAND = "hand-written"


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.array if isinstance(x, Tensor) else x, dtype=np.float64)


class _Reference:
    """The reference expression on float64 leaves, differentiated once under a tape (the
    graph is kept for the missing-path search)."""

    def __init__(self, build: Callable[[list[Tensor]], Tensor], arrays: list[np.ndarray],
                 names: list[str], dout: Any, seed: int, op: str) -> None:
        with autograd.default_dtype(np.float64), autograd.enable_grad():
            self.leaves = [Tensor(a.copy(), requires_grad=True) for a in arrays]
            out = build(self.leaves)
            if not isinstance(out, Tensor):
                raise TypeError(f"{op}: reference must return a Tensor, got "
                                f"{type(out).__name__}")
            if dout is None:
                upstream = (np.ones(out.shape) if out.numel() == 1 else
                            np.random.default_rng(seed).standard_normal(out.shape))
            else:
                upstream = _array(dout)
                if upstream.shape != out.shape:
                    raise ValueError(f"{op}: dout has shape {upstream.shape} but the "
                                     f"reference output has shape {out.shape}")
            with autograd.record_gradients() as tape:
                grads = (autograd.grad(out, self.leaves, grad_outputs=Tensor(upstream),
                                       retain_graph=True, allow_unused=True)
                         if out.requires_grad else (None,) * len(self.leaves))
        self.out = out
        self.dout = upstream
        self.grads = [np.zeros_like(a) if g is None else np.asarray(g.array, np.float64)
                      for a, g in zip(arrays, grads)]
        self.finder = PathFinder(tape, out, dict(zip(self.leaves, names)), upstream)


def _finish(title: str, ref: _Reference, names: list[str], hand_out: Any,
            hand_grads: list[Any], numeric: list[np.ndarray], dims: list[tuple[str, int, int]],
            eps: float, rtol: float, atol: float) -> DerivationReport:
    out = _array(hand_out)
    value_scale = float(np.sum(np.abs(out * ref.dout))) if out.shape == ref.dout.shape else 1.0
    grad_scale = max([float(np.max(np.abs(g))) if g.size else 0.0 for g in ref.grads])
    tol = Tolerance.make(rtol, atol, eps, value_scale, grad_scale)
    notes = []
    failed = False
    ref_out = np.asarray(ref.out.array, np.float64)
    if out.shape != ref_out.shape:
        notes.append(f"forward: the {HAND} output has shape {out.shape}, the reference "
                     f"{ref_out.shape}")
        failed = True
    elif not np.allclose(out, ref_out, rtol=rtol, atol=atol):
        notes.append(f"forward: the {HAND} output differs from the reference's (max abs err "
                     f"{np.max(np.abs(out - ref_out)):.3e}); the numeric column differentiates "
                     f"the {HAND} forward")
        failed = True
    rows = []
    for k, name in enumerate(names):
        leaf, total = ref.leaves[k], ref.grads[k]
        rows.append(compare(
            name, total.shape, hand_grads[k], total, numeric[k], tol, dims, claim=HAND,
            paths=ref.finder.contributions(leaf),
            candidates=partial(ref.finder.candidates, leaf, total)))
    settings = (f"numeric: central differences of the {HAND} forward, eps={eps:g}; match: "
                f"|{HAND} - autograd| <= {atol:g} + {rtol:g} |autograd|")
    return DerivationReport(title, "backward", rows, claim_label=HAND,
                            value=float(ref.out.item()) if ref.out.numel() == 1 else None,
                            notes=notes, settings=settings, failed_notes=failed)


def _numeric(evaluate: Callable[[np.ndarray], Any], x: np.ndarray, dout: np.ndarray,
             eps: float) -> np.ndarray:
    """d sum(evaluate(x) * dout) / dx, perturbing a copy of x and handing evaluate copies."""
    return numerical_grad(lambda v: evaluate(v.copy()), x.copy(), eps, df=dout)


def _grad_list(result: Any, count: int, op: str, what: str) -> list[Any]:
    if isinstance(result, tuple | list):
        grads = list(result)
    else:
        grads = [result]
    if len(grads) != count:
        raise ValueError(f"{op}: {what} returned {len(grads)} gradient(s) but {count} "
                         "input(s) are differentiated; pass wrt= to pick them")
    return grads


def _first_output_with(fn: Callable[..., Any], prep: Inputs, i: int
                       ) -> Callable[[np.ndarray], Any]:
    """v -> fn(*inputs with input i replaced by v)[0]: the value the numeric check varies
    (the out of `(out, cache)`, the loss of `(loss, grads)`)."""
    def run(v: np.ndarray) -> Any:
        args = prep.claim_args()
        args[i] = v
        return fn(*args)[0]

    return run


def check_backward(forward: Callable[..., Any], backward: Callable[..., Any],
                   reference: Callable[..., Tensor], *inputs: Any, dout: Any = None,
                   wrt: Any = None, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8,
                   seed: int = 0) -> DerivationReport:
    """Check `backward(dout, cache)` (after `out, cache = forward(*inputs)`) against autograd
    through `reference(*inputs)` (same arguments, float arrays as Tensors).

    `backward` returns one gradient per floating-point input, in order (a dict of settings
    such as `conv_param` gets none); `wrt` picks which of them are checked. `dout` is random
    (seeded) unless given: ones would hide a backward that ignores its upstream gradient."""
    op = "check_backward"
    prep = Inputs(op, forward, inputs, wrt)
    floats = [i for i, ok in enumerate(prep.is_float) if ok]
    ref = _Reference(lambda ls: reference(*prep.args(dict(zip(prep.wrt, ls)))),
                     [prep.values[i] for i in prep.wrt], [prep.names[i] for i in prep.wrt],
                     dout, seed, op)
    result = forward(*prep.claim_args())
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{op}: forward must return (out, cache), got "
                        f"{type(result).__name__}")
    out, cache = result
    grads = _grad_list(backward(ref.dout.copy(), cache), len(floats), op, "backward")
    hand = [grads[floats.index(i)] for i in prep.wrt]

    numeric = [_numeric(_first_output_with(forward, prep, i), prep.values[i], ref.dout, eps)
               for i in prep.wrt]
    return _finish(f"check_backward of {function_name(backward)}", ref,
                   [prep.names[i] for i in prep.wrt], out, hand, numeric, prep.dims(),
                   eps, rtol, atol)


def check_loss(loss_fn: Callable[..., Any], reference: Callable[..., Tensor], *inputs: Any,
               wrt: Any = 0, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8
               ) -> DerivationReport:
    """Check `loss, grads = loss_fn(*inputs)` (as `softmax_loss(x, y) -> (loss, dx)` or
    `softmax_loss_naive(W, X, y, reg) -> (loss, dW)`) against autograd through the scalar
    `reference(*inputs)`. `wrt` (default: the first input) says which inputs `grads` are
    for, in order."""
    op = "check_loss"
    prep = Inputs(op, loss_fn, inputs, wrt)
    ref = _Reference(lambda ls: reference(*prep.args(dict(zip(prep.wrt, ls)))),
                     [prep.values[i] for i in prep.wrt], [prep.names[i] for i in prep.wrt],
                     None, 0, op)
    result = loss_fn(*prep.claim_args())
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{op}: loss_fn must return (loss, gradient(s)), got "
                        f"{type(result).__name__}")
    loss, grads = result
    hand = _grad_list(grads, len(prep.wrt), op, "loss_fn")

    numeric = [_numeric(_first_output_with(loss_fn, prep, i), prep.values[i], ref.dout, eps)
               for i in prep.wrt]
    return _finish(f"check_loss of {function_name(loss_fn)}", ref,
                   [prep.names[i] for i in prep.wrt], loss, hand, numeric, prep.dims(),
                   eps, rtol, atol)


def _takes_two(method: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def check_layer(layer: Any, reference: Callable[..., Tensor], X: Any, dY: Any = None,
                eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8, seed: int = 0
                ) -> DerivationReport:
    """Check a layer object: `Y = layer.forward(X)`, `dX = layer.backward(dY)` (or
    `backward(X, dY)` for a CS189 activation), parameter gradients in
    `layer.gradients[name]`, against autograd through `reference(X, **params)`.

    The first forward may create the parameters (a layer that learns n_in then); they are
    read from `layer.parameters` after it. Numeric gradients of a parameter swap a
    perturbed copy into `layer.parameters[name]` and restore the original at the end."""
    op = "check_layer"
    x = _array(X)
    layer.forward(x.copy())  # may create the parameters
    params = getattr(layer, "parameters", None)
    params = params if isinstance(params, MutableMapping) else {}
    originals = dict(params)
    activation = _takes_two(layer.backward)
    names = ["Z" if activation else "X"] + [str(k) for k in originals]
    arrays = [x] + [_array(v) for v in originals.values()]
    keys = list(originals)

    def build(ls: list[Tensor]) -> Tensor:
        return reference(ls[0], **dict(zip(keys, ls[1:])))

    ref = _Reference(build, arrays, names, dY, seed, op)
    out = layer.forward(x.copy())
    dx = (layer.backward(x.copy(), ref.dout.copy()) if activation
          else layer.backward(ref.dout.copy()))
    grads_dict = getattr(layer, "gradients", None) or {}
    hand: list[Any] = [dx]
    for k in keys:
        if k not in grads_dict:
            raise KeyError(f"{op}: layer.gradients has no entry {k!r} after backward; it has "
                           f"{list(grads_dict)}")
        hand.append(np.array(grads_dict[k], dtype=np.float64))
    numeric = [_numeric(lambda v: layer.forward(v), x, ref.dout, eps)]
    try:
        for k in keys:
            def run(v: np.ndarray, k: Any = k) -> Any:
                params[k] = v
                return layer.forward(x.copy())

            numeric.append(_numeric(run, _array(originals[k]), ref.dout, eps))
    finally:
        params.update(originals)
    dims = [(n, ax, s) for n, a in zip(names, arrays) for ax, s in enumerate(a.shape)]
    return _finish(f"check_layer of {type(layer).__name__}", ref, names, out, hand, numeric,
                   dims, eps, rtol, atol)


def check_loss_layer(loss: Any, reference: Callable[[Tensor, Tensor], Tensor], Y: Any,
                     Y_hat: Any, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8
                     ) -> DerivationReport:
    """Check a CS189-style loss object, `loss.forward(Y, Y_hat)` and
    `loss.backward(Y, Y_hat) -> dL/dY_hat` (target first), against autograd through the
    scalar `reference(Y, Y_hat)` (Y a constant Tensor)."""
    op = "check_loss_layer"
    y = np.array(Y.array if isinstance(Y, Tensor) else Y)
    y_hat = _array(Y_hat)
    ref = _Reference(lambda ls: reference(from_numpy(y.copy()), ls[0]), [y_hat], ["Y_hat"],
                     None, 0, op)
    value = loss.forward(y.copy(), y_hat.copy())
    hand = [loss.backward(y.copy(), y_hat.copy())]
    numeric = [_numeric(lambda v: loss.forward(y.copy(), v), y_hat, ref.dout, eps)]
    dims = [("Y_hat", ax, s) for ax, s in enumerate(y_hat.shape)]
    return _finish(f"check_loss_layer of {type(loss).__name__}", ref, ["Y_hat"], value, hand,
                   numeric, dims, eps, rtol, atol)
