"""Fixtures of the book tests: the nn tests' real-MNIST fixtures (one MNIST lookup for the
whole suite), the book scripts run as a reader runs them, and a PNG check."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

_spec = importlib.util.spec_from_file_location(
    "_nn_conftest", Path(__file__).resolve().parents[1] / "nn" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_nn_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_nn_fixtures)
mnist_dir = _nn_fixtures.mnist_dir
mnist_loader = _nn_fixtures.mnist_loader

# modules the book's scripts import from their own folder, as `python script.py` allows
SIBLING_MODULES = ("two_layer_net", "layer_naive")


@pytest.fixture
def run_script(tmp_path, monkeypatch, capsys) -> Callable[..., tuple[dict[str, Any], str]]:
    """Run examples/<script> as `python examples/<script> ARGS` would, in a fresh folder (its
    out/book/ lands there); returns the script's globals and what it printed."""
    monkeypatch.chdir(tmp_path)
    for name in SIBLING_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)

    def run(script: str, *args: str) -> tuple[dict[str, Any], str]:
        path = EXAMPLES / script
        monkeypatch.syspath_prepend(str(path.parent))
        monkeypatch.setattr(sys, "argv", [str(path), *args])
        capsys.readouterr()
        namespace = runpy.run_path(str(path), run_name="__main__")
        return namespace, capsys.readouterr().out

    yield run
    for name in SIBLING_MODULES:
        sys.modules.pop(name, None)


@pytest.fixture(scope="session")
def book_build() -> Any:
    """examples/book/build.py, the `make book` builder, imported as a module."""
    name = "scratchgrad_book_build"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / "book" / "build.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while being defined
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def book_mnist(mnist_loader, monkeypatch) -> None:
    """The scripts' `load_mnist()` served from the session's parsed copy of real MNIST."""
    import nn.datasets

    monkeypatch.setattr(nn.datasets, "load_mnist", mnist_loader)


def _assert_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    with Image.open(path) as image:
        assert image.format == "PNG", f"{path} is {image.format}"
        image.load()  # decodes every byte: a truncated file fails here
        assert image.width > 100 and image.height > 100


@pytest.fixture
def assert_png() -> Callable[[Path], None]:
    """Check that a file exists and is a PNG image that decodes."""
    return _assert_png
