"""Hypothesis profiles: `ci` (derandomized, bounded, no deadline) is used under CI=true;
`dev` (deeper, random) otherwise. Pick one with HYPOTHESIS_PROFILE=ci|dev."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=120, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# `make test` is numpy-only: the PyTorch conformance suite is collected only when pytest is
# pointed at tests/conformance (as `make conformance` does), never as part of `tests`; the
# browser tests likewise only through `make browser`.
collect_ignore = ["conformance", "browser"]
