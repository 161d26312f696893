"""Scalar-engine speed: micrograd's demo network and deep chains, on our `Value` and on others.

    python bench/scalar.py            # everything, including the 1,000,000-deep chain
    python bench/scalar.py --quick    # without the 1,000,000-deep chain

Measured in one process, printed as a markdown table; nothing is asserted. What is timed:

- demo step: micrograd's demo.ipynb — an MLP 2-16-16-1 with relu, max-margin (hinge) loss plus
  L2 regularisation 1e-4 over 100 two-moons points (noise 0.1, seeded), SGD with the learning
  rate 1.0 - 0.9·k/100. One step is the forward over all 100 points, backward and the update;
  the median over `--steps` steps is reported, our steps and micrograd's taken in turns. Our
  network is a small scalar MLP of `Value` neurons written here; micrograd's is
  `micrograd.nn.MLP`, given the same initial weights (so the losses after the steps should
  agree — printed as a cross-check). The same network also
  runs once more as batched `Tensor` ops over the 100 points, which micrograd cannot do.
- chains: `y = y * 1.0000001`, one op per link, from a single leaf; build and backward timed
  separately. micrograd's backward sorts the graph recursively and fails beyond about a
  thousand links (the RecursionError is caught and reported, with the deepest chain that works).

micrograd and DeZero are used when importable (`pip install micrograd dezero`); otherwise the
table says "not installed". The targets (issue 12): the eager demo step at least 3x faster than
micrograd's (the traced one at least 30x: bench/trace.py), the 1,000,000-deep chain (build +
backward) under 5 s.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Tensor, Value

LINK = 1.0000001
SHIMS: list[str] = []
SIZES = (2, 16, 16, 1)


# --- data and initial weights -------------------------------------------------------------------
def two_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (like sklearn's make_moons), labels -1 / +1, shuffled."""
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    a = np.linspace(0, np.pi, n_outer)
    b = np.linspace(0, np.pi, n_inner)
    outer = np.stack([np.cos(a), np.sin(a)], axis=1)
    inner = np.stack([1 - np.cos(b), 1 - np.sin(b) - 0.5], axis=1)
    X = np.concatenate([outer, inner]) + rng.normal(scale=noise, size=(n, 2))
    y = np.concatenate([-np.ones(n_outer), np.ones(n_inner)])
    order = rng.permutation(n)
    return X[order], y[order]


def initial_weights(seed: int = 1) -> list[float]:
    """micrograd's parameter order: per neuron its weights (uniform in [-1, 1]), then bias 0."""
    rand = random.Random(seed)
    values: list[float] = []
    for nin, nout in itertools.pairwise(SIZES):
        for _ in range(nout):
            values.extend(rand.uniform(-1, 1) for _ in range(nin))
            values.append(0.0)
    return values


# --- our scalar MLP -----------------------------------------------------------------------------
class Neuron:
    def __init__(self, weights: list[float], bias: float, relu: bool) -> None:
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)
        self.relu = relu

    def __call__(self, x: list[Any]) -> Any:
        act = self.b
        for wi, xi in zip(self.w, x, strict=True):
            act = act + wi * xi
        return act.relu() if self.relu else act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class MLP:
    def __init__(self, init: list[float]) -> None:
        it = iter(init)
        self.layers: list[list[Neuron]] = []
        for i, (nin, nout) in enumerate(itertools.pairwise(SIZES)):
            relu = i != len(SIZES) - 2
            layer = []
            for _ in range(nout):
                weights = [next(it) for _ in range(nin)]
                layer.append(Neuron(weights, next(it), relu))
            self.layers.append(layer)

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            out = [n(x) for n in layer]
            x = out
        return x[0]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for n in layer for p in n.parameters()]


def sgd_step(total: Any, params: list[Any], k: int) -> float:
    """Backward and the demo's update, with its learning rate 1.0 - 0.9·k/100."""
    for p in params:
        p.grad = None
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in params:
        p.data -= lr * p.grad.data
    return total.item()


def our_step(model: MLP, X: np.ndarray, y: np.ndarray, k: int) -> float:
    params = model.parameters()
    inputs = [[Value(a, requires_grad=False), Value(b, requires_grad=False)] for a, b in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    return sgd_step(data_loss + reg_loss, params, k)


def graph_size(model: MLP, X: np.ndarray, y: np.ndarray) -> int:
    """How many nodes one demo step's loss graph has (the loss built as `our_step` builds it)."""
    params = model.parameters()
    inputs = [[Value(a, requires_grad=False), Value(b, requires_grad=False)] for a, b in X]
    losses = [(1 + -yi * model(x)).relu() for yi, x in zip(y.tolist(), inputs, strict=True)]
    total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
    seen = {id(total)}
    stack = [total]
    while stack:
        for t in stack.pop().inputs:
            if id(t) not in seen:
                seen.add(id(t))
                stack.append(t)
    return len(seen)


# --- the same network on tensors ----------------------------------------------------------------
def tensor_weights(init: list[float]) -> list[Tensor]:
    """micrograd's per-neuron weight list laid out as W (nin, nout) and b (nout,) per layer."""
    it = iter(init)
    params: list[Tensor] = []
    for nin, nout in itertools.pairwise(SIZES):
        W = np.empty((nin, nout))
        b = np.empty(nout)
        for j in range(nout):
            W[:, j] = [next(it) for _ in range(nin)]
            b[j] = next(it)
        params += [Tensor(W), Tensor(b)]
    return params


def tensor_step(params: list[Tensor], X: np.ndarray, y: np.ndarray, k: int) -> float:
    """One demo step with the 100 points as one batch: a dozen tensor ops instead of ~60,000."""
    h = Tensor(X, requires_grad=False)
    layers = len(params) // 2
    for i in range(layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < layers - 1:
            h = h.relu()
    scores = h.reshape(-1)
    data_loss = (1 - Tensor(y, requires_grad=False) * scores).relu().mean()
    reg_loss = 1e-4 * sum((p * p).sum() for p in params)
    return sgd_step(data_loss + reg_loss, params, k)


# --- micrograd ----------------------------------------------------------------------------------
def micrograd_step(mg: Any, model: Any, X: np.ndarray, y: np.ndarray, k: int) -> float:
    """The body of micrograd's demo.ipynb loop (its `loss()` then the update)."""
    inputs = [list(map(mg.Value, row)) for row in X.tolist()]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data


def import_micrograd() -> tuple[Any, Any] | str:
    try:
        from micrograd import engine, nn
    except ImportError:
        return "not installed"
    return engine, nn


def import_dezero() -> Any | str:
    try:
        import dezero
    except ImportError:
        return "not installed"
    except AttributeError as exc:  # dezero 0.0.13 uses np.int, removed in numpy 1.24
        if "np.int" not in str(exc) and "'int'" not in str(exc):
            return f"import failed: {exc}"
        np.int = int  # type: ignore[attr-defined]  # a compatibility alias, for dezero only
        SHIMS.append("DeZero imported with the alias np.int = int (it predates numpy 1.24)")
        for name in [m for m in sys.modules if m == "dezero" or m.startswith("dezero.")]:
            del sys.modules[name]
        try:
            import dezero
        except Exception as exc2:
            return f"import failed: {type(exc2).__name__}: {exc2}"
    return dezero


# --- timing -------------------------------------------------------------------------------------
def timed(f: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = f()
    return time.perf_counter() - start, result


def demo_times(
    steps: int, **engines: Callable[[int], float]
) -> dict[str, tuple[list[float], float]]:
    """Each engine's step times and its last loss. The engines take turns step by step (A B A
    B ...), so that a shared machine's load falls on both alike and their ratio stays fair."""
    times: dict[str, list[float]] = {name: [] for name in engines}
    losses = dict.fromkeys(engines, math.nan)
    for k in range(steps):
        for name, step in engines.items():
            gc.collect()
            seconds, losses[name] = timed(lambda k=k, step=step: step(k))
            times[name].append(seconds)
    return {name: (times[name], losses[name]) for name in engines}


def chain(make_leaf: Callable[[], Any], depth: int, backward: Callable[[Any], Any]) -> dict:
    """Build `y = y * LINK` `depth` times, then backward; times and the leaf's gradient."""
    gc.collect()
    x = make_leaf()

    def build() -> Any:
        y = x
        for _ in range(depth):
            y = y * LINK
        return y

    result: dict[str, Any] = {}
    result["build"], y = timed(build)
    start = time.perf_counter()
    try:
        backward(y)
        result["backward"] = time.perf_counter() - start
        result["grad"] = x.grad
    except RecursionError:
        result["backward"] = "RecursionError"
    del y
    gc.collect()
    return result


def micrograd_max_depth(mg: Any, limit: int = 100_000) -> int:
    """The deepest chain micrograd's recursive backward handles (bisection)."""

    def works(depth: int) -> bool:
        x = mg.Value(1.0)
        y = x
        for _ in range(depth):
            y = y * LINK
        try:
            y.backward()
        except RecursionError:
            return False
        return True

    low, high = 1, limit
    if works(high):
        return high
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if works(mid) else (low, mid)
    return low


# --- report -------------------------------------------------------------------------------------
def fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1e3:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000,000-deep chain")
    parser.add_argument("--steps", type=int, default=5, help="demo steps to time (median)")
    args = parser.parse_args(argv)

    X, y = two_moons()
    init = initial_weights()
    mg = import_micrograd()
    dz = import_dezero()
    rows: list[tuple[str, Any, Any, Any]] = []
    notes: list[str] = []

    # demo step
    ours = MLP(init)
    engines: dict[str, Callable[[int], float]] = {"ours": lambda k: our_step(ours, X, y, k)}
    if not isinstance(mg, str):
        engine, nn = mg
        theirs = nn.MLP(2, list(SIZES[1:]))
        for p, v in zip(theirs.parameters(), init, strict=True):
            p.data = v
        engines["micrograd"] = lambda k: micrograd_step(engine, theirs, X, y, k)
    timings = demo_times(args.steps, **engines)
    our_times, our_loss = timings["ours"]
    our_demo = statistics.median(our_times)
    mg_demo: Any = mg if isinstance(mg, str) else None
    if "micrograd" in timings:
        mg_times, mg_loss = timings["micrograd"]
        mg_demo = statistics.median(mg_times)
        notes.append(
            f"loss after {args.steps} demo steps from the same initial weights: "
            f"scratchgrad {our_loss:.6f}, micrograd {mg_loss:.6f}; steps taken in turns"
        )
    label = f"demo step (MLP 2-16-16-1, 100 moons), median of {args.steps}"
    rows.append((label, our_demo, mg_demo, "not run"))
    batched = tensor_weights(init)
    tensor_times, tensor_loss = demo_times(
        args.steps, tensor=lambda k: tensor_step(batched, X, y, k)
    )["tensor"]
    tensor_demo = statistics.median(tensor_times)
    rows.append(("demo step, the same network on batched `Tensor`s", tensor_demo, "—", "—"))
    notes.append(
        f"batched Tensor form, same initial weights: loss after {args.steps} steps "
        f"{tensor_loss:.6f} (scalar form {our_loss:.6f})"
    )

    # chains
    def our_chain(depth: int) -> dict:
        return chain(lambda: Value(1.0), depth, lambda t: t.backward())

    depths = [100_000] + ([] if args.quick else [1_000_000])
    results: dict[int, dict[str, dict]] = {}
    for depth in depths:
        results[depth] = {"ours": our_chain(depth)}
        expected = LINK**depth
        got = results[depth]["ours"]["grad"].item()
        notes.append(
            f"chain {depth:,}: our d y/d x = {got:.9f} (exact {expected:.9f}, "
            f"relative error {abs(got - expected) / expected:.1e})"
        )
    if not isinstance(mg, str):
        results[100_000]["micrograd"] = chain(
            lambda: mg[0].Value(1.0), 100_000, lambda t: t.backward()
        )
        deepest = micrograd_max_depth(mg[0])
        notes.append(
            f"micrograd: the deepest chain its backward handles is {deepest:,} links "
            f"(recursion limit {sys.getrecursionlimit()})"
        )
    if not isinstance(dz, str):
        results[100_000]["dezero"] = chain(
            lambda: dz.Variable(np.array(1.0)), 100_000, lambda t: t.backward()
        )

    def cell(depth: int, who: str, part: str) -> Any:
        if who == "micrograd" and isinstance(mg, str):
            return mg
        if who == "dezero" and isinstance(dz, str):
            return dz
        r = results.get(depth, {}).get(who)
        if r is None:
            return "not run"
        if part == "total":
            if isinstance(r["backward"], str):
                return f"{fmt(r['build'])} + {r['backward']}"
            return r["build"] + r["backward"]
        if part == "backward" and isinstance(r["backward"], str):
            return r["backward"]
        return r[part]

    for depth in depths:
        for part in ("build", "backward", "total"):
            rows.append(
                (
                    f"chain {depth:,}: {part}",
                    cell(depth, "ours", part),
                    cell(depth, "micrograd", part),
                    cell(depth, "dezero", part),
                )
            )

    versions = f"Python {sys.version.split()[0]}, numpy {np.__version__}"
    print(f"## Scalar benchmark ({versions})\n")
    print("| benchmark | scratchgrad `Value` | micrograd | DeZero |")
    print("| --- | ---: | ---: | ---: |")
    for name, a, b, c in rows:
        print(f"| {name} | {fmt(a)} | {fmt(b)} | {fmt(c)} |")
    print()
    nodes = graph_size(ours, X, y)
    per_node = f"{our_demo / nodes * 1e6:.1f} µs per node for ours"
    if not isinstance(mg_demo, str) and mg_demo:
        notes.insert(
            0,
            f"demo step: scratchgrad `Value` (scalar for scalar) is {mg_demo / our_demo:.2f}x "
            f"micrograd's speed (target: at least 3x); the same network on batched Tensors "
            f"{mg_demo / tensor_demo:.0f}x. {nodes:,} nodes per step: {per_node}, "
            f"{mg_demo / nodes * 1e6:.1f} µs for micrograd (forward, backward and update)",
        )
    else:
        notes.insert(0, f"demo step: {nodes:,} nodes per step, {per_node}")
    if 1_000_000 in results:
        r = results[1_000_000]["ours"]
        notes.insert(
            1,
            f"1,000,000-deep chain, build + backward: {r['build'] + r['backward']:.2f} s "
            "(target: under 5 s)",
        )
    for note in notes + SHIMS:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
