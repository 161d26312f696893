"""Book 4.4 (ch04/gradient_2d.py, Fig. 4-9): the arrows of −∇f for f(x0, x1) = x0² + x1² on a
0.25 grid over [−2, 2]², pointing at the minimum and longer the further away they start.

The gradient is taken at each 2-d point, by the book's `numerical_gradient` (one point at a
time, two variables each) and by the engine (all points in one backward pass: each point's f
depends on that point alone, so the gradient of the sum is every point's gradient). They agree.

    python examples/book/ch04/gradient_2d.py        (writes out/book/gradient_2d.png)
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from autograd import Tensor, numerical_gradient


def function_2(x):
    if x.ndim == 1:
        return np.sum(x**2)
    return np.sum(x**2, axis=1)


x0 = np.linspace(-2, 2, 17)  # -2, -1.75, ..., 2
x1 = np.linspace(-2, 2, 17)
X, Y = np.meshgrid(x0, x1)
points = np.stack([X.ravel(), Y.ravel()], axis=1)  # (289, 2): one row per point

numerical = np.array([numerical_gradient(function_2, p.copy()) for p in points])

x = Tensor(points, name="x")
(x**2).sum().backward()
engine = x.grad.numpy()

print(f"{len(points)} points, each a 2-d input")
for p in ([-2.0, 2.0], [1.0, 0.5], [0.0, 0.0]):
    i = int(np.flatnonzero((points == p).all(axis=1))[0])
    print(f"at {tuple(p)}: numerical {numerical[i]}, engine {engine[i]}")
print(f"largest |numerical - engine|: {np.max(np.abs(numerical - engine)):.2e}")

fig = Figure(figsize=(5.5, 5.5), layout="constrained")
ax = fig.subplots()
ax.quiver(points[:, 0], points[:, 1], -engine[:, 0], -engine[:, 1], angles="xy", color="#666666")
ax.set(xlim=(-2.3, 2.3), ylim=(-2.3, 2.3), xlabel="x0", ylabel="x1", aspect="equal")
ax.set_title("Fig. 4-9: −∇(x0² + x1²)")
ax.grid(True)
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "gradient_2d.png", dpi=100)
print(f"saved {out / 'gradient_2d.png'}")
