"""XOR needs a hidden layer: a 2-2-1 sigmoid network trained on the four XOR points with squared
error E = ½ Σ (y_o − y_true)², by gradient descent on the engine's gradients, which are checked
against the hand-derived delta rule at every step.

    output weights:  ∂E/∂W2 = y_hᵀ δ_o,   δ_o = (y_o − y_true) · y_o(1 − y_o)
    hidden weights:  ∂E/∂W1 = xᵀ δ_h,     δ_h = (δ_o W2ᵀ) · y_h(1 − y_h)

(biases: the sums of δ_o and δ_h over the samples). A network without the hidden layer cannot
separate XOR: its outputs stay near 0.5. Even with it, gradient descent can stall in a local
minimum from some starting weights (try --seed 0: one point stays at 0.5); --seed 2 does not.

    python examples/xor.py [--steps 4000] [--out out]   (writes OUT/xor.png)
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from autograd import Tensor
from viz.format import printable

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_TRUE = np.array([[0.0], [1.0], [1.0], [0.0]])


def init(seed: int, hidden: int = 2) -> dict[str, Tensor]:
    rng = np.random.default_rng(seed)
    shapes = {"W1": (2, hidden), "b1": (hidden,), "W2": (hidden, 1), "b2": (1,)}
    if hidden == 0:  # no hidden layer: output = σ(x W + b)
        shapes = {"W2": (2, 1), "b2": (1,)}
    return {key: Tensor(rng.uniform(-1, 1, size=shape), name=key) for key, shape in shapes.items()}


def forward(params: dict[str, Tensor], x: Any) -> tuple[Tensor, Tensor]:
    """(y_h, y_o); y_h is the input itself when there is no hidden layer."""
    y_h = (x @ params["W1"] + params["b1"]).sigmoid() if "W1" in params else Tensor(x)
    y_o = (y_h @ params["W2"] + params["b2"]).sigmoid()
    return y_h, y_o


def delta_rule(params: dict[str, Tensor], y_h: np.ndarray, y_o: np.ndarray) -> dict[str, Any]:
    """The hand-derived gradients of E (for the 2-2-1 net)."""
    delta_o = (y_o - Y_TRUE) * y_o * (1 - y_o)
    delta_h = (delta_o @ params["W2"].numpy().T) * y_h * (1 - y_h)
    return {"W2": y_h.T @ delta_o, "b2": delta_o.sum(0), "W1": X.T @ delta_h, "b1": delta_h.sum(0)}


def train(params: dict[str, Tensor], steps: int, lr: float) -> tuple[list[float], float]:
    """Gradient descent; returns the loss per step and the largest |engine − delta rule|."""
    losses, worst = [], 0.0
    for _ in range(steps):
        y_h, y_o = forward(params, X)
        loss = 0.5 * ((y_o - Y_TRUE) ** 2).sum()
        for p in params.values():
            p.grad = None
        loss.backward()
        if "W1" in params:
            by_hand = delta_rule(params, y_h.numpy(), y_o.numpy())
            for key, grad in by_hand.items():
                worst = max(worst, float(np.max(np.abs(params[key].grad.numpy() - grad))))
        for p in params.values():
            p.data -= lr * p.grad.numpy()
        losses.append(loss.item())
    return losses, worst


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=printable(__doc__.split("\n\n")[0]))
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    if args.steps < 1:  # (no loss to report: an IndexError)
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if not 0 < args.lr < math.inf:  # NaN made every output NaN; a negative step climbs
        parser.error(f"--lr must be a positive finite step size, got {args.lr}")
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")

    params = init(args.seed)
    losses, worst = train(params, args.steps, args.lr)
    predictions = forward(params, X)[1].numpy().ravel()
    print(f"2-2-1 sigmoid net, {args.steps} steps of lr {args.lr}: loss {losses[-1]:.5f}")
    for x, y, target in zip(X, predictions, Y_TRUE.ravel(), strict=True):
        print(f"  xor{tuple(int(v) for v in x)} = {y:.3f}  (target {int(target)})")
    print(f"engine gradients vs the delta rule, largest difference over all steps: {worst:.1e}")

    flat = init(args.seed, hidden=0)
    flat_losses, _ = train(flat, args.steps, args.lr)
    flat_predictions = forward(flat, X)[1].numpy().ravel()
    print(f"no hidden layer: loss {flat_losses[-1]:.4f}, outputs {np.round(flat_predictions, 3)}")

    fig = Figure(figsize=(10, 4), layout="constrained")
    loss_ax, map_ax = fig.subplots(1, 2)
    loss_ax.plot(losses, label="2-2-1 (hidden layer)")
    loss_ax.plot(flat_losses, label="2-1 (no hidden layer)")
    loss_ax.set(xlabel="step", ylabel="E = ½Σ(y − t)²", title="training loss", yscale="log")
    loss_ax.legend()
    grid = np.linspace(-0.25, 1.25, 121)
    gx, gy = np.meshgrid(grid, grid)
    surface = forward(params, np.stack([gx.ravel(), gy.ravel()], axis=1))[1].numpy()
    image = map_ax.contourf(gx, gy, surface.reshape(gx.shape), levels=20, cmap="coolwarm")
    map_ax.scatter(X[:, 0], X[:, 1], c=Y_TRUE.ravel(), cmap="coolwarm", edgecolors="black", s=120)
    map_ax.set(title="output of the trained 2-2-1 net", xlabel="x1", ylabel="x2", aspect="equal")
    fig.colorbar(image, ax=map_ax)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "xor.png"
    fig.savefig(path, dpi=100)
    print(f"saved {path}")
    return {"losses": losses, "predictions": predictions, "worst": worst, "flat": flat_predictions}


if __name__ == "__main__":
    main()
