"""Fig. 5-17: apples and oranges with tax — the example `scratchgrad demo` draws.

Forward: (100 × 2 + 150 × 3) × 1.1 = 715. Backward: ∂price/∂apple = 2.2, ∂price/∂num = 110,
∂price/∂orange = 3.3, ∂price/∂orange_num = 165, ∂price/∂tax = 650. The `+` node passes its
gradient on unchanged (local derivative 1); each `×` swaps its inputs.

The graph is built by `viz.book.apple_orange()` (shared with the demo):

    apple, num = Value(100, "apple"), Value(2, "num")
    orange, orange_num = Value(150, "orange"), Value(3, "orange_num")
    tax = Value(1.1, "tax")
    price = (apple * num + orange * orange_num) * tax

Run from the repository root: python examples/apple_orange.py  (writes out/apple_orange.*)
"""

from pathlib import Path

from viz import Drawing, draw
from viz.book import apple_orange, print_gradients, save_all, script_main


def main(out_dir: str | Path = "out") -> Drawing:
    price, inputs = apple_orange()
    price.backward()
    print_gradients(price, inputs)
    drawing = draw(price)
    save_all(drawing, out_dir, "apple_orange")
    return drawing


if __name__ == "__main__":
    script_main(main, __doc__)
