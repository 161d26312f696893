"""Pictures rendered in-process by the Graphviz bundled with pygraphviz; no `dot` needed."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from autograd import Value
from viz import Drawing, RendererMissing, draw
from viz.book import apple_orange

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def drawing() -> Drawing:
    price, _ = apple_orange()
    price.backward()
    return draw(price)


@pytest.mark.usefixtures("no_dot")
def test_save_every_format_without_dot_on_path(tmp_path: Path) -> None:
    assert shutil.which("dot") is None
    d = drawing()
    for fmt, magic in MAGIC.items():
        path = d.save(tmp_path / "sub" / f"graph.{fmt}")
        assert path.read_bytes().startswith(magic), fmt
    dot = d.save(tmp_path / "graph.dot")
    assert dot.read_text(encoding="utf-8") == d.source


def test_svg_has_the_books_numbers_and_local_derivatives() -> None:
    svg = drawing().svg()
    assert "<svg" in svg
    for number in ("715", "110", "2.2", "3.3", "165", "650"):
        assert f">{number}</text>" in svg
    assert "∂/∂apple = num = 2" in svg
    assert "∂/∂orange_num = orange = 150" in svg


def test_jupyter_display() -> None:
    d = drawing()
    assert d._repr_svg_().lstrip().startswith("<?xml")
    bundle = d._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_missing_renderer_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # makes `import pygraphviz` fail
    d = draw(Value(2.0, "x") * 3)
    assert d.source.startswith("digraph")  # DOT needs no renderer
    with pytest.raises(RendererMissing, match="pip install pygraphviz"):
        d.svg()
    assert "pip install pygraphviz" in d._repr_mimebundle_()["text/plain"]


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.svg"):
        drawing().save(tmp_path / "graph.jpeg")


def test_graphviz_reports_no_problem(capfd: pytest.CaptureFixture[str]) -> None:
    d = drawing()
    d.render("png")
    draw(apple_orange()[0], style="nodes").render("svg")
    problems = [line for line in capfd.readouterr().err.splitlines() if "Fontconfig" not in line]
    assert problems == []
