"""Fixtures of the nn tests: real MNIST, located once (or skipped with the reason), loaded once."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

from nn.datasets import MNIST_FILES, load_mnist


def _real_mnist_dir() -> Path | None:
    candidates = []
    if os.environ.get("SCRATCHGRAD_DATA"):
        candidates.append(Path(os.environ["SCRATCHGRAD_DATA"]))
    # /work/main/tests/nn/this_file -> /work/main/../shared/data/mnist
    candidates.append(Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist")
    for folder in candidates:
        if all((folder / name).is_file() for name in MNIST_FILES.values()):
            return folder.resolve()
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    folder = _real_mnist_dir()
    if folder is None:
        pytest.skip("no copy of real MNIST: set $SCRATCHGRAD_DATA or provide ../shared/data/mnist")
    return folder


@pytest.fixture(scope="session")
def mnist_loader(mnist_dir: Path) -> Any:
    """`load_mnist` on the real files, each distinct call parsed once per session (about a
    second each). The arrays are shared between tests: do not modify them."""

    @functools.cache
    def load(**kwargs: Any) -> Any:
        return load_mnist(data_dir=mnist_dir, **kwargs)

    return load


@pytest.fixture(scope="session")
def mnist(mnist_loader: Any) -> Any:
    """The book's `load_mnist(normalize=True, one_hot_label=True)`."""
    return mnist_loader(normalize=True, one_hot_label=True)
