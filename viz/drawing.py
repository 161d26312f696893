"""`draw(root)`: the one entry point, and the `Drawing` it returns.

A drawing holds its DOT text (always available, deterministic) and renders pictures only when
asked, so building one is cheap and works without any renderer installed. It answers the calls
people bring from micrograd's `draw_dot` and torchviz (`.render(filename, format=...)`,
`.pipe(format=...)`, `.source`), rendering in-process, and hands a `graphviz.Source` to
existing Graphviz workflows with `.to_graphviz()`.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd import Tensor
from autograd.files import write_atomically
from viz.dot import Style, emit
from viz.graph import build
from viz.render import FORMATS, RendererMissing, render
from viz.steps import READABLE

if TYPE_CHECKING:
    import graphviz

SAVE_FORMATS = (*FORMATS, "dot", "gv")
CELL_WIDTH = 900  # pixels a notebook cell shows; a wider picture is sent as a scaled PNG
_SVG_WIDTH = re.compile(r'<svg[^>]*\swidth="([0-9.]+)pt"')


class Drawing:
    """A drawn graph: `.source` (DOT), `.svg()`, `.save(path)`, `.render(name)`, `.pipe()`,
    and inline in Jupyter."""

    format = "svg"  # what `.render()` and `.pipe()` make when no format is given

    def __init__(self, source: str) -> None:
        self.source = source
        self._svg: str | None = None

    def pipe(self, format: str | None = None) -> bytes:
        """The picture as SVG, PNG or PDF bytes (graphviz's `Source.pipe`)."""
        return render(self.source, format or self.format)

    def render(
        self,
        filename: str | Path = "scratchgrad",
        directory: str | Path | None = None,
        *,
        format: str | None = None,
    ) -> str:
        """Write `filename.<format>` (`graph` → `graph.svg`) and return its path, as
        graphviz's `Source.render` does, but in-process: no `dot` program is needed."""
        fmt = format or self.format
        if fmt not in FORMATS:
            raise ValueError(f"render: cannot make {fmt!r}; choose one of {', '.join(FORMATS)}")
        path = Path(directory or "") / Path(filename)
        if path.suffix.lower() != f".{fmt}":
            path = path.with_name(f"{path.name}.{fmt}")
        return str(self.save(path))

    def to_graphviz(self) -> graphviz.Source:
        """The DOT as a `graphviz.Source`, for code that already works with the graphviz
        package (note that *its* `.render()` runs the `dot` program)."""
        import graphviz

        return graphviz.Source(self.source, format=self.format)

    def svg(self) -> str:
        """The picture as SVG text (rendered once, then remembered)."""
        if self._svg is None:
            self._svg = self.pipe("svg").decode("utf-8")
        return self._svg

    def save(self, path: str | Path) -> Path:
        """Write the picture; the extension picks the format (.svg .png .pdf, or .dot for DOT)."""
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in SAVE_FORMATS:
            raise ValueError(
                f"save: cannot tell the format from {path.name!r}; "
                f"end the name with one of {', '.join('.' + f for f in SAVE_FORMATS)}"
            )
        data = self.source.encode("utf-8") if fmt in ("dot", "gv") else None
        if fmt == "svg":
            data = self.svg().encode("utf-8")
        elif data is None:
            data = self.pipe(fmt)
        # rendered first, then written beside and moved onto `path`: a failed render or write
        # leaves no half-written file, and an old picture stays until the new one is complete
        write_atomically(path, lambda f: f.write(data))
        return path

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
        try:
            svg = self.svg()
        except RendererMissing as exc:  # still useful in a notebook without a renderer
            return {"text/plain": f"{exc}\n\n{self.source}"}
        found = _SVG_WIDTH.search(svg)
        width_px = float(found.group(1)) * 96 / 72 if found else 0.0
        if width_px <= CELL_WIDTH:
            return {"image/svg+xml": svg, "text/plain": repr(self)}
        # wider than the cell: a PNG scaled to fit, but not below READABLE of its size (as on
        # the step-through page): a TwoLayerNet fitted into 900 px had 5 px text; it scrolls
        png = base64.b64encode(self.pipe("png")).decode("ascii")
        bundle = {"image/png": png, "text/plain": repr(self)}
        width = round(width_px * READABLE)
        if width > CELL_WIDTH:  # front ends that show no HTML fit the PNG to the cell
            bundle["text/html"] = (
                f'<div style="overflow-x: auto"><img src="data:image/png;base64,{png}" '
                f'style="width: {width}px; max-width: none" alt="{html.escape(repr(self))}">'
                "</div>"
            )
        return bundle, {"image/png": {"width": CELL_WIDTH}}

    def __repr__(self) -> str:
        return f"<Drawing: {self.source.count(chr(10))} lines of DOT; .svg(), .save('graph.png')>"


def draw(
    root: Tensor | Sequence[Tensor],
    *,
    style: Style = "book",
    groups: Mapping[str, Iterable[Tensor] | Tensor] | None = None,
    collapse: bool = False,
    max_nodes: int | None = 150,
    title: str | None = None,
    legend: bool = True,
) -> Drawing:
    """Draw the computational graph that produced `root` (or several roots in one picture).

    `style="book"` draws like the book's figures (values above the arrows; after backward,
    the gradients below in red, each with the chain rule that made it); `style="nodes"` draws
    one box per value. `groups` maps a cluster label to its tensors (`autograd.scope` blocks,
    as the nn layers open, are picked up too); `collapse=True` draws each group as one node.
    Bigger graphs than `max_nodes` are simplified (layers collapsed, then cut by distance from
    the output) so a default drawing stays readable and quick; `max_nodes=None` draws
    everything. `legend=False` leaves out the colour key.
    """
    roots = [root] if isinstance(root, Tensor) else list(root) if isinstance(root, Sequence) else []
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError(f"draw: expected a Tensor (or a list of them), got {type(root).__name__}")
    with np.errstate(all="ignore"):  # re-running a VJP on inf/NaN values is no news
        graph = build(roots, groups=groups, collapse=collapse, max_nodes=max_nodes)
    return Drawing(emit(graph, style, title, legend))
