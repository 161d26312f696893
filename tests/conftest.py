"""Hypothesis profiles: `ci` (quick and derandomized, used by `make test`: every run tries the same
examples, so a pass or a failure repeats) and `dev` (more examples, new ones each run)."""

import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest
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


@pytest.fixture
def run_threads() -> Callable[..., None]:
    """`run_threads(work, [args, ...])`: `work(*args)` in a thread each, all started before
    any is waited for. `switch_often=True` has Python switch threads as often as it can while
    they run, so that races show."""

    def run(
        work: Callable[..., Any], args_list: Iterable[tuple], *, switch_often: bool = False
    ) -> None:
        interval = sys.getswitchinterval()
        if switch_often:
            sys.setswitchinterval(1e-6)
        try:
            threads = [threading.Thread(target=work, args=args) for args in args_list]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)

    return run
