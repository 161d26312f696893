"""The float pass (backward on Python floats for graphs of `Value`s) and the float forward.

Both must give exactly what the general, Tensor-building pass gives: the same numbers bit for
bit (NaN and inf included), the same warnings, the same errors; and the general pass must run
whenever a feature it alone has is in play (hooks, anomaly mode, steps, create_graph,
autograd.grad, float32, mixed Tensor graphs).
"""

from __future__ import annotations

import copy
import math
import pickle
import threading
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Tensor, Value, no_grad, ops
from autograd import tensor as engine
from autograd.floats import float_forward, float_vjps, source

BINARY = ["add", "sub", "mul", "div", "pow"]
UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "softplus"]
NUMBERS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.0, -1.0, 0.5, math.nan, math.inf, -math.inf, 1e300]),
    st.floats(-3, 3),
)
FLOAT32_NUMBERS = st.floats(-3, 3, width=32).map(np.float32)


@pytest.fixture
def float_passes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each backward's float pass answered (True: it did the pass)."""
    answers: list[bool] = []
    real = engine._backpropagate_floats

    def spy(*args: object) -> bool:
        answers.append(real(*args))  # type: ignore[arg-type]
        return answers[-1]

    monkeypatch.setattr(engine, "_backpropagate_floats", spy)
    return answers


# --- random scalar programs -------------------------------------------------------------------
@st.composite
def programs(draw: st.DrawFn) -> tuple[list[tuple[float, bool]], list[tuple]]:
    """Leaves (value, requires_grad) and steps: (op, operand, operand) over earlier values, a
    Python or float32 number standing in for an operand now and then; reuse gives fan-out."""
    leaves = draw(st.lists(st.tuples(NUMBERS, st.booleans()), min_size=1, max_size=3))
    leaves[0] = (leaves[0][0], True)
    steps = []
    for k in range(draw(st.integers(1, 10))):
        available = len(leaves) + k
        pick = st.one_of(
            st.integers(0, available - 1),
            NUMBERS.map(lambda v: ("number", v)),
            FLOAT32_NUMBERS.map(lambda v: ("number", v)),  # a constant in its own dtype
        )
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(BINARY)), draw(pick), draw(pick)))
        else:
            steps.append((draw(st.sampled_from(UNARY)), draw(st.integers(0, available - 1))))
    return leaves, steps


def run(program: tuple, *, general: bool) -> tuple[list[Tensor], list[tuple]]:
    """Build the program, backward from its last value; every value and the warnings raised.
    `general=True` registers a hook that changes nothing, which needs the general pass."""
    leaves, steps = program
    values: list[Tensor] = [Value(v, requires_grad=r) for v, r in leaves]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, *operands in steps:
            args = [o[1] if isinstance(o, tuple) else values[o] for o in operands]
            if not any(isinstance(a, Tensor) for a in args):
                args[0] = values[0]
            fn = getattr(ops, name)
            values.append(fn(*args))
        root = values[len(leaves)]
        for v in values[len(leaves) + 1 :]:  # every step reaches the root
            root = root + v
        if root.requires_grad:
            if general:
                root.register_hook(lambda g: None)
            root.backward()
    return values, [(w.category, str(w.message)) for w in caught]


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit for bit: NaN equals NaN, -0.0 differs from 0.0."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=300)
@given(programs())
def test_float_pass_gives_the_general_pass_gradients(program: tuple) -> None:
    fast, fast_warnings = run(program, general=False)
    slow, slow_warnings = run(program, general=True)
    assert fast_warnings == slow_warnings
    for f, s in zip(fast, slow, strict=True):
        assert same(f.data, s.data)
        if f.op is not None:  # the forward (Python floats where it can) is numpy's result
            with np.errstate(all="ignore"):
                assert same(np.asarray(f.op.forward(*(i.data for i in f.inputs))), f.data)
        assert (f.grad is None) == (s.grad is None)
        if s.grad is not None:
            assert type(f.grad) is type(s.grad) is Value
            assert same(f.grad.data, s.grad.data), (f, s)


@settings(max_examples=200)
@given(st.sampled_from(["add", "sub", "mul", "div"]), NUMBERS, NUMBERS)
def test_float_forward_is_numpys_result_with_numpys_warnings(name: str, a: float, b: float) -> None:
    op = ops.REGISTRY[name]
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        want = np.asarray(op.forward(np.asarray(a), np.asarray(b)))
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = getattr(ops, name)(Value(a), Value(b))
    assert same(out.data, want)
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]


# --- when the float pass runs ---------------------------------------------------------------
def micrograd_neuron() -> tuple[list[Value], Value]:
    w = [Value(0.5), Value(-1.5)]
    b = Value(0.1)
    x = [Value(2.0, requires_grad=False), Value(3.0, requires_grad=False)]
    act = b
    for wi, xi in zip(w, x, strict=True):
        act = act + wi * xi
    loss = (1 + -1.0 * act).relu() + 1e-4 * (w[0] * w[0] + w[1] * w[1]) + act**2 / 4
    return [*w, b], loss


def test_a_micrograd_style_step_takes_the_float_pass(float_passes: list[bool]) -> None:
    params, loss = micrograd_neuron()
    loss.backward()
    assert float_passes == [True]
    # the gradients a learner reads: Values holding 0-d float64 arrays, kept on reread
    for p in params:
        assert type(p.grad) is Value and type(p.grad.data) is np.ndarray
        assert p.grad.data.shape == () and p.grad.dtype == np.float64
        assert p.grad is p.grad
    params[0].grad.data[...] = 7.0  # a write to .data persists
    assert params[0].grad.item() == 7.0
    assert loss.grad.item() == 1.0  # the root and every intermediate carry gradients too


def test_float_pass_numbers_are_the_chain_rules() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a / b - a**2 + b.exp().log() + a.tanh() * b.sigmoid()
    c.backward()
    sigmoid_b = 1 / (1 + math.exp(3))
    expected = -3 + 1 / -3 - 2 * 2 + (1 - math.tanh(2) ** 2) * sigmoid_b
    assert a.grad.item() == pytest.approx(expected)
    assert "grad=" in repr(a)


@pytest.mark.parametrize(
    "setup",
    [
        "hook",
        "create_graph",
        "anomaly",
        "anomaly_argument",
        "steps",
        "grad",
        "float32",
        "tensor_leaf",
        "grad_output",
    ],
)
def test_the_general_pass_runs_for_its_features(setup: str, float_passes: list[bool]) -> None:
    x = Value(np.float32(2.0)) if setup == "float32" else Value(2.0)
    w = Tensor(3.0) if setup == "tensor_leaf" else Value(3.0)
    y = x * w + x
    if setup == "hook":
        seen = []
        x.register_hook(lambda g: seen.append(g.item()))
        y.backward()
        assert seen == [4.0]
    elif setup == "create_graph":
        y.backward(create_graph=True)
        assert x.grad.requires_grad
    elif setup == "anomaly":
        with autograd.detect_anomaly():
            y.backward()
    elif setup == "anomaly_argument":
        y.backward(detect_anomaly=True)
    elif setup == "steps":
        assert len(autograd.backward_steps(y)) == 2
    elif setup == "grad":
        assert autograd.grad(y, [x])[0].item() == 4.0
    elif setup == "grad_output":
        y.backward(2.0)
        assert x.grad.item() == 8.0
    else:
        y.backward()
    assert float_passes in ([], [False])
    if setup not in ("steps", "grad", "grad_output"):
        assert x.grad.item() == 4.0


def test_second_order_through_a_value_graph() -> None:
    x = Value(3.0)
    y = x**3
    (g,) = autograd.grad(y, x, create_graph=True)
    g.backward()  # d/dx 3x² = 6x, by the float pass over g's graph
    assert g.item() == 27.0 and x.grad.item() == 18.0


def test_in_place_write_is_refused_as_before(float_passes: list[bool]) -> None:
    a, b = Value(2.0), Value(3.0)
    y = a * b
    with no_grad():
        b += 1
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()
    assert a.grad is None  # nothing half-written
    assert float_passes == [False]


def test_used_up_graph_is_refused_as_before() -> None:
    a = Value(2.0)
    y = a * a
    y.backward()
    with pytest.raises(RuntimeError, match="already used by an earlier backward"):
        y.backward()
    assert a.grad.item() == 4.0


def test_retain_graph_accumulates(float_passes: list[bool]) -> None:
    a = Value(2.0)
    y = a * a + a
    y.backward(retain_graph=True)
    y.backward()
    assert a.grad.item() == 10.0 and float_passes == [True, True]


def test_accumulating_onto_a_gradient_set_by_hand_follows_dtype_rules() -> None:
    a = Value(2.0)
    a.grad = np.float32(0.1)  # a float32 gradient: adding a float64 one gives float64
    (a * 3).backward()
    assert a.grad.dtype == np.float64
    assert a.grad.item() == np.float64(np.float32(0.1)) + 3.0


def test_gradient_sums_past_the_largest_float_warn_as_numpy_does(
    float_passes: list[bool],
) -> None:
    a = Value(1e-300)
    y = a * 1e308 + a * 1e308  # 2e8, but a's two shares of 1e308 add up past the largest float
    with pytest.warns(RuntimeWarning, match="overflow encountered in add"):
        y.backward(retain_graph=True)
    assert a.grad.item() == math.inf and float_passes == [False]
    b = Value(1.0)
    z = b * 1e308
    z.backward(retain_graph=True)
    with pytest.warns(RuntimeWarning, match="overflow encountered in add"):
        z.backward()  # 1e308 + 1e308 into the stored b.grad
    assert b.grad.item() == math.inf and float_passes == [False, True, True]


def test_non_finite_gradients_come_from_the_general_pass_with_its_warning(
    float_passes: list[bool],
) -> None:
    x = Value(0.0)
    y = x.sqrt()  # d/dx √x at 0 is 1/0: numpy says so once, and the gradient is inf
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        y.backward()
    assert x.grad.item() == math.inf and float_passes == [False]


def test_gradients_survive_copies_and_pickles() -> None:
    params, loss = micrograd_neuron()
    loss.backward()
    for clone in (copy.deepcopy(params[0]), pickle.loads(pickle.dumps(params[0]))):
        assert type(clone.grad) is Value and clone.grad.item() == params[0].grad.item()


def test_float_pass_in_a_thread_while_another_records_nothing() -> None:
    results = []

    def worker() -> None:
        params, loss = micrograd_neuron()
        loss.backward()
        results.append(params[0].grad.item())

    with no_grad():  # this thread's switch only
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    params, loss = micrograd_neuron()
    loss.backward()
    assert results == [params[0].grad.item()]


# --- the generated functions ------------------------------------------------------------------
def test_float_vjps_are_written_from_the_op_table() -> None:
    assert source(ops.MUL, 0) == (
        "def mul_vjp_x(g, out, x, y):\n    y = y._data.item()\n    v0 = g * y\n    return v0\n"
    )
    assert source(ops.ADD, 1) == "def add_vjp_y(g, out, x, y):\n    return g\n"
    assert "x > 0" in source(ops.RELU, 0)  # relu's mask, from the step op's code template
    assert "log_(" in source(ops.POW, 1)  # not plain arithmetic: numpy's own log
    for op in (ops.SUM, ops.MATMUL, ops.RESHAPE, ops.SOFTMAX):
        assert float_vjps(op) is None
        with pytest.raises(ValueError, match="no float VJPs"):
            source(op, 0)


def test_float_forwards_only_for_plain_arithmetic() -> None:
    assert float_forward(ops.ADD)(1.5, 2.0) == 3.5
    assert float_forward(ops.DIV)(1.0, 4.0) == 0.25
    for op in (ops.POW, ops.EXP, ops.RELU, ops.STEP, ops.MATMUL, ops.SUM):
        assert float_forward(op) is None  # numpy's own forward, or a bool mask


def test_float_passes_in_several_threads_at_once_give_the_serial_gradients(
    run_threads: Callable[..., None],
) -> None:
    def gradients(seed: int) -> list[float]:
        rng = np.random.default_rng(seed)
        xs = [Value(v) for v in rng.uniform(-2, 2, size=4)]
        y = xs[0]
        for i, pick in enumerate(rng.integers(0, 4, size=600)):
            a = xs[pick]
            y = (y * a + a).tanh() if i % 3 == 0 else y * 0.999 + a * 0.001
        y.backward()
        return [x.grad.item() for x in xs]

    serial = [gradients(seed) for seed in range(4)]
    found: dict[int, list[list[float]]] = {seed: [] for seed in range(4)}

    def work(seed: int) -> None:
        for _ in range(3):
            found[seed].append(gradients(seed))

    run_threads(work, [(seed,) for seed in range(4)])
    assert found == {seed: [serial[seed]] * 3 for seed in range(4)}


def test_the_random_programs_use_every_op_with_float_vjps() -> None:
    """A new op with a float form joins the equivalence test above (the masks have zero
    derivatives and never need a gradient of their own)."""
    with_floats = {op.name for op in ops.REGISTRY.values() if float_vjps(op) is not None}
    masks = {"step", "equal_zero", "both_zero", "sign"}
    assert with_floats - masks == set(BINARY + UNARY)


# --- found by attacking the float pass ------------------------------------------------------
class ComparedByValue(Value):
    """A learner's Value subclass: `==` (and so hashing, or no hashing) by the number held."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tensor) and float(self) == float(other)

    def __hash__(self) -> int:
        return hash(float(self))


class ComparedByValueUnhashable(Value):
    __slots__ = ()

    def __eq__(self, other: object) -> bool:  # no __hash__: Python makes it unhashable
        return isinstance(other, Tensor) and float(self) == float(other)


@pytest.mark.parametrize("kind", [ComparedByValue, ComparedByValueUnhashable])
def test_backward_does_not_use_a_subclass_s_own_equality(kind: type[Value]) -> None:
    """The engine tells tensors apart by identity, whatever `==` and hash() a subclass gives:
    two leaves holding the same number are two leaves (as on main before the float pass)."""
    a, b = kind(2.0), kind(2.0)
    y = a * b * Value(3.0)
    y.backward()
    assert a.grad.item() == b.grad.item() == 6.0
    c = kind(5.0)
    z = Value(1.5) * c  # a plain Value root over a subclass leaf: the float pass looks, then not
    z.backward()
    assert c.grad.item() == 1.5


@pytest.mark.parametrize(
    ("name", "a", "b"),
    [("mul", 1e-200, 1e-200), ("div", 1e-300, 1e10), ("mul", 3e-308, 0.5), ("div", 5e-324, 3.0)],
)
@pytest.mark.parametrize("under", ["warn", "raise"])
def test_float_forward_underflows_as_numpy_does_where_np_seterr_asks(
    name: str, a: float, b: float, under: str
) -> None:
    """numpy ignores underflow by default, but a learner may ask for it (np.seterr(all=...))."""
    op = ops.REGISTRY[name]
    with np.errstate(under=under), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if under == "raise":
            with pytest.raises(FloatingPointError, match="underflow"):
                op.forward(np.asarray(a), np.asarray(b))
            with pytest.raises(FloatingPointError, match="underflow"):
                getattr(ops, name)(Value(a), Value(b))
        else:
            want = np.asarray(op.forward(np.asarray(a), np.asarray(b)))
            out = getattr(ops, name)(Value(a), Value(b))
            assert same(out.data, want)
            numpy_said, we_said = (str(w.message) for w in caught)
            assert numpy_said == we_said and numpy_said.startswith("underflow encountered")


def test_float_pass_underflows_as_the_general_pass_where_np_seterr_asks(
    float_passes: list[bool],
) -> None:
    def gradient(general: bool) -> tuple[float, list[str]]:
        a = Value(1.0)
        y = (a * 1e-200) * 1e-200  # a's gradient 1e-200 * 1e-200 underflows to 0
        if general:
            y.register_hook(lambda g: None)
        with np.errstate(under="warn"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y.backward()
        return a.grad.item(), [str(w.message) for w in caught]

    assert (
        gradient(general=False)
        == gradient(general=True)
        == (0.0, ["underflow encountered in multiply"])
    )
    assert float_passes == [False, False]


def test_a_removed_hook_leaves_the_float_pass_to_run(float_passes: list[bool]) -> None:
    a = Value(2.0)
    y = a * a
    handle = a.register_hook(lambda g: g * 10)
    handle.remove()
    y.backward()
    assert a.grad.item() == 4.0 and float_passes == [True]


@pytest.mark.parametrize("general", [False, True])
def test_backward_in_several_threads_into_one_shared_leaf_loses_no_gradient(
    general: bool, run_threads: Callable[..., None]
) -> None:
    """Each thread's graph is its own; the leaf's .grad is shared, and every share lands."""
    leaf = Value(1.0)
    rounds, workers = 400, 4

    def work() -> None:
        for _ in range(rounds):
            y = (leaf * 2.0 + leaf) * 1.0
            if general:
                y.register_hook(lambda g: None)
            y.backward()

    run_threads(work, [()] * workers, switch_often=True)
    assert leaf.grad.item() == 3.0 * rounds * workers


@pytest.mark.parametrize(
    "make",
    [
        lambda a: np.float32(3.0) ** a,  # pow's VJP for a takes log of the float32 3
        lambda a: a ** np.float32(0.1),  # and for a, y - 1 in float32
        lambda a: a ** Value(np.float32(0.1), requires_grad=False),
        lambda a: np.float16(1.5) ** (a * 2.0) + a,
    ],
)
def test_a_float32_constant_gives_the_general_pass_gradient(make: Callable) -> None:
    """A constant of a lower precision is computed with in its dtype by the general pass (as
    main did before the float pass); the float pass must not do those VJPs in float64."""

    def gradient(general: bool) -> bytes:
        a = Value(2.0)
        y = make(a)
        if general:
            y.register_hook(lambda g: None)
        y.backward()
        assert type(a.grad) is Value and a.grad.dtype == np.float64
        return a.grad.data.tobytes()

    assert gradient(general=False) == gradient(general=True)


def test_a_vjp_reading_values_off_the_record_is_not_written_as_a_number() -> None:
    """A VJP computing its mask from `x.data` (not recorded) would be written with the mask's
    value at the sample points baked in; sampled at a negative x too, it is left alone."""
    relu_off_record = ops.Op(
        "relu_off_record",
        "relu",
        lambda x: np.maximum(x, 0),
        (lambda g, out, x: g * (x.data > 0),),
        ("1 if {x} > 0 else 0",),
        ("{g} where {x} > 0, else 0",),
        code=("np.maximum({x}, 0)", "max({x}, 0.0)"),
    )
    assert float_vjps(relu_off_record) is None
    x = Value(-1.0)
    y = ops.apply(relu_off_record, (x,)) + x
    y.backward()
    assert x.grad.item() == 1.0  # 0 through the relu, 1 from + x


def test_a_number_set_as_a_value_s_gradient_is_a_value() -> None:
    """micrograd's zero_grad is `p.grad = 0`: the gradient reads back as a Value, as one
    stored by backward does (so it prints and behaves alike before and after a step)."""
    p = Value(2.0)
    p.grad = 0
    assert type(p.grad) is Value and p.grad.item() == 0.0
    (p * 3.0).backward()
    assert type(p.grad) is Value and p.grad.item() == 3.0
    t = Tensor([1.0, 2.0])
    t.grad = [0.5, 0.5]
    assert type(t.grad) is Tensor


def test_an_op_of_one_s_own_with_params_takes_the_general_pass() -> None:
    """An `Op` whose VJP reads its params by name (a KeyError without them) has no float form;
    backward must not fail trying to write one."""
    scale = ops.Op(
        "scale_by",
        "×",
        lambda x, **params: x * params["by"],
        (lambda g, out, x, **params: g * params["by"],),
        ("{by}",),
        ("{g} × {by}",),
    )
    assert float_vjps(scale) is None
    x = Value(2.0)
    y = ops.apply(scale, (x,), {"by": 3.0}) + x
    y.backward()
    assert x.grad.item() == 4.0
