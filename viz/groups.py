"""`with viz.group("Affine1"): ...`: the drawing name of `autograd.scope`.

Regions are marked by the engine (each tensor records the innermost scope open in its thread
when it was made), so `nn` marks its layers without depending on the drawing package; this
module only reads the marks.
"""

from __future__ import annotations

from autograd import Tensor, region_of
from autograd import scope as group

__all__ = ["group", "region_name"]


def region_name(t: Tensor) -> str | None:
    """The name of the innermost region `t` was made in, or None."""
    region = region_of(t)
    return None if region is None else region.name
