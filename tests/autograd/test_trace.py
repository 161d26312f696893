"""`autograd.trace`: programs that compute what eager mode computes, readable as the book.

Equivalence is checked on every op's property-test cases (tests/autograd/test_op_gradients.py,
built on autograd.testing's strategies), run on *new* inputs (the examples' values moved
around), at first order and second order (fn itself calls autograd.grad with create_graph).
"""

from __future__ import annotations

import copy
import importlib.util
import math
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import autograd.testing as agt
from autograd import Tensor, TraceError, Value

_spec = importlib.util.spec_from_file_location(
    "trace_op_cases", Path(__file__).with_name("test_op_gradients.py")
)
op_cases = importlib.util.module_from_spec(_spec)
sys.modules["trace_op_cases"] = op_cases  # dataclasses look their module up there
_spec.loader.exec_module(op_cases)  # type: ignore[union-attr]
CASES = op_cases.CASES


# --- helpers ----------------------------------------------------------------------------------
def _moved(inputs: tuple[Any, ...], seed: int) -> tuple[Any, ...]:
    """New inputs of the same shapes and domains: each tensor's values shuffled (so relu masks,
    argmaxes and signs move), 0-d ones kept."""
    rng = np.random.default_rng(seed)
    moved = []
    for t in inputs:
        if isinstance(t, Tensor):
            data = t.data.copy()
            if data.ndim:
                flat = data.reshape(-1)
                flat[:] = rng.permutation(flat)
            moved.append(Tensor(data, requires_grad=t.requires_grad, name=t.name))
        else:
            moved.append(t)
    return tuple(moved)


def _eager(fn: Any, inputs: tuple[Any, ...], dout: np.ndarray | None) -> tuple[Any, list]:
    out = fn(*inputs)
    tracked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    grads: list[Any] = [None] * len(inputs)
    if tracked and out.requires_grad:
        found = autograd.grad(out, tracked, dout)
        k = 0
        for i, t in enumerate(inputs):
            if isinstance(t, Tensor) and t.requires_grad:
                grads[i] = found[k].data
                k += 1
    elif tracked:
        for i, t in enumerate(inputs):
            if isinstance(t, Tensor) and t.requires_grad:
                grads[i] = np.zeros_like(t.data)
    return out, grads


def _untraceable(fn: Any, inputs: tuple[Any, ...]) -> bool:
    """Does fn's graph hold what trace must refuse: an array (or a grad-requiring leaf) that is
    not an input, or an op parameter that is an array (labels, index arrays)?"""
    fresh = op_cases._fresh(inputs)
    for t in fresh:  # as in a trace, where every input records
        if isinstance(t, Tensor):
            t.requires_grad = True
    with autograd.enable_grad():
        out = fn(*fresh)
    ids = {id(t) for t in fresh if isinstance(t, Tensor)}
    datas = {id(t.data) for t in fresh if isinstance(t, Tensor)}
    stack, seen = [out], set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        for value in t.params.values():
            parts = value if isinstance(value, tuple) else (value,)
            if any(isinstance(p, np.ndarray) for p in parts):
                return True
        if t.op is None and id(t) not in ids and id(t.data) not in datas:
            if t.ndim > 0 or t.requires_grad:
                return True
        stack.extend(t.inputs)
    return False


def _close(got: Any, want: Any, dtype: np.dtype, label: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{label}: dtype {got.dtype} != {want.dtype}"
    tol = 2e-4 if dtype == np.float32 else 1e-9
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale, err_msg=label)


def _check_case(fn: Any, inputs: tuple[Any, ...], label: str, seed: int) -> None:
    try:
        program = autograd.trace(fn, *op_cases._fresh(inputs))
    except TraceError as exc:
        assert _untraceable(fn, inputs), f"{label}: refused without cause: {exc}"
        return
    new = _moved(inputs, seed)
    with np.errstate(all="ignore"):
        out = fn(*op_cases._fresh(new))
    dout = None if out.ndim == 0 else op_cases._weights(out.shape).astype(out.dtype)
    with np.errstate(all="ignore"):
        out, want = _eager(fn, op_cases._fresh(new), dout)
        got_out, got = program(*[t.data if isinstance(t, Tensor) else t for t in new], dout=dout)
    _close(got_out, out.data, out.dtype, f"{label}: output")
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if w is None:
            assert g is None, f"{label}: a gradient for input {i}, which is data"
        else:
            _close(g, w, w.dtype, f"{label}: gradient {i}")


# --- equivalence with eager mode ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_program_matches_eager_on_new_inputs(name: str, data: st.DataObject, seed: int) -> None:
    case = data.draw(CASES[name](), label="case")
    _check_case(case.fn, case.inputs, case.label, seed)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=10)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_second_order_programs_match_eager(name: str, data: st.DataObject, seed: int) -> None:
    """fn computes first gradients with create_graph=True (seeded by an input, so the seed's
    arithmetic is recorded too); the program differentiates them again."""
    case = data.draw(CASES[name](), label="case")
    positions = [i for i, t in enumerate(case.inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        return
    with np.errstate(all="ignore"):
        example = case.fn(*op_cases._fresh(case.inputs))
    w = Tensor(op_cases._weights(example.shape).astype(example.dtype), name="w")

    def first_gradients(*xs: Any) -> Tensor:
        *xs, w = xs
        out = case.fn(*xs)
        if not out.requires_grad:
            return (xs[positions[0]] * 0.0).sum() + (w * 0.0).sum()
        grads = autograd.grad(out, [xs[i] for i in positions], w, create_graph=True)
        return sum((g * g).sum() for g in grads)

    _check_case(first_gradients, (*case.inputs, w), f"second order of {case.label}", seed)


@given(
    agt.broadcastable_shapes(3).flatmap(
        lambda s: st.tuples(*(agt.tensors(shape, dtype=agt.float_dtypes()) for shape in s))
    ),
    st.integers(0, 2**16),
)
def test_fan_out_and_broadcasting(xs: tuple[Tensor, ...], seed: int) -> None:
    def fn(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
        h = a * b + c  # broadcast three ways
        return (h * h.tanh() + h.exp() * a - c.sigmoid() * h).sum()

    _check_case(fn, xs, "fan-out", seed)


@given(
    agt.shapes(min_dims=2, max_dims=3).flatmap(
        lambda s: st.tuples(
            agt.tensors(s, dtype=agt.float_dtypes()),
            st.lists(st.integers(0, s[-1] - 1), min_size=s[0], max_size=s[0]),
        )
    ),
    st.integers(0, 2**16),
)
def test_softmax_cross_entropy_with_one_hot_labels_as_data(drawn: tuple, seed: int) -> None:
    z, labels = drawn
    hot = np.eye(z.shape[-1], dtype=z.dtype)[np.array(labels)]
    hot = np.broadcast_to(hot.reshape(z.shape[0], *([1] * (z.ndim - 2)), z.shape[-1]), z.shape)
    t = Tensor(np.ascontiguousarray(hot), requires_grad=False, name="t")
    _check_case(autograd.softmax_cross_entropy, (z, t), "sce one-hot data", seed)


# --- what a program computes ------------------------------------------------------------------
def test_relu_mask_is_recomputed_on_new_inputs() -> None:
    x = Tensor([1.0, -2.0, 3.0])
    program = autograd.trace(lambda x: (x.relu() * x).sum(), x)
    out, (dx,) = program(np.array([-1.0, 2.0, -3.0]))
    assert float(out) == 4.0
    assert dx.tolist() == [0.0, 4.0, 0.0]
    assert "x > 0" in program.source


def test_max_ties_and_pow_at_zero_follow_new_inputs() -> None:
    x = Tensor([1.0, 3.0, 2.0])
    program = autograd.trace(lambda x: x.max(), x)
    _, (dx,) = program(np.array([3.0, 3.0, 1.0]))
    assert dx.tolist() == [0.5, 0.5, 0.0]
    y = Tensor([2.0, 1.0])
    power = autograd.trace(lambda x, y: (x**y).sum(), Tensor([1.0, 2.0]), y)
    _, (dx, dy) = power(np.array([0.0, 0.0]), np.array([0.0, 1.0]))
    assert np.isfinite(dx).all() and np.isfinite(dy).all()
    assert dx.tolist() == [0.0, 1.0]


def test_data_gets_no_gradient_and_unused_inputs_get_zeros() -> None:
    W = Tensor(np.ones((3, 2)), name="W")
    unused = Tensor(np.ones(4), name="unused")
    program = autograd.trace(lambda x, W, u: (x @ W).sum(), np.ones((5, 3)), W, unused)
    assert "dx" not in program.source
    _, (dx, dW, du) = program(np.ones((5, 3)), np.ones((3, 2)), np.ones(4))
    assert dx is None and dW.tolist() == [[5.0, 5.0]] * 3 and du.tolist() == [0.0] * 4


def test_returned_arrays_are_fresh_and_writable() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3))
    y = Tensor(np.ones((2, 3)))
    program = autograd.trace(lambda x, y: (x * y).sum() + x.sum(), x, y)
    xs, ys = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    _, (dx, dy) = program(xs, ys)
    dx += 1  # a broadcast view would refuse; an alias of an input would change it
    dy += 1
    assert xs.tolist() == np.arange(6.0).reshape(2, 3).tolist() and ys.tolist() == [[1.0] * 3] * 2
    _, (dx2, _) = program(xs, ys)
    assert dx2.tolist() == [[2.0] * 3] * 2


def test_non_scalar_output_takes_dout() -> None:
    x = Tensor([1.0, 2.0])
    program = autograd.trace(lambda x: x * x, x)
    _, (dx,) = program(np.array([1.0, 2.0]), dout=np.array([1.0, 10.0]))
    assert dx.tolist() == [2.0, 40.0]
    with pytest.raises(TraceError, match="dout="):
        program(np.array([1.0, 2.0]))


def test_programs_run_in_threads(run_threads: Callable[..., None]) -> None:
    W = Tensor(np.ones((3, 2)))
    program = autograd.trace(lambda x, W: (x @ W).tanh().sum(), np.ones((4, 3)), W)
    results: list[float] = []

    def run(k: int) -> None:
        for _ in range(50):
            out, _ = program(np.full((4, 3), k / 10), np.ones((3, 2)))
            results.append((k, float(out)))

    run_threads(run, [(k,) for k in range(4)])
    for k, out in results:
        assert out == pytest.approx(8 * np.tanh(3 * k / 10))


# --- guarding ---------------------------------------------------------------------------------
def test_new_shapes_retrace_and_retrace_false_refuses() -> None:
    W = Tensor(np.ones((3, 2)))
    program = autograd.trace(lambda x, W: (x @ W).sum(), np.ones((4, 3)), W)
    out, (_, dW) = program(np.ones((7, 3)), np.ones((3, 2)))
    assert float(out) == 42.0 and dW.tolist() == [[7.0, 7.0]] * 3
    out32, _ = program(np.ones((4, 3), np.float32), np.ones((3, 2), np.float32))
    assert out32.dtype == np.float32
    strict = autograd.trace(lambda x, W: (x @ W).sum(), np.ones((4, 3)), W, retrace=False)
    with pytest.raises(TraceError, match=r"x: traced with shape \(4, 3\) float64, got shape"):
        strict(np.ones((7, 3)), np.ones((3, 2)))


def test_check_detects_data_dependent_control_flow() -> None:
    def fn(x: Tensor) -> Tensor:
        if x.sum().item() > 0:  # Python control flow on a value: not recorded
            return (x * x).sum()
        return x.tanh().sum()

    program = autograd.trace(fn, Tensor([1.0, 2.0]))
    program.check(np.array([3.0, 1.0]))  # same path: fine
    with pytest.raises(TraceError, match="depends on tensor values"):
        program.check(np.array([-3.0, 1.0]))


def test_check_detects_a_number_read_from_a_tensor() -> None:
    program = autograd.trace(lambda x: x * float(x.sum()), Tensor(2.0))
    with pytest.raises(TraceError, match="traced"):
        program.check(3.0)


def test_check_says_what_differs_and_counts_its_inputs() -> None:
    """The difference named only the kind of step ("a constant of shape (), now a constant of
    shape ()"); a wrong number of inputs was zip()'s ValueError."""
    program = autograd.trace(lambda x: x * float(x.sum()), Tensor(2.0))
    with pytest.raises(TraceError, match=r"traced the constant 2\.0, now the constant 3\.0"):
        program.check(3.0)
    picked = autograd.trace(lambda a: a[int(np.argmax(a.data))] * 1.0, Tensor([1.0, 3.0, 2.0]))
    with pytest.raises(TraceError, match=r"with index=1, now getitem of shape \(\) with index=0"):
        picked.check(np.array([5.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"program.check takes the program's 1 inputs \(a\), got 2"):
        picked.check(np.ones(3), np.ones(3))


def test_a_computed_tensor_given_as_an_input_is_a_leaf_of_the_program() -> None:
    """`W = Tensor(np.random.randn(3, 2)) * 0.01`, the book's initialisation, was refused:
    the trace walked past the input W into the tensor it was computed from and called that
    'a tensor it was not given'."""
    W0 = Tensor(np.ones((3, 2)), name="W0")
    W = W0 * 2
    program = autograd.trace(lambda x, W: (x @ W).tanh().sum(), np.ones((4, 3)), W)
    assert "W0" not in program.source and program.names == ["x", "W"]
    new = np.full((3, 2), 0.1)
    _, (_, dW) = program(np.ones((4, 3)), new)
    leaf = Tensor(new.copy())
    (Tensor(np.ones((4, 3)), requires_grad=False) @ leaf).tanh().sum().backward()
    np.testing.assert_allclose(dW, leaf.grad.data)
    program.check(np.ones((4, 3)), new)
    assert W.data.tolist() == [[2.0, 2.0]] * 3  # its own array again after the trace


def test_closure_captured_parameters_are_refused() -> None:
    W = Tensor(np.ones((3, 2)), name="W1")
    with pytest.raises(TraceError, match=r"'W1'.*Pass it as an input"):
        autograd.trace(lambda x: (x @ W).sum(), np.ones((4, 3)))
    data = Tensor(np.ones((4, 3)), requires_grad=False)
    with pytest.raises(TraceError, match="neither an input nor a number"):
        autograd.trace(lambda W: (data @ W).sum(), W)


def test_arrays_fixed_at_trace_time_are_refused() -> None:
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(TraceError, match="one-hot"):
        autograd.trace(lambda z: autograd.softmax_cross_entropy(z, np.array([0, 1, 2])), z)
    with pytest.raises(TraceError, match="index"):
        autograd.trace(lambda z: z[[0, 2]].sum(), z)


def test_untracked_values_inside_fn_are_refused() -> None:
    def fn(x: Tensor) -> Tensor:
        with autograd.no_grad():
            scale = x * 2  # computed without recording: the program could not recompute it
        return (x * scale).sum()

    with pytest.raises(TraceError, match="without recording"):
        autograd.trace(fn, Tensor([1.0, 2.0]))


def test_hooks_and_unrecorded_in_place_changes_are_refused() -> None:
    def hooked(x: Tensor) -> Tensor:
        y = x * 2
        y.register_hook(lambda g: g * 10)
        return y.sum()

    with pytest.raises(TraceError, match="hook"):
        autograd.trace(hooked, Tensor([1.0, 2.0]))

    def changed(x: Tensor) -> Tensor:
        y = x * 2
        with autograd.no_grad():
            y += 1
        return y.sum()

    with pytest.raises(TraceError, match="in place"):
        autograd.trace(changed, Tensor([1.0, 2.0]))

    def recorded(x: Tensor) -> Tensor:
        y = x * 2
        y += 1  # recorded: a new node
        return (y * y).sum()

    program = autograd.trace(recorded, Tensor([1.0, 2.0]))
    _, (dx,) = program(np.array([0.0, 1.0]))
    assert dx.tolist() == [4.0, 12.0]


# --- scalar programs --------------------------------------------------------------------------
def price_of(apple: Tensor, num: Tensor, orange: Tensor, orange_num: Tensor, tax: Tensor) -> Tensor:
    price = (apple * num + orange * orange_num) * tax
    price.name = "price"
    return price


APPLE_ORANGE = """\
def forward_backward(apple, num, orange, orange_num, tax):
    v0 = apple * num + orange * orange_num
    price = v0 * tax

    # backward
    dorange = tax * orange_num
    dorange_num = tax * orange
    dapple = tax * num
    dnum = tax * apple
    dtax = v0
    return price, (dapple, dnum, dorange, dorange_num, dtax)
"""


def test_apple_orange_golden_source_and_numbers() -> None:
    inputs = [Value(100, "apple"), Value(2, "num"), Value(150, "orange"), Value(3, "orange_num"),
              Value(1.1, "tax")]  # fmt: skip
    program = autograd.trace(price_of, *inputs)
    assert program.source == APPLE_ORANGE
    price, grads = program(100, 2, 150, 3, 1.1)
    assert type(price) is float and price == pytest.approx(715)
    assert grads == pytest.approx((2.2, 110, 3.3, 165, 650))


def test_scalar_programs_follow_numpy_where_math_raises() -> None:
    x = Value(1.0)
    program = autograd.trace(lambda x: (1 / x) + x.exp() + x.log(), x)
    assert "math.exp" in program.source and "np." not in program.source
    with np.errstate(all="ignore"):
        eager = (1 / Value(0.0)) + Value(0.0).exp() + Value(0.0).log()
        out, (dx,) = program(0.0)
        big, _ = program(1000.0)
        negative, _ = program(-1.0)
    assert np.isnan(float(eager.data)) and np.isnan(out) and np.isnan(dx)
    assert big == np.inf and np.isnan(negative)


def test_micrograd_style_neuron_traces_to_floats() -> None:
    def neuron(w0: Tensor, w1: Tensor, b: Tensor) -> Tensor:
        act = b + w0 * 2.0 + w1 * -3.0
        return (1 + -1.0 * act).relu() + 1e-4 * (w0 * w0 + w1 * w1)

    params = [Value(0.5), Value(-0.25), Value(0.1)]
    program = autograd.trace(neuron, *params)
    out, grads = program(0.5, -0.25, 0.1)
    eager = neuron(*params)
    eager.backward()
    assert out == pytest.approx(float(eager.data))
    assert grads == pytest.approx(tuple(float(p.grad.data) for p in params))
    out, grads = program(2.0, -1.0, 0.0)  # the hinge is now flat: relu's mask moved
    assert grads[2] == 0.0 and type(grads[2]) is float


# --- generated code never runs user text -----------------------------------------------------
@pytest.mark.parametrize(
    "hostile",
    ["__import__('os').system('echo pwned')", "x; import os", "lambda: 0", "class", "a b"],
)
def test_hostile_tensor_names_never_reach_the_code(hostile: str) -> None:
    x = Tensor([1.0, 2.0], name=hostile)
    program = autograd.trace(lambda t: (t * t).sum(), x)
    assert hostile not in program.source and program.names == ["t"]
    _, (dx,) = program(np.array([1.0, 3.0]))
    assert dx.tolist() == [2.0, 6.0]


def test_names_python_would_read_as_another_name_are_not_used() -> None:
    """Python reads identifiers NFKC-normalized: `𝐛` is `b`, `ﬁ` is `fi`, `ｎｐ` is `np`. Used
    as written, such a tensor name overwrote the input `b` (silently wrong gradients), shadowed
    numpy, or made two parameters one (a SyntaxError)."""

    def fn(a: Tensor, b: Tensor) -> Tensor:
        t = a * 3
        t.name = "𝐛"  # reads as b
        return (t * b).sum()

    a, b = Tensor(np.ones(3), name="a"), Tensor(np.full(3, 2.0), name="b")
    program = autograd.trace(fn, a, b)
    assert "𝐛" not in program.source
    out, (da, db) = program(a.data, b.data)
    assert float(out) == 18.0 and da.tolist() == [6.0] * 3 and db.tolist() == [3.0] * 3

    W = Tensor(np.ones((3, 2)), name="W")
    program = autograd.trace(lambda x, W: (x @ W).relu().sum(), np.ones((4, 3)), W,
                             names=["ｎｐ", "W"])  # fmt: skip
    assert program.names == ["x", "W"]
    assert program(np.ones((4, 3)), W.data)[1][1].tolist() == [[4.0, 4.0]] * 3

    program = autograd.trace(lambda s, t: (s * t).sum(), Tensor(np.ones(2), name="ﬁ"),
                             Tensor(np.ones(2), name="fi"))  # fmt: skip
    assert program.names == ["s", "fi"]


def test_a_sum_over_no_axis_keeps_its_operands_parentheses() -> None:
    """A 0-d sum is written as its operand ("{x}"), which claimed the precedence of a name:
    -(x - y).sum() became `-x - y`, a silently wrong output."""
    program = autograd.trace(lambda x, y: abs(-(x - y).sum()), Tensor(3.0), Tensor(1.0))
    assert "-(x - y)" in program.source
    out, (dx, dy) = program(np.array(3.0), np.array(1.0))
    assert float(out) == 2.0 and float(dx) == 1.0 and float(dy) == -1.0


def test_x_to_the_power_zero_keeps_its_zero_gradient_at_zero() -> None:
    """pow's guard for 0 ** 0 was a constant (`y - 1 + mask` of a constant y): a program
    traced at x = 2.5 kept the mask's value there, giving nan at x = 0 (eager: 0), and an
    array x ** 0.0 could not be traced at all."""
    program = autograd.trace(lambda x: x**0, Value(2.5))
    assert program(0.0) == (1.0, (0.0,))
    program = autograd.trace(lambda x: x**0.0, Tensor(np.array([2.5, 1.0])))
    assert program(np.array([0.0, 3.0]), dout=np.ones(2))[1][0].tolist() == [0.0, 0.0]


def test_a_float_program_returns_an_infinite_gradient_as_math_inf() -> None:
    """A constant gradient of inf was written `inf`, a NameError when the program ran."""
    with np.errstate(over="ignore"):  # the traced forward overflows, as numpy warns
        program = autograd.trace(lambda x, y: x / 1e-300 / 1e-300 + y, Value(1.0), Value(2.0))
    with pytest.warns(RuntimeWarning, match="overflow"):  # as eager mode's numpy does
        assert program(1.0, 2.0) == (math.inf, (math.inf, 1.0))


def test_hostile_scope_names_stay_inside_their_comment() -> None:
    from autograd import scope

    hostile = "Affine1\nimport os; os.system('echo pwned')\r__import__('os')"

    def fn(x: Tensor) -> Tensor:
        with scope(hostile):
            y = x * x
        return y.sum()

    program = autograd.trace(fn, Tensor([1.0, 2.0]))
    code_lines = [line for line in program.source.splitlines() if not line.strip().startswith("#")]
    assert not any("import" in line for line in code_lines)
    assert program(np.array([3.0, 1.0]))[1][0].tolist() == [6.0, 2.0]


def test_the_code_is_built_only_from_templates_names_and_numbers() -> None:
    """No eval anywhere in the tracer or the float code; exec runs only the program text we
    wrote, in one place (codegen.compile_function, which trace.py and floats.py share)."""
    here = Path(autograd.__file__).parent
    sources = {name: (here / name).read_text() for name in ("trace.py", "floats.py", "codegen.py")}
    assert not any("eval(" in text for text in sources.values())
    assert [text.count("exec(") for text in sources.values()] == [0, 0, 1]


# --- TwoLayerNet: the book's backward, written by the engine ---------------------------------
TWO_LAYER_NET = """\
def forward_backward(x, t, W1, b1, W2, b2):
    # Affine1
    a1 = x @ W1
    a1 += b1
    # Relu1
    z1 = np.maximum(a1, 0)
    # Affine2
    a2 = z1 @ W2
    a2 += b2
    # SoftmaxWithLoss
    loss, y = softmax_cross_entropy(a2, t)

    # backward
    # SoftmaxWithLoss
    batch_size = 100
    dout = (y * t.sum(axis=1, keepdims=True) - t) / batch_size
    # Affine2
    db2 = dout.sum(axis=0)
    dW2 = z1.T @ dout
    dout = dout @ W2.T
    # Relu1
    dout *= a1 > 0
    # Affine1
    db1 = dout.sum(axis=0)
    dW1 = x.T @ dout
    return loss, (None, None, dW1, db1, dW2, db2)
"""


def _batch(rng: np.random.Generator, n: int, dtype: Any = np.float64) -> tuple[np.ndarray, ...]:
    x = rng.random((n, 784)).astype(dtype)
    t = np.eye(10, dtype=dtype)[rng.integers(0, 10, n)]
    return x, t


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_two_layer_net_golden_source_and_same_gradients(dtype: Any) -> None:
    from nn import TwoLayerNet

    net = TwoLayerNet(784, 50, 10, weight_init_std=0.1, rng=0, dtype=dtype)
    rng = np.random.default_rng(1)
    program = net.compile(*_batch(rng, 100, dtype))
    assert program.source == TWO_LAYER_NET
    x, t = _batch(rng, 100, dtype)  # a new batch, and parameters after an update
    for key in net.params:
        net.params[key] -= 0.1
    compiled = net.gradient(x, t)
    eager = TwoLayerNet.gradient(net, x, t)
    for key in net.params:
        assert compiled[key].dtype == dtype
        _close(compiled[key], eager[key], np.dtype(dtype), key)


def test_compiled_gradient_retraces_for_the_last_short_batch_and_takes_labels() -> None:
    from nn import TwoLayerNet

    net = TwoLayerNet(784, 20, 10, weight_init_std=0.1, rng=0)
    rng = np.random.default_rng(2)
    x, t = _batch(rng, 7)
    labels = t.argmax(axis=1)
    net.compile(*_batch(rng, 100))
    compiled = net.gradient(x, labels)
    for key in net.params:  # left in .grad, as eager mode leaves them
        assert net.params.tensors[key].grad.data is compiled[key]
    eager = TwoLayerNet.gradient(net, x, t)
    for key in net.params:
        _close(compiled[key], eager[key], np.dtype(np.float64), key)


def test_misuse_gets_clear_errors() -> None:
    x = Tensor([1.0, 2.0])
    with pytest.raises(TraceError, match="must return a Tensor"):
        autograd.trace(lambda x: 3.0, x)
    with pytest.raises(TraceError, match="at least one example input"):
        autograd.trace(lambda: Tensor(1.0))
    with pytest.raises(TypeError, match="callable"):
        autograd.trace("x * x", x)  # type: ignore[arg-type]
    program = autograd.trace(lambda x: (x * x).sum(), x)
    with pytest.raises(TypeError, match=r"takes 1 inputs \(x\), got 2"):
        program(np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="string"):
        program("1, 2")
    with pytest.raises(TraceError, match="getitem's index cannot be written"):
        autograd.trace(lambda x: x[True].sum(), x)
    with pytest.raises(TraceError, match="2 names for 1 inputs"):
        autograd.trace(lambda x: x.sum(), x, names=["a", "b"])


def test_example_tensors_are_left_as_they_were() -> None:
    W = Tensor(np.ones((3, 2)), name="W")
    x = Tensor(np.ones((4, 3)), requires_grad=False)
    program = autograd.trace(lambda x, W: (x @ W).sum(), x, W)
    program(np.zeros((4, 3)), np.full((3, 2), 5.0))
    program.check(np.zeros((4, 3)), np.full((3, 2), 5.0))
    assert W.grad is None and W.data.tolist() == [[1.0, 1.0]] * 3 and not x.requires_grad


def test_tracing_inside_no_grad_still_records() -> None:
    z = Tensor(np.array([[1.0, 2.0, 0.5]]))
    t = np.array([[0.0, 1.0, 0.0]])
    with autograd.no_grad():
        program = autograd.trace(lambda z, t: autograd.softmax_cross_entropy(z, t), z, t)
    _, (dz, _) = program(np.array([[0.0, 0.0, 3.0]]), t)
    eager = Tensor(np.array([[0.0, 0.0, 3.0]]))
    autograd.softmax_cross_entropy(eager, t).backward()
    np.testing.assert_allclose(dz, eager.grad.data)


def test_a_dropped_program_leaves_nothing_behind() -> None:
    import gc
    import linecache

    def programs() -> int:
        return sum("scratchgrad program" in key for key in linecache.cache)

    gc.collect()  # programs of earlier tests
    before = programs()
    program = autograd.trace(lambda x: (x * x).sum(), Tensor([1.0, 2.0]))
    assert programs() == before + 1  # tracebacks inside the program show its lines
    del program
    gc.collect()
    assert programs() == before


def test_a_copy_of_a_compiled_model_computes_with_its_own_parameters() -> None:
    import copy

    from nn import TwoLayerNet

    net = TwoLayerNet(784, 10, 10, weight_init_std=0.1, rng=0)
    rng = np.random.default_rng(3)
    x, t = _batch(rng, 20)
    net.compile(x, t)
    twin = copy.deepcopy(net)
    for key in twin.params:
        twin.params[key] += 0.5
    ours, theirs = twin.gradient(x, t), TwoLayerNet.gradient(twin, x, t)
    for key in twin.params:
        _close(ours[key], theirs[key], np.dtype(np.float64), key)


def test_your_own_scopes_name_the_code_like_the_books_layers() -> None:
    from autograd import scope

    def net(x: Tensor, W1: Tensor, b1: Tensor) -> Tensor:
        with scope("Affine1"):
            a = x @ W1 + b1
        with scope("Sigmoid1"):
            z = a.sigmoid()
        return z.sum()

    W1, b1 = Tensor(np.ones((3, 2)), name="W1"), Tensor(np.zeros(2), name="b1")
    source = autograd.trace(net, np.ones((4, 3)), W1, b1).source
    expected = "# Affine1\n    a1 = x @ W1\n    a1 += b1\n    # Sigmoid1\n    z1 = sigmoid(a1)"
    assert expected in source
    assert "db1 = dout.sum(axis=0)" in source and "dW1 = x.T @ dout" in source


# --- softmax once, in-place updates: what they must never do ---------------------------------
def _two_layer_program(dtype: Any, rng: np.random.Generator) -> tuple[Any, list[np.ndarray]]:
    from nn import TwoLayerNet

    net = TwoLayerNet(784, 50, 10, weight_init_std=0.1, rng=0, dtype=dtype)
    program = net.compile(*_batch(rng, 100, dtype))
    return program, [net.params[k] for k in ("W1", "b1", "W2", "b2")]


def _shares_memory(arrays: list[np.ndarray]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(arrays))
        for j in range(i + 1, len(arrays))
        if np.shares_memory(arrays[i], arrays[j])
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradients_are_fresh_each_call_and_inputs_are_never_written(dtype: Any) -> None:
    """A learner keeps last step's gradient: the next call must not change it; and the
    program's in-place updates (a1 += b1, dout *= a1 > 0) must never reach x, t or W."""
    rng = np.random.default_rng(3)
    program, params = _two_layer_program(dtype, rng)
    first = [*_batch(rng, 100, dtype), *(p.copy() for p in params)]
    kept = [a.copy() for a in first]
    for a in first:
        a.flags.writeable = False  # a write into an input would raise
    loss1, grads1 = program(*first)
    saved = [g.copy() for g in grads1[2:]]
    second = [*_batch(rng, 100, dtype), *(p * 0.5 for p in params)]
    loss2, grads2 = program(*second)
    for a, before in zip(first, kept, strict=True):
        np.testing.assert_array_equal(a, before)  # inputs untouched
    for g, before in zip(grads1[2:], saved, strict=True):
        np.testing.assert_array_equal(g, before)  # last step's gradients untouched
    returned = [np.asarray(loss1), *grads1[2:], np.asarray(loss2), *grads2[2:]]
    assert _shares_memory(returned + first + second) == []
    assert all(g.dtype == dtype for g in returned)


def test_threads_calling_one_program_each_get_their_own_answer(
    run_threads: Callable[..., None],
) -> None:
    rng = np.random.default_rng(4)
    program, params = _two_layer_program(np.float64, rng)
    batches = [_batch(rng, 100) for _ in range(4)]
    expected = [program(x, t, *params) for x, t in batches]
    failures: list[str] = []

    def run(k: int) -> None:
        x, t = batches[k]
        for _ in range(25):
            loss, grads = program(x, t, *params)
            if not np.allclose(loss, expected[k][0], rtol=1e-13, atol=0) or not all(
                np.allclose(g, e, rtol=1e-13, atol=1e-300)
                for g, e in zip(grads[2:], expected[k][1][2:], strict=True)
            ):
                failures.append(f"thread {k}")

    run_threads(run, [(k,) for k in range(4)])
    assert failures == []


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_is_computed_once_and_an_underflowing_softmax_gives_a_finite_loss(
    dtype: Any,
) -> None:
    z = Tensor(np.zeros((3, 4), dtype), name="z")
    t = np.eye(4, dtype=dtype)[[0, 1, 2]]
    program = autograd.trace(autograd.softmax_cross_entropy, z, t)
    assert "out, y = softmax_cross_entropy(z, t)" in program.source
    assert "softmax(" not in program.source.replace("softmax_cross_entropy(", "")
    # the labels' probabilities underflow to 0: log y would be -inf; the loss is ~ 2000 / 3
    huge = np.array([[1000, -1000, 0, 0], [0, 1000, 0, 0], [-500, 0, 500, 0]], dtype)
    labels = np.eye(4, dtype=dtype)[[1, 2, 0]]
    out, (dz, _) = program(huge, labels)
    eager = autograd.softmax_cross_entropy(Tensor(huge, requires_grad=True), labels)
    (eager_dz,) = autograd.grad(eager, [eager.inputs[0]])
    assert np.isfinite(out) and np.isfinite(dz).all()
    assert float(out) == pytest.approx(float(eager.data), rel=1e-6)
    assert float(out) == pytest.approx((2000 + 1000 + 1000) / 3, rel=1e-6)
    np.testing.assert_allclose(dz, eager_dz.data, atol=1e-7)


def test_a_loss_whose_logits_need_no_gradient_takes_only_the_loss_from_the_call() -> None:
    t = Tensor(np.full((2, 3), 1 / 3), name="t")  # soft labels that get a gradient
    program = autograd.trace(autograd.softmax_cross_entropy, np.zeros((2, 3)), t)
    assert "out = softmax_cross_entropy(logits, t)[0]" in program.source
    z = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    soft = np.array([[0.2, 0.3, 0.1], [0.5, 0.5, 0.5]])  # rows need not sum to 1
    out, (dz, dt) = program(z, soft)
    t_eager = Tensor(soft, requires_grad=True)
    eager = autograd.softmax_cross_entropy(z, t_eager)
    (want,) = autograd.grad(eager, [t_eager])
    assert dz is None and float(out) == pytest.approx(float(eager.data), rel=1e-12)
    np.testing.assert_allclose(dt, want.data, rtol=1e-12)


def test_soft_labels_get_the_general_gradient_through_the_shared_softmax() -> None:
    z = Tensor(np.zeros((2, 3)), name="z")
    program = autograd.trace(autograd.softmax_cross_entropy, z, np.ones((2, 3)))
    logits = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    soft = np.array([[0.2, 0.3, 0.1], [0.5, 0.5, 0.5]])
    _, (dz, _) = program(logits, soft)
    z_eager = Tensor(logits, requires_grad=True)
    (want,) = autograd.grad(autograd.softmax_cross_entropy(z_eager, soft), [z_eager])
    np.testing.assert_allclose(dz, want.data, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_array_subclasses_are_read_as_plain_arrays() -> None:
    """np.matrix's `*` is a matrix product: the program must not compute with it as given."""
    W = Tensor(np.ones((2, 2)), name="W")
    program = autograd.trace(lambda x, W: (x * W).sum(), np.ones((2, 2)), W)
    out, (_, dW) = program(np.matrix([[1.0, 2.0], [3.0, 4.0]]), np.matrix(np.eye(2)))
    assert float(out) == 5.0 and type(dW) is np.ndarray
    assert dW.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_calls_that_switch_between_shapes_dtypes_and_byte_orders_each_get_their_own_answer():
    """A call with the last call's shapes and dtypes skips every other check; a big-endian
    array, another dtype, a missing or extra input, or another shape in between must not
    reach the fast path with the wrong variant."""
    W = Tensor(np.arange(6.0).reshape(3, 2), name="W")
    program = autograd.trace(lambda x, W: ((x @ W).relu() * 2).sum(), np.ones((4, 3)), W)
    rng = np.random.default_rng(0)
    calls = [
        (rng.standard_normal((4, 3)), W.data),
        (rng.standard_normal((4, 3)).astype(">f8"), W.data.astype(">f8")),
        (rng.standard_normal((5, 3)), W.data),
        (rng.standard_normal((4, 3)).astype(np.float32), W.data.astype(np.float32)),
        (rng.standard_normal((4, 3)), W.data),
        (rng.standard_normal((4, 3)), W.data),
    ]
    for x, w in calls:
        out, (dx, dW) = program(x, w)
        want = 2 * np.maximum(x.astype(np.float64) @ w.astype(np.float64), 0).sum()
        assert dx is None and type(out) is np.ndarray and out.shape == ()
        assert out.dtype == np.dtype(x.dtype.name) and dW.dtype == np.dtype(x.dtype.name)
        np.testing.assert_allclose(out, want, rtol=1e-6)
        mask = (x.astype(np.float64) @ w.astype(np.float64) > 0).astype(np.float64)
        np.testing.assert_allclose(dW, 2 * x.astype(np.float64).T @ mask, rtol=1e-6)
    x, w = calls[0]
    first = program(x, w)
    for inputs in [(x.tolist(), w), (x, Tensor(w)), (Tensor(x), w.tolist())]:  # not arrays
        out, (_, dW) = program(*inputs)
        assert out == first[0] and np.array_equal(dW, first[1][1])
    with pytest.raises(TypeError, match="program takes 2 inputs"):
        program(calls[-1][0])
    with pytest.raises(TypeError, match="program takes 2 inputs"):
        program(*calls[-1], W.data)


def test_relu_masks_that_meet_themselves_count_as_numbers() -> None:
    """Found by the random graphs below: the relu gradient of h + h reached `mask + mask`,
    True | True for bools, not 2 (and `-(mask + mask)` raised)."""
    W = Tensor(np.array([[1.0], [2.0], [-1.0]]), name="W")
    program = autograd.trace(lambda x, W: ((x @ W) + (x @ W)).relu().sum(), np.ones((2, 3)), W)
    x = np.array([[1.0, 1.0, 1.0], [-1.0, 0.0, 0.0]])
    _, (_, dW) = program(x, W.data)
    assert dW.dtype == np.float64 and dW.ravel().tolist() == [2.0, 2.0, 2.0]
    square = autograd.trace(lambda x: (x.relu() * 0 + 1).relu().sum(), Tensor([1.0, -1.0]))
    _, (dx,) = square(np.array([2.0, -2.0]))
    assert dx.dtype == np.float64 and dx.tolist() == [0.0, 0.0]


_STEPS = ["add", "sub", "mul", "div", "relu", "tanh", "matmul", "bias", "mask", "softmax"]


def _random_step(step: str, a: Tensor, c: Tensor, b: Tensor, M: Tensor) -> Tensor:
    if step == "add":
        return a + c
    if step == "sub":
        return a - c
    if step == "mul":
        return a * c
    if step == "div":
        return a / (1 + c * c)
    if step == "relu":
        return a.relu()
    if step == "tanh":
        return a.tanh()
    if step == "matmul":
        return a @ M
    if step == "bias":
        return a + b
    if step == "softmax":
        return autograd.softmax(a, axis=-1)
    return c * (a.relu() - 0.5 * a)  # a relu mask, and a again


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.lists(
        st.tuples(st.sampled_from(_STEPS), st.integers(0, 99), st.integers(0, 99)),
        min_size=1,
        max_size=10,
    ),
    st.lists(st.integers(0, 99), min_size=1, max_size=3),
    st.booleans(),
    st.sampled_from([np.float64, np.float32]),
    st.integers(0, 2**16),
)
def test_in_place_updates_on_random_graphs_match_eager_and_touch_no_input(
    n: int, k: int, steps: list, picked: list, loss: bool, dtype: Any, seed: int
) -> None:
    """Chains of elementwise ops on matmul results, with fan-out, softmaxes and maybe the loss
    (soft labels t whose rows need not sum to 1): the cases where a program updates arrays in
    place or takes y from the loss. Same numbers as eager, inputs unchanged, fresh results."""

    def fn(x: Tensor, t: Tensor, W: Tensor, b: Tensor, M: Tensor) -> Tensor:
        pool = [x @ W]
        for step, i, j in steps:
            pool.append(_random_step(step, pool[i % len(pool)], pool[j % len(pool)], b, M))
        chosen = [pool[p % len(pool)] for p in picked]
        first = autograd.softmax_cross_entropy(chosen[0], t) if loss else chosen[0].sum()
        return sum((v * v).sum() for v in chosen[1:]) + first

    rng = np.random.default_rng(seed)

    def draw() -> list[np.ndarray]:
        arrays = [rng.uniform(-1, 1, s).astype(dtype) for s in [(n, 3), (3, k), (k,), (k, k)]]
        return [arrays[0], rng.uniform(0, 1, (n, k)).astype(dtype), *arrays[1:]]

    names = ["x", "t", "W", "b", "M"]
    example = draw()
    tensors = example[:2] + [Tensor(a, requires_grad=True, name=m) for a, m in zip(
        example[2:], names[2:], strict=True)]  # fmt: skip
    program = autograd.trace(fn, *tensors)
    new = draw()
    kept = [a.copy() for a in new]
    out, grads = program(*new)
    saved = [g.copy() for g in grads[2:]]
    leaves = [Tensor(a, requires_grad=i > 1) for i, a in enumerate(new)]
    want_out = fn(*leaves)
    want = autograd.grad(want_out, leaves[2:])
    for a, before in zip(new, kept, strict=True):
        np.testing.assert_array_equal(a, before)
    _close(out, want_out.data, np.dtype(dtype), "output")
    for g, w, m in zip(grads[2:], want, names[2:], strict=True):
        _close(g, w.data, np.dtype(dtype), f"d{m}")
    program(*draw())  # a second call leaves the first call's results alone
    for g, before in zip(grads[2:], saved, strict=True):
        np.testing.assert_array_equal(g, before)
    assert _shares_memory([np.asarray(out), *grads[2:], *new]) == []


def test_the_upstream_gradient_dout_is_never_written() -> None:
    W = Tensor(np.ones((3, 2)), name="W")
    program = autograd.trace(lambda x, W: ((x @ W) * 2).relu(), np.ones((4, 3)), W)
    dout = np.arange(8.0).reshape(4, 2)
    kept = dout.copy()
    _, (_, dW) = program(np.ones((4, 3)), np.ones((3, 2)), dout=dout)
    np.testing.assert_array_equal(dout, kept)
    assert dW.tolist() == [[24.0, 32.0]] * 3


def test_a_named_number_yields_its_name_to_an_input() -> None:
    z = Tensor(np.zeros((2, 3)), name="batch_size")  # the name the loss's N would take
    program = autograd.trace(autograd.softmax_cross_entropy, z, np.eye(3)[[0, 1]])
    assert "\n    batch_size = " not in program.source
    assert "dbatch_size = (y * t.sum(axis=1, keepdims=True) - t) / 2" in program.source
    named = autograd.trace(
        lambda x: x * Tensor(3.0, requires_grad=False, name="scale"), Tensor(np.ones(2))
    )
    assert "scale = 3" in named.source
    out, (dx,) = named(np.array([1.0, 2.0]), dout=np.ones(2))
    assert out.tolist() == [3.0, 6.0] and dx.tolist() == [3.0, 3.0]


def test_a_program_pickles_with_a_clear_error_and_copies_as_itself() -> None:
    W = Tensor(np.ones((3, 2)), name="W")
    program = autograd.trace(lambda x, W: (x @ W).sum(), np.ones((4, 3)), W)
    with pytest.raises(TypeError, match=r"cannot be pickled: .*Pickle the model instead"):
        pickle.dumps(program)
    assert copy.copy(program) is program
    holder = copy.deepcopy({"program": program, "W": W})
    assert holder["program"] is program and holder["W"] is not W
    _, (_, dW) = holder["program"](np.full((4, 3), 2.0), holder["W"].data)
    np.testing.assert_array_equal(dW, np.full((3, 2), 8.0))


# --- found by attacking traced programs (regressions) -----------------------------------------
def test_threads_retracing_at_once_leave_the_traced_tensor_its_own_array(
    run_threads: Callable[..., None],
) -> None:
    """A retrace lends the call's arrays to the example tensor while fn runs; two retraces at
    once used to restore each other's arrays, leaving W holding a caller's array for good."""
    rng = np.random.default_rng(7)
    W = Tensor(rng.normal(size=(3, 2)), name="W")
    own = W.data
    program = autograd.trace(lambda x, W: ((x @ W).relu() * 3.0).sum(), np.ones((4, 3)), W)
    failures: list[str] = []

    def run(k: int) -> None:
        local = np.random.default_rng(k)
        for i in range(30):
            x, w = local.normal(size=(10 * k + i % 9 + 1, 3)), local.normal(size=(3, 2))
            out, (_, dW) = program(x, w)
            if not np.isclose(out, (np.maximum(x @ w, 0) * 3).sum()) or not np.allclose(
                dW, x.T @ ((x @ w > 0) * 3.0)
            ):
                failures.append(f"thread {k} call {i}")

    run_threads(run, [(k,) for k in range(4)], switch_often=True)  # so retraces overlap
    assert failures == []
    assert W.data is own


def test_one_tensor_given_as_two_inputs_is_refused() -> None:
    """It was one leaf of the trace: `program(A, B)` computed B @ B and returned one gradient
    for both, with no error."""
    W = Tensor(np.eye(3), name="W")
    with pytest.raises(TraceError, match="inputs a and b are the same tensor; give it once"):
        autograd.trace(lambda a, b: (a @ b).sum(), W, W, names=["a", "b"])
    program = autograd.trace(lambda a, b: (a @ b).sum(), W, Tensor(W.data.copy()))
    A, B = np.arange(9.0).reshape(3, 3), np.ones((3, 3))
    out, (dA, dB) = program(A, B)
    assert out == (A @ B).sum()
    np.testing.assert_array_equal(dA, np.ones((3, 3)) @ B.T)
    np.testing.assert_array_equal(dB, A.T @ np.ones((3, 3)))


def test_inside_detect_anomaly_a_program_names_the_op_that_made_a_nan() -> None:
    """Generated code checks nothing: inside detect_anomaly() a program returned inf/NaN
    gradients without a word, where eager mode raises naming the op."""
    W = Tensor(np.ones((3, 2)), name="W")
    program = autograd.trace(lambda x, W: autograd.sqrt((x @ W).relu()).sum(), np.ones((4, 3)), W)
    x = -np.ones((4, 3))  # relu gives 0, and sqrt's derivative at 0 is inf
    with np.errstate(divide="ignore", invalid="ignore"):  # outside: numbers, as numpy gives
        assert not np.isfinite(program(x, W.data)[1][1]).all()
    with autograd.detect_anomaly():
        with pytest.raises(autograd.AnomalyError, match="NaN or Inf in backward: op 'sqrt'"):
            program(x, W.data)
        out, (_, dW) = program(np.ones((4, 3)), W.data)  # finite results: no eager run
    np.testing.assert_allclose(dW, np.full((3, 2), 4 / (2 * np.sqrt(3))))
    assert out == pytest.approx(8 * np.sqrt(3)) and W.grad is None
    scalar = autograd.trace(lambda a: a.sqrt() * 2.0, Value(1.0, "a"))
    with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError, match="in forward"):
        scalar(-1.0)


def test_a_single_number_output_refuses_a_dout_it_would_ignore() -> None:
    """The seed of a 0-d output is the literal 1 written into the code: dout=2.0 was silently
    ignored (gradients for dout=1, where eager backward(2.0) doubles them)."""
    W = Tensor(np.ones((3, 2)), name="W")
    program = autograd.trace(lambda x, W: (x @ W).sum(), np.ones((4, 3)), W)
    with pytest.raises(TraceError, match=r"dout= can only be 1 .*multiply them by your dout"):
        program(np.ones((4, 3)), W.data, dout=2.0)
    _, (_, dW) = program(np.ones((4, 3)), W.data, dout=np.ones(()))
    assert dW.tolist() == [[4.0, 4.0]] * 3
    data_only = autograd.trace(lambda x: (x * x).sum(), np.ones(2))  # no gradient to seed
    assert data_only(np.ones(2), dout=5.0)[1] == (None,)
    scalar = autograd.trace(lambda a, b: a * b, Value(2.0), Value(3.0))  # float code
    with pytest.raises(TraceError, match="dout= can only be 1"):
        scalar(2.0, 3.0, dout=5.0)
    with pytest.raises(TraceError, match=r"dout has shape \(3,\)"):
        scalar(np.array(2.0), 3.0, dout=np.ones(3))
    assert scalar(2.0, 3.0, dout=1.0) == (6.0, (3.0, 2.0))


def test_a_float_program_names_an_input_too_large_for_a_float() -> None:
    """It was Python's 'int too large to convert to float', naming no input."""
    program = autograd.trace(lambda a, b: a * b, Value(2.0, "a"), Value(3.0, "b"))
    with pytest.raises(OverflowError, match=r"program input a: the integer \(about 10\*\*400\)"):
        program(10**400, 3.0)


def test_a_sum_over_no_axis_returns_a_new_array_never_its_input() -> None:
    """A 0-d tensor's `.sum()` (or any sum over no axis) is written as its operand: the program
    returned the caller's own array as the output or as a gradient, so writing into a result
    changed the input (eager mode gives new arrays)."""
    x = np.array(2.0)
    out, _ = autograd.trace(lambda x: x.sum(), x)(x)
    assert not np.shares_memory(out, x)
    program = autograd.trace(lambda a, w: (w * a.sum()).sum(), np.array(3.0), Tensor(1.0))
    a, w = np.array(3.0), np.array(1.0)
    out, (_, dw) = program(a, w)
    dw += 1
    assert float(a) == 3.0 and float(out) == 3.0
    h = Tensor(np.ones(3))
    program = autograd.trace(lambda h: h.sum(axis=()) + h.sum(axis=()), h)  # one array, twice
    out, (dh,) = program(np.ones(3), dout=np.ones(3))
    assert _shares_memory([out, dh]) == []
    program = autograd.trace(lambda h: (h * 2).max(axis=()), h)  # dout's array, as dh
    d = np.ones(3)
    out, (dh,) = program(np.ones(3), dout=d)
    assert _shares_memory([out, dh, d]) == []


def test_inputs_whose_names_are_all_taken_still_get_names_of_their_own() -> None:
    """The last resort for an input's name, `in<i>_`, could be taken by a name given for
    another input: the generated code did not compile (SyntaxError: duplicate argument)."""
    arrays = [np.full(2, v) for v in (1.0, 2.0, 3.0)]
    program = autograd.trace(
        lambda *xs: (xs[0] * xs[1] * xs[2]).sum(),
        *(Tensor(a) for a in arrays),
        names=["in2", "in2_", "in2"],
    )
    assert len(set(program.names)) == 3 and program.names[:2] == ["in2", "in2_"]
    _, grads = program(*arrays)
    assert [g.tolist() for g in grads] == [[6.0, 6.0], [3.0, 3.0], [2.0, 2.0]]


def _warnings_of(run: Callable[[], Any]) -> tuple[Any, list[str]]:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    return result, sorted({str(w.message).replace("scalar ", "") for w in caught})


def test_scalar_programs_warn_where_eager_mode_warns() -> None:
    """Python floats overflow to inf (1e200 * 1e200) and make nan (inf - inf) without a
    word, where eager mode's numpy warns; and numbers folded at trace time (the seed's
    1 * 1e200 * 1e200 in the gradient) were a silent inf in the code. Same numbers."""

    def eager(fn: Callable[..., Tensor], *xs: float) -> tuple[float, tuple[float, ...]]:
        leaves = [Value(x) for x in xs]
        out = fn(*leaves)
        return float(out.data), tuple(float(g.data) for g in autograd.grad(out, leaves))

    cases = [
        (lambda a, b: a * b, (1e200, 1e200), "overflow encountered in multiply"),
        (lambda a, b: a - b, (math.inf, math.inf), "invalid value encountered in subtract"),
        (lambda a: a * 1e200 * 1e200, (1e-300,), "overflow encountered in multiply"),
    ]
    for fn, xs, message in cases:
        with np.errstate(all="ignore"):
            program = autograd.trace(fn, *(Value(0.5) for _ in xs))
        want, eager_warned = _warnings_of(lambda: eager(fn, *xs))  # noqa: B023
        got, warned = _warnings_of(lambda: program(*xs))  # noqa: B023
        assert message in eager_warned and message in warned, (message, warned)
        np.testing.assert_equal(got, want)
        assert type(got[0]) is float
    program = autograd.trace(lambda a, b: a * b, Value(2.0), Value(3.0))
    assert _warnings_of(lambda: program(2.0, 3.0)) == ((6.0, (3.0, 2.0)), [])
    x = Tensor([1e-300, 2e-300])
    with np.errstate(over="ignore"):
        program = autograd.trace(lambda x: (x * 1e200 * 1e200).sum(), x)
    (_, (dx,)), warned = _warnings_of(lambda: program(x.data))
    assert dx.tolist() == [math.inf, math.inf] and "overflow encountered in multiply" in warned


def test_scalar_programs_give_eager_numbers_where_math_and_numpy_differ() -> None:
    """math.pow(-inf, 0.5) is inf and math.pow(-0.0, 0.5) is 0.0, where numpy's power (eager
    mode) takes the square root: nan and -0.0. A float program returned inf for eager's nan,
    and 1 / -0.0 ** 0.5 as inf for eager's -inf (numpy's scalars did the same)."""
    for fn, x in [(lambda a: a**0.5, -math.inf), (lambda a: 1 / a**0.5, -0.0)]:
        program = autograd.trace(fn, Value(4.0))
        leaf = Value(x)
        with np.errstate(all="ignore"):
            out = fn(leaf)
            want = (float(out.data), (float(autograd.grad(out, [leaf])[0].data),))
            got = program(x)
        np.testing.assert_equal(got, want)
        assert type(got[0]) is float and type(got[1][0]) is float


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_power_of_single_numbers_is_numpys_power_as_in_eager_mode(dtype: Any) -> None:
    """Between single numbers the code's `v0 ** 0.5` ran numpy's scalar power (C's pow), where
    eager mode's power of 0-d arrays takes the square root: -inf ** 0.5 was inf, not nan."""

    def fn(a: Tensor) -> Tensor:
        return abs(a) + (-a) ** 0.5  # abs: array code, not float code

    program = autograd.trace(fn, Tensor(np.array(-4.0, dtype)))
    for x in (math.inf, -0.0):
        leaf = Tensor(np.array(x, dtype))
        with np.errstate(all="ignore"):
            out = fn(leaf)
            want = (out.data, (autograd.grad(out, [leaf])[0].data,))
            got = program(np.array(x, dtype))
        np.testing.assert_equal(got, want)
        assert math.copysign(1, got[1][0]) == math.copysign(1, want[1][0])


def test_a_program_keeps_none_of_the_arrays_its_trace_computed() -> None:
    """Each traced variant kept the whole eager graph of its trace alive (the forward tensor
    each gradient belongs to, the loss's saved softmax): a forward's activations per batch
    size, up to eight of them, for as long as the program lived."""
    import gc
    import weakref

    kept: list[weakref.ref] = []

    def fn(x: Tensor, W: Tensor, t: np.ndarray) -> Tensor:
        h = (x @ W).tanh()
        kept.append(weakref.ref(h))
        loss = autograd.softmax_cross_entropy(h @ W, t)
        kept.append(weakref.ref(loss))
        return loss

    W = Tensor(np.full((4, 4), 0.1), name="W")
    program = autograd.trace(fn, np.ones((3, 4)), W, np.eye(4)[[0, 1, 2]])
    program(np.ones((5, 4)), W.data, np.eye(4)[[0, 1, 2, 3, 0]])  # a second variant
    gc.collect()
    assert len(kept) == 4 and all(ref() is None for ref in kept)
    assert program(np.ones((3, 4)), W.data, np.eye(4)[[0, 1, 2]])[1][1].shape == (4, 4)


# --- random graphs of every op: programs against eager mode -----------------------------------
def _fits(a: Tensor, b: Tensor) -> Tensor:
    """b, or its sum where it does not broadcast with a."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return b.sum()
    return b


def _number(kind: str, v: float) -> Any:
    """A constant as code writes it: a Python int or float, a numpy scalar, a 0-d tensor."""
    return {
        "int": lambda: round(v) or 2,
        "float": lambda: v,
        "float32": lambda: np.float32(v),
        "float64": lambda: np.float64(v),
        "tensor": lambda: Tensor(v, requires_grad=False),
    }[kind]()


def _reduce(kind: str, a: Tensor, p: int) -> Tensor:
    if a.ndim == 0 or (kind == "max" and a.size == 0):
        return getattr(a, kind)()
    axis = [None, p % a.ndim, tuple(range(0, a.ndim, 2)), ()][p % 4]
    return getattr(a, kind)(axis=axis, keepdims=bool(p % 2))


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim and b.ndim and a.shape[-1] == (b.shape[0] if b.ndim == 1 else b.shape[-2]):
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            return a @ b
        except ValueError:
            pass
    return a @ a.T.sum(axis=-1) if a.ndim == 2 else a.sum()


def _in_place_looking(a: Tensor, c: Any) -> Tensor:
    h = a * 1.5
    h += c  # recorded: h = h + c, in h's dtype (c may be a 0-d float64 tensor)
    h *= h
    return h


_RANDOM_STEPS: dict[str, Callable[[Tensor, Tensor, Any, int], Tensor]] = {
    "add": lambda a, b, c, p: a + _fits(a, b),
    "sub": lambda a, b, c, p: a - _fits(a, b),
    "mul": lambda a, b, c, p: a * _fits(a, b),
    "div": lambda a, b, c, p: a / (1.5 + _fits(a, b) ** 2),
    "number+": lambda a, b, c, p: a + c,
    "number-": lambda a, b, c, p: c - a,
    "number*": lambda a, b, c, p: c * a,
    "number/": lambda a, b, c, p: c / (2 + a * a),
    "/number": lambda a, b, c, p: a / c,
    "square": lambda a, b, c, p: a**2,
    "power": lambda a, b, c, p: (1 + a * a) ** c,
    "exponent": lambda a, b, c, p: 1.5**a,
    "pow": lambda a, b, c, p: (1 + a * a) ** _fits(a, b),
    "neg": lambda a, b, c, p: -a,
    "exp": lambda a, b, c, p: (a * 0.3).exp(),
    "log": lambda a, b, c, p: (1 + a * a).log(),
    "tanh": lambda a, b, c, p: a.tanh(),
    "sigmoid": lambda a, b, c, p: a.sigmoid(),
    "relu": lambda a, b, c, p: a.relu(),
    "abs": lambda a, b, c, p: abs(a),
    "sqrt": lambda a, b, c, p: (1 + a * a).sqrt(),
    "softplus": lambda a, b, c, p: autograd.softplus(a),
    "astype": lambda a, b, c, p: autograd.ops.astype(
        a, np.float32 if a.dtype == np.float64 else np.float64
    ),
    "sum": lambda a, b, c, p: _reduce("sum", a, p),
    "mean": lambda a, b, c, p: _reduce("mean", a, p),
    "max": lambda a, b, c, p: _reduce("max", a, p),
    "reshape": lambda a, b, c, p: a.reshape(-1),
    "T": lambda a, b, c, p: a.T,
    "transpose": lambda a, b, c, p: a.transpose(tuple(reversed(range(a.ndim)))),
    "broadcast_to": lambda a, b, c, p: autograd.ops.broadcast_to(a, (2, *a.shape)),
    "getitem": lambda a, b, c, p: a if a.ndim == 0 else a[[slice(None, None, -1), 0, -1][p % 3]],
    "softmax": lambda a, b, c, p: a if a.ndim == 0 else autograd.softmax(a, axis=p % a.ndim),
    "log_softmax": lambda a, b, c, p: a if a.ndim == 0 else autograd.log_softmax(a),
    "matmul": lambda a, b, c, p: _matmul(a, b),
    "loss": lambda a, b, c, p: a if a.ndim != 2 else autograd.softmax_cross_entropy(a, a * 0 + 0.5),
    "in-place": lambda a, b, c, p: _in_place_looking(a, c),
    "fan-out": lambda a, b, c, p: a * a.tanh() - a + a * a,
}
_DTYPES = st.sampled_from([np.float32, np.float64])


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")  # eager's, and ours
@settings(max_examples=150, deadline=None)
@given(
    shapes=st.lists(st.lists(st.integers(0, 3), max_size=3).map(tuple), min_size=1, max_size=3),
    dtypes=st.lists(_DTYPES, min_size=3, max_size=3),
    wants=st.lists(st.booleans(), min_size=3, max_size=3),
    twice=st.booleans(),
    steps=st.lists(
        st.tuples(
            st.sampled_from(sorted(_RANDOM_STEPS)),
            st.integers(0, 99),
            st.integers(0, 99),
            st.sampled_from(["int", "float", "float32", "float64", "tensor"]),
            st.floats(-3, 3).filter(lambda v: abs(v) > 0.1),
            st.integers(0, 99),
        ),
        min_size=1,
        max_size=8,
    ),
    picked=st.lists(st.integers(0, 99), min_size=1, max_size=3),
    single_number=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_graphs_of_every_op_match_eager_mode(
    shapes: list, dtypes: list, wants: list, twice: bool, steps: list, picked: list,
    single_number: bool, seed: int,
) -> None:  # fmt: skip
    """Every op the public API reaches, on random graphs: broadcasting, fan-out, numbers of
    every kind, in-place-looking code, 0-d and empty arrays, float32 and float64 mixed, one
    array given for two inputs, outputs with dout=; called again with new values, in
    Fortran order and as lists. Same outputs and gradients as eager mode (dtypes too), inputs
    never written, results sharing memory with nothing."""
    n = len(shapes)
    dtypes, wants = dtypes[:n], wants[:n]
    twice = twice and n > 1 and shapes[0] == shapes[1] and dtypes[0] == dtypes[1]
    rng = np.random.default_rng(seed)

    def fn(*xs: Tensor) -> Tensor:
        pool = list(xs)
        for kind, i, j, number, value, p in steps:
            a, b = pool[i % len(pool)], pool[j % len(pool)]
            pool.append(_RANDOM_STEPS[kind](a, b, _number(number, value), p))
        chosen = [pool[k % len(pool)] for k in picked]
        if single_number:
            return sum(((v * v).sum() for v in chosen), pool[-1].sum())
        return sum((v * 0.5 for v in chosen if v.shape == pool[-1].shape), pool[-1])

    def draw() -> list[np.ndarray]:
        arrays = [rng.uniform(-2, 2, s).astype(d) for s, d in zip(shapes, dtypes, strict=True)]
        if twice:
            arrays[1] = arrays[0]  # one array for the first two inputs
        return arrays

    single = np.float32 in dtypes or "astype" in str(steps)
    tol = np.dtype(np.float32 if single else np.float64)  # round-off of the least precise
    with np.errstate(all="ignore"):
        try:
            fn(*(Tensor(a, requires_grad=w) for a, w in zip(draw(), wants, strict=True)))
        except (ValueError, IndexError):
            return  # a graph eager mode refuses (say softmax over an empty axis)
        example = draw()
        program = autograd.trace(
            fn, *(Tensor(a.copy()) if w else a for a, w in zip(example, wants, strict=True))
        )
        for call in range(3):
            new = draw()
            kept = [a.copy() for a in new]
            leaves = [Tensor(a.copy(), requires_grad=w) for a, w in zip(new, wants, strict=True)]
            out = fn(*leaves)
            dout = None if out.ndim == 0 else rng.uniform(-1, 1, out.shape).astype(out.dtype)
            tracked = [t for t in leaves if t.requires_grad]
            want = autograd.grad(out, tracked, dout) if tracked and out.requires_grad else ()
            given = [
                [np.asfortranarray(a) if a.ndim > 1 else a for a in new],  # (1-d at least)
                [a.tolist() if a.dtype == np.float64 and a.size else a for a in new],
                new,
            ][call]
            got_out, got = program(*given, dout=dout)
            _close(got_out, out.data, tol, "output")  # (float32 sums: in another order)
            found = iter(want)
            for i, (g, t) in enumerate(zip(got, leaves, strict=True)):
                if not t.requires_grad:
                    assert g is None, f"a gradient for input {i}, which is data"
                    continue
                w = next(found).data if want else np.zeros_like(t.data)
                _close(g, w, tol, f"gradient {i}")
            for a, before in zip(new, kept, strict=True):
                np.testing.assert_array_equal(a, before)
            results = [np.asarray(got_out), *(g for g in got if g is not None)]
            assert _shares_memory(results + new[1 if twice else 0 :]) == []


_SCALAR_STEPS: dict[str, Callable[[Tensor, Tensor, float], Tensor]] = {
    "add": lambda a, b, c: a + b,
    "sub": lambda a, b, c: a - b,
    "mul": lambda a, b, c: a * b,
    "div": lambda a, b, c: a / b,
    "pow": lambda a, b, c: a**b,
    "power": lambda a, b, c: a**c,
    "exponent": lambda a, b, c: c**a,
    "number+": lambda a, b, c: a + c,
    "number*": lambda a, b, c: c * a,
    "number/": lambda a, b, c: c / a,
    "neg": lambda a, b, c: -a,
    "exp": lambda a, b, c: a.exp(),
    "log": lambda a, b, c: a.log(),
    "tanh": lambda a, b, c: a.tanh(),
    "sigmoid": lambda a, b, c: a.sigmoid(),
    "relu": lambda a, b, c: a.relu(),
    "sqrt": lambda a, b, c: a.sqrt(),
}
_EDGES = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 1e-300, 1e300, -1e300, 710.0, -800.0,
          math.inf, -math.inf, math.nan]  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 3),
    steps=st.lists(
        st.tuples(
            st.sampled_from(sorted(_SCALAR_STEPS)),
            st.integers(0, 99),
            st.integers(0, 99),
            st.sampled_from([2, 3, 0.5, -1, -1.5, 0, 1e-3]),
        ),
        min_size=1,
        max_size=6,
    ),
    values=st.lists(
        st.lists(st.one_of(st.sampled_from(_EDGES), st.floats(-5, 5)), min_size=3, max_size=3),
        min_size=3,
        max_size=3,
    ),
)
def test_random_scalar_graphs_give_eager_numbers_and_warnings(
    n: int, steps: list, values: list
) -> None:
    """micrograd-style Value graphs of every scalar op, traced to float code, run on edge
    values (0, -0.0, huge, inf, nan, outside a function's domain): the numbers eager mode
    gives, as floats, and numpy's warnings where eager mode warns."""

    def fn(*xs: Tensor) -> Tensor:
        pool = list(xs)
        for kind, i, j, c in steps:
            pool.append(_SCALAR_STEPS[kind](pool[i % len(pool)], pool[j % len(pool)], c))
        return sum(pool[1:], pool[0])  # every value is used: eager computes nothing dead

    def eager(*xs: float) -> tuple[float, tuple[float, ...]]:
        leaves = [Value(x) for x in xs]
        out = fn(*leaves)
        return float(out.data), tuple(float(g.data) for g in autograd.grad(out, leaves))

    with np.errstate(all="ignore"):
        program = autograd.trace(fn, *(Value(0.7 + 0.1 * i) for i in range(n)))
    assert "np." not in program.source
    # numbers computed while tracing are in the code (math.nan): eager warns for them again
    folded = "math.nan" in program.source or "math.inf" in program.source
    for xs in values:
        want, eager_warned = _warnings_of(lambda: eager(*xs[:n]))  # noqa: B023
        got, warned = _warnings_of(lambda: program(*xs[:n]))  # noqa: B023
        assert [type(v) for v in (got[0], *got[1])] == [float] * (n + 1)
        flat = [np.array([out, *grads]) for out, grads in (got, want)]
        np.testing.assert_allclose(*flat, rtol=1e-9, atol=0)  # (pow's round-off; nan is nan)
        assert folded or warned == eager_warned, (xs[:n], program.source)


def test_fn_changing_a_data_input_in_place_is_told_to_write_an_operation() -> None:
    """`x /= 255` on the array fn is given (numpy does it in place) said that x "is a leaf
    that requires grad" and to update parameters under no_grad(), which the trace refuses
    next: the data a trace gives fn records, so it cannot change in place."""
    W = Tensor(np.ones((3, 2)), name="W")

    def scaled(x: Tensor, W: Tensor) -> Tensor:
        x /= 255.0
        return (x @ W).sum()

    def zeroed(x: Tensor, W: Tensor) -> Tensor:
        x[0] = 0.0
        return (x @ W).sum()

    for fn, what in [(scaled, "/="), (zeroed, r"t\[...\] =")]:
        with pytest.raises(RuntimeError, match=rf"{what}: .*'x'.* is an input of autograd.trace"):
            autograd.trace(fn, np.ones((2, 3)), W)
    program = autograd.trace(lambda x, W: ((x / 255.0) @ W).sum(), np.ones((2, 3)), W)
    assert program(np.full((2, 3), 255.0), W.data)[1][1].tolist() == [[2.0, 2.0]] * 3


def test_a_sums_gradient_reads_as_an_array_of_ones() -> None:
    """The seed copied back by a sum was written as the engine does it,
    `np.broadcast_to(np.float64(1).reshape((1, 1)), (4, 2))`, where a learner writes
    np.ones: the same numbers, in a new array (returned as it is, not copied again)."""
    W = Tensor(np.ones((3, 2)), name="W")
    program = autograd.trace(lambda x, W: (x @ W).sum(), np.ones((4, 3)), W)
    assert "    dW = x.T @ np.ones((4, 2))\n" in program.source
    assert program(np.ones((4, 3)), W.data)[1][1].tolist() == [[4.0, 4.0]] * 3
    program = autograd.trace(lambda x: x.sum(), Tensor(np.ones(3), name="x"))
    assert "    dx = np.ones((3,))\n    return out, (dx,)\n" in program.source
    _, (dx,) = program(np.ones(3))
    dx += 1  # writable, its own
    assert program(np.ones(3))[1][0].tolist() == [1.0, 1.0, 1.0]
    program = autograd.trace(lambda x: x.mean() * 2, Tensor(np.ones((2, 3), np.float32), name="x"))
    assert "    dx = np.full((2, 3), 2.0, np.float32) / 6\n" in program.source
    _, (dx,) = program(np.ones((2, 3), np.float32))
    assert dx.dtype == np.float32 and np.allclose(dx, 1 / 3)
