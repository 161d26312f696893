"""Watch backprop happen: the book-style drawing as a page that steps through the backward pass.

`steps(root)` lays out the finished figure once (the gradients `autograd.backward_steps`
recorded, so nothing is stored in `.grad`), gives its labels and arrows stable SVG ids, and adds
a little plain JavaScript that shows, per step, only what the engine has computed so far: step 0
has the forward values alone; step k highlights the node the engine runs k-th and its input
arrows, writes the gradients it sends (red, with the chain rule) and keeps the earlier ones; the
last step is `viz.draw(root)` after `backward()`. The captions are `autograd.explain`'s
paragraphs. The page is one self-contained file: no network, no server, no external fonts.
"""

from __future__ import annotations

import html as html_text
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd import Step, Tensor, backward_steps
from autograd.explain import step_captions
from autograd.tensor import ArrayLike
from viz.dot import GRAD, LOCAL, edge_ids, emit, svg_id
from viz.graph import Gradients, Graph, build
from viz.render import render

_XML_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')
_STEP_PREFIX = re.compile(r"^Step \d+ of \d+: the ")
_SIZE = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')


@dataclass(frozen=True)
class Frame:
    """One state of the page: what is highlighted and the caption under the controls."""

    caption: str
    current: tuple[str, ...]  # SVG ids of the node(s) the engine runs now
    active: tuple[str, ...]  # SVG ids of their input arrows and labels


class Steps:
    """The step-through page: `.save("backprop.html")`, `.html`, and inline in Jupyter."""

    def __init__(self, page: str, frames: Sequence[Frame], size: tuple[float, float]) -> None:
        self.html = page
        self.frames = tuple(frames)  # frames[0] is step 0 (forward values only)
        self._size = size

    def __len__(self) -> int:
        """The number of steps after step 0."""
        return len(self.frames) - 1

    def save(self, path: str | Path) -> Path:
        """Write the page (an .html file) and return its path."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(
                f"save: a step-through page is HTML; end the name with .html, got {path.name!r}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        # in its own frame: the page's ids and arrow keys cannot clash with the notebook's
        height = self._size[1]
        return (
            f'<iframe srcdoc="{html_text.escape(self.html, quote=True)}" '
            f'style="width: 100%; height: {int(height * 96 / 72) + 260}px; border: 1px solid #ddd" '
            'sandbox="allow-scripts"></iframe>'
        )

    def __repr__(self) -> str:
        return (
            f"<Steps: {len(self)} steps, {len(self.html):,} bytes of HTML; .save('backprop.html')>"
        )


def steps(
    root: Tensor,
    grad: ArrayLike | None = None,
    *,
    groups: Mapping[str, Iterable[Tensor] | Tensor] | None = None,
    collapse: bool = False,
    max_nodes: int | None = 150,
    title: str | None = None,
) -> Steps:
    """The backward pass from `root` as a page to step through (→ / ← or the buttons).

    Drawn as `viz.draw(root, ...)` draws it after `root.backward(grad)`; a collapsed layer is
    one step. Nothing is stored in `.grad`.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"steps: expected a Tensor, got {type(root).__name__}")
    recorded = backward_steps(root, grad)
    with np.errstate(all="ignore"):
        graph = build(
            [root], groups=groups, collapse=collapse, max_nodes=max_nodes,
            grads=Gradients.recorded(recorded),
        )  # fmt: skip
    source = emit(graph, "book", title, legend=True, ids=True)
    svg = _inline_svg(render(source, "svg").decode("utf-8"))
    frames, reveal = _plan(graph, recorded)
    found = _SIZE.search(svg)
    size = (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)
    return Steps(_page(svg, frames, reveal, title), frames, size)


def _plan(graph: Graph, recorded: Sequence[Step]) -> tuple[list[Frame], list[tuple[str, int]]]:
    """The frames, and for each gradient label the frame where it first shows."""
    assert graph.context is not None
    captions = step_captions(recorded, graph.context)
    keys = {n.key for n in graph.nodes}
    # consecutive steps inside one collapsed layer (or one hidden region) make one frame
    frame_of: dict[int, int] = {}
    groups: list[tuple[str | None, list[int]]] = []
    for k, step in enumerate(recorded):
        key = graph.unit_of.get(step.node.id)
        if groups and key is not None and groups[-1][0] == key and _is_layer(graph, key):
            groups[-1][1].append(k)
        else:
            groups.append((key, [k]))
        frame_of[step.node.id] = len(groups)
    frames = [Frame(_start_caption(len(groups)), (), ())]
    incoming: dict[int, list[str]] = {}
    reveal: list[tuple[str, int]] = []
    for k, edge in enumerate(graph.edges):
        label, arrows = edge_ids(graph, k)
        heads = {frame_of.get(h.id) for h, _ in edge.targets}
        if not heads or None in heads:
            continue
        at = max(h for h in heads if h is not None)
        for h, _ in edge.targets:
            incoming.setdefault(frame_of[h.id], []).extend([*arrows, *([label] if label else [])])
        if label is not None and edge.grad is not None:
            reveal.append((label, at))
    last_arrival: dict[int, int] = {}
    for step in recorded:
        for sent in step.sent:
            last_arrival[sent.input.id] = frame_of[step.node.id]
    for node in graph.nodes:
        if node.total is not None and node.tensor is not None and node.tensor.id in last_arrival:
            reveal.append((svg_id(node.key), last_arrival[node.tensor.id]))
    reveal += [(svg_id(f"o{k}"), 1) for k in range(len(graph.outputs)) if recorded]
    for number, (key, members) in enumerate(groups, 1):
        current = []
        if key is not None:
            current.append(svg_id(key))
            if f"{key}s" in keys:  # the softmax half of a Softmax-with-Loss drawn as two
                current.append(svg_id(f"{key}s"))
        text = "\n\n".join(captions[k] for k in members)
        if len(groups) != len(recorded):  # numbered by frame, each op's paragraph under it
            ops = [_STEP_PREFIX.sub("The ", captions[k], count=1) for k in members]
            layer = next((n.label for n in graph.nodes if n.key == key and n.kind == "group"), None)
            count = "one op" if len(members) == 1 else f"{len(members)} ops, in the engine's order"
            head = f"the {layer} layer ({count})" if layer else "one op"
            text = f"Step {number} of {len(groups)}: {head}.\n\n" + "\n\n".join(ops)
        frames.append(Frame(text, tuple(current), tuple(dict.fromkeys(incoming.get(number, [])))))
    return frames, reveal


def _is_layer(graph: Graph, key: str) -> bool:
    return any(n.key == key and n.kind == "group" for n in graph.nodes)


def _start_caption(count: int) -> str:
    if count == 0:
        return "Nothing to step through: the output is an input itself (a leaf)."
    return (
        f"Step 0 of {count}: the forward pass is done; each arrow carries its value (black).\n"
        "Press → (or Next) to run backward one node at a time, from the output on the right."
    )


def _inline_svg(svg: str) -> str:
    """Graphviz's SVG document as an element for an HTML page: no XML prolog, no DOCTYPE (the
    only web addresses in it), no namespace attributes (HTML puts <svg> in its namespace)."""
    return _NAMESPACES.sub("", _XML_PROLOG.sub("", svg)).strip()


_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
.bar { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
button { font-size: 15px; padding: 4px 14px; }
#counter { font-size: 15px; font-weight: bold; margin-left: 8px; }
#caption { white-space: pre-wrap; font-size: 15px; line-height: 1.45; background: #f6f6f6;
  border-left: 4px solid GRADCOLOR; padding: 8px 12px; margin: 0 0 10px; min-height: 4.5em; }
#figure { overflow: auto; }
#figure svg { max-width: 100%; height: auto; }
.sg-hidden { visibility: hidden; }
.sg-new { font-weight: bold; paint-order: stroke; stroke: #fff1a8; stroke-width: 4px; }
.sg-current ellipse, .sg-current polygon, .sg-current path { stroke: #ff8c00; stroke-width: 3.5; }
.sg-current text { font-weight: bold; }
.sg-active path, .sg-active polygon { stroke: #ff8c00; stroke-width: 2.5; }
.sg-active polygon { fill: #ff8c00; }
"""

_SCRIPT = """
(function () {
  var plan = JSON.parse(document.getElementById("plan").textContent);
  var last = plan.frames.length - 1, step = 0;
  function texts(id) {
    var g = document.getElementById(id);
    return g ? g.querySelectorAll(plan.selector) : [];
  }
  function mark(ids, name, on) {
    ids.forEach(function (id) {
      var g = document.getElementById(id);
      if (g) { g.classList.toggle(name, on); }
    });
  }
  function show(k) {
    step = Math.max(0, Math.min(last, k));
    plan.reveal.forEach(function (item) {
      texts(item[0]).forEach(function (t) {
        t.classList.toggle("sg-hidden", item[1] > step);
        t.classList.toggle("sg-new", item[1] === step);
      });
    });
    plan.frames.forEach(function (f, j) {
      mark(f.current, "sg-current", j === step);
      mark(f.active, "sg-active", j === step);
    });
    document.getElementById("counter").textContent = "step " + step + " of " + last;
    document.getElementById("caption").textContent = plan.frames[step].caption;
    document.getElementById("prev").disabled = step === 0;
    document.getElementById("next").disabled = step === last;
  }
  document.getElementById("next").onclick = function () { show(step + 1); };
  document.getElementById("prev").onclick = function () { show(step - 1); };
  document.getElementById("reset").onclick = function () { show(0); };
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { show(step + 1); e.preventDefault(); }
    if (e.key === "ArrowLeft") { show(step - 1); e.preventDefault(); }
    if (e.key === "Home") { show(0); e.preventDefault(); }
  });
  show(0);
})();
"""

# the page may run its own inline script and style and nothing else: no requests at all
_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"


def _page(
    svg: str, frames: Sequence[Frame], reveal: Sequence[tuple[str, int]], title: str | None
) -> str:
    plan = {
        "selector": f'text[fill="{GRAD}"], text[fill="{LOCAL}"]',
        "reveal": [list(item) for item in reveal],
        "frames": [
            {"caption": f.caption, "current": list(f.current), "active": list(f.active)}
            for f in frames
        ],
    }
    # JSON inside <script>: no "</script>" or "<!--" can end it early, whatever the names say
    data = json.dumps(plan, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    heading = html_text.escape(title or "Watch backprop happen")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<title>{heading}</title>
<style>{_STYLE.replace("GRADCOLOR", GRAD)}</style>
</head>
<body>
<h1>{heading}</h1>
<div class="bar">
<button id="reset" type="button">Reset</button>
<button id="prev" type="button">← Previous</button>
<button id="next" type="button">Next →</button>
<span id="counter"></span>
</div>
<p id="caption"></p>
<div id="figure">
{svg}
</div>
<script id="plan" type="application/json">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
