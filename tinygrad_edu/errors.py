"""Exceptions. A shape error is both a ValueError (numpy's habit) and a RuntimeError
(PyTorch's), so code written for either catches it."""


class ShapeError(ValueError, RuntimeError):
    """Operands whose shapes do not fit the op; the message names the op and the shapes."""


class DataFormatError(ValueError):
    """A file is corrupted, truncated, empty or not in the expected format (a data set, an
    `.npz` from `save`, a checkpoint); the message names the op, the file, what was found
    and what was expected. A ValueError, as numpy raises for a bad file."""
