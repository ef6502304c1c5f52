"""`Optimizer`: the base of every update rule, as `torch.optim.Optimizer`.

An optimizer holds `param_groups` (a list of dicts: `'params'` plus that group's options,
e.g. its own `'lr'`, which schedulers and users may overwrite) and `state` (a dict per
parameter: momentum buffers, running averages, step counts). `step()` updates every
parameter that has a gradient, in place, under `no_grad()`, and marks it modified
(`autograd.mark_modified`) so a graph that saved the old values refuses to backpropagate
through them.

Updates work on the numpy arrays directly (`p.array`, `p.grad.array`) with the in-place
rules of `optim._rules` (shared with the courses' functions in `optim.course`): one small
loop over parameters in Python, no graph, no more temporaries than the same rule written by
hand in numpy. A gradient array is never written to: the engine may have handed the same
array to several tensors.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import enable_grad
from tinygrad_edu.creation import from_numpy
from tinygrad_edu.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]

# State entries that are numbers, not arrays shaped like the parameter, and the Python type
# each is restored as: counters, NAdam's running product of momenta, ASGD's eta and mu.
_SCALAR_STATE: dict[str, type] = {"step": int, "mu_product": float, "eta": float, "mu": float}


class Optimizer(ABC):
    """Base class: `Optimizer(params, defaults)`.

    `params`: an iterable of leaf Tensors, or of dicts (parameter groups) each with a
    `'params'` entry and any options that override `defaults` for that group. As in
    PyTorch, tensors that do not require grad (a frozen layer of `model.parameters()`) are
    accepted and kept in their group; `step()` skips every tensor without a gradient.
    Subclasses implement `step(closure=None)`.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, Tensor | dict):
            raise TypeError(f"{name}: params should be an iterable of Tensors or of dicts "
                            f"(parameter groups), got a single {type(params).__name__}; "
                            "wrap it in a list")
        if isinstance(params, set):
            raise TypeError(f"{name}: params is a set, whose order changes between runs; "
                            "pass a list")
        try:
            groups: list[Any] = list(params)
        except TypeError:
            raise TypeError(f"{name}: params should be an iterable of Tensors or of dicts "
                            f"(parameter groups), got {type(params).__name__}") from None
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list; pass model.parameters() "
                             "or a list of tensors with requires_grad=True")
        if all(isinstance(g, dict) for g in groups):
            for g in groups:
                self.add_param_group(g)
        elif any(isinstance(g, dict) for g in groups):
            raise TypeError(f"{name}: params mixes Tensors and dicts; pass either a list of "
                            "Tensors or a list of parameter-group dicts")
        else:
            self.add_param_group({"params": groups})

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group: `{'params': [...], 'lr': ...}`; missing options take the defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict with a 'params' entry, "
                            f"got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry "
                             f"(keys: {sorted(param_group)})")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(f"{name}: a group's params is a set, whose order changes between "
                            "runs; pass a list")
        params = [params] if isinstance(params, Tensor) else list(params)
        where = "" if not self.param_groups else f" of group {len(self.param_groups)}"
        if not params:
            raise ValueError(f"{name}: parameter group {len(self.param_groups)} is empty")
        for i, p in enumerate(params):
            _check_param(name, p, f"parameter {i}{where}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids) or seen.intersection(ids):
            dup = next(i for i, k in enumerate(ids) if k in seen or ids.index(k) != i)
            raise ValueError(f"{name}: parameter {dup}{where} (shape {params[dup].shape}) "
                             "appears more than once in the parameter groups; each tensor "
                             "may be optimized by one group only")
        group = dict(param_group)
        group["params"] = params
        for key, value in self.defaults.items():
            if value is _REQUIRED and key not in group:
                raise ValueError(f"{name}: parameter group {len(self.param_groups)} does not "
                                 f"set '{key}', which has no default")
            group.setdefault(key, value)
        self.param_groups.append(group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: `.grad = None` (default, as PyTorch), or zeros.

        With `set_to_none=False` each gradient becomes a fresh zero array rather than being
        zeroed in place: the engine may share a gradient array with other tensors.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = from_numpy(np.zeros_like(p.grad.array))

    @abstractmethod
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss."""

    def _states(self, params: list[Tensor], group: dict[str, Any]) -> list[dict[str, Any]]:
        """The state of each parameter, with its `step` count advanced; on the first step
        `{'step': 0, **self._new_state(array, group)}`."""
        states = []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state.update(self._new_state(p.array, group))
            state["step"] += 1
            states.append(state)
        return states

    def _new_state(self, array: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        """A parameter's state arrays before its first step (for `_states`); none beyond the
        step count unless the rule keeps some (Adam's moments, RMSprop's averages)."""
        return {}

    @staticmethod
    def _eval_closure(closure: Callable[[], Any] | None) -> Any:
        # The closure recomputes the loss and calls backward, so it needs grad mode.
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ (de)serialization
    def state_dict(self) -> dict[str, Any]:
        """`{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`.

        Parameters are numbered in group order, as PyTorch does. State arrays are copies
        (numpy arrays); counters and options are Python scalars, `'params'` a list of ints
        and `'betas'` a tuple of floats, so the dict flattens to an `.npz` without pickling.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: _copy_value(v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` (also one read back from an `.npz`: numpy scalars and
        arrays, string keys). Group options are restored too; parameters stay this
        optimizer's own. Sizes and shapes are checked first, so a mismatch changes nothing.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if isinstance(state_dict, str | os.PathLike):
            raise TypeError(f"{name}: expected a state dict, got the path '{state_dict}'; read "
                            "the file first: load_state_dict(tinygrad_edu.load(path))")
        # 'state' may be missing: an optimizer saved before its first step has no state,
        # and a flattened npz has no entry for an empty dict.
        if (not isinstance(state_dict, dict) or "param_groups" not in state_dict
                or not set(state_dict) <= {"state", "param_groups"}):
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
            raise ValueError(f"{name}: expected a dict with keys 'state' and 'param_groups', "
                             f"got {keys}")
        saved_groups = state_dict["param_groups"]
        if isinstance(saved_groups, dict):  # an npz round trip may turn the list into a dict
            saved_groups = [saved_groups[k] for k in sorted(saved_groups, key=int)]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the saved state has {len(saved_groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        by_index: dict[int, Tensor] = {}
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            ids = [int(i) for i in np.asarray(saved["params"]).reshape(-1).tolist()]
            if len(ids) != len(group["params"]):
                raise ValueError(f"{name}: group {g} has {len(ids)} parameters in the saved "
                                 f"state and {len(group['params'])} here")
            by_index.update(zip(ids, group["params"]))
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in state_dict.get("state", {}).items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}: the saved state has an entry for parameter {key}, "
                                 f"which no group lists (parameters: 0..{len(by_index) - 1})")
            new_state[p] = {k: self._restore_entry(name, int(key), k, v, p)
                            for k, v in entries.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = _python_value(v, group.get(k, self.defaults.get(k)))
        self.state = defaultdict(dict, new_state)

    def _restore_entry(self, name: str, index: int, key: str, value: Any, p: Tensor) -> Any:
        """One saved state entry as this optimizer keeps it (LBFGS, whose state is flat
        vectors and lists, overrides this)."""
        return _restore_value(name, index, key, value, p)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


class _Required:
    """Marks an option without a default (a group must then set it)."""

    def __repr__(self) -> str:
        return "<required parameter>"


_REQUIRED: Any = _Required()
required = _REQUIRED


def _check_param(name: str, p: Any, where: str) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"{name}: {where} is a {type(p).__name__}, not a Tensor; optimizers "
                        "take tensors (e.g. model.parameters())")
    if p.grad_fn is not None:
        raise ValueError(f"{name}: {where} (shape {p.shape}) is not a leaf tensor (it was "
                         f"computed by {p.grad_fn.op}); optimize the leaf it came from, or "
                         "make a new leaf with .detach().requires_grad_()")


def _copy_value(v: Any) -> Any:
    if isinstance(v, list):  # LBFGS's histories: lists of arrays
        return [_copy_value(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, Tensor):
        return v.array.copy()
    return v


def _restore_value(name: str, index: int, key: str, v: Any, p: Tensor) -> Any:
    if isinstance(v, Tensor):
        v = v.array
    elif hasattr(v, "__array__") and not isinstance(v, np.ndarray | np.generic):
        v = np.asarray(v)  # e.g. a torch.Tensor from a state dict PyTorch saved
    if key in _SCALAR_STATE:
        return _SCALAR_STATE[key](np.asarray(v).item())
    if isinstance(v, np.ndarray | np.generic) or isinstance(v, list | tuple | float | int):
        arr = np.array(v, dtype=p.dtype)  # always a copy: the saved dict stays untouched
        if arr.shape != p.shape:
            raise ValueError(f"{name}: state '{key}' of parameter {index} has shape "
                             f"{arr.shape}, but the parameter has shape {p.shape}")
        return arr
    return v


def _python_value(v: Any, like: Any) -> Any:
    """An option read back from numpy (0-d arrays, 1-d arrays for tuples) as Python."""
    if isinstance(v, Tensor):
        v = v.array
    if isinstance(v, np.ndarray | np.generic):
        v = v.tolist()
    if isinstance(like, tuple) and isinstance(v, list):
        return tuple(v)
    if isinstance(like, bool) and isinstance(v, int | float):
        return bool(v)
    return v


def _check_range(name: str, option: str, value: Any, low: float, high: float | None = None,
                 open_high: bool = True) -> None:
    """Options checked at construction, as PyTorch: e.g. `Adam: invalid beta1 1.2 ...`."""
    ok = isinstance(value, int | float | np.floating | np.integer) and value >= low
    if ok and high is not None:
        ok = value < high if open_high else value <= high
    if not ok:
        bound = f"[{low}, {high}{')' if open_high else ']'}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: invalid {option} {value!r}; expected a number {bound}")


def _gradients(group: dict[str, Any], l2: bool = True
               ) -> tuple[list[Tensor], list[np.ndarray], list[np.ndarray]]:
    """The parameters of `group` that have a gradient, their writable arrays and their
    gradients: negated under `maximize`, with the L2 term `weight_decay * p` added when `l2`
    (PyTorch's coupled weight decay). The gradient arrays themselves are never changed."""
    weight_decay = group.get("weight_decay", 0.0) if l2 else 0.0
    maximize = group.get("maximize")
    params, arrays, grads = [], [], []
    for p in group["params"]:
        if p.grad is None:
            continue
        d = _writable(p)
        g = p.grad.array
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * d
        params.append(p)
        arrays.append(d)
        grads.append(g)
    return params, arrays, grads


def _writable(p: Tensor) -> np.ndarray:
    """The parameter's array, copied first if numpy made it read-only (a broadcast view)."""
    d = p.array
    if not d.flags.writeable:
        p.array = d = d.copy()
    return d


def _check_betas(name: str, betas: Any) -> tuple[float, float]:
    """A pair (beta1, beta2), each in [0, 1), as Python floats."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{name}: betas should be a pair (beta1, beta2), "
                         f"got {betas!r}") from None
    _check_range(name, "beta1", beta1, 0.0, 1.0)
    _check_range(name, "beta2", beta2, 0.0, 1.0)
    return float(beta1), float(beta2)
