"""The book's gradient check (5.7.3) on real MNIST: backpropagation against central differences
on the first training samples, and how much faster backpropagation is.

    SCRATCHGRAD_DATA=/path/to/mnist PYTHONPATH=. python examples/gradient_check.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nn import TwoLayerNet
from nn.datasets import load_mnist
from viz.format import printable


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print mean |backprop − numerical| per parameter and both timings; return the errors."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=3, help="training samples (book: 3)")
    parser.add_argument("--hidden", type=int, default=50, help="hidden units (book: 50)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    network = TwoLayerNet(input_size=784, hidden_size=args.hidden, output_size=10, rng=args.seed)
    x_batch = x_train[: args.samples]
    t_batch = t_train[: args.samples]

    start = time.perf_counter()
    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    numerical_seconds = time.perf_counter() - start

    repeats = 20  # one backward pass is too short to time alone
    start = time.perf_counter()
    for _ in range(repeats):
        grad_backprop = network.gradient(x_batch, t_batch)
    backprop_seconds = (time.perf_counter() - start) / repeats

    errors = {}
    print(printable("mean |backprop − numerical| per parameter (the book reports 1e-13 to 1e-7):"))
    for key in grad_numerical:
        errors[key] = float(np.average(np.abs(grad_backprop[key] - grad_numerical[key])))
        print(f"  {key}: {errors[key]:.3e}")
    print(f"numerical gradient: {numerical_seconds:.3f} s")
    print(f"backpropagation:    {backprop_seconds * 1e3:.3f} ms")
    print(f"backpropagation is {numerical_seconds / backprop_seconds:,.0f}x faster")
    return errors


if __name__ == "__main__":
    main()
