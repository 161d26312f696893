"""The example scripts: their numbers, their pictures, and golden DOT files."""

from __future__ import annotations

import ast
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value
from viz import draw, group

from .conftest import EXAMPLES, ROOT, check_golden, load_example

NUMBERS = {
    "apple": ["price = 220", "∂price/∂apple = 2.2", "∂price/∂num = 110", "∂price/∂tax = 200"],
    "apple_orange": [
        "price = 715",
        "∂price/∂apple = 2.2",
        "∂price/∂num = 110",
        "∂price/∂orange = 3.3",
        "∂price/∂orange_num = 165",
        "∂price/∂tax = 650",
    ],
    "chain_rule": ["z = 9", "∂z/∂x = 6", "∂z/∂y = 6"],
    "sigmoid": ["y = 0.731059", "∂y/∂x = 0.196612", "y(1 − y) = 0.196612"],
    "loss": ["L = 0.5", "∂L/∂x = 2.2", "∂L/∂m = 110", "∂L/∂t = 200"],
    "affine": [
        "∂L/∂X = [[-0.4, -0.4], [0.65, 0.9]]",
        "∂L/∂W = [[2.5, 6.0, -1.0], [4.0, 8.0, -2.0]]",
        "∂L/∂B = [1.5, 2.0, -1.0]",
    ],
    "softmax_loss": ["L = 0.430336", "∂L/∂a = (y − t)/2 = [[0.009, 0.123, -0.132]"],
}
# what each figure must explain, as the book does
EXPLAINS = {
    "apple": ["∂price/∂apple = 1.1 × 2 = 2.2", "∂price/∂tax = 1 × 200 = 200"],
    "apple_orange": ["∂price/∂orange_num = 1.1 × 150 = 165", "∂/∂tax = v1 = 650"],
    "chain_rule": ["∂z/∂t = 1 × 6 = 6", "∂/∂t = 2t = 6", "∂z/∂x = 6 × 1 = 6"],
    "sigmoid": ["∂/∂x = y(1 − y) = 0.196612", "∂y/∂x = −0.196612 × −1 = 0.196612"],
    "loss": ["∂L/∂f = 1 × 1 = 1", "∂/∂(f−219) = 2(f−219) = 2"],
    "affine": [
        "∂L/∂X = ∂L/∂Y · Wᵀ",
        "∂L/∂W = Xᵀ · ∂L/∂Y",
        "∂L/∂B = sum of ∂L/∂Y over axis 0",
        "label=<dot>",
    ],
    "softmax_loss": [
        "label=<Softmax>",
        "label=<Cross Entropy<BR/>Error>",
        "y = (2, 3) float64",
        "∂L/∂a = (y − t) / 2",
        "[0.00911, 0.123, −0.132]",
    ],
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_prints_and_matches_golden(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drawing = load_example(name).main(tmp_path)
    out = capsys.readouterr().out
    for line in NUMBERS[name]:
        assert line in out
    assert (tmp_path / f"{name}.svg").exists() and (tmp_path / f"{name}.png").exists()
    for text in EXPLAINS.get(name, []):
        assert text in drawing.source
    assert not re.search(r"[>\s(\[,=]-[\d.]", drawing.source)  # one minus sign: U+2212
    check_golden(name, drawing.source)


@pytest.mark.parametrize("name", [*EXAMPLES, "two_layer_graph"])
def test_a_figure_script_answers_help_and_out(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python examples/apple.py --help` ignored its arguments and drew into out/ (so did
    `--out figs`); it now prints its docstring and writes nothing, and --out picks the folder."""
    monkeypatch.chdir(tmp_path)
    script = str(ROOT / "examples" / f"{name}.py")
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(script, run_name="__main__")
    assert done.value.code == 0
    shown = capsys.readouterr().out
    doc = ast.get_docstring(ast.parse(Path(script).read_text("utf-8")))
    assert doc and shown.startswith(f"usage: {name}.py [-h] [--out DIR]\n\n{doc.splitlines()[0]}")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(sys, "argv", [script, "--out", "figs"])
    runpy.run_path(script, run_name="__main__")
    assert [p.name for p in tmp_path.iterdir()] == ["figs"]
    assert {p.suffix for p in (tmp_path / "figs").iterdir()} == {".svg", ".png"}


def test_two_layer_net_plain_and_collapsed(tmp_path: Path) -> None:
    plain, collapsed = load_example("two_layer_graph").main(tmp_path)
    assert "<B>Affine1</B>" in plain.source and "<B>SoftmaxWithLoss</B>" in plain.source
    assert "label=<x>" in collapsed.source and "label=<t>" in collapsed.source
    assert "∂L/∂W1 = Xᵀ · ∂L/∂Y" not in collapsed.source  # x is named: the rule says x
    assert "∂L/∂W1 = xᵀ · ∂L/∂Y" in collapsed.source
    check_golden("two_layer", plain.source)
    check_golden("two_layer_collapsed", collapsed.source)


def test_importing_an_example_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    load_example("sigmoid")  # importing does not run it
    assert capsys.readouterr().out == ""


def affine_relu_loss() -> Tensor:
    x = Tensor(np.arange(12.0).reshape(4, 3) / 10, requires_grad=False, name="x")
    W = Tensor(np.linspace(-1, 1, 6).reshape(3, 2), name="W")
    b = Tensor(np.array([0.1, -0.1]), name="b")
    with group("Affine1"):
        a = x @ W + b
    with group("ReLU1"):
        h = a.relu()
    loss = autograd.softmax_cross_entropy(h, np.array([0, 1, 1, 0]))
    loss.name = "L"
    loss.backward()
    return loss


def test_golden_tensor_graph() -> None:
    check_golden("affine_relu_sce", draw(affine_relu_loss()).source)


def test_golden_nodes_style() -> None:
    a, n, t = Value(100, "apple"), Value(2, "num"), Value(1.1, "tax")
    price = a * n * t
    price.backward()
    check_golden("apple_nodes", draw(price, style="nodes").source)
