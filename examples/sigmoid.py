"""Fig. 5-19/5-20: the sigmoid y = 1 / (1 + exp(−x)) as four small ops, next to the one-op σ.

Backward through ×(−1), exp, +1 and / multiplies four local derivatives; the product simplifies
to y(1 − y), which is exactly the local derivative the one-op sigmoid uses. Both graphs are
drawn in one picture, and both give the same gradient.

Run from the repository root: python examples/sigmoid.py  (writes out/sigmoid.*)
"""

from pathlib import Path

from autograd import Value
from viz import Drawing, draw, number
from viz.book import print_gradients, save_all, script_main
from viz.format import printable


def main(out_dir: str | Path = "out", x0: float = 1.0) -> Drawing:
    x = Value(x0, "x")
    minus_x = x * -1  # ×(−1), exp, +1, 1/…  as in Fig. 5-19, named as the book labels them
    minus_x.name = "−x"
    e = minus_x.exp()
    e.name = "exp(−x)"
    d = e + 1
    d.name = "1+exp(−x)"
    steps = 1 / d
    steps.name = "y"

    x_op = Value(x0, "x")
    y_op = x_op.sigmoid()
    y_op.name = "y"

    steps.backward()
    y_op.backward()
    print(printable("four ops (×−1, exp, +1, 1/·):"))
    print_gradients(steps, {"x": x})
    print(printable("one op (σ):"))
    print_gradients(y_op, {"x": x_op})
    y = steps.item()
    print(printable(f"y(1 − y) = {number(y * (1 - y))}  (the same number from both graphs)"))

    drawing = draw([steps, y_op], title=f"sigmoid at x = {number(x0)}: ∂y/∂x = y(1−y)")
    save_all(drawing, out_dir, "sigmoid")
    return drawing


if __name__ == "__main__":
    script_main(main, __doc__)
