"""Regression tests for defects an adversarial user found in the engine's public contract:
numpy functions on tensors, in-place updates through shared memory, copies of graphs."""

from __future__ import annotations

import copy
import pickle
import threading

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, is_grad_enabled, no_grad


# --- numpy functions (not ufuncs) on tensors ---------------------------------------------
def test_np_dot_is_recorded_as_matmul_so_the_weight_gets_its_gradient() -> None:
    # the book writes `a1 = np.dot(x, W1) + b1`; W1 used to silently get no gradient
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    W1, b1 = Tensor(rng.normal(size=(3, 2))), Tensor(np.zeros(2))
    (np.dot(x, W1) + b1).sum().backward()
    assert W1.grad is not None
    np.testing.assert_allclose(W1.grad.data, x.T @ np.ones((4, 2)))
    v = Tensor([1.0, 2.0])
    assert np.dot(v, v).op.name == "matmul" and float(np.dot(v, v)) == 5.0
    assert np.dot(Tensor(3.0), v).op.name == "mul"


def test_np_dot_with_batched_right_operand_is_refused() -> None:
    with pytest.raises(TypeError, match=r"np.dot of shapes \(2, 3\) and \(4, 3, 2\).*a @ b"):
        np.dot(Tensor(np.ones((2, 3))), np.ones((4, 3, 2)))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: np.concatenate([t, t]),
        lambda t: np.stack([t, t]),
        lambda t: np.where(t.data > 1, t, 0.0),
        lambda t: np.clip(t, 0, 1),
        lambda t: np.linalg.norm(t),
    ],
    ids=["concatenate", "stack", "where", "clip", "norm"],
)
def test_numpy_functions_that_drop_a_tracked_tensor_are_refused(call) -> None:
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="requires grad is not recorded for backward"):
        call(t)
    with no_grad():  # nothing is recorded anyway: a plain array, as before
        assert type(call(t)) in (np.ndarray, np.float64)
    assert type(call(Tensor([1.0, 2.0], requires_grad=False))) in (np.ndarray, np.float64)


def test_numpy_functions_that_only_read_still_work() -> None:
    t = Tensor([1.0, 2.0])
    assert np.allclose(t, [1, 2]) and np.array_equal(t, [1.0, 2.0])
    assert np.shape(t) == (2,) and np.ndim(t) == 1 and int(np.argmax(t)) == 1
    np.testing.assert_allclose(t, [1.0, 2.0])
    assert np.sum(t).op.name == "sum" and np.mean(t).op.name == "mean"
    # the book's numerical_gradient starts with `grad = np.zeros_like(x)`
    assert type(np.zeros_like(t)) is np.ndarray and np.full_like(t, 2.0).tolist() == [2.0, 2.0]
    snapshot = np.copy(t)
    assert snapshot.tolist() == [1.0, 2.0] and snapshot is not t.data


def test_refused_ufunc_method_names_the_method_in_its_advice() -> None:
    with pytest.raises(TypeError, match=r"np\.add\.reduce\(t\.data\)"):
        np.add.reduce(Tensor([1.0, 2.0]))


# --- in-place writes through shared memory -----------------------------------------------
def test_in_place_change_through_a_view_is_caught_by_backward() -> None:
    # a slice is a view of its input's array: changing it changes the input too
    x, w = Tensor([1.0, 2.0, 3.0], requires_grad=False), Tensor([1.0, 1.0, 1.0])
    z = (x * w).sum()
    with no_grad():
        v = x[0:2]
        v *= 100
    with pytest.raises(RuntimeError, match=r"'mul'.*changed in place.*sharing its memory"):
        z.backward()  # used to give w.grad = [100, 200, 3] silently


def test_in_place_change_of_the_owner_is_caught_through_its_view() -> None:
    x, w = Tensor([1.0, 2.0, 3.0], requires_grad=False), Tensor([1.0, 1.0, 1.0])
    z = (x.reshape(3, 1) * w.reshape(3, 1)).sum()  # the reshape of a constant is a view
    with no_grad():
        x *= 5
    with pytest.raises(RuntimeError, match="changed in place"):
        z.backward()


def test_in_place_change_of_a_detached_copy_is_caught() -> None:
    x = Tensor([1.0, 2.0])
    z = (x * x).sum()
    d = x.detach()
    d += 1  # detach() shares the array, as in PyTorch
    with pytest.raises(RuntimeError, match=r"'mul'.*its input the tensor of shape \(2,\), which"):
        z.backward()


def test_power_and_matmul_updates_change_the_parameter_in_place() -> None:
    # `p **= 2` / `W @= R` under no_grad() used to rebind the name to a new untracked tensor,
    # leaving the model's parameter unchanged (issue 7's `p -= ...` trap, for ** and @)
    p, W = Tensor([1.0, 2.0]), Tensor(np.eye(2) * 2)
    model = [p, W]
    with no_grad():
        p **= 2
        W @= np.array([[0.0, 1.0], [1.0, 0.0]])
    assert model[0] is p and model[1] is W and p.requires_grad
    np.testing.assert_array_equal(p.data, [1.0, 4.0])
    np.testing.assert_array_equal(W.data, [[0.0, 2.0], [2.0, 0.0]])
    with pytest.raises(RuntimeError, match=r"\*\*=.*leaf that requires grad"):
        p **= 2
    with no_grad(), pytest.raises(ValueError, match=r"@=: cannot update .* \(2, 3\)"):
        W @= np.ones((2, 3))
    y = p * 1
    y **= 2  # a computed tensor while recording: a new node, differentiated
    y.sum().backward()
    np.testing.assert_array_equal(p.grad.data, 2 * p.data)


def test_a_graph_built_after_the_update_is_not_refused() -> None:
    W = Tensor([1.0, 2.0])
    for _ in range(3):
        W.grad = None
        (W * W).sum().backward()
        with no_grad():
            W[0:1] -= 0.5 * W.grad.data[0:1]
    np.testing.assert_allclose(W.data, [0.0, 2.0])


def test_item_update_under_no_grad_writes_and_is_stamped() -> None:
    x = Tensor([1.0, 2.0, 3.0])
    z = (x * x).sum()
    with no_grad():
        x[0] += 10  # used to change x through the view, then fail with a TypeError
        x[x.data > 2] = 0.0
    np.testing.assert_array_equal(x.data, [0.0, 2.0, 0.0])
    with pytest.raises(RuntimeError, match="changed in place"):
        z.backward()


def test_item_assignment_while_recording_is_refused_before_changing_anything() -> None:
    x = Tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"item assignment is not recorded.*no_grad"):
        x[0] += 10
    with pytest.raises(RuntimeError, match="item assignment is not recorded"):
        Tensor([0.0, 0.0], requires_grad=False)[0] = x[1]
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    data = Tensor([1.0, 2.0], requires_grad=False)  # no gradient involved: allowed
    data[1] = 5
    np.testing.assert_array_equal(data.data, [1.0, 5.0])


def test_assigning_a_view_of_the_same_tensor_is_refused_before_it_corrupts_rows() -> None:
    # with item assignment, a row swap or rng.shuffle(t) would read rows already overwritten
    t = Tensor(np.arange(8.0).reshape(4, 2), requires_grad=False)
    with pytest.raises(ValueError, match="view of this tensor's own memory"):
        t[0], t[1] = t[1], t[0]
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="own memory"):
        np.random.default_rng(0).shuffle(t)
    np.testing.assert_array_equal(t.data, np.arange(8.0).reshape(4, 2))
    t[0] += 10  # the view assigned back to itself is fine
    t[1:] = t[:-1].data.copy()
    np.testing.assert_array_equal(t.data[:, 0], [10.0, 10.0, 2.0, 4.0])


def test_in_place_update_with_a_string_or_complex_value_says_what_is_wrong() -> None:
    t = Tensor([1.0, 2.0], requires_grad=False)
    with pytest.raises(TypeError, match=r"\+=: expected numbers, got the string 'a'"):
        t += "a"  # used to be numpy's "did not contain a loop with signature" as a ValueError
    with pytest.raises(TypeError, match="complex numbers are not supported"):
        t *= 1j
    t += [1, 2]
    np.testing.assert_array_equal(t.data, [2.0, 4.0])


def test_item_assignment_bad_values_are_clear() -> None:
    t = Tensor([1.0, 2.0], requires_grad=False)
    with pytest.raises(TypeError, match="string"):
        t[0] = "a"
    with pytest.raises(TypeError, match="complex"):
        t[0] = 1j
    with pytest.raises(ValueError, match=r"t\[0\] = value of shape \(3,\)"):
        t[0] = [1.0, 2.0, 3.0]


def test_in_place_update_of_a_read_only_array_says_so() -> None:
    t = Tensor(np.broadcast_to(np.ones(3), (2, 3)), requires_grad=False)
    with pytest.raises(ValueError, match=r"read-only array.*Tensor\(np.array\(values\)\)"):
        t += 1
    with pytest.raises(ValueError, match="read-only array"):
        t[0] = 2.0


# --- copies of graphs --------------------------------------------------------------------
@pytest.mark.parametrize("clone", [copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))])
def test_copy_of_a_tensor_with_a_create_graph_gradient_keeps_second_derivatives(clone) -> None:
    # a.grad (made with create_graph) refers back to a, so a copy restores a after the nodes
    # made from it and their fresh ids disagreed with the graph: d2 was silently missing
    a = Tensor([1.0, 2.0])
    (a**3).sum().backward(create_graph=True)
    b = clone(a)
    b.grad.sum().backward()
    np.testing.assert_allclose(b.grad.data, 3 * a.data**2 + 6 * a.data)
    v = Value(2.0)
    (v**3).backward(create_graph=True)
    w = clone(v)
    (g,) = autograd.grad(w.grad, w)
    assert type(g) is Value and float(g) == 12.0


# --- indexing ----------------------------------------------------------------------------
@pytest.mark.parametrize("index", [[], ([],), ((), slice(None)), (0, [])], ids=repr)
def test_an_empty_list_of_positions_picks_nothing_as_in_numpy(index) -> None:
    x = Tensor(np.arange(12.0).reshape(3, 4))
    y = x[index]  # used to fail: np.asarray([]) is a float array, not positions
    assert y.shape == np.zeros((3, 4))[index].shape
    (y.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4)))


# --- one context manager object open in two threads --------------------------------------
def _overlap_in_two_threads(shared) -> dict[str, object]:
    """Thread A enters `shared` while recording; B enters it inside its own no_grad(); A leaves
    first. Each must get back its own state."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def a() -> None:
        with shared:
            a_in.set()
            b_in.wait(10)
        a_out.set()
        seen["A after"] = is_grad_enabled()
        with np.errstate(divide="ignore"):
            seen["A log(0)"] = float(Tensor([0.0]).log().data[0])  # anomaly mode is over

    def b() -> None:
        a_in.wait(10)
        with no_grad():
            with shared:
                b_in.set()
                a_out.wait(10)
            seen["B in its no_grad"] = is_grad_enabled()
        seen["B after"] = is_grad_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return seen


@pytest.mark.parametrize(
    "shared", [no_grad(), autograd.detect_anomaly()], ids=["no_grad", "detect_anomaly"]
)
def test_a_shared_context_manager_restores_each_threads_own_state(shared) -> None:
    # a no_grad() object kept in a module: thread A used to end with recording off for good,
    # a shared detect_anomaly() raised numpy's "created in a different Context"
    seen = _overlap_in_two_threads(shared)
    assert seen == {
        "A after": True,
        "A log(0)": -np.inf,
        "B in its no_grad": False,
        "B after": True,
    }


def test_reshape_takes_a_shape_given_as_a_numpy_array_as_numpy_does() -> None:
    x = Tensor(np.arange(12.0).reshape(3, 4))
    assert x.reshape(np.array([4, 3])).shape == (4, 3)  # used to be a TypeError
    assert x.reshape(np.array(12)).shape == (12,)
    with pytest.raises(TypeError, match="whole numbers"):
        x.reshape(np.array([4.0, 3.0]))


# --- array subclasses --------------------------------------------------------------------
def _matrix(rows: list[list[float]]) -> np.ndarray:
    with pytest.warns(PendingDeprecationWarning):  # numpy discourages np.matrix; users have it
        return np.matrix(rows)


def test_an_np_matrix_becomes_a_plain_array_so_star_stays_elementwise() -> None:
    m = _matrix([[1.0, 2.0], [3.0, 4.0]])
    t = Tensor(m)
    assert type(t.data) is np.ndarray
    y = t * t  # used to be the matrix product [[7, 10], [15, 22]], with a wrong gradient
    np.testing.assert_array_equal(y.data, [[1.0, 4.0], [9.0, 16.0]])
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, 2 * np.asarray(m))
    assert type((Tensor([[1.0, 1.0]]) * m).data) is np.ndarray
    t.data = _matrix([[0.0, 0.0], [0.0, 0.0]])
    assert type(t.data) is np.ndarray


def test_a_masked_array_is_refused_rather_than_its_mask_ignored() -> None:
    with pytest.raises(TypeError, match=r"masked arrays are not supported.*filled"):
        Tensor(np.ma.masked_array([1.0, 2.0], mask=[0, 1]))


def _graph_with_a_used_up_branch() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """z = (a * b) + (a * b).exp(), where the exp branch was used by an earlier backward."""
    a = Tensor([1.0, 2.0], name="a")
    b = Tensor([3.0, 4.0], name="b")
    ab = a * b
    branch = ab.exp()
    branch.sum().backward()  # uses up exp and ab (no retain_graph)
    a.grad = None
    b.grad = None
    z = (ab + branch).sum()
    return a, b, ab, z


@pytest.mark.parametrize("kind", [Tensor, Value])
def test_a_backward_that_raises_changes_no_gradient_and_uses_up_nothing(kind) -> None:
    a, b, _, z = _graph_with_a_used_up_branch()
    with pytest.raises(RuntimeError, match="already used"):
        z.backward()
    assert a.grad is None and b.grad is None and z.grad is None
    # a scalar graph, where the same rule holds whichever pass runs
    x = kind(2.0, name="x") if kind is Value else Tensor(2.0, name="x")
    y = x * x
    w = y * 3.0
    w.backward()  # uses up w and y
    x.grad = None
    v = (y + x).relu()
    with pytest.raises(RuntimeError, match="already used"):
        v.backward()
    assert x.grad is None and v.grad is None
    v2 = (x * 5.0).relu()  # a fresh branch still works: the failed pass used up nothing of it
    v2.backward()
    assert float(x.grad) == 5.0


def test_a_hook_that_fails_leaves_the_graph_usable_after_the_fix() -> None:
    w = Tensor([1.0, -2.0], name="w")
    h = w * 2.0
    loss = (h * h).sum()
    handle = h.register_hook(lambda g: np.ones(3))  # wrong shape: the pass raises
    with pytest.raises(ValueError, match="shape"):
        loss.backward()
    assert w.grad is None and loss.grad is None
    handle.remove()
    loss.backward()  # not used up by the failed pass
    np.testing.assert_allclose(w.grad.data, 8.0 * w.data)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Value(2.0) * 10**400,
        lambda: 10**400 - Tensor([1.0, 2.0]),
        lambda: Tensor(10**400),
        lambda: Value(-(10**4000)),
    ],
)
def test_an_integer_past_float_range_is_refused_naming_the_operation(make) -> None:
    with pytest.raises(OverflowError, match=r"^(mul|sub|Tensor|Value): the integer \(about 10\*\*"):
        make()


def test_an_integer_past_int64_but_within_float_range_becomes_a_float() -> None:
    assert float(Tensor(10**30)) == 1e30
    assert float(Value(3.0) * 10**30) == 3.0 * 1e30
