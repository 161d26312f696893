"""Book 6.1.7 (ch06/optimizer_compare_naive.py, Fig. 6-8): SGD, Momentum, AdaGrad and Adam on
f(x, y) = x²/20 + y², 30 steps from (−7, 2), each path drawn over the contours of f. The
optimizers are nn's (the book's formulas); the gradient of f comes from the engine.

    python examples/book/ch06/optimizer_compare_naive.py
    (writes out/book/optimizer_compare_naive.png)
"""

from collections import OrderedDict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from autograd import Value
from nn import SGD, AdaGrad, Adam, Momentum


def f(x, y):
    return x**2 / 20.0 + y**2


def df(x, y):
    """(∂f/∂x, ∂f/∂y) by backpropagation (by hand: x/10, 2y)."""
    vx, vy = Value(x), Value(y)
    f(vx, vy).backward()
    return vx.grad.item(), vy.grad.item()


init_pos = (-7.0, 2.0)
optimizers = OrderedDict()
optimizers["SGD"] = SGD(lr=0.95)
optimizers["Momentum"] = Momentum(lr=0.1)
optimizers["AdaGrad"] = AdaGrad(lr=1.5)
optimizers["Adam"] = Adam(lr=0.3)

fig = Figure(figsize=(9, 7), layout="constrained")
axes = fig.subplots(2, 2).ravel()
x = np.arange(-10, 10, 0.01)
y = np.arange(-5, 5, 0.01)
X, Y = np.meshgrid(x, y)
Z = f(X, Y)
Z[Z > 7] = 0  # the book's trick: no contour lines far out

for ax, (key, optimizer) in zip(axes, optimizers.items(), strict=True):
    params = {"x": init_pos[0], "y": init_pos[1]}
    grads = {}
    x_history = []
    y_history = []
    for _ in range(30):
        x_history.append(params["x"])
        y_history.append(params["y"])
        grads["x"], grads["y"] = df(params["x"], params["y"])
        optimizer.update(params, grads)
    print(f"{key:>8}: after 30 steps at ({float(params['x']):.6f}, {float(params['y']):.6f})")

    ax.plot(x_history, y_history, "o-", color="red", markersize=3)
    ax.contour(X, Y, Z)
    ax.plot(0, 0, "+")
    ax.set(xlim=(-10, 10), ylim=(-10, 10), xlabel="x", ylabel="y", title=key)

fig.suptitle("Fig. 6-8: f(x, y) = x²/20 + y², 30 steps from (−7, 2)")
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "optimizer_compare_naive.png", dpi=100)
print(f"saved {out / 'optimizer_compare_naive.png'}")
