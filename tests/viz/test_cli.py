"""The `scratchgrad` command: formulas in, gradients and a picture out, code refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from viz.cli import main
from viz.expr import ExprError, build

from .conftest import ROOT

LOSS = "0.5 * (x * m * t - 219) ** 2"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_draw_the_books_loss(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", LOSS, "x=100", "m=2", "t=1.1"]) == 0
    out = capsys.readouterr().out
    assert f"{LOSS} = 0.5" in out
    assert "∂/∂x = 2.2" in out and "∂/∂m = 110" in out and "∂/∂t = 200" in out
    assert "wrote graph.svg" in out
    assert (in_tmp / "graph.svg").read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize(
    ("expr", "values", "shown"),
    [
        ("x * y", ["x=100", "y=2"], ["= 200", "∂/∂x = 2", "∂/∂y = 100"]),
        ("(x + y) ** 2", ["x=2", "y=1"], ["= 9", "∂/∂x = 6"]),
        ("1 / (1 + exp(-x))", ["x=0"], ["= 0.5", "∂/∂x = 0.25"]),
        ("sigmoid(x) + tanh(x) + relu(x) + log(x)", ["x=1"], ["∂/∂x = "]),
        ("-x * 2", ["x=3"], ["= -6", "∂/∂x = -2"]),
        ("2 ** 3", [], ["= 8"]),
        ("x", ["x=1", "unused=2"], ["∂/∂unused = not used"]),
    ],
)
def test_draw_accepts_formulas(
    expr: str, values: list[str], shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["draw", expr, *values, "-o", "g.dot"]) == 0
    out = capsys.readouterr().out
    for text in shown:
        assert text in out


@pytest.mark.parametrize("fmt", ["png", "pdf", "dot"])
def test_output_format_from_extension(
    fmt: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["draw", "x * y", "x=1", "y=2", "-o", f"out/g.{fmt}", "--style", "nodes"]) == 0
    assert (in_tmp / "out" / f"g.{fmt}").stat().st_size > 0


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('touch pwned')",
        "open('pwned', 'w')",
        "x.__class__",
        "[x for x in y]",
        "lambda: 1",
        "open('f')",
        "y + 1",
        "'text'",
        "x[0]",
        "exp",
        "exp(x, 2)",
        "x if x else 1",
        "x +",
        "(" * 300 + "x" + ")" * 300,
        "+".join(["x"] * 999),
    ],
)
def test_draw_refuses_code(expr: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", expr, "x=1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scratchgrad: error: ")
    assert list(in_tmp.iterdir()) == []  # no picture, and no file made by the expression


@pytest.mark.parametrize("values", [["x"], ["x=abc"], ["1x=2"], ["exp=1"], ["x=1", "x=2"]])
def test_draw_refuses_bad_values(values: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", "x", *values]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_usage_errors_return_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["draw"]) == 2
    assert main(["frobnicate"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_draw_refuses_unknown_picture_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", "x", "x=1", "-o", "g.jpeg"]) == 2
    assert ".svg" in capsys.readouterr().err


def test_nothing_is_evaluated() -> None:
    with pytest.raises(ExprError):
        build("__import__('os')", {})
    root, variables = build("x * 2", {"x": 3.0})
    assert float(root.data) == 6.0 and variables["x"].name == "x"


def test_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "draw" in out and "demo" in out


def test_demo(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "-o", "pictures"]) == 0
    out = capsys.readouterr().out
    for number in ("715", "2.2", "110", "3.3", "165", "650"):
        assert number in out
    for pointer in ("examples/", "draw --help", "make test", "train_mnist.py", "bench/"):
        assert pointer in out
    assert (in_tmp / "pictures" / "apple_orange.svg").exists()
    assert (in_tmp / "pictures" / "apple_orange.png").read_bytes().startswith(b"\x89PNG")


def test_python_dash_m_viz(in_tmp: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "viz", "draw", "x * y", "x=3", "y=4", "-o", "g.dot"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "∂/∂x = 4" in done.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "viz", "draw", "x.__class__", "x=1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert refused.returncode == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["draw", "-(-x)", "x=3", "-o", "g.dot"],
        ["draw", "-o", "g.dot", "-x * -1", "x=3"],
    ],
)
def test_a_formula_may_start_with_minus(
    argv: list[str], in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    assert "= 3" in capsys.readouterr().out


def test_refused_operators_are_named(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", "x @ x", "x=1"]) == 2
    assert "not allowed in a formula: the operator @" in capsys.readouterr().err
