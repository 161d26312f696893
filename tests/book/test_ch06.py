"""examples/book/ch06: the optimizers' paths, the MNIST comparison, activation histograms."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nn import SGD, AdaGrad, Adam, Momentum

OUT = Path("out/book")


def _path_by_hand(optimizer, steps=30):
    params = {"x": -7.0, "y": 2.0}
    for _ in range(steps):
        optimizer.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
    return float(params["x"]), float(params["y"])


def test_optimizer_compare_naive_paths_use_exact_gradients(run_script, assert_png):
    namespace, out = run_script("book/ch06/optimizer_compare_naive.py")
    assert namespace["df"](3.0, -2.0) == pytest.approx((0.3, -4.0), abs=1e-15)  # (x/10, 2y)
    expected = {
        "SGD": _path_by_hand(SGD(lr=0.95)),
        "Momentum": _path_by_hand(Momentum(lr=0.1)),
        "AdaGrad": _path_by_hand(AdaGrad(lr=1.5)),
        "Adam": _path_by_hand(Adam(lr=0.3)),
    }
    printed = {
        name: (float(x), float(y))
        for name, x, y in re.findall(r"(\w+): after 30 steps at \(([-0-9.]+), ([-0-9.]+)\)", out)
    }
    assert list(printed) == list(expected)
    for name, point in expected.items():
        assert printed[name] == pytest.approx(point, abs=1e-6), name
    assert len(namespace["fig"].axes) == 4
    assert_png(OUT / "optimizer_compare_naive.png")


def test_optimizer_compare_mnist_runs_the_one_comparison(run_script, book_mnist, assert_png):
    _, out = run_script("book/ch06/optimizer_compare_mnist.py", "--iters", "20")
    finals = re.findall(r"^ *(\w+): final loss ([0-9.]+), test acc ([0-9.]+)$", out, re.MULTILINE)
    assert [name for name, *_ in finals] == ["SGD", "Momentum", "AdaGrad", "Adam"]
    assert "20 iterations x 4 networks" in out
    assert_png(OUT / "optimizer_compare.png")


HISTOGRAM = "book/ch06/weight_init_activation_histogram.py"


@pytest.mark.parametrize(
    ("args", "suffix"),
    [
        ((), ""),
        (("--init", "0.01"), "_0.01_sigmoid"),
        (("--init", "xavier"), "_xavier_sigmoid"),
        (("--init", "xavier", "--activation", "tanh"), "_xavier_tanh"),
        (("--init", "he", "--activation", "relu"), "_he_relu"),
    ],
)
def test_activation_histograms(run_script, assert_png, args, suffix):
    namespace, out = run_script(HISTOGRAM, *args)
    layers = [z.numpy() for z in namespace["activations"].values()]
    assert len(layers) == 5 and all(z.shape == (1000, 100) for z in layers)
    assert [f"{i}-layer" for i in range(1, 6)] == re.findall(r"^(\d-layer)", out, re.MULTILINE)
    stds = np.array([z.std() for z in layers])
    saturated = np.array([np.mean((z < 0.1) | (z > 0.9)) for z in layers])
    if suffix == "":  # std 1: activations pile up at 0 and 1
        assert np.all(saturated > 0.6)
    elif suffix == "_0.01_sigmoid":  # all near 0.5: every unit says the same
        assert np.all(stds < 0.05) and np.all(np.abs([z.mean() for z in layers]) - 0.5 < 0.01)
    elif suffix == "_xavier_sigmoid":  # spread, not saturated
        assert np.all((stds > 0.08) & (stds < 0.3)) and np.all(saturated < 0.1)
    elif suffix == "_xavier_tanh":
        assert np.all(np.abs([z.mean() for z in layers]) < 0.05) and np.all(stds > 0.2)
    else:  # He with ReLU: the spread stays about the same through the layers
        assert np.all((stds > 0.5) & (stds < 1.5)) and stds[-1] / stds[0] < 2
    assert_png(OUT / f"weight_init_activation_histogram{suffix}.png")
