"""Regression tests for defects an adversarial user found in the engine's public contract:
numpy functions on tensors, in-place updates through shared memory, copies of graphs."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor, no_grad


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


def test_refused_ufunc_method_names_the_method_in_its_advice() -> None:
    with pytest.raises(TypeError, match=r"np\.add\.reduce\(t\.data\)"):
        np.add.reduce(Tensor([1.0, 2.0]))
