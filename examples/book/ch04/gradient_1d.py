"""Book 4.3.2 (ch04/gradient_1d.py): the numerical derivative of f(x) = 0.01x² + 0.1x, and the
tangent line at x = 5 (Fig. 4-7). Beside it, the engine's derivative: exact, not approximate.

    python examples/book/ch04/gradient_1d.py        (writes out/book/gradient_1d.png)
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from autograd import Value


def numerical_diff(f, x):
    h = 1e-4  # 0.0001
    return (f(x + h) - f(x - h)) / (2 * h)


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def engine_diff(f, x):
    """df/dx by backpropagation through the operations f records."""
    v = Value(x, "x")
    f(v).backward()
    return v.grad.item()


def tangent_line(f, x):
    d = numerical_diff(f, x)
    print(d)
    y = f(x) - d * x
    return lambda t: d * t + y


x = np.arange(0.0, 20.0, 0.1)
y = function_1(x)
tf = tangent_line(function_1, 5)  # prints 0.1999999999990898
y2 = tf(x)
print(numerical_diff(function_1, 10))  # 0.2999999999986347

# The true derivative is 0.02x + 0.1: 0.2 and 0.3. Central differences are off in the 12th
# digit; backpropagation gives the derivative itself (up to the last bit of the arithmetic).
for point in (5, 10):
    print(f"engine: df/dx at x = {point} is {engine_diff(function_1, point):.15g}")

fig = Figure(figsize=(6, 4.2), layout="constrained")
ax = fig.subplots()
ax.plot(x, y, label="f(x) = 0.01x² + 0.1x")
ax.plot(x, y2, label="tangent at x = 5 (slope 0.2)")
ax.plot([5], [function_1(5)], "o", color="black")
ax.set(xlabel="x", ylabel="f(x)", title="Fig. 4-7: the tangent line at x = 5")
ax.legend()
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "gradient_1d.png", dpi=100)
print(f"saved {out / 'gradient_1d.png'}")
