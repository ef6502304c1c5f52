"""`Size`, as `torch.Size`: a tuple of ints that knows its number of elements.

A Size is a tuple (it compares equal to one, unpacks, indexes); slicing it, or adding or
repeating it, gives a Size again. `Tensor.size()` returns one; `Tensor.shape` stays numpy's
plain tuple (read on every op, so not rebuilt each time), equal to the Size of its ints.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any, SupportsIndex, overload


class Size(tuple[int, ...]):
    """`Size([2, 3])`; `Size()` is the shape of a 0-d tensor."""

    def __new__(cls, sizes: Iterable[Any] = ()) -> Size:
        items = []
        for i, n in enumerate(sizes):
            try:
                items.append(operator.index(n))
            except TypeError:
                raise TypeError(f"Size: takes an iterable of ints (item {i} is "
                                f"{type(n).__name__})") from None
        return super().__new__(cls, items)

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (1 for `Size()`)."""
        count = 1
        for n in self:
            count *= n
        return count

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Size: ...

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other: Any) -> Size:  # type: ignore[override]
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times: SupportsIndex) -> Size:
        return Size(tuple(self) * times)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"
