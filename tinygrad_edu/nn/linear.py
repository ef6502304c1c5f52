"""Affine and shape layers: Identity, Linear, Flatten, Unflatten, Dropout."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import get_default_dtype
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init
from tinygrad_edu.nn._layer_name import layer_name  # noqa: F401  (re-exported: layers import it from here)
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.ops.linalg import Linear as LinearOp
from tinygrad_edu.tensor import Tensor

__all__ = ["Identity", "Linear", "Flatten", "Unflatten", "Dropout", "layer_name"]


def empty_parameter(shape: tuple[int, ...], dtype: Any = None) -> Parameter:
    """An uninitialized float parameter (the layer's reset_parameters fills it)."""
    return Parameter(np.empty(shape, dtype=np.dtype(dtype or get_default_dtype())))


class Identity(Module):
    """Returns its input unchanged (extra constructor arguments are accepted and ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """y = x @ W^T + b. `weight` is (out_features, in_features) and `bias` (out_features,),
    as PyTorch; both start as U(-1/sqrt(in_features), 1/sqrt(in_features)) (PyTorch's
    kaiming_uniform_ with a = sqrt(5)). `generator` seeds that draw."""

    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        if not all(isinstance(n, int | np.integer) and not isinstance(n, bool)
                   for n in (in_features, out_features)):
            raise TypeError(f"Linear: in_features and out_features must be ints, got "
                            f"{in_features!r} and {out_features!r}")
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: in_features and out_features must be >= 0, got "
                             f"{in_features} and {out_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = empty_parameter((out_features, in_features), dtype)
        if bias:
            self.bias = empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input: Tensor) -> Tensor:
        shape, weight, bias = input.shape, self.weight, self.bias
        if weight.ndim != 2 or (bias is not None and bias.shape != weight.shape[:1]):
            # only when the parameters were replaced (functional_call, a hand-made assignment)
            b = "no bias" if bias is None else f"bias of shape {bias.shape}"
            raise ShapeError(f"{layer_name('Linear')}: weight of shape {weight.shape} and {b} "
                             "do not form a layer: weight must be (out_features, in_features) "
                             f"= ({self.out_features}, {self.in_features}) and bias "
                             f"(out_features,) (input shape {tuple(shape)})")
        if not shape or shape[-1] != weight.shape[1]:
            raise ShapeError(f"{layer_name('Linear')}: expected input of shape (..., "
                             f"{weight.shape[1]}) (in_features={weight.shape[1]}, weight of "
                             f"shape {weight.shape}), got {tuple(shape)}")
        if input.dtype != weight.dtype:
            input = input.to(weight.dtype)
        if bias is None:
            return LinearOp.apply(input, weight)
        return LinearOp.apply(input, weight, bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge dims start_dim..end_dim into one; the default keeps the batch dim."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size` (one entry may be -1)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        nd = max(input.ndim, 1)
        if not isinstance(self.dim, int | np.integer) or not -nd <= self.dim < nd:
            raise IndexError(f"{layer_name('Unflatten')}: dim {self.dim} is out of range for "
                             f"input shape {input.shape} (valid: {-nd}..{nd - 1})")
        d = int(self.dim) % nd
        n = input.shape[d]
        sizes = self.unflattened_size
        known = int(np.prod([s for s in sizes if s != -1]))
        fits = n % known == 0 if -1 in sizes and known else known == n
        if not fits:
            raise ShapeError(f"{layer_name('Unflatten')}: cannot split dim {self.dim} of size "
                             f"{n} (input shape {input.shape}) into {sizes}")
        return input.unflatten(d, sizes)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Inverted dropout with probability p in training; the identity in eval mode. The
    mask comes from `generator` if given, else the library's default generator."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Any = None) -> None:
        super().__init__()
        if not isinstance(p, int | float | np.integer | np.floating) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p!r}")
        self.p, self.inplace = float(p), inplace
        # A seed becomes one generator here: re-seeding on every call would repeat the mask.
        is_seed = isinstance(generator, int | np.integer) and not isinstance(generator, bool)
        self.generator = np.random.default_rng(int(generator)) if is_seed else generator

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
