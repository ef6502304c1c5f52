"""Recurrent cells, as `torch.nn.RNNCell`, `LSTMCell`, `GRUCell`, and the one-step maths
that `nn.RNN`, `nn.LSTM` and `nn.GRU` repeat over time.

Each step is a composite of Tensor ops (the fused `linear`, sigmoid, tanh, products), so
backpropagation through time is the engine's ordinary backward and second derivatives come
free. Weights use PyTorch's layout and gate order, so a state dict moves unchanged between
the two libraries:

    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)            (or relu)
    LSTM  i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)    (4 blocks of hidden_size)
          c' = sigmoid(f) c + sigmoid(i) tanh(g)
          h' = sigmoid(o) tanh(c')        (then h' = W_hr h' with a projection)
    GRU   r, z, n: blocks of W_ih x + b_ih and of W_hh h + b_hh (3 each)
          r = sigmoid(i_r + h_r), z = sigmoid(i_z + h_z)
          n = tanh(i_n + r * h_n)          (r multiplies W_hn h + b_hn, bias included)
          h' = (1 - z) n + z h

Every weight starts as U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.creation import zeros
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.functional import linear
from tinygrad_edu.nn import init
from tinygrad_edu.nn.linear import empty_parameter, layer_name
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]

# ----------------------------------------------------------------------------- one step


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh) (relu'(0) = 0)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()


def lstm_cell(input: Tensor, hx: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None,
              w_hr: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(h', c') from (h, c); gates in PyTorch's order i, f, g, o (see the module docstring).
    With `w_hr` (proj_size, hidden_size), h' is projected: h' = W_hr (o * tanh(c'))."""
    h, c = hx
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h_next = o.sigmoid() * c_next.tanh()
    if w_hr is not None:
        h_next = linear(h_next, w_hr)
    return h_next, c_next


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' = (1 - z) n + z h with r, z, n as in the module docstring: the reset gate scales
    W_hn h + b_hn (PyTorch's and cuDNN's form, not the paper's W_hn (r h))."""
    i_r, i_z, i_n = linear(input, w_ih, b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = linear(hx, w_hh, b_hh).chunk(3, dim=-1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return (1.0 - z) * n + z * hx


# ----------------------------------------------------------------------------- shared checks


def check_sizes(op: str, input_size: Any, hidden_size: Any, bias: Any) -> None:
    """PyTorch's constructor checks (its messages, with the op's name in front)."""
    if not isinstance(bias, bool):
        raise TypeError(f"{op}: bias should be of type bool, got: {type(bias).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{op}: {name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{op}: {name} must be greater than zero, got {value}")


def check_dtype(op: str, x: Tensor, weight: Tensor) -> None:
    """The input's dtype must be the weights' (PyTorch refuses to convert silently here)."""
    if x.dtype != weight.dtype:
        raise ValueError(f"{op}: input dtype {x.dtype} does not match weight dtype "
                         f"{weight.dtype}; convert the input (input.to({weight.dtype})) or the "
                         f"model (model.to({x.dtype}))")


def reset_uniform(module: Module, hidden_size: int, generator: Any = None) -> None:
    """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), PyTorch's init.
    An int seed becomes one generator, so the parameters get different draws."""
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        generator = np.random.default_rng(int(generator))
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound, generator=generator)


# ----------------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """The parameters of one cell: weight_ih (chunks * hidden, input), weight_hh
    (chunks * hidden, hidden) and, with `bias`, bias_ih and bias_hh (chunks * hidden,)."""

    weight_ih: Parameter
    weight_hh: Parameter
    bias_ih: Parameter | None
    bias_hh: Parameter | None
    _name = "RNNCellBase"

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        check_sizes(self._name, input_size, hidden_size, bias)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        rows = num_chunks * self.hidden_size
        self.weight_ih = empty_parameter((rows, self.input_size), dtype)
        self.weight_hh = empty_parameter((rows, self.hidden_size), dtype)
        if bias:
            self.bias_ih = empty_parameter((rows,), dtype)
            self.bias_hh = empty_parameter((rows,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        reset_uniform(self, self.hidden_size, generator)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _batched(self, input: Any, states: tuple[Any, ...]) -> tuple[Tensor, list[Tensor], bool]:
        """input as (N, input_size) and each given state as (N, hidden_size), checked; and
        whether the input was batched (an unbatched call gets its results squeezed back)."""
        op = layer_name(self._name)
        x = input if isinstance(input, Tensor) else as_tensor(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{op}: Expected input to be 1D or 2D, got {x.ndim}D instead "
                             f"(input shape {x.shape})")
        hs = [s if isinstance(s, Tensor) else as_tensor(s) for s in states]
        for k, h in enumerate(hs):
            if h.ndim not in (1, 2):
                raise ValueError(f"{op}: Expected hidden state {k} to be 1D or 2D, got {h.ndim}D "
                                 f"instead (shape {h.shape})")
        batched = x.ndim == 2
        if not batched:
            x, hs = x.unsqueeze(0), [h.unsqueeze(0) for h in hs]
        check_dtype(op, x, self.weight_ih)
        if x.shape[1] != self.input_size:
            raise ShapeError(f"{op}: input has inconsistent input_size: got {x.shape[1]} "
                             f"expected {self.input_size} (input shape {x.shape})")
        for k, h in enumerate(hs):
            if h.shape[0] != x.shape[0] or h.shape[1] != self.hidden_size:
                raise ShapeError(f"{op}: hidden state {k} of shape {h.shape} does not fit "
                                 f"input of shape {x.shape}: expected "
                                 f"({x.shape[0]}, {self.hidden_size})")
            check_dtype(op, h, self.weight_ih)
        if not states:
            hs = [zeros(x.shape[0], self.hidden_size, dtype=x.dtype)]
        return x, hs, batched

    def _weights(self) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (`nonlinearity='relu'`: relu). Input
    (N, input_size) or (input_size,); hx (N, hidden_size) or (hidden_size,), zeros if None."""

    _name = "RNNCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None,
                 generator: Any = None) -> None:
        # Checked here rather than at the first call (PyTorch): bad input raises at its call.
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from "
                             "'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype, generator)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._batched(input, () if hx is None else (hx,))
        step = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        out = step(x, h, *self._weights())
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') = the LSTM step (gates i, f, g, o) from hx = (h, c), zeros if None."""

    _name = "LSTMCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, generator: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype, generator)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
            raise TypeError(f"{layer_name('LSTMCell')}: hx must be a tuple (h_0, c_0), got "
                            f"{type(hx).__name__}")
        x, hs, batched = self._batched(input, () if hx is None else tuple(hx))
        h, c = (hs[0], hs[0]) if hx is None else hs
        h_next, c_next = lstm_cell(x, (h, c), *self._weights())
        if not batched:
            return h_next.squeeze(0), c_next.squeeze(0)
        return h_next, c_next


class GRUCell(RNNCellBase):
    """h' = the GRU step (gates r, z, n; r scales W_hn h + b_hn) from hx, zeros if None."""

    _name = "GRUCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, generator: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype, generator)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._batched(input, () if hx is None else (hx,))
        out = gru_cell(x, h, *self._weights())
        return out if batched else out.squeeze(0)
