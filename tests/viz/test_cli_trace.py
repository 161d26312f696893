"""`scratchgrad trace`: the program for a formula, printed and run; code refused."""

from __future__ import annotations

import pytest

from viz.cli import main

LOSS = "0.5 * (x * m * t - 219) ** 2"


def test_trace_prints_the_program_and_the_books_gradients(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["trace", LOSS, "x=100", "m=2", "t=1.1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def forward_backward(x, m, t):\n")
    assert "math.pow(v1, 2)" in out and "# backward" in out
    assert "∂L/∂x = 2.2" in out and "∂L/∂m = 110" in out and "∂L/∂t = 200" in out


def test_trace_shows_numpy_results_where_math_raises(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "x / y + exp(x)", "x=1", "y=0"]) == 0
    out = capsys.readouterr()
    assert "= inf" in out.out and out.err == ""


@pytest.mark.parametrize(
    "expr",
    ["__import__('os').system('echo pwned')", "x.__class__", "[x for x in ()]", "lambda: x"],
)
def test_trace_refuses_code(expr: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", expr, "x=1"]) == 2
    captured = capsys.readouterr()
    assert "pwned" not in captured.out and "error:" in captured.err


def test_trace_needs_a_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "2 ** 3"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
