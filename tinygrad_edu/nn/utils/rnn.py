"""Batches of sequences of different lengths, as `torch.nn.utils.rnn`: `pad_sequence` pads
them to one tensor and `unpad_sequence` takes them back out. Both are Tensor ops (padding,
stacking, slicing), so gradients flow through them to the sequences."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import stack
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["pad_sequence", "unpad_sequence"]


def _sequences(sequences: Any) -> list[Tensor]:
    if isinstance(sequences, Tensor):  # a tensor is its rows, as PyTorch iterates it
        return [sequences[i] for i in range(sequences.shape[0])] if sequences.ndim else []
    return [s if isinstance(s, Tensor) else as_tensor(s) for s in sequences]


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack B sequences of shapes (L_i, *) into one (L_max, B, *) tensor ((B, L_max, *)
    with `batch_first`), filling the missing steps with `padding_value` after each sequence
    (`padding_side='left'`: before it). The result has the first sequence's dtype, as in
    PyTorch (an integer result truncates a fractional padding value)."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: Expected padding_side to be one of left or right, "
                         f"but got {padding_side!r}")
    seqs = _sequences(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    shapes = [s.shape for s in seqs]
    if any(len(shape) == 0 or shape[1:] != shapes[0][1:] for shape in shapes):
        raise ShapeError(f"pad_sequence: every sequence must be (L_i, *) with the same trailing "
                         f"dims, got shapes {', '.join(map(str, shapes))}")
    dtype = seqs[0].dtype
    if dtype.kind in "biu" and not math.isfinite(float(padding_value)):
        raise ValueError(f"pad_sequence: padding_value {padding_value} cannot be stored in "
                         f"the sequences' dtype {dtype}")
    length = max(shape[0] for shape in shapes)
    value = np.asarray(padding_value).astype(dtype).item()
    rest = [(0, 0)] * (len(shapes[0]) - 1)
    padded = []
    for s in seqs:
        s = s if s.dtype == dtype else s.to(dtype)
        missing = length - s.shape[0]
        side = (0, missing) if padding_side == "right" else (missing, 0)
        padded.append(s.pad([side, *rest], value=value) if missing else s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The B sequences of a right-padded (L_max, B, *) tensor ((B, L_max, *) with
    `batch_first`), the i-th cut to lengths[i] steps: the inverse of `pad_sequence`."""
    x = padded_sequences
    if x.ndim < 2:
        raise ShapeError(f"unpad_sequence: padded_sequences must be (L_max, B, *) or "
                         f"(B, L_max, *), got shape {x.shape}")
    x = x if batch_first else x.transpose(0, 1)
    sizes = np.asarray(lengths.array if isinstance(lengths, Tensor) else lengths).reshape(-1)
    if sizes.shape != (x.shape[0],) or (sizes.size and (sizes.min() < 0
                                                          or sizes.max() > x.shape[1])):
        raise ShapeError(f"unpad_sequence: lengths {sizes.tolist()} do not fit padded "
                         f"sequences of shape {padded_sequences.shape}: expected {x.shape[0]} "
                         f"lengths in [0, {x.shape[1]}] (batch_first={batch_first})")
    return [x[i, : int(n)] for i, n in enumerate(sizes)]
