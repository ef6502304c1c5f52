"""Elementwise primitives. Binary ones see operands of equal shape and dtype: the Tensor
front end broadcasts through `Expand` first, whose backward is the only place a gradient
is summed back to a smaller shape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.function import Function

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


def _const(like: Tensor, array: Any) -> Tensor:
    """A constant (no graph) with the dtype of `like`."""
    return like._wrap(np.asarray(array, dtype=like.array.dtype))


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    __slots__ = ()
    saves = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""

    __slots__ = ()
    saves = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    __slots__ = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (grad * b if na else None), (grad * a if nb else None)


class Div(Function):
    """y = a / b;  dy/da = 1 / b, dy/db = -a / b^2."""

    __slots__ = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (grad / b if na else None), (-grad * a / (b * b) if nb else None)


class Sign(Function):
    """y = sign(x) in {-1, 0, 1};  dy/dx = 0 everywhere (at 0 too, as PyTorch): the graph
    is kept so that a loss built on it backpropagates zeros instead of failing."""

    saves = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sign(x)

    def backward(self, grad: Tensor) -> Tensor:
        return grad._wrap(np.zeros_like(grad.array))


class Neg(Function):
    """y = -x;  dy/dx = -1."""

    __slots__ = ()
    saves = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, grad: Tensor) -> Tensor:
        return -grad


class Pow(Function):
    """y = a ** b;  dy/da = b a^(b-1), dy/db = y log(a).

    As PyTorch: dy/da is 0 where b == 0 and a == 0 (so x**0 has gradient 0 at x = 0, and
    x**1 a second derivative of 0 there; elsewhere b a^(b-1) is already 0 at b = 0 and its
    derivative in b stays exact), and dy/db is 0 where a == 0 and b >= 0 (the limit of
    a^b log a); for a < 0 dy/db is NaN, as log(a) is (a real power has no derivative in b
    there, and NaN says so instead of hiding it).
    """

    __slots__ = ()
    saves = ("inputs", "output")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.power(a, b)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        na, nb = self.needs_input_grad
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if na:
                nan_point = (b.array == 0) & (a.array == 0)  # 0 * 0^-1: the limit is 0
                ga = grad * (b * a ** (b - 1)).where(~nan_point, _const(a, 0.0))
            if nb:
                limit = (a.array == 0) & (b.array >= 0)
                gb = grad * (self.output * a.log()).where(~limit, _const(a, 0.0))
        return ga, gb


class Exp(Function):
    """y = exp(x);  dy/dx = y."""

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, grad: Tensor) -> Tensor:
        return grad * self.output


class Log(Function):
    """y = log(x);  dy/dx = 1 / x."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad / x


class Log1p(Function):
    """y = log(1 + x), computed without forming 1 + x (exact for tiny x);  dy/dx = 1/(1+x)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log1p(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad / (x + 1.0)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def backward(self, grad: Tensor) -> Tensor:
        return grad / (self.output * 2.0)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x), and 0 at x = 0 (PyTorch's choice; a subgradient)."""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    def backward(self, grad: Tensor) -> Tensor:
        (x,) = self.inputs
        return grad * _const(grad, np.sign(x.array))


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y).

    Computed as exp(-log(1 + exp(-x))) with logaddexp, so no exp ever overflows and tiny
    values keep their precision; the derivative uses only y, which lies in [0, 1].
    """

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(-np.logaddexp(0, -x)).astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return grad * y * (1.0 - y)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where y > 0, else 0 (relu'(0) = 0, as PyTorch and the
    courses' `dout * (x > 0)`).

    The backward reads its mask off the output, so the input is free once the forward is
    done (a conv output, typically); it is the product with that constant mask, so
    relu'' = 0."""

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, x.dtype.type(0))

    def forward_inplace(self, x: np.ndarray) -> None:
        """`relu_` (Function.apply_inplace): the backward needs only the output."""
        np.maximum(x, x.dtype.type(0), out=x)

    def backward(self, grad: Tensor) -> Tensor:
        return grad * _const(grad, self.output.array > 0)


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2 (finite for any x, since |y| <= 1)."""

    __slots__ = ()
    saves = ("output",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return grad * (1.0 - y * y)


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger operand.

    Ties share the gradient equally (1/2 each), so the two gradients still sum to the
    upstream value. (relu is not built on this: relu'(0) = 0.)
    """

    __slots__ = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        share = (a.array > b.array) + 0.5 * (a.array == b.array)
        na, nb = self.needs_input_grad
        return (grad * _const(grad, share) if na else None,
                grad * _const(grad, 1.0 - share) if nb else None)


class Minimum(Function):
    """y = min(a, b) elementwise;  the gradient goes to the smaller operand; ties split."""

    __slots__ = ()

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        share = (a.array < b.array) + 0.5 * (a.array == b.array)
        na, nb = self.needs_input_grad
        return (grad * _const(grad, share) if na else None,
                grad * _const(grad, 1.0 - share) if nb else None)


class Where(Function):
    """y = a where cond else b;  dy/da = cond, dy/db = not cond (cond is a constant mask)."""

    __slots__ = ("cond",)
    saves = ()

    def forward(self, a: np.ndarray, b: np.ndarray, cond: np.ndarray) -> np.ndarray:
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        zero = grad._wrap(np.zeros((), dtype=grad.array.dtype))
        zeros = zero.expand(grad.shape)
        na, nb = self.needs_input_grad
        return (Where.apply(grad, zeros, cond=self.cond) if na else None,
                Where.apply(zeros, grad, cond=self.cond) if nb else None)


class Cast(Function):
    """y = x converted to `dtype`;  dy/dx = 1 (the gradient is converted back)."""

    __slots__ = ("source",)
    saves = ()

    def forward(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        self.source = x.dtype
        return x.astype(dtype)

    def backward(self, grad: Tensor) -> Tensor:
        return grad.to(self.source)


class Copy(Function):
    """y = a copy of x (its own memory);  dy/dx = 1."""

    __slots__ = ()
    saves = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, grad: Tensor) -> Tensor:
        return grad
