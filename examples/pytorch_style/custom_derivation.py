"""A PyTorch script, unchanged but for its imports: derivations checked by the machine.

1. A custom op (`autograd.Function` with `ctx.save_for_backward`) whose hand-derived
   backward is compared with central differences in float64.
2. Derivatives of tanh up to third order with `autograd.grad(create_graph=True)`, against
   their closed forms.
3. A gradient penalty (as in WGAN-GP): the norm of d critic / d input is itself a loss,
   so `create_graph=True` lets it be differentiated again with respect to the weights.
4. Newton's method for L2-regularized logistic regression, with the Hessian built row by
   row from a gradient computed with `create_graph=True`.

Run: python examples/pytorch_style/custom_derivation.py
"""
# PyTorch imports (the original script has these lines where the tinygrad_edu ones are):
#   import torch
#   import torch.nn as nn
#   import torch.nn.functional as F
#   from torch import autograd

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import autograd


class LogCosh(autograd.Function):
    """y = log(cosh(x)), computed stably as |x| + log(1 + exp(-2|x|)) - log 2;
    dy/dx = tanh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x.abs()
        return a + torch.log(1 + torch.exp(-2 * a)) - torch.log(torch.tensor(2.0, dtype=x.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.tanh(x)


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f at every element of x (float64)."""
    grad = torch.zeros_like(x)
    flat, out = x.detach().clone().view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = f(flat.view(x.shape)).item()
        flat[i] = old - eps
        minus = f(flat.view(x.shape)).item()
        flat[i] = old
        out[i] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a, b):
    return ((a - b).abs().max() / (a.abs() + b.abs()).max().clamp(min=1e-12)).item()


def check_custom_function() -> float:
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(5, dtype=torch.float64)
    (LogCosh.apply(x) * upstream).sum().backward()
    numeric = numeric_grad(lambda t: (LogCosh.apply(t) * upstream).sum(), x.detach())
    err = rel_error(x.grad, numeric)
    t = x.detach()
    value_err = rel_error(LogCosh.apply(t), torch.log((torch.exp(t) + torch.exp(-t)) / 2))
    print(f"LogCosh: backward vs numeric {err:.2e}, value vs log(cosh) {value_err:.2e}")
    return max(err, value_err)


def check_tanh_derivatives() -> float:
    x = torch.linspace(-2, 2, 9, dtype=torch.float64, requires_grad=True)
    y = torch.tanh(x)
    (d1,) = autograd.grad(y.sum(), x, create_graph=True)
    (d2,) = autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = autograd.grad(d2.sum(), x)
    t = y.detach()
    closed = [1 - t**2, -2 * t * (1 - t**2), (1 - t**2) * (6 * t**2 - 2)]
    errors = [rel_error(d, c) for d, c in zip((d1, d2, d3), closed)]
    print("tanh', tanh'', tanh''' vs closed forms:", ", ".join(f"{e:.1e}" for e in errors))
    return max(errors)


def gradient_penalty(critic: nn.Module, x):
    x = x.detach().requires_grad_(True)
    scores = critic(x)
    (grad_x,) = autograd.grad(scores.sum(), x, create_graph=True)
    return ((grad_x.norm(2, dim=1) - 1) ** 2).mean()


def check_gradient_penalty() -> float:
    critic = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    x = torch.randn(8, 3, dtype=torch.float64)
    penalty = gradient_penalty(critic, x)
    penalty.backward()
    weight = critic[0].weight

    def penalty_at(w):
        with torch.no_grad():
            saved = weight.clone()
            weight.copy_(w)
        with torch.enable_grad():
            value = gradient_penalty(critic, x).detach()
        with torch.no_grad():
            weight.copy_(saved)
        return value

    numeric = numeric_grad(penalty_at, weight.detach())
    err = rel_error(weight.grad, numeric)
    print(f"gradient penalty {penalty.item():.4f}: d/dW backward vs numeric {err:.2e}")
    return err


def check_newton() -> float:
    torch.manual_seed(1)
    n, d, lam = 200, 3, 1e-2
    X = torch.randn(n, d, dtype=torch.float64)
    true_w = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    y = (torch.sigmoid(X @ true_w) > torch.rand(n, dtype=torch.float64)).double()
    w = torch.zeros(d, dtype=torch.float64, requires_grad=True)

    def loss_fn(w):
        # Negative log-likelihood: log(1 + e^z) - y z per example, z = x.w
        z = X @ w
        return (F.softplus(z) - y * z).mean() + 0.5 * lam * (w * w).sum()

    def gradient_and_hessian(w):
        (g,) = autograd.grad(loss_fn(w), w, create_graph=True)
        H = torch.stack([autograd.grad(g[i], w, retain_graph=True)[0] for i in range(d)])
        return g, H

    for step in range(8):
        g, H = gradient_and_hessian(w)
        with torch.no_grad():
            w -= torch.linalg.solve(H, g.detach())
        gnorm = g.detach().norm().item()
        print(f"newton step {step}: loss {loss_fn(w).item():.6f}  |grad| {gnorm:.2e}")
        if gnorm < 1e-10:
            break
    g, H = gradient_and_hessian(w)
    # The Hessian of this loss in closed form: X^T diag(p (1 - p)) X / n + lam I.
    p = torch.sigmoid(X @ w.detach())
    closed = (X.T * (p * (1 - p))) @ X / n + lam * torch.eye(d, dtype=torch.float64)
    err = rel_error(H, closed)
    print(f"final |grad| {g.norm().item():.2e}; Hessian vs closed form {err:.2e}")
    return max(g.norm().item(), err)


def main() -> None:
    torch.manual_seed(0)
    worst = max(check_custom_function(), check_tanh_derivatives(), check_gradient_penalty())
    assert worst < 1e-6, f"a derivation disagrees: worst relative error {worst:.2e}"
    newton = check_newton()
    assert newton < 1e-3, f"Newton's method did not converge ({newton:.2e})"
    print("OK: every derivative agrees with its closed form or central differences")


if __name__ == "__main__":
    main()
