"""`Parameter`: a Tensor that a `Module` registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and is registered when assigned to a
    `Module` attribute (as `torch.nn.Parameter`).

    `Parameter(t)` shares `t`'s array (no copy); ops on a Parameter return plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        array = data.array if isinstance(data, Tensor) else data
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (as `torch.nn.Buffer`): saved in the state_dict, never trained."""

    __slots__ = ("persistent",)

    def __init__(self, data: Any, persistent: bool = True) -> None:
        array = data.array if isinstance(data, Tensor) else data
        super().__init__(array)
        self.persistent = persistent
