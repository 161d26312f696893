"""The CLI's drawing path: any formula it accepts is drawn quickly (issue 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from viz.cli import main


def test_a_100_term_sum_is_drawn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sum.svg"
    assert main(["draw", "+".join(["x"] * 100), "x=2", "-o", str(out)]) == 0  # finishes
    printed = capsys.readouterr().out
    assert "= 200" in printed and "∂/∂x = 100" in printed
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
