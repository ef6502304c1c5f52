"""Neural-network modules, layers, initializers and functional ops (as `torch.nn`).

    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""

from tinygrad_edu.nn import functional, init, utils
from tinygrad_edu.nn.activation import (
    ELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from tinygrad_edu.nn.activation_more import *  # noqa: F403
from tinygrad_edu.nn.activation_more import __all__ as _activations_more
from tinygrad_edu.nn.attention import MultiheadAttention
from tinygrad_edu.nn.container import ModuleDict, ModuleList, Sequential
from tinygrad_edu.nn.conv_layers import (
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    Conv1d,
    Conv2d,
    Conv3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)
from tinygrad_edu.nn.conv_transpose_layers import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from tinygrad_edu.nn.fold_layers import Fold, Unfold
from tinygrad_edu.nn.linear import Dropout, Flatten, Identity, Linear, Unflatten
from tinygrad_edu.nn.loss_modules import *  # noqa: F403
from tinygrad_edu.nn.loss_modules import __all__ as _loss_modules
from tinygrad_edu.nn.loss_modules_more import *  # noqa: F403
from tinygrad_edu.nn.loss_modules_more import __all__ as _loss_modules_more
from tinygrad_edu.nn.module import Module
from tinygrad_edu.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from tinygrad_edu.nn.parameter import Buffer, Parameter
from tinygrad_edu.nn.rnn import GRU, LSTM, RNN, RNNBase
from tinygrad_edu.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from tinygrad_edu.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "Module", "Parameter", "Buffer", "functional", "init", "utils",
    "Identity", "Linear", "Flatten", "Unflatten", "Dropout",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "Sequential", "ModuleList", "ModuleDict",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "SiLU", "GELU", "Softplus", "ELU", "Hardtanh",
    "Softmax", "LogSoftmax", *_loss_modules,
]
__all__ += [*_activations_more, *_loss_modules_more]
__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
__all__ += ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
            "TransformerDecoderLayer", "TransformerDecoder", "Transformer"]
__all__ += ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Unfold", "Fold",
            "Conv3d", "MaxPool3d", "AvgPool3d"]

# Layers added for issue 19
from tinygrad_edu.nn.adaptive_pool import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
)
from tinygrad_edu.nn.bilinear import Bilinear  # noqa: E402
from tinygrad_edu.nn.containers_more import ParameterDict, ParameterList  # noqa: E402
from tinygrad_edu.nn.dropout_nd import Dropout1d, Dropout2d, Dropout3d  # noqa: E402
from tinygrad_edu.nn.embedding import Embedding  # noqa: E402
from tinygrad_edu.nn.group_norm import (  # noqa: E402
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)
from tinygrad_edu.nn.upsample import (  # noqa: E402
    PixelShuffle,
    PixelUnshuffle,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

__all__ += [
    "Embedding", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
    "PixelUnshuffle", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "GroupNorm",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "Dropout1d", "Dropout2d",
    "Dropout3d", "Bilinear", "ParameterList", "ParameterDict",
]
