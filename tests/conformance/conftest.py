"""PyTorch is the oracle here. A missing torch is a failure, not a skip: `make conformance`
installs torch==2.13.0 into .venv before it runs this suite."""

try:
    import torch
except ImportError as e:  # pragma: no cover - the failure is the point
    raise RuntimeError(
        "tests/conformance needs PyTorch (torch==2.13.0); run `make conformance`, which "
        "installs it into .venv"
    ) from e

torch.set_num_threads(1)

# The hypothesis profiles (`ci`, `dev`) come from tests/conftest.py, which pytest loads first.
