"""Book 5.7.3 (ch05/gradient_check.py): backpropagation against central differences on the first
3 MNIST training samples; the mean |difference| per parameter is tiny (the book: 1e-13 to 1e-7).
The book's text with its imports changed (and the network's weights seeded).

    python examples/book/ch05/gradient_check.py
"""

import numpy as np

from nn import TwoLayerNet
from nn.datasets import load_mnist

# データの読み込み
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, rng=0)

x_batch = x_train[:3]
t_batch = t_train[:3]

grad_numerical = network.numerical_gradient(x_batch, t_batch)
grad_backprop = network.gradient(x_batch, t_batch)

for key in grad_numerical.keys():
    diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
    print(key + ":" + str(diff))
