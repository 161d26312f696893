"""Draw scratchgrad's computational graphs the way "Deep Learning from Scratch" does (ch. 5).

from viz import draw
draw(price).save("price.png")
"""

from viz.drawing import Drawing, draw
from viz.format import number
from viz.graph import LargeDrawingWarning
from viz.groups import group
from viz.render import RendererMissing

__all__ = ["Drawing", "LargeDrawingWarning", "RendererMissing", "draw", "group", "number"]
