"""examples/book/ch04: the book's printed numbers, exactly where the book is exact."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from autograd import numerical_gradient

OUT = Path("out/book")


def test_gradient_1d_prints_the_books_numbers_and_the_exact_derivative(run_script, assert_png):
    namespace, out = run_script("book/ch04/gradient_1d.py")
    lines = out.splitlines()
    assert lines[:2] == ["0.1999999999990898", "0.2999999999986347"]
    assert lines[2:4] == ["engine: df/dx at x = 5 is 0.2", "engine: df/dx at x = 10 is 0.3"]
    # the engine's derivative is 0.02x + 0.1 to the last bit or so; the book's is off by ~1e-12
    engine_diff, f = namespace["engine_diff"], namespace["function_1"]
    assert engine_diff(f, 5) == pytest.approx(0.2, abs=1e-15)
    assert engine_diff(f, 10) == pytest.approx(0.3, abs=1e-15)
    # the book's numerical_diff is autograd's numerical_gradient on one variable
    assert (
        namespace["numerical_diff"](f, 5.0)
        == numerical_gradient(lambda a: f(a[0]), np.array([5.0]))[0]
    )
    assert_png(OUT / "gradient_1d.png")


def test_gradient_2d_per_point_numerical_agrees_with_the_engine(run_script, assert_png):
    namespace, out = run_script("book/ch04/gradient_2d.py")
    points, numerical, engine = namespace["points"], namespace["numerical"], namespace["engine"]
    assert points.shape == (17 * 17, 2)  # the 0.25 grid over [-2, 2]², each point 2-d
    assert np.unique(np.round(np.diff(np.unique(points[:, 0])), 12)).tolist() == [0.25]
    np.testing.assert_array_equal(engine, 2 * points)  # ∇(x0² + x1²) = 2x, exactly
    np.testing.assert_allclose(numerical, engine, atol=1e-9)
    assert "289 points, each a 2-d input" in out
    assert_png(OUT / "gradient_2d.png")


def test_gradient_method_reproduces_the_books_three_runs(run_script, assert_png):
    namespace, out = run_script("book/ch04/gradient_method.py")
    # the book's printed results of gradient_descent(..., step_num=100)
    assert "numerical array([-6.11110793e-10,  8.14814391e-10])" in out  # lr 0.1
    assert "numerical array([-2.58983747e+13, -1.29524862e+12])" in out  # lr 10
    assert "numerical array([-2.99999994,  3.99999992])" in out  # lr 1e-10
    # the lr 10 pair disagrees by 1e115 and once said nothing about it
    assert "once x + h rounds to x the numerical gradient is 0" in out
    # exact gradient: x ← (1 − 2·lr)·x each step
    assert "engine    array([-6.11110793e-10,  8.14814391e-10])" in out
    exact = np.array([-3.0, 4.0]) * (1 - 2 * 10.0) ** 100
    np.testing.assert_allclose(
        [float(v) for v in re.findall(r"engine +array\(\[([^,]+), +([^\]]+)\]", out)[1]],
        exact,
        rtol=1e-8,
    )
    history = namespace["x_history"]
    assert history.shape == (20, 2) and history[0].tolist() == [-3.0, 4.0]
    assert_png(OUT / "gradient_method.png")


BOOK_DW = [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]]


def test_gradient_simplenet_dw_is_the_books(run_script, assert_png):
    namespace, out = run_script("book/ch04/gradient_simplenet.py")
    dW, dW_engine = namespace["dW"], namespace["dW_engine"]
    np.testing.assert_allclose(dW, BOOK_DW, atol=6e-9)  # the book prints 8 decimals
    np.testing.assert_allclose(dW_engine, dW, atol=1e-7)
    np.testing.assert_allclose(dW_engine[1], 1.5 * dW_engine[0], rtol=1e-12)  # dW = xᵀ(y − t)
    assert "predict: [1.05414809 0.63071653 1.1328074 ]" in out
    assert_png(OUT / "gradient_simplenet.png")


def test_two_layer_net_gradient_matches_numerical_gradient(run_script):
    namespace, out = run_script("book/ch04/two_layer_net.py")
    errors = dict(re.findall(r"^(\w+): ([0-9.e+-]+)$", out, re.MULTILINE))
    assert list(errors) == ["W1", "b1", "W2", "b2"]
    assert all(float(e) < 1e-8 for e in errors.values()), errors
    net = namespace["TwoLayerNet"](784, 50, 10)
    assert {key: v.shape for key, v in net.params.items()} == {
        "W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,),
    }  # fmt: skip


def test_train_neuralnet_ch04_short(run_script, book_mnist, assert_png):
    namespace, out = run_script("book/ch04/train_neuralnet.py", "--iters", "700")
    lines = re.findall(r"^train acc, test acc \| ([0-9.]+), ([0-9.]+)$", out, re.MULTILINE)
    assert len(lines) == 2  # i = 0 and 600: the book's `i % iter_per_epoch == 0`
    first, last = [float(v) for v in lines[0]], [float(v) for v in lines[-1]]
    assert max(first) < 0.3 and min(last) > 0.7  # sigmoid net, lr 0.1: slower than ReLU
    assert len(namespace["train_loss_list"]) == 700
    assert_png(OUT / "train_neuralnet_ch04.png")


@pytest.mark.parametrize("script", ["book/ch04/train_neuralnet.py", "book/ch05/train_neuralnet.py"])
def test_train_scripts_refuse_a_useless_iteration_count(run_script, capsys, script):
    with pytest.raises(SystemExit) as exc:
        run_script(script, "--iters", "0")
    assert exc.value.code == 2
    assert "--iters must be at least 1, got 0" in capsys.readouterr().err
