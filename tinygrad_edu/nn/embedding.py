"""Lookup tables: `F.embedding` and `nn.Embedding`, as PyTorch.

An embedding is row selection, `weight[input]`: a composite of the getitem primitive, whose
backward adds each upstream row into the row it came from (an index used twice gets both
contributions). `padding_idx`'s row is read through a detached copy, so it gets no gradient;
`scale_grad_by_freq` divides each row's gradient by how often its index occurs in the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_modified, no_grad
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import where
from tinygrad_edu.modes import _state, get_default_dtype, value_check
from tinygrad_edu.nn import init
from tinygrad_edu.nn._layer_name import named_call
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.ops.values import held
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["embedding", "Embedding"]


def _padding_index(padding_idx: Any, num_embeddings: int, op: str) -> int | None:
    """PyTorch's rule: None, or an int in [-num_embeddings, num_embeddings), negative
    counting from the end (stored as the non-negative index)."""
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, int | np.integer) or isinstance(padding_idx, bool):
        raise TypeError(f"{op}: padding_idx must be an int or None, got "
                        f"{type(padding_idx).__name__} {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx {padding_idx} must be within num_embeddings "
                         f"{num_embeddings} (valid: {-num_embeddings}..{num_embeddings - 1})")
    return int(padding_idx) % num_embeddings


def _indices(input: Any, num_embeddings: int, op: str) -> Tensor:
    """The indices as a tensor: int64 or int32 as PyTorch accepts, every entry in range (a
    check `compile` repeats on every call: `value_check`)."""
    t = input if isinstance(input, Tensor) else as_tensor(np.asarray(input))
    if t.array.dtype not in (np.int64, np.int32):
        raise TypeError(f"{op}: input must be an int64 or int32 tensor of indices, got "
                        f"{t.array.dtype} of shape {t.shape}")
    value_check(check_indices, t, num_embeddings=num_embeddings, op=op)
    return t


def check_indices(idx: np.ndarray, num_embeddings: int, op: str) -> None:
    """Raise IndexError naming the first index outside 0..num_embeddings-1."""
    if idx.size:
        bad = idx[(idx < 0) | (idx >= num_embeddings)]
        if bad.size:
            raise IndexError(f"{op}: index {int(bad.flat[0])} is out of range for "
                             f"num_embeddings {num_embeddings} (valid: 0..{num_embeddings - 1}; "
                             f"input of shape {idx.shape})")


def _counts(idx: np.ndarray, num_embeddings: int, dtype: np.dtype) -> np.ndarray:
    """How often each entry's index occurs in idx, per entry, with a trailing axis."""
    counts = np.bincount(idx.reshape(-1), minlength=num_embeddings)[idx]
    return counts.astype(dtype)[..., None]


def _renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """PyTorch's `embedding_renorm_`: each row the batch reads whose `norm_type`-norm
    exceeds max_norm is scaled in place to norm max_norm (by max_norm / (norm + 1e-7)),
    outside the graph."""
    rows = np.unique(idx)
    with no_grad():
        w = weight.array
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            scale = max_norm / (norms[big] + 1e-7)
            w[rows[big]] = (w[rows[big]] * scale[:, None]).astype(w.dtype)
            mark_modified(weight)


def embedding(input: Any, weight: Any, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) picked by the integer `input` of
    any shape: the result has shape (*input.shape, embedding_dim).

    `padding_idx`: that row gets no gradient. `max_norm`: the rows read are first renormed
    in place (weight is changed, as in PyTorch). `scale_grad_by_freq`: each row's gradient
    is divided by its index's count in `input`. `sparse=True`: PyTorch gives `weight` a
    sparse gradient (only the rows read); there are no sparse tensors here, so the gradient
    is dense, with the same values (zero rows elsewhere), and every optimizer takes it.
    """
    w = weight if isinstance(weight, Tensor) else as_tensor(weight)
    if w.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {w.shape}")
    n = w.shape[0]
    pad = _padding_index(padding_idx, n, "embedding")
    ids = _indices(input, n, "embedding")
    if max_norm is not None:
        if _state.trace is not None:  # numpy writes into the weight: compile cannot replay it
            _state.trace.refuse(f"embedding(max_norm={max_norm}) (it renorms the rows of the "
                                f"weight of shape {w.shape} in place, with numpy)",
                                "renorm outside the compiled function, or call it uncompiled")
        _renorm_(w, ids.array, float(max_norm), float(norm_type))
    rows = w[ids.array]
    if pad is not None:  # the padding row's copy is detached: no gradient
        rows = where((ids == pad).unsqueeze(-1), rows.detach(), rows)
    if scale_grad_by_freq and ids.numel():
        # value rows, gradient rows' / count: d + (r - d) / c with d the detached value
        counts = held(_counts, ids, num_embeddings=n, dtype=w.dtype)
        frozen = rows.detach()
        rows = frozen + (rows - frozen) * (1.0 / counts)
    return rows


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim`; `weight` has shape
    (num_embeddings, embedding_dim) and starts as N(0, 1), with the `padding_idx` row
    zeroed (PyTorch's reset_parameters). `_weight` gives the initial table instead and
    `_freeze` makes it untrainable (what `from_pretrained` uses). `generator` seeds the
    initial draw."""

    weight: Parameter

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            dt = np.dtype(dtype or get_default_dtype())
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dt))
            self.reset_parameters(generator)
        else:
            table = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if table.shape != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"Embedding: _weight has shape {table.shape}, expected "
                                 f"(num_embeddings, embedding_dim) = "
                                 f"{(self.num_embeddings, self.embedding_dim)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self, generator: Any = None) -> None:
        init.normal_(self.weight, generator=generator)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight.array[self.padding_idx] = 0
                mark_modified(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return named_call(self, lambda: embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.sparse))

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is `embeddings` (2-D; shared, not copied, as PyTorch),
        untrainable unless freeze=False. The padding_idx row is left as given."""
        table = embeddings if isinstance(embeddings, Tensor) else as_tensor(embeddings)
        if table.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-D "
                             f"(num_embeddings, embedding_dim), got shape {table.shape}")
        rows, cols = table.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=table, _freeze=freeze)
