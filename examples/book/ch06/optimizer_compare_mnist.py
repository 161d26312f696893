"""Book 6.1.8 (ch06/optimizer_compare_mnist.py, Fig. 6-9): SGD, Momentum, AdaGrad and Adam
training a 5-layer MLP (4 hidden layers of 100 ReLU units) on MNIST, 2,000 iterations of batch
128, the same batches and starting weights for each; the smoothed loss curves.

This runs examples/optimizer_compare.py (one copy of that code) with the book's settings and
writes out/book/optimizer_compare.png; its flags pass through (e.g. --iters 200).

    python examples/book/ch06/optimizer_compare_mnist.py [--iters 2000]
"""

import runpy
import sys
from pathlib import Path

script = Path(__file__).resolve().parents[2] / "optimizer_compare.py"
sys.argv = [str(script), "--out", "out/book", "--quiet", *sys.argv[1:]]
runpy.run_path(str(script), run_name="__main__")
