"""Hypothesis profiles: `ci` (quick and derandomized, used by `make test`: every run tries the same
examples, so a pass or a failure repeats) and `dev` (more examples, new ones each run)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
