"""HIPS autograd (PyPI "autograd") installs the same top-level package name as our engine.
`nn`, `viz` and the `scratchgrad` command must stop with a message naming the clash and the fix,
not fail later with "cannot import name 'Tensor'". Each case runs in a fresh interpreter with a
stand-in for HIPS autograd; nothing is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("scratchgrad")

HIPS_INIT = '''"""Stand-in for HIPS autograd's __init__ (its public names, none of ours)."""


def grad(fun, argnum=0):
    return fun


elementwise_grad = grad
'''


def _run(args: list[str], pythonpath: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, check=False)


@pytest.fixture
def hips_first(tmp_path: Path) -> Path:
    """HIPS autograd in a folder that comes before ours on sys.path (installed elsewhere)."""
    (tmp_path / "site" / "autograd").mkdir(parents=True)
    (tmp_path / "site" / "autograd" / "__init__.py").write_text(HIPS_INIT)
    return tmp_path / "site"


@pytest.fixture
def overwritten(tmp_path: Path) -> Path:
    """A plain install of ours whose autograd/__init__.py HIPS autograd replaced (same folder)."""
    site = tmp_path / "site"
    for package in ("autograd", "viz", "nn"):
        shutil.copytree(
            ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (site / "autograd" / "__init__.py").write_text(HIPS_INIT)
    return site


def _assert_names_the_clash_and_the_fix(text: str, where: Path) -> None:
    assert (
        f"scratchgrad: the 'autograd' that Python imports ({where}) is HIPS autograd, not its "
        "engine. " in text
    )
    assert "installs the same top-level name" in text
    assert "separate virtualenv" in text and "pip uninstall autograd" in text


@pytest.mark.parametrize("package", ["nn", "viz", "nn.datasets", "viz.cli"])
@pytest.mark.parametrize("layout", ["hips_first", "overwritten"])
def test_importing_our_packages_names_the_clash(package, layout, request, tmp_path):
    site = request.getfixturevalue(layout)
    done = _run([sys.executable, "-c", f"import {package}"], site, tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: scratchgrad: ")
    _assert_names_the_clash_and_the_fix(last, site / "autograd" / "__init__.py")


@pytest.mark.parametrize("how", ["python -m viz", "scratchgrad"])
@pytest.mark.parametrize("layout", ["hips_first", "overwritten"])
def test_the_command_stops_with_one_line_and_no_traceback(how, layout, request, tmp_path):
    site = request.getfixturevalue(layout)
    command = [sys.executable, "-m", "viz"] if how == "python -m viz" else [str(SCRIPT)]
    if how == "scratchgrad" and not SCRIPT.exists():
        pytest.skip(f"no {SCRIPT}: the package is not installed in this interpreter's folder")
    done = _run([*command, "demo", "-o", "out"], site, tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    _assert_names_the_clash_and_the_fix(done.stderr, site / "autograd" / "__init__.py")
    assert not (tmp_path / "out").exists()


def test_after_pip_uninstall_autograd_the_message_says_it_is_not_ours(overwritten, tmp_path):
    """Uninstalling HIPS removes the __init__.py it had replaced: a namespace package is left."""
    (overwritten / "autograd" / "__init__.py").unlink()
    done = _run([sys.executable, "-c", "import viz"], overwritten, tmp_path)
    assert done.returncode == 1
    assert f"({overwritten / 'autograd'}) is not its engine. HIPS autograd" in done.stderr


def test_an_autograd_that_fails_to_import_is_reported_with_the_fix(hips_first, tmp_path):
    (hips_first / "autograd" / "__init__.py").write_text("import autograd.numpy_boxes\n")
    done = _run([sys.executable, "-c", "import nn"], hips_first, tmp_path)
    assert done.returncode == 1
    assert "ImportError: scratchgrad: cannot import its engine 'autograd' (No module named" in (
        done.stderr
    )
    assert "separate virtualenv" in done.stderr


def test_our_own_engine_passes_the_check(tmp_path):
    done = _run([sys.executable, "-c", "import nn, viz, viz.cli"], ROOT, tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
