"""Numbers and arrays as people write them: `220`, not `220.00000000000003`.

Floating-point noise in the 16th digit is meaningless to someone checking the book's figures,
so every number in a drawing or on the command line goes through `number()`; arrays are shown in
full only when tiny, otherwise as shape, dtype and a one-line summary.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SIGNIFICANT = 6
ARRAY_SIGNIFICANT = 3  # entries and summaries of arrays: enough to compare, short enough to fit
SMALL_ARRAY = 6  # arrays with at most this many elements are printed in full
NOISE = 1e-12  # a mean this small next to the entries is rounding noise: say 0


def number(x: Any, digits: int = SIGNIFICANT) -> str:
    """At most 6 significant digits, no trailing zeros, scientific notation for tiny or huge.

    >>> number(220.00000000000003), number(3.3000000000000003), number(1.2e-08), number(3.4e12)
    ('220', '3.3', '1.2e-08', '3.4e+12')
    """
    value = float(x.item() if isinstance(x, np.ndarray) else x)  # also a (1,) array
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"  # also for -0.0, which would only confuse
    return f"{value:.{digits}g}"


def shape_dtype(array: np.ndarray) -> str:
    """`(100, 50) float64`: what a tensor is, before what it holds."""
    shape = "(" + ", ".join(str(s) for s in array.shape) + ("," if array.ndim == 1 else "") + ")"
    return f"{shape} {array.dtype}"


def values(array: Any) -> str:
    """The numbers themselves (small arrays in full, a matrix one row per line) or
    `mean 0.12 std 0.5` for larger ones."""
    arr = np.asarray(array)
    if arr.ndim == 0:
        return number(arr)
    if arr.size == 0:
        return "empty"
    if arr.size <= SMALL_ARRAY:
        rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim > 1 else arr[None]
        return "\n".join(_row(r) for r in rows)
    with np.errstate(all="ignore"):
        mean, std, scale = arr.mean(), arr.std(), np.abs(arr).max()
    if abs(mean) <= NOISE * scale:
        mean = 0.0
    return f"mean {number(mean, ARRAY_SIGNIFICANT)} std {number(std, ARRAY_SIGNIFICANT)}"


def _row(row: np.ndarray) -> str:
    return "[" + ", ".join(number(v, ARRAY_SIGNIFICANT) for v in row) + "]"
