"""`F.bilinear` and `nn.Bilinear`, as PyTorch: y_k = x1^T A_k x2 + b_k, one einsum."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import einsum
from tinygrad_edu.modes import get_default_dtype
from tinygrad_edu.nn import init
from tinygrad_edu.nn._layer_name import named_call
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["bilinear", "Bilinear"]


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Tensor:
    """y[..., k] = sum_ij input1[..., i] weight[k, i, j] input2[..., j] + bias[k]: input1
    (*, in1), input2 (*, in2) with the same leading dims, weight (out, in1, in2), bias
    (out,)."""
    x1, x2, w = as_tensor(input1), as_tensor(input2), as_tensor(weight)
    shapes = f"input1 {x1.shape}, input2 {x2.shape}, weight {w.shape}"
    if bias is not None:
        shapes += f", bias {as_tensor(bias).shape}"
    if w.ndim != 3:
        raise ShapeError(f"bilinear: weight must be 3-D (out_features, in1_features, "
                         f"in2_features), got {shapes}")
    if x1.ndim == 0 or x1.shape[:-1] != x2.shape[:-1] or x2.ndim == 0:
        raise ShapeError(f"bilinear: input1 and input2 must have the same leading dims "
                         f"(*, in1_features) and (*, in2_features), got {shapes}")
    if x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2]:
        raise ShapeError(f"bilinear: the last dims of input1 and input2 must be in1_features "
                         f"= {w.shape[1]} and in2_features = {w.shape[2]}, got {shapes}")
    if bias is not None and as_tensor(bias).shape != (w.shape[0],):
        raise ShapeError(f"bilinear: bias must have shape (out_features,) = ({w.shape[0]},), "
                         f"got {shapes}")
    y = einsum("...i,kij,...j->...k", x1, w, x2)
    return y if bias is None else y + bias


class Bilinear(Module):
    """y = x1^T A x2 + b with `weight` A of shape (out_features, in1_features,
    in2_features) and `bias` (out_features,), both U(-1/sqrt(in1_features),
    1/sqrt(in1_features)) as PyTorch's reset_parameters. `generator` seeds that draw."""

    weight: Parameter
    bias: Parameter | None

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None,
                 generator: Any = None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        dt = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dt))
        self.register_parameter("bias", Parameter(np.empty(out_features, dt)) if bias else None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        bound = 1.0 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound, generator=generator)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return named_call(self, lambda: bilinear(input1, input2, self.weight, self.bias))

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
