"""The named tuples some ops return, as PyTorch's `torch.return_types`."""

from __future__ import annotations

from typing import Any, NamedTuple


class ValuesIndices(NamedTuple):
    """What `max/min/topk/sort` with a dim return, as PyTorch's `return_types`."""

    values: Any
    indices: Any
