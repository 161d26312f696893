"""Deep graphs, freeing, reference cycles and memory over many training steps."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, no_grad

DEPTH = 100_000  # the 1,000,000 runs in bench/scalar.py; this keeps the suite quick


@pytest.fixture
def collector_off() -> Iterator[None]:
    """Cyclic GC off, so only reference counting frees anything."""
    gc.collect()
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def test_deep_chain_with_default_recursion_limit() -> None:
    assert DEPTH > 10 * sys.getrecursionlimit()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        x = Value(1.0)
        y = x
        for _ in range(DEPTH):
            y = y * 1.0000001
        y.backward()
        assert x.grad.item() == pytest.approx(1.0000001**DEPTH, rel=1e-9)
        peak_graph = tracemalloc.get_traced_memory()[0] - baseline
        root = weakref.ref(y)
        first = weakref.ref(x)
        del y  # freeing a 100k-deep chain must not overflow the C stack either
        assert root() is None
        assert first() is not None  # x is still ours
        del x
        assert first() is None
        gc.collect()  # finds no cycles here; it empties CPython's free lists before measuring
        left = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert peak_graph > 1_000_000  # the chain really was built
    assert left < peak_graph / 100, f"{left} of {peak_graph} bytes still held after dropping it"


def test_deep_chain_grad_and_second_backward_error() -> None:
    x = Value(0.5)
    y = x
    for _ in range(DEPTH // 4):
        y = y + x * 1e-6  # fan-out from x at every link
    (g,) = autograd.grad(y, [x], retain_graph=True)
    assert g.item() == pytest.approx(1 + 1e-6 * (DEPTH // 4))
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def _graph_nodes(root: Tensor) -> list[Tensor]:
    seen: dict[int, Tensor] = {}
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen[id(t)] = t
            stack.extend(t.inputs)
    return list(seen.values())


def _mlp_step(x: Tensor, W1: Tensor, W2: Tensor, labels: np.ndarray) -> Tensor:
    h = (x @ W1).relu()
    h = h.tanh() * h.sigmoid() + h  # fan-out
    return autograd.softmax_cross_entropy(h @ W2, labels) + (W1 * W1).sum() * 1e-3


@pytest.mark.parametrize("how", ["backward", "grad", "grad create_graph", "no backward"])
def test_no_reference_cycles(collector_off: None, how: str) -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(8, 4)), requires_grad=False)
    W1 = Tensor(rng.normal(size=(4, 5)))
    W2 = Tensor(rng.normal(size=(5, 3)))
    labels = rng.integers(0, 3, size=8)
    loss = _mlp_step(x, W1, W2, labels)
    # the nodes made by ops (leaves are the inputs and shared constants such as the 1e-3)
    refs = [weakref.ref(t) for t in _graph_nodes(loss) if not t.is_leaf]
    assert len(refs) > 10
    if how == "backward":
        loss.backward()
    elif how == "grad":
        autograd.grad(loss, [W1, W2])
    elif how == "grad create_graph":
        grads = autograd.grad(loss, [W1, W2], create_graph=True, retain_graph=True)
        second = autograd.grad(sum(((g * g).sum() for g in grads), Tensor(0.0)), [W1])
        refs += [weakref.ref(t) for g in grads + second for t in _graph_nodes(g) if not t.is_leaf]
        del grads, second
    W1.grad = None
    W2.grad = None
    del loss
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} graph tensors outlived the graph without the cyclic GC"

    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        ours = [o for o in gc.garbage if isinstance(o, Tensor)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not ours, f"the cyclic GC found {len(ours)} tensors in cycles"


def _live_tensors() -> int:
    gc.collect()
    return sum(isinstance(obj, Tensor) for obj in gc.get_objects())


STEPS_PER_LEVEL = 500
LEAK_BOUND = 16  # bytes per step; one leaked float per step is 24, one leaked tensor ~260


def test_memory_flat_over_thousands_of_steps() -> None:
    """No growth per step, asserted as a slope with margin (not a byte count: caches and free
    lists make the absolute level wander by kilobytes from run to run and machine to machine)."""
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(16, 4)), requires_grad=False)
    labels = rng.integers(0, 3, size=16)
    W1 = Tensor(rng.normal(size=(4, 8)) * 0.5)
    W2 = Tensor(rng.normal(size=(8, 3)) * 0.5)

    def step() -> float:
        loss = _mlp_step(x, W1, W2, labels)
        W1.grad = None
        W2.grad = None
        loss.backward()
        with no_grad():
            W1.data -= 0.05 * W1.grad.data
            W2.data -= 0.05 * W2.grad.data
        return loss.item()

    def used() -> int:
        gc.collect()  # empties free lists, so that only live objects are counted
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        for _ in range(300):  # warm-up: caches fill once
            first_loss = step()
        tensors_before = _live_tensors()
        levels = [used()]
        for _ in range(6):
            for _ in range(STEPS_PER_LEVEL):
                last_loss = step()
            levels.append(used())
        tensors_after = _live_tensors()
    finally:
        tracemalloc.stop()
    assert tensors_after == tensors_before, "tensors outlived their step"
    # The median growth per interval ignores a one-off allocation (a dict resizing somewhere);
    # a leak grows every interval.
    per_step = float(np.median(np.diff(levels))) / STEPS_PER_LEVEL
    assert per_step < LEAK_BOUND, f"memory every {STEPS_PER_LEVEL} steps (bytes): {levels}"
    assert last_loss < first_loss


def test_the_leak_bound_catches_a_small_leak() -> None:
    """The same measurement as above notices one leaked float per step (so it can fail)."""
    kept: list[float] = []

    def leaky_step() -> None:
        kept.append(float(len(kept)) + 0.5)  # a new 24-byte float object, kept

    tracemalloc.start()
    try:
        levels = []
        for _ in range(4):
            gc.collect()
            levels.append(tracemalloc.get_traced_memory()[0])
            for _ in range(STEPS_PER_LEVEL):
                leaky_step()
    finally:
        tracemalloc.stop()
    assert float(np.median(np.diff(levels))) / STEPS_PER_LEVEL > LEAK_BOUND
