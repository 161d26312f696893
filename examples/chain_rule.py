"""Fig. 5-7/5-8: the chain rule on z = (x + y)², one op at a time.

With t = x + y, ∂z/∂x = ∂z/∂t · ∂t/∂x = 2t · 1. For x = 2, y = 1: t = 3, z = 9 and
∂z/∂x = ∂z/∂y = 6. In the picture the `**2` node's local derivative 2t = 6 multiplies the
incoming gradient 1; the `+` node passes 6 on to both inputs.

Run from the repository root: python examples/chain_rule.py  (writes out/chain_rule.*)
"""

from pathlib import Path

from autograd import Value
from viz import Drawing, draw
from viz.book import print_gradients, save_all, script_main


def main(out_dir: str | Path = "out") -> Drawing:
    x = Value(2, "x")
    y = Value(1, "y")
    t = x + y
    t.name = "t"
    z = t**2
    z.name = "z"

    z.backward()
    print_gradients(z, {"x": x, "y": y, "t": t})
    drawing = draw(z)
    save_all(drawing, out_dir, "chain_rule")
    return drawing


if __name__ == "__main__":
    script_main(main, __doc__)
