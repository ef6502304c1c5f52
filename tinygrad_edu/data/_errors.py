"""The one exception data loaders raise for a file whose contents are not what its format
promises (bad magic number, truncated payload, wrong record size, refused pickle). Defined
in `tinygrad_edu.errors` so `load`/`Module.load` raise the same class without importing
the data package."""

from tinygrad_edu.errors import DataFormatError

__all__ = ["DataFormatError"]
