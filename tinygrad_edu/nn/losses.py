"""The losses under one name: the functions (defined in `loss_functions`, also in
`nn.functional`) and, as attributes, the loss modules (defined in `loss_modules`, also in
`nn`), so `nn.losses.cross_entropy` and `nn.losses.CrossEntropyLoss` both work. `import *`
gives the functions, as before."""

from tinygrad_edu.nn.loss_functions import *  # noqa: F403
from tinygrad_edu.nn.loss_functions import __all__ as _functions
from tinygrad_edu.nn.loss_modules import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
    SVMLoss,
)

__all__ = list(_functions)  # the functions, as `import *` always gave
