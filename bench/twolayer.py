"""What does autograd cost on the book's TwoLayerNet? One training step (784-50-10, batch 100,
SGD lr 0.1) on real MNIST batches, in µs, for

- scratchgrad, through the book's face (`net.gradient` + `params[key] -= lr * grad[key]`) and
  through the module face (`zero_grad`, `backward`, `SGD.step`);
- the book's hand-written layers (Affine / Relu / SoftmaxWithLoss with forward and backward);
- a plain-numpy floor: the same arithmetic in one function, without dx for the input;
- PyTorch CPU eager, in a subprocess (its threads and numpy's BLAS threads would distort each
  other in one process), when `import torch` works.

Steps are timed in blocks, the implementations interleaved block by block (ABCD ABCD ...), and
the median block is reported. Then the book's training loop (5.7.4: 10,000 iterations with the
per-epoch accuracies) is timed for scratchgrad and the book's layers (`--full`; by default a
shorter run of `--train-iters`), and memory is checked over a few thousand steps.

Run: SCRATCHGRAD_DATA=/path/to/mnist PYTHONPATH=. python bench/twolayer.py [--full]

On a small machine shared with other work, set OPENBLAS_NUM_THREADS=1: when another process holds
a core, OpenBLAS's threads wait for each other and matmul times swing by 10x or more.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Tensor
from nn import SGD, TwoLayerNet
from nn.datasets import load_mnist

KEYS = ("W1", "b1", "W2", "b2")
LR = 0.1
BATCH = 100
HIDDEN = 50


# --- the book's layers (ch. 5, common/layers.py), re-typed ------------------------------------
def softmax(x: np.ndarray) -> np.ndarray:
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class BookRelu:
    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout[self.mask] = 0
        return dout


class BookAffine:
    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b
        self.x: np.ndarray | None = None
        self.original_x_shape: tuple[int, ...] = ()
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class BookSoftmaxWithLoss:
    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout: float = 1) -> np.ndarray:
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


class BookTwoLayerNet:
    """ch05/two_layer_net.py, with the parameters passed in (so every contender starts equal)."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.params = params
        self.layers: OrderedDict[str, Any] = OrderedDict()
        self.layers["Affine1"] = BookAffine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = BookRelu()
        self.layers["Affine2"] = BookAffine(self.params["W2"], self.params["b2"])
        self.lastLayer = BookSoftmaxWithLoss()

    def predict(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W2"], grads["b2"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads


# --- the plain-numpy floor --------------------------------------------------------------------
def floor_gradient(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """Forward, loss and backward in one function; no dx for the input (nobody needs it)."""
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    n = x.shape[0]
    a1 = x @ W1
    a1 += b1
    h = np.maximum(a1, 0)
    s = h @ W2
    s += b2
    s -= s.max(axis=1, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=1, keepdims=True)
    loss = -np.sum(t * (s - np.log(total))) / n
    dy = (e / total - t) / n
    dh = dy @ W2.T
    dh *= a1 > 0
    return {
        "W1": x.T @ dh,
        "b1": dh.sum(axis=0),
        "W2": h.T @ dy,
        "b2": dy.sum(axis=0),
        "loss": loss,
    }


def numpy_step(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> None:
    grads = floor_gradient(p, x, t)
    for key in KEYS:
        p[key] -= LR * grads[key]


class FloorNet:
    """The floor's arithmetic behind the book's TwoLayerNet interface, for the training loop."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.params = params

    def predict(self, x: np.ndarray) -> np.ndarray:
        a1 = x @ self.params["W1"]
        a1 += self.params["b1"]
        np.maximum(a1, 0, out=a1)
        s = a1 @ self.params["W2"]
        s += self.params["b2"]
        return s

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        s = self.predict(x)
        s -= s.max(axis=1, keepdims=True)
        return -np.sum(t * (s - np.log(np.exp(s).sum(axis=1, keepdims=True)))) / x.shape[0]

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        y = np.argmax(self.predict(x), axis=1)
        return np.sum(y == np.argmax(t, axis=1)) / float(x.shape[0])

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return floor_gradient(self.params, x, t)


# --- contenders: each returns a step(x, t) closure with its own copy of the same start ---------
def initial_params(dtype: np.dtype, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W1": (0.01 * rng.standard_normal((784, HIDDEN))).astype(dtype),
        "b1": np.zeros(HIDDEN, dtype=dtype),
        "W2": (0.01 * rng.standard_normal((HIDDEN, 10))).astype(dtype),
        "b2": np.zeros(10, dtype=dtype),
    }


def scratchgrad_net(dtype: np.dtype) -> TwoLayerNet:
    net = TwoLayerNet(784, HIDDEN, 10, dtype=dtype)
    net.load_state_dict(initial_params(dtype))
    return net


def make_scratchgrad_book(dtype: np.dtype) -> Callable[[np.ndarray, np.ndarray], None]:
    net = scratchgrad_net(dtype)

    def step(x: np.ndarray, t: np.ndarray) -> None:
        grad = net.gradient(x, t)
        for key in KEYS:
            net.params[key] -= LR * grad[key]

    return step


def make_scratchgrad_module(dtype: np.dtype) -> Callable[[np.ndarray, np.ndarray], None]:
    net = scratchgrad_net(dtype)
    opt = SGD(lr=LR, params=net.parameters())

    def step(x: np.ndarray, t: np.ndarray) -> None:
        opt.zero_grad()
        net.lastLayer(net(x), t).backward()
        opt.step()

    return step


def make_book(dtype: np.dtype) -> Callable[[np.ndarray, np.ndarray], None]:
    net = BookTwoLayerNet(initial_params(dtype))

    def step(x: np.ndarray, t: np.ndarray) -> None:
        grad = net.gradient(x, t)
        for key in KEYS:
            net.params[key] -= LR * grad[key]

    return step


def make_numpy(dtype: np.dtype) -> Callable[[np.ndarray, np.ndarray], None]:
    params = initial_params(dtype)
    return lambda x, t: numpy_step(params, x, t)


CONTENDERS: dict[str, Callable[[np.ndarray], Callable[[np.ndarray, np.ndarray], None]]] = {
    "scratchgrad: net.gradient + params -= lr·grad": make_scratchgrad_book,
    "scratchgrad: backward + SGD.step": make_scratchgrad_module,
    "book layers (hand-written backward)": make_book,
    "plain numpy floor": make_numpy,
}


def batch_pool(
    x: np.ndarray, t: np.ndarray, count: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batches drawn once, as the book draws them, so gathering them is not timed."""
    rng = np.random.default_rng(seed)
    pool = []
    for _ in range(count):
        mask = rng.choice(x.shape[0], BATCH)
        pool.append((x[mask], t[mask]))
    return pool


def time_steps(
    steps: dict[str, Callable[[np.ndarray, np.ndarray], None]],
    pool: list[tuple[np.ndarray, np.ndarray]],
    blocks: int,
    per_block: int,
) -> dict[str, float]:
    """Median µs/step per contender, blocks interleaved so drifts hit everyone alike. Within a
    block every contender takes the same batches, and the order of the contenders turns each
    block, so that each one is as often the first to read them (from memory; the later ones
    find them in cache)."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():  # warm-up: first calls allocate and fill caches
        for x, t in pool[:20]:
            step(x, t)
    names = list(steps)
    for block in range(blocks):
        k = block % len(names)
        batches = [pool[(block * per_block + i) % len(pool)] for i in range(per_block)]
        for name in names[k:] + names[:k]:
            step = steps[name]
            start = time.perf_counter()
            for x, t in batches:
                step(x, t)
            times[name].append((time.perf_counter() - start) / per_block * 1e6)
    return {name: statistics.median(values) for name, values in times.items()}


# --- PyTorch, in its own process ---------------------------------------------------------------
TORCH_SCRIPT = r"""
import json, sys, time, statistics
try:
    import torch
except ImportError:
    print(json.dumps({"error": "not installed"}))
    sys.exit(0)
import numpy as np
data = np.load(sys.argv[1])
blocks, per_block = int(sys.argv[2]), int(sys.argv[3])
out = {"version": torch.__version__, "threads": torch.get_num_threads()}
for dtype in ("float64", "float32"):
    tdtype = getattr(torch, dtype)
    params = [torch.tensor(data[k].astype(dtype), requires_grad=True)
              for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params
    xs = torch.tensor(data["x"].astype(dtype))
    ts = torch.tensor(data["t"].astype(dtype))
    def step(x, t):
        scores = torch.relu(x @ W1 + b1) @ W2 + b2
        loss = torch.nn.functional.cross_entropy(scores, t)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
    n = xs.shape[0]
    for i in range(20):
        step(xs[i % n], ts[i % n])
    times = []
    cursor = 0
    for _ in range(blocks):
        start = time.perf_counter()
        for i in range(per_block):
            step(xs[(cursor + i) % n], ts[(cursor + i) % n])
        times.append((time.perf_counter() - start) / per_block * 1e6)
        cursor += per_block
    out[dtype] = statistics.median(times)
print(json.dumps(out))
"""


def time_torch(
    pool: list[tuple[np.ndarray, np.ndarray]], blocks: int, per_block: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "batches.npz")
        np.savez(
            path,
            x=np.stack([x for x, _ in pool]),
            t=np.stack([t for _, t in pool]),
            **initial_params(np.dtype(np.float64)),
        )
        proc = subprocess.run(
            [sys.executable, "-c", TORCH_SCRIPT, path, str(blocks), str(per_block)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        return {"error": f"failed: {proc.stderr.strip().splitlines()[-1:]}"}
    return json.loads(proc.stdout)


# --- the book's training loop (5.7.4) ----------------------------------------------------------
def book_training(net: Any, data: tuple, iters: int, seed: int) -> tuple[float, float]:
    """ch05/train_neuralnet.py's loop (batches from a seeded generator); (seconds, test acc)."""
    (x_train, t_train), (x_test, t_test) = data
    rng = np.random.default_rng(seed)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size / BATCH, 1)
    train_loss_list, train_acc_list, test_acc_list = [], [], []
    start = time.perf_counter()
    for i in range(iters):
        batch_mask = rng.choice(train_size, BATCH)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = net.gradient(x_batch, t_batch)
        for key in KEYS:
            net.params[key] -= LR * grad[key]
        loss = net.loss(x_batch, t_batch)
        train_loss_list.append(loss)
        if i % iter_per_epoch == 0:
            train_acc_list.append(net.accuracy(x_train, t_train))
            test_acc_list.append(net.accuracy(x_test, t_test))
    seconds = time.perf_counter() - start
    return seconds, net.accuracy(x_test, t_test)


# --- memory ------------------------------------------------------------------------------------
def rss_mb() -> float | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def live_tensors() -> int:
    return sum(isinstance(obj, Tensor) for obj in gc.get_objects())


def memory_check(pool: list[tuple[np.ndarray, np.ndarray]], steps: int) -> dict[str, float]:
    step = make_scratchgrad_book(np.dtype(np.float64))
    for x, t in pool[:200]:
        step(x, t)
    gc.collect()
    tracemalloc.start()
    before = (tracemalloc.get_traced_memory()[0], rss_mb(), live_tensors())
    for i in range(steps):
        x, t = pool[i % len(pool)]
        step(x, t)
    gc.collect()
    after = (tracemalloc.get_traced_memory()[0], rss_mb(), live_tensors())
    tracemalloc.stop()
    return {
        "steps": steps,
        "traced_kb_before": before[0] / 1024,
        "traced_kb_after": after[0] / 1024,
        "rss_mb_before": before[1] or float("nan"),
        "rss_mb_after": after[1] or float("nan"),
        "tensors_before": before[2],
        "tensors_after": after[2],
    }


def profile_scratchgrad(pool: list[tuple[np.ndarray, np.ndarray]], steps: int) -> str:
    step = make_scratchgrad_book(np.dtype(np.float64))
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        x, t = pool[i % len(pool)]
        step(x, t)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


# --- main --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=60, help="timed blocks per contender")
    parser.add_argument("--per-block", type=int, default=20, help="steps per block")
    parser.add_argument("--full", action="store_true", help="time the full 10,000-step training")
    parser.add_argument(
        "--train-iters", type=int, default=1200, help="training length without --full"
    )
    parser.add_argument("--train-repeats", type=int, default=3, help="interleaved training runs")
    parser.add_argument("--memory-steps", type=int, default=3000)
    parser.add_argument("--profile", action="store_true", help="cProfile scratchgrad's step")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"steps": {}}
    pools = {}
    for dtype in (np.dtype(np.float64), np.dtype(np.float32)):
        (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True, dtype=dtype)
        pools[dtype.name] = batch_pool(x_train, t_train, 200, args.seed)
        del x_train, t_train
        steps = {name: make(dtype) for name, make in CONTENDERS.items()}
        results["steps"][dtype.name] = time_steps(
            steps, pools[dtype.name], args.blocks, args.per_block
        )
    torch = time_torch(pools["float64"], args.blocks, args.per_block)
    results["torch"] = torch

    print(f"\n### One training step, 784-50-10, batch {BATCH}, SGD (median µs/step)\n")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(
        f"numpy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"OPENBLAS_NUM_THREADS={threads}, load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| implementation | float64 µs | × floor | float32 µs | × floor |")
    print("|---|---:|---:|---:|---:|")
    floor = {d: results["steps"][d]["plain numpy floor"] for d in ("float64", "float32")}
    rows = [*CONTENDERS, "PyTorch CPU eager (subprocess)"]
    for name in rows:
        cells = []
        for d in ("float64", "float32"):
            if name in CONTENDERS:
                value: Any = results["steps"][d][name]
            else:
                value = torch.get(d, torch.get("error", "n/a"))
            if isinstance(value, float):
                cells += [f"{value:.0f}", f"{value / floor[d]:.2f}"]
            else:
                cells += [str(value), ""]
        print(f"| {name} | " + " | ".join(cells) + " |")

    iters = 10_000 if args.full else args.train_iters
    data = load_mnist(normalize=True, one_hot_label=True)
    print(f"\n### The book's training loop (5.7.4), {iters} iterations, float64\n")
    nets = {
        "scratchgrad TwoLayerNet": lambda: scratchgrad_net(np.dtype(np.float64)),
        "book layers": lambda: BookTwoLayerNet(initial_params(np.dtype(np.float64))),
        "plain numpy floor": lambda: FloorNet(initial_params(np.dtype(np.float64))),
    }
    runs: dict[str, list[float]] = {name: [] for name in nets}
    for _ in range(args.train_repeats):  # interleaved: ABC ABC ...
        for name, make_net in nets.items():
            seconds, acc = book_training(make_net(), data, iters, args.seed)
            runs[name].append(seconds)
            print(f"- {name}: {seconds:.2f} s, final test accuracy {acc:.4f}")
    timings = {name: min(values) for name, values in runs.items()}  # noise only adds time
    ratio = timings["scratchgrad TwoLayerNet"] / timings["book layers"]
    floor_ratio = timings["plain numpy floor"] / timings["book layers"]
    print(f"- best scratchgrad / best book: {ratio:.2f}x (target ≤ 0.75x)")
    print(f"- best numpy floor / best book: {floor_ratio:.2f}x (what the same arithmetic allows)")
    results["training"] = {"iters": iters, **timings, "ratio": ratio}
    del data

    memory = memory_check(pools["float64"], args.memory_steps)
    results["memory"] = memory
    print(f"\n### Memory over {memory['steps']} scratchgrad steps (after a 200-step warm-up)\n")
    print(
        f"- tracemalloc: {memory['traced_kb_before']:.0f} KiB → {memory['traced_kb_after']:.0f} KiB"
    )
    print(f"- RSS: {memory['rss_mb_before']:.1f} MiB → {memory['rss_mb_after']:.1f} MiB")
    print(f"- live Tensors: {memory['tensors_before']} → {memory['tensors_after']}")

    if args.profile:
        print("\n### cProfile of 2000 scratchgrad steps (float64)\n")
        print(profile_scratchgrad(pools["float64"], 2000))
    return results


if __name__ == "__main__":
    main()
