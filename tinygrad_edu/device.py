"""`device`, as `torch.device`: where a tensor lives. tinygrad_edu computes with numpy, so
the one device that exists is the CPU; asking for another is an error that says so."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

#: device types PyTorch knows by name: they parse (so `device('cuda')` can be written), but
#: only 'cpu' can hold a tensor here
KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "ipu", "xla", "lazy", "vulkan",
               "mtia", "hpu", "privateuseone")
AVAILABLE = ("cpu",)


class device:  # noqa: N801  (PyTorch's spelling)
    """`device('cpu')`, `device('cpu:0')`, `device('cpu', 0)`; equal to another device of the
    same type and index (and, as in PyTorch, not to a string)."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            index = type.index if index is None else index
            type = type.type  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu', got {type!r}")
        name, _, number = type.partition(":")
        if name not in KNOWN_TYPES:
            raise RuntimeError(f"device: unknown device type {name!r}; expected one of "
                               f"{', '.join(KNOWN_TYPES)} (only 'cpu' is available here)")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(number)
        self.type, self.index = name, index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type,
                                                                           other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{extra})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def check_device(where: Any, op: str) -> None:
    """Raise unless `where` (None, a string or a device) names the CPU."""
    if where is None:
        return
    d = where if isinstance(where, device) else device(where)
    if d.type not in AVAILABLE:
        raise RuntimeError(f"{op}: device {str(d)!r} is not available: tinygrad_edu computes "
                           "with numpy, so the only device is 'cpu'")


F = TypeVar("F", bound=Callable[..., Any])


def accepts_device(fn: F) -> F:
    """Let a creation function take PyTorch's `device=` (checked: only the CPU exists)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, device: Any = None, **kwargs: Any) -> Any:
        check_device(device, fn.__name__)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
