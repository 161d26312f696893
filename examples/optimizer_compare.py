"""SGD, Momentum, AdaGrad and Adam on MNIST, as in the book's ch. 6 (optimizer_compare_mnist.py):
a 5-layer MLP of 100-unit ReLU layers, 2000 iterations of batch 128, the same batches and the same
starting weights for every optimizer; the smoothed training losses go to one plot in --out.

    SCRATCHGRAD_DATA=/path/to/mnist PYTHONPATH=. python examples/optimizer_compare.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from nn import MLP, SGD, AdaGrad, Adam, Momentum, Optimizer, RMSprop
from nn.datasets import load_mnist

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "SGD": SGD,
    "Momentum": Momentum,
    "AdaGrad": AdaGrad,
    "Adam": Adam,
    "RMSprop": RMSprop,
}


def smooth(values: list[float], window: int = 11) -> np.ndarray:
    """Moving average, so the trend shows through minibatch noise."""
    window = max(1, min(window, len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def _at_least(least: int) -> Any:
    """An argparse type: a whole number of at least `least` (a usage error, not a traceback)."""

    def whole(text: str) -> int:
        value = int(text)
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return whole


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train one network per optimizer on the same batches; print losses, save the plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--optimizers",
        nargs="+",
        choices=OPTIMIZERS,
        default=["SGD", "Momentum", "AdaGrad", "Adam"],
    )
    parser.add_argument("--iters", type=_at_least(1), default=2000)
    parser.add_argument("--batch-size", type=_at_least(1), default=128)
    parser.add_argument("--hidden", type=_at_least(1), default=100, help="units per hidden layer")
    parser.add_argument("--layers", type=_at_least(0), default=4, help="hidden layers (book: 4)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--seed", type=_at_least(0), default=0)
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():  # found now, not after the training
        parser.error(f"--out {args.out}: it exists and is not a folder")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"--out {args.out}: cannot create this folder ({exc.strerror or exc})")

    dtype = np.dtype(args.dtype)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, dtype=dtype)
    sizes = [784, *[args.hidden] * args.layers, 10]
    networks = {name: MLP(sizes, rng=args.seed, dtype=dtype) for name in args.optimizers}
    optimizers = {name: OPTIMIZERS[name]() for name in args.optimizers}  # the book's defaults
    train_loss: dict[str, list[float]] = {name: [] for name in args.optimizers}
    rng = np.random.default_rng(args.seed)

    start = time.perf_counter()
    for i in tqdm(range(args.iters), unit="it", disable=args.quiet, mininterval=0.5):
        batch_mask = rng.choice(x_train.shape[0], args.batch_size)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        for name, network in networks.items():
            grads = network.gradient(x_batch, t_batch)  # the book's face of both
            optimizers[name].update(network.params, grads)
            train_loss[name].append(float(network.lastLayer.loss))  # loss before this update
        if i % 100 == 0 or i + 1 == args.iters:
            losses = ", ".join(f"{name} {train_loss[name][-1]:.4f}" for name in networks)
            tqdm.write(f"iteration {i}: {losses}")
    seconds = time.perf_counter() - start

    test_acc = {name: network.accuracy(x_test, t_test) for name, network in networks.items()}
    for name, acc in test_acc.items():
        print(f"{name:>8}: final loss {np.mean(train_loss[name][-50:]):.4f}, test acc {acc:.4f}")
    print(f"{args.iters} iterations x {len(networks)} networks: {seconds:.1f} s")

    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    markers = {"SGD": "o", "Momentum": "x", "AdaGrad": "s", "Adam": "D", "RMSprop": "^"}
    ends = []
    for name, losses in train_loss.items():
        curve = smooth(losses)
        ends.append(curve[-1])
        ax.plot(curve, marker=markers[name], markevery=max(len(curve) // 10, 1), label=name)
    # the book's 0 to 1, raised where a short run leaves a curve above 1 (SGD after 100 steps
    # ends at 1.6: cut at 1 it would be a name in the legend with no line)
    top = max(1.0, 1.1 * max(ends))
    ax.set(xlabel="iterations", ylabel="loss (smoothed)", ylim=(0, top))
    ax.set_title(f"MNIST, {len(sizes) - 1}-layer MLP, batch {args.batch_size}")
    ax.legend()
    plot = args.out / "optimizer_compare.png"
    fig.savefig(plot, dpi=100)
    print(f"saved {plot}")
    return {
        "train_loss": train_loss,
        "test_acc": test_acc,
        "seconds": seconds,
        "plot": plot,
        "figure": fig,
    }


if __name__ == "__main__":
    main()
