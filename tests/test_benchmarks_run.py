"""Each benchmark script runs to the end (with the smallest settings): a benchmark that crashes
is found here, not on the quiet machine that was kept free to run it. Nothing is timed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
needs_mnist = pytest.mark.skipif(
    not os.environ.get("SCRATCHGRAD_DATA"),
    reason="needs real MNIST: set SCRATCHGRAD_DATA (make test points it at ../shared/data/mnist)",
)


def _run(script: str, *args: str) -> str:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


@needs_mnist
def test_the_two_layer_benchmark_runs() -> None:
    out = _run(
        "twolayer.py", "--blocks", "1", "--per-block", "1", "--train-iters", "5",
        "--train-repeats", "1", "--memory-steps", "5",
    )  # fmt: skip
    assert "| plain numpy floor |" in out and "live Tensors" in out


@needs_mnist
def test_the_trace_benchmark_runs() -> None:
    out = _run(
        "trace.py", "--quick", "--blocks", "1", "--per-block", "1", "--demo-steps", "1",
        "--demo-points", "4",
    )  # fmt: skip
    assert "| the program called directly |" in out
    assert "| traced program (floats) |" in out and "4 moons" in out
