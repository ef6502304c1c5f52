"""Multi-layer recurrent networks, as `torch.nn.RNN`, `nn.LSTM` and `nn.GRU`.

The forward is a Python loop over layers, directions and time steps of the cell maths in
`nn.rnn_cells`; the engine records every step, so backpropagation through time is the
ordinary `backward()`. Parameters carry PyTorch's names, shapes, order and init
(`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `weight_hr_l0` with a
projection, `..._reverse` for the backward direction), so
`torch_model.load_state_dict({k: torch.from_numpy(v.numpy()) ...})` of our state dict gives
the same outputs, and the reverse.

Shapes (L = sequence length, N = batch, D = 2 if bidirectional else 1, H_out = proj_size
or hidden_size):
    input   (L, N, input_size), (N, L, input_size) with batch_first, (L, input_size) unbatched
    h_0     (D * num_layers, N, H_out) (unbatched: without N); c_0 likewise with hidden_size
    output  (L, N, D * H_out) (batch_first: (N, L, D * H_out)): the last layer's h at every
            step, the two directions concatenated (forward first)
    h_n     the last h of every layer and direction, in h_0's layout (index layer * D + dir)
Dropout with probability `dropout` is applied to each layer's output except the last, in
training mode only.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_edu.creation import zeros
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import cat, stack, where
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn.linear import empty_parameter, layer_name
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.nn.rnn_cells import (
    check_dtype,
    check_sizes,
    gru_cell,
    lstm_cell,
    reset_uniform,
    rnn_relu_cell,
    rnn_tanh_cell,
)
from tinygrad_edu.nn.utils.rnn import PackedSequence, pack_like, pad_packed_sequence
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NAMES = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
State = Any  # a Tensor h, or the pair (h, c) of an LSTM


class RNNBase(Module):
    """The parameters and the time loop shared by RNN, LSTM and GRU (`mode` is one of
    'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU', as in PyTorch)."""

    weight_ih_l0: Parameter  # every network has it; its dtype is the one inputs must have

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"RNNBase: Unrecognized RNN mode: {mode!r} (valid: "
                             f"{', '.join(_GATES)})")
        op = _NAMES[mode]
        if (isinstance(dropout, bool) or not isinstance(dropout, int | float | np.number)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{op}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"{op}: batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        check_sizes(op, input_size, hidden_size, bias)
        for name, value in (("num_layers", num_layers), ("proj_size", proj_size)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"{op}: {name} should be of type int, got: "
                                f"{type(value).__name__}")
        if num_layers <= 0:
            raise ValueError(f"{op}: num_layers must be greater than zero, got {num_layers}")
        if proj_size < 0:
            raise ValueError(f"{op}: proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{op}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size} and hidden_size={hidden_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, \
            int(proj_size)
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * self.hidden_size
        h_out = self.proj_size or self.hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else h_out * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: dict[str, tuple[int, ...]] = {"weight_ih": (gates, layer_input),
                                                     "weight_hh": (gates, h_out)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                names = [name + suffix for name in shapes]
                for name, shape in zip(names, shapes.values()):
                    setattr(self, name, empty_parameter(shape, dtype))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        reset_uniform(self, self.hidden_size, generator)

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs weights into one buffer for cuDNN; here every step
        reads the parameters themselves."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward
    def _step(self, x: Tensor, state: State, weights: list[Tensor]) -> State:
        w_ih, w_hh, *rest = weights
        b_ih, b_hh = (rest[0], rest[1]) if self.bias else (None, None)
        if self.mode == "LSTM":
            w_hr = rest[-1] if self.proj_size else None
            return lstm_cell(x, state, w_ih, w_hh, b_ih, b_hh, w_hr)
        cell = {"RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell, "GRU": gru_cell}
        return cell[self.mode](x, state, w_ih, w_hh, b_ih, b_hh)

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        rows = self.num_layers * (2 if self.bidirectional else 1)
        shapes = [(rows, batch, self.proj_size or self.hidden_size)]
        return shapes + [(rows, batch, self.hidden_size)] if self.mode == "LSTM" else shapes

    def _time_major(self, input: Any) -> tuple[Tensor, bool]:
        """input as (L, N, input_size), checked; and whether it was batched."""
        op = layer_name(_NAMES[self.mode])
        x = input if isinstance(input, Tensor) else as_tensor(input)
        if x.ndim not in (2, 3):
            raise ValueError(f"{op}: Expected input to be 2D or 3D, got {x.ndim}D tensor instead "
                             f"(input shape {x.shape})")
        check_dtype(op, x, self.weight_ih_l0)
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{op}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {x.shape[-1]} (input shape {x.shape})")
        batched, given = x.ndim == 3, x.shape
        x = x.transpose(0, 1) if batched and self.batch_first else x
        x = x if batched else x.unsqueeze(1)
        if x.shape[0] == 0:
            raise ShapeError(f"{op}: Expected sequence length to be larger than 0 (input shape "
                             f"{given}, batch_first={self.batch_first})")
        return x, batched

    def _initial_states(self, hx: Any, x: Tensor, batched: bool) -> list[Tensor]:
        """h_0 (and c_0 for an LSTM) as (D * num_layers, N, size), checked; zeros if None."""
        op = layer_name(_NAMES[self.mode])
        shapes = self._state_shapes(x.shape[1])
        if hx is None:
            return [zeros(*shape, dtype=x.dtype) for shape in shapes]
        if self.mode == "LSTM":
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise TypeError(f"{op}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            states = [h if isinstance(h, Tensor) else as_tensor(h) for h in hx]
        else:
            states = [hx if isinstance(hx, Tensor) else as_tensor(hx)]
        want = 3 if batched else 2
        if any(h.ndim != want for h in states):
            got = ", ".join(str(h.shape) for h in states)
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise ShapeError(f"{op}: For {kind} input, hx should also be {want}-D but got "
                             f"shape {got}")
        states = states if batched else [h.unsqueeze(1) for h in states]
        for k, (h, shape) in enumerate(zip(states, shapes)):
            if h.shape != shape:
                what = "h_0" if k == 0 else "c_0"
                raise ShapeError(f"{op}: Expected {what} of shape {shape}, got {h.shape} "
                                 f"(input shape {x.shape} as (L, N, input_size))")
            check_dtype(op, h, self.weight_ih_l0)
        return states

    def _run(self, input: Any, hx: Any) -> tuple[Any, list[Tensor], bool]:
        """The output (as the input was laid out: time-major, batch-first, unbatched or
        packed), the final states [h_n] or [h_n, c_n], and whether the input was batched."""
        lengths = None
        if isinstance(input, PackedSequence):
            # Padded, with each sequence's state frozen past its end (see _advance), so h_n
            # is every sequence's own last state, as with PyTorch's packed kernels.
            padded, given = pad_packed_sequence(input)
            x, batched, lengths = self._check_packed(input, padded), True, given.array
        else:
            x, batched = self._time_major(input)
        initial = self._initial_states(hx, x, batched)
        directions = 2 if self.bidirectional else 1
        steps = [x[t] for t in range(x.shape[0])]
        finals: list[State] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                row = layer * directions + direction
                out, final = self._direction(steps, row, initial, lengths, direction == 1)
                outputs.append(out)
                finals.append(final)
            steps = outputs[0] if directions == 1 else [cat(pair, -1) for pair in zip(*outputs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(s, self.dropout, True) for s in steps]
        output = stack(steps, 0)
        if self.mode == "LSTM":
            states = [stack([s[0] for s in finals], 0), stack([s[1] for s in finals], 0)]
        else:
            states = [stack(finals, 0)]
        if isinstance(input, PackedSequence):
            return pack_like(output, input), states, True
        if not batched:
            return output.squeeze(1), [s.squeeze(1) for s in states], False
        return (output.transpose(0, 1) if self.batch_first else output), states, True

    def _direction(self, steps: list[Tensor], row: int, initial: list[Tensor],
                   lengths: np.ndarray | None, reverse: bool) -> tuple[list[Tensor], State]:
        """One layer in one direction (`row` = layer * D + direction): its h at every
        step, in time order, and its final state."""
        weights = [getattr(self, name) for name in self._all_weights[row]]
        state: State = tuple(s[row] for s in initial)
        state = state if self.mode == "LSTM" else state[0]
        out: list[Tensor] = list(steps)  # placeholders, each overwritten
        order = reversed(range(len(steps))) if reverse else range(len(steps))
        for t in order:
            state = self._advance(steps[t], state, weights, lengths, t)
            out[t] = state[0] if self.mode == "LSTM" else state
        return out, state

    def _advance(self, x: Tensor, state: State, weights: list[Tensor],
                 lengths: np.ndarray | None, t: int) -> State:
        """One step; with lengths (packed input), sequences that ended before step t keep
        their state (the reverse direction starts from h_0 at each sequence's own end)."""
        new = self._step(x, state, weights)
        if lengths is None:
            return new
        running = (t < lengths)[:, None]
        if self.mode == "LSTM":
            return tuple(where(running, a, b) for a, b in zip(new, state))
        return where(running, new, state)

    def _check_packed(self, packed: PackedSequence, padded: Tensor) -> Tensor:
        op = layer_name(_NAMES[self.mode])
        data = packed.data
        if data.ndim != 2 or data.shape[1] != self.input_size:
            raise ShapeError(f"{op}: a PackedSequence's data must be (sum of lengths, "
                             f"input_size={self.input_size}), got {data.shape}")
        check_dtype(op, data, self.weight_ih_l0)
        return padded


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu), stacked
    `num_layers` deep. `forward(input, hx=None)` returns (output, h_n).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
        batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("RNN: proj_size argument is only supported for LSTM, not RNN or GRU")
        # PyTorch's positional order puts nonlinearity fourth, before bias.
        if len(args) > 3:
            nonlinearity, args = args[3], args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        output, (h_n,), _ = self._run(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o: c_t = f c_(t-1) + i g, h_t = o tanh(c_t)
    (projected by weight_hr when proj_size > 0). `forward(input, hx=None)` with
    hx = (h_0, c_0) returns (output, (h_n, c_n)).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
         bidirectional=False, proj_size=0, device=None, dtype=None)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input: Any, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Any, tuple[Tensor, Tensor]]:
        output, (h_n, c_n), _ = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n: n_t = tanh(W_in x_t + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n_t + z h_(t-1). `forward(input, hx=None)` returns (output, h_n).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False, device=None, dtype=None)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("GRU: proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        output, (h_n,), _ = self._run(input, hx)
        return output, h_n
