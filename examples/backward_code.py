"""The code backprop writes: the book's layer `backward` methods (ch. 5), and the program the
engine derives for TwoLayerNet from its op table, computing the same gradients.

    SCRATCHGRAD_DATA=/path/to/mnist PYTHONPATH=. python examples/backward_code.py

The book writes one class per layer, each with a `backward` that applies the chain rule by
hand. `net.compile(x, t)` records one training step and writes it as a single function: the
forward, then each layer's backward in reverse order, the book's names (`dout`, `dW1`, `db1`)
included. Printed one after the other, they read line for line the same, and on a real MNIST
batch they give the same gradients.
"""

from __future__ import annotations

import argparse
import inspect

import numpy as np

from nn import TwoLayerNet
from nn.datasets import load_mnist


# --- the book's layers (common/layers.py), as the book writes them ---------------------------
class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        x = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        return (self.y - self.t) / batch_size


def book_gradient(params: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict:
    """ch05/two_layer_net.py's `gradient`: forward through the layers, backward in reverse."""
    layers = [Affine(params["W1"], params["b1"]), Relu(), Affine(params["W2"], params["b2"])]
    last = SoftmaxWithLoss()
    h = x
    for layer in layers:
        h = layer.forward(h)
    last.forward(h, t)
    dout = last.backward(1)
    for layer in reversed(layers):
        dout = layer.backward(dout)
    return {"W1": layers[0].dW, "b1": layers[0].db, "W2": layers[2].dW, "b2": layers[2].db}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=50)
    args = parser.parse_args(argv)

    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    x, t = x_train[: args.batch_size], t_train[: args.batch_size]
    net = TwoLayerNet(784, args.hidden, 10, rng=0)

    print("# The book's layers, backward (ch. 5)\n")
    for layer in (SoftmaxWithLoss, Affine, Relu):  # in the order backward visits them
        print(f"class {layer.__name__}:")
        print(inspect.getsource(layer.backward))
    print("# The program autograd writes for TwoLayerNet: net.compile(x, t).source\n")
    program = net.compile(x, t)
    print(program.source)

    ours = net.gradient(x, t)  # runs the program
    theirs = book_gradient({key: net.params[key].copy() for key in net.params}, x, t)
    differences = {key: float(np.max(np.abs(ours[key] - theirs[key]))) for key in ours}
    print("# Same gradients on an MNIST batch (largest difference per parameter)\n")
    for key, difference in differences.items():
        print(f"  {key}: {difference:.1e}")
    return differences


if __name__ == "__main__":
    main()
