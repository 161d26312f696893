"""Book 4.4.1 (ch04/gradient_method.py, Fig. 4-10): gradient descent on f(x0, x1) = x0² + x1²
from (−3, 4) with lr 0.1, the path drawn as dots; lr 10 diverges and lr 1e-10 barely moves, as
the book shows. The engine's exact gradient beside the book's numerical one: with lr 10 the
numerical gradient stops growing once x + h rounds to x (the book's −2.6e13), while the true
iterate keeps multiplying by −19 every step.

    python examples/book/ch04/gradient_method.py    (writes out/book/gradient_method.png)
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from autograd import Tensor, numerical_gradient
from viz.format import printable


def function_2(x):
    return np.sum(x**2)


def engine_gradient(f, x):
    t = Tensor(x)
    f(t).backward()
    return t.grad.numpy()


def gradient_descent(f, init_x, lr=0.01, step_num=100, gradient=numerical_gradient):
    x = init_x
    x_history = []
    for _ in range(step_num):
        x_history.append(x.copy())
        grad = gradient(f, x)
        x -= lr * grad
    return x, np.array(x_history)


np.set_printoptions(precision=8)
for lr in (0.1, 10.0, 1e-10):
    x, _ = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=lr, step_num=100)
    exact, _ = gradient_descent(
        function_2, np.array([-3.0, 4.0]), lr=lr, step_num=100, gradient=engine_gradient
    )
    print(f"lr={lr:g}, 100 steps:\n  numerical {x!r}\n  engine    {exact!r}")
    if lr == 10.0:  # the two disagree by 115 orders of magnitude: say why, where it shows
        print("  (they part: once x + h rounds to x the numerical gradient is 0 and x stops;")
        print(printable("   the exact gradient keeps multiplying x by 1 − 2·lr = −19 every step)"))

init_x = np.array([-3.0, 4.0])
lr = 0.1
step_num = 20
x, x_history = gradient_descent(function_2, init_x, lr=lr, step_num=step_num)

fig = Figure(figsize=(5.5, 5), layout="constrained")
ax = fig.subplots()
ax.plot([-5, 5], [0, 0], "--b")
ax.plot([0, 0], [-5, 5], "--b")
ax.plot(x_history[:, 0], x_history[:, 1], "o")
ax.set(xlim=(-3.5, 3.5), ylim=(-4.5, 4.5), xlabel="X0", ylabel="X1")
ax.set_title("Fig. 4-10: gradient descent from (−3, 4), lr 0.1")
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "gradient_method.png", dpi=100)
print(f"saved {out / 'gradient_method.png'}")
