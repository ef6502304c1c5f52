# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""Gradient hooks, as PyTorch's `Tensor.register_hook` (a mixin, and the function the
engine calls: `engine_steps.Step.hooked`).

A hook is called with a tensor's gradient when backward has summed it, before anyone
receives it: a leaf's `.grad`, a retained gradient, `grad()`'s answer, and, for an
intermediate, the nodes further back. A hook that returns a Tensor replaces the gradient.

A leaf keeps its hooks itself. An intermediate's hooks are kept by the node that made it
(weakly, so they go with the graph), as PyTorch does: the hook still runs when the tensor
itself was dropped, e.g. an activation hooked inside `forward`. A backward that frees the
graph forgets them (a hook that refers to its own tensor would otherwise keep the node
alive: a weak key is never freed while its value leads back to it).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tinygrad_edu.modes import _tensor_types

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

_ids = itertools.count()
#: the hooks of intermediate tensors, by the node (Function) that made each one
_node_hooks: weakref.WeakKeyDictionary[Any, dict[int, Callable[..., Any]]] = (
    weakref.WeakKeyDictionary())


class _Live:
    """How many hooks were registered and not removed: while none are, the engine skips
    its hook step (a hook dropped with its graph keeps the count up: the step then runs
    and finds nothing, which is only slower)."""

    count = 0


LIVE = _Live()


class RemovableHandle:
    """What `register_hook` returns: `remove()` takes the hook off again (also as a
    context manager, which removes it on exit)."""

    def __init__(self, hooks: dict[int, Callable[..., Any]], hook: Callable[..., Any]) -> None:
        self.hooks = hooks
        self.id = next(_ids)
        hooks[self.id] = hook
        LIVE.count += 1

    def remove(self) -> None:
        if self.hooks.pop(self.id, None) is not None:
            LIVE.count -= 1

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class HooksMixin:
    # The hooks live on the tensor itself; tensors made by the fast paths never set the
    # slot, so it is read with getattr(..., None).
    __slots__ = ("_hooks",)
    _hooks: dict[int, Callable[..., Any]]

    def register_hook(self: Tensor, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` whenever this tensor's gradient is computed; a Tensor it returns
        replaces the gradient. Hooks run in the order they were registered, each on what the
        one before returned, before the gradient reaches `.grad` or a `retain_grad()`."""
        if not self.requires_grad:
            raise RuntimeError(f"register_hook: cannot register a hook on a tensor that does not "
                               f"require grad (shape {self.shape})")
        if self._ctx is not None:
            return RemovableHandle(_node_hooks.setdefault(self._ctx, {}), hook)
        hooks = getattr(self, "_hooks", None)
        if hooks is None:
            hooks = self._hooks = {}
        return RemovableHandle(hooks, hook)


def hooks_of(owner: Any) -> dict[int, Callable[..., Any]] | None:
    """The hooks of a leaf tensor, or of the intermediate tensor a node made."""
    if isinstance(owner, _tensor_types.Tensor):
        return getattr(owner, "_hooks", None)
    return _node_hooks.get(owner) if _node_hooks else None


def forget_hooks(nodes: Iterable[Any]) -> None:
    """Drop the hooks of the intermediates these (freed) nodes made."""
    if _node_hooks:
        for node in nodes:
            _node_hooks.pop(node, None)


def run_hooks(hooks: dict[int, Callable[..., Any]], grad: Tensor) -> Tensor:
    """The gradient after the hooks, each on what the one before returned."""
    for key in list(hooks):  # a hook may remove itself (or another) while running
        hook = hooks.get(key)
        new = None if hook is None else hook(grad)
        if new is None:
            continue
        if not isinstance(new, _tensor_types.Tensor) or new.shape != grad.shape:
            got = new.shape if isinstance(new, _tensor_types.Tensor) else type(new).__name__
            raise RuntimeError(f"register_hook: a hook returned {got} for a gradient of shape "
                               f"{grad.shape}; return a Tensor of that shape, or None")
        grad = new if new.dtype == grad.dtype else new.to(grad.dtype)
    return grad

