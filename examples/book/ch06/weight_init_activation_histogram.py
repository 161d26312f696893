"""Book 6.2.2-6.2.3 (ch06/weight_init_activation_histogram.py, Fig. 6-10 to 6-14): 1,000 random
inputs through 5 layers of 100 units; a histogram of each layer's activations.

With weights of std 1 and sigmoid the activations pile up at 0 and 1 (the gradient vanishes);
std 0.01 piles them at 0.5 (every unit says the same); Xavier (std 1/√n) keeps them spread. For
ReLU, He (std √(2/n)) does what Xavier does for sigmoid and tanh. The forward pass runs on the
engine.

    python examples/book/ch06/weight_init_activation_histogram.py [--init 1|0.01|xavier|he]
        [--activation sigmoid|relu|tanh]
    (writes out/book/weight_init_activation_histogram[_<init>_<activation>].png)
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from autograd import Tensor, relu, sigmoid, tanh

ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu, "tanh": tanh}
parser = argparse.ArgumentParser(description="activation histograms of a 5-layer net")
parser.add_argument("--init", default="1", choices=["1", "0.01", "xavier", "he"])
parser.add_argument("--activation", default="sigmoid", choices=ACTIVATIONS)
args = parser.parse_args()

rng = np.random.default_rng(0)
input_data = rng.standard_normal((1000, 100))  # 1000 samples of 100 values
node_num = 100  # units per hidden layer
hidden_layer_size = 5  # number of hidden layers
activations = {}  # the activations of each layer

x = Tensor(input_data, requires_grad=False)
for i in range(hidden_layer_size):
    if i != 0:
        x = activations[i - 1]

    scale = {"1": 1.0, "0.01": 0.01, "xavier": np.sqrt(1.0 / node_num)}.get(
        args.init, np.sqrt(2.0 / node_num)
    )
    w = Tensor(rng.standard_normal((node_num, node_num)) * scale, requires_grad=False)

    a = x @ w
    z = ACTIVATIONS[args.activation](a)
    activations[i] = z

label = f"init {args.init}, {args.activation}"
print(label)
for i, z in activations.items():
    values = z.numpy()
    line = f"{i + 1}-layer: mean {values.mean():.3f}, std {values.std():.3f}"
    if args.activation == "sigmoid":  # saturated: where sigmoid's slope is almost 0
        line += f", below 0.1 or above 0.9: {np.mean((values < 0.1) | (values > 0.9)):.0%}"
    print(line)

fig = Figure(figsize=(12, 3), layout="constrained")
axes = fig.subplots(1, len(activations), sharey=True)
for ax, (i, z) in zip(axes, activations.items(), strict=True):
    ax.hist(z.numpy().ravel(), 30, range=(-1, 1) if args.activation == "tanh" else (0, 1))
    ax.set_title(f"{i + 1}-layer")
    if args.activation == "relu":
        ax.set_ylim(0, 7000)  # as the book's Fig. 6-14: the spike at 0 would flatten the rest
fig.suptitle(f"activations per layer: {label}")
default = args.init == "1" and args.activation == "sigmoid"
name = "weight_init_activation_histogram"
name += "" if default else f"_{args.init}_{args.activation}"
out = Path("out/book")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / f"{name}.png", dpi=100)
print(f"saved {out / f'{name}.png'}")
