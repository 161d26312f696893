"""Shared helpers for the viz tests: loading the example scripts and golden DOT files.

Regenerate the golden files after an intended change of the drawings with

    SCRATCHGRAD_UPDATE_GOLDEN=1 python -m pytest tests/viz -k golden

and review the diff (`git diff tests/viz/golden`) before committing.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
# the book's figures: 5-16, 5-17, 5-7/5-8, 5-19/5-20, 5-25/5-27, 5-29/5-30; and a loss
EXAMPLES = ("apple", "apple_orange", "chain_rule", "sigmoid", "affine", "softmax_loss", "loss")


def load_example(name: str) -> ModuleType:
    """Import examples/<name>.py (the examples folder is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", ROOT / "examples" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_golden(name: str, source: str) -> None:
    """Compare DOT text with tests/viz/golden/<name>.dot (or rewrite it when asked to)."""
    path = GOLDEN / f"{name}.dot"
    if os.environ.get("SCRATCHGRAD_UPDATE_GOLDEN"):
        path.write_text(source, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing; create it with SCRATCHGRAD_UPDATE_GOLDEN=1")
    assert source == path.read_text(encoding="utf-8"), (
        f"the DOT of {name} changed; if intended, regenerate with SCRATCHGRAD_UPDATE_GOLDEN=1"
    )


@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Graphviz program on PATH: rendering must still work (in-process)."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
