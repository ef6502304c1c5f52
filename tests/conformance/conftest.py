"""PyTorch is the oracle here. A missing torch is a failure, not a skip: `make conformance`
installs torch==2.13.0 into .venv before it runs this suite."""

import os

from hypothesis import HealthCheck, settings

try:
    import torch
except ImportError as e:  # pragma: no cover - the failure is the point
    raise RuntimeError(
        "tests/conformance needs PyTorch (torch==2.13.0); run `make conformance`, which "
        "installs it into .venv"
    ) from e

torch.set_num_threads(1)

settings.register_profile(
    "ci", derandomize=True, max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=120, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
