"""How a model prints: `Module.summary(input_size)`, the table torchinfo prints (every layer
with its type, dotted name and depth, the shape of what it returned on a forward pass, its
parameter count; then the totals), and the text of `repr(module)`.

    print(model.summary((1, 1, 28, 28)))     # batch dimension included, as torchinfo

The forward pass runs on zeros under `no_grad`, in eval mode (so BatchNorm's running
statistics do not move and a batch of one is allowed); every module's mode is restored
afterwards. Output shapes are recorded by wrapping each module's `forward` for the length of
that one call (an instance attribute, removed in `finally`): `Module.__call__` has no hooks,
which keeps the call path every training step takes as short as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.modes import get_default_dtype
from tinygrad_edu.tensor import Tensor

if TYPE_CHECKING:
    from tinygrad_edu.nn.module import Module

__all__ = ["LayerSummary", "ModelSummary", "summary", "module_repr"]

_WIDTHS = (40, 25, 25)  # torchinfo's columns: layer, output shape, Param #


class LayerSummary(NamedTuple):
    """One row: a module's dotted name ('' for the model itself), class name, depth (0 for
    the model), output shape(s) of its first call (None if the forward pass never called
    it), how often it was called, and its parameter count as shown in the table."""

    name: str
    type_name: str
    depth: int
    output_shape: tuple[int, ...] | list[tuple[int, ...]] | None
    calls: int
    num_params: int


class ModelSummary:
    """What `Module.summary` returns (torchinfo's `ModelStatistics`): `str()` is the table;
    `rows`, `total_params`, `trainable_params`, `non_trainable_params`, `input_bytes` and
    `params_bytes` are its numbers."""

    def __init__(self, rows: list[LayerSummary], model: Module, input_bytes: int) -> None:
        params = list(model.parameters())  # each shared parameter once
        self.rows = rows
        self.total_params = sum(p.numel() for p in params)
        self.trainable_params = sum(p.numel() for p in params if p.requires_grad)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.input_bytes = input_bytes
        self.params_bytes = sum(p.array.nbytes for p in params)

    def __str__(self) -> str:
        labels = _labels(self.rows)
        shapes = [_format_shape(row) for row in self.rows]
        widths = (max([_WIDTHS[0], *(len(s) + 1 for s in labels)]),
                  max([_WIDTHS[1], *(len(s) + 1 for s in shapes)]), _WIDTHS[2])
        rule = "=" * sum(widths)
        header = ("Layer (type (var_name):depth-idx)", "Output Shape", "Param #")
        lines = [rule, _line(header, widths), rule]
        for label, shape, row in zip(labels, shapes, self.rows):
            lines.append(_line((label, shape, f"{row.num_params:,}" if row.num_params
                                else "--"), widths))
        mb = 1e6
        lines += [rule, f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}", rule,
                  f"Input size (MB): {self.input_bytes / mb:.2f}",
                  f"Params size (MB): {self.params_bytes / mb:.2f}", rule]
        return "\n".join(lines)

    __repr__ = __str__


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()


def _labels(rows: list[LayerSummary]) -> list[str]:
    """torchinfo's tree column: 'Net', '├─Linear (fc1): 1-1', '│    └─ReLU (body.1): 2-2',
    the index counting the rows of that depth so far (as torchinfo, not reset per parent)."""
    labels, counters = [], [0] * (max((r.depth for r in rows), default=0) + 1)
    for row in rows:
        if row.depth == 0:
            labels.append(row.type_name)
            continue
        counters[row.depth] += 1
        branch = "├─" if row.depth == 1 else "│    " * (row.depth - 1) + "└─"
        labels.append(f"{branch}{row.type_name} ({row.name}): {row.depth}-"
                      f"{counters[row.depth]}")
    return labels


def _format_shape(row: LayerSummary) -> str:
    shape = row.output_shape
    if shape is None:
        text = "--"
    elif isinstance(shape, list):
        text = ", ".join(str(list(s)) for s in shape) or "--"
    else:
        text = str(list(shape))
    return text + (f" ({row.calls} calls)" if row.calls > 1 else "")


def _shapes(output: Any) -> tuple[int, ...] | list[tuple[int, ...]] | None:
    if isinstance(output, Tensor):
        return tuple(output.shape)
    if isinstance(output, tuple | list):  # (values, indices), (output, hidden), ...
        return [tuple(o.shape) for o in output if isinstance(o, Tensor)]
    return None


# ----------------------------------------------------------------------------- the pass


@contextmanager
def _recording(model: Module, calls: dict[Module, list[Any]]) -> Iterator[None]:
    """Each module's output shapes go into calls[module] while the block runs; eval mode."""
    modes = {m: m.training for m in model.modules()}
    wrapped: list[tuple[Module, Any]] = []

    def recorder(module: Module, forward: Callable[..., Any]) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> Any:
            output = forward(*args, **kwargs)
            calls.setdefault(module, []).append(_shapes(output))
            return output
        return record

    try:
        model.eval()
        for m in modes:
            wrapped.append((m, m.__dict__.get("forward")))  # an instance forward, rarely
            m.__dict__["forward"] = recorder(m, m.forward)
        yield
    finally:
        for m, own in wrapped:
            if own is None:
                del m.__dict__["forward"]
            else:
                m.__dict__["forward"] = own
        for m, mode in modes.items():
            m.__dict__["training"] = mode


def _is_shape(size: Any) -> bool:
    return isinstance(size, list | tuple) and all(
        isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0 for n in size)


def _sizes(input_size: Any) -> list[tuple[int, ...]]:
    """input_size as a list of shapes: one shape, or a list of them (several inputs)."""
    if input_size is None:
        raise TypeError("summary: give input_size, the input's shape with its batch "
                        "dimension, e.g. (1, 1, 28, 28), or input_data")
    if _is_shape(input_size):
        return [tuple(input_size)]
    if isinstance(input_size, list | tuple) and input_size and all(map(_is_shape, input_size)):
        return [tuple(s) for s in input_size]
    raise TypeError(f"summary: input_size must be a shape such as (1, 1, 28, 28) (batch "
                    f"dimension included) or a list of shapes, got {input_size!r}")


def _inputs(model: Module, input_size: Any, input_data: Any, dtypes: Any) -> list[Tensor]:
    if input_data is not None:
        data = input_data if isinstance(input_data, list | tuple) else [input_data]
        return [d if isinstance(d, Tensor) else Tensor(np.asarray(d)) for d in data]
    sizes = _sizes(input_size)
    # The model's own float dtype, so a .double() model gets float64 zeros.
    floats = [t.dtype for t in [*model.parameters(), *model.buffers()] if t.dtype.kind == "f"]
    default = floats[0] if floats else get_default_dtype()
    types = list(dtypes) if dtypes is not None else [default] * len(sizes)
    if len(types) != len(sizes):
        raise ValueError(f"summary: {len(sizes)} input shape(s) but {len(types)} dtype(s)")
    return [Tensor(np.zeros(s, dtype=np.dtype(t))) for s, t in zip(sizes, types)]


def _param_counts(model: Module, max_depth: int) -> dict[str, int]:
    """Each module's own parameters (a shared one in the first row that holds it, so the
    column sums to the total); a module at the depth limit shows its whole subtree's."""
    seen: set[int] = set()
    own: dict[str, int] = {}
    for name, module in model.named_modules():
        fresh = [p for p in module._parameters.values() if p is not None and id(p) not in seen]
        seen.update(id(p) for p in fresh)
        own[name] = sum(p.numel() for p in fresh)
    shown = {}
    for name in own:
        depth = name.count(".") + 1 if name else 0
        if depth < max_depth:
            shown[name] = own[name]
        elif depth == max_depth:
            inside = [k for k in own if name == "" or k == name or k.startswith(name + ".")]
            shown[name] = sum(own[k] for k in inside)
    return shown


def summary(model: Module, input_size: Any = None, *, input_data: Any = None,
            dtypes: Any = None, depth: int = 3) -> ModelSummary:
    """The table of `model`'s layers after one forward pass on zeros of `input_size` (a
    shape with the batch dimension, or a list of shapes for several inputs, with `dtypes`)
    or on `input_data`; layers deeper than `depth` are folded into their parent's row."""
    inputs = _inputs(model, input_size, input_data, dtypes)
    calls: dict[Module, list[Any]] = {}
    with no_grad(), _recording(model, calls):
        model(*inputs)
    counts = _param_counts(model, depth)
    rows = []
    for name, module in model.named_modules():
        if name in counts:
            shapes = calls.get(module, [])
            rows.append(LayerSummary(name, type(module).__name__,
                                     name.count(".") + 1 if name else 0,
                                     shapes[0] if shapes else None, len(shapes), counts[name]))
    return ModelSummary(rows, model, sum(t.array.nbytes for t in inputs))


# ----------------------------------------------------------------------------- repr


def _own_parameters(module: Module) -> str:
    own = [f"{k} {tuple(p.shape)}" for k, p in module._parameters.items() if p is not None]
    count = module.num_parameters()
    if not count:
        return ""
    return f"  # {', '.join(own)}{': ' if own else ''}{count:,} params"


def module_repr(module: Module) -> str:
    """`repr(module)`: PyTorch's nested layout, each line ending in its parameter count."""
    extra = module.extra_repr()
    counts = _own_parameters(module)
    children = [(n, m) for n, m in module._modules.items() if m is not None]
    if not children:
        return f"{type(module).__name__}({extra}){counts}"
    lines = [f"{type(module).__name__}({counts}"]
    if extra:
        lines += ["  " + line for line in extra.split("\n")]
    for name, child in children:
        body = repr(child).replace("\n", "\n  ")
        lines.append(f"  ({name}): {body}")
    lines.append(")")
    return "\n".join(lines)
