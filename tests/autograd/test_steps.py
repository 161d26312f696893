"""`backward_steps`: the engine's own backward loop, step by step, with no side effects."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd.testing as agt
from autograd import Tensor, Value, backward_steps, softmax_cross_entropy


def _apple_orange() -> tuple[Value, dict[str, Value]]:
    leaves = {
        "apple": Value(100, "apple"),
        "num": Value(2, "num"),
        "orange": Value(150, "orange"),
        "orange_num": Value(3, "orange_num"),
        "tax": Value(1.1, "tax"),
    }
    v = leaves
    price = (v["apple"] * v["num"] + v["orange"] * v["orange_num"]) * v["tax"]
    return price, leaves


def _sent(step) -> list[tuple[str, float | None, float]]:
    return [
        (s.input.name or s.input.op.name, s.local, round(float(s.gradient), 10)) for s in step.sent
    ]


def test_apple_orange_steps_are_the_books_gate_by_gate_walk() -> None:
    price, leaves = _apple_orange()
    steps = backward_steps(price)
    assert [s.node.op.name for s in steps] == ["mul", "add", "mul", "mul"]
    assert [float(s.upstream) for s in steps] == pytest.approx([1, 1.1, 1.1, 1.1])
    first, second, third, fourth = steps
    assert _sent(first) == [("add", pytest.approx(1.1), 1.1), ("tax", pytest.approx(650), 650)]
    assert [s.gradient for s in second.sent] == [pytest.approx(1.1), pytest.approx(1.1)]
    assert _sent(third) == [
        ("orange", pytest.approx(3), 3.3),
        ("orange_num", pytest.approx(150), 165.0),
    ]
    assert _sent(fourth) == [("apple", pytest.approx(2), 2.2), ("num", pytest.approx(100), 110.0)]
    assert [s.number for s in steps] == [1, 2, 3, 4]
    assert all(t.grad is None for t in leaves.values()) and price.grad is None


def test_steps_do_not_use_up_the_graph_and_match_backward_exactly() -> None:
    price, leaves = _apple_orange()
    steps = backward_steps(price)
    price.backward()
    again = backward_steps(price)  # after backward, still readable
    finals = {id(s.input): s.total for step in steps for s in step.sent}
    for leaf in leaves.values():
        assert float(finals[id(leaf)]) == float(leaf.grad)  # the same floats, bit for bit
    assert [float(s.upstream) for s in again] == [float(s.upstream) for s in steps]


def test_a_value_used_three_times_shows_the_running_sum() -> None:
    x = Value(2.0, "x")
    a = x * x
    y = a * x
    steps = backward_steps(y)
    to_x = [s for step in steps for s in step.sent if s.input is x]
    assert [float(s.gradient) for s in to_x] == [4.0, 4.0, 4.0]
    assert [float(s.total) for s in to_x] == [4.0, 8.0, 12.0]
    assert [(s.arrival, s.arrivals) for s in to_x] == [(1, 3), (2, 3), (3, 3)]


def test_tensor_steps_have_shapes_and_no_scalar_local() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 3)), requires_grad=False, name="x")
    W = Tensor(rng.normal(size=(3, 4)), name="W")
    b = Tensor(np.zeros(4), name="b")
    loss = softmax_cross_entropy((x @ W + b).relu(), np.array([1, 2]))
    steps = backward_steps(loss)
    assert [s.node.op.name for s in steps] == ["softmax_cross_entropy", "relu", "add", "matmul"]
    sent = {s.input.name: s for step in steps for s in step.sent if s.input.name}
    assert set(sent) == {"W", "b"}  # x needs no gradient
    assert sent["W"].gradient.shape == (3, 4) and sent["b"].gradient.shape == (4,)
    assert sent["W"].local is None
    loss.backward()
    np.testing.assert_array_equal(sent["W"].total, W.grad.data)
    np.testing.assert_array_equal(sent["b"].total, b.grad.data)


def test_recorded_arrays_are_read_only_copies() -> None:
    x = Tensor([1.0, 2.0])
    (step,) = backward_steps((x * 3).sum())[1:]
    with pytest.raises(ValueError):
        step.sent[0].gradient[0] = 5


def test_steps_need_a_tracked_root() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        backward_steps(Tensor(1.0, requires_grad=False) * 2)


@settings(max_examples=25, deadline=None)
@given(agt.tensors(agt.shapes(max_dims=2), low=-2.0, high=2.0), st.integers(1, 3))
def test_final_totals_equal_backward_for_fan_out(x: Tensor, uses: int) -> None:
    y = x
    for k in range(uses):
        y = y * x + k
    loss = (y.tanh() * 1.5).sum()
    steps = backward_steps(loss)
    loss.backward()
    last = [s for step in steps for s in step.sent if s.input is x][-1]
    np.testing.assert_array_equal(last.total, x.grad.data)
    assert last.arrival == last.arrivals
