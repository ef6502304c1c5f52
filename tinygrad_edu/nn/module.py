"""`Module`: the base class of layers and models, as `torch.nn.Module`.

Parameters, buffers and sub-modules assigned as attributes are registered (in
`_parameters`, `_buffers`, `_modules`) *and* kept in the instance `__dict__`, so reading
`self.weight` in `forward` is a plain attribute lookup with no `__getattr__` detour.

Calling a module runs `forward` inside `modes.module_scope` of the module's
dotted name below the module being called (`encoder.fc1`), so every graph node records
where it was created. The names of a tree are computed once per change of its structure
and cached on the root; a call costs a dictionary lookup and two assignments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified
from tinygrad_edu.creation import from_numpy
from tinygrad_edu.modes import current_module_path, module_scope
from tinygrad_edu.nn import _state_dict
from tinygrad_edu.nn._state_dict import IncompatibleKeys
from tinygrad_edu.nn.parameter import Buffer, Parameter
from tinygrad_edu.tensor import Tensor

__all__ = ["Module", "Parameter", "Buffer", "IncompatibleKeys"]

# Bumped whenever any module gains or loses a sub-module; cached name tables compare it.
_tree_version = [0]


class _CallScope:
    """The tree of names in use by the module calls in progress (None outside any call)."""

    __slots__ = ("paths", "prefix")

    def __init__(self) -> None:
        self.paths: dict[Module, str] | None = None
        self.prefix = ""


_scope = _CallScope()


class Module:
    """Base class of every layer and model: subclass it, assign `Parameter`s and sub-modules
    as attributes in `__init__` (after `super().__init__()`), and write `forward`."""

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_path_cache"] = None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: forward() is not implemented")

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = _scope
        outer_paths, outer_prefix = scope.paths, scope.prefix
        rel = None if outer_paths is None else outer_paths.get(self)
        paths: dict[Module, str] | None
        if rel is None:
            # Not inside a call of an ancestor: this module is the root of the names, nested
            # under whatever path is active (a caller's, or "" at top level).
            paths, prefix = self._tree_paths(), current_module_path()
            path = prefix
        else:
            paths, prefix = outer_paths, outer_prefix
            path = f"{prefix}.{rel}" if prefix else rel
        scope.paths, scope.prefix = paths, prefix
        try:
            with module_scope(path):
                return self.forward(*args, **kwargs)
        finally:
            scope.paths, scope.prefix = outer_paths, outer_prefix

    def _tree_paths(self) -> dict[Module, str]:
        cache = self.__dict__.get("_path_cache")
        if cache is not None and cache[0] == _tree_version[0]:
            return cache[1]  # type: ignore[no-any-return]
        paths = {m: name for name, m in self.named_modules()}
        self.__dict__["_path_cache"] = (_tree_version[0], paths)
        return paths

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if params is None:
            if isinstance(value, Parameter | Module | Buffer):
                raise AttributeError(
                    f"{type(self).__name__}: cannot assign '{name}' before "
                    "Module.__init__() runs; call super().__init__() first")
            object.__setattr__(self, name, value)
            return
        # PyTorch's order of checks: a registered parameter only takes a Parameter or None,
        # a registered sub-module (unless a Parameter replaces it) a Module or None.
        if isinstance(value, Parameter):
            self._forget(name, keep=params)
            params[name] = value
            d[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to parameter '{name}' (a Parameter or None is expected)")
            params[name] = None
            d[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
            d[name] = value
            _tree_version[0] += 1
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to sub-module '{name}' (a Module or None is expected)")
            self._modules[name] = None
            d[name] = None
            _tree_version[0] += 1
        elif isinstance(value, Buffer):
            self.register_buffer(name, from_numpy(value.array), persistent=value.persistent)
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to buffer '{name}' (a Tensor or None is expected)")
            self._buffers[name] = value
            d[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: registered names live in __dict__.
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._modules:
            _tree_version[0] += 1
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent.discard(name)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict[str, Any] | None = None) -> None:
        """Drop `name` from every registry but `keep` (the one it is about to be registered
        in) before it is registered again: re-registering under a name already in `keep`
        then keeps its place in the order (`b.weight = a.weight` leaves 'weight' before
        'bias', as PyTorch)."""
        if keep is not self._modules and self._modules.pop(name, None) is not None:
            _tree_version[0] += 1
        for table in (self._parameters, self._buffers):
            if table is not keep:
                table.pop(name, None)
        self._non_persistent.discard(name)
        self.__dict__.pop(name, None)

    def _check_name(self, name: Any, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{what}: call Module.__init__() before registering '{name}'")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{what}: name must be a non-empty string without '.', got {name!r}")
        if (name not in self._parameters and name not in self._buffers
                and name not in self._modules and hasattr(type(self), name)):
            raise KeyError(f"{what}: '{name}' is already a method or class attribute of "
                           f"{type(self).__name__}")

    def _register(self, table: dict[str, Any], what: str, name: str, value: Any,
                  kind: type, hint: str = "") -> None:
        self._check_name(name, what)
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{what}: '{name}' must be a {kind.__name__} or None, got "
                            f"{type(value).__name__}{hint}")
        self._forget(name, keep=table)
        table[name] = value
        self.__dict__[name] = value

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._register(self._parameters, "register_parameter", name, param, Parameter,
                       " (wrap it: nn.Parameter(tensor))")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (BatchNorm's running statistics);
        persistent buffers go into the state_dict."""
        self._register(self._buffers, "register_buffer", name, tensor, Tensor)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._register(self._modules, "add_module", name, module, Module)
        _tree_version[0] += 1

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        module: Module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no "
                                     f"sub-module '{part}' (in '{target}')")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        owner, _, name = target.rpartition(".")
        param = self.get_submodule(owner)._parameters.get(name)
        if param is None:
            raise AttributeError(f"get_parameter: no parameter '{target}'")
        return param

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Every module of the tree with its dotted name, this one first as ''."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[Module] = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[Tensor] = set()
        tree = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        for module_name, module in tree:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and value in seen):
                    continue
                seen.add(value)
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ('body.fc1.weight', ...); shared ones once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of scalar parameters (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ modes and updates
    def train(self, mode: bool = True) -> Module:
        """Training mode on (or off) for this module and every sub-module; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (BatchNorm uses running statistics, Dropout is the identity)."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = from_numpy(np.zeros_like(p.array))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module (children first) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """`to(dtype)` converts floating parameters and buffers in place; a device ('cpu')
        is accepted and ignored."""
        dtype = kwargs.get("dtype")
        for a in args:
            if not (isinstance(a, str) and a == "cpu"):
                dtype = a
        if dtype is None:
            return self
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are supported, got {dt}")
        changed = [t for t in [*self.parameters(), *self.buffers()]
                   if t.array.dtype.kind == "f" and t.array.dtype != dt]
        for t in changed:
            t.array = t.array.astype(dt)
            if t.grad is not None:
                t.grad = from_numpy(t.grad.array.astype(dt))
        mark_modified(*changed)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def cpu(self) -> Module:
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, with PyTorch's keys ('0.weight',
        'bn.running_mean', 'bn.num_batches_tracked'); values share memory with the module
        (detached unless keep_vars)."""
        return _state_dict.state_dict(self, destination, prefix, keep_vars)

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into the parameters and buffers. Shape mismatches
        always raise; missing or unexpected keys raise when `strict`. Every problem is
        listed, key by key, before anything is changed. Returns (missing, unexpected)."""
        return _state_dict.load_state_dict(self, state_dict, strict)

    def save(self, path: Any) -> None:
        """Write the state_dict to a numpy `.npz` archive (numpy adds '.npz' if missing)."""
        _state_dict.save(self, path)

    def load(self, path: Any, strict: bool = True) -> Module:
        """Load a `.npz` written by `save` (never unpickles objects); returns self."""
        _state_dict.load(self, path, strict)
        return self

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses (layers override it)."""
        return ""

    def _own_summary(self) -> str:
        own = [f"{k} {tuple(p.shape)}" for k, p in self._parameters.items() if p is not None]
        count = self.num_parameters()
        if not count:
            return ""
        return f"  # {', '.join(own)}{': ' if own else ''}{count:,} params"

    def __repr__(self) -> str:
        extra = self.extra_repr()
        summary = self._own_summary()
        children = [(n, m) for n, m in self._modules.items() if m is not None]
        if not children:
            return f"{type(self).__name__}({extra}){summary}"
        lines = [f"{type(self).__name__}({summary}"]
        if extra:
            lines += ["  " + line for line in extra.split("\n")]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)
