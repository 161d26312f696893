"""Book 4.5.2-4.5.3 (ch04/train_neuralnet.py, Fig. 4-12): minibatch training of the chapter 4
network on MNIST, 10,000 iterations of batch 100 at lr 0.1; train and test accuracy printed once
per epoch and plotted. The book's loop, with the engine's gradient.

    python examples/book/ch04/train_neuralnet.py [--iters 10000]
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from two_layer_net import TwoLayerNet

from nn.datasets import load_mnist

parser = argparse.ArgumentParser(description="the book's ch. 4 training loop")
parser.add_argument("--iters", type=int, default=10000, help="iterations (book: 10000)")
args = parser.parse_args()
if args.iters < 1:
    parser.error(f"--iters must be at least 1, got {args.iters}")

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
rng = np.random.default_rng(0)

iters_num = args.iters
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1

train_loss_list = []
train_acc_list = []
test_acc_list = []

iter_per_epoch = max(train_size / batch_size, 1)

for i in range(iters_num):
    batch_mask = rng.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    grad = network.gradient(x_batch, t_batch)

    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= learning_rate * grad[key]

    loss = network.loss(x_batch, t_batch).item()
    train_loss_list.append(loss)

    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print("train acc, test acc | " + str(train_acc) + ", " + str(test_acc))

fig = Figure(figsize=(6, 4), layout="constrained")
ax = fig.subplots()
x = np.arange(len(train_acc_list))
ax.plot(x, train_acc_list, marker="o", label="train acc")
ax.plot(x, test_acc_list, marker="s", label="test acc", linestyle="--")
ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0), title="Fig. 4-12: accuracy per epoch")
ax.legend(loc="lower right")
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "train_neuralnet_ch04.png", dpi=100)
print(f"saved {out / 'train_neuralnet_ch04.png'}")
