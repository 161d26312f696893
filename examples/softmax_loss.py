"""Fig. 5-29/5-30: the Softmax-with-Loss layer, and its famously simple backward y − t.

Scores a go through Softmax to y, and Cross Entropy Error compares y with the labels t. The
engine computes both in one fused, stable op; the drawing shows the book's two layers, with y
on its arrow and (y − t)/N, N = 2 rows, flowing back into the scores element by element.

Run from the repository root: python examples/softmax_loss.py  (writes out/softmax_loss.*)
"""

from pathlib import Path

import numpy as np

import autograd
from autograd import Tensor
from viz import Drawing, draw
from viz.book import save_all, script_main
from viz.format import printable


def main(out_dir: str | Path = "out") -> Drawing:
    a = Tensor([[0.3, 2.9, 4.0], [1.0, 0.5, -1.0]], name="a")  # scores of 2 samples, 3 classes
    t = Tensor(np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), requires_grad=False, name="t")
    L = autograd.softmax_cross_entropy(a, t)
    L.name = "L"
    L.backward()
    with autograd.no_grad():
        y = autograd.softmax(a).data
    print("L =", round(L.item(), 6))
    print("y =", np.round(y, 3).tolist())
    dL_da = np.round(a.grad.data, 3).tolist()  # type: ignore[union-attr]
    print(printable(f"∂L/∂a = (y − t)/2 = {dL_da}"))
    drawing = draw(L, title="Fig. 5-30: Softmax-with-Loss, backward (y − t)/N")
    save_all(drawing, out_dir, "softmax_loss")
    return drawing


if __name__ == "__main__":
    script_main(main, __doc__)
