"""Engine behaviour: dtype rules, operators, attributes, backward, autograd.grad, no_grad, ids."""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable

import numpy as np
import pytest

import autograd
from autograd import (
    GradcheckError,
    Tensor,
    Value,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
    numerical_gradient,
    ops,
)
from autograd.ops import REGISTRY

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


# --- dtype rules --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        1,
        True,
        [1, 2, 3],
        [[True, False]],
        np.arange(3, dtype=np.int32),
        np.arange(3, dtype=np.uint8),
        np.array([1.5, 2.5], dtype=np.float16),
        np.array([True, False]),
        2.5,
        np.float64(2.5),
    ],
    ids=[
        "int",
        "bool",
        "int list",
        "bool list",
        "int32",
        "uint8",
        "float16",
        "bool array",
        "float",
        "np.float64",
    ],
)
def test_non_float32_numbers_become_float64(data: object) -> None:
    t = Tensor(data)
    assert t.dtype == F64
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


def test_float32_stays_float32() -> None:
    t = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    assert t.dtype == F32
    assert Tensor(np.float32(3.0)).dtype == F32


@pytest.mark.parametrize(
    "data",
    [
        "abc",
        b"abc",
        ["1", "2"],
        np.array(["1.0"]),
        [object()],
        None,
        1 + 2j,
        np.array([1j, 2.0]),
        {"a": 1},
    ],
    ids=[
        "str",
        "bytes",
        "str list",
        "str array",
        "object",
        "None",
        "complex",
        "complex array",
        "dict",
    ],
)
def test_non_numbers_are_type_errors(data: object) -> None:
    with pytest.raises(TypeError):
        Tensor(data)


def test_ragged_lists_are_value_errors() -> None:
    with pytest.raises(ValueError, match="rectangular"):
        Tensor([[1.0, 2.0], [3.0]])


def test_value_holds_one_number() -> None:
    assert Value(3).dtype == F64 and Value(3).shape == ()
    with pytest.raises(ValueError, match="one number"):
        Value([1.0, 2.0])


def test_value_times_tensor_broadcasts() -> None:
    v = Value(100.0)
    t = Tensor([1.0, 2.0])
    y = v * t
    np.testing.assert_array_equal(y.data, [100.0, 200.0])
    y.sum().backward()
    assert v.grad.item() == 3.0
    np.testing.assert_array_equal(t.grad.data, [100.0, 100.0])


def test_mixed_dtypes_promote_forward_and_cast_gradients_back() -> None:
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    b = Tensor(np.array([3.0, 4.0]))
    y = a * b
    assert y.dtype == F64
    y.sum().backward()
    assert a.grad.dtype == F32 and b.grad.dtype == F64
    np.testing.assert_allclose(a.grad.data, [3.0, 4.0])


@pytest.mark.parametrize("other", [2, 2.5, np.float64(2.5), np.float32(2.5)])
def test_python_numbers_keep_float32(other: object) -> None:
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    for y in (
        a + other,
        other + a,
        a * other,
        other * a,
        a - other,
        other - a,
        a / other,
        other / a,
        a**2,
        2**a,
    ):
        assert y.dtype == F32


def test_float32_grads_stay_float32_with_float64_seed() -> None:
    x = Tensor(np.ones(2, np.float32))
    y = x * 2
    y.backward(np.ones(2))  # a float64 upstream gradient
    assert x.grad.dtype == F32
    assert y.grad.dtype == F32


# --- operators with numbers and arrays on either side ---------------------------------------
ARITH = [
    ("+", operator.add),
    ("-", operator.sub),
    ("*", operator.mul),
    ("/", operator.truediv),
    ("**", operator.pow),
]


@pytest.mark.parametrize("symbol,f", ARITH, ids=[s for s, _ in ARITH])
@pytest.mark.parametrize("kind", ["number", "ndarray", "0-d ndarray", "list"])
def test_operators_with_constants_on_either_side(symbol: str, f: object, kind: str) -> None:
    xv = np.array([1.5, 2.0, 0.5])
    const = {
        "number": 1.5,
        "ndarray": np.array([0.5, 1.5, 2.5]),
        "0-d ndarray": np.array(1.5),
        "list": [0.5, 1.5, 2.5],
    }[kind]
    c = np.asarray(const, dtype=np.float64)
    for order in ("tensor left", "tensor right"):
        x = Tensor(xv.copy())
        y = f(x, const) if order == "tensor left" else f(const, x)
        expected = f(xv, c) if order == "tensor left" else f(c, xv)
        assert isinstance(y, Tensor), f"{order}: got {type(y).__name__}"
        np.testing.assert_allclose(y.data, expected)
        y.sum().backward()
        h = 1e-6
        numeric = (
            (f(xv + h, c) - f(xv - h, c))
            if order == "tensor left"
            else (f(c, xv + h) - f(c, xv - h))
        ) / (2 * h)
        np.testing.assert_allclose(x.grad.data, numeric, rtol=1e-6)


@pytest.mark.parametrize("kind", ["ndarray", "list"])
def test_matmul_with_array_on_either_side(kind: str) -> None:
    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = Tensor([[1.0, -1.0, 2.0]])
    const = W if kind == "ndarray" else W.tolist()
    y = x @ const
    np.testing.assert_allclose(y.data, x.data @ W)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.ones((1, 2)) @ W.T)

    v = Tensor([1.0, 2.0])
    z = (W if kind == "ndarray" else W.tolist()) @ v  # ndarray @ Tensor: __rmatmul__
    assert isinstance(z, Tensor)
    np.testing.assert_allclose(z.data, W @ v.data)
    z.sum().backward()
    np.testing.assert_allclose(v.grad.data, W.sum(axis=0))


def test_ndarray_on_the_left_hands_over_to_tensor() -> None:
    a = np.array([1.0, 2.0])
    x = Tensor([3.0, 4.0])
    for y in (a + x, a - x, a * x, a / x, a**x, a @ x):
        assert isinstance(y, Tensor)
        assert y.requires_grad


def test_pow_with_tensor_exponent() -> None:
    x = Tensor(2.0)
    y = Tensor(3.0)
    z = x**y
    assert z.item() == 8.0
    z.backward()
    assert x.grad.item() == pytest.approx(12.0)
    assert y.grad.item() == pytest.approx(8.0 * math.log(2.0))


def test_pow_gradients_at_zero_base() -> None:
    x = Tensor(0.0)
    (g0,) = autograd.grad(x**0, [x])
    assert g0.item() == 0.0  # d/dx x**0 = 0, also at 0

    (g1,) = autograd.grad(x**1, [x], create_graph=True, retain_graph=True)
    assert g1.item() == 1.0
    (gg1,) = autograd.grad(g1, [x]) if g1.requires_grad else (Tensor(0.0),)
    assert gg1.item() == 0.0  # second derivative of x**1

    (g2,) = autograd.grad(x**2, [x], create_graph=True, retain_graph=True)
    assert g2.item() == 0.0
    (gg2,) = autograd.grad(g2, [x])
    assert gg2.item() == 2.0

    base, exponent = Tensor(0.0), Tensor(2.0)
    _, ge = autograd.grad(base**exponent, [base, exponent])
    assert ge.item() == 0.0  # d/de 0**e = 0 for e > 0


def test_pow_keeps_the_sign_of_negative_zero_in_its_base_gradient() -> None:
    """The 0 ** 0 guard added its mask to x, and −0.0 + 0 is +0.0: d/dx x**−2 at −0.0 (+inf)
    came out −inf, and d/dx x**1e-300 (−inf) +inf, whenever the guard was on (an exponent
    array holding a 0, create_graph, traced programs), while plain eager Values were right."""
    x0, y0 = np.array([-0.0, 0.0, -0.0, 0.0]), np.array([-2.0, 0.0, 1e-300, -2.0])
    expected = [math.inf, 0.0, -math.inf, -math.inf]
    with np.errstate(divide="ignore", invalid="ignore"):
        x, y = Tensor(x0), Tensor(y0)
        (x**y).backward(np.ones(4))
        assert x.grad.data.tolist() == expected
        x, y = Tensor(x0), Tensor(y0, requires_grad=False)
        (dx,) = autograd.grad((x**y).sum(), x, create_graph=True)
        assert dx.data.tolist() == expected
        program = autograd.trace(lambda a, b: (a**b).sum(), Tensor(x0), Tensor(y0))
        assert program(x0, y0)[1][0].tolist() == expected
        for i in (0, 2):  # single numbers: the float code (math.pow) and its numpy fallback
            program = autograd.trace(lambda a, b: a**b, Value(1.0), Value(1.0))
            assert program(float(x0[i]), float(y0[i]))[1][0] == expected[i]


def test_the_conventions_the_readme_states_where_a_derivative_has_no_single_value() -> None:
    """README (The engine): PyTorch's choices at kinks and ties, and where NaN inputs differ."""

    def slope(fn: Callable[[Tensor], Tensor], *at: float) -> list[float]:
        x = Tensor(np.array(at))
        fn(x).sum().backward()
        return x.grad.data.tolist()

    with np.errstate(divide="ignore", invalid="ignore"):
        assert slope(lambda x: x.relu(), 0.0, -0.0, math.nan) == [0.0, 0.0, 0.0]
        assert slope(lambda x: x.abs(), 0.0, -0.0) == [0.0, 0.0]
        assert np.isnan(slope(lambda x: x.abs(), math.nan)).all()
        assert slope(lambda x: x.max(), 1.0, 3.0, 3.0) == [0.0, 0.5, 0.5]
        assert slope(lambda x: x**0, 0.0, -0.0) == [0.0, 0.0]
        assert np.isnan(slope(lambda x: x**0, math.nan)).all()
        zero_base = lambda y: Tensor(np.zeros(3), requires_grad=False) ** y
        found = slope(zero_base, 2.0, 0.0, -1.0)
        assert found[:2] == [0.0, 0.0] and math.isnan(found[2])


# --- attributes -----------------------------------------------------------------------------
def test_data_is_mutable_in_place() -> None:
    w = Tensor([1.0, 2.0, 3.0])
    before = w.data
    w.data[1] = 10.0
    w.data -= 1.0
    assert w.data is before
    assert (w * 2).data.tolist() == [0.0, 18.0, 4.0]


def test_grad_is_assignable() -> None:
    x = Tensor([1.0, 2.0])
    assert x.grad is None
    x.grad = np.array([0.5, 0.5])
    assert isinstance(x.grad, Tensor)
    assert x.grad.data.tolist() == [0.5, 0.5]
    x.grad = [1, 2]
    assert x.grad.dtype == F64
    x.grad = Tensor([3.0, 4.0])
    assert x.grad.data.tolist() == [3.0, 4.0]
    x.grad = None
    assert x.grad is None
    with pytest.raises(ValueError, match="shape"):
        x.grad = np.zeros(3)


def test_array_like_attributes() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3), name="W")
    assert t.shape == (2, 3)
    assert t.ndim == 2
    assert t.size == 6
    assert t.dtype == F64
    assert t.name == "W"
    assert t.requires_grad is True
    assert Tensor([1.0], requires_grad=False).requires_grad is False
    assert t.is_leaf and t.op is None and t.inputs == ()
    assert Value(2.5).item() == 2.5 and isinstance(Value(2.5).item(), float)
    assert float(Value(2.5)) == 2.5
    assert Tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError):
        t.item()
    assert np.asarray(t) is t.data or np.shares_memory(np.asarray(t), t.data)
    np.testing.assert_array_equal(np.asarray(t), t.data)
    assert np.asarray(t, dtype=np.float32).dtype == F32
    assert t.numpy() is t.data
    assert len(t) == 2
    assert [r.data.tolist() for r in t] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_detach_shares_data_and_tracks_nothing() -> None:
    x = Tensor([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert d.requires_grad is False
    assert d.is_leaf
    assert np.shares_memory(d.data, y.data)
    z = d * 3
    assert not z.requires_grad


def test_repr_is_readable() -> None:
    x = Tensor([1.0, 2.0], name="x")
    assert repr(x) == "Tensor([1., 2.], name='x')"
    y = x * 3
    y.sum().backward()
    r = repr(x)
    assert "grad=[3., 3.]" in r and "name='x'" in r
    assert "op=mul" in repr(y)
    assert "float32" in repr(Tensor(np.ones(2, dtype=np.float32)))
    big = repr(Tensor(np.zeros((100, 100))))
    assert "shape=(100, 100)" in big and len(big) < 400
    assert repr(Value(2.0, "apple")) == "Value(2., name='apple')"


# --- backward -------------------------------------------------------------------------------
def test_backward_of_non_scalar_needs_grad() -> None:
    y = Tensor([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*grad="):
        y.backward()
    y.backward(np.ones(2))  # an explicit upstream gradient is fine
    with pytest.raises(ValueError, match="shape"):
        (Tensor([1.0, 2.0]) * 2).backward(np.ones(3))


def test_backward_of_constant_is_an_error() -> None:
    y = Tensor([1.0], requires_grad=False) * 2
    with pytest.raises(RuntimeError, match="requires_grad"):
        y.backward()


def test_leaf_gradients_accumulate_across_calls() -> None:
    x = Tensor(3.0)
    (x * x).backward()
    (x * x).backward()
    assert x.grad.item() == 12.0
    x.grad = None
    (x * 5).backward()
    assert x.grad.item() == 5.0


def test_second_backward_through_released_graph_raises() -> None:
    x = Tensor(2.0)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = Tensor(2.0)
    y = x.exp() * x
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * first)
    assert first == pytest.approx(3 * math.exp(2.0))


def test_create_graph_cube_second_derivative() -> None:
    x = Tensor(2.0)
    y = x**3
    y.backward(create_graph=True)
    g = x.grad
    assert g.item() == pytest.approx(12.0)  # 3x²
    assert g.requires_grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12.0)  # 6x


def test_create_graph_tanh_via_grad_backward() -> None:
    x = Tensor(0.5)
    x.tanh().backward(create_graph=True)
    g = x.grad
    t = math.tanh(0.5)
    assert g.item() == pytest.approx(1 - t * t)
    x.grad = None
    g.backward()  # the first backward's graph must still be there (create_graph keeps it)
    assert x.grad.item() == pytest.approx(-2 * t * (1 - t * t))


def test_create_graph_default_keeps_graph_for_grad() -> None:
    x = Tensor([0.3, -0.7])
    (g,) = autograd.grad(x.exp().sum(), [x], create_graph=True)
    (gg,) = autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.data, np.exp(x.data))


def test_grad_returns_gradients_without_touching_dot_grad() -> None:
    x = Tensor([1.0, 2.0])
    w = Tensor([3.0, 4.0])
    unused = Tensor([5.0])
    y = (x * w).sum()
    gx, gw, gu = autograd.grad(y, [x, w, unused])
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    np.testing.assert_array_equal(gw.data, [1.0, 2.0])
    np.testing.assert_array_equal(gu.data, [0.0])
    assert x.grad is None and w.grad is None and y.grad is None


def test_grad_with_grad_output_and_intermediate_input() -> None:
    x = Tensor([1.0, 2.0])
    h = x * 3
    y = h * h
    gh, gx = autograd.grad(y, [h, x], np.array([1.0, 0.5]))
    np.testing.assert_allclose(gh.data, 2 * h.data * [1.0, 0.5])
    np.testing.assert_allclose(gx.data, 18 * x.data * [1.0, 0.5])


def _counting(op: autograd.Op) -> tuple[autograd.Op, list[int]]:
    calls = [0] * len(op.vjps)

    def wrap(i: int):  # type: ignore[no-untyped-def]
        def vjp(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls[i] += 1
            return op.vjps[i](*args, **kwargs)

        return vjp

    return dataclasses.replace(op, vjps=tuple(wrap(i) for i in range(len(op.vjps)))), calls


def test_gradients_only_computed_for_inputs_that_need_them() -> None:
    counted, calls = _counting(REGISTRY["matmul"])
    x = Tensor(np.ones((4, 3)), requires_grad=False)
    W = Tensor(np.ones((3, 2)))
    y = ops.apply(counted, (x, W))
    y.sum().backward()
    assert calls == [0, 1]  # the VJP for the data x is never called
    assert x.grad is None
    assert W.grad is not None

    # the real op, and a whole constant branch
    x = Tensor(np.ones((4, 3)), requires_grad=False)
    h = (x * 2).exp()
    assert not h.requires_grad and h.op is None  # nothing recorded for constants
    y = (h @ W).sum()
    y.backward()
    assert x.grad is None and h.grad is None


# --- fan-out --------------------------------------------------------------------------------
def test_fan_out_is_exact() -> None:
    x = Tensor(3.0)
    (x * x).backward()
    assert x.grad.item() == 6.0

    a = Tensor(1.5)
    (a + a).backward()
    assert a.grad.item() == 2.0

    a = Tensor(1.5)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0
    assert b.grad.item() == 2.0

    w = Tensor([1.0, 2.0])
    z = w * w * w  # w used three times
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.data, 3 * w.data**2)


# --- gradient storage -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.sum(),
        lambda x: x.mean(),
        lambda x: (x + Tensor(np.zeros((2, 3)))).sum(),
        lambda x: x.max(),
        lambda x: (x * 2).sum(),
        lambda x: (x - 1).sum(),
    ],
    ids=["sum", "mean", "broadcast", "max", "mul", "sub then sum"],
)
def test_leaf_grad_is_a_writable_array(make) -> None:  # type: ignore[no-untyped-def]
    x = Tensor([1.0, 2.0, 3.0])
    make(x).backward()
    g = x.grad.data
    assert isinstance(g, np.ndarray)
    assert g.flags.writeable
    g *= 0.5  # momentum-style in-place update
    g[0] = 7.0
    assert x.grad.data[0] == 7.0


def test_value_grad_is_a_writable_0d_array() -> None:
    v = Value(2.0)
    (v * 3).backward()
    assert isinstance(v.grad.data, np.ndarray) and v.grad.data.flags.writeable
    v.grad.data[...] = 0.0  # zeroing a gradient in place
    assert v.grad.item() == 0.0


def test_grad_does_not_alias_seed_or_other_grads() -> None:
    x = Tensor([1.0, 2.0])
    w = np.array([1.0, 1.0])
    y = x + 1
    y.backward(w)
    assert not np.shares_memory(x.grad.data, w)
    assert not np.shares_memory(x.grad.data, y.grad.data)
    x.grad.data[0] = 7.0
    assert w.tolist() == [1.0, 1.0]


# --- no_grad --------------------------------------------------------------------------------
def test_no_grad_context_manager() -> None:
    x = Tensor([1.0, 2.0])
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
        with enable_grad():
            z = x * 2
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y.op is None
    assert z.requires_grad and z.op is not None


def test_no_grad_restores_after_exception() -> None:
    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()


def test_no_grad_nested() -> None:
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_decorators() -> None:
    x = Tensor([1.0])

    @no_grad()
    def called(t: Tensor) -> Tensor:
        """doc"""
        return t * 2

    @no_grad
    def bare(t: Tensor) -> Tensor:
        return t * 2

    for f in (called, bare):
        y = f(x)
        assert isinstance(y, Tensor) and not y.requires_grad
        assert is_grad_enabled()
    assert called.__name__ == "called" and called.__doc__ == "doc"
    assert bare.__name__ == "bare"


def test_parameter_update_under_no_grad_records_nothing() -> None:
    w = Tensor([1.0, 2.0])
    (w * w).sum().backward()
    with no_grad():
        w.data -= 0.1 * w.grad.data
        w2 = w - 0.1 * w.grad
    assert w.is_leaf and w2.op is None
    np.testing.assert_allclose(w.data, [0.8, 1.6])


# --- ids ------------------------------------------------------------------------------------
def _program() -> list[int]:
    a = Tensor(1.0)
    b = Tensor(2.0)
    c = a * b
    d = c.exp() + a
    return [t.id for t in (a, b, c, d)]


def _program_with_numbers() -> list[int]:
    a = Tensor(1.0)
    b = Tensor(2.0)
    # numbers no other test uses: the first run here is the first use anywhere in the session
    c = a * b * 2.0000123
    d = (c + 0.5000321).exp() / 3.0000456
    return [t.id for t in (a, b, c, d)]


def test_ids_are_reproducible_with_python_number_constants() -> None:
    """Running the same program twice numbers its tensors the same way (drawings match)."""
    first, second = _program_with_numbers(), _program_with_numbers()
    assert [i - first[0] for i in first] == [i - second[0] for i in second]


def test_ids_follow_creation_order_deterministically() -> None:
    first, second = _program(), _program()
    assert first == sorted(first) and len(set(first)) == 4
    assert [i - first[0] for i in first] == [i - second[0] for i in second]
    assert second[0] > first[-1]


# --- numerical gradient and gradcheck -------------------------------------------------------
def test_numerical_gradient_uses_the_books_h() -> None:
    x = np.array([1.0, 2.0])
    g = numerical_gradient(lambda a: np.sum(a**3), x)
    # central difference of x³ is 3x² + h² exactly: h = 1e-4 leaves 1e-8
    np.testing.assert_allclose(g, 3 * x**2 + 1e-8, rtol=0, atol=1e-9)


def test_numerical_gradient_restores_x_and_accepts_closures() -> None:
    W = np.array([[0.3, -1.2], [2.5, 0.1]])
    original = W.copy()
    x = np.array([1.0, 2.0])

    def loss() -> float:
        return float(np.sum((x @ W) ** 2))

    g = numerical_gradient(lambda _: loss(), W)  # the book's `lambda W: net.loss(x, t)`
    np.testing.assert_array_equal(W, original)
    np.testing.assert_allclose(g, 2 * np.outer(x, x @ W), rtol=1e-6)

    t = Tensor(W)
    g2 = numerical_gradient(lambda _: (Tensor(x) @ t).sum(), t)
    np.testing.assert_array_equal(t.data, original)
    np.testing.assert_allclose(g2, np.broadcast_to(x[:, None], (2, 2)), rtol=1e-6)


def test_numerical_gradient_rejects_integer_arrays() -> None:
    with pytest.raises(TypeError):
        numerical_gradient(lambda a: 0.0, np.array([1, 2]))


def test_numerical_gradient_says_what_is_wrong_with_x_and_f() -> None:
    """float16 gave an all-zero gradient (1 ± 1e-4 rounds to 1); a read-only x and an f
    returning an array or None were numpy's and float()'s words."""
    with pytest.raises(TypeError, match=r"float16, too coarse to nudge by h=0.0001"):
        numerical_gradient(lambda w: float((w**2).sum()), np.ones(3, np.float16))
    with pytest.raises(ValueError, match=r"x is read-only .*np.array\(x\)"):
        numerical_gradient(lambda w: float(w.sum()), np.broadcast_to(np.ones(1), (3,)))
    with pytest.raises(TypeError, match=r"one number \(the loss\), got ndarray of shape \(3,\)"):
        numerical_gradient(lambda w: w**2, np.ones(3))
    with pytest.raises(TypeError, match="f returned None"):
        numerical_gradient(lambda w: None, np.ones(3))
    x = np.ones(3, np.float32)  # float32 is coarse but works, as in the book's float32 nets
    assert numerical_gradient(lambda w: float((w**2).sum()), x) == pytest.approx([2.0] * 3, 1e-2)


def test_steps_and_tolerances_must_be_numbers_above_zero() -> None:
    """eps=0 was Python's ZeroDivisionError and atol='x' numpy's UFuncTypeError."""
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"gradcheck: eps must be a finite number > 0, got 0"):
        gradcheck(lambda t: t.sum(), x, eps=0)
    with pytest.raises(ValueError, match=r"gradcheck: atol must be a number, got 'x'"):
        gradcheck(lambda t: t.sum(), x, atol="x")
    with pytest.raises(ValueError, match=r"h must be a finite number > 0, got nan"):
        numerical_gradient(lambda w: float(w.sum()), np.ones(2), h=float("nan"))
    assert gradcheck(lambda t: t.sum(), x, atol=0, rtol=0.01)  # 0 is a tolerance


def test_gradcheck_passes_for_correct_function() -> None:
    x = Tensor(np.array([[0.5, -1.0], [2.0, 0.1]]), name="x")
    assert gradcheck(lambda t: (t.tanh() * t).sum(axis=0), x) is True


def _bad_square() -> autograd.Op:
    """x² with a wrong VJP (g·x instead of 2g·x); built here, never registered."""
    return autograd.Op(
        name="bad_square",
        symbol="²",
        forward=np.square,
        vjps=(lambda g, out, x: g * x,),
        local=("{x}",),
        rule=("g⊙{x}",),
    )


def test_gradcheck_names_input_and_element_for_a_wrong_vjp() -> None:
    bad = _bad_square()
    assert "bad_square" not in REGISTRY
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], name="weights")
    y = Tensor([0.5, 0.5])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: ops.apply(bad, (a,)) * b, x, y)
    message = str(info.value)
    assert "weights" in message and "(2, 2)" in message
    assert "element (" in message
    assert "backward gives" in message and "central differences give" in message
    unnamed = Tensor([3.0])
    with pytest.raises(GradcheckError, match=r"input 0 .*element \(0,\)"):
        gradcheck(lambda a: ops.apply(bad, (a,)), unnamed)
    assert "bad_square" not in REGISTRY


def test_gradcheck_rejects_nan_numeric() -> None:
    with np.errstate(invalid="ignore"), pytest.raises(GradcheckError):
        gradcheck(lambda t: autograd.log(t), Tensor([-1.0]))


def test_gradcheck_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError):
        gradcheck(lambda t: t * 2, Tensor([1.0], requires_grad=False))


def test_gradcheck_promotes_float32_to_float64() -> None:
    x = Tensor(np.array([0.3, 1.7], dtype=np.float32))
    assert gradcheck(lambda t: (t.exp() * t).sum(), x)
    assert x.dtype == F32 and x.grad is None  # the caller's tensor is left alone


def test_local_derivative_matches_book() -> None:
    apple, num = Value(100.0), Value(2.0)
    price = apple * num
    assert autograd.local_derivative(price, 0) == 2.0
    assert autograd.local_derivative(price, 1) == 100.0
    assert autograd.local_derivative(apple, 0) is None


def test_grad_results_are_arrays_of_their_own() -> None:
    """autograd.grad, like .grad, never hands out the caller's seed or one array twice."""
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    seed = np.ones(2)
    ga, gb = autograd.grad(a + b, [a, b], seed)
    ga.data[0] = 7.0
    assert gb.data.tolist() == [1.0, 1.0] and seed.tolist() == [1.0, 1.0]
    g1, g2, g3 = autograd.grad((a * a).sum(), [a, a, b])  # one input twice: was one Tensor
    g1.data[0] = 0.0
    assert g2.data.tolist() == [2.0, 4.0] and g3.data.tolist() == [0.0, 0.0]


def test_a_step_too_small_for_x_is_refused_not_a_zero_gradient() -> None:
    """The book's 4.1.1 warning: h=1e-50 beside 3.0 rounds away, and numerical_gradient gave
    [0, 0] for the gradient [6, 8] of x0² + x1²; gradcheck said backward was wrong."""

    def f(w):
        return float(np.sum(w**2))

    below = r"h=1e-50 is below float64's precision \(2.2e-16\): x \+ h rounds to x .*4\.1\.1\)"
    with pytest.raises(ValueError, match=below + "; use the book's h=1e-4"):
        numerical_gradient(f, np.array([3.0, 4.0]), h=1e-50)
    with pytest.raises(ValueError, match=r"h=1e-08 is below float32's precision"):
        numerical_gradient(f, np.array([3.0, 4.0], np.float32), h=1e-8)
    rounds = r"\(0,\) = 3: in float64, 3 \+ 1e-50 and 3 - 1e-50 round to the same"
    with pytest.raises(ValueError, match=r"gradcheck: x: eps=1e-50 is too small for the element "
                       + rounds):  # fmt: skip
        gradcheck(lambda t: (t * t).sum(), Tensor([3.0, 4.0], name="x"), eps=1e-50)
    assert numerical_gradient(f, np.array([0.0, 4.0]), h=1e-4) == pytest.approx([0.0, 8.0])


def test_gradcheck_at_a_kink_says_so() -> None:
    """relu at 0: 'backward gives 0.0, central differences give 0.738' and nothing else, as if
    relu's backward were wrong."""
    with pytest.raises(GradcheckError, match=r"x = 0 there is at a kink of fn \(slope 0 on the "
                       r"left, .* on the right\).*away_from=0"):  # fmt: skip
        gradcheck(lambda t: t.relu().sum(), Tensor([0.0, 1.0], name="x"))
    with pytest.raises(GradcheckError) as smooth:
        gradcheck(lambda t: t * Tensor(t.data), Tensor([0.5, 2.0], name="x"))
    assert "kink" not in str(smooth.value)


def test_gradcheck_names_the_kinked_input_and_blames_a_wrong_backward() -> None:
    """The kink report said 'x = 0 there' of an input named W (or unnamed), and excused a
    backward that is neither slope (nor between them) at a kink as the kink's doing."""
    with pytest.raises(GradcheckError, match=r"input 0 = 0 there is at a kink"):
        gradcheck(lambda t: t.relu().sum(), Tensor([0.0, 1.0]))
    with pytest.raises(GradcheckError) as wrong:  # at w = 1 backward gives 1, slopes 2 and 5
        gradcheck(lambda w: ((w - 1).relu() * 3 + Tensor(w.data) * w).sum(), Tensor([1.0]))
    assert "kink" not in str(wrong.value)
