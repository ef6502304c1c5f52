"""The courses' models, built from `nn` so the trainer, the Solver and viz can use them.

- `TwoLayerNet`: affine - ReLU - affine - softmax, with the course's parameter names and
  shapes (W1 (H, D), b1 (H,), W2 (C, H), b2 (C,)), `std * randn` weights from a seed and
  the loss `softmax + 0.5 * reg * (|W1|^2 + |W2|^2)`.
- `FullyConnectedNet`: {affine - [batch/layer norm] - ReLU - [dropout]} x (L - 1) - affine -
  softmax, `weight_scale * randn` weights, float64 by default, for gradient checks.
- `SmallConvNet`: conv3x3 - ReLU - maxpool2 - conv3x3 - ReLU - maxpool2 - linear (MNIST).
- `MLP(sizes, activation)`: Linear layers with an activation between them (a Sequential).

The course models answer `loss(X)` with the scores (in eval mode, the courses' 'test') and
`loss(X, y)` with the loss Tensor (call `.backward()` on it); `loss_and_grads(X, y)` gives
`(loss, grads)` as numpy, the courses' way, and `params` maps the course names ('W1',
'gamma1', ...) to the Parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.autograd import no_grad
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import activation as act
from tinygrad_edu.nn.container import Sequential
from tinygrad_edu.nn.conv_layers import Conv2d, MaxPool2d
from tinygrad_edu.nn.linear import Dropout, Flatten, Linear
from tinygrad_edu.nn.losses import cross_entropy, l2_penalty
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.norm import BatchNorm1d, LayerNorm
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["TwoLayerNet", "FullyConnectedNet", "SmallConvNet", "MLP"]


class _CourseModel(Module):
    """What the two course models share: inputs flattened to rows, `loss`, `predict`,
    `loss_and_grads` and the `params` dict of course names."""

    reg: float

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype (inputs are converted to it; follows `.float()/.double()`)."""
        return next(iter(self.parameters())).dtype

    @property
    def params(self) -> dict[str, Parameter]:
        """The parameters under the courses' names ('W1', 'b1', ..., 'gamma1', 'beta1')."""
        return dict(self.named_parameters())

    def _rows(self, X: Any, expected: int) -> Tensor:
        x = as_tensor(X)
        if x.dtype != self.dtype:
            x = x.to(self.dtype)
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != expected:
            raise ShapeError(f"{type(self).__name__}: expected input of shape (N, {expected}) "
                             f"(or (N, d1, ..., dk) with {expected} features), got {x.shape}")
        return x if x.ndim == 2 else x.reshape(x.shape[0], expected)

    def _weights(self) -> list[Tensor]:
        """What the L2 term `reg` covers: the weight matrices, not biases nor batch-norm
        scales and shifts (as the courses' models)."""
        return [p for p in self.parameters() if p.ndim == 2]

    def loss(self, X: Any, y: Any = None) -> Tensor:
        """The scores (N, C) when y is None, computed in eval mode as the courses' 'test'
        mode (running batch-norm statistics, no dropout); otherwise, in the module's current
        mode, the mean softmax loss plus 0.5 * reg * sum ||W||^2 over the weight matrices
        (not biases, gammas or betas)."""
        if y is None:
            return self._eval_scores(X)
        data_loss = cross_entropy(self(X), y)
        if not self.reg:
            return data_loss
        return data_loss + l2_penalty(self._weights(), self.reg)

    def loss_and_grads(self, X: Any, y: Any) -> tuple[float, dict[str, np.ndarray]]:
        """`(loss, grads)` as the courses' `model.loss(X, y)` returns them: a float and a
        dict of numpy gradients keyed like `params`. `.grad` is left untouched."""
        names, tensors = zip(*self.params.items())
        loss = self.loss(X, y)
        grads = autograd.grad(loss, list(tensors), allow_unused=True)
        return float(loss.item()), {n: (np.zeros_like(t.array) if g is None else g.array)
                                    for n, t, g in zip(names, tensors, grads)}

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (argmax of the scores) as a numpy int64 array, in eval mode."""
        with no_grad():
            return np.asarray(self._eval_scores(X).array.argmax(axis=1), dtype=np.int64)

    def _eval_scores(self, X: Any) -> Tensor:
        was_training = self.training
        self.eval()
        try:
            return self(X)
        finally:
            self.train(was_training)


class TwoLayerNet(_CourseModel):
    """scores = relu(X W1^T + b1) W2^T + b2; loss = softmax loss + 0.5 reg (|W1|^2 + |W2|^2).

    W1 (H, D) and W2 (C, H) are `std * randn` drawn from `numpy.random.default_rng(seed)`
    (W1 first); the biases start at 0. float64 by default, so backward() can be compared
    with numeric gradients to 1e-8. X may be (N, D) or (N, d1, ..., dk) (flattened).
    """

    W1: Parameter
    b1: Parameter
    W2: Parameter
    b2: Parameter

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100,
                 num_classes: int = 10, std: float = 1e-4, reg: float = 0.0, seed: int = 0,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        self.input_dim, self.hidden_dim, self.num_classes = input_dim, hidden_dim, num_classes
        self.std, self.reg = std, reg
        rng = np.random.default_rng(seed)
        dt = np.dtype(dtype)
        self.W1 = Parameter((std * rng.standard_normal((hidden_dim, input_dim))).astype(dt))
        self.b1 = Parameter(np.zeros(hidden_dim, dtype=dt))
        self.W2 = Parameter((std * rng.standard_normal((num_classes, hidden_dim))).astype(dt))
        self.b2 = Parameter(np.zeros(num_classes, dtype=dt))

    def forward(self, X: Any) -> Tensor:
        x = self._rows(X, self.input_dim)
        hidden = (x @ self.W1.T + self.b1).relu()
        return hidden @ self.W2.T + self.b2

    def extra_repr(self) -> str:
        return (f"input_dim={self.input_dim}, hidden_dim={self.hidden_dim}, "
                f"num_classes={self.num_classes}, std={self.std}, reg={self.reg}")


_NORMS = {"batchnorm": BatchNorm1d, "layernorm": LayerNorm}


class FullyConnectedNet(_CourseModel):
    """{affine - [norm] - ReLU - [dropout]} x (L - 1) - affine - softmax, as the courses.

    `hidden_dims` lists the hidden sizes; weights are `weight_scale * randn` from `seed`,
    biases 0, gammas 1 and betas 0. `normalization` is None, 'batchnorm' or 'layernorm';
    `dropout` is the probability of dropping a unit (PyTorch's p; the courses' newer
    `dropout_keep_ratio` is 1 - p). With `dropout_seed` every forward pass draws the same
    masks (the courses' `dropout_param['seed']`, which gradient checks need); otherwise
    the masks come from a generator seeded with `seed`.

    Submodules are `fc1`, `norm1`, `drop1`, ..., `fcL` (state_dict keys `fc1.weight`,
    `norm1.running_mean`, ...); `params` gives the course names (W1, b1, gamma1, beta1, ...).
    """

    def __init__(self, hidden_dims: Sequence[int], input_dim: int = 3 * 32 * 32,
                 num_classes: int = 10, dropout: float = 0.0,
                 normalization: str | None = None, reg: float = 0.0,
                 weight_scale: float = 1e-2, dtype: Any = np.float64, seed: int | None = None,
                 dropout_seed: int | None = None) -> None:
        super().__init__()
        if normalization not in (None, *_NORMS):
            raise ValueError(f"FullyConnectedNet: normalization must be None, 'batchnorm' or "
                             f"'layernorm', got {normalization!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"FullyConnectedNet: dropout must be in [0, 1), got {dropout}")
        self.hidden_dims = [int(h) for h in hidden_dims]
        self.input_dim, self.num_classes = input_dim, num_classes
        self.normalization, self.dropout, self.reg = normalization, dropout, reg
        self.weight_scale = weight_scale
        dt = np.dtype(dtype)
        self.num_layers = len(self.hidden_dims) + 1
        self.dropout_seed = dropout_seed
        rng = np.random.default_rng(seed)
        dims = [input_dim, *self.hidden_dims, num_classes]
        # Registered in forward order as fc1, norm1, drop1, fc2, ...: state_dict keys and
        # the module paths viz groups by follow the courses' layer numbers.
        self._fcs: list[Linear] = []
        self._norms: list[Module] = []
        self._drops: list[Dropout] = []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            fc = Linear(fan_in, fan_out, dtype=dt, generator=rng)
            with no_grad():
                fc.weight.copy_(weight_scale * rng.standard_normal((fan_out, fan_in)))
                fc.bias.zero_()  # type: ignore[union-attr]
            self.add_module(f"fc{i}", fc)
            self._fcs.append(fc)
            if i == self.num_layers:
                break
            if normalization:
                norm = _NORMS[normalization](fan_out, dtype=dt)
                self.add_module(f"norm{i}", norm)
                self._norms.append(norm)
            if dropout > 0:
                drop = Dropout(dropout, generator=rng)
                self.add_module(f"drop{i}", drop)
                self._drops.append(drop)

    @property
    def params(self) -> dict[str, Parameter]:
        out: dict[str, Parameter] = {}
        for i, fc in enumerate(self._fcs, start=1):
            out[f"W{i}"], out[f"b{i}"] = fc.weight, fc.bias  # type: ignore[assignment]
            if i <= len(self._norms):
                norm = self._norms[i - 1]
                out[f"gamma{i}"], out[f"beta{i}"] = norm.weight, norm.bias
        return out

    def forward(self, X: Any) -> Tensor:
        x = self._rows(X, self.input_dim)
        if self.dropout_seed is not None and self.training:
            rng = np.random.default_rng(self.dropout_seed)  # the same masks every call
            for drop in self._drops:
                drop.generator = rng
        last = len(self._fcs) - 1
        for i, fc in enumerate(self._fcs):
            x = fc(x)
            if i == last:
                break
            if self._norms:
                x = self._norms[i](x)
            x = x.relu()
            if self._drops:
                x = self._drops[i](x)
        return x

    def extra_repr(self) -> str:
        return (f"hidden_dims={self.hidden_dims}, input_dim={self.input_dim}, "
                f"num_classes={self.num_classes}, normalization={self.normalization!r}, "
                f"dropout={self.dropout}, reg={self.reg}, weight_scale={self.weight_scale}")


class SmallConvNet(Module):
    """conv3x3(c1) - ReLU - maxpool2 - conv3x3(c2) - ReLU - maxpool2 - linear, for
    (N, in_channels, H, W) images (default (N, 1, 28, 28): 28 -> 14 -> 7).

    The convolutions pad by 1 so only the pools shrink the image. The ReLUs work in place
    on the convolutions' outputs (`ReLU(inplace=True)`, as torchvision's models do): one
    array and one pass over memory less per layer. Layers start with PyTorch's default
    initialization, drawn from `seed` when given.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10,
                 channels: Sequence[int] = (16, 32), input_size: int | Sequence[int] = 28,
                 kernel_size: int = 3, seed: int | None = None, dtype: Any = None) -> None:
        super().__init__()
        if len(channels) != 2:
            raise ValueError(f"SmallConvNet: channels must be two numbers (conv1, conv2), got "
                             f"{tuple(channels)}")
        c1, c2 = (int(c) for c in channels)
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        if h < 4 or w < 4:
            raise ValueError(f"SmallConvNet: input_size must be at least 4x4, got {(h, w)}")
        rng = np.random.default_rng(seed) if seed is not None else None
        pad = kernel_size // 2
        self.input_shape = (in_channels, int(h), int(w))
        self.conv1 = Conv2d(in_channels, c1, kernel_size, padding=pad, dtype=dtype,
                            generator=rng)
        self.relu1 = act.ReLU(inplace=True)
        self.pool1 = MaxPool2d(2)
        self.conv2 = Conv2d(c1, c2, kernel_size, padding=pad, dtype=dtype, generator=rng)
        self.relu2 = act.ReLU(inplace=True)
        self.pool2 = MaxPool2d(2)
        self.flatten = Flatten()
        self.fc = Linear(c2 * (h // 4) * (w // 4), num_classes, dtype=dtype, generator=rng)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1:] != self.input_shape:
            expected = ", ".join(str(n) for n in self.input_shape)
            raise ShapeError(f"SmallConvNet: expected input of shape (N, {expected}), got "
                             f"{tuple(x.shape)}")
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(self.flatten(x))


_ACTIVATIONS: dict[str, type[Module]] = {
    "relu": act.ReLU, "leaky_relu": act.LeakyReLU, "tanh": act.Tanh, "sigmoid": act.Sigmoid,
    "gelu": act.GELU, "silu": act.SiLU, "elu": act.ELU, "softplus": act.Softplus,
}


class MLP(Sequential):
    """Linear(sizes[0], sizes[1]) - act - ... - Linear(sizes[-2], sizes[-1]): a Sequential,
    so its state_dict keys are PyTorch's ('0.weight', '2.bias', ...). No activation after
    the last layer (it gives logits). `dropout` > 0 adds Dropout after each activation."""

    def __init__(self, sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0,
                 bias: bool = True, seed: int | None = None, dtype: Any = None) -> None:
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got "
                             f"{list(sizes)}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r} (valid: "
                             f"{', '.join(_ACTIVATIONS)})")
        rng = np.random.default_rng(seed) if seed is not None else None
        layers: list[Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, bias=bias, dtype=dtype, generator=rng))
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[activation]())
                if dropout > 0:
                    layers.append(Dropout(dropout, generator=rng))
        super().__init__(*layers)
        self.sizes = [int(s) for s in sizes]
        self.activation = activation
