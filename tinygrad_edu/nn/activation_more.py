"""More activation modules and the similarity modules, as `torch.nn` has them: thin
wrappers around `nn.functional` (the maths and the kink conventions are documented on the
functions, in `nn._activations_functional`). Attributes and reprs are PyTorch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.modes import get_default_dtype
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn.activation import Hardtanh
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor

__all__ = ["CELU", "SELU", "Mish", "ReLU6", "Hardswish", "Hardsigmoid", "Softsign",
           "LogSigmoid", "Softmin", "GLU", "PReLU", "CosineSimilarity", "PairwiseDistance"]


class _InplaceActivation(Module):
    """An activation whose only option is `inplace` (overwrite the input, as PyTorch)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)); see `F.celu`."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(_InplaceActivation):
    """scale * elu(x, alpha) with the self-normalizing constants; see `F.selu`."""

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input, self.inplace)


class Mish(_InplaceActivation):
    """x * tanh(softplus(x)); see `F.mish`."""

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input, self.inplace)


class ReLU6(Hardtanh):
    """min(max(x, 0), 6), a Hardtanh(0, 6) as in PyTorch (gradient 0 at 0 and 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.relu6(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardswish(_InplaceActivation):
    """x * relu6(x + 3) / 6; gradient 0 at -3 and 1 at 3 (see `F.hardswish`)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input, self.inplace)

    def extra_repr(self) -> str:
        return ""


class Hardsigmoid(_InplaceActivation):
    """relu6(x + 3) / 6; gradient 0 at -3 and 3 (see `F.hardsigmoid`)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input, self.inplace)

    def extra_repr(self) -> str:
        return ""


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class LogSigmoid(Module):
    """log(sigmoid(x)), stable for any x."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Softmin(Module):
    """softmax(-x) along `dim` (without `dim`, PyTorch's legacy choice and warning)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along `dim`."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _ParameterCount(int):
    """PReLU's `num_parameters`: PyTorch's int attribute (the constructor's argument) that
    can still be called as `Module.num_parameters()` (the count of scalar parameters),
    which our repr and summary use."""

    module: Module

    def __new__(cls, value: int, module: Module) -> _ParameterCount:
        count = super().__new__(cls, value)
        count.module = module
        return count

    def __call__(self, trainable_only: bool = False) -> int:
        return Module.num_parameters(self.module, trainable_only)


class PReLU(Module):
    """x if x > 0 else weight * x, with a learnable `weight` of shape (num_parameters,)
    filled with `init`: one slope for every channel (num_parameters=1) or one per channel
    (dim 1 of the input). See `F.prelu` for the kink at 0."""

    weight: Parameter

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        self._num_parameters = int(num_parameters)
        self.init = init
        dt = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(np.full((self._num_parameters,), init, dtype=dt))

    @property
    def num_parameters(self) -> _ParameterCount:  # type: ignore[override]
        return _ParameterCount(self._num_parameters, self)

    def reset_parameters(self) -> None:
        self.weight.data.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class CosineSimilarity(Module):
    """`F.cosine_similarity(x1, x2, dim, eps)` as a module."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """`F.pairwise_distance(x1, x2, p, eps, keepdim)` as a module (p is kept as `norm`,
    PyTorch's attribute name)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
