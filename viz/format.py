"""Numbers and arrays as people write them: `220`, not `220.00000000000003`.

Floating-point noise in the 16th digit is meaningless to someone checking the book's figures,
so every number in a drawing or on the command line goes through `number()`. Drawings use
`shown()`, the same with a real minus sign (U+2212, as in the op table's formulas). Arrays of
up to 16 elements are printed in full; bigger ones as their range and first few entries, which
stay right with inf and NaN inside.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SIGNIFICANT = 6
ARRAY_SIGNIFICANT = 3  # entries and summaries of arrays: enough to compare, short enough to fit
SMALL_ARRAY = 16  # arrays with at most this many elements are printed in full
FEW = 4  # entries listed in the summary of a bigger array
MINUS = "−"


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


def shown(x: Any, digits: int = SIGNIFICANT) -> str:
    """`number()` for a picture: `−2.5`, with the minus sign of the formulas around it."""
    return number(x, digits).replace("-", MINUS)


def shape_text(shape: tuple[int, ...]) -> str:
    """`(100, 50)`, and `(3,)` for one axis, as numpy prints shapes."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def shape_dtype(array: np.ndarray) -> str:
    """`(100, 50) float64`: what a tensor is, before what it holds."""
    return f"{shape_text(array.shape)} {array.dtype}"


def values(array: Any) -> str:
    """The numbers themselves (up to 16 in full, a matrix one row per line), or for bigger
    arrays `min −0.5 max 0.8` and the first few entries; `all 1` when they are all equal."""
    arr = np.asarray(array)
    if arr.ndim == 0:
        return shown(arr)
    if arr.size == 0:
        return "empty"
    if arr.size <= SMALL_ARRAY:
        rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim > 1 else arr[None]
        return "\n".join(_row(r) for r in rows)
    flat = arr.ravel()
    nan = int(np.count_nonzero(np.isnan(flat)))
    if nan == flat.size:
        return "all nan"
    lo, hi = np.nanmin(flat), np.nanmax(flat)
    more = f", {nan} nan" if nan else ""
    if lo == hi:
        return f"all {_short(lo)}{more}"
    first = ", ".join(_short(v) for v in flat[:FEW])
    return f"min {_short(lo)} max {_short(hi)}{more}\n[{first}, …]"


def _short(v: Any) -> str:
    return shown(v, ARRAY_SIGNIFICANT)


def _row(row: np.ndarray) -> str:
    return "[" + ", ".join(_short(v) for v in row) + "]"
