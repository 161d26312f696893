"""`scratchgrad check-layer FILE:NAME --shape ...`: the user's layer file in, the report out.

Exit status 0 when every row is right, 1 when one is wrong, 2 when the layer cannot be checked
(a bad file, a missing name, an error in the user's code) — always one line, no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from viz.cli import main

from .conftest import ROOT

BOOK_LAYERS = ROOT / "tests" / "autograd" / "book_layers.py"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, code: str, name: str = "layers.py") -> str:
    path = folder / name
    path.write_text(textwrap.dedent(code))
    return str(path)


def test_the_books_affine_from_its_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-layer", f"{BOOK_LAYERS}:Affine", "--shape", "2,3"]) == 0
    out = capsys.readouterr().out
    assert "made Affine(W: (3, 4), b: (4,)) with random values (seed 0)" in out
    assert "check_layer(Affine): ok" in out
    for row in ("x     (2, 3)", "W     (3, 4)", "b     (4,)"):
        assert row in out


@pytest.mark.parametrize(
    ("name", "shapes"),
    [
        ("MulLayer", ["2,3"]),
        ("AddLayer", ["2,3", "2,3"]),
        ("Relu", ["(2, 3)"]),
        ("Sigmoid", ["4"]),
        ("SoftmaxWithLoss", ["2,3"]),
        ("MulLayer", ["()"]),
    ],
)
def test_the_books_layers_pass(name: str, shapes: list[str], capsys) -> None:
    argv = ["check-layer", f"{BOOK_LAYERS}:{name}"]
    for s in shapes:
        argv += ["--shape", s]
    assert main(argv) == 0, capsys.readouterr()
    assert f"check_layer({name}): ok" in capsys.readouterr().out


def test_a_wrong_layer_prints_the_table_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-layer", f"{BOOK_LAYERS}:SoftmaxWithLossNoBatchSize", "--shape", "3,4"]) == 1
    out = capsys.readouterr().out
    assert "FAILED (1 of 1 rows)" in out and "off by a factor of the batch size" in out


def test_the_learners_mistakes_a_square_w_hides(capsys: pytest.CaptureFixture[str]) -> None:
    """--shape 3,4 makes W 4×4: a transposed dW and a dW += ... kept from the last call have
    the right shape; the first failed with no word of why, the second passed."""
    assert main(["check-layer", f"{BOOK_LAYERS}:AffineTransposedDW", "--shape", "3,4"]) == 1
    assert "dW is transposed" in capsys.readouterr().out
    assert main(["check-layer", f"{BOOK_LAYERS}:AffineAddsUp", "--shape", "3,4"]) == 1
    assert "gives another dW" in capsys.readouterr().out


def test_an_image_shaped_input_for_a_two_d_affine_says_to_flatten(in_tmp: Path, capsys) -> None:
    path = write(
        in_tmp,
        """
        import numpy as np

        class Affine:
            def __init__(self, W, b):
                self.W, self.b, self.dW, self.db = W, b, None, None
            def forward(self, x):
                self.x = x
                return np.dot(x, self.W) + self.b
            def backward(self, dout):
                self.dW = np.dot(self.x.T, dout)
                self.db = np.sum(dout, axis=0)
                return np.dot(dout, self.W.T)
        """,
    )
    assert main(["check-layer", f"{path}:Affine", "--shape", "2,2,3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not aligned" in err, err  # one line
    assert "x has 3 axes (2, 2, 3): an Affine takes 2-D input" in err


def test_a_function_or_an_object_in_the_file(in_tmp: Path, capsys) -> None:
    path = write(
        in_tmp,
        """
        import numpy as np

        class Scale:
            def __init__(self, k):
                self.k = k
            def forward(self, x):
                return self.k * x
            def backward(self, dout):
                return self.k * dout

        def make():
            return Scale(3.0)

        doubler = Scale(2.0)
        """,
    )
    assert main(["check-layer", f"{path}:make", "--shape", "2"]) == 0
    assert main(["check-layer", f"{path}:doubler", "--shape", "2"]) == 0
    assert main(["check-layer", f"{path}:Scale", "--shape", "2"]) == 2
    err = capsys.readouterr().err
    assert "check-layer makes only W and b" in err and f"{path}:make" in err


def test_the_files_folder_is_importable_while_it_runs(in_tmp: Path) -> None:
    write(in_tmp, "def double(x):\n    return 2 * x\n", name="helpers.py")
    path = write(
        in_tmp,
        """
        from helpers import double

        class Double:
            def forward(self, x):
                return double(x)
            def backward(self, dout):
                return double(dout)
        """,
        name="mine.py",
    )
    assert main(["check-layer", f"{path}:Double", "--shape", "3"]) == 0
    assert str(in_tmp) not in sys.path


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("class A:\n    def forward(self, x)\n", "layers.py, line 2: "),
        ("import numpy as np\nx = 1\nraise RuntimeError('boom')\n", "line 3: RuntimeError: boom"),
        ("import no_such_module_here\n", "ModuleNotFoundError: No module named"),
        ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
        (
            "class Other:\n    def forward(self, x):\n        return x\n",
            "has no Layer; it defines Other",
        ),
        ("Layer = 3\n", "Layer is a int, not a layer"),
        ("class Layer:\n    def forward(self, x):\n        return x\n", "has no backward method"),
        (
            "class Layer:\n    def __init__(self):\n        raise ValueError('no')\n",
            "Layer(...) failed, line 3: ValueError: no",
        ),
        (
            "class Layer:\n    def forward(self, x):\n        return x.nope\n"
            "    def backward(self, dout):\n        return dout\n",
            "Layer.forward raised AttributeError",
        ),
        (
            "import sys\nclass Layer:\n    def forward(self, x):\n        return x\n"
            "    def backward(self, dout):\n        sys.exit('bye')\n",
            "the layer called sys.exit('bye')",
        ),
        (
            "import sys, os\nsys.path.remove(os.path.dirname(os.path.abspath(__file__)))\n"
            "class Layer:\n    def forward(self, x):\n        return x\n",
            "has no backward method",
        ),
    ],
)
def test_errors_in_the_users_file_are_one_line_and_exit_2(
    code: str, message: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(in_tmp, code)
    assert main(["check-layer", f"{path}:Layer", "--shape", "2"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check-layer", "nofile.py:Affine", "--shape", "2,3"], "nofile.py: no such file"),
        (["check-layer", "layers.py", "--shape", "2,3"], "expected FILE:NAME"),
        (["check-layer", "layers.py:", "--shape", "2,3"], "expected FILE:NAME"),
        (["check-layer", f"{BOOK_LAYERS}:Affine", "--shape", "2,x"], "--shape '2,x'"),
        (["check-layer", f"{BOOK_LAYERS}:Affine", "--shape", "0,3"], "at least 1"),
        (["check-layer", f"{BOOK_LAYERS}:LogLayer", "--shape", "3"], "returned nan at output"),
        (["check-layer", f"{BOOK_LAYERS}:MulLayer", "--shape", "2", "--shape", "2", "--shape", "2"],
         "forward takes 2 inputs but shape= gives 3"),
    ],
)  # fmt: skip
def test_refused_command_lines_exit_2(argv: list[str], message: str, capsys) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_file_that_is_not_python(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "notes.txt").write_text("hello")
    assert main(["check-layer", "notes.txt:Layer", "--shape", "2"]) == 2
    assert "not a Python file" in capsys.readouterr().err


def test_a_folder_named_like_a_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "layers.py").mkdir()  # was "layers.py: no such file"
    assert main(["check-layer", "layers.py:Affine", "--shape", "2"]) == 2
    assert "layers.py: this is a folder; give the .py file that defines Affine" in (
        capsys.readouterr().err
    )


def test_shape_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-layer", f"{BOOK_LAYERS}:Relu"]) == 2
    assert "--shape" in capsys.readouterr().err


def test_the_readme_command_in_a_shell(in_tmp: Path) -> None:
    """The installed console script, as a learner types it."""
    script = Path(sys.executable).with_name("scratchgrad")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable} (not installed with pip -e)")
    done = subprocess.run(
        [str(script), "check-layer", f"{BOOK_LAYERS}:MulLayerSwapped", "--shape", "2,3"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "default"},
        check=False,
    )
    assert done.returncode == 1 and done.stderr == ""
    assert "looks like x and y are swapped" in done.stdout


def test_a_negative_seed_and_a_huge_shape_are_one_line_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--seed -1 was numpy's "expected non-negative integer" traceback; a shape too large to
    allocate said "the expression is too large to compute and draw" (draw's message)."""
    assert main(["check-layer", f"{BOOK_LAYERS}:Affine", "--shape", "2,3", "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--seed: must be 0 or more, got -1" in err and "Traceback" not in err
    huge = ["check-layer", f"{BOOK_LAYERS}:MulLayer", "--shape", "1000000,1000000"]
    assert main(huge) == 2
    err = capsys.readouterr().err
    assert "--shape 1000000,1000000 is too large to check" in err
    assert "--shape 2,3" in err and "expression" not in err
