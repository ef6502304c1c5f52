"""The package version, in a module of its own so that code inside the package (the
command line's `--version`) can read it without importing the package root."""

__version__ = "0.1.0"  # keep in step with pyproject.toml (tests/test_cli_errors.py checks)
