"""The engine as users touch it: numpy and matplotlib habits, copies and pickles, threads,
in-place parameter updates, the scalar face and Values (issue 7's silent wrong answers)."""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, is_grad_enabled, no_grad, softmax_cross_entropy
from nn import SGD, TwoLayerNet


def _zero_d_results() -> list[Tensor]:
    t = Tensor([[1.0, -2.0], [3.0, 4.0]])
    v = Value(2.0)
    return [t.sum(), t.mean(), t.max(), t[0, 1], t[1][0], v * v, v + 1, (v * 3).exp(), -v]


# --- .data is always an ndarray ----------------------------------------------------------
@pytest.mark.parametrize("result", _zero_d_results(), ids=lambda r: r.op.name if r.op else "?")
def test_every_zero_d_result_holds_an_ndarray(result: Tensor) -> None:
    assert type(result.data) is np.ndarray and result.data.ndim == 0
    assert type(np.asarray(result)) is np.ndarray
    assert np.array(result, dtype=np.float32).dtype == np.float32
    assert isinstance(result.data.item(), float)


def test_numpy_habits_on_losses() -> None:
    x = Tensor([1.0, 2.0, 3.0])
    l1, l2 = (x * x).sum(), x.mean()
    assert np.asarray(l1) == 14.0
    assert np.mean([l1, l2]) == pytest.approx(8.0)
    both = Tensor([l1, l2])
    assert both.shape == (2,) and both.data.tolist() == [14.0, 2.0]
    l1.data[...] = 5.0
    assert float(l1) == 5.0


def test_matplotlib_plots_a_list_of_losses(tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = Tensor([0.5, -1.0])
    losses = [(w * k).sum() for k in range(5)]
    fig, ax = plt.subplots()
    (line,) = ax.plot(losses)
    assert line.get_ydata().tolist() == [-0.0, -0.5, -1.0, -1.5, -2.0]
    fig.savefig(tmp_path / "losses.png")
    plt.close(fig)


def test_asarray_refuses_a_copy_free_dtype_change_clearly() -> None:
    with pytest.raises(ValueError, match="copy is needed"):
        np.asarray(Tensor([1.0]), dtype=np.float32, copy=False)


# --- indexing with repeated positions ----------------------------------------------------
@pytest.mark.parametrize(
    ("index", "expected_row0", "expected"),
    [
        (((0, 0), slice(1, 3)), [0, 2, 2, 0], None),
        ((1, (3, 3)), None, {(1, 3): 2.0}),
        (((0, 0, 2),), [2, 2, 2, 2], {(2, 0): 1.0}),
        (([0, 0], slice(None)), [2, 2, 2, 2], None),
    ],
    ids=["tuple rows", "tuple cols", "tuple in 1-tuple", "list rows"],
)
def test_indices_numpy_treats_as_advanced_accumulate(index, expected_row0, expected) -> None:
    x = Tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(x[index].data, x.data[index])
    x[index].sum().backward()
    want = np.zeros((3, 4))
    np.add.at(want, index, 1.0)
    np.testing.assert_array_equal(x.grad.data, want)
    if expected_row0 is not None:
        assert x.grad.data[0].tolist() == expected_row0
    for pos, value in (expected or {}).items():
        assert x.grad.data[pos] == value


# --- autograd.grad -----------------------------------------------------------------------
def test_grad_accepts_one_tensor_and_returns_a_one_tuple() -> None:
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    (gx,) = autograd.grad((x * x).sum(), x)
    np.testing.assert_array_equal(gx.data, 2 * x.data)


def test_grad_refuses_non_tensor_inputs() -> None:
    x = Tensor([1.0])
    with pytest.raises(TypeError, match="inputs must be Tensors"):
        autograd.grad(x.sum(), [x.data])


# --- copies and pickles ------------------------------------------------------------------
def test_deepcopy_is_a_new_tensor_in_the_graph() -> None:
    a = Tensor([3.0], name="a")
    b = copy.deepcopy(a)
    assert b.id != a.id and b.name == "a"
    (a * b).sum().backward()
    assert a.grad.data.tolist() == [3.0] and b.grad.data.tolist() == [3.0]


def test_a_copy_and_its_original_are_two_nodes_in_a_drawing() -> None:
    from viz import draw

    a = Tensor([3.0], name="a")
    y = (a * copy.deepcopy(a)).sum()
    y.backward()
    leaves = {t.id for t in y.inputs[0].inputs}
    assert len(leaves) == 2
    assert draw(y).source.count("label=<a>") == 2  # two leaves named a, not one drawn twice


class Parameter(Tensor):
    """A learner's own kind of tensor, as DeZero's `class Parameter(Variable)`."""


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_a_tensor_subclass_keeps_its_own_attributes_in_copies(how: str) -> None:
    """Only the engine's slots were copied: a subclass's attributes (`p.layer = "fc1"`) were
    silently gone from every copy, so code asking `p.layer` of a copied model failed."""
    p = Parameter([1.0, 2.0], name="W")
    p.layer = "fc1"
    (p * p).sum().backward()
    copies = {"copy": copy.copy, "deepcopy": copy.deepcopy}
    c = copies[how](p) if how in copies else pickle.loads(pickle.dumps(p))
    assert type(c) is Parameter and c.layer == "fc1" and c.name == "W"
    np.testing.assert_array_equal(c.grad.data, [2.0, 4.0])
    c.layer = "fc2"
    assert p.layer == "fc1"


def test_pickled_graph_backpropagates_in_the_copy() -> None:
    w = Tensor([[1.0, 2.0]], name="w")
    y = (w * w).sum() * 3
    w2 = pickle.loads(pickle.dumps(w))
    y2 = pickle.loads(pickle.dumps(y))
    y2.backward()
    assert w.grad is None  # the copy's graph holds copies of w
    leaf = y2.inputs[0].inputs[0].inputs[0]
    np.testing.assert_array_equal(leaf.grad.data, [[6.0, 12.0]])
    (w2 * 2).sum().backward()
    np.testing.assert_array_equal(w2.grad.data, [[2.0, 2.0]])


def test_a_model_pickled_after_forward_trains_in_a_fresh_process(tmp_path) -> None:
    rng = np.random.default_rng(0)
    net = TwoLayerNet(4, 5, 3, rng=1)
    x, t = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    net.lastLayer(net.predict(x), t).backward()  # leaves graphs and grads behind
    path = tmp_path / "net.pkl"
    path.write_bytes(pickle.dumps((net, x, t)))
    script = textwrap.dedent(
        f"""
        import pickle, numpy as np
        from nn import SGD
        net, x, t = pickle.loads(open({str(path)!r}, "rb").read())
        before = {{k: v.copy() for k, v in net.params.items()}}
        opt = SGD(lr=0.5, params=net.parameters())
        opt.zero_grad()
        net.lastLayer(net.predict(x), t).backward()
        assert all(p.grad is not None for p in net.parameters()), "no gradient after unpickling"
        opt.step()
        changed = [k for k in before if not np.array_equal(before[k], net.params[k])]
        print(",".join(sorted(changed)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "W1,W2,b1,b2"


def test_ops_pickle_by_name() -> None:
    assert pickle.loads(pickle.dumps(autograd.ops.MATMUL)) is autograd.ops.MATMUL


# --- grad mode per thread ----------------------------------------------------------------
def test_no_grad_in_one_thread_does_not_stop_another() -> None:
    inside, recorded = threading.Event(), {}
    release = threading.Event()

    def quiet() -> None:
        with no_grad():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=quiet)
    worker.start()
    assert inside.wait(10)
    x = Tensor([2.0])
    recorded["main"] = (x * x).requires_grad and is_grad_enabled()
    release.set()
    worker.join(10)
    assert recorded["main"]


def test_overlapping_no_grad_blocks_in_two_threads_restore_recording() -> None:
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    states: dict[str, bool] = {}

    def first() -> None:
        with no_grad():
            a_in.set()
            b_in.wait(10)
        a_out.set()
        states["first after"] = is_grad_enabled()

    def second() -> None:
        a_in.wait(10)
        with no_grad():
            b_in.set()
            a_out.wait(10)  # leave after the first thread did
        states["second after"] = is_grad_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert states == {"first after": True, "second after": True}
    assert is_grad_enabled()


def test_a_new_thread_starts_recording() -> None:
    seen = []
    with no_grad():
        th = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        th.start()
        th.join(10)
    assert seen == [True]


# --- in-place updates --------------------------------------------------------------------
def _one_step_params() -> tuple[list[Tensor], Tensor]:
    w = Tensor([1.0, -2.0], name="w")
    b = Tensor(0.5, name="b")
    loss = ((w * 3).sum() + b) ** 2
    loss.backward()
    return [w, b], loss


def test_pytorch_style_update_under_no_grad_changes_the_parameters() -> None:
    params, _ = _one_step_params()
    w_grad, b_grad = params[0].grad.data.copy(), params[1].grad.data.copy()
    data = [p.data for p in params]
    with no_grad():
        for p in params:
            p -= 0.1 * p.grad
    np.testing.assert_allclose(params[0].data, np.array([1.0, -2.0]) - 0.1 * w_grad)
    np.testing.assert_allclose(params[1].data, 0.5 - 0.1 * b_grad)
    assert all(p.data is d for p, d in zip(params, data, strict=True))  # in place, not rebound


@pytest.mark.parametrize(("op", "expected"), [("+=", 3.0), ("-=", -1.0), ("*=", 2.0), ("/=", 0.5)])
def test_each_in_place_operator_under_no_grad(op: str, expected: float) -> None:
    p = Tensor([1.0, 1.0])
    scope = {"p": p, "two": Tensor([2.0, 2.0])}
    with no_grad():
        exec(f"p {op} two", scope)
    assert scope["p"] is p
    assert p.data.tolist() == [expected, expected]


def test_numpy_style_update_of_data_works() -> None:
    params, _ = _one_step_params()
    w = params[0]
    expected = w.data - 0.1 * w.grad.data
    w.data -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, expected)
    assert type(w.data) is np.ndarray


def test_assigning_a_tensor_to_data_stores_its_array() -> None:
    params, _ = _one_step_params()
    w = params[0]
    expected = w.data - 0.1 * w.grad.data
    w.data = w.data - 0.1 * w.grad
    assert type(w.data) is np.ndarray
    np.testing.assert_allclose(w.data, expected)


def test_in_place_on_a_leaf_while_recording_is_refused() -> None:
    params, _ = _one_step_params()
    with pytest.raises(RuntimeError, match=r"-=: the tensor 'w' .*no_grad\(\)"):
        params[0] -= 0.1 * params[0].grad


def test_in_place_on_a_computed_tensor_while_recording_is_differentiated() -> None:
    x = Tensor([2.0])
    y = x * x
    y += x  # y = x² + x
    y.sum().backward()
    assert x.grad.data.tolist() == [5.0]


def test_an_in_place_update_keeps_the_tensors_dtype_and_shape_recorded_or_not() -> None:
    """`h += c` kept float32 where nothing records (numpy's in-place update) but gave float64
    where it records, so a traced program (which records everything fn does) returned float64
    where eager mode on data gave float32; and a recorded `h += wider` grew h, where the
    in-place update refuses."""
    c = Tensor(np.float64(1.0), requires_grad=False)
    for requires_grad in (False, True):
        h = Tensor(np.ones(2, np.float32), requires_grad=requires_grad) * 1.0
        h += c
        h *= np.ones(2)  # a float64 array
        assert h.dtype == np.float32 and h.data.tolist() == [2.0, 2.0], requires_grad
        with pytest.raises(ValueError, match=r"\+=: cannot update .* in place .* shape \(3, 2\)"):
            h += np.ones((3, 2))
    x = Tensor(np.ones(2, np.float32))
    y = x * 2.0
    y += c  # differentiated through the cast back: d/dx = 2, float32
    (dx,) = autograd.grad(y.sum(), [x])
    assert dx.dtype == np.float32 and dx.data.tolist() == [2.0, 2.0]


def test_data_without_gradients_updates_in_place_anywhere() -> None:
    data = Tensor([1.0, 2.0], requires_grad=False)
    same = data.data
    data *= 3
    assert data.data is same and same.tolist() == [3.0, 6.0]


def test_backward_refuses_an_input_changed_in_place_after_the_forward() -> None:
    w = Tensor([1.0, 2.0], name="w")
    loss = (w * w).sum()
    with no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match=r"'mul'.*'w'.*changed in place"):
        loss.backward()


def test_backward_refuses_an_output_changed_in_place() -> None:
    x = Tensor([0.5])
    y = x.exp()  # exp's backward reads its output
    with no_grad():
        y *= 2
    with pytest.raises(RuntimeError, match=r"its output .*changed in place"):
        y.sum().backward()


def test_a_parameter_made_by_scaling_a_tensor_says_how_to_make_it() -> None:
    """`W = Tensor(randn) * 0.01` is computed: the second training step went through the
    used-up `mul` again, and the error advised retain_graph=True (which then failed on the
    in-place update)."""
    W = Tensor(np.ones((3, 2))) * 0.01
    x = Tensor(np.ones((4, 3)), requires_grad=False)
    (x @ W).sum().backward()
    with no_grad():
        W -= 0.1 * W.grad
    with pytest.raises(RuntimeError, match=r"computed \(by 'mul'\) and then changed in place "
                       r"like a parameter; make a parameter from the scaled array"):  # fmt: skip
        (x @ W).sum().backward()
    y = Tensor([0.5]).exp()
    with no_grad():
        y *= 2
    with pytest.raises(RuntimeError, match=r"If it is a parameter, make it from the scaled"):
        y.sum().backward()


def test_update_after_backward_then_fresh_forward_is_fine() -> None:
    w = Tensor([1.0, 2.0])
    for _ in range(3):
        w.grad = None
        (w * w).sum().backward()
        with no_grad():
            w -= 0.25 * w.grad
    np.testing.assert_allclose(w.data, np.array([1.0, 2.0]) * 0.5**3)


def test_in_place_shape_mismatch_names_the_operator_and_shapes() -> None:
    p = Tensor([1.0, 2.0], requires_grad=False)
    with pytest.raises(ValueError, match=r"\+=: cannot update .*shape \(2,\).*shape \(3,\)"):
        p += np.ones(3)


def test_optimizer_step_still_updates_after_in_place_support() -> None:
    params, _ = _one_step_params()
    before = params[0].data.copy()
    SGD(lr=0.1, params=params).step()
    assert not np.array_equal(before, params[0].data)


# --- the scalar face ---------------------------------------------------------------------
def test_formatting_rounding_and_int_of_a_loss() -> None:
    loss = Tensor([0.25, 0.5]).sum() * 1.01
    assert f"{loss:.3f}" == "0.758"
    assert f"{loss}" == str(loss)
    assert round(loss, 3) == 0.758 and isinstance(round(loss, 3), float)
    assert round(loss) == 1
    assert int(Tensor(7.9)) == 7
    with pytest.raises(TypeError, match=r"format '\.3f': needs a tensor with one element"):
        f"{Tensor([1.0, 2.0]):.3f}"


def test_comparisons_give_untracked_bool_arrays() -> None:
    t = Tensor([-1.0, 0.5, 2.0])
    for mask, want in [
        (t > 0, [False, True, True]),
        (t >= 0.5, [False, True, True]),
        (t < 0.5, [True, False, False]),
        (t <= 0.5, [True, True, False]),
        (np.zeros(3) < t, [False, True, True]),
        (t > Tensor([0.0, 0.0, 3.0]), [False, True, False]),
    ]:
        assert type(mask) is np.ndarray and mask.dtype == bool
        assert mask.tolist() == want
    loss = t.sum()
    assert type(loss < 2.0) is np.bool_ and bool(loss < 2.0)
    if loss < 0.1:
        pytest.fail("1.5 < 0.1")
    assert t.data[t > 0].tolist() == [0.5, 2.0]


def test_comparisons_that_cannot_be_made_name_the_shapes() -> None:
    """They were numpy's 'operands could not be broadcast together with shapes (3,) (4,)'."""
    t = Tensor([-1.0, 0.5, 2.0], name="t")
    shapes = r"<: cannot compare the tensor 't' of shape \(3,\) with shape \(4,\)"
    with pytest.raises(ValueError, match=shapes):
        _ = t < np.zeros(4)
    with pytest.raises(TypeError, match=r">=: cannot compare .* with str"):
        _ = t >= "a"
    with pytest.raises(ValueError, match=r"np.less: cannot compare shapes \(4,\) and \(3,\)"):
        _ = np.zeros(4) < t


def test_numpy_questions_about_the_values_give_bools() -> None:
    """`if np.isnan(loss): break` in a training loop, `np.all(t)`: ufuncs whose results are
    bools were refused as 'not recorded for backward', like ufuncs that compute floats."""
    t = Tensor([1.0, np.nan, -2.0])
    assert np.isnan(t).tolist() == [False, True, False]
    assert np.isfinite(t.sum()) == np.False_ and bool(np.isnan(t.sum()))
    assert np.signbit(t).tolist() == [False, False, True]
    assert np.all(Tensor([1.0, 2.0])) and not np.all(Tensor([1.0, 0.0]))
    with pytest.raises(TypeError, match=r"np\.floor on a Tensor is not recorded"):
        np.floor(t)  # a float result would leave the graph: still refused


def test_in_asks_about_the_values() -> None:
    """`2.0 in t` iterated rows and compared them by identity: always False."""
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 2.0 in t and 5.0 not in t and Value(3.0) in t
    assert Tensor([1.0]) in Tensor([0.0, 1.0]) and [3.0, 4.0] in t


def test_equality_stays_identity_so_tensors_key_dicts() -> None:
    a, b = Tensor([1.0]), Tensor([1.0])
    assert a != b and a == a and len({a, b}) == 2
    assert (np.ones(1) == a) is False
    assert a in [np.ones(1), a]


def test_numpy_ufuncs_on_tensors_are_recorded_or_refused() -> None:
    x = Tensor([0.5, 1.0])
    y = np.exp(x) + np.sqrt(x) + np.abs(-x) + np.log(x) + np.tanh(x)
    assert isinstance(y, Tensor) and y.op is not None
    y.sum().backward()
    want = np.exp(x.data) + 0.5 / np.sqrt(x.data) + 1 + 1 / x.data + 1 - np.tanh(x.data) ** 2
    np.testing.assert_allclose(x.grad.data, want)
    with pytest.raises(TypeError, match=r"np\.maximum on a Tensor is not recorded.*t\.data"):
        np.maximum(x, 0)
    # the book's relu (3.2.7) is the one a learner tries: the refusal says what to use
    with pytest.raises(TypeError, match=r"the book's relu, np\.maximum\(0, x\), is x\.relu\(\)"):
        np.maximum(0, x)


def test_abs_and_sqrt_are_ops_with_gradients() -> None:
    x = Tensor([-2.0, 3.0, 0.0])
    (abs(x) + x.abs()).sum().backward()
    assert x.grad.data.tolist() == [-2.0, 2.0, 0.0]
    r = Tensor([4.0, 9.0])
    r.sqrt().sum().backward()
    np.testing.assert_allclose(r.grad.data, [0.25, 1 / 6])
    assert abs(x).op is autograd.ops.REGISTRY["abs"]


# --- Values stay Values ------------------------------------------------------------------
def test_results_and_gradients_of_values_are_values() -> None:
    a, b = Value(2.0, "a"), Value(3.0, "b")
    out = (a * b + 1) * 2 - a / b + a**2 + (-a).exp().log()
    assert type(out) is Value
    out.backward()
    assert type(a.grad) is Value and type(b.grad) is Value
    assert repr(Value(4.0)) == "Value(4.)"
    c = a * a
    c.backward()
    assert repr(a.grad).startswith("Value(")


def test_values_mixed_with_arrays_give_tensors() -> None:
    a = Value(2.0)
    assert type(a * Tensor([1.0, 2.0])) is Tensor
    assert type(a * np.ones(2)) is Tensor
    assert type((Tensor([1.0, 2.0]) * a).sum()) is Tensor
    y = (a * Tensor([1.0, 2.0])).sum()
    y.backward()
    assert type(a.grad) is Value and float(a.grad) == 3.0


# --- bad arguments -----------------------------------------------------------------------
def test_tensor_names_must_be_strings() -> None:
    with pytest.raises(TypeError, match="name must be a string"):
        Tensor(1.0, name=123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name must be a string"):
        Value(1.0, 5)  # type: ignore[arg-type]


def test_a_name_set_later_must_be_a_string_too() -> None:
    """`t.name = 5` was accepted, and autograd.explain then crashed deep inside
    ('int' object has no attribute 'startswith')."""
    t = Tensor([1.0, 2.0], name="a")
    with pytest.raises(TypeError, match="name must be a string or None, got int"):
        t.name = 5  # type: ignore[assignment]
    assert t.name == "a"
    t.name = None
    assert "Step 1 of 2" in autograd.explanation((t * 2).sum())
    t.name = "w"
    assert pickle.loads(pickle.dumps(t)).name == "w"


def test_reshape_takes_numpy_integers_and_refuses_fractions() -> None:
    t = Tensor(np.arange(4.0))
    assert t.reshape(np.int64(4)).shape == (4,)
    assert t.reshape(np.int64(2), 2).shape == (2, 2)
    assert t.reshape((np.int32(2), -1)).shape == (2, 2)
    with pytest.raises(TypeError, match=r"reshape: the new shape must be whole numbers"):
        t.reshape(2.7, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="whole numbers"):
        t.reshape(True, 4)


@pytest.mark.parametrize("axis", [None, (0, 1), 1.0, True])
def test_softmax_needs_one_integer_axis(axis) -> None:
    with pytest.raises(TypeError, match="softmax: axis must be one int"):
        Tensor(np.ones((2, 3))).softmax(axis=axis)


@pytest.mark.parametrize(
    "call",
    [
        lambda z: Tensor(z).softmax(),
        lambda z: Tensor(z).log_softmax(axis=1),
        lambda z: softmax_cross_entropy(Tensor(z), np.zeros((20, 0))),
        lambda z: softmax_cross_entropy(Tensor(z), np.zeros(20, dtype=int)),
    ],
)
def test_probabilities_over_no_classes_are_refused_naming_the_shape(call) -> None:
    """Logits of shape (20, 0) gave numpy's "zero-size array to reduction" or a broadcasting
    message about two identical shapes."""
    with pytest.raises(ValueError, match=r"shape \(20, 0\) has no classes"):
        call(np.zeros((20, 0)))


@pytest.mark.parametrize(
    ("labels", "error", "words"),
    [
        (np.array([0.0, np.inf]), ValueError, "NaN or inf"),
        (np.array([np.nan, 1.0]), ValueError, "NaN or inf"),
        (np.array(["0", "1"]), TypeError, "labels must be class numbers"),
        (np.array([[np.inf, 0, 0], [0, 1, 0]]), ValueError, "NaN or inf"),
    ],
)
def test_softmax_cross_entropy_says_what_labels_must_be(labels, error, words) -> None:
    with pytest.raises(error, match=words):
        softmax_cross_entropy(Tensor(np.zeros((2, 3))), labels)


@pytest.mark.parametrize(
    "shape",
    [(16, 10), (200, 10), (100, 32), (40, 33), (15, 10), (5, 3), (3, 20, 10), (10,)],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["one-hot", "soft", "soft strided", "labels"])
def test_softmax_cross_entropy_loss_and_gradient_against_the_formula(shape, dtype, target):
    """Many short rows (a column-major max, row sums as a product) and long ones alike."""
    rng = np.random.default_rng(3)
    z = (4 * rng.standard_normal(shape)).astype(dtype)
    z.flat[::7] += 1000  # huge gaps: probabilities underflow, exp overflows unless shifted
    labels = rng.integers(0, shape[-1], shape[:-1])
    if target == "labels":
        t_given, t = labels, np.eye(shape[-1])[labels]
    elif target == "one-hot":
        t = np.eye(shape[-1])[labels]
        t_given = t.astype(dtype)
    else:
        t_given = rng.uniform(0, 1, shape).astype(dtype)  # rows not summing to 1
        if target == "soft strided":
            t_given = np.asfortranarray(t_given)
        t = t_given.astype(np.float64)
    logits = Tensor(z, requires_grad=True)
    loss = softmax_cross_entropy(logits, t_given)
    loss.backward()
    z64 = z.astype(np.float64)
    log_y = z64 - z64.max(axis=-1, keepdims=True)
    log_y -= np.log(np.exp(log_y).sum(axis=-1, keepdims=True))
    rows = z.size // shape[-1]  # (an empty batch is refused: test_errors)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert loss.dtype == dtype and np.isfinite(loss.data)
    np.testing.assert_allclose(loss.data, -(t * log_y).sum() / rows, rtol=tol, atol=tol)
    expected = (np.exp(log_y) * t.sum(axis=-1, keepdims=True) - t) / rows
    np.testing.assert_allclose(logits.grad.data, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("target", ["one-hot", "soft"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropy_never_gives_a_silent_nan_for_a_minus_inf_logit(target, dtype):
    """Σ t·log y as a BLAS dot product met 0 · log 0 (a -inf logit where t is 0) without the
    RuntimeWarning numpy's product gives: the loss was NaN with nothing said."""
    z = np.zeros((20, 10), dtype)
    z[3, 2] = -np.inf
    t = np.eye(10, dtype=dtype)[np.arange(20) % 10]
    if target == "soft":
        t[3] = np.where(np.arange(10) == 2, 0.0, 1.0 / 9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = softmax_cross_entropy(Tensor(z), t)
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert np.isfinite(loss.data) or said, f"loss {loss.data} without a warning"


def test_value_math_stays_exact_for_the_book() -> None:
    apple, num, tax = Value(100, "apple"), Value(2, "num"), Value(1.1, "tax")
    price = apple * num * tax
    price.backward()
    assert math.isclose(float(price), 220.0)
    assert f"{apple.grad:.1f}, {num.grad:.0f}, {tax.grad:.0f}" == "2.2, 110, 200"
