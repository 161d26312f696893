"""`autograd.testing`: the strategies draw what they promise, the checkers catch wrong VJPs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd.testing as agt
from autograd import GradcheckError, Op, Tensor, ops
from autograd.ops import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def test_core_package_does_not_import_hypothesis() -> None:
    code = (
        "import sys, autograd, autograd.ops, autograd.numeric, autograd.grad_mode\n"
        "from autograd import Tensor\n"
        "(Tensor([1.0]) * 2).sum().backward()\n"
        "assert 'hypothesis' not in sys.modules, 'autograd imported hypothesis'\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}
    )


@given(agt.shapes(min_dims=0, max_dims=3, max_side=4))
def test_shapes(shape: tuple[int, ...]) -> None:
    assert 0 <= len(shape) <= 3 and all(1 <= s <= 4 for s in shape)


@given(agt.broadcastable_shapes(n=3))
def test_broadcastable_shapes(drawn: tuple[tuple[int, ...], ...]) -> None:
    assert len(drawn) == 3
    np.broadcast_shapes(*drawn)


@given(agt.matmul_shapes())
def test_matmul_shapes_are_valid(pair: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    a, b = pair
    assert len(a) >= 1 and len(b) >= 1
    np.matmul(np.ones(a), np.ones(b))  # numpy agrees they multiply


def test_matmul_shapes_cover_vectors_and_broadcast_batches() -> None:
    kinds: set[str] = set()

    @settings(max_examples=300, derandomize=True)  # coverage must not depend on the profile
    @given(agt.matmul_shapes())
    def collect(pair: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
        a, b = pair
        if len(a) == 1 or len(b) == 1:
            kinds.add("vector")
        if len(a) > 2 or len(b) > 2:
            kinds.add("batched")
        if len(a) > 2 and len(b) > 2 and a[:-2] != b[:-2]:
            kinds.add("broadcast batch")

    collect()
    assert kinds == {"vector", "batched", "broadcast batch"}


@given(agt.arrays(agt.shapes(), low=-2.0, high=5.0, dtype=agt.float_dtypes(), away_from=[0.0, 1.0]))
def test_arrays_bounds_and_kinks(a: np.ndarray) -> None:
    assert a.dtype in (np.float32, np.float64)
    assert np.all((a >= -2.0) & (a <= 5.0))
    assert np.all(np.abs(a) >= 1e-2 * 0.999) and np.all(np.abs(a - 1.0) >= 1e-2 * 0.999)


@given(agt.arrays(agt.shapes(min_dims=1), min_gap=1e-3, dtype=agt.float_dtypes()))
def test_arrays_min_gap(a: np.ndarray) -> None:
    gaps = np.diff(np.sort(a.ravel().astype(np.float64)))
    assert np.all(gaps >= 1e-3 * 0.999)


@given(agt.arrays((3, 4), unique=True, dtype=np.float32))
def test_arrays_unique(a: np.ndarray) -> None:
    assert a.shape == (3, 4) and np.unique(a).size == a.size


@given(agt.tensors(5, low=0.1, high=1.0, requires_grad=st.booleans(), name="w"))
def test_tensors(t: Tensor) -> None:
    assert isinstance(t, Tensor) and t.shape == (5,) and t.name == "w"
    assert np.all(t.data >= 0.1)


def test_arrays_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        agt.arrays((2,), low=1.0, high=0.0)
    with pytest.raises(TypeError):
        agt.arrays((2,), dtype=np.int64)
    with pytest.raises(ValueError):
        agt.arrays((100,), low=0.0, high=0.01, min_gap=1e-3)


def _square(vjp) -> Op:  # type: ignore[no-untyped-def]
    return Op(name="square", symbol="²", forward=np.square, vjps=(vjp,), local=("",), rule=("",))


def test_check_gradients_passes_a_correct_function() -> None:
    x = Tensor([[0.3, -1.2], [2.0, 0.7]])
    f = lambda t: (t.tanh() * t.exp()).sum(axis=1)
    assert agt.check_gradients(f, x, order=1)
    assert agt.check_gradients(f, x, order=2)
    assert agt.gradgradcheck(f, x)


def test_check_gradients_catches_a_wrong_first_derivative() -> None:
    wrong = _square(lambda g, out, x: g * x)  # should be 2·g·x
    with pytest.raises(GradcheckError, match="element"):
        agt.check_gradients(lambda t: ops.apply(wrong, (t,)), Tensor([1.0, 2.0]))
    assert "square" not in REGISTRY


def test_gradgradcheck_catches_a_vjp_that_is_not_differentiable() -> None:
    """Right first derivative, but computed from raw numbers: the second derivative is lost."""
    frozen = _square(lambda g, out, x: g * Tensor(2 * x.data, requires_grad=False))
    f = lambda t: ops.apply(frozen, (t,))
    x = Tensor([1.0, -2.0], name="x")
    assert agt.check_gradients(f, x, order=1)
    with pytest.raises(GradcheckError, match=r"second derivatives.*x"):
        agt.check_gradients(f, x, order=2)


def test_gradgradcheck_with_two_inputs_and_constants() -> None:
    a = Tensor(np.array([[0.5, 1.0, -0.3]]), name="a")
    b = Tensor(np.array([[1.5], [0.2], [0.7]]), name="b")
    c = Tensor([2.0], requires_grad=False)
    assert agt.gradgradcheck(lambda x, y, k: ((x @ y).tanh() * k).sum() + (x * x).sum(), a, b, c)


def test_gradgradcheck_of_linear_and_constant_functions() -> None:
    x = Tensor([1.0, 2.0])
    assert agt.gradgradcheck(lambda t: t * 3 + 1, x)  # second derivatives are all zero
    assert agt.gradgradcheck(lambda t: Tensor([1.0], requires_grad=False), x)


def test_check_gradients_float32_inputs_and_order_argument() -> None:
    x = Tensor(np.array([0.2, 0.9], dtype=np.float32))
    assert agt.check_gradients(lambda t: t.sigmoid(), x, order=2)
    with pytest.raises(ValueError, match="order"):
        agt.check_gradients(lambda t: t, x, order=3)
    with pytest.raises(ValueError):
        agt.gradgradcheck(lambda t: t, Tensor([1.0], requires_grad=False))
