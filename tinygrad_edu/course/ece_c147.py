"""ECE C147's (UCLA) names, with its conventions preset, so its notebooks need only their
imports changed:

- `TwoLayerNet(input_size, hidden_size, output_size, std=1e-4)` (its `nndl/neural_net.py`):
  W1 (H, D), W2 (C, H), penalty 0.5 * reg * (sum W1^2 + sum W2^2), `loss(X, y, reg)`,
  `train(...)` returning {'loss_history', 'train_acc_history', 'val_acc_history'},
  `predict(X)`; see `course.neural_net`.
- `FullyConnectedNet(hidden_dims, ..., dropout=0, use_batchnorm=False, ...)` (its
  `nndl/fc_net.py`): `course.models.FullyConnectedNet`, which takes these spellings. Its
  fc_net `TwoLayerNet(input_dim, hidden_dims, ...)` is `course.models.TwoLayerNet`, which
  takes `hidden_dims=` too.
"""

from __future__ import annotations

from tinygrad_edu.course import neural_net
from tinygrad_edu.course.models import FullyConnectedNet

__all__ = ["TwoLayerNet", "FullyConnectedNet"]


class TwoLayerNet(neural_net.TwoLayerNet):
    """`course.neural_net.TwoLayerNet` with ECE C147's layout: W1 (H, D), W2 (C, H)."""

    layout = "ece_c147"
