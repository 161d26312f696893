"""Fig. 5-25/5-27: the Affine layer Y = X·W + B on a batch, and the gradients it sends back.

The book's rules, drawn on the arrows: ∂L/∂X = ∂L/∂Y · Wᵀ, ∂L/∂W = Xᵀ · ∂L/∂Y, and, because B
was copied to every row, ∂L/∂B = the sum of ∂L/∂Y over axis 0. Each gradient has the shape of
its value (W is 2 × 3, so is ∂L/∂W). The upstream gradient ∂L/∂Y is given, as in the figure.

Run from the repository root: python examples/affine.py  (writes out/affine.*)
"""

from pathlib import Path

import numpy as np

from autograd import Tensor
from viz import Drawing, draw
from viz.book import save_all, script_main
from viz.format import printable


def main(out_dir: str | Path = "out") -> Drawing:
    X = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="X")  # N = 2 samples
    W = Tensor([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], name="W")
    B = Tensor([0.1, 0.2, 0.3], name="B")
    Y = X @ W + B
    Y.name = "Y"
    dY = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])  # ∂L/∂Y, from the layers above
    Y.backward(dY)
    for name, t in (("X", X), ("W", W), ("B", B)):
        grad = np.round(t.grad.data, 6).tolist()  # type: ignore[union-attr]
        print(printable(f"∂L/∂{name} = {grad}"))
    drawing = draw(Y, title="Fig. 5-27: the batch Affine layer")
    save_all(drawing, out_dir, "affine")
    return drawing


if __name__ == "__main__":
    script_main(main, __doc__)
