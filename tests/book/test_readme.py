"""README.md as a reader uses it: every Python block, one cell each and in order, in a fresh
Jupyter kernel of this Python, printing and showing what the README says beside it.
(`tests/autograd/test_check_layer.py` runs the check_layer block in-process too.)"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
# the full 10,000 steps take a quarter of a minute; everything else runs as written
TRAINING, SHORT_TRAINING = "iters=10_000", "iters=300"
CELL_TIMEOUT = 120  # seconds


def readme_blocks(language: str) -> list[str]:
    """The fenced blocks of one language, in order, their indentation (in a list item) removed."""
    blocks = []
    for indent, body in re.findall(
        rf"^( *)```{language}\n(.*?)^ *```$", README.read_text(), re.M | re.S
    ):
        blocks.append("".join(line[len(indent) :] + "\n" for line in body.splitlines()))
    return blocks


def _code_blocks() -> tuple[list[str], str]:
    """The blocks to run, and the one that is the program `print(program.source)` shows."""
    blocks = readme_blocks("python")
    (program,) = [b for b in blocks if b.startswith("def forward_backward(")]
    return [b for b in blocks if b is not program], program


def _comment_lines(code: str) -> list[str]:
    """The comment lines of a block (what the README shows a line prints), without `# `."""
    return [line.strip()[2:] for line in code.splitlines() if line.strip().startswith("# ")]


def _stream(cell, name: str) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def _result(cell) -> dict:
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result.data


@pytest.fixture(scope="module")
def readme_notebook(tmp_path_factory, book_build, mnist_dir):
    """The README's Python blocks run as one notebook in an empty folder (its `out/` and
    `curves.png` land there); the executed cells by block, and that folder."""
    blocks, _ = _code_blocks()
    assert sum(TRAINING in b for b in blocks) == 1
    cells = []
    for code in blocks:
        cell = nbformat.v4.new_code_cell(code.replace(TRAINING, SHORT_TRAINING).rstrip("\n"))
        if "with detect_anomaly():" in code:  # shows the error it raises
            cell.metadata["tags"] = ["raises-exception"]
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3"}
    folder = tmp_path_factory.mktemp("readme")
    nbformat.write(notebook, folder / "readme.ipynb")
    with pytest.MonkeyPatch.context() as env, open(folder / "kernel-stderr.txt", "w+") as err:
        env.setenv("SCRATCHGRAD_DATA", str(mnist_dir))  # as the README's `export` sets it
        done = book_build.run_notebook(
            folder / "readme.ipynb", cwd=folder, timeout=CELL_TIMEOUT, stderr=err
        )
        err.seek(0)
        kernel_stderr = err.read()
    return dict(zip(blocks, done.cells, strict=True)), folder, book_build, kernel_stderr


def _cell(readme_notebook, marker: str):
    cells = readme_notebook[0]
    (code,) = [code for code in cells if marker in code]
    return code, cells[code]


def test_every_block_runs_quietly(readme_notebook) -> None:
    cells, _, build, kernel_stderr = readme_notebook
    errors = [(code, o) for code, c in cells.items() for o in c.outputs if o.output_type == "error"]
    assert [code for code, _ in errors] == [b for b in cells if "with detect_anomaly():" in b]
    assert build.notebook_stderr(nbformat.v4.new_notebook(cells=list(cells.values()))) == ""
    # bundled-Graphviz fontconfig warns about the system's newer config (as in test_notebooks)
    noise = [
        line
        for line in kernel_stderr.splitlines()
        if line.strip() and not line.startswith("Fontconfig warning:")
    ]
    assert noise == []


def test_the_engine_block_gives_the_books_gradients(readme_notebook) -> None:
    code, cell = _cell(readme_notebook, "price.backward()\napple.grad,")
    shown = [float(n) for n in code.rstrip().rsplit("#", 1)[1].split(",")]
    assert [float(n) for n in re.findall(r"Value\(([^)]*)\)", _result(cell)["text/plain"])] == shown


def test_the_anomaly_error_is_the_one_the_readme_quotes(readme_notebook) -> None:
    """The README's comment, `...` for the value summary; its line number is the line of the
    block that made the node (`my_script.py:5` was the `with` line, one above)."""
    code, cell = _cell(readme_notebook, "with detect_anomaly():")
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    kind, message = " ".join(_comment_lines(code)).split(": ", 1)
    assert kind.rsplit(".", 1)[-1] == error.ename == "AnomalyError"
    pattern = re.escape(message).replace(r"\.\.\.", ".*").replace(r"my_script\.py", r"\S+\.py")
    assert re.fullmatch(pattern, error.evalue), (message, error.evalue)
    line = int(message.rsplit(":", 1)[1])
    assert code.splitlines()[line - 1].strip() == "loss = x.sqrt().sum()"


def test_check_layer_prints_the_report_shown(readme_notebook) -> None:
    _, cell = _cell(readme_notebook, "report = check_layer(MulLayer(), apple, apple_num)")
    (shown,) = readme_blocks("text")
    assert _stream(cell, "stdout") == shown
    table = _result(cell)["text/plain"]  # the last line's report, random inputs of (2, 3)
    assert table.startswith(
        "check_layer(MulLayer): FAILED (2 of 2 rows)\n  dout: random, shape (2, 3)"
    )


def test_explain_prints_the_walk_shown(readme_notebook) -> None:
    code, cell = _cell(readme_notebook, "autograd.explain(price)")
    first, last = "\n".join(_comment_lines(code)).split("\n...\n")
    printed = _stream(cell, "stdout").rstrip("\n")
    assert printed.startswith(first + "\n") and printed.endswith("\n" + last)


def test_compile_prints_the_program_shown(readme_notebook) -> None:
    _, cell = _cell(readme_notebook, "print(program.source)")
    _, program = _code_blocks()
    assert _stream(cell, "stdout") == program + "\n"


def test_the_files_written_and_the_training_curves_shown_inline(readme_notebook) -> None:
    _, folder, _, _ = readme_notebook
    assert (folder / "out" / "apple.png").read_bytes().startswith(b"\x89PNG")
    assert (folder / "out" / "backprop.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    assert (folder / "curves.png").read_bytes().startswith(b"\x89PNG")
    _, cell = _cell(readme_notebook, 'history.plot("curves.png")')
    assert "image/png" in _result(cell)  # was the text <Figure size 1000x380 with 2 Axes>
