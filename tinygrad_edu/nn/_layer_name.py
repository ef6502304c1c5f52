"""How layers name themselves in errors ('Linear (encoder.fc1)'). Below `nn.functional` in
the import order, so that modules holding both a functional op and its layer can use it;
`nn.linear` re-exports `layer_name` from here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.modes import current_module_path

T = TypeVar("T")


def layer_name(layer: str) -> str:
    """'Upsample (decoder.up1)' inside a module call, 'Upsample' outside."""
    path = current_module_path()
    return f"{layer} ({path})" if path else layer


def named_call(layer: Any, call: Callable[[], T]) -> T:
    """call(); an error of the functional op (which names only itself) gets the layer's
    name and path in front: 'AdaptiveMaxPool2d (head.pool): adaptive_max_pool2d: ...'."""
    try:
        return call()
    except (ShapeError, ValueError, TypeError, IndexError, NotImplementedError) as e:
        raise type(e)(f"{layer_name(type(layer).__name__)}: {e}") from None
