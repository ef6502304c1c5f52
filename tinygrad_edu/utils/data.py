"""`torch.utils.data` -> `tinygrad_edu.utils.data`: the names of `tinygrad_edu.data`."""

from tinygrad_edu.data import *  # noqa: F403
from tinygrad_edu.data import __all__  # noqa: F401
