"""Draw scratchgrad's computational graphs the way "Deep Learning from Scratch" does (ch. 5).

from viz import draw, steps
draw(price).save("price.png")
steps(price).save("backprop.html")  # the backward pass to step through, in the browser
"""

from viz.drawing import Drawing, draw
from viz.format import number
from viz.graph import LargeDrawingWarning
from viz.groups import group
from viz.render import RendererMissing
from viz.steps import Steps, steps

__all__ = [
    "Drawing",
    "LargeDrawingWarning",
    "RendererMissing",
    "Steps",
    "draw",
    "group",
    "number",
    "steps",
]
