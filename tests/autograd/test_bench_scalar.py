"""bench/scalar.py's pieces: the two-moons data, and its scalar `Value` MLP against the same
network written with matrices (scalar graph with heavy fan-out vs the tensor engine)."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import autograd
from autograd import Tensor

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scalar.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scalar", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scalar"] = module
    spec.loader.exec_module(module)
    return module


def test_two_moons(bench: ModuleType) -> None:
    X, y = bench.two_moons(100, noise=0.1, seed=0)
    assert X.shape == (100, 2) and y.shape == (100,)
    assert sorted(set(y.tolist())) == [-1.0, 1.0] and y.sum() == 0
    X2, y2 = bench.two_moons(100, noise=0.1, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert -1.5 < X[:, 0].min() and X[:, 0].max() < 2.5


def _matrices(init: list[float]) -> list[Tensor]:
    """The bench's parameter order (per neuron: weights then bias) as W, b per layer."""
    it = iter(init)
    params = []
    sizes = (2, 16, 16, 1)
    for nin, nout in itertools.pairwise(sizes):
        cols = [([next(it) for _ in range(nin)], next(it)) for _ in range(nout)]
        params.append(Tensor(np.array([w for w, _ in cols]).T, name="W"))
        params.append(Tensor(np.array([b for _, b in cols]), name="b"))
    return params


def test_scalar_mlp_matches_matrix_mlp(bench: ModuleType) -> None:
    X, y = bench.two_moons(20, seed=3)
    init = bench.initial_weights(seed=5)
    model = bench.MLP(init)
    before = [p.data.copy() for p in model.parameters()]

    W1, b1, W2, b2, W3, b3 = params = _matrices(init)
    h = (Tensor(X, requires_grad=False) @ W1 + b1).relu()
    h = (h @ W2 + b2).relu()
    scores = (h @ W3 + b3).reshape(-1)
    data_loss = (1 - Tensor(y, requires_grad=False) * scores).relu().mean()
    reg = sum(((p * p).sum() for p in params), Tensor(0.0, requires_grad=False))
    total = data_loss + 1e-4 * reg
    grads = autograd.grad(total, params)

    loss = bench.our_step(model, X, y, k=0)  # lr 1.0: p ← p − grad
    assert loss == pytest.approx(total.item(), rel=1e-12)
    after = [p.data for p in model.parameters()]
    scalar_grads = np.array(before) - np.array(after)
    flat = []
    for gW, gb in zip(grads[::2], grads[1::2], strict=True):
        for j in range(gb.shape[0]):
            flat.extend(gW.data[:, j].tolist())
            flat.append(gb.data[j])
    np.testing.assert_allclose(scalar_grads, flat, rtol=1e-9, atol=1e-12)


def test_graph_size_counts_each_node_once(bench: ModuleType) -> None:
    X, y = bench.two_moons(4, seed=3)
    model = bench.MLP(bench.initial_weights(seed=5))
    sizes = [bench.graph_size(model, X[:n], y[:n]) for n in (2, 3)]
    # a point: its 2 inputs; layer 1, 16 neurons of 2 products, 2 sums and a relu; layer 2, 16
    # of 16 + 16 + 1; layer 3, one of 16 + 16; its loss: -y*s, 1 + that, relu, the running sum
    assert sizes[1] - sizes[0] == 2 + 16 * 5 + 16 * 33 + 32 + 4
