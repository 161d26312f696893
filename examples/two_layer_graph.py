"""TwoLayerNet (ch. 5) drawn from live code: Affine1 → Relu1 → Affine2 → SoftmaxWithLoss.

Every layer is a cluster holding its own parameters (W1 and b1 sit in Affine1); the data x and
the labels t come in from outside. `collapse=True` draws each layer as one box that says what
it computes and sends back (Y = X·W1+b1, ∂L/∂X = ∂L/∂Y · W1ᵀ, ...), with x and t still drawn.

Run from the repository root: python examples/two_layer_graph.py  (writes out/two_layer*.*)
"""

from pathlib import Path

import numpy as np

from nn import TwoLayerNet
from viz import Drawing, draw
from viz.book import save_all, script_main


def main(out_dir: str | Path = "out") -> tuple[Drawing, Drawing]:
    rng = np.random.default_rng(0)
    net = TwoLayerNet(input_size=3, hidden_size=4, output_size=2, weight_init_std=0.5, rng=rng)
    x = rng.standard_normal((2, 3))  # 2 samples
    t = np.array([[1.0, 0.0], [0.0, 1.0]])  # one-hot labels
    loss = net.lastLayer(net.predict(x), t)
    loss.name = "L"
    loss.backward()
    print(f"L = {loss.item():.6f}")
    plain = draw(loss, title="TwoLayerNet: every op")
    collapsed = draw(loss, collapse=True, title="TwoLayerNet: one box per layer")
    save_all(plain, out_dir, "two_layer")
    save_all(collapsed, out_dir, "two_layer_collapsed")
    return plain, collapsed


if __name__ == "__main__":
    script_main(main, __doc__)
