"""Built-in example graphs for `tinygrad-edu graph`, the README pictures and the tests.

`build(name)` returns `(outputs, params)`: a tuple of output tensors (a scalar loss) and the
parameters by name, ready for `draw_graph(*outputs, params=params)`. `draw(name)` also runs
the backward pass under `record_gradients()` and draws the graph with gradients on edges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import backward
from tinygrad_edu.creation import manual_seed
from tinygrad_edu.modes import record_gradients
from tinygrad_edu.tensor import Tensor

Built = tuple[tuple[Tensor, ...], dict[str, Tensor]]
WithModel = tuple[tuple[Tensor, ...], dict[str, Tensor], Any]  # (outputs, params, model)


def autoencoder(seed: int = 0) -> WithModel:
    """L = ½‖WᵀWx − x‖² with W (3, 5), x (5,): W feeds two paths (W x and Wᵀ), so its gradient,
    W x gᵀ + W g xᵀ with g = WᵀWx − x, is the sum of two contributions."""
    rng = np.random.default_rng(seed)
    W = Tensor(rng.standard_normal((3, 5)) * 0.5, requires_grad=True, name="W")
    x = Tensor(rng.standard_normal(5), name="x")
    loss = 0.5 * ((W.T @ (W @ x) - x) ** 2).sum()
    loss.name = "loss"
    return (loss,), {"W": W}, None


def two_layer(seed: int = 0) -> WithModel:
    """A two-layer net (Linear -> ReLU -> Linear) on 4 samples of 6 features, 3 classes,
    with a softmax cross-entropy loss."""
    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F

    class TwoLayerNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(6, 5)
            self.relu = nn.ReLU()
            self.fc2 = nn.Linear(5, 3)

        def forward(self, x: Tensor) -> Tensor:
            return self.fc2(self.relu(self.fc1(x)))  # type: ignore[no-any-return]

    manual_seed(seed)
    model = TwoLayerNet()
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((4, 6)), dtype=np.float32, name="x")
    y = Tensor(rng.integers(0, 3, size=4), name="y")
    loss = F.cross_entropy(model(x), y)
    loss.name = "loss"
    return (loss,), dict(model.named_parameters()), model


def convnet(seed: int = 0) -> WithModel:
    """A small convnet on 2 images of 1x8x8: features (Conv2d 3x3 -> ReLU -> MaxPool 2),
    classifier (Flatten -> Linear 64 -> 10), softmax cross-entropy."""
    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F

    class SmallConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                                          nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 10))

        def forward(self, x: Tensor) -> Tensor:
            return self.classifier(self.features(x))  # type: ignore[no-any-return]

    manual_seed(seed)
    model = SmallConvNet()
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((2, 1, 8, 8)), dtype=np.float32, name="images")
    y = Tensor(rng.integers(0, 10, size=2), name="labels")
    loss = F.cross_entropy(model(x), y)
    loss.name = "loss"
    return (loss,), dict(model.named_parameters()), model


def mlp20(seed: int = 0) -> WithModel:
    """`models.MLP` with 20 hidden layers of 64 (Linear -> ReLU, twenty times, then Linear
    64 -> 10) on 8 samples of 32 features, softmax cross-entropy: the repeated block draws
    as one box "Linear → ReLU ×20"."""
    import tinygrad_edu.nn.functional as F
    from tinygrad_edu.models import MLP

    manual_seed(seed)
    model = MLP([32] + [64] * 20 + [10])
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((8, 32)), dtype=np.float32, name="x")
    y = Tensor(rng.integers(0, 10, size=8), name="y")
    loss = F.cross_entropy(model(x), y)
    loss.name = "loss"
    return (loss,), dict(model.named_parameters()), model


def rnn(seed: int = 0) -> WithModel:
    """Backpropagation through time: an `nn.RNN` (3 -> 4, tanh) over 6 time steps of a batch
    of 2, loss = the sum of its outputs. It is the engine's ordinary backward through the
    unrolled graph; the six identical steps draw as one box "... ×6" (`fold_repeats=False`
    opens it)."""
    import tinygrad_edu.nn as nn

    manual_seed(seed)
    model = nn.RNN(3, 4)
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((6, 2, 3)), dtype=np.float32, name="x")
    out, _ = model(x)
    loss = out.sum()
    loss.name = "loss"
    return (loss,), dict(model.named_parameters()), model


EXAMPLES: dict[str, Callable[..., WithModel]] = {
    "autoencoder": autoencoder, "two_layer": two_layer, "convnet": convnet, "mlp20": mlp20,
    "rnn": rnn,
}


def build(name: str, seed: int = 0) -> Built:
    """`(outputs, params)` of a built-in example: 'autoencoder', 'two_layer', 'convnet',
    'mlp20' or 'rnn'."""
    if name not in EXAMPLES:
        raise ValueError(f"examples.build: unknown example {name!r}; choose one of "
                         f"{sorted(EXAMPLES)}")
    outputs, params, _ = EXAMPLES[name](seed)
    return outputs, params


def draw(name: str, seed: int = 0, **kwargs: Any) -> Any:
    """The example's graph after `backward()`, gradients on every edge (a graphviz.Digraph);
    keyword arguments go to `viz.draw_graph`."""
    from viz.graph import draw_graph

    if name not in EXAMPLES:
        build(name)  # raises the error that lists the examples
    outputs, params, model = EXAMPLES[name](seed)
    with record_gradients() as tape:
        backward(list(outputs))
    return draw_graph(*outputs, params=params, tape=tape, model=model, **kwargs)
