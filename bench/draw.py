"""Drawing speed: how long `draw(...).svg()` takes for graphs of 100, 1,000 and 5,000 nodes.

    python bench/draw.py              # defaults, and "everything" where draw() does not warn
    python bench/draw.py --all        # also "everything" where it warns first (minutes each)

Measured in one process and printed as a markdown table; nothing is asserted (the tests only
check that such drawings finish). The graphs:

- fan-out: the CLI's `x+x+…+x` with 100 terms (one leaf read by 100 ops);
- scalar MLP: micrograd-style neurons of `Value`s (tanh(Σ wᵢxᵢ + b)) on one sample, sized to
  about 100, 1,000 and 5,000 nodes, no layers marked;
- nn MLP: `nn.MLP` on a batch, whose layers are marked, about 5,000 nodes (1,000 layers).

The target (issue 8): any `draw()` with default arguments under 5 s on 2 cores, and the
100-term CLI drawing well under 10 s.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Tensor, Value
from nn import MLP
from viz import LargeDrawingWarning, draw
from viz.expr import build as build_expr
from viz.graph import walk


def fan_out(terms: int = 100) -> Tensor:
    root, _ = build_expr("+".join(["x"] * terms), {"x": 1.0})
    root.backward()
    return root


def scalar_mlp(widths: list[int], seed: int = 0) -> Tensor:
    """One forward/backward of a micrograd-style MLP of scalar Values."""
    rng = random.Random(seed)
    xs = [Value(rng.uniform(-1, 1), f"x{i}") for i in range(widths[0])]
    for n_in, n_out in itertools.pairwise(widths):
        outs = []
        for _ in range(n_out):
            act = Value(0.0, "b")
            for x in xs[:n_in]:
                act = act + Value(rng.uniform(-1, 1), "w") * x
            outs.append(act.tanh())
        xs = outs
    loss = xs[0] if len(xs) == 1 else sum(xs[1:], xs[0])
    loss.backward()
    return loss


def nn_mlp(layers: int, seed: int = 0) -> Tensor:
    rng = np.random.default_rng(seed)
    net = MLP([4] + [4] * layers + [3], rng=seed)
    x = rng.standard_normal((2, 4))
    loss = net.lastLayer(net(x), np.array([0, 2]))
    loss.backward()
    return loss


def nodes(root: Tensor) -> int:
    return len(walk([root]))


def timed(make: Callable[[], object]) -> float:
    start = time.perf_counter()
    make()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--all", action="store_true", help="also draw in full what warns")
    args = parser.parse_args()
    cases = [
        ("fan-out x+x+…+x, 100 terms", fan_out()),
        ("scalar MLP", scalar_mlp([3, 4, 4, 1])),
        ("scalar MLP", scalar_mlp([6, 16, 14, 1])),
        ("scalar MLP", scalar_mlp([16, 32, 32, 1])),
        ("nn MLP, 1,000 layers", nn_mlp(1000)),
    ]
    print("| graph | nodes | default draw + svg | everything (max_nodes=None) |")
    print("|---|---:|---:|---:|")
    for name, root in cases:
        n = nodes(root)
        default = timed(lambda root=root: draw(root).svg())
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", LargeDrawingWarning)
            everything = draw(root, max_nodes=None)
        if said and not args.all:
            full = "warns; not run (--all)"
        else:
            full = f"{timed(everything.svg):.2f} s" + (" (warned first)" if said else "")
        print(f"| {name} | {n:,} | {default:.2f} s | {full} |")


if __name__ == "__main__":
    main()
