"""Train the book's TwoLayerNet on MNIST (5.7.4 settings: 10,000 iterations, batch 100, lr 0.1,
50 hidden units), report train/test accuracy per epoch, save curves and weights in --out.

    SCRATCHGRAD_DATA=/path/to/mnist PYTHONPATH=. python examples/train_mnist.py [--optimizer adam]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from nn import SGD, AdaGrad, Adam, Momentum, Optimizer, RMSprop, TwoLayerNet
from nn.datasets import load_mnist

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:  # numpy's generators take none
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def output_folder(parser: argparse.ArgumentParser, out: Path) -> Path:
    """`out`, created now: a folder that cannot be made is refused before training, not after
    minutes of it (the weights would be lost)."""
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out}: it exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"--out {out}: cannot create this folder ({exc.strerror or exc})")
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="default: 0.1 for sgd (the book's), else the optimizer's own default",
    )
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--iters", type=_positive, default=10_000)
    parser.add_argument("--batch-size", type=_positive, default=100)
    parser.add_argument("--hidden", type=_positive, default=50)
    parser.add_argument("--seed", type=_seed, default=0)
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    lr = args.lr if args.lr is not None else (0.1 if args.optimizer == "sgd" else None)
    args.options = {} if lr is None else {"lr": lr}
    try:  # the optimizer's own check of lr, as a usage error
        OPTIMIZERS[args.optimizer](**args.options)
    except (TypeError, ValueError) as exc:
        parser.error(f"--lr {args.lr}: {exc}")
    output_folder(parser, args.out)
    return args


def save_curves(history: dict[str, Any], out: Path) -> list[Path]:
    """Loss per iteration and accuracy per epoch, as PNG files (no display needed)."""
    loss_fig = Figure(figsize=(6, 4))
    ax = loss_fig.subplots()
    ax.plot(history["loss"], linewidth=0.5)
    ax.set(xlabel="iteration", ylabel="loss", title="training loss (minibatch)")
    acc_fig = Figure(figsize=(6, 4))
    ax = acc_fig.subplots()
    ax.plot(history["epoch"], history["train_acc"], marker="o", label="train")
    ax.plot(history["epoch"], history["test_acc"], marker="s", linestyle="--", label="test")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title="accuracy")
    ax.legend(loc="lower right")
    paths = [out / "train_loss.png", out / "train_accuracy.png"]
    loss_fig.savefig(paths[0], dpi=100)
    acc_fig.savefig(paths[1], dpi=100)
    return paths


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, print per-epoch accuracies and the total time; return the history."""
    args = parse_args(argv)
    dtype = np.dtype(args.dtype)
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, one_hot_label=True, dtype=dtype
    )
    net = TwoLayerNet(784, args.hidden, 10, rng=args.seed, dtype=dtype)
    opt = OPTIMIZERS[args.optimizer](params=net.parameters(), **args.options)
    rng = np.random.default_rng(args.seed)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size // args.batch_size, 1)
    history: dict[str, Any] = {"loss": [], "epoch": [], "train_acc": [], "test_acc": []}

    start = time.perf_counter()
    bar = tqdm(range(args.iters), unit="it", disable=args.quiet, mininterval=0.5)
    for i in bar:
        batch_mask = rng.choice(train_size, args.batch_size)
        opt.zero_grad()
        loss = net.lastLayer(net(x_train[batch_mask]), t_train[batch_mask])
        loss.backward()
        opt.step()
        history["loss"].append(loss.item())
        if (i + 1) % iter_per_epoch == 0 or i + 1 == args.iters:
            history["epoch"].append((i + 1) / iter_per_epoch)
            history["train_acc"].append(net.accuracy(x_train, t_train))
            history["test_acc"].append(net.accuracy(x_test, t_test))
            bar.set_postfix(loss=f"{loss.item():.3f}", test_acc=f"{history['test_acc'][-1]:.4f}")
            tqdm.write(
                f"epoch {history['epoch'][-1]:5.2f}: train acc {history['train_acc'][-1]:.4f}, "
                f"test acc {history['test_acc'][-1]:.4f}"
            )
    bar.close()
    seconds = time.perf_counter() - start

    weights = args.out / "two_layer_net.npz"
    net.save(weights)
    plots = save_curves(history, args.out)
    print(f"{args.optimizer}, {args.dtype}, {args.iters} iterations: {seconds:.1f} s")
    print(f"final test accuracy {history['test_acc'][-1]:.4f}")
    print(f"saved {weights}, {', '.join(str(p) for p in plots)}")
    return {**history, "seconds": seconds, "weights": weights, "plots": plots}


if __name__ == "__main__":
    main()
