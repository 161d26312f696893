"""Output that never fails or chatters: the example scripts' gradient lines on a terminal that
cannot show `∂`, and pictures/explanations of graphs whose values overflow (no warnings: the
overflow is shown as inf, as in the values)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import autograd
import viz
from autograd import Tensor, Value
from viz.book import apple_orange, print_gradients
from viz.format import printable

ROOT = Path(__file__).resolve().parents[2]


def test_print_gradients_on_an_ascii_terminal_falls_back_to_d(monkeypatch) -> None:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    price, inputs = apple_orange()
    price.backward()
    print_gradients(price, inputs)
    x = Value(-2.0, "café")
    y = x * x * x
    y.name = "y"
    y.backward()
    print_gradients(y, {"café": x})
    stdout.flush()
    text = stdout.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert text.splitlines() == [
        "price = 715",
        "  dprice/dapple = 2.2",
        "  dprice/dnum = 110",
        "  dprice/dorange = 3.3",
        "  dprice/dorange_num = 165",
        "  dprice/dtax = 650",
        "y = -8",
        "  dy/dcaf\\xe9 = 12",
    ]


@pytest.mark.parametrize(
    ("script", "line"),
    [
        ("apple_orange.py", "  dprice/dapple = 2.2"),
        # these printed their own ∂, −, × and σ and died of UnicodeEncodeError
        ("sigmoid.py", "four ops (x-1, exp, +1, 1/*):"),
        ("sigmoid.py", "one op (sigmoid):"),
        ("affine.py", "dL/dX = [[-0.4, -0.4], [0.65, 0.9]]"),
        ("softmax_loss.py", "dL/da = (y - t)/2 = [[0.009, 0.123, -0.132], [-0.213, 0.174, 0.039]]"),
        ("vanishing_gradient.py", "mean |dL/dW| per layer (layer 1 is next to the input):"),
        ("book/ch04/gradient_method.py", "multiplying x by 1 - 2*lr = -19 every step)"),
    ],
    ids=lambda value: value if value.endswith(".py") else "",
)  # fmt: skip
def test_an_example_script_runs_with_pythonioencoding_ascii(tmp_path, script, line) -> None:
    """The README: on a terminal that cannot show `∂`, gradients print as `dL/dx`, from the
    commands and from the example scripts alike."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="ascii",
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert line in done.stdout and ("wrote out" in done.stdout or "saved" in done.stdout)


@pytest.mark.parametrize("script", ["apple.py", "xor.py"])
def test_help_on_an_ascii_terminal(tmp_path, script) -> None:
    """`xor.py --help` died of UnicodeEncodeError on its docstring's `½ Σ` (argparse prints the
    description as given)."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--help"],
        cwd=tmp_path, env=env, capture_output=True, text=True, encoding="ascii", check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"usage: {script}")
    assert "1/2 sum (y_o - y_true)^2" in done.stdout or "100 x 2 x 1.1 = 220" in done.stdout


def test_printable_keeps_what_the_stream_can_show() -> None:
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    latin1 = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    assert printable("∂L/∂x = −2·é", utf8) == "∂L/∂x = −2·é"
    assert printable("∂L/∂x = −2 é ✓", latin1) == "dL/dx = -2 é \\u2713"


def _overflowing_graphs() -> dict[str, Tensor]:
    with np.errstate(all="ignore"):  # the user's own arithmetic may warn; that is numpy's
        v = Value(1e300, "v")
        scalar = (v * v).exp() + v**3
        scalar.backward()
        t = Tensor(np.full(20, 1e300), name="T")
        tensor = (t**3 + t * t).sum()
        tensor.backward()
        w = Value(1e308, "w")
        fan_out = w * 1e300 + w * 1e300  # two branches whose gradients overflow when summed
        fan_out.backward()
    return {"scalar": scalar, "tensor": tensor, "fan_out": fan_out}


VIEWS: dict[str, Callable[[Tensor], object]] = {
    "draw": lambda root: viz.draw(root).source,
    "draw nodes": lambda root: viz.draw(root, style="nodes").source,
    "steps": lambda root: viz.steps(root),
    "explanation": lambda root: autograd.explanation(root, forward=True),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_overflowing_values_are_drawn_and_explained_without_warnings(view: str) -> None:
    """viz.steps and explain replay the backward pass, which overflows again: that replay
    warned (RuntimeWarning: overflow encountered in power) on every picture."""
    for name, root in _overflowing_graphs().items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = VIEWS[view](root)
        assert result is not None, name
    with warnings.catch_warnings():  # and numpy's own setting is left as it was
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="overflow"):
            np.float64(1e300) ** 3


@pytest.mark.parametrize("command", ["draw", "trace"])
def test_a_formula_python_warns_about_is_refused_in_one_line(command: str, tmp_path) -> None:
    # "1if x else 2" also wrote "<unknown>:1: SyntaxWarning: invalid decimal literal" to stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "default"}
    done = subprocess.run(
        [sys.executable, "-m", "viz", command, "1if x else 2", "x=1"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "scratchgrad: error: not a formula: invalid decimal literal\n"
