"""Debugging aids: `detect_anomaly()` finds the first NaN/Inf, `register_hook` shows gradients."""

from __future__ import annotations

import inspect
import pickle
import threading

import numpy as np
import pytest

import autograd
from autograd import AnomalyError, Tensor, Value, detect_anomaly, is_grad_enabled, no_grad


def _next_line() -> str:
    """`file:line` of the line after the caller's, as anomaly messages write it."""
    frame = inspect.currentframe().f_back  # type: ignore[union-attr]
    return f"{frame.f_code.co_filename}:{frame.f_lineno + 1}"  # type: ignore[union-attr]


# --- anomaly mode ------------------------------------------------------------------------
def test_log_of_zero_in_forward_names_the_op_and_this_line() -> None:
    x = Tensor([0.0, 1.0])
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        line = _next_line()
        x.log()
    message = str(caught.value)
    assert "in forward" in message and "op 'log'" in message and "(2,)" in message
    assert "1 Inf of 2" in message
    assert message.endswith(f"created at {line}")
    assert caught.value.phase == "forward" and caught.value.node.op.name == "log"


def test_sqrt_at_zero_in_backward_names_the_op_and_where_it_was_made() -> None:
    x = Tensor([0.0, 4.0], name="x")
    with detect_anomaly():
        line = _next_line()
        y = x.sqrt()
        loss = y.sum()
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert "in backward" in message and "op 'sqrt'" in message and "input 0 'x'" in message
    assert "the gradient arriving from upstream was finite" in message
    assert message.endswith(f"created at {line}")
    assert caught.value.node is y
    assert autograd.anomaly_of(y) == message
    assert autograd.anomaly_of(loss) is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf/NaN made on purpose
def test_exp_overflow_is_found_as_inf_and_nan_only_mode_ignores_it() -> None:
    x = Tensor([1000.0])
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"Inf in forward: op 'exp'"):
        x.exp()
    with detect_anomaly(nan=True, inf=False):
        y = x.exp()  # Inf is not looked for
    assert np.isinf(y.data).all()
    with detect_anomaly(inf=False), pytest.raises(FloatingPointError, match=r"^NaN in forward"):
        y - y  # inf - inf


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf/NaN made on purpose
def test_inf_only_mode_ignores_nan() -> None:
    x = Tensor([-1.0])
    with detect_anomaly(nan=False):
        x.sqrt()  # NaN
    with detect_anomaly(nan=False), pytest.raises(FloatingPointError, match=r"^Inf"):
        (x * 0).log()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf/NaN made on purpose
def test_backward_flag_checks_gradients_without_the_mode() -> None:
    x = Tensor([0.0])
    y = x.sqrt().sum()
    with pytest.raises(AnomalyError, match="where it was created is unknown"):
        y.backward(retain_graph=True, detect_anomaly=True)
    y.backward()  # without the flag, inf is an answer, as in numpy
    assert np.isinf(x.grad.data).all()


def test_backward_flag_false_turns_checks_off_inside_the_mode() -> None:
    x = Tensor([0.0])
    with detect_anomaly():
        y = x.sqrt().sum()
        y.backward(detect_anomaly=False)
    assert np.isinf(x.grad.data).all()


def test_nan_given_as_data_is_reported_at_its_first_use() -> None:
    x = Tensor([np.nan, 1.0])
    with detect_anomaly(), pytest.raises(FloatingPointError, match="already held NaN/Inf"):
        x * 2


def test_finite_work_in_anomaly_mode_gives_the_same_gradients() -> None:
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(3, 2)))
    x = rng.normal(size=(4, 3))

    def run() -> np.ndarray:
        w.grad = None
        autograd.softmax_cross_entropy((Tensor(x) @ w).tanh(), np.array([0, 1, 1, 0])).backward()
        return w.grad.data.copy()

    plain = run()
    with detect_anomaly():
        watched = run()
    np.testing.assert_array_equal(plain, watched)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf/NaN made on purpose
def test_mode_nests_with_no_grad_and_enable_grad_and_restores() -> None:
    x = Tensor([0.0])
    with detect_anomaly():
        with no_grad():
            assert not is_grad_enabled()
            x.log()  # not recorded, so not watched
        with autograd.enable_grad(), pytest.raises(FloatingPointError):
            x.log()
    assert is_grad_enabled()
    x.log()  # the mode is over


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf/NaN made on purpose
def test_mode_is_per_thread() -> None:
    errors: list[BaseException] = []
    inside, done = threading.Event(), threading.Event()

    def other() -> None:
        inside.wait(10)
        try:
            Tensor([0.0]).log()
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)
        done.set()

    th = threading.Thread(target=other)
    th.start()
    with detect_anomaly():
        inside.set()
        done.wait(10)
    th.join(10)
    assert errors == []


def test_decorator_form_and_refusing_to_check_nothing() -> None:
    @detect_anomaly()
    def f(t: Tensor) -> Tensor:
        return t.log()

    with pytest.raises(FloatingPointError):
        f(Tensor([0.0]))
    with pytest.raises(ValueError, match="would check nothing"):
        detect_anomaly(nan=False, inf=False)


def test_values_work_in_anomaly_mode() -> None:
    a = Value(0.0, "a")
    with detect_anomaly(), pytest.raises(FloatingPointError, match="op 'div'"):
        1 / a


# --- hooks -------------------------------------------------------------------------------
def test_hook_sees_the_summed_gradient_of_a_hidden_tensor() -> None:
    x = Tensor([1.0, 2.0])
    h = x * 3
    seen: list[np.ndarray] = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    (h * h + h).sum().backward()  # two branches meet at h
    np.testing.assert_array_equal(seen[0], 2 * h.data + 1)
    np.testing.assert_array_equal(x.grad.data, 3 * (2 * h.data + 1))


def test_hook_replaces_the_gradient_passed_on() -> None:
    x = Tensor([1.0, 2.0])
    h = x * 3
    h.register_hook(lambda g: g * 0)
    h.sum().backward()
    assert x.grad.data.tolist() == [0.0, 0.0]
    assert h.grad.data.tolist() == [0.0, 0.0]


def test_hook_on_a_leaf_changes_what_is_stored_and_accepts_arrays() -> None:
    w = Tensor([1.0, -1.0])
    w.register_hook(lambda g: np.clip(g.data, -0.5, 0.5))
    (w * 4).sum().backward()
    assert w.grad.data.tolist() == [0.5, 0.5]


def test_removed_hook_no_longer_runs() -> None:
    calls = []
    x = Tensor([1.0])
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    handle.remove()
    handle.remove()  # harmless
    (x * 2).sum().backward()
    assert calls == [1]


def test_hooks_run_in_registration_order() -> None:
    x = Tensor([1.0])
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 10)
    (x * 1).sum().backward()
    assert x.grad.data.tolist() == [20.0]


def test_hook_returning_the_wrong_shape_is_a_clear_error() -> None:
    x = Tensor([1.0, 2.0])

    def bad(g: Tensor) -> np.ndarray:
        return np.ones(3)

    x.register_hook(bad)
    with pytest.raises(ValueError, match=r"hook 'bad' returned a gradient of shape \(3,\)"):
        (x * 2).sum().backward()


def test_hook_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="expected a function"):
        Tensor([1.0]).register_hook(3)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0], requires_grad=False).register_hook(print)


def test_hooks_do_not_follow_a_pickled_copy() -> None:
    x = Tensor([1.0])
    x.register_hook(lambda g: g * 100)
    y = pickle.loads(pickle.dumps(x))  # a lambda hook would not even pickle
    (y * 2).sum().backward()
    assert y.grad.data.tolist() == [2.0]
    (x * 2).sum().backward()
    assert x.grad.data.tolist() == [200.0]


def test_a_leaf_gradient_from_a_hook_is_a_copy_of_the_users_array() -> None:
    # the hook's return value used to become p.grad itself: zeroing the gradient in place
    # zeroed the user's array too
    fixed, kept = np.array([5.0, 5.0]), Tensor([5.0, 5.0], requires_grad=False)
    p, q = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    p.register_hook(lambda g: fixed)
    q.register_hook(lambda g: kept)
    (p * p + q * q).sum().backward()
    with no_grad():
        p.grad *= 0
        q.grad *= 0
    np.testing.assert_array_equal(fixed, [5.0, 5.0])
    np.testing.assert_array_equal(kept.data, [5.0, 5.0])


def test_a_node_made_through_a_numpy_function_names_the_users_line() -> None:
    # np.mean(t) reaches t.mean() through numpy's Python code: the site was fromnumeric.py
    x = Tensor([np.inf, 1.0])
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        line = _next_line()
        np.mean(x)
    assert str(caught.value).endswith(f"created at {line}")


def test_anomaly_error_survives_pickle_and_copy() -> None:
    # a worker process (multiprocessing, concurrent.futures) sends its exception back pickled:
    # it used to fail with "__init__() missing 2 required positional arguments"
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        Tensor([0.0]).log()
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value) and again.phase == "forward"
    assert again.node.op.name == "log"


def test_a_hook_that_makes_inf_is_named_rather_than_the_op_after_it() -> None:
    # the hook's Inf used to be reported as the mul's own gradient ("op 'mul' ... sends")
    x = Tensor([1.0])
    b = x * 2
    b.name = "b"
    b.register_hook(lambda g: g * np.inf)
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        (b * 1).sum().backward()
    assert str(caught.value).startswith(
        "NaN or Inf in backward: a hook on the tensor 'b' of shape (1,) replaced its finite "
        "gradient; the hook's gradient of shape (1,) has 0 NaN and 1 Inf of 1"
    )
    assert caught.value.node is b and autograd.anomaly_of(b) == str(caught.value)
    c = Tensor([1.0]) * 1  # a hook that only passes a bad gradient on is not blamed
    c.register_hook(lambda g: g + 0)
    y = (c * 1).sum()
    with detect_anomaly(nan=False), pytest.raises(AnomalyError) as passed_on:
        y.backward(grad=np.array(np.inf))
    assert passed_on.value.phase == "backward" and "hook" not in str(passed_on.value)


@pytest.mark.parametrize("kind", [Tensor, Value])
def test_a_parameters_hook_anomaly_is_not_shown_on_the_graphs_after_the_fix(kind) -> None:
    """A NaN from a hook on a parameter marks the parameter (the drawing paints it red). The
    mark stayed on the parameter for good: after the hook was removed, every later step's
    drawing still showed it red with the old message."""
    W = kind(2.0, name="W") if kind is Value else Tensor([1.0, 2.0], name="W")
    handle = W.register_hook(lambda g: g * np.nan)
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        (W * W).sum().backward()
    assert autograd.anomaly_of(W) == str(caught.value)  # the failed pass's graph shows it
    autograd.backward_steps((W * W).sum())  # replaying a pass (viz.steps) keeps it
    assert autograd.anomaly_of(W) == str(caught.value)
    handle.remove()
    W.grad = None
    (W * W).sum().backward()  # the next step, fixed
    assert autograd.anomaly_of(W) is None
    np.testing.assert_allclose(W.grad.data, 2 * W.data)
