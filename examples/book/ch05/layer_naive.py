"""Book 5.4 (ch05/layer_naive.py): the multiplication and addition layers, on the engine.

The book writes each layer's backward by hand. Here a layer only computes forward with engine
operations; its backward asks the engine for the gradients of its output with respect to its
own inputs, given the upstream gradient `dout`: the local chain-rule step of 5.4, derived from
the recorded operation instead of written out. Numbers, arrays and Tensors are accepted, and the
output is a Tensor, so layers chain into one graph that can also be drawn.
"""

import numpy as np

import autograd
from autograd import Tensor


def _node(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=float))


def _plain(t):
    return t.item() if t.ndim == 0 else t.numpy()


class _Layer:
    def _backward(self, dout):
        grads = autograd.grad(self.out, (self.x, self.y), dout, retain_graph=True)
        return tuple(_plain(g) for g in grads)


class MulLayer(_Layer):
    def forward(self, x, y):
        self.x, self.y = _node(x), _node(y)
        self.out = self.x * self.y
        return self.out

    def backward(self, dout):
        dx, dy = self._backward(dout)  # dout * y, dout * x
        return dx, dy


class AddLayer(_Layer):
    def forward(self, x, y):
        self.x, self.y = _node(x), _node(y)
        self.out = self.x + self.y
        return self.out

    def backward(self, dout):
        dx, dy = self._backward(dout)  # dout, dout
        return dx, dy


if __name__ == "__main__":
    mul = MulLayer()
    print("MulLayer: forward(100, 2) =", mul.forward(100, 2).item())
    print("          backward(1) =", mul.backward(1.0))
    add = AddLayer()
    print("AddLayer: forward(200, 450) =", add.forward(200, 450).item())
    print("          backward(1.1) =", add.backward(1.1))
