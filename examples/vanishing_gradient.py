"""The vanishing gradient: how much gradient reaches each layer of a 10-layer network of sigmoid
units, against the same network with ReLU units (both initialised as the book recommends:
Xavier for sigmoid, He for ReLU; the same inputs and labels).

Backward through a sigmoid multiplies the gradient by σ′ ≤ 0.25, once per layer, so the first
layers of the sigmoid net hardly learn; ReLU passes the gradient through unchanged where it is
active. Printed: the mean |∂L/∂W| of each layer; drawn: a bar chart on a log scale.

    python examples/vanishing_gradient.py [--out out]   (writes OUT/vanishing_gradient.png)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nn import MLP
from viz.format import printable

LAYERS = 10
WIDTH = 100


def gradient_sizes(activation: str, x: np.ndarray, t: np.ndarray, seed: int = 0) -> list[float]:
    """Mean |∂L/∂W| of layers 1..LAYERS (the softmax cross-entropy loss), from the input side."""
    net = MLP([x.shape[1], *[WIDTH] * (LAYERS - 1), 10], activation, rng=seed)
    grads = net.gradient(x, t)
    return [float(np.mean(np.abs(grads[f"W{i}"]))) for i in range(1, LAYERS + 1)]


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, WIDTH))
    t = rng.integers(0, 10, size=200)
    sizes = {name: gradient_sizes(name, x, t) for name in ("sigmoid", "relu")}

    print(printable("mean |∂L/∂W| per layer (layer 1 is next to the input):"))
    print(f"{'layer':>5}  {'sigmoid':>10}  {'relu':>10}")
    for i in range(LAYERS):
        print(f"{i + 1:>5}  {sizes['sigmoid'][i]:>10.3e}  {sizes['relu'][i]:>10.3e}")
    for name, values in sizes.items():
        print(f"{name}: layer 1 gets {values[0] / values[-1]:.2e} of the last layer's gradient")

    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    layers = np.arange(1, LAYERS + 1)
    ax.bar(layers - 0.2, sizes["sigmoid"], width=0.4, label="sigmoid (Xavier)")
    ax.bar(layers + 0.2, sizes["relu"], width=0.4, label="ReLU (He)")
    ax.set(yscale="log", xticks=layers, xlabel="layer (1 = next to the input)")
    ax.set(ylabel="mean |∂L/∂W|", title=f"gradient reaching each layer of a {LAYERS}-layer net")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the plot: bars fill it
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "vanishing_gradient.png"
    fig.savefig(path, dpi=100)
    print(f"saved {path}")
    return sizes


if __name__ == "__main__":
    main()
