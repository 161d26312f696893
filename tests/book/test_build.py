"""`make book`'s builder: runs scripts and notebooks, writes out/book/index.html with each figure
beside the printed output; a failure is shown, escaped, and makes the exit status 1."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def build(book_build):
    return book_build


def test_every_book_script_and_example_has_a_job(build):
    book = {str(p.relative_to(build.EXAMPLES)) for p in build.BOOK.glob("ch0*/*.py")}
    examples = {"activations.py", "vanishing_gradient.py", "xor.py"}
    assert {job.script for job in build.JOBS} == book | examples
    assert len(book) == 14


def test_index_shows_figures_beside_the_output(build, tmp_path, capsys, assert_png):
    status = build.main(["--only", "gradient_1d", "buy_apple.py", "--root", str(tmp_path)])
    assert status == 0
    page = (tmp_path / "out" / "book" / "index.html").read_text(encoding="utf-8")
    sections = re.findall(r"<section class=\"ok\">(.*?)</section>", page, re.DOTALL)
    assert len(sections) == 2
    first, second = sections
    assert "examples/book/ch04/gradient_1d.py" in first and "0.1999999999990898" in first
    assert '<a href="gradient_1d.png"><img src="gradient_1d.png"' in first  # full size on click
    assert "price: 220" in second and '<img src="buy_apple.png"' in second
    assert_png(tmp_path / "out" / "book" / "gradient_1d.png")
    assert "2 runs, 0 failed" in capsys.readouterr().out


def test_a_heading_keeps_each_argument_whole_and_narrow_pages_stack(build, tmp_path):
    # "weight_init_activation_histogram.py --init 0.01" wrapped as "... -" / "-init 0.01"
    result = build.Result("examples/x.py --init 0.01 --a <b>", "n", True, 1.0, "", "", [])
    section = build._section(result, tmp_path)
    heading = re.search(r"<h2>(.*?)</h2>", section).group(1)  # type: ignore[union-attr]
    assert heading == (
        'examples/x.py <span class="arg">--init</span> <span class="arg">0.01</span> '
        '<span class="arg">--a</span> <span class="arg">&lt;b&gt;</span>'
    )
    page = build.PAGE.format(summary="", sections=section)
    assert "h2 .arg { white-space: nowrap; }" in page
    assert "@media (max-width: 800px) { section { flex-direction: column; } }" in page


def test_a_failing_script_is_shown_escaped_and_fails_the_build(build, tmp_path, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text('print("<b>half</b>")\nraise SystemExit("broke <here> & there")\n')
    monkeypatch.setattr(build, "JOBS", [build.Job(str(bad), note="a <note>")])
    root = tmp_path / "root"
    root.mkdir()
    assert build.main(["--only", "bad.py", "--root", str(root)]) == 1
    page = (root / "out" / "book" / "index.html").read_text(encoding="utf-8")
    assert '<section class="failed">' in page and "FAILED" in page
    assert "&lt;b&gt;half&lt;/b&gt;" in page and "broke &lt;here&gt; &amp; there" in page
    assert "<here>" not in page and "a &lt;note&gt;" in page


def test_a_failing_notebook_is_reported(build, tmp_path, monkeypatch):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook = new_notebook(cells=[new_code_cell("1 / 0")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, folder / "broken.ipynb")
    monkeypatch.setattr(build, "NOTEBOOKS", folder)
    assert build.main(["--only", "broken.ipynb", "--root", str(tmp_path)]) == 1
    page = (tmp_path / "out" / "book" / "index.html").read_text(encoding="utf-8")
    assert "examples/notebooks/broken.ipynb" in page and "ZeroDivisionError" in page
    assert "\x1b" not in page  # the traceback's terminal colours are gone


def test_make_demo_names_make_book(tmp_path, capsys):
    from viz.cli import main

    assert main(["demo", "-o", str(tmp_path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "make book" in x)
    assert "out/book/index.html" in line


def test_only_that_matches_nothing_is_a_usage_error(build, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        build.main(["--only", "no-such-script", "--root", str(tmp_path)])
    assert exc.value.code == 2
    assert "no script or notebook has that in its name" in capsys.readouterr().err
    assert not (tmp_path / "out" / "book" / "index.html").exists()
