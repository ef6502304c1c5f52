"""Neural-network modules, layers, initializers and functional ops (as `torch.nn`)."""

from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Buffer, Parameter

__all__ = ["Module", "Parameter", "Buffer"]
