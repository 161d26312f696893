"""A plain backward (not recording) takes array shortcuts in matmul's and relu's VJPs and in
`sum_to`; they must give exactly what the recorded VJPs (create_graph=True) give, for every
shape matmul accepts, broadcast batches and float32 included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd
from autograd import Tensor

SHAPES = [
    ((5, 3), (3, 4)),
    ((2, 5, 3), (3, 4)),  # a batch against one matrix: the matrix's gradient is summed
    ((1, 5, 3), (6, 3, 4)),  # broadcast batch axes
    ((3,), (3, 4)),
    ((5, 3), (3,)),
    ((3,), (3,)),
]


def _both(fn: Any, *inputs: Tensor) -> tuple[list[np.ndarray], list[np.ndarray]]:
    out = fn(*inputs)
    recorded = autograd.grad(out, list(inputs), create_graph=True)
    out.backward()
    return [g.data for g in recorded], [t.grad.data for t in inputs]  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("sa", "sb"), SHAPES)
def test_matmul_relu_and_bias_gradients_match_the_recorded_vjps(sa, sb, dtype) -> None:
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal(sa).astype(dtype), name="a")
    b = Tensor(rng.standard_normal(sb).astype(dtype), name="b")
    out_shape = np.matmul(np.empty(sa), np.empty(sb)).shape
    bias = Tensor(rng.standard_normal(out_shape[-1:]).astype(dtype))  # summed over the rows
    recorded, plain = _both(lambda a, b, c: ((a @ b + c).relu() * 3.0).sum(), a, b, bias)
    for r, p, t in zip(recorded, plain, (a, b, bias), strict=True):
        assert p.shape == t.shape and p.dtype == dtype
        np.testing.assert_array_equal(p, r)


def test_a_plain_relu_gradient_is_a_value_for_values_and_zero_at_the_kink() -> None:
    x = autograd.Value(0.0, "x")
    y = x.relu() * 2.0
    y.backward()
    assert type(x.grad) is autograd.Value and x.grad.item() == 0.0
    t = Tensor(np.array([-1.0, 0.0, 2.0, np.nan]))
    (t.relu() * np.array([1.0, 1.0, 1.0, 1.0])).sum().backward()
    assert t.grad.data[:3].tolist() == [0.0, 0.0, 1.0]  # type: ignore[union-attr]
