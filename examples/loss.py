"""A squared-error loss on the apple example: L = ½(f − 219)² with f = x·m·t.

f = 100 × 2 × 1.1 = 220 misses the target 219 by 1, so L = 0.5 and ∂L/∂f = f − 219 = 1; the
chain rule then gives ∂L/∂x = 2.2, ∂L/∂m = 110 and ∂L/∂t = 200 — the gradients of Fig. 5-16
scaled by the error. The same expression works on the command line:

    scratchgrad draw "0.5 * (x * m * t - 219) ** 2" x=100 m=2 t=1.1

Run from the repository root: python examples/loss.py  (writes out/loss.*)
"""

from pathlib import Path

from autograd import Value
from viz import Drawing, draw
from viz.book import print_gradients, save_all, script_main


def main(out_dir: str | Path = "out") -> Drawing:
    x = Value(100, "x")
    m = Value(2, "m")
    t = Value(1.1, "t")
    f = x * m * t
    f.name = "f"
    loss = 0.5 * (f - 219) ** 2
    loss.name = "L"

    loss.backward()
    print_gradients(loss, {"x": x, "m": m, "t": t, "f": f})
    drawing = draw(loss)
    save_all(drawing, out_dir, "loss")
    return drawing


if __name__ == "__main__":
    script_main(main, __doc__)
