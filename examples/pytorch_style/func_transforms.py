"""A PyTorch script, unchanged but for its imports: `torch.func` transforms on the
Rosenbrock function -- gradients, Hessians (a second derivative built from two reverse
passes), Jacobians both ways, vector-Jacobian and Jacobian-vector products -- checked
against the closed forms, then used for Newton's method.

Run: python examples/pytorch_style/func_transforms.py
"""
# PyTorch imports (the original script has these lines where the tinygrad_edu ones are):
#   import torch
#   from torch.func import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp

import tinygrad_edu as torch
from tinygrad_edu.func import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosenbrock_grad(x):
    """d/dx_i: -400 x_i (x_{i+1} - x_i^2) - 2 (1 - x_i) + 200 (x_i - x_{i-1}^2)."""
    g = torch.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    n = x.numel()
    H = torch.zeros(n, n, dtype=x.dtype)
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def residuals(x):
    """The vector whose squared norm is the Rosenbrock function."""
    return torch.cat([10 * (x[1:] - x[:-1] ** 2), 1 - x[:-1]])


def rel_error(a, b):
    return ((a - b).abs().max() / (a.abs() + b.abs()).max().clamp(min=1e-12)).item()


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(5, dtype=torch.float64)
    errors = {}
    g, value = grad_and_value(rosenbrock)(x)
    errors["grad vs closed form"] = rel_error(g, rosenbrock_grad(x))
    errors["grad_and_value value"] = rel_error(value, rosenbrock(x))
    errors["hessian vs closed form"] = rel_error(hessian(rosenbrock)(x), rosenbrock_hessian(x))
    errors["jacrev(grad) vs hessian"] = rel_error(jacrev(grad(rosenbrock))(x),
                                                  hessian(rosenbrock)(x))
    J = jacrev(residuals)(x)
    errors["jacfwd vs jacrev"] = rel_error(jacfwd(residuals)(x), J)
    u, v = torch.randn(5, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    out, Ju = jvp(residuals, (x,), (u,))
    out2, vjp_fn = vjp(residuals, x)
    (vJ,) = vjp_fn(v)
    errors["jvp vs J u"] = rel_error(Ju, J @ u)
    errors["vjp vs v^T J"] = rel_error(vJ, v @ J)
    errors["<v, J u> vs <J^T v, u>"] = rel_error((v * Ju).sum(), (vJ * u).sum())
    errors["gauss-newton gradient"] = rel_error(2 * J.T @ out, g)
    for name, err in errors.items():
        print(f"{name:28s} {err:.1e}")
    worst = max(errors.values())
    assert worst < 1e-10, f"a transform disagrees with its closed form: {worst:.2e}"

    x = torch.tensor([-1.2, 1.0, -0.5, 0.8, 1.1], dtype=torch.float64)
    steps = 0
    g = grad(rosenbrock)(x)
    while g.norm() > 1e-10 and steps < 50:
        x = x - torch.linalg.solve(hessian(rosenbrock)(x), g)
        g = grad(rosenbrock)(x)
        steps += 1
    print(f"Newton's method: {steps} steps to x = {[round(v, 6) for v in x.tolist()]}")
    assert torch.allclose(x, torch.ones(5, dtype=torch.float64), atol=1e-8)
    print("OK: every torch.func transform matches the closed forms; Newton found the minimum")


if __name__ == "__main__":
    main()
