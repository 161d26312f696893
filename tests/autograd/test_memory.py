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


def test_deepcopy_of_a_deep_chain() -> None:
    """deepcopy recursed once per op and raised RecursionError (a thousand-frame traceback) for
    a graph about 300 ops deep, e.g. the sum of 400 losses; it copies graphs of any depth."""
    import copy

    x = Value(0.5, "x")
    y = x
    for _ in range(DEPTH // 20):
        y = y * 1.0001 + x * 1e-6
    x2, y2 = copy.deepcopy((x, y))
    assert y2 is not y and y2.item() == y.item() and x2.name == "x"
    (expected,) = autograd.grad(y, x)
    y2.backward()
    assert x2.grad.item() == pytest.approx(expected.item(), rel=1e-12) and x.grad is None


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


# --- a long session: each habit repeated, nothing kept per repetition ----------------------------
SESSION_BOUND = 64  # bytes per repetition; a leaked tensor is ~260, one Python float 24


def _growth_per_call(call, *, warmup: int, calls: int, levels: int = 6) -> tuple[float, int]:
    """(median bytes kept per call, tensors kept over all the calls), after a warm-up that
    fills the caches (numpy's included) once."""
    tracemalloc.start()  # before the warm-up: caches it fills are then counted at every level
    try:
        for _ in range(warmup):
            call()
        tensors_before = _live_tensors()
        used = []
        for _ in range(levels):
            gc.collect()
            used.append(tracemalloc.get_traced_memory()[0])
            for _ in range(calls):
                call()
        gc.collect()
        used.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    return float(np.median(np.diff(used))) / calls, _live_tensors() - tensors_before


def _session_habits() -> dict[str, tuple[object, int]]:
    """name -> (one repetition, repetitions per measured level)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(12, 4))
    W = Tensor(rng.normal(size=(4, 3)), name="W")
    data = Tensor(x, requires_grad=False)
    shapes = iter(range(10**9))

    def hooks_on_and_off() -> None:
        handle = W.register_hook(lambda g: g * 0.5)
        (data @ W).tanh().sum().backward()
        handle.remove()
        W.grad = None

    def second_order() -> None:
        loss = ((data @ W).tanh() ** 2).sum()
        (g,) = autograd.grad(loss, W, create_graph=True)
        (g * g).sum().backward()
        W.grad = None

    def anomaly_no_grad_and_scopes() -> None:
        with autograd.detect_anomaly(), autograd.scope("Layer"):
            loss = (data @ W).relu().sum()
            with no_grad():
                (data @ W).sum()
        loss.backward()
        W.grad = None

    def explained() -> None:
        a, b = Value(2.0, "a"), Value(3.0, "b")
        price = (a * b + a).tanh()
        autograd.explanation(price)
        autograd.backward_steps(price)

    program = autograd.trace(lambda x, W: (x @ W).relu().sum(), x, W)

    def new_shapes() -> None:  # more shapes than a program keeps: each call retraces
        for _ in range(2):
            rows = 1 + next(shapes) % 20
            program(x[:1].repeat(rows, axis=0), W.data)

    return {
        "hooks added and removed": (hooks_on_and_off, 200),
        "grad with create_graph": (second_order, 200),
        "detect_anomaly, no_grad, scope": (anomaly_no_grad_and_scopes, 200),
        "explanation and backward_steps": (explained, 100),
        # CPython keeps each filename given to compile(): 150 bytes here while every trace got
        # a new one (as CPython does, the first time each is used: the warm-up covers that)
        "a program retraced for shape after shape": (new_shapes, 40),
    }


@pytest.mark.parametrize("habit", list(_session_habits()))
def test_a_long_session_keeps_nothing_per_repetition(habit: str) -> None:
    call, calls = _session_habits()[habit]
    per_call, tensors_kept = _growth_per_call(call, warmup=3 * calls, calls=calls)
    assert tensors_kept <= 0, f"{habit}: {tensors_kept} tensors outlived their repetition"
    assert per_call < SESSION_BOUND, f"{habit}: {per_call:.0f} bytes kept per repetition"
