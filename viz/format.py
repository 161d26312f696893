"""Numbers and arrays as people write them (`220`, not `220.00000000000003`).

The formatting lives in `autograd.text`, shared with `autograd.explain`, so a drawing and an
explanation never disagree on how a number looks; this module keeps viz's names for it.
"""

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
    "FEW",
    "MINUS",
    "SIGNIFICANT",
    "SMALL_ARRAY",
    "number",
    "shape_dtype",
    "shape_text",
    "shown",
    "values",
]
