"""`torch.utils` -> `tinygrad_edu.utils`: `utils.data` is `tinygrad_edu.data`, so
`torch.utils.data.DataLoader` and `from torch.utils.data import ...` port unchanged."""

from tinygrad_edu.utils import data

__all__ = ["data"]
