"""Book 4.4.2 (ch04/gradient_simplenet.py): the gradient dW of a 2×3 network's loss, by
central differences and by the engine. The weights are the ones the book prints, so dW is the
book's too; the second row is 1.5 × the first because dW = xᵀ(y − t) and x = (0.6, 0.9).

    python examples/book/ch04/gradient_simplenet.py  (writes out/book/gradient_simplenet.png)
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from autograd import Tensor, numerical_gradient, softmax_cross_entropy

# the book's np.random.randn(2, 3), as printed in 4.4.2
BOOK_W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])


class simpleNet:
    def __init__(self):
        self.W = Tensor(BOOK_W.copy(), name="W")

    def predict(self, x):
        return x @ self.W

    def loss(self, x, t):
        z = self.predict(x)
        return softmax_cross_entropy(z, t)  # softmax, then cross-entropy, in one stable op


x = np.array([0.6, 0.9])
t = np.array([0.0, 0.0, 1.0])
net = simpleNet()
np.set_printoptions(precision=8, suppress=True)
print("predict:", net.predict(x).numpy())
print("loss:", net.loss(x, t).item())

f = lambda w: net.loss(x, t)
dW = numerical_gradient(f, net.W)
print("dW (numerical):")
print(dW)

net.loss(x, t).backward()
dW_engine = net.W.grad.numpy()
print("dW (engine):")
print(dW_engine)
print(f"largest |numerical - engine|: {np.max(np.abs(dW - dW_engine)):.1e}")
print("second row / first row:", dW_engine[1] / dW_engine[0])

fig = Figure(figsize=(7, 3), layout="constrained")
axes = fig.subplots(1, 2)
for ax, grad, title in zip(axes, (dW, dW_engine), ("numerical", "engine"), strict=True):
    image = ax.imshow(grad, cmap="coolwarm", vmin=-0.6, vmax=0.6)
    for (i, j), value in np.ndenumerate(grad):
        ax.text(j, i, f"{value:.4f}", ha="center", va="center")
    ax.set(title=f"dW, {title}", xticks=range(3), yticks=range(2))
fig.colorbar(image, ax=axes, shrink=0.8)
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "gradient_simplenet.png", dpi=100)
print(f"saved {out / 'gradient_simplenet.png'}")
