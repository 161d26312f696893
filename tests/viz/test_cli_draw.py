"""The CLI's drawing path: any formula it accepts is drawn quickly (issue 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from viz.cli import main


def test_a_100_term_sum_is_drawn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sum.svg"
    assert main(["draw", "+".join(["x"] * 100), "x=2", "-o", str(out)]) == 0  # finishes
    printed = capsys.readouterr().out
    assert "= 200" in printed and "∂L/∂x = 100" in printed
    svg = out.read_text(encoding="utf-8")
    assert "drawn at each use" in svg and "nearest the output" in svg


def test_drawing_explains_the_gradients(tmp_path: Path) -> None:
    out = tmp_path / "loss.dot"
    assert (
        main(["draw", "0.5 * (x * m * t - 219) ** 2", "x=100", "m=2", "t=1.1", "-o", str(out)]) == 0
    )
    source = out.read_text(encoding="utf-8")
    assert "∂L/∂x = 1.1 × 2 = 2.2" in source  # upstream × local = gradient
    assert "∂L/∂(x×m×t−219) = 0.5 × 2 = 1" in source
    assert "∂/∂(x×m×t−219) = 2(x×m×t−219) = 2" in source  # the book's 2t


def test_printed_gradients_are_named_as_the_picture_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # draw printed "∂/∂x = 2.2": the picture's blue local derivative is "∂/∂x = m = 2"
    out = tmp_path / "loss.svg"
    formula = "0.5 * (x * m * t - 219) ** 2"
    assert main(["draw", formula, "x=100", "m=2", "t=1.1", "-o", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"L = {formula} = 0.5"
    svg = out.read_text(encoding="utf-8")
    for line, name, value in [("  ∂L/∂x = 2.2", "x", "2.2"), ("  ∂L/∂m = 110", "m", "110")]:
        assert line in printed
        assert re.search(rf">∂L/∂{name} = [^<]* = {value}<", svg)  # the red label under x's arrow
    assert not [line for line in printed if line.lstrip().startswith("∂/∂")]
