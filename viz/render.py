"""Pictures from DOT text, with the Graphviz library bundled in the pygraphviz wheels.

Layout and rendering run in-process (`gvLayout`/`gvRenderData`), so no `dot` program on PATH is
needed and none is ever called.

The fontconfig bundled in the wheel is older than many systems' and, when it first starts,
reads every template in the system's `conf.avail` folder, warning about elements it does not
know (`unknown element "reset-dirs"`) straight onto file descriptor 2 — in notebooks too. A
render therefore runs with descriptor 2 pointed at a temporary file; afterwards the lines are
passed on to `sys.stderr`, except fontconfig's complaints about configuration files. Graphviz
is not thread-safe, so renders also take turns (one lock).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import threading

FORMATS = ("svg", "png", "pdf")
PNG_DPI = 144  # crisp on screens and in notebooks; SVG and PDF are vector anyway
# default drawings are cut to stay far below this; only "draw everything" may reach it, where
# cairo would fail on a bitmap over 32767 pixels
PNG_MAX_INCHES = "200,200"
NOISE = "Fontconfig warning:"  # the bundled fontconfig reading a newer system configuration
BIG_NOTE = "Warning: graph has"  # pygraphviz on more than 1,000 nodes

_lock = threading.Lock()


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
    said = io.StringIO()  # pygraphviz's own "graph has N nodes" note: draw() warned already
    with _lock, _quiet_fd2(), contextlib.redirect_stderr(said):
        graph = pygraphviz.AGraph(string=source)
        if fmt == "png":
            graph.graph_attr["dpi"] = str(PNG_DPI)
            graph.graph_attr["size"] = PNG_MAX_INCHES
        picture = graph.draw(format=fmt, prog="dot")
    kept = [line for line in said.getvalue().splitlines() if not line.startswith(BIG_NOTE)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
    return picture


class _quiet_fd2:
    """Collect what C libraries write to descriptor 2; re-emit all but fontconfig's noise."""

    def __enter__(self) -> None:
        sys.stderr.flush()
        self._saved = os.dup(2)
        self._file = tempfile.TemporaryFile()
        os.dup2(self._file.fileno(), 2)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        text = self._file.read().decode("utf-8", "replace")
        self._file.close()
        kept = [line for line in text.splitlines() if line and not line.startswith(NOISE)]
        if kept:
            sys.stderr.write("\n".join(kept) + "\n")
