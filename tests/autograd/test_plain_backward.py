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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_loss_gradient_scale_in_python_floats_is_numpys_quotient_bit_for_bit(dtype) -> None:
    """softmax-with-loss's plain VJP computes g/N as Python floats where that gives numpy's
    number: float64 always, float32 while N is a whole float32 number; beyond, numpy's."""
    from autograd.ops import _scale

    rng = np.random.default_rng(0)
    upstream = [1.0, 0.1, 3.0, 1e-30, 1e30, np.inf, -np.inf, np.nan, 0.0, -2.5]
    upstream += list(rng.standard_normal(200) * 10.0 ** rng.integers(-30, 30, 200))
    counts = [1, 2, 3, 7, 10, 100, 12345, 2**24 - 1, 2**24, 2**24 + 1, 3 * 10**7, 2**60 + 1]
    counts += [int(c) for c in rng.integers(1, 10**6, 100)]
    # the upstream gradient has the loss's dtype; float32 logits against float64 targets
    # give float64 shares from a float32 gradient
    for g in [np.asarray(u, dtype=d) for d in (dtype, np.float32) for u in upstream]:
        for count in counts:
            fast = np.asarray(1, dtype=dtype) * _scale(g, count, np.dtype(dtype))
            slow = np.asarray(1, dtype=dtype) * (g / np.asarray(count, dtype=dtype))
            assert fast.dtype == slow.dtype == dtype
            assert fast.tobytes() == slow.tobytes(), (g, count)
