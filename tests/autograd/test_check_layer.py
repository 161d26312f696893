"""`check_layer`: the book's hand-written layers pass, the readers' mistakes fail on the right row
with the right words, and a layer that cannot be checked gets one clear error."""

from __future__ import annotations

import importlib.util
import sys
import threading
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import no_grad
from autograd.check import LayerCheckError, LayerReport, check_layer
from autograd.numeric import fixed_weights

BOOK_LAYERS = Path(__file__).with_name("book_layers.py")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("book_layers", BOOK_LAYERS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


book = _load()
rng = np.random.default_rng(42)


def affine(cls: type = book.Affine, n_in: int = 3, n_out: int = 4) -> object:
    return cls(rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out))


def failed(report: LayerReport) -> list[str]:
    return [row.name for row in report.rows if not row.ok]


def words(report: LayerReport, name: str) -> str:
    return " | ".join(report[name].diagnoses)


# --- the book's layers pass -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "rows"),
    [
        (book.MulLayer, ["x", "y"]),
        (book.AddLayer, ["x", "y"]),
        (book.Relu, ["x"]),
        (book.Sigmoid, ["x"]),
        (affine, ["x", "W", "b"]),
        (book.SoftmaxWithLoss, ["x"]),
        (lambda: book.BatchNormalization(np.ones(3), np.zeros(3)), ["x", "gamma", "beta"]),
    ],
)
def test_the_books_layers_pass(make, rows: list[str]) -> None:
    report = check_layer(make(), shape=(2, 3))
    assert report.ok and bool(report), str(report)
    assert [row.name for row in report.rows] == rows
    assert all(row.verdict == "ok" and row.max_abs < 1e-6 for row in report.rows)
    assert str(report).startswith(f"check_layer({type(make()).__name__}): ok")


def test_the_books_apple_example_with_numbers() -> None:
    """5.4.1: apple 100, 2 apples; with dout=1 the gradients are 2 and 100."""
    report = check_layer(book.MulLayer(), 100.0, 2.0, dout=1.0)
    assert report.ok
    assert float(report["x"].actual) == 2.0 and float(report["y"].actual) == 100.0
    assert float(report["dx"].expected) == pytest.approx(2.0)


def test_large_values_do_not_fail_a_right_layer_on_rounding() -> None:
    """At 1e10 the step h = 1e-6 is below x's precision, and beside 3e9 the loss's rounding
    swamps the 1e-6 change of a small element: central differences were off by up to half and
    overruled the engine, so the book's right MulLayer FAILED (with a made-up kink)."""
    assert check_layer(book.MulLayer(), 1e10, 2.0).ok
    report = check_layer(book.MulLayer(), np.array([3e9, 1.0]), np.array([2.0, 1.0]))
    assert report.ok, str(report)
    assert "differs from central differences" not in str(report)
    assert failed(check_layer(book.MulLayerSwapped(), 1e10, 2.0)) == ["x", "y"]


def test_large_values_do_not_fail_a_right_layer_the_engine_cannot_follow() -> None:
    """The book's Relu (x.copy(): central differences alone) at 1e10 FAILED against a 'true'
    1.907 for 1.012: x ± 1e-6 rounds to a step of 3.8e-6, not 2e-6; and the 3.0 beside it
    against -0.954 for -0.644: the sum with 1e10 in it rounds away its change of 1e-6."""
    report = check_layer(book.Relu(), np.array([1e10, -1e10, 3.0]))
    assert report.ok, str(report)
    assert report.truth.startswith("central differences")
    assert check_layer(book.Relu(), np.array([[3e9, 1.0], [-2.0, 1e-3]])).ok


def test_a_random_forward_is_refused_not_failed_with_noise() -> None:
    """The book's Dropout (a new mask each forward) FAILED with a "true" gradient of -326349:
    central differences of a random function."""

    class Dropout:
        def __init__(self) -> None:
            self.rng = np.random.default_rng(0)

        def forward(self, x: np.ndarray) -> np.ndarray:
            self.mask = self.rng.random(x.shape) > 0.5
            return x * self.mask

        def backward(self, dout: np.ndarray) -> np.ndarray:
            return dout * self.mask

    with pytest.raises(LayerCheckError, match=r"different outputs for the same inputs .*Dropout"):
        check_layer(Dropout(), shape=(2, 3))


def test_random_numbers_drawn_by_forward_are_put_back() -> None:
    """The book's Dropout draws its mask from np.random.rand: check_layer ran its forward
    again and again, so a training run seeded before the check (np.random.seed(0), as the
    book's scripts do) drew other numbers after it; a generator the layer holds, too."""

    class BookDropout:
        def __init__(self) -> None:
            self.rng = np.random.default_rng(1)
            self.legacy = np.random.RandomState(2)

        def forward(self, x: np.ndarray) -> np.ndarray:
            self.rng.random()
            self.legacy.rand()
            self.mask = np.random.rand(*x.shape) > 0.5
            return x * self.mask

        def backward(self, dout: np.ndarray) -> np.ndarray:
            return dout * self.mask

    layer = BookDropout()
    np.random.seed(0)
    with pytest.raises(LayerCheckError, match="different outputs"):
        check_layer(layer, shape=(2, 3))
    drawn = np.random.rand(), layer.rng.random(), layer.legacy.rand()
    np.random.seed(0)
    assert drawn == (np.random.rand(), np.random.default_rng(1).random(),
                     np.random.RandomState(2).rand())  # fmt: skip

    class Outer:  # the generator of a layer inside a layer
        def __init__(self) -> None:
            self.dropout = BookDropout()

        def forward(self, x: np.ndarray) -> np.ndarray:
            return self.dropout.forward(x)

        def backward(self, dout: np.ndarray) -> np.ndarray:
            return self.dropout.backward(dout)

    outer = Outer()
    with pytest.raises(LayerCheckError, match="different outputs"):
        check_layer(outer, shape=(2, 3))
    assert outer.dropout.rng.random() == np.random.default_rng(1).random()


def test_bad_steps_and_tolerances_are_layer_check_errors() -> None:
    for kwargs, words in [({"eps": 0}, "eps must be a finite number > 0"),
                          ({"atol": "x"}, "atol must be a number"),
                          ({"rtol": -1}, "rtol must be a finite number >= 0")]:  # fmt: skip
        with pytest.raises(LayerCheckError, match=words):
            check_layer(book.MulLayer(), 1.0, 2.0, **kwargs)


def test_python_int_scalars_are_fine_but_integer_arrays_are_not() -> None:
    assert check_layer(book.MulLayer(), 100, 2).ok  # the book's own call
    report = check_layer(book.MulLayer(), np.array([1, 2]), np.array([3.0, 4.0]))
    assert failed(report) == ["x"]
    assert "integer input: use float arrays" in words(report, "x")


def test_the_table_has_a_row_per_input_and_parameter() -> None:
    report = check_layer(affine(book.AffineNoSum), shape=(2, 3))
    text = str(report)
    assert text.splitlines()[0] == "check_layer(AffineNoSum): FAILED (1 of 3 rows)"
    header = next(line for line in text.splitlines() if "max abs err" in line)
    for column in ("name", "shape", "max abs err", "max rel err", "worst at", "backward", "true"):
        assert column in header
    x_line = next(line for line in text.splitlines() if line.strip().startswith("x "))
    assert "(2, 3)" in x_line and x_line.rstrip().endswith("ok")
    w = report["W"]
    assert w.worst is not None and len(w.worst) == 2
    assert f"{float(w.actual[w.worst]):.6g}" in str(report)
    assert "db: wrong shape: db must have the shape of b (4,), got (2, 4)" in text


def test_loss_layer_t_is_not_differentiated_and_backward_gets_no_dout() -> None:
    x = rng.standard_normal((3, 4))
    for t in (np.array([0, 3, 1]), np.eye(4)[[0, 3, 1]]):
        report = check_layer(book.SoftmaxWithLoss(), x, t)
        assert report.ok and [row.name for row in report.rows] == ["x"]
        assert "backward() called as the book does" in report.dout


def test_loss_layer_whose_backward_requires_dout_gets_one() -> None:
    class NeedsDout(book.SoftmaxWithLoss):
        def backward(self, dout):
            return super().backward(dout) * dout

    assert check_layer(NeedsDout(), shape=(2, 3)).ok


def test_random_labels_from_shape_are_one_hot() -> None:
    layer = book.SoftmaxWithLoss()
    check_layer(layer, shape=(5, 3))
    assert layer.t.shape == (5, 3) and np.all(layer.t.sum(axis=1) == 1)


def test_shapes_per_input() -> None:
    report = check_layer(book.MulLayer(), shape=[(2, 3), (2, 3)])
    assert report.ok
    with pytest.raises(LayerCheckError, match="forward takes 2 inputs but shape= gives 3"):
        check_layer(book.MulLayer(), shape=[(2,), (2,), (2,)])


def test_params_and_grads_dicts() -> None:
    class TwoParams:
        def __init__(self):
            self.params = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros(2)}
            self.grads = {}

        def forward(self, x):
            self.x = x
            return np.dot(x, self.params["W1"]) + self.params["b1"]

        def backward(self, dout):
            self.grads["W1"] = np.dot(self.x.T, dout)
            self.grads["b1"] = np.sum(dout, axis=0) / 3  # wrong on purpose
            return np.dot(dout, self.params["W1"].T)

    report = check_layer(TwoParams(), shape=(2, 3))
    assert [row.name for row in report.rows] == ["x", "params['W1']", "params['b1']"]
    assert failed(report) == ["params['b1']"]
    assert report["grads['b1']"].diagnoses == ["grads['b1'] is 0.3333 times the true gradient"]


def test_float32_parameters_are_checked_in_float64_and_left_alone() -> None:
    W = rng.standard_normal((3, 4)).astype(np.float32)
    b = np.zeros(4, dtype=np.float32)
    layer = book.Affine(W, b)
    report = check_layer(layer, rng.standard_normal((2, 3)).astype(np.float32))
    assert report.ok, str(report)
    assert layer.W is W and layer.W.dtype == np.float32


def test_the_users_arrays_are_never_changed_and_the_layer_keeps_the_real_run() -> None:
    layer = affine()
    W, b = layer.W.copy(), layer.b.copy()
    x = rng.standard_normal((2, 3))
    x_before = x.copy()
    report = check_layer(layer, x)
    assert report.ok
    assert np.array_equal(layer.W, W) and np.array_equal(layer.b, b)
    assert np.array_equal(x, x_before)
    assert np.array_equal(layer.x, x)  # the state of forward(x), not of a nudged call
    assert np.array_equal(layer.dW, report["W"].actual)


def test_same_seed_same_report_other_seed_other_inputs() -> None:
    assert str(check_layer(book.MulLayer(), shape=(2, 2), seed=3)) == str(
        check_layer(book.MulLayer(), shape=(2, 2), seed=3)
    )
    a, b = book.MulLayer(), book.MulLayer()
    check_layer(a, shape=(2, 2), seed=1)
    check_layer(b, shape=(2, 2), seed=2)
    assert not np.array_equal(a.x, b.x)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_affine_passes_for_any_shape(n: int, d: int, h: int, seed: int) -> None:
    layer = book.Affine(np.random.default_rng(seed).standard_normal((d, h)), np.ones(h))
    assert check_layer(layer, shape=(n, d), seed=seed).ok


# --- the engine path ------------------------------------------------------------------------
def test_the_engine_is_used_where_forward_runs_on_tensors() -> None:
    report = check_layer(book.MulLayer(), shape=(2, 3))
    assert report.truth.startswith("the engine")
    with no_grad():  # the check records its own graph even when the caller turned it off
        assert check_layer(book.MulLayer(), shape=(2, 3)).truth.startswith("the engine")


class AffineOnArrays(book.Affine):
    """The book's Affine with its input made a plain array: the engine cannot follow x."""

    def forward(self, x):
        return super().forward(np.asarray(x))


def test_the_books_affine_is_differentiated_by_the_engine() -> None:
    report = check_layer(affine(), shape=(2, 3))  # np.dot on Tensors is recorded as matmul
    assert report.ok and report.truth.startswith("the engine, confirmed by central differences")


def test_central_differences_alone_say_why_the_engine_was_not_used() -> None:
    report = check_layer(affine(AffineOnArrays), shape=(2, 3))
    assert report.truth.startswith("central differences (float64")
    assert "not the engine" in report.truth and "np.asarray" in report.truth


def test_engine_and_differences_disagreeing_falls_back_to_differences() -> None:
    class HalfTracked:
        """On Tensors, x * x.data is tracked through one factor only: half the gradient."""

        def forward(self, x):
            self.x = x
            return x * np.asarray(x)

        def backward(self, dout):
            return 2 * dout * self.x

    report = check_layer(HalfTracked(), shape=(3,))
    assert report.ok, str(report)
    assert "differs from central differences" in report["x"].notes[0]


# --- the readers' mistakes fail on the right row with the right words -------------------------
def test_mul_layer_with_x_and_y_swapped() -> None:
    report = check_layer(book.MulLayerSwapped(), shape=(2, 3))
    assert failed(report) == ["x", "y"]
    assert "looks like x and y are swapped" in words(report, "x")
    assert not bool(report)


def test_db_without_the_sum() -> None:
    report = check_layer(affine(book.AffineNoSum), shape=(2, 3))
    assert failed(report) == ["b"]
    assert "wrong shape: db must have the shape of b" in words(report, "b")
    assert "np.sum(dout, axis=0)" in words(report, "b")


def test_softmax_with_loss_without_dividing_by_the_batch_size() -> None:
    report = check_layer(book.SoftmaxWithLossNoBatchSize(), shape=(4, 3))
    assert failed(report) == ["x"]
    assert "off by a factor of the batch size" in words(report, "x")
    assert "4 times" in words(report, "x")


def test_the_books_relu_changing_dout_in_place_passes_with_a_note() -> None:
    """The book's own Relu.backward (dout[self.mask] = 0; dx = dout) FAILED: its numbers are
    right, and in the book's networks each dout goes to one layer, so it is a remark."""
    report = check_layer(book.Relu(), shape=(2, 3))
    assert report.ok, str(report)
    assert "backward changed dout in place" in " | ".join(report["x"].notes)
    assert "dx = dout.copy()" in report["x"].notes[-1]


def test_a_transposed_dW_is_named_whatever_the_shape_of_W() -> None:
    """dW = np.dot(dout.T, self.x): a square W failed with no word of why."""
    for n_in, n_out in [(3, 3), (3, 4)]:
        report = check_layer(affine(book.AffineTransposedDW, n_in, n_out), shape=(2, 3))
        assert failed(report) == ["W"], str(report)
        assert "dW is transposed" in words(report, "W")
        assert "np.dot(self.x.T, dout)" in words(report, "W")
    relu = words(check_layer(book.ReluTransposed(), shape=(2, 3)), "x")
    assert "dx is transposed" in relu


def test_gradients_that_add_up_across_calls_fail() -> None:
    """self.dW += ... is right for one call and wrong from the second minibatch on: it passed."""
    layer = affine(book.AffineAddsUp)
    x = rng.standard_normal((2, 3))
    report = check_layer(layer, x)
    assert failed(report) == ["W", "b"], str(report)
    assert "a second forward and backward of the same inputs gives another dW" in words(report, "W")
    assert "self.dW = ..." in words(report, "W")
    assert report["x"].ok
    # the layer is left as after one forward and backward, its arrays too
    np.testing.assert_allclose(layer.dW, report["W"].expected)
    np.testing.assert_allclose(layer.db, report["b"].expected)


def test_a_forward_computing_in_float32_is_refused_not_failed_with_a_wrong_truth() -> None:
    """forward casting to float32 made central differences rounding noise: the book's right
    sigmoid derivative FAILED against a 'true' gradient off by 20%."""
    with pytest.raises(LayerCheckError, match=r"SigmoidFloat32.forward returns float32 for "
                       r"float64 inputs.*check the layer in float64"):  # fmt: skip
        check_layer(book.SigmoidFloat32(), shape=(4, 3))
    x32 = rng.standard_normal((4, 3)).astype(np.float32)
    assert check_layer(book.Sigmoid(), x32).ok  # float32 inputs are checked in float64


def test_a_forward_computing_in_float32_and_casting_back_is_refused_too() -> None:
    """A sigmoid computing in float32 and returning .astype(np.float64) passed the float32
    refusal and FAILED against a 'true' gradient 8% off, told to write the very
    dx = dout * (1.0 - self.out) * self.out it has."""

    class SigmoidCastBack(book.Sigmoid):
        def forward(self, x: np.ndarray) -> np.ndarray:
            self.out = (1 / (1 + np.exp(-x.astype(np.float32)))).astype(np.float64)
            return self.out

    with pytest.raises(LayerCheckError, match=r"returns float32 numbers as float64 for float64 "
                       r"inputs.*check the layer in float64"):  # fmt: skip
        check_layer(SigmoidCastBack(), shape=(4, 3))
    x32 = rng.standard_normal((10, 10)).astype(np.float32)  # float32 numbers through a Relu
    assert check_layer(book.Relu(), x32).ok
    assert check_layer(book.Relu(), np.round(x32)).ok  # (and numbers of a few bits)


def test_a_relu_mask_taken_from_another_array_is_named() -> None:
    report = check_layer(book.ReluMaskFromDout(), shape=(3, 4))
    assert failed(report) == ["x"]
    assert "backward gives 0 at" in words(report, "x")
    assert "self.mask = (x <= 0)" in words(report, "x")


def test_sigmoid_backward_using_x_instead_of_y() -> None:
    report = check_layer(book.SigmoidUsingX(), shape=(2, 3))
    assert failed(report) == ["x"]
    assert "uses the input x (self.x) where it needs the output y" in words(report, "x")
    assert "y * (1 - y)" in words(report, "x")


def test_backward_that_ignores_dout() -> None:
    class IgnoresDout(book.MulLayer):
        def backward(self, dout):
            return self.y, self.x

    report = check_layer(IgnoresDout(), shape=(2, 3))
    assert failed(report) == ["x", "y"]
    assert "ignores dout" in words(report, "y")


def test_backward_with_the_wrong_shape() -> None:
    report = check_layer(book.ReluTransposed(), shape=(2, 3))
    assert words(report, "x").startswith(
        "wrong shape: dx must have the shape of x (2, 3), got (3, 2)"
    )


def test_backward_returning_the_wrong_number_of_values() -> None:
    class OneForTwo(book.MulLayer):
        def backward(self, dout):
            return dout * self.y

    class Forgot(book.Relu):
        def backward(self, dout):
            dx = dout.copy()
            dx[self.mask] = 0

    report = check_layer(OneForTwo(), shape=(2,))
    assert "backward returned one value for 2 inputs: return dx, dy" in words(report, "y")
    assert "(if y holds labels, name it t as the book does)" in words(report, "y")
    assert "end it with `return dx`" in words(check_layer(Forgot(), shape=(2,)), "x")


def test_forward_that_changes_its_input() -> None:
    class Clobbers(book.Relu):
        def forward(self, x):
            self.mask = x <= 0
            x[self.mask] = 0
            return x

    x = np.array([1.0, -2.0, 3.0])
    report = check_layer(Clobbers(), x)
    assert "forward changed x in place" in words(report, "x")
    assert np.array_equal(x, [1.0, -2.0, 3.0])  # the check worked on copies


def test_a_kink_at_zero_is_not_a_failure() -> None:
    report = check_layer(book.Relu(), np.array([[1.0, -0.5], [0.0, 3.0]]))
    assert report.ok, str(report)
    assert "is at a kink" in report["x"].notes[0]


class AffineRelu:
    """A layer made of the book's layers (5.7's network, as one layer with forward/backward)."""

    def __init__(self, affine: book.Affine) -> None:
        self.layers = [affine, book.Relu()]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout


def test_the_parameters_of_layers_inside_a_layer_are_checked() -> None:
    """An Affine inside a layer (self.layers = [Affine(W, b), Relu()]) had its W and b left
    out of the table: a transposed dW inside passed as 'ok', x being the only row. And the
    extra calls were left in the inner layers (their dW from the last nudged call)."""
    rng = np.random.default_rng(0)
    W, b, x = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal((4, 3))
    report = check_layer(AffineRelu(book.AffineTransposedDW(W, b)), x)
    assert not report.ok
    assert "dW is transposed" in words(report, "layers[0].W")
    right = AffineRelu(book.Affine(W, b))
    report = check_layer(right, x)
    assert report.ok and {r.name for r in report.rows} == {"x", "layers[0].W", "layers[0].b"}
    once = AffineRelu(book.Affine(W, b))
    once.forward(x)
    once.backward(fixed_weights((4, 3), seed=1))  # check_layer's dout for seed=0
    adds = AffineRelu(book.AffineAddsUp(W, b))
    assert not check_layer(adds, x).ok
    np.testing.assert_array_equal(right.layers[0].dW, once.layers[0].dW)
    np.testing.assert_array_equal(adds.layers[0].dW, once.layers[0].dW)  # added to once


class BookNet:
    """5.7.2's TwoLayerNet as one layer: params shared with its Affines, grads set by backward."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.params = {"W1": rng.standard_normal((4, 5)), "b1": np.zeros(5),
                       "W2": rng.standard_normal((5, 3)), "b2": np.zeros(3)}  # fmt: skip
        self.layers = {"Affine1": book.Affine(self.params["W1"], self.params["b1"]),
                       "Relu1": book.Relu(),
                       "Affine2": book.Affine(self.params["W2"], self.params["b2"])}  # fmt: skip
        self.lastLayer = book.SoftmaxWithLoss()

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        for layer in self.layers.values():
            x = layer.forward(x)
        return self.lastLayer.forward(x, t)

    def backward(self, dout: float = 1) -> np.ndarray:
        dout = self.lastLayer.backward(dout)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        self.grads = {f"{p}{i}": getattr(self.layers[f"Affine{i}"], f"d{p}")
                      for i in (1, 2) for p in "Wb"}  # fmt: skip
        return dout


def test_the_books_network_as_a_layer_is_right() -> None:
    """The book's TwoLayerNet (params['W1'] is also layers['Affine1'].W) written with forward
    and backward FAILED every parameter against a 'true' gradient of 0, told its Relu mask was
    wrong: the nudged copy went into params only, never reaching the Affine that computes."""
    rng = np.random.default_rng(0)
    report = check_layer(BookNet(rng), rng.standard_normal((6, 4)), np.eye(3)[[0, 1, 2, 0, 1, 2]])
    assert report.ok, str(report)
    assert [r.name for r in report.rows][1:] == [f"params[{k!r}]" for k in ("W1", "b1", "W2", "b2")]


def test_many_kinks_are_not_a_wrong_mask() -> None:
    """A Relu checked on the output of an earlier ReLU (47 of 100 elements exactly 0) FAILED
    the book's own Relu, telling it to make its mask in forward as the book's Relu does: only
    32 failing elements were examined for kinks. Every kink is examined now (a wrong backward
    stops at its first element that is no kink), and they share one note."""
    x = np.maximum(0.0, np.random.default_rng(0).standard_normal((10, 10)))
    report = check_layer(book.Relu(), x)
    assert report.ok, str(report)
    kinks = [n for n in report["x"].notes if "kink" in n]
    assert len(kinks) == 1 and f"and {int(np.sum(x == 0)) - 1} more" in kinks[0], kinks
    assert not check_layer(book.ReluMaskFromDout(), x).ok


# --- layers that cannot be checked: one clear error ------------------------------------------
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_layer(book.NoBackward(), shape=(2,)), "NoBackward has no backward method"),
        (lambda: check_layer(book.MulLayer, shape=(2,)), "pass a layer made from it"),
        (lambda: check_layer(book.LogLayer(), np.array([1.0, -1.0])), "returned nan at output"),
        (lambda: check_layer(book.Relu(), np.zeros((0, 3))), "shape (0, 3), with no elements"),
        (lambda: check_layer(book.Relu()), "give the inputs of forward"),
        (lambda: check_layer(book.Relu(), np.ones(2), shape=(2,)), "not both"),
        (lambda: check_layer(book.MulLayer(), np.ones(2)), "missing a required argument: 'y'"),
        (lambda: check_layer(book.Relu(), "x"), "input x is a str"),
        (lambda: check_layer(book.Relu(), np.array(["a"])), "give a float numpy array"),
        (lambda: check_layer(book.Relu(), shape="2,3"), "shape= must be a tuple of ints"),
        (lambda: check_layer(book.Relu(), shape=(2, -1)), "has a size below 1"),
        (lambda: check_layer(book.Relu(), shape=(0, 3)), "has a size below 1"),
        (
            lambda: check_layer(book.MulLayer(), shape=(2, 3), dout=np.ones(3)),
            "dout has shape (3,) but forward's output has shape (2, 3)",
        ),
    ],
)
def test_refusals_are_one_clear_message(call, message: str) -> None:
    with pytest.raises(LayerCheckError) as info:
        call()
    assert message in str(info.value)


def test_errors_inside_the_layer_name_the_method() -> None:
    class Broken(book.Relu):
        def backward(self, dout):
            return dout @ np.ones((7, 7))

    class ReturnsNothing:
        def forward(self, x):
            pass

        def backward(self, dout):
            return dout

    with pytest.raises(LayerCheckError, match=r"^Broken\.backward raised ValueError"):
        check_layer(Broken(), shape=(2,))
    with pytest.raises(LayerCheckError, match="forward returned None"):
        check_layer(ReturnsNothing(), shape=(2,))


def test_layer_with_slots_and_no_parameters() -> None:
    class Double:
        __slots__ = ()

        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

    assert check_layer(Double(), shape=(3,)).ok


def test_report_lookup_and_export() -> None:
    assert autograd.check_layer is check_layer
    report = check_layer(affine(), shape=(1, 3))
    assert report["W"] is report["dW"]
    with pytest.raises(KeyError, match="rows: x, W, b"):
        report["V"]


def test_the_readme_example_prints_what_the_readme_shows(capsys) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Checking your own layers", 1)[1].split("\n### ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out == shown


def test_a_report_as_a_cells_last_line_shows_the_table() -> None:
    """In Jupyter `check_layer(layer, shape=...)` as the last line showed only
    `<LayerReport MulLayer: FAILED>`; IPython's printer now gets the table `print` shows."""
    from IPython.lib.pretty import pretty

    report = check_layer(book.MulLayerSwapped(), shape=(2, 3))
    assert pretty(report) == str(report) and str(report).startswith("check_layer(")
    assert repr(report) == "<LayerReport MulLayerSwapped: FAILED>"  # plain Python keeps the line


def test_arrays_forward_assigns_are_state_not_parameters() -> None:
    """A layer used before keeps self.out; with a self.dout beside it, it is still no parameter."""

    class KeepsOut(book.Sigmoid):
        def __init__(self):
            super().__init__()
            self.dout = None

        def backward(self, dout):
            self.dout = dout
            return super().backward(dout)

    layer = KeepsOut()
    layer.forward(np.ones(3))
    report = check_layer(layer, shape=(3,))
    assert report.ok and [row.name for row in report.rows] == ["x"]


def test_prints_in_forward_show_once_not_per_nudge(capsys) -> None:
    class Chatty(book.Relu):
        def forward(self, x):
            print("forward called")
            return super().forward(x)

    assert check_layer(Chatty(), shape=(2, 3)).ok
    assert capsys.readouterr().out == "forward called\n"  # the real run's only


def test_a_bad_seed_is_refused() -> None:
    with pytest.raises(LayerCheckError, match="seed must be a whole number >= 0"):
        check_layer(book.Relu(), shape=(2,), seed=-1)


def test_tensor_inputs_and_a_layer_returning_tensors() -> None:
    class OnTheEngine:
        def forward(self, x):
            self.x = x
            return autograd.Tensor(x).tanh()

        def backward(self, dout):
            return dout * (1 - np.tanh(self.x) ** 2)

    assert check_layer(OnTheEngine(), autograd.Tensor([0.5, -1.0])).ok


def test_nan_in_backward_fails_its_row() -> None:
    class NanBackward(book.Relu):
        def backward(self, dout):
            return dout * np.nan

    report = check_layer(NanBackward(), shape=(2,))
    assert report["x"].diagnoses == ["backward gives nan at (0,)"]


def test_an_infinite_backward_is_reported_without_numpy_warnings() -> None:
    """inf / inf made the relative error nan, with numpy's 'invalid value encountered in
    divide' on stderr."""

    class InfBackward(book.Relu):
        def backward(self, dout):
            return dout * 0 + np.inf

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_layer(InfBackward(), shape=(2, 3))
    assert report["x"].max_rel == np.inf and not report.ok


def test_checks_in_threads_leave_stdout_alone() -> None:
    stdout = sys.stdout
    reports: list[bool] = []

    def work(seed: int) -> None:
        reports.append(check_layer(book.Sigmoid(), shape=(4, 5), seed=seed).ok)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reports == [True] * 4 and sys.stdout is stdout


def test_what_another_thread_prints_during_a_check_is_printed(capsys) -> None:
    """The check silences the layer's prints (hundreds of nudged calls) by swapping sys.stdout,
    which every thread shares: a training loop's progress printed by another thread meanwhile
    vanished. The other thread prints here while the check is inside the layer's forward."""
    inside, printed = threading.Event(), threading.Event()

    class Chatty(book.Sigmoid):
        def forward(self, x):
            print("forward")  # the layer's own print: silenced, as before
            if not inside.is_set():
                inside.set()
                printed.wait(10)
            return super().forward(x)

    def progress() -> None:
        inside.wait(10)
        print("epoch 1: loss 0.5")
        printed.set()

    other = threading.Thread(target=progress)
    other.start()
    assert check_layer(Chatty(), shape=(2, 3), seed=0).ok
    other.join()
    out = capsys.readouterr().out
    assert "epoch 1: loss 0.5" in out
    assert out.count("forward") <= 1  # at most the real forward's (the nudged ones are silent)


def test_a_saturated_sigmoid_using_x_warns_nothing(recwarn) -> None:
    report = check_layer(book.SigmoidUsingX(), np.array([-800.0, 0.5, 2.0]))
    assert not report.ok and "uses the input x" in words(report, "x")
    assert [str(w.message) for w in recwarn] == ["overflow encountered in exp"]  # the real run's


def test_state_forward_keeps_reflects_only_the_real_run() -> None:
    """BatchNormalization's running mean moves once (the real forward), not once per nudge."""
    layer = book.BatchNormalization(np.ones(3), np.zeros(3))
    x = rng.standard_normal((4, 3))
    assert check_layer(layer, x).ok
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)


def test_large_arrays_are_checked_at_a_sample_of_elements() -> None:
    """An MNIST-sized Affine: 1000 elements of x and of W by central differences, not 86,000."""
    layer = AffineOnArrays(rng.standard_normal((784, 10)), rng.standard_normal(10))
    report = check_layer(layer, shape=(100, 784))
    assert report.ok, str(report)
    assert report["x"].notes == [
        "checked at 1000 of its 78400 elements, chosen at random (sample=None checks all)"
    ]
    assert report["x"].checked.sum() == 1000 and report["b"].checked is None
    assert np.isnan(report["x"].expected).sum() == 78400 - 1000
    wrong = check_layer(affine(book.AffineNoSum, 784, 10), shape=(100, 784))
    assert failed(wrong) == ["b"] and "np.sum(dout, axis=0)" in words(wrong, "b")


def test_diagnoses_work_on_sampled_rows() -> None:
    class SwappedOnArrays(book.MulLayerSwapped):
        def forward(self, x, y):  # np.asarray: the engine cannot follow, central differences only
            self.x, self.y = x, y
            return np.asarray(x) * np.asarray(y)

    report = check_layer(SwappedOnArrays(), shape=(40, 30), sample=200)
    assert report["x"].checked is not None and report["x"].checked.sum() == 200
    assert "looks like x and y are swapped" in words(report, "x")
    batch = check_layer(book.SoftmaxWithLossNoBatchSize(), shape=(50, 30), sample=100)
    assert "off by a factor of the batch size: dx is 50 times" in words(batch, "x")


def test_sample_none_checks_every_element_and_bad_samples_are_refused() -> None:
    report = check_layer(book.Relu(), shape=(40, 30), sample=None)
    assert report.ok and report["x"].checked is None
    assert not any("chosen at random" in note for note in report["x"].notes)
    with pytest.raises(LayerCheckError, match="sample must be a whole number >= 1 or None"):
        check_layer(book.Relu(), shape=(2,), sample=0)


def test_a_gradient_never_set_is_said_to_be_all_zero() -> None:
    class ForgetsDW(book.Affine):
        def __init__(self, W, b):
            super().__init__(W, b)
            self.dW = np.zeros_like(W)

        def backward(self, dout):
            dx = np.dot(dout, self.W.T)
            self.db = np.sum(dout, axis=0)
            return dx

    report = check_layer(affine(ForgetsDW), shape=(2, 3))
    assert failed(report) == ["W"]
    assert words(report, "W") == "dW is all 0: does backward compute and set self.dW?"


def test_a_step_too_small_for_the_inputs_is_refused_where_the_engine_cannot_help() -> None:
    """eps=1e-50 gave 'true' gradients of 0 for a numpy-only layer: every row FAILED."""
    with pytest.raises(LayerCheckError, match=r"AffineOnArrays: central differences cannot "
                       r"check x: eps=1e-50 is too small for the element"):  # fmt: skip
        check_layer(affine(AffineOnArrays), shape=(2, 3), eps=1e-50)
    assert check_layer(book.MulLayer(), 1e10, 2.0).ok  # the engine's gradients there


def test_labels_of_another_shape_or_dtype_are_named() -> None:
    """(N, 1) labels FAILED with no word of why (the layer was right); float class numbers and
    one-hot rows of another width were numpy's 'arrays used as indices must be of integer'."""
    x = rng.standard_normal((3, 4))
    report = check_layer(book.SoftmaxWithLoss(), x, np.array([[0], [3], [1]]))
    assert failed(report) == ["x"]
    assert words(report, "x") == (
        "labels t have shape (3, 1) beside x of shape (3, 4): the book's labels are class "
        "numbers of shape (3,) (t.reshape(-1) makes them so) or one-hot rows of shape (3, 4)"
    )
    with pytest.raises(LayerCheckError, match=r"integer \(or boolean\) type; labels t are "
                       r"class numbers stored as float64; .*: t.astype\(int\)$"):  # fmt: skip
        check_layer(book.SoftmaxWithLoss(), x, np.array([0.0, 3.0, 1.0]))
    with pytest.raises(LayerCheckError, match=r"labels t have shape \(3, 5\) beside x of shape"):
        check_layer(book.SoftmaxWithLoss(), x, np.eye(5)[[0, 3, 1]])
    with pytest.raises(LayerCheckError, match=r"from 0 to 4, but x has 4 classes \(0 to 3\)"):
        check_layer(book.SoftmaxWithLoss(), x, np.array([0, 4, 1]))
    assert check_layer(book.SoftmaxWithLoss(), x, np.array([0, 3, 1])).ok


class Affine2D(book.Affine):
    """5.6.2's Affine, before it learns to flatten image-shaped input."""

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


def test_an_image_shaped_x_for_a_two_d_affine_says_to_flatten() -> None:
    """x of shape (2, 2, 3): db = np.sum(dout, axis=0) was told 'the sum over the batch is
    missing' (it is there), and a W of 6 rows got only numpy's 'shapes not aligned'."""
    report = check_layer(affine(Affine2D, 3, 4), shape=(2, 2, 3))
    assert failed(report) == ["W", "b"]
    for name in ("W", "b"):
        assert "x has 3 axes (2, 2, 3): an Affine takes 2-D input" in words(report, name)
        assert "x.reshape(x.shape[0], -1)" in words(report, name)
    assert "sum over the batch" not in str(report)
    with pytest.raises(LayerCheckError, match=r"not aligned.*; x has 3 axes \(2, 2, 3\)"):
        check_layer(affine(Affine2D, 6, 4), shape=(2, 2, 3))
    assert check_layer(affine(book.Affine, 6, 4), shape=(2, 2, 3)).ok  # the book's flattens


def test_an_engine_gradient_that_overflows_is_named_as_such() -> None:
    """Sigmoid at -800: the engine's NaN was put down to 'forward may leave the engine through
    .data or numpy', which the book's sigmoid does not."""
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):  # the real run's
        report = check_layer(book.Sigmoid(), np.array([-800.0, 1.0]))
    assert report.ok
    assert report["x"].notes == [
        "the engine's gradient is nan at (0,) (forward overflows there, as np.exp of a large "
        "number does) while central differences are finite; checked against them"
    ]


def test_why_the_engine_was_not_used_ends_at_a_word() -> None:
    """The reason was cut at 80 characters, mid-word ('... requires grad, and i')."""

    class Chatty(book.Sigmoid):
        def forward(self, x):
            if isinstance(x, autograd.Tensor):
                raise TypeError("this layer wants numpy arrays " + "and nothing else " * 8)
            return super().forward(x)

    reason = check_layer(Chatty(), shape=(2, 3)).truth.splitlines()[1]
    assert reason.endswith("and nothing else and nothing ..."), reason


def test_a_loss_layer_ignoring_a_given_dout_is_not_blamed_on_the_batch_size() -> None:
    """check_layer(SoftmaxWithLoss(), x, t, dout=2.0) with 2 samples: the book's backward, which
    ignores dout, was told it 'divided by batch_size once too often'."""
    x = rng.standard_normal((2, 3))
    report = check_layer(book.SoftmaxWithLoss(), x, np.array([0, 2]), dout=2.0)
    assert words(report, "x").startswith("looks like backward ignores dout = 2: multiply by it")
    assert check_layer(book.SoftmaxWithLoss(), x, np.array([0, 2])).ok  # dout=1, as the book


def test_an_affine_returning_its_parameter_gradients_too() -> None:
    class ReturnsAll(book.Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            return dx, self.dW, self.db

    report = check_layer(affine(ReturnsAll), shape=(2, 3))
    assert failed(report) == ["x"]
    assert words(report, "x") == (
        "backward returned 3 values for 1 input: return dx alone (a parameter's gradient is "
        "kept on the layer, as the book's self.dW and self.db)"
    )


def test_a_notebook_cell_ending_in_check_layer_shows_the_table() -> None:
    """Jupyter showed `<LayerReport Relu: FAILED>` and nothing of why, unless printed."""
    pretty = pytest.importorskip("IPython.lib.pretty")
    report = check_layer(book.MulLayerSwapped(), 100.0, 2.0)
    assert pretty.pretty(report) == str(report)
    assert "looks like x and y are swapped" in pretty.pretty(report)
    assert repr(report) == "<LayerReport MulLayerSwapped: FAILED>"  # in lists, debuggers


def test_an_add_layer_returning_dout_twice_gets_a_note() -> None:
    """return dout, dout passes (the numbers are right) but a Relu below that changes its dout
    in place, as the book's does, would change the other branch's gradient too."""

    class AddTwice(book.AddLayer):
        def backward(self, dout):
            return dout, dout

    report = check_layer(AddTwice(), shape=(2, 3))
    assert report.ok
    assert "dx and dy are one array" in " | ".join(report["y"].notes)
    assert not check_layer(book.AddLayer(), shape=(2, 3))["y"].notes


def test_the_books_softmax_with_loss_on_one_1d_sample_says_why_it_is_off() -> None:
    """A 1-D x and t (one sample): the book's backward divides by t.shape[0], the number of
    classes; the row said only 'dx is 0.3333 times the true gradient'."""
    x, t = np.array([0.3, 2.9, 4.0]), np.array([0.0, 0.0, 1.0])
    report = check_layer(book.SoftmaxWithLoss(), x, t)
    assert words(report, "x").startswith(
        "dx is the true gradient divided by 3, the length of the one sample x: backward divides "
        "by batch_size = t.shape[0]"
    )
    assert "x.reshape(1, -1) and t.reshape(1, -1)" in words(report, "x")
    assert check_layer(book.SoftmaxWithLoss(), x.reshape(1, -1), t.reshape(1, -1)).ok

    class Double:  # no labels: not a loss layer, so no word of t
        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return dout

    assert words(check_layer(Double(), np.array([1.0, 2.0])), "x") == (
        "dx is 0.5 times the true gradient"
    )


def test_the_books_softmax_with_loss_on_confident_wrong_predictions_passes() -> None:
    """Logits of size 30: where y at the label is below 1e-7, forward's log(y + 1e-7) is flat
    and its true gradient near 0, so the book's (y - t) / batch_size FAILED by 0.25."""
    x = 30 * np.random.default_rng(0).standard_normal((4, 3))
    t = np.array([2, 0, 1, 1])
    report = check_layer(book.SoftmaxWithLoss(), x, t)
    assert report.ok, str(report)
    assert "forward's cross_entropy_error adds delta = 1e-7" in report["x"].notes[0]
    assert check_layer(book.SoftmaxWithLoss(), x, np.eye(3)[t]).ok
    no_batch = check_layer(book.SoftmaxWithLossNoBatchSize(), x, np.eye(3)[t])
    assert words(no_batch, "x").startswith("off by a factor of the batch size: dx is y - t, 4")
    assert failed(check_layer(book.SigmoidUsingX(), x)) == ["x"]  # (not a loss layer)


def test_a_parameter_whose_gradient_has_another_name_is_not_passed_unchecked() -> None:
    """self.grad_W, self.grad_b (not the book's dW, db): W and b were left out of the table and
    the layer was 'ok', its grad_b twice the true one."""

    class AffineGrad:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.grad_W = np.dot(self.x.T, dout)
            self.grad_b = 2 * np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)

    layer = affine(AffineGrad)
    layer.forward(np.ones((2, 3)))  # state from an earlier call (self.x) is not a parameter
    report = check_layer(layer, shape=(2, 3))
    assert failed(report) == ["W", "b"]
    assert words(report, "W") == (
        "forward uses W, but check_layer finds no gradient for it, so it is not checked: keep "
        "it in self.dW as the book does (or a params / grads dict pair); backward sets "
        "self.grad_W of its shape: name it dW"
    )
    book_affine = affine()
    book_affine.forward(np.ones((2, 3)))
    assert [row.name for row in check_layer(book_affine, shape=(2, 3)).rows] == ["x", "W", "b"]


def test_a_constant_array_forward_uses_is_a_note_not_a_failure() -> None:
    """A Dropout with one fixed mask (what the refusal of a random forward suggests) and a
    layer scaling by a fixed self.c FAILED with a row 'forward uses mask, but check_layer finds
    no gradient for it': with nothing of its shape set by backward it is a constant."""

    class FixedDropout:
        def __init__(self, mask: np.ndarray) -> None:
            self.mask = mask

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x * self.mask

        def backward(self, dout: np.ndarray) -> np.ndarray:
            return dout * self.mask

    mask = (np.random.default_rng(0).random((4, 2)) > 0.5) / 0.5  # inverted dropout's scale
    report = check_layer(FixedDropout(mask), shape=(4, 2))
    assert report.ok and [row.name for row in report.rows] == ["x"], str(report)
    assert "self.mask, which has no gradient beside it" in " | ".join(report["x"].notes)


def test_long_diagnoses_wrap_under_their_first_word() -> None:
    """A diagnosis was one line of up to 400 characters: past a terminal's or a notebook's
    width it wrapped at the edge, or scrolled, away from its row."""
    text = str(check_layer(book.ReluMaskFromDout(), shape=(3, 4)))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("      dx: backward gives"))
    wrapped = lines[start + 1 :]
    assert len(wrapped) >= 2 and all(line.startswith(" " * 10) for line in wrapped), text
    assert all(len(line) <= 96 for line in lines[start:]), text


def test_a_nan_input_or_weight_is_named_not_blamed_on_forward() -> None:
    """NaN in x or W was 'forward returned nan ...: look at log, exp and divisions in forward'."""
    with pytest.raises(LayerCheckError, match=r"Relu: input x holds nan at \(0,\)"):
        check_layer(book.Relu(), np.array([np.nan, 1.0]))
    broken = book.Affine(np.array([[1.0, np.inf]]), np.zeros(2))
    with pytest.raises(LayerCheckError, match=r"parameter W holds inf at \(0, 1\): .*diverged"):
        check_layer(broken, np.ones((2, 1)))


def test_random_labels_are_class_numbers_for_a_layer_that_takes_only_those() -> None:
    """shape= (and check-layer --shape) drew one-hot labels only: a SoftmaxWithLoss written for
    class numbers (dx[np.arange(N), t] -= 1) could not be checked at all (numpy's 'arrays used
    as indices must be of integer')."""

    class ClassNumbersOnly(book.SoftmaxWithLoss):
        def forward(self, x, t):
            self.t, self.y = t, book.softmax(x)
            return -np.sum(np.log(self.y[np.arange(x.shape[0]), t] + 1e-7)) / x.shape[0]

    report = check_layer(ClassNumbersOnly(), shape=(3, 4))
    assert report.ok, str(report)
    assert report.dout.endswith("labels t drawn as class numbers (forward refused one-hot rows)")
    assert check_layer(book.SoftmaxWithLoss(), shape=(3, 4)).dout == (
        "none: backward() called as the book does (dout=1)"
    )


def test_an_inverted_relu_mask_is_named() -> None:
    """self.mask = (x > 0) with dx[self.mask] = 0: every element wrong, and no word of why."""

    class Inverted(book.Relu):
        def forward(self, x):
            self.mask = x > 0
            out = x.copy()
            out[x <= 0] = 0
            return out

    report = check_layer(Inverted(), shape=(3, 4))
    assert failed(report) == ["x"]
    assert "it zeroes the opposite elements (an inverted mask?)" in words(report, "x")
    assert "self.mask = (x <= 0)" in words(report, "x")
    mixed = words(check_layer(book.ReluMaskFromDout(), shape=(3, 4)), "x")
    assert "it zeroes the wrong elements" in mixed


def test_chapter_five_formulas_gone_wrong_are_named() -> None:
    """dx = dout · W (square W), db summed over axis 1 or over everything, a sigmoid's backward
    without its y: each FAILED with no word of why (or only 'wrong shape')."""

    class NoT(book.Affine):
        def backward(self, dout):
            super().backward(dout)
            return np.dot(dout, self.W)

    class DbAxis1(book.Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = np.sum(dout, axis=1)
            return dx

    class DbAll(DbAxis1):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = np.sum(dout)
            return dx

    class ForgotY(book.Sigmoid):
        def backward(self, dout):
            return dout * (1.0 - self.out)

    assert "the .T is missing: dx = np.dot(dout, self.W.T)" in words(
        check_layer(affine(NoT, 4, 4), shape=(3, 4)), "x"
    )
    cases = [(DbAxis1, 4, (4, 4), "over axis 1"), (DbAxis1, 5, (3, 4), "over axis 1"),
             (DbAll, 5, (3, 4), "over every element")]  # fmt: skip
    for cls, n_out, shape, how in cases:
        said = words(check_layer(affine(cls, 4, n_out), shape=shape), "b")
        assert f"db sums dout {how}; the batch is axis 0: db = np.sum(dout, axis=0)" in said
    assert "whose derivative is y(1 - y)" in words(check_layer(ForgotY(), shape=(3, 4)), "x")


def test_a_negative_zero_shows_as_zero() -> None:
    """dout * y with y = 0 is -0.0: the table showed 'backward -0, true -0'."""
    report = check_layer(book.MulLayer(), np.ones((2, 3)), np.array([0.0, 1.0, 2.0]))
    x_row = str(report).splitlines()[6]
    assert x_row.split()[:2] == ["x", "(2,"] and "-0 " not in x_row + " ", x_row


def test_a_softmax_without_the_max_trick_says_so_when_it_overflows() -> None:
    """exp(1000) made the loss NaN: 'look at log, exp and divisions' and no word of 3.5.2."""

    class NaiveSoftmax(book.SoftmaxWithLoss):
        def forward(self, x, t):
            e = np.exp(x)
            self.t, self.y = t, e / np.sum(e, axis=1, keepdims=True)
            return book.cross_entropy_error(self.y, t)

    with pytest.raises(LayerCheckError, match=r"x reaches 1000, and np\.exp overflows past 709: "
                       r"a softmax needs x - np\.max\(x\) first \(3\.5\.2\)"):  # fmt: skip
        check_layer(NaiveSoftmax(), np.array([[1000.0, 0.0], [1.0, 2.0]]), np.array([0, 1]))
    assert check_layer(book.SoftmaxWithLoss(), np.array([[1000.0, 0.0]]), np.array([0])).ok


def test_a_missing_sum_suggests_summing_what_the_gradient_is() -> None:
    """BatchNormalization's dgamma = self.xn * dout without the sum was told to write
    'dgamma = np.sum(dout, axis=0)', the formula of an Affine's db, not of dgamma."""

    class NoSumGamma(book.BatchNormalization):
        def backward(self, dout):
            dx = super().backward(dout)
            self.dgamma = self.xn * dout
            return dx

    said = words(check_layer(NoSumGamma(np.ones(3), np.zeros(3)), shape=(4, 3)), "gamma")
    assert "add up the rows, as in np.sum(..., axis=0) of what dgamma is now" in said
    no_sum = check_layer(affine(book.AffineNoSum), shape=(2, 3))
    assert "db = np.sum(dout, axis=0)" in words(no_sum, "b")


def test_one_sample_as_a_1d_x_for_an_affine_says_to_make_a_batch() -> None:
    """x = np.array([1.0, 0.5]) (chapter 3's one sample): backward raised numpy's 'shapes (2,)
    and (3,) not aligned', or dW came out as a number, with no word of the batch axis."""
    x = np.array([1.0, 0.5])
    with pytest.raises(LayerCheckError, match=r"not aligned.*; x is one sample of shape \(2,\): "
                       r"an Affine takes a batch .*x\.reshape\(1, -1\)"):  # fmt: skip
        check_layer(affine(book.Affine, 2, 3), x.reshape(1, -1)[0])
    square = check_layer(affine(Affine2D, 2, 2), x)
    assert failed(square) == ["W", "b"]
    assert "x is one sample of shape (2,)" in words(square, "W")
    assert check_layer(affine(Affine2D, 2, 3), x.reshape(1, -1)).ok


def test_a_large_input_a_layer_kept_is_not_copied_at_every_restore(monkeypatch) -> None:
    """After predict(x_train) the book's Affine keeps self.x = x_train (376 MB for MNIST); each
    restore of the layer copied it (here: an 8 MB x, with the threshold lowered to match)."""
    import tracemalloc

    monkeypatch.setattr("autograd.check._KEPT", 10_000)
    layer = affine(book.Affine, 100, 4)
    layer.forward(np.zeros((10_000, 100)))  # 1e6 elements kept as self.x
    tracemalloc.start()
    try:
        report = check_layer(layer, np.ones((2, 100)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok and peak < 4e6, peak


def test_right_numbers_in_the_wrong_shape_say_how_to_reshape() -> None:
    """A b of shape (1, 4) with db = np.sum(dout, axis=0): 'return db.reshape(*b.shape)', though
    db is not returned; the input's hint stays a return."""
    report = check_layer(book.Affine(rng.standard_normal((3, 4)), np.zeros((1, 4))), shape=(2, 3))
    assert "the right numbers in the wrong shape: self.db = db.reshape(*self.b.shape)" in words(
        report, "b"
    )

    class FlatDx(book.Relu):
        def backward(self, dout):
            return super().backward(dout).reshape(-1)

    assert "return dx.reshape(*x.shape)" in words(check_layer(FlatDx(), shape=(2, 3)), "x")


def test_gradients_first_set_in_backward_are_checked() -> None:
    """An Affine without the book's `self.dW = None` in __init__ (backward is the first to set
    dW and db): its W and b were reported as having no gradient, 'backward sets self.dW of its
    shape: name it dW', and a transposed dW got no word of why (before that, W and b were left
    out of the table and the layer was 'ok')."""

    class AffineNoInit:
        def __init__(self, W, b, transposed=False):
            self.W, self.b, self.transposed = W, b, transposed

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(dout.T, self.x) if self.transposed else np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)

    right = check_layer(affine(AffineNoInit), shape=(2, 3))
    assert right.ok and [row.name for row in right.rows] == ["x", "W", "b"]
    layer = AffineNoInit(rng.standard_normal((3, 3)), rng.standard_normal(3), transposed=True)
    wrong = check_layer(layer, shape=(4, 3))
    assert failed(wrong) == ["W"]
    assert words(wrong, "W").startswith("dW is transposed")
    assert layer.dW.shape == (3, 3)  # left as after the checked call
