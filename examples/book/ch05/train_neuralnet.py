"""Book 5.7.4 (ch05/train_neuralnet.py): the ch. 5 TwoLayerNet (ReLU, SoftmaxWithLoss) trained by
backpropagation, 10,000 iterations of batch 100 at lr 0.1, printing train and test accuracy per
epoch. The book's text with its imports changed and its random generators seeded; the accuracy
curve goes to out/book/train_neuralnet_ch05.png.

    python examples/book/ch05/train_neuralnet.py [--iters 10000]
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nn import TwoLayerNet
from nn.datasets import load_mnist

parser = argparse.ArgumentParser(description="the book's ch. 5 training loop")
parser.add_argument("--iters", type=int, default=10000, help="iterations (book: 10000)")
args = parser.parse_args()
if args.iters < 1:
    parser.error(f"--iters must be at least 1, got {args.iters}")
np.random.seed(0)

# データの読み込み
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, rng=0)

iters_num = args.iters
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1

train_loss_list = []
train_acc_list = []
test_acc_list = []

iter_per_epoch = max(train_size / batch_size, 1)

for i in range(iters_num):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    # 勾配
    # grad = network.numerical_gradient(x_batch, t_batch)
    grad = network.gradient(x_batch, t_batch)

    # 更新
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= learning_rate * grad[key]

    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)

    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print(train_acc, test_acc)

fig = Figure(figsize=(6, 4), layout="constrained")
ax = fig.subplots()
x = np.arange(len(train_acc_list))
ax.plot(x, train_acc_list, marker="o", label="train acc")
ax.plot(x, test_acc_list, marker="s", label="test acc", linestyle="--")
ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0), title="ch. 5: TwoLayerNet by backprop")
ax.legend(loc="lower right")
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "train_neuralnet_ch05.png", dpi=100)
print(f"saved {out / 'train_neuralnet_ch05.png'}")
