"""`with viz.group("Affine1"): ...`: the drawing name of `autograd.scope`.

Regions are marked by the engine (each tensor records the innermost scope open in its thread
when it was made), so `nn` marks its layers without depending on the drawing package; viz only
reads the marks (`autograd.region_of`).
"""

from __future__ import annotations

from autograd import scope as group

__all__ = ["group"]
