"""Pictures from DOT text, with the Graphviz library bundled in the pygraphviz wheels.

Layout and rendering run in-process (`gvLayout`/`gvRenderData`), so no `dot` program on PATH is
needed and none is ever called.
"""

from __future__ import annotations

FORMATS = ("svg", "png", "pdf")
PNG_DPI = 144  # crisp on screens and in notebooks; SVG and PDF are vector anyway
PNG_MAX_INCHES = "40,40"  # a wider graph is scaled down: huge bitmaps take seconds and fail


class RendererMissing(RuntimeError):
    """Raised when pictures are asked for but pygraphviz cannot be imported."""


def render(source: str, fmt: str) -> bytes:
    """The picture of `source` as SVG, PNG or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"cannot render {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        import pygraphviz
    except ImportError as exc:
        raise RendererMissing(
            "drawing pictures needs pygraphviz, whose wheels bundle Graphviz: "
            "pip install pygraphviz  (the DOT text in .source works without it)"
        ) from exc
    graph = pygraphviz.AGraph(string=source)
    if fmt == "png":
        graph.graph_attr["dpi"] = str(PNG_DPI)
        graph.graph_attr["size"] = PNG_MAX_INCHES
    return graph.draw(format=fmt, prog="dot")
