"""Fig. 5-16: buying 2 apples at 100 each with 10% tax, drawn as the book draws it.

Forward: 100 × 2 × 1.1 = 220. Backward from the price (gradient 1) gives
∂price/∂apple = 2.2, ∂price/∂num = 110 and ∂price/∂tax = 200: each red number under an arrow is
the red number after the op times the op's local derivative (the small blue text).

Run from the repository root: python examples/apple.py  (writes out/apple.svg and .png)
"""

from pathlib import Path

from autograd import Value
from viz import Drawing, draw
from viz.book import print_gradients, save_all, script_main


def main(out_dir: str | Path = "out") -> Drawing:
    apple = Value(100, "apple")
    num = Value(2, "num")
    tax = Value(1.1, "tax")
    price = apple * num * tax
    price.name = "price"

    price.backward()
    print_gradients(price, {"apple": apple, "num": num, "tax": tax})
    drawing = draw(price)
    save_all(drawing, out_dir, "apple")
    return drawing


if __name__ == "__main__":
    script_main(main, __doc__)
