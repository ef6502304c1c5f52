"""tinygrad_edu: an autograd engine on numpy, small enough to read in one sitting.

`import tinygrad_edu as torch` runs most PyTorch scripts: the names below follow PyTorch
(and numpy where PyTorch has no opinion).
"""

# dtypes, with PyTorch's names
import numpy as _np  # noqa: E402

# numpy's protocols for Tensor: this imports the engine, tensor.py and functional.py, then
# fills tensor._numpy (tensor.py cannot import it: it is built on functional.py)
import tinygrad_edu._numpy_interop  # noqa: F401
from tinygrad_edu import autograd  # the engine, before the Tensor that uses it
from tinygrad_edu._size import Size
from tinygrad_edu.autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    get_default_dtype,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    record_gradients,
    set_default_dtype,
    set_grad_enabled,
)
from tinygrad_edu.autograd import grad as grad
from tinygrad_edu.creation import (
    Generator,
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from tinygrad_edu.derive import assert_derivation, check_derivation
from tinygrad_edu.device import device
from tinygrad_edu.errors import DataFormatError, ShapeError
from tinygrad_edu.functional import *  # noqa: F403  (exp, log, sum, ... as functions)
from tinygrad_edu.functional import (
    broadcast_tensors,
    cat,
    concat,
    concatenate,
    diag,
    dot,
    einsum,
    is_tensor,
    linear,
    outer,
    stack,
    trace,
    where,
)
from tinygrad_edu.linalg import cdist, tensordot
from tinygrad_edu.serialization import load, save
from tinygrad_edu.tensor import Tensor

float32 = float = _np.dtype(_np.float32)  # noqa: A001
float64 = double = _np.dtype(_np.float64)
float16 = half = _np.dtype(_np.float16)
int64 = long = _np.dtype(_np.int64)
int32 = int = _np.dtype(_np.int32)  # noqa: A001
int16 = _np.dtype(_np.int16)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)  # noqa: A001
dtype = _np.dtype

from tinygrad_edu.version import __version__ as __version__  # noqa: E402

_SUBMODULES = ("nn", "optim", "data", "utils", "func", "linalg", "models", "train", "gradcheck",
               "testing", "course", "sweep")


def __getattr__(name: str) -> object:
    """`tinygrad_edu.nn` and friends load on first use (as `torch.nn` after `import torch`),
    so importing the core never imports the layers above it."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"tinygrad_edu.{name}")
    raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")

__all__ = [
    "Tensor", "Function", "ShapeError", "DataFormatError", "Generator", "autograd", "grad",
    "no_grad",
    "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly", "record_gradients",
    "set_default_dtype", "get_default_dtype", "tensor", "as_tensor", "from_numpy", "zeros",
    "ones", "empty", "full", "eye", "arange", "linspace", "randn", "rand", "randint",
    "randperm", "normal", "zeros_like", "ones_like", "empty_like", "full_like", "randn_like",
    "rand_like", "manual_seed", "cat", "concat", "concatenate", "stack", "where", "einsum",
    "outer", "dot", "diag", "trace", "is_tensor", "broadcast_tensors", "save", "load", "linear",
    "check_derivation", "assert_derivation", "device",
]
__all__ += ["Size", "inference_mode", "is_inference_mode_enabled", "bernoulli", "multinomial",
            "cdist", "tensordot"]  # issue 19 (helper linred)

# `torch.compile`'s spelling: a function or module as generated numpy code (the core package
# `tinygrad_edu.compile` traces and generates it; the entry point, which wraps a Module in a
# CompiledModule, is tinygrad_edu.nn.compiled's; the name here is the function, as in PyTorch)
from tinygrad_edu.nn.compiled import compile as compile  # noqa: E402

__all__ += ["compile"]
