"""Exceptions. A shape error is both a ValueError (numpy's habit) and a RuntimeError
(PyTorch's), so code written for either catches it."""


class ShapeError(ValueError, RuntimeError):
    """Operands whose shapes do not fit the op; the message names the op and the shapes."""
