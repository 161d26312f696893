"""The Figure `History.plot` returns; imported only when plotting (matplotlib is optional)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["InlineFigure"]


class InlineFigure(Figure):
    """A Figure that Jupyter shows as a picture without `%matplotlib inline`: built without
    pyplot (no global figure list), so the inline backend's hook that displays pyplot's figures
    never sees it, and before pyplot is first imported nothing tells IPython how to draw a
    Figure. Where that hook is set up, its own PNG printer is used instead of this one."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
