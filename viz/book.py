"""The book's running example and the little runner every example script shares.

`scratchgrad demo` and `examples/apple_orange.py` both draw Fig. 5-17, so its graph lives here,
in the installed package, once.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from autograd import Tensor, Value
from viz.drawing import Drawing
from viz.format import number, printable


def apple_orange() -> tuple[Tensor, dict[str, Tensor]]:
    """Fig. 5-17: 2 apples at 100 and 3 oranges at 150, plus 10% tax; returns (price, inputs)."""
    apple, num = Value(100, "apple"), Value(2, "num")
    orange, orange_num = Value(150, "orange"), Value(3, "orange_num")
    tax = Value(1.1, "tax")
    price = (apple * num + orange * orange_num) * tax
    price.name = "price"
    return price, {"apple": apple, "num": num, "orange": orange, "orange_num": orange_num,
                   "tax": tax}  # fmt: skip


def print_gradients(root: Tensor, inputs: Mapping[str, Tensor]) -> None:
    """`price = 715` and then `∂price/∂apple = 2.2` for each input, numbers as people write them
    (`dprice/dapple` where the terminal cannot show `∂`)."""
    out = root.name or "out"
    print(printable(f"{out} = {number(root.item())}"))
    for name, t in inputs.items():
        grad = "(not computed)" if t.grad is None else number(t.grad.item())
        print(printable(f"  ∂{out}/∂{name} = {grad}"))


def save_all(
    drawing: Drawing, out_dir: str | Path, stem: str, formats: Sequence[str] = ("svg", "png")
) -> list[Path]:
    """Write `out_dir/stem.svg` etc. (creating the folder) and say where they went."""
    paths = [drawing.save(Path(out_dir) / f"{stem}.{fmt}") for fmt in formats]
    print(printable("wrote " + ", ".join(str(p) for p in paths)))
    return paths


def script_main(main: Callable[[str], object], doc: str | None) -> None:
    """The command line of the figure scripts in examples/: `--help` prints the script's
    docstring instead of drawing (it used to be ignored, and the figure written), and
    `--out DIR` picks the folder (default: out)."""
    parser = argparse.ArgumentParser(
        description=printable(doc or ""), formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", default="out", metavar="DIR", help="folder for the .svg and .png (default: out)"
    )
    main(parser.parse_args().out)
