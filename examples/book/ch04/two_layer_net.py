"""Book 4.5.1 (ch04/two_layer_net.py): the chapter 4 network, sigmoid hidden layer and softmax
output, on the engine. `numerical_gradient` is the book's central differences; `gradient` is
backpropagation by the engine (the book writes it by hand; chapter 5 explains why it works).

    python examples/book/ch04/two_layer_net.py      (checks one against the other on 3 samples)
"""

import numpy as np

from autograd import Tensor, log, numerical_gradient, sigmoid, softmax
from nn import ParamDict


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        rng = np.random.default_rng(seed)
        tensors = {
            "W1": Tensor(weight_init_std * rng.standard_normal((input_size, hidden_size))),
            "b1": Tensor(np.zeros(hidden_size)),
            "W2": Tensor(weight_init_std * rng.standard_normal((hidden_size, output_size))),
            "b2": Tensor(np.zeros(output_size)),
        }
        for key, tensor in tensors.items():
            tensor.name = key
        # params[key] is the very array the network computes with, as in the book
        self.params = ParamDict(tensors)

    def predict(self, x):
        W1, b1, W2, b2 = (self.params.tensors[key] for key in ("W1", "b1", "W2", "b2"))
        a1 = x @ W1 + b1
        z1 = sigmoid(a1)
        a2 = z1 @ W2 + b2
        return softmax(a2)

    # x: input data, t: one-hot labels
    def loss(self, x, t):
        y = self.predict(x)
        return -(t * log(y + 1e-7)).sum() / y.shape[0]  # the book's cross_entropy_error

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x).numpy(), axis=1)
        t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t).item()
        return {key: numerical_gradient(loss_W, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        tensors = self.params.tensors
        for tensor in tensors.values():
            tensor.grad = None
        self.loss(x, t).backward()
        return {key: tensor.grad.numpy() for key, tensor in tensors.items()}


if __name__ == "__main__":
    # 4.5.1's check on a small net: both gradients, every parameter
    rng = np.random.default_rng(1)
    x = rng.random((3, 784))
    t = np.eye(10)[[3, 1, 4]]
    net = TwoLayerNet(input_size=784, hidden_size=5, output_size=10)
    print({key: value.shape for key, value in net.params.items()})
    numerical = net.numerical_gradient(x, t)
    backprop = net.gradient(x, t)
    for key in numerical:
        print(f"{key}: {np.max(np.abs(numerical[key] - backprop[key])):.2e}")
