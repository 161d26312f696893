"""Traced programs (`autograd.trace`, `model.compile`) against their baselines, same process.

    python bench/trace.py            # everything, with a 1,200-iteration training run
    python bench/trace.py --full     # the book's full 10,000-iteration training
    python bench/trace.py --quick    # fewer blocks; no training run

What is timed (medians; ratios against a baseline in the same process; nothing is asserted):

- TwoLayerNet step (784-50-10, batch 100, SGD lr 0.1, real MNIST batches) through the program
  `net.compile` traced (the book's face: `grad = net.gradient(x, t)`, `params[key] -= lr·grad`),
  and through the same program called directly on the arrays (what the program itself costs,
  without nn's wrapper), against bench/twolayer.py's plain-numpy floor and eager
  `net.gradient`, in float64 and float32 (blocks interleaved, the order turning each block).
  Target: ≤ 1.0× floor. `--repeats N` runs the whole comparison N times and prints the spread.
- micrograd's demo step (bench/scalar.py: MLP 2-16-16-1, max-margin loss, 100 two-moons points)
  traced into plain float arithmetic, against micrograd itself. Target: ≥ 30× faster. Losses
  after the same steps from the same weights are printed as a cross-check.
- Trace + compile times: TwoLayerNet and the demo's ~65,000-node scalar graph.
- The book's training loop (5.7.4) with the compiled step against the book's layers.

Run with SCRATCHGRAD_DATA pointing at MNIST and OPENBLAS_NUM_THREADS=1 (see bench/twolayer.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scalar  # (bench/scalar.py: the demo network, micrograd's step, timing)
import twolayer  # (bench/twolayer.py: the floor, batches, interleaved timing)

import autograd
from autograd import Value
from nn.datasets import load_mnist


# --- TwoLayerNet ---------------------------------------------------------------------------------
def make_traced(dtype: np.dtype) -> Callable[[np.ndarray, np.ndarray], None]:
    """The book's step through `net.compile`: `grad = net.gradient(x, t)`, `params -= lr·grad`."""
    net = twolayer.scratchgrad_net(dtype)
    x0 = np.zeros((twolayer.BATCH, 784), dtype=dtype)
    t0 = np.eye(10, dtype=dtype)[np.zeros(twolayer.BATCH, dtype=int)]
    net.compile(x0, t0)

    def step(x: np.ndarray, t: np.ndarray) -> None:
        grad = net.gradient(x, t)
        for key in twolayer.KEYS:
            net.params[key] -= twolayer.LR * grad[key]

    return step


def make_program(dtype: np.dtype) -> Callable[[np.ndarray, np.ndarray], None]:
    """The same program called directly: `program(x, t, *params)`, then `param -= lr·grad`."""
    net = twolayer.scratchgrad_net(dtype)
    x0 = np.zeros((twolayer.BATCH, 784), dtype=dtype)
    t0 = np.eye(10, dtype=dtype)[np.zeros(twolayer.BATCH, dtype=int)]
    program = net.compile(x0, t0)
    params = [net.params[key] for key in twolayer.KEYS]

    def step(x: np.ndarray, t: np.ndarray) -> None:
        _, grads = program(x, t, *params)
        for p, g in zip(params, grads[2:], strict=True):
            p -= twolayer.LR * g

    return step


CONTENDERS = {
    "traced program (net.compile)": make_traced,
    "the program called directly": make_program,
    "plain numpy floor": twolayer.make_numpy,
    "eager net.gradient": twolayer.make_scratchgrad_book,
}


def twolayer_steps(
    blocks: int, per_block: int, seed: int, repeats: int = 1
) -> list[dict[str, dict[str, float]]]:
    """Per repeat, per dtype: median µs/step of each contender (fresh contenders each time)."""
    runs: list[dict[str, dict[str, float]]] = [{} for _ in range(repeats)]
    for dtype in (np.dtype(np.float64), np.dtype(np.float32)):
        (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True, dtype=dtype)
        pool = twolayer.batch_pool(x_train, t_train, 200, seed)
        del x_train, t_train
        for run in runs:
            steps = {name: make(dtype) for name, make in CONTENDERS.items()}
            run[dtype.name] = twolayer.time_steps(steps, pool, blocks, per_block)
    return runs


def compile_time(repeats: int = 5) -> float:
    """Seconds for `net.compile(x, t)` on a fresh TwoLayerNet (trace, write, compile)."""
    times = []
    x = np.zeros((twolayer.BATCH, 784))
    t = np.eye(10)[np.zeros(twolayer.BATCH, dtype=int)]
    for _ in range(repeats):
        net = twolayer.scratchgrad_net(np.dtype(np.float64))
        start = time.perf_counter()
        net.compile(x, t)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- micrograd's demo ----------------------------------------------------------------------------
def demo_program(model: scalar.MLP, X: np.ndarray, y: np.ndarray) -> autograd.Program:
    """The demo's loss (bench/scalar.py's our_step without its update), traced over the
    parameters; the points are numbers of the program."""
    params = model.parameters()

    def loss(*_: Value) -> Value:  # the parameters are the model's own Values
        inputs = [[Value(a, requires_grad=False), Value(b, requires_grad=False)] for a, b in X]
        scores = [model(x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in params)
        return data_loss + reg_loss

    return autograd.trace(loss, *params)


def traced_demo_step(program: autograd.Program, values: list[float], k: int) -> float:
    loss, grads = program(*values)
    lr = 1.0 - 0.9 * k / 100
    for i, g in enumerate(grads):
        values[i] -= lr * g
    return loss


def demo(steps: int, points: int = 100) -> dict[str, Any]:
    X, y = scalar.two_moons(points)
    init = scalar.initial_weights()
    model = scalar.MLP(init)
    start = time.perf_counter()
    program = demo_program(model, X, y)
    trace_seconds = time.perf_counter() - start
    values = [float(p.data) for p in model.parameters()]
    eager = scalar.MLP(init)
    engines: dict[str, Callable[[int], float]] = {
        "traced": lambda k: traced_demo_step(program, values, k),
        "eager": lambda k: scalar.our_step(eager, X, y, k),
    }
    mg = scalar.import_micrograd()
    if not isinstance(mg, str):
        engine, nn = mg
        theirs = nn.MLP(2, list(scalar.SIZES[1:]))
        for p, v in zip(theirs.parameters(), init, strict=True):
            p.data = v
        engines["micrograd"] = lambda k: scalar.micrograd_step(engine, theirs, X, y, k)
    # the engines take their steps in turns, so a shared machine's load falls on all alike
    runs = scalar.demo_times(steps, **engines)
    result: dict[str, Any] = {
        "trace_seconds": trace_seconds,
        "lines": program.source.count("\n"),
        "micrograd": mg if isinstance(mg, str) else None,
    }
    for name, (times, loss) in runs.items():
        result[name], result[f"{name}_loss"] = statistics.median(times), loss
    return result


# --- training ------------------------------------------------------------------------------------
def training(iters: int, repeats: int, seed: int) -> dict[str, float]:
    data = load_mnist(normalize=True, one_hot_label=True)
    x0, t0 = data[0][0][: twolayer.BATCH], data[0][1][: twolayer.BATCH]

    def compiled() -> Any:
        net = twolayer.scratchgrad_net(np.dtype(np.float64))
        net.compile(x0, t0)
        return net

    nets = {
        "compiled TwoLayerNet": compiled,
        "book layers": lambda: twolayer.BookTwoLayerNet(twolayer.initial_params(np.dtype("f8"))),
    }
    runs: dict[str, list[float]] = {name: [] for name in nets}
    for _ in range(repeats):
        for name, make in nets.items():
            seconds, acc = twolayer.book_training(make(), data, iters, seed)
            runs[name].append(seconds)
            print(f"- {name}: {seconds:.2f} s, final test accuracy {acc:.4f}")
    return {name: min(values) for name, values in runs.items()}


# --- report --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=60)
    parser.add_argument("--per-block", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1, help="rerun the step comparison")
    parser.add_argument("--demo-steps", type=int, default=10)
    parser.add_argument("--demo-points", type=int, default=100, help="two-moons points")
    parser.add_argument("--full", action="store_true", help="the full 10,000-step training")
    parser.add_argument("--train-iters", type=int, default=1200)
    parser.add_argument("--train-repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer blocks, no training")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.blocks, args.per_block, args.demo_steps = 10, 10, 3

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(
        f"## Traced programs (numpy {np.__version__}, Python {sys.version.split()[0]}, "
        f"OPENBLAS_NUM_THREADS={threads}, load average {os.getloadavg()[0]:.1f})\n"
    )
    runs = twolayer_steps(args.blocks, args.per_block, args.seed, args.repeats)
    print(f"### TwoLayerNet step, 784-50-10, batch {twolayer.BATCH}, SGD (median µs/step)\n")
    print("| implementation | float64 µs | × floor | float32 µs | × floor |")
    print("|---|---:|---:|---:|---:|")
    dtypes = ("float64", "float32")
    for name in CONTENDERS:
        cells = []
        for d in dtypes:
            value = statistics.median(run[d][name] for run in runs)
            ratios = [run[d][name] / run[d]["plain numpy floor"] for run in runs]
            cells += [f"{value:.0f}", f"{statistics.median(ratios):.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if len(runs) > 1:
        print(f"\n× floor over {len(runs)} repeats (min / median / max):\n")
        for name in CONTENDERS:
            spreads = []
            for d in dtypes:
                r = sorted(run[d][name] / run[d]["plain numpy floor"] for run in runs)
                spreads.append(f"{d} {r[0]:.3f} / {statistics.median(r):.3f} / {r[-1]:.3f}")
            print(f"- {name}: " + "; ".join(spreads))
    print("\n(target: the traced program ≤ 1.00× the floor in both dtypes)\n")
    print(f"- TwoLayerNet trace + compile (net.compile): {compile_time() * 1e3:.1f} ms\n")

    result = demo(args.demo_steps, args.demo_points)
    print(f"### micrograd's demo step (MLP 2-16-16-1, {args.demo_points} moons, max-margin loss)\n")
    print("| implementation | ms/step | loss after the steps |")
    print("|---|---:|---:|")
    print(
        f"| traced program (floats) | {result['traced'] * 1e3:.2f} | {result['traced_loss']:.6f} |"
    )
    print(f"| eager `Value` | {result['eager'] * 1e3:.1f} | {result['eager_loss']:.6f} |")
    mg = result["micrograd"]
    if isinstance(mg, str):
        print(f"| micrograd | {mg} | |")
    else:
        print(f"| micrograd | {mg * 1e3:.1f} | {result['micrograd_loss']:.6f} |")
        print(
            f"\n- traced / micrograd: {mg / result['traced']:.0f}x faster (target ≥ 30x); "
            f"eager Value: {mg / result['eager']:.1f}x"
        )
    print(
        f"- trace + compile of the demo's graph: {result['trace_seconds']:.1f} s "
        f"({result['lines']:,} lines of program)"
    )

    if not args.quick:
        iters = 10_000 if args.full else args.train_iters
        print(f"\n### The book's training loop (5.7.4), {iters} iterations, float64\n")
        timings = training(iters, args.train_repeats, args.seed)
        ratio = timings["compiled TwoLayerNet"] / timings["book layers"]
        print(f"- best compiled / best book layers: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
