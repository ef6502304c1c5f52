"""`tinygrad_edu.compile(model)`, PyTorch's `torch.compile`, and `CompiledModule`, the
compiled `nn.Module` (PyTorch's `OptimizedModule`).

The tracer and code generator are the core package `tinygrad_edu.compile` (`Compiled`,
docs/compile.md); it sits below nn and imports nothing from it. This module is the one place
that needs both: the entry point wraps a Module in a `CompiledModule`, itself a Module, and
hands any other callable to `Compiled`. The facade exports the entry point as
`tinygrad_edu.compile`.
"""

from __future__ import annotations

from typing import Any

from tinygrad_edu.compile import Compiled
from tinygrad_edu.nn.module import Module

__all__ = ["CompiledModule", "compile"]


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: Any = None, mode: str | None = None, options: Any = None,
            disable: bool = False, **kwargs: Any) -> Any:
    """Compile a function of tensors, or an `nn.Module` (its forward, with its parameters
    as inputs), into generated numpy code; as `torch.compile`, it returns a callable (a
    Module for a Module), `torch.compile(**options)` returns a decorator, and
    `disable=True` returns the model itself. The other options are PyTorch's (`mode=`,
    `fullgraph=`, `dynamic=`, `backend=`...), accepted and changing nothing here."""
    if model is None:
        return lambda m: compile(m, disable=disable)
    if disable:
        return model
    if isinstance(model, Module):
        return CompiledModule(model)
    return Compiled(model)


class CompiledModule(Module):
    """A compiled `nn.Module`, itself a Module (as PyTorch's `OptimizedModule`): its
    parameters, `state_dict` (keys prefixed `_orig_mod.`, as PyTorch's), `train()`/`eval()`
    are the original module's, so optimizers and the Solver take it as they take the model;
    calling it runs the generated code. Other attributes are the original module's."""

    def __init__(self, module: Module) -> None:
        super().__init__()
        self._orig_mod = module
        self.__dict__["_compiled"] = Compiled(module)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.__dict__["_compiled"](*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)  # no module scope: names are the module's own

    @property
    def source(self) -> str:
        """The generated code of the last trace."""
        return str(self.__dict__["_compiled"].source)

    @property
    def traces(self) -> int:
        return int(self.__dict__["_compiled"].traces)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_modules"]["_orig_mod"], name)
