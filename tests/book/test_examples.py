"""examples/activations.py, vanishing_gradient.py and xor.py: the numbers they are about."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_activations_derivatives_by_the_engine(tmp_path, assert_png, capsys):
    curves = load("activations").main(["--out", str(tmp_path)])
    x = np.linspace(-5, 5, 201)
    sig = 1 / (1 + np.exp(-x))
    _, slope = curves["sigmoid"]
    assert slope[100] == 0.25 and x[100] == 0 and np.argmax(slope) == 100  # peak 0.25 at 0
    np.testing.assert_allclose(slope, sig * (1 - sig), rtol=1e-12)
    np.testing.assert_array_equal(curves["relu"][1], (x > 0).astype(float))
    np.testing.assert_allclose(curves["tanh"][1], 1 - np.tanh(x) ** 2, rtol=1e-12)
    np.testing.assert_allclose(curves["softplus"][0], np.log1p(np.exp(x)), rtol=1e-12)
    np.testing.assert_allclose(curves["softplus"][1], sig, rtol=1e-12)  # softplus′ = σ
    assert "sigmoid: largest derivative 0.25 at x = 0" in capsys.readouterr().out
    assert_png(tmp_path / "activations.png")


def test_vanishing_gradient_sigmoid_against_relu(tmp_path, assert_png, capsys):
    sizes = load("vanishing_gradient").main(["--out", str(tmp_path)])
    sigmoid, relu = np.array(sizes["sigmoid"]), np.array(sizes["relu"])
    assert len(sigmoid) == len(relu) == 10
    assert np.all(np.diff(sigmoid) > 0)  # smaller at every step towards the input
    assert sigmoid[0] / sigmoid[-1] < 1e-4  # σ′ ≤ 1/4 per layer
    assert relu[0] / relu[-1] > 0.05 and np.all(relu > 1e-3)
    out = capsys.readouterr().out
    assert out.count("\n") > 12 and "sigmoid: layer 1 gets" in out
    assert_png(tmp_path / "vanishing_gradient.png")


def test_vanishing_gradient_legend_hides_no_bar(tmp_path, monkeypatch):
    # the legend sat on the plot's upper left, over the tops of the first ReLU bars
    from matplotlib.figure import Figure

    saved: list[Figure] = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    load("vanishing_gradient").main(["--out", str(tmp_path)])
    (fig,) = saved
    fig.canvas.draw()
    (ax,) = fig.axes
    legend = ax.get_legend().get_window_extent()
    assert len(ax.patches) == 20
    assert not any(legend.overlaps(bar.get_window_extent()) for bar in ax.patches)


def test_xor_engine_equals_the_delta_rule_and_learns(tmp_path, assert_png):
    result = load("xor").main(["--steps", "1500", "--out", str(tmp_path)])
    assert result["worst"] < 1e-12  # every step, every weight
    np.testing.assert_array_equal(np.round(result["predictions"]), [0, 1, 1, 0])
    assert result["losses"][-1] < 1e-2
    np.testing.assert_allclose(result["flat"], 0.5, atol=0.01)  # no hidden layer: stuck at 0.5
    assert_png(tmp_path / "xor.png")


def test_xor_delta_rule_is_checked_against_the_engine_at_the_start(tmp_path):
    """The comparison is not vacuous: before training, the gradients are far from zero."""
    xor = load("xor")
    params = xor.init(2)
    y_h, y_o = xor.forward(params, xor.X)
    loss = 0.5 * ((y_o - xor.Y_TRUE) ** 2).sum()
    loss.backward()
    by_hand = xor.delta_rule(params, y_h.numpy(), y_o.numpy())
    for key, grad in by_hand.items():
        assert np.max(np.abs(grad)) > 1e-3
        np.testing.assert_allclose(params[key].grad.numpy(), grad, rtol=1e-12, atol=1e-15)
    with pytest.raises(AssertionError):  # a wrong rule (no σ′ at the output) is caught
        delta_o = y_o.numpy() - xor.Y_TRUE
        np.testing.assert_allclose(params["W2"].grad.numpy(), y_h.numpy().T @ delta_o)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "--steps must be at least 1"),  # was an IndexError
        (["--lr", "nan"], "--lr must be a positive finite step size"),  # was NaN outputs
        (["--lr", "-1"], "--lr must be a positive finite step size"),
        (["--seed", "-1"], "--seed must be 0 or more"),  # was numpy's traceback
    ],
)
def test_xor_refuses_arguments_it_cannot_train_with(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        load("xor").main([*args, "--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
