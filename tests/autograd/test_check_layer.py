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


def test_relu_backward_that_changes_dout_in_place() -> None:
    report = check_layer(book.ReluChangesDout(), shape=(2, 3))
    assert failed(report) == ["x"]
    assert "backward changed dout in place" in words(report, "x")
    assert report["x"].max_abs < 1e-6  # the numbers are right: only the mutation is wrong


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
    assert words(report, "x") == "wrong shape: dx must have the shape of x (2, 3), got (3, 2)"


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
    assert report.ok and report["x"].checked is None and report["x"].notes == []
    with pytest.raises(LayerCheckError, match="sample must be a whole number >= 1 or None"):
        check_layer(book.Relu(), shape=(2,), sample=0)
