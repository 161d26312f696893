"""Sigmoid, ReLU, tanh and softplus with their derivatives, the derivatives computed by the engine
(backward through each function, evaluated at 201 points at once: each output depends on its own
input only, so the gradient of the sum is the derivative at every point).

The sigmoid's derivative peaks at 0.25, at x = 0: every sigmoid layer multiplies the gradient
passing back through it by at most 1/4 (see vanishing_gradient.py). Softplus, log(1 + eˣ), is a
smooth ReLU whose derivative is the sigmoid.

    python examples/activations.py [--out out]      (writes OUT/activations.png)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from autograd import Tensor

ACTIVATIONS = ("sigmoid", "relu", "tanh", "softplus")


def derivatives(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (f(x), f'(x)), the derivative by backpropagation."""
    curves = {}
    for name in ACTIVATIONS:
        t = Tensor(x, name="x")
        y = getattr(t, name)()
        y.sum().backward()
        curves[name] = (y.numpy(), t.grad.numpy())
    return curves


def main(argv: list[str] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)

    x = np.linspace(-5, 5, 201)  # includes 0 exactly
    curves = derivatives(x)
    for name, (_, slope) in curves.items():
        peak = int(np.argmax(slope))
        print(f"{name:>8}: largest derivative {slope[peak]:.4g} at x = {x[peak]:.3g}")

    fig = Figure(figsize=(12, 3.4), layout="constrained")
    for ax, (name, (value, slope)) in zip(fig.subplots(1, 4), curves.items(), strict=True):
        ax.plot(x, value, label=name)
        ax.plot(x, slope, linestyle="--", label=f"{name}′ (engine)")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set(title=name, xlabel="x", ylim=(-1.1, 2.0) if name != "tanh" else (-1.1, 1.1))
        ax.legend(loc="upper left", fontsize="small")
    sigmoid_slope = curves["sigmoid"][1]
    fig.axes[0].annotate(
        f"peak {sigmoid_slope.max():.2f} at 0", (0, sigmoid_slope.max()), (0.5, -0.6),
        arrowprops={"arrowstyle": "->"},
    )  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "activations.png"
    fig.savefig(path, dpi=100)
    print(f"saved {path}")
    return curves


if __name__ == "__main__":
    main()
