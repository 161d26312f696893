"""Numbers and arrays as people write them (`220`, not `220.00000000000003`).

The formatting lives in `autograd.text`, shared with `autograd.explain`, so a drawing and an
explanation never disagree on how a number looks; this module keeps viz's names for it.
"""

import sys
from typing import TextIO

from autograd.text import (
    ARRAY_SIGNIFICANT,
    FEW,
    MINUS,
    SIGNIFICANT,
    SMALL_ARRAY,
    number,
    shape_dtype,
    shape_text,
    shown,
    values,
)

__all__ = [
    "ARRAY_SIGNIFICANT",
    "ASCII_STAND_INS",
    "FEW",
    "MINUS",
    "SIGNIFICANT",
    "SMALL_ARRAY",
    "number",
    "printable",
    "shape_dtype",
    "shape_text",
    "shown",
    "values",
]


# what people type for our symbols where a terminal cannot show them
ASCII_STAND_INS = {"∂": "d", "−": "-", "×": "x", "·": "*", "²": "^2", "ᵀ": "^T", "Σ": "sum ",
                   "…": "...", "σ": "sigmoid", "½": "1/2"}  # fmt: skip


def printable(text: str, stream: TextIO | None = None) -> str:
    """`text` as `stream` (default: stdout) can encode it: a terminal that cannot show `∂`
    (`PYTHONIOENCODING=ascii`, a Latin-1 locale) gets `d`, `−` becomes `-`, and any other
    character it cannot show `\\u....`, instead of a UnicodeEncodeError."""
    encoding = getattr(stream if stream is not None else sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    except LookupError:  # a stream naming an encoding Python does not know
        encoding = "ascii"
    return "".join(_printable_char(c, encoding) for c in text)


def _printable_char(c: str, encoding: str) -> str:
    try:
        c.encode(encoding)
        return c
    except UnicodeEncodeError:
        return ASCII_STAND_INS.get(c) or c.encode("ascii", "backslashreplace").decode()
