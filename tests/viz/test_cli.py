"""The `scratchgrad` command: formulas in, gradients and a picture out, code refused."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    assert "∂L/∂x = 2.2" in out and "∂L/∂m = 110" in out and "∂L/∂t = 200" in out
    assert "wrote graph.svg" in out
    assert (in_tmp / "graph.svg").read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize(
    ("expr", "values", "shown"),
    [
        ("x * y", ["x=100", "y=2"], ["= 200", "∂L/∂x = 2", "∂L/∂y = 100"]),
        ("(x + y) ** 2", ["x=2", "y=1"], ["= 9", "∂L/∂x = 6"]),
        ("1 / (1 + exp(-x))", ["x=0"], ["= 0.5", "∂L/∂x = 0.25"]),
        ("sigmoid(x) + tanh(x) + relu(x) + log(x)", ["x=1"], ["∂L/∂x = "]),
        ("-x * 2", ["x=3"], ["= -6", "∂L/∂x = -2"]),
        ("2 ** 3", [], ["= 8"]),
        ("x", ["x=1", "unused=2"], ["∂L/∂unused = not used"]),
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
    for pointer in ("examples/", "draw --help", "train_mnist.py", "bench/"):
        assert pointer in out
    # run from another folder, the checkout's files and make are named so that they work here
    assert f"make -C {ROOT} test / make -C {ROOT} bench" in out
    for script in ("apple", "gradient_check", "train_mnist", "optimizer_compare"):
        assert (
            f"{ROOT}/examples/{script}.py" in out and (ROOT / "examples" / f"{script}.py").is_file()
        )
    assert (in_tmp / "pictures" / "apple_orange.svg").exists()
    assert (in_tmp / "pictures" / "apple_orange.png").read_bytes().startswith(b"\x89PNG")


def test_demo_into_a_file_is_a_usage_error_before_any_output(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was the gradients printed, then "error: [Errno 17] File exists: 'notes.txt'"."""
    (in_tmp / "notes.txt").write_text("mine")
    assert main(["demo", "-o", "notes.txt"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "-o notes.txt: it exists and is not a folder" in captured.err
    assert (in_tmp / "notes.txt").read_text() == "mine"


def test_demo_from_the_checkout_itself_uses_short_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "  make test / make bench  " in out
    assert " examples/apple.py " in out and "  README.md  " in out


def test_demo_after_a_plain_install_names_only_what_is_installed(tmp_path: Path) -> None:
    """Installed from a wheel, only the packages exist: no Makefile, examples or README beside
    them. The demo must not send the user to them, and every command it names must run."""
    site = tmp_path / "site-packages"
    for package in ("autograd", "viz", "nn"):
        shutil.copytree(
            ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-m", "viz", "demo", "-o", "out"],
        capture_output=True, text=True, env=env, cwd=home, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "715" in done.stdout and (home / "out" / "apple_orange.svg").exists()
    more = done.stdout.split("More to try:\n", 1)[1]
    for absent in ("make", "examples", "README", "bench"):
        assert absent not in more, more
    commands = [re.split(r"\s{2,}", row.strip())[0] for row in more.splitlines()]
    assert len(commands) == 7 and any("pydoc nn" in c for c in commands)
    for command in commands:
        ran = subprocess.run(
            shlex.split(command), capture_output=True, text=True, env=env, cwd=home, check=False
        )
        assert ran.returncode == 0, (command, ran.stderr)
        assert ran.stdout.strip(), command
        assert "Traceback" not in ran.stderr, (command, ran.stderr)


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
    assert "∂L/∂x = 4" in done.stdout
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


# --- every input ends in one line (issue 7, CLI) ------------------------------------------------
def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1, captured.err
    assert lines[0].startswith("scratchgrad: error: ")
    return lines[0]


def test_a_refused_operator_deep_inside_minus_signs_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`~` then 330 minus signs: showing the refused part recursed past the limit (a traceback)."""
    assert main(["draw", "~" + "-" * 330 + "x", "x=1"]) == 2
    assert "only unary minus is allowed" in _one_line_error(capsys)


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("x\x00", "not a formula"),  # a null byte: ValueError, not "nested too deeply"
        ("\udcffx", "bytes that are not text"),  # undecodable argv bytes (surrogateescape)
        ("-" * 1990 + "x", "nested too deeply"),
        ("(" * 300 + "x" + ")" * 300, "too many nested parentheses"),
        ("9" * 1999, "is too large"),
        ("x" * 2001, "longer than 2000 characters"),
        ("", "not a formula"),
        ("   ", "not a formula"),
        ("not " * 300 + "x", "only unary minus"),
        ("x ** (" * 150 + "x" + ")" * 150, ""),  # accepted or refused, never a traceback
    ],
)
def test_hostile_formulas_end_in_one_line_and_status_2(
    expr: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["draw", expr, "x=1", "-o", "g.dot"])
    if status == 0:
        assert not says
        return
    assert status == 2
    assert says in _one_line_error(capsys)


FORMULA_PIECES = st.sampled_from(
    ["x", "y", "1", "0", "2.5", "1e308", "1e999", "9" * 60, " ", "+", "-", "*", "/", "**", "(",
     ")", "exp(", "log(", "tanh(", "relu(", "sigmoid(", "~", "@", "%", ",", ".", "[", "]", "=",
     "'", "\\", "\n", "\t", "∂", "ｘ", "ℌ", "\u202e", "\ufeff", "\x00", "\udcff", "é", "𝑥", "_",
     "lambda", "__import__", "not", "if", "else", ":", "1_0", "0x1f", "1j", "..."]
)  # fmt: skip


@settings(
    max_examples=300,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    expr=st.one_of(
        st.lists(FORMULA_PIECES, max_size=40).map("".join),
        st.text(max_size=200),
        st.tuples(st.sampled_from(["-", "~", "(", "exp(", "x*", "x**"]), st.integers(0, 1200)).map(
            lambda t: t[0] * t[1] + "x"
        ),
    ),
    values=st.sampled_from([["x=1.5", "y=-2"], ["x=0"], ["x=1e308", "y=nan"], []]),
)
def test_fuzz_every_input_ends_in_a_result_or_one_line_error(
    expr: str, values: list[str], in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["draw", expr, *values, "-o", "g.dot"])
    if status == 0:
        out = capsys.readouterr().out
        assert out.startswith(f"L = {expr.strip()} = ") and out.rstrip().endswith("wrote g.dot")
    else:
        assert status == 2
        _one_line_error(capsys)


def test_variable_names_are_read_as_python_reads_the_formula(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Python folds ℌ to H in EXPR (NFKC); the NAME=VALUE side used to keep ℌ: "unknown name"."""
    assert main(["draw", "ℌ * 2", "ℌ=3", "-o", "g.dot"]) == 0
    assert "∂L/∂H = 2" in capsys.readouterr().out


# --- output on terminals that cannot show ∂ -------------------------------------------------------
@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("command", [["draw", "x * y", "x=3", "y=4", "-o", "g.dot"], ["demo"]])
def test_a_terminal_without_the_symbol_gets_d_for_partial(
    encoding: str, command: list[str], in_tmp: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": encoding}
    done = subprocess.run(
        [sys.executable, "-m", "viz", *command],
        capture_output=True, env=env, cwd=in_tmp, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")
    out = done.stdout.decode(encoding)
    assert ("dL/dx = 4" in out) if command[0] == "draw" else ("dprice/dapple = 2.2" in out)
    assert b"Traceback" not in done.stderr


def test_errors_that_quote_unprintable_input_are_escaped(in_tmp: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, "-m", "viz", "draw", "x * z", "x=1", "ζ=2"],
        capture_output=True, env=env, cwd=in_tmp, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.decode("ascii").startswith("scratchgrad: error: unknown name 'z'")


def test_main_leaves_the_streams_as_it_found_them(capsys: pytest.CaptureFixture[str]) -> None:
    before = (sys.stdout.errors, sys.stderr.errors)
    main(["draw", "x", "x=1", "-o", "g.dot"])
    assert (sys.stdout.errors, sys.stderr.errors) == before


def test_overflow_is_shown_as_inf_without_warnings_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The backward pass used to print numpy's "RuntimeWarning: overflow" under the result."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["draw", "x * x * y", "x=1e200", "y=1e200", "-o", "g.dot"]) == 0
    captured = capsys.readouterr()
    assert "∂L/∂x = inf" in captured.out and captured.err == ""


def test_a_closed_pipe_ends_quietly(in_tmp: Path) -> None:
    """`scratchgrad draw ... | head -1`: no "Broken pipe" error or traceback on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "viz", "draw", "x * y", "x=3", "y=4", "-o", "g.dot"],
            stdout=write_end, stderr=subprocess.PIPE, env=env, cwd=in_tmp, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == b""


def test_an_output_that_is_not_a_file_is_refused(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A named pipe called g.svg made the command wait forever for a reader."""
    os.mkfifo(in_tmp / "g.svg")
    (in_tmp / "pictures.png").mkdir()
    for name in ("g.svg", "pictures.png"):
        assert main(["draw", "x", "x=1", "-o", name]) == 2
        assert f"-o {name}: it exists and is not a file" in _one_line_error(capsys)


@pytest.mark.parametrize("command", ["draw", "demo", "trace", "check-layer"])
def test_every_command_help_says_what_it_does(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `demo --help` was usage and options only; `--style` was helped by "default: book"
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    usage, description = text.split("\n\n")[:2]
    assert usage.startswith(f"usage: scratchgrad {command}")
    assert len(description.split()) >= 10 and not description.startswith("options:")
    assert not re.search(r"\}\s+default: \w+\n", text)  # a choice explained, not only its default
