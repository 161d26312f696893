"""Pictures rendered in-process by the Graphviz bundled with pygraphviz; no `dot` needed."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import Value
from viz import Drawing, RendererMissing, draw
from viz.book import apple_orange
from viz.drawing import CELL_WIDTH

ROOT = Path(__file__).resolve().parents[2]
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
    for number in ("715", "450", "3", "150"):
        assert f">{number}</text>" in svg
    assert ">v1 = 650</text>" in svg
    assert "∂price/∂apple = 1.1 × 2 = 2.2" in svg
    assert "∂/∂apple = num = 2" in svg
    assert "∂/∂orange_num = orange = 150" in svg


def test_jupyter_display_small_as_svg_wide_as_a_scaled_png() -> None:
    small = draw(Value(2.0, "x") * 3)
    assert small._repr_svg_().lstrip().startswith("<?xml")
    bundle = small._repr_mimebundle_()
    assert isinstance(bundle, dict) and "<svg" in bundle["image/svg+xml"]
    wide = drawing()  # Fig. 5-17 is wider than a notebook cell
    data, metadata = wide._repr_mimebundle_()  # type: ignore[misc]
    assert base64.b64decode(data["image/png"]).startswith(MAGIC["png"])
    assert metadata == {"image/png": {"width": CELL_WIDTH}}


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
    drawing().pipe("png")
    draw(apple_orange()[0], style="nodes").pipe("svg")
    assert capfd.readouterr().err == ""


QUIET = """
from autograd import Value
from viz import draw
x = Value(2.0, "x")
y = (x * x).tanh()
y.backward()
draw(y).save({path!r})
draw(y, style="nodes").save({path!r}.replace(".png", ".svg"))
"""


def test_draw_and_save_in_a_fresh_process_writes_nothing_to_stderr(tmp_path: Path) -> None:
    """Item 7: the bundled fontconfig's "unknown element reset-dirs" noise is gone."""
    path = tmp_path / "quiet.png"
    run = subprocess.run(
        [sys.executable, "-c", QUIET.format(path=str(path))],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert path.read_bytes().startswith(MAGIC["png"])


def test_other_graphviz_messages_still_reach_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    bad = Drawing("digraph { a [shape=nosuchshape]; }")
    bad.pipe("svg")
    err = capfd.readouterr().err
    assert "nosuchshape" in err and "Fontconfig" not in err


@pytest.mark.usefixtures("no_dot")
def test_graphviz_conventions_without_dot(tmp_path: Path) -> None:
    """Item 8: the calls people bring from micrograd's draw_dot and torchviz."""
    assert shutil.which("dot") is None
    d = drawing()
    assert d.source.startswith("digraph")
    path = d.render(str(tmp_path / "graph"), format="svg")  # graphviz: writes graph.svg
    assert path == str(tmp_path / "graph.svg")
    assert Path(path).read_text(encoding="utf-8").startswith("<?xml")
    assert d.render("graph.png", directory=tmp_path, format="png") == str(tmp_path / "graph.png")
    assert Path(d.render(tmp_path / "default")).suffix == ".svg"  # Drawing.format
    assert d.pipe(format="png").startswith(MAGIC["png"])
    assert d.pipe().startswith(MAGIC["svg"])
    source = d.to_graphviz()
    import graphviz

    assert isinstance(source, graphviz.Source) and source.source == d.source
    with pytest.raises(ValueError, match="svg, png, pdf"):
        d.render(tmp_path / "x", format="jpeg")
    assert not list(tmp_path.glob("x*"))


def test_pygraphviz_size_note_is_not_repeated(capfd: pytest.CaptureFixture[str]) -> None:
    """Over 1,000 nodes pygraphviz prints its own warning; draw() has already said so."""
    chain = " ".join(f"a{i} -> a{i + 1};" for i in range(1100))
    Drawing("digraph { " + chain + " }").pipe("svg")
    assert capfd.readouterr().err == ""


def test_title_note_and_legend_are_left_aligned_lines_that_do_not_touch() -> None:
    # joined by <BR/>, the lines were centred and the 11 pt legend's baseline sat 11 pt under
    # the 13 pt bold title's, touching its descenders
    import itertools
    import re

    price, _ = apple_orange()
    price.backward()
    svg = draw(price, title="Fig. 5-17: apples and oranges", max_nodes=3).svg()
    lines = [
        (float(x), float(y), size)
        for x, y, size, text in re.findall(
            r'<text[^>]*text-anchor="start" x="([0-9.]+)" y="(-?[0-9.]+)"[^>]*'
            r'font-size="([0-9.]+)"[^>]*>([^<]*)</text>',
            svg,
        )
        if text.startswith(("Fig. 5&#45;17", "black: forward", "9 nodes: showing"))
    ]
    assert len(lines) == 3, lines  # title, the note about the cut, the legend
    assert len({x for x, _, _ in lines}) == 1  # one left edge
    baselines = sorted(y for _, y, _ in lines)
    assert all(b - a >= 13 for a, b in itertools.pairwise(baselines))


def test_an_ops_inputs_are_drawn_top_to_bottom_in_the_order_of_the_code() -> None:
    # Fig. 5-17 drew apple above num but orange_num above orange, for orange * orange_num
    import re

    svg = drawing().svg()
    y = {
        name: float(v)
        for v, name in re.findall(r'<text[^>]* y="(-?[0-9.]+)"[^>]*>(\w+)</text>', svg)
        if name in ("apple", "num", "orange", "orange_num", "tax")
    }
    assert y["apple"] < y["num"] < y["orange"] < y["orange_num"], y


def test_a_wide_drawing_in_a_notebook_scrolls_rather_than_shrink_its_text_away() -> None:
    # fitted into a 900 px cell, TwoLayerNet's every-op drawing had 14 pt labels 5 px high
    import re

    import numpy as np

    from nn import TwoLayerNet
    from viz.steps import READABLE

    net = TwoLayerNet(3, 4, 2, rng=0)
    loss = net.lastLayer(net(np.ones((2, 3))), np.eye(2))
    loss.backward()
    d = draw(loss)
    natural = float(re.search(r'width="([0-9.]+)pt"', d.svg()).group(1)) * 96 / 72  # type: ignore[union-attr]
    data, metadata = d._repr_mimebundle_()  # type: ignore[misc]
    shown = int(re.search(r"width: (\d+)px", data["text/html"]).group(1))  # type: ignore[union-attr]
    assert shown >= natural * READABLE - 1 and shown > CELL_WIDTH
    assert "overflow-x: auto" in data["text/html"] and data["image/png"] in data["text/html"]
    assert metadata == {"image/png": {"width": CELL_WIDTH}}  # a front end without HTML: fitted


def _no_space(fd: int) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("kind", ["png", "svg", "dot", "html"])
def test_a_save_that_fails_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Pictures and step-through pages were written in place (`write_bytes`): a full disk
    left half a file where the last good one was. Now they are written beside and moved."""
    import viz

    price, _ = apple_orange()
    price.backward()
    made = viz.steps(price) if kind == "html" else draw(price)
    path = tmp_path / f"graph.{kind}"
    path.write_bytes(b"the last good one")
    monkeypatch.setattr("os.fsync", _no_space)
    with pytest.raises(OSError, match=rf"graph\.{kind}.*No space left"):
        made.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == b"the last good one"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left
    folder = tmp_path / f"folder.{kind}"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=f"folder.{kind}"):
        made.save(folder)
