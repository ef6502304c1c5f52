"""The one exception data loaders raise for a file whose contents are not what its format
promises (bad magic number, truncated payload, wrong record size, refused pickle)."""


class DataFormatError(ValueError):
    """A data file is corrupted, truncated or not in the expected format; the message names
    the file, what was expected and what was found."""
