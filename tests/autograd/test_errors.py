"""Bad input gives a clear error of the right type, naming the op and the shapes, with no numpy
traceback chained under it; and softmax_cross_entropy's numerics at the edges."""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd
from autograd import Tensor, ops, softmax_cross_entropy


def _raises(exc_type: type[Exception], fn: Callable[[], Any]) -> Exception:
    with pytest.raises(exc_type) as info:
        fn()
    exc = info.value
    # the engine's own message, without numpy's exception chained under it
    assert exc.__cause__ is None, f"chained cause: {exc.__cause__!r}"
    assert exc.__suppress_context__ or exc.__context__ is None, f"context: {exc.__context__!r}"
    return exc


@pytest.mark.parametrize(
    "name,f",
    [
        ("add", operator.add),
        ("sub", operator.sub),
        ("mul", operator.mul),
        ("div", operator.truediv),
        ("pow", operator.pow),
    ],
)
def test_broadcast_mismatch_names_op_and_both_shapes(name: str, f: Callable) -> None:
    a = Tensor(np.ones((2, 3)))
    b = Tensor(np.ones((4,)))
    message = str(_raises(ValueError, lambda: f(a, b)))
    assert name in message
    assert "(2, 3)" in message and "(4,)" in message
    # also with a constant array on either side
    assert "(4,)" in str(_raises(ValueError, lambda: f(a, np.ones(4))))
    assert "(2, 3)" in str(_raises(ValueError, lambda: f(np.ones(4), a)))


def test_matmul_inner_dimension_message() -> None:
    a = Tensor(np.ones((2, 3)))
    b = Tensor(np.ones((4, 5)))
    message = str(_raises(ValueError, lambda: a @ b))
    assert "matmul: (2, 3) @ (4, 5): inner dimensions 3 and 4 differ" in message


@pytest.mark.parametrize(
    "sa,sb",
    [((3,), (4,)), ((2, 3), (4,)), ((4,), (3, 2)), ((2, 2, 3), (2, 4, 5)), ((3, 2, 3), (2, 3, 4))],
)
def test_matmul_errors_name_both_shapes(sa: tuple, sb: tuple) -> None:
    message = str(_raises(ValueError, lambda: Tensor(np.ones(sa)) @ Tensor(np.ones(sb))))
    assert message.startswith("matmul:")
    assert str(sa) in message and str(sb) in message


def test_matmul_with_0d_operand() -> None:
    message = str(_raises(ValueError, lambda: Tensor(2.0) @ Tensor([1.0, 2.0])))
    assert "matmul" in message


def test_labels_vs_logits_mismatch() -> None:
    z = Tensor(np.zeros((4, 3)))
    message = str(_raises(ValueError, lambda: softmax_cross_entropy(z, np.zeros(5, dtype=int))))
    assert "(4, 3)" in message and "(5,)" in message
    _raises(ValueError, lambda: softmax_cross_entropy(z, np.zeros((4, 2))))


def test_labels_out_of_range() -> None:
    z = Tensor(np.zeros((2, 3)))
    message = str(_raises(ValueError, lambda: softmax_cross_entropy(z, [0, 3])))
    assert "0..2" in message
    _raises(ValueError, lambda: softmax_cross_entropy(z, [-1, 0]))
    _raises(ValueError, lambda: softmax_cross_entropy(z, np.array([0.5, 1.0])))  # not whole
    _raises(ValueError, lambda: softmax_cross_entropy(Tensor(1.0), 0))  # no class axis


@pytest.mark.parametrize(
    "target", [np.zeros(0, dtype=int), np.zeros((0, 3)), Tensor(np.zeros((0, 3)))]
)
def test_an_empty_batch_has_no_mean_loss(target: Any) -> None:
    """Logits of shape (0, 3) gave loss 0.0 (−0.0 for one-hot rows) and an empty gradient: a
    mean over no rows, which `mean` and torch's cross_entropy give as nan. As the layer does,
    the op refuses it (x[:0], a slice past the end, learns nothing)."""
    z = Tensor(np.zeros((0, 3)))
    message = str(_raises(ValueError, lambda: softmax_cross_entropy(z, target)))
    assert message.startswith("softmax_cross_entropy: the batch is empty")
    assert "(0, 3)" in message
    labels = np.zeros((2, 0), dtype=int)
    _raises(ValueError, lambda: softmax_cross_entropy(Tensor(np.zeros((2, 0, 3))), labels))


@pytest.mark.parametrize(
    "index,reason",
    [
        (1.5, "only integers, slices"),
        ([0.5], "must be of integer (or boolean) type"),
        (slice(0.5, 2), "slice indices must be integers"),
        ((Ellipsis, Ellipsis), "a single ellipsis"),
        (5, "index 5 is out of bounds for axis 0 with size 2"),
    ],
)
def test_a_bad_index_is_named_with_numpy_s_reason(index: Any, reason: str) -> None:
    """A float index read only "getitem: index 1.5 does not fit shape (2, 3)": the reason
    (positions are whole numbers) was dropped with numpy's message."""
    t = Tensor(np.zeros((2, 3)))
    message = str(_raises((IndexError, TypeError), lambda: t[index]))
    assert message.startswith(f"getitem: index {_plain_repr(index)} does not fit shape (2, 3): ")
    assert reason in message


def _plain_repr(index: Any) -> str:
    return repr(np.asarray(index)) if isinstance(index, list) else repr(index)


def test_labels_out_of_range_are_named_as_given() -> None:
    """The range quoted the labels' intp cast: 1e30 and 2**63 read as -9223372036854775808,
    and a float past intp's range warned `invalid value encountered in cast` first."""
    z = Tensor(np.zeros((2, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        message = str(_raises(ValueError, lambda: softmax_cross_entropy(z, [1e30, 2.0])))
    assert "got values from 2.0 to 1e+30" in message
    big = np.array([2**63, 1], dtype=np.uint64)
    message = str(_raises(ValueError, lambda: softmax_cross_entropy(z, big)))
    assert "got values from 1 to 9223372036854775808" in message
    message = str(_raises(ValueError, lambda: softmax_cross_entropy(z, [0, -1])))
    assert "got values from -1 to 0" in message


@pytest.mark.parametrize(
    "exc_type,fn,needle",
    [
        (ValueError, lambda: Tensor(np.ones(6)).reshape(4, 2), "reshape"),
        (ValueError, lambda: Tensor(np.ones((2, 3))).transpose(0, 0), "transpose"),
        (ValueError, lambda: Tensor(np.ones((2, 3))).sum(axis=2), "sum"),
        (ValueError, lambda: Tensor(np.ones((2, 3))).mean(axis=-3), "mean"),
        (ValueError, lambda: Tensor(np.ones((2, 3))).max(axis=(0, 5)), "max"),
        (ValueError, lambda: Tensor(np.ones((0,))).max(), "empty"),
        (IndexError, lambda: Tensor(np.ones(3))[5], "getitem"),
        (IndexError, lambda: Tensor(np.ones(3))[[0, 7]], "getitem"),
        (ValueError, lambda: ops.broadcast_to(Tensor(np.ones(3)), (2, 4)), "broadcast"),
        (ValueError, lambda: autograd.softmax(Tensor(1.0)), "softmax"),
        (ValueError, lambda: autograd.log_softmax(Tensor([1.0]), axis=1), "log_softmax"),
        (TypeError, lambda: Tensor([1.0]) + "a", ""),
        (ValueError, lambda: Tensor([1.0]) + [[1.0, 2.0], [3.0]], "rectangular"),
        (TypeError, lambda: ops.binary(ops.ADD, 1.0, 2.0), "Tensor"),
    ],
    ids=[
        "reshape",
        "transpose",
        "sum axis",
        "mean axis",
        "max axis",
        "max empty",
        "index",
        "array index",
        "broadcast_to",
        "softmax 0-d",
        "log_softmax axis",
        "string operand",
        "ragged operand",
        "no tensor",
    ],
)
def test_bad_input_errors(exc_type: type[Exception], fn: Callable, needle: str) -> None:
    assert needle in str(_raises(exc_type, fn))


def test_backward_errors_are_clear() -> None:
    y = Tensor([1.0, 2.0]) * 3
    message = str(_raises(RuntimeError, y.backward))
    assert "(2,)" in message
    _raises(ValueError, lambda: y.backward(np.ones((2, 2))))


# --- softmax_cross_entropy numerics -----------------------------------------------------------
def test_large_logit_gap_gives_exact_loss_not_the_books_cap() -> None:
    z = Tensor([[0.0, 2000.0], [2000.0, 0.0]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])  # both rows put the label on the small logit
    loss = softmax_cross_entropy(z, t)
    assert loss.item() == pytest.approx(2000.0)  # the book's log(y + 1e-7) caps this at 16.1
    loss.backward()
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(z.grad.data, (y - t) / 2, atol=1e-12)
    assert np.all(np.isfinite(z.grad.data))

    zl = Tensor([[0.0, 2000.0], [2000.0, 0.0]])
    loss_labels = softmax_cross_entropy(zl, [0, 1])
    assert loss_labels.item() == pytest.approx(2000.0)
    loss_labels.backward()
    np.testing.assert_allclose(zl.grad.data, (y - t) / 2, atol=1e-12)


def test_cross_entropy_matches_definition() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    z = Tensor(logits)
    loss = softmax_cross_entropy(z, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss.item() == pytest.approx(-np.mean(np.log(p[np.arange(5), labels])))
    loss.backward()
    np.testing.assert_allclose(z.grad.data, (p - np.eye(4)[labels]) / 5, rtol=1e-10)


def test_cross_entropy_1d_logits() -> None:
    z = Tensor([1.0, 2.0, 3.0])
    loss = softmax_cross_entropy(z, 2)
    p = np.exp(z.data) / np.exp(z.data).sum()
    assert loss.item() == pytest.approx(-np.log(p[2]))
    loss.backward()
    np.testing.assert_allclose(z.grad.data, p - [0.0, 0.0, 1.0])


def test_softmax_is_stable_for_large_inputs() -> None:
    x = Tensor([1000.0, 1001.0, -1000.0])
    y = autograd.softmax(x)
    assert np.all(np.isfinite(y.data))
    np.testing.assert_allclose(y.data.sum(), 1.0)
    ls = autograd.log_softmax(x)
    assert np.all(np.isfinite(ls.data))


def test_numpy_reductions_accept_tensors() -> None:
    """Book code such as `np.sum(W ** 2)` keeps working when W is a Tensor."""
    t = Tensor([[1.0, 3.0], [2.0, 0.0]])
    assert np.sum(t**2).item() == 14.0
    assert np.mean(t).item() == 1.5
    np.testing.assert_array_equal(np.max(t, axis=0).data, [2.0, 3.0])
    with pytest.raises(TypeError, match=r"sum: out= is not supported on a Tensor"):
        np.sum(t, out=np.zeros(()))


def test_a_tensor_is_refused_as_an_index() -> None:
    """A Tensor holds floats (a bool mask becomes 0/1), so it would pick rows 0 and 1."""
    x = Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match=r"getitem: index with numpy arrays, not a Tensor"):
        x[Tensor(x.data > 2, requires_grad=False)]
    np.testing.assert_array_equal(x[x.data > 2].data, [3.0, 4.0, 5.0])


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Tensor(np.ones((2, 3))).transpose(0, 3), ValueError, r"transpose: axis 3"),
        (lambda: Tensor(np.ones((2, 3))).transpose(0, 0), ValueError, r"repeats an axis"),
        (lambda: Tensor(np.ones((2, 3))).transpose(0), ValueError, r"each of the 2 axes"),
        (lambda: Tensor(np.ones((2, 3))).sum(axis=1.0), TypeError, r"sum: axis must be an int"),
        (lambda: Tensor(3.0).sum(axis=0), ValueError, r"sum: axis 0 is out of range"),
        (lambda: Tensor(np.ones(3)).max(axis=(0, 0)), ValueError, r"max: .*repeats"),
    ],
)
def test_bad_axes_are_refused(make: Callable[[], Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message) as info:
        make()
    assert info.value.__cause__ is None
