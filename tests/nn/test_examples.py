"""The examples run end to end on real MNIST with tiny settings and leave their outputs."""

from __future__ import annotations

import ast
import importlib.util
import io
import runpy
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from nn import TwoLayerNet

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str, mnist_loader, monkeypatch) -> ModuleType:
    """Import examples/<name>.py, its load_mnist served from the session's parsed copy."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "load_mnist", mnist_loader)
    return module


def test_gradient_check_example(mnist_loader, monkeypatch, capsys):
    example = load_example("gradient_check", mnist_loader, monkeypatch)
    errors = example.main(["--hidden", "5"])
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    assert all(error < 1e-6 for error in errors.values())
    out = capsys.readouterr().out
    assert "numerical gradient:" in out and "faster" in out


def test_gradient_check_example_on_an_ascii_terminal(mnist_loader, monkeypatch):
    """Its heading printed `−` and died of UnicodeEncodeError where `PYTHONIOENCODING=ascii`."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    load_example("gradient_check", mnist_loader, monkeypatch).main(["--hidden", "2"])
    stdout.flush()
    text = stdout.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert text.startswith("mean |backprop - numerical| per parameter")


@pytest.mark.parametrize(
    ("optimizer", "dtype"), [("sgd", "float64"), ("adam", "float32"), ("momentum", "float64")]
)
def test_train_mnist_example(optimizer, dtype, mnist_loader, monkeypatch, tmp_path, capsys):
    example = load_example("train_mnist", mnist_loader, monkeypatch)
    result = example.main(
        ["--iters", "120", "--batch-size", "50", "--hidden", "20", "--optimizer", optimizer]
        + ["--dtype", dtype, "--seed", "1", "--out", str(tmp_path), "--quiet"]
    )
    assert len(result["loss"]) == 120
    assert result["epoch"] == [120 / 1200]  # one evaluation at the end of a partial epoch
    assert result["test_acc"][-1] > 0.4  # chance is 0.1; momentum at its default lr is slow
    for path in [tmp_path / "two_layer_net.npz", *result["plots"]]:
        assert path.is_file() and path.stat().st_size > 0
    net = TwoLayerNet(784, 20, 10).load(tmp_path / "two_layer_net.npz")
    (_, _), (x_test, t_test) = mnist_loader(normalize=True, one_hot_label=True)
    assert net.accuracy(x_test, t_test) == pytest.approx(result["test_acc"][-1], abs=1e-3)
    out = capsys.readouterr().out
    assert "final test accuracy" in out and f"{optimizer}, {dtype}, 120 iterations" in out


def test_optimizer_compare_example(mnist_loader, monkeypatch, tmp_path):
    example = load_example("optimizer_compare", mnist_loader, monkeypatch)
    result = example.main(
        ["--iters", "30", "--hidden", "20", "--layers", "2", "--out", str(tmp_path), "--quiet"]
    )
    assert set(result["train_loss"]) == {"SGD", "Momentum", "AdaGrad", "Adam"}
    assert all(len(losses) == 30 for losses in result["train_loss"].values())
    assert result["plot"].is_file()
    # the same batches and starting weights: the first losses agree, the adaptive ones move faster
    first = {name: losses[0] for name, losses in result["train_loss"].items()}
    assert len({round(value, 12) for value in first.values()}) == 1
    late = {name: np.mean(losses[-10:]) for name, losses in result["train_loss"].items()}
    assert late["Adam"] < late["SGD"] and late["AdaGrad"] < late["SGD"]
    # every curve ends inside the plot: after 30 steps SGD is above the book's top of 1 (the
    # picture was cut at 1 and showed SGD in the legend only); the bottom stays the book's 0
    bottom, top = result["figure"].axes[0].get_ylim()
    ends = [example.smooth(losses)[-1] for losses in result["train_loss"].values()]
    assert max(ends) > 1 and bottom == 0 and top > max(ends)


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("train_mnist", ["--lr", "-1"], "--lr -1.0: SGD: lr=-1.0 is not allowed"),
        ("train_mnist", ["--optimizer", "adam", "--lr", "nan"], "Adam: lr=nan is not allowed"),
        ("train_mnist", ["--seed", "-1"], "--seed: must be 0 or more"),
        ("train_mnist", ["--out", "{file}"], "it exists and is not a folder"),
        ("train_mnist", ["--out", "{file}/sub"], "cannot create this folder"),
        ("optimizer_compare", ["--iters", "0"], "--iters: must be at least 1"),
        ("optimizer_compare", ["--batch-size", "-1"], "--batch-size: must be at least 1"),
        ("optimizer_compare", ["--hidden", "0"], "--hidden: must be at least 1"),
        ("optimizer_compare", ["--layers", "-1"], "--layers: must be at least 0"),
        ("optimizer_compare", ["--seed", "-1"], "--seed: must be at least 0"),
        ("optimizer_compare", ["--out", "{file}"], "it exists and is not a folder"),
    ],
)
def test_examples_refuse_bad_arguments_before_loading_or_training(
    name, args, message, monkeypatch, tmp_path, capsys
):
    """Were tracebacks (numpy's for a negative seed, convolve's for --iters 0) or, for an --out
    that cannot be a folder, an OSError after the whole training run, its weights lost."""
    afile = tmp_path / "afile"
    afile.write_text("not a folder")

    def never(**kwargs):
        raise AssertionError("loaded MNIST before refusing the arguments")

    example = load_example(name, never, monkeypatch)
    with pytest.raises(SystemExit) as exc:
        example.main([arg.format(file=afile) for arg in args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert afile.read_text() == "not a folder"


@pytest.mark.parametrize(
    "script",
    [
        "train_mnist", "optimizer_compare", "backward_code", "gradient_check", "xor",
        "activations", "vanishing_gradient", "book/build",
    ],
)  # fmt: skip
def test_example_help_gives_the_whole_first_paragraph(script, monkeypatch, capsys):
    """`--help` showed the docstring's first line only: every description stopped
    mid-sentence ("... batch 100, lr 0.1,")."""
    path = EXAMPLES / f"{script}.py"
    monkeypatch.setattr("sys.argv", [str(path), "--help"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(str(path), run_name="__main__")
    assert exc.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    paragraph = " ".join(ast.get_docstring(ast.parse(path.read_text())).split("\n\n")[0].split())
    assert paragraph in shown
    assert paragraph.endswith((".", ")")), paragraph  # xor.py's ended "at every step:"
