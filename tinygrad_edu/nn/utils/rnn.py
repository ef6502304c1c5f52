"""Batches of sequences of different lengths, as `torch.nn.utils.rnn`: `pad_sequence` pads
them to one tensor and `unpad_sequence` takes them back out; `pack_padded_sequence`,
`pack_sequence`, `pad_packed_sequence` and `unpack_sequence` convert to and from the packed
layout (`PackedSequence`) that RNN, LSTM and GRU accept. All are Tensor ops (padding,
stacking, gathering rows), so gradients flow through them to the sequences."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu.creation import full
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import cat, stack
from tinygrad_edu.modes import _state
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["pad_sequence", "unpad_sequence", "PackedSequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence", "invert_permutation"]


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


def _lengths_read(lengths: Any, op: str) -> None:
    """The lengths set the shapes: under compile, lengths computed in the function or passed
    in as a tensor are refused at trace time (the generated code has fixed shapes)."""
    if _state.trace is not None and isinstance(lengths, Tensor):
        _state.trace.read_value(lengths, f"{op}'s lengths")


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The B sequences of a right-padded (L_max, B, *) tensor ((B, L_max, *) with
    `batch_first`), the i-th cut to lengths[i] steps: the inverse of `pad_sequence`."""
    x = padded_sequences
    if x.ndim < 2:
        raise ShapeError(f"unpad_sequence: padded_sequences must be (L_max, B, *) or "
                         f"(B, L_max, *), got shape {x.shape}")
    x = x if batch_first else x.transpose(0, 1)
    _lengths_read(lengths, "unpad_sequence")
    sizes = np.asarray(lengths.array if isinstance(lengths, Tensor) else lengths).reshape(-1)
    if sizes.shape != (x.shape[0],) or (sizes.size and (sizes.min() < 0
                                                          or sizes.max() > x.shape[1])):
        raise ShapeError(f"unpad_sequence: lengths {sizes.tolist()} do not fit padded "
                         f"sequences of shape {padded_sequences.shape}: expected {x.shape[0]} "
                         f"lengths in [0, {x.shape[1]}] (batch_first={batch_first})")
    return [x[i, : int(n)] for i, n in enumerate(sizes)]


# ----------------------------------------------------------------------------- packed sequences


class PackedSequence(NamedTuple):
    """A batch of sequences of different lengths without padding, as PyTorch lays it out:
    `data` (sum of lengths, *) holds step 0 of every sequence, then step 1 of those still
    running, and so on, longest sequences first; `batch_sizes` (int64, one per step) counts
    them; `sorted_indices` maps that order to the batch's (None when the batch was already
    sorted) and `unsorted_indices` back. RNN, LSTM and GRU accept it as input."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _rows(batch_sizes: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(step, batch index) of every row of a packed `data`, in its order."""
    steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    batch = np.concatenate([order[:n] for n in batch_sizes]) if len(batch_sizes) else steps
    return steps, batch


def _order(packed: PackedSequence) -> np.ndarray:
    n = int(packed.batch_sizes.array[0]) if packed.batch_sizes.numel() else 0
    s = packed.sorted_indices
    return np.arange(n) if s is None else np.asarray(s.array, dtype=np.int64)


def pack_padded_sequence(input: Any, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch ((B, T, *) with `batch_first`) whose b-th sequence has
    lengths[b] steps. With `enforce_sorted` the lengths must not increase; otherwise the
    batch is sorted by decreasing length first (ties keep their order) and `sorted_indices`
    records how. The data is gathered from input, so gradients flow back to it."""
    op = "pack_padded_sequence"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must be (T, B, *) or (B, T, *), got shape {x.shape}")
    x = x.transpose(0, 1) if batch_first else x
    _lengths_read(lengths, op)
    lens = np.asarray(lengths.array if isinstance(lengths, Tensor) else lengths).reshape(-1)
    if lens.dtype.kind not in "iu" and lens.size:
        raise TypeError(f"{op}: lengths must be integers, got dtype {lens.dtype}")
    lens = lens.astype(np.int64)
    if lens.shape != (x.shape[1],) or (lens.size and lens.max() > x.shape[0]):
        raise ShapeError(f"{op}: lengths {lens.tolist()} do not fit input of shape "
                         f"{tuple(input.shape)}: expected {x.shape[1]} lengths of at most "
                         f"{x.shape[0]} (batch_first={batch_first})")
    if lens.size and lens.min() <= 0:
        raise ValueError(f"{op}: Length of all samples has to be greater than 0, got lengths "
                         f"{lens.tolist()}")
    if enforce_sorted:
        if (np.diff(lens) > 0).any():
            raise ValueError(f"{op}: `lengths` array must be sorted in decreasing order when "
                             f"`enforce_sorted` is True (got {lens.tolist()}); pass "
                             "enforce_sorted=False to sort the batch here")
        order, sorted_indices, unsorted_indices = np.arange(lens.size), None, None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = Tensor(order.astype(np.int64))
        unsorted_indices = invert_permutation(sorted_indices)
    batch_sizes = np.array([(lens > t).sum() for t in range(int(lens.max(initial=0)))],
                           dtype=np.int64)
    steps, batch = _rows(batch_sizes, order)
    return PackedSequence(x[steps, batch], Tensor(batch_sizes), sorted_indices,
                          unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """The inverse of `pack_padded_sequence`: (padded (T, B, *) ((B, T, *) with
    `batch_first`), lengths (B,) int64), both in the batch's own order; T is the longest
    length, or `total_length`. Gradients flow back to `sequence.data`."""
    data, sizes = sequence.data, np.asarray(sequence.batch_sizes.array, dtype=np.int64)
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the "
                             f"length of the longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {steps}")
        steps = int(total_length)
    order = _order(sequence)
    rows_t, rows_b = _rows(sizes, order)
    # Every (step, batch) cell points at its row of data, or at one extra padding row.
    index = np.full((steps, order.size), data.shape[0], dtype=np.int64)
    index[rows_t, rows_b] = np.arange(data.shape[0])
    filler = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    out = cat([data, filler], 0)[index]
    lengths = np.bincount(rows_b, minlength=order.size).astype(np.int64)
    return (out.transpose(0, 1) if batch_first else out), Tensor(lengths)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None stays None): how `unsorted_indices`
    follows from `sorted_indices`."""
    if permutation is None:
        return None
    p = np.asarray(permutation.array if isinstance(permutation, Tensor) else permutation)
    if p.ndim != 1 or not np.array_equal(np.sort(p), np.arange(p.size)):
        raise ValueError(f"invert_permutation: expected a permutation of 0..n-1 as a 1-D "
                         f"tensor, got {p.tolist()}")
    return Tensor(np.argsort(p).astype(np.int64))


def pack_like(padded: Tensor, packed: PackedSequence) -> PackedSequence:
    """A time-major padded tensor packed in the layout of `packed` (same batch sizes and
    order): how an RNN returns its output for a packed input."""
    steps, batch = _rows(np.asarray(packed.batch_sizes.array, dtype=np.int64), _order(packed))
    return PackedSequence(padded[steps, batch], packed.batch_sizes, packed.sorted_indices,
                          packed.unsorted_indices)


def pack_sequence(sequences: Any, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes (L_i, *) (decreasing lengths unless
    `enforce_sorted=False`): `pack_padded_sequence(pad_sequence(sequences), lengths)`."""
    seqs = _sequences(sequences)
    lengths = [s.shape[0] if s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence holds, in the batch's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
