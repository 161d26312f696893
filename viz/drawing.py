"""`draw(root)`: the one entry point, and the `Drawing` it returns.

A drawing holds its DOT text (always available, deterministic) and renders pictures only when
asked, so building one is cheap and works without any renderer installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from autograd import Tensor
from viz.dot import Style, emit
from viz.graph import build
from viz.render import FORMATS, RendererMissing, render

SAVE_FORMATS = (*FORMATS, "dot", "gv")


class Drawing:
    """A drawn graph: `.source` (DOT), `.svg()`, `.save(path)`, and inline in Jupyter."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._svg: str | None = None

    def render(self, fmt: str) -> bytes:
        """The picture as SVG, PNG or PDF bytes."""
        return render(self.source, fmt)

    def svg(self) -> str:
        """The picture as SVG text (rendered once, then remembered)."""
        if self._svg is None:
            self._svg = self.render("svg").decode("utf-8")
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
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
        elif fmt == "svg":
            path.write_text(self.svg(), encoding="utf-8")
        else:
            path.write_bytes(self.render(fmt))
        return path

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except RendererMissing as exc:  # still useful in a notebook without a renderer
            return {"text/plain": f"{exc}\n\n{self.source}"}

    def __repr__(self) -> str:
        return f"<Drawing: {self.source.count(chr(10))} lines of DOT; .svg(), .save('graph.png')>"


def draw(
    root: Tensor | Sequence[Tensor],
    *,
    style: Style = "book",
    groups: Mapping[str, Iterable[Tensor] | Tensor] | None = None,
    collapse: bool = False,
    max_nodes: int = 150,
    title: str | None = None,
) -> Drawing:
    """Draw the computational graph that produced `root` (or several roots in one picture).

    `style="book"` draws like the book's figures (values above the arrows, gradients in red
    below once backward has run); `style="nodes"` draws one box per value. `groups` maps a
    cluster label to its tensors (`viz.group(...)` blocks are picked up too); `collapse=True`
    draws each group as one node. Graphs over `max_nodes` are collapsed, then cut, and the
    picture says so.
    """
    roots = [root] if isinstance(root, Tensor) else list(root) if isinstance(root, Sequence) else []
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError(f"draw: expected a Tensor (or a list of them), got {type(root).__name__}")
    graph = build(roots, groups=groups, collapse=collapse, max_nodes=max_nodes)
    return Drawing(emit(graph, style, title))
