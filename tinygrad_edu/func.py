"""Function transforms, as `torch.func`: grad, value_and_grad, grad_and_value, vjp, jvp,
jacrev/jacfwd (alias jacobian), hessian.

They run on the same engine as `backward()`. When an argument already requires grad
(because an outer transform is differentiating through this one) the inner pass records
its own backward (`create_graph=True`), so `grad(grad(f))` gives the second derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.tensor import Tensor, as_tensor


def _prepare(args: Sequence[Any], argnums: int | tuple[int, ...]
             ) -> tuple[list[Any], tuple[int, ...], bool]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -len(args) <= n < len(args):
            raise ValueError(f"grad: argnums {argnums} is out of range for {len(args)} arguments")
    nums = tuple(n % len(args) for n in nums)
    new = list(args)
    nested = False
    for n in nums:
        x = as_tensor(args[n])
        if x.dtype.kind != "f":
            raise TypeError(f"grad: argument {n} must be floating point, got {x.dtype}")
        if x.requires_grad and autograd.is_grad_enabled():
            nested = True
            new[n] = x.clone()  # a node of our own, still linked to the outer graph
        else:
            new[n] = Tensor(x.array, requires_grad=True)
    return new, nums, nested


def _scalar(out: Any, op: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: the function must return a Tensor, got {type(out).__name__}")
    if out.numel() != 1:
        raise RuntimeError(f"{op}: the function must return a scalar; it returned shape "
                           f"{out.shape} (use jacrev for non-scalar outputs)")
    return out


def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """`(value, gradient)` of a scalar function; a tuple of gradients for tuple argnums."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        new, nums, nested = _prepare(args, argnums)
        with autograd.enable_grad():
            result = f(*new, **kwargs)
        out, aux = (result if has_aux else (result, None))
        out = _scalar(out, "grad")
        grads: tuple[Tensor, ...]
        if not out.requires_grad:
            grads = tuple(Tensor(np.zeros_like(new[n].array)) for n in nums)
        else:
            raw = autograd.grad(out, [new[n] for n in nums], create_graph=nested,
                                allow_unused=True)
            grads = tuple(g if g is not None else Tensor(np.zeros_like(new[n].array))
                          for g, n in zip(raw, nums))
        g_out = grads[0] if isinstance(argnums, int) else grads
        value = out if nested else out.detach()
        return ((value, aux), g_out) if has_aux else (value, g_out)

    return wrapped


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar function with respect to argument(s) `argnums`."""
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapped


def grad_and_value(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """`(gradient, value)`: PyTorch's order (`value_and_grad` gives the other one)."""
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return g, value

    return wrapped


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Tensor, Callable[..., Any]]:
    """`(f(*primals), vjp_fn)`; `vjp_fn(v)` returns v^T J for every primal (a tuple)."""
    new, nums, nested = _prepare(primals, tuple(range(len(primals))))
    with autograd.enable_grad():
        out = f(*new)

    def vjp_fn(cotangent: Any) -> tuple[Tensor, ...]:
        v = as_tensor(cotangent, dtype=out.dtype)
        if not out.requires_grad:
            return tuple(Tensor(np.zeros_like(x.array)) for x in new)
        gs = autograd.grad(out, new, grad_outputs=v, retain_graph=True, create_graph=nested,
                           allow_unused=True)
        return tuple(g if g is not None else Tensor(np.zeros_like(x.array))
                     for g, x in zip(gs, new))

    return (out if nested else out.detach()), vjp_fn


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
        ) -> tuple[Tensor, Tensor]:
    """`(f(*primals), J t)`: a forward-mode product, computed as the derivative of the
    (linear) vector-Jacobian product with respect to its cotangent."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    new, _, nested = _prepare(primals, tuple(range(len(primals))))
    with autograd.enable_grad():
        out = f(*new)
        if not out.requires_grad:
            return out, Tensor(np.zeros_like(out.array))
        u = Tensor(np.zeros_like(out.array), requires_grad=True)
        gs = autograd.grad(out, new, grad_outputs=u, create_graph=True, allow_unused=True)
        pairs = [(g, as_tensor(t, dtype=g.dtype)) for g, t in zip(gs, tangents) if g is not None]
        if not pairs:
            return out, Tensor(np.zeros_like(out.array))
        total = sum(((g * t).sum() for g, t in pairs), start=Tensor(np.zeros((), out.dtype)))
        if not total.requires_grad:
            return out, Tensor(np.zeros_like(out.array))
        (result,) = autograd.grad(total, [u], create_graph=nested, allow_unused=True)
    result = result if result is not None else Tensor(np.zeros_like(out.array))
    return (out if nested else out.detach()), result


def jacrev(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Jacobian, shape `out.shape + x.shape`, one reverse pass per output element."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        new, nums, nested = _prepare(args, argnums)
        with autograd.enable_grad():
            out = f(*new, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"jacrev: the function must return a Tensor, got {type(out).__name__}")
        xs = [new[n] for n in nums]
        rows: list[list[Tensor]] = [[] for _ in xs]
        flat = out.reshape(-1) if out.ndim != 1 else out
        for i in range(flat.shape[0] if out.numel() else 0):
            if not out.requires_grad:
                gs: tuple[Any, ...] = (None,) * len(xs)
            else:
                seed = np.zeros(out.shape, dtype=out.dtype)
                seed.reshape(-1)[i] = 1
                gs = autograd.grad(out, xs, grad_outputs=Tensor(seed), retain_graph=True,
                                   create_graph=nested, allow_unused=True)
            for r, g, x in zip(rows, gs, xs):
                r.append(g if g is not None else Tensor(np.zeros_like(x.array)))
        from tinygrad_edu.functional import stack

        jacs = tuple(
            stack(r).reshape(out.shape + x.shape) if r else Tensor(np.zeros(out.shape + x.shape,
                                                                             x.dtype))
            for r, x in zip(rows, xs)
        )
        return jacs[0] if isinstance(argnums, int) else jacs

    return wrapped


def jacfwd(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Jacobian (same result as `jacrev`; computed here by reverse passes too)."""
    return jacrev(f, argnums)


jacobian = jacrev


def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    return jacrev(jacrev(f, argnums), argnums)


def hvp(f: Callable[..., Any], primal: Any, tangent: Any) -> tuple[Tensor, Tensor]:
    """`(grad f(x), H v)` for a scalar function of one tensor, without building H."""
    (x,), _, nested = _prepare((primal,), 0)
    with autograd.enable_grad():
        (g_or_none,) = autograd.grad(_scalar(f(x), "hvp"), [x], create_graph=True,
                                     allow_unused=True)
        g = g_or_none if g_or_none is not None else Tensor(np.zeros_like(x.array))
        v = as_tensor(tangent, dtype=x.dtype)
        if not g.requires_grad:
            return g, Tensor(np.zeros_like(x.array))
        (hv,) = autograd.grad((g * v).sum(), [x], create_graph=nested, allow_unused=True)
    hv = hv if hv is not None else Tensor(np.zeros_like(x.array))
    return (g if nested else g.detach()), hv
