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
from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd import Step, Tensor, backward_steps
from autograd.explain import context_for, forward_captions, step_captions
from autograd.files import write_atomically
from autograd.tensor import ArrayLike
from autograd.text import Context, walk
from viz.dot import GRAD, LOCAL, edge_ids, emit, svg_id
from viz.graph import Gradients, Graph, build
from viz.render import render

_XML_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')
READABLE = 0.8  # the smallest scale of the drawing on the page: 14 pt text stays ≥ 11 pt
HIDDEN_SHOWN = 10  # paragraphs of ops behind the ⋯ stubs written in their one step
_STEP_PREFIX = re.compile(r"^(?:Backward step|Forward step|Step) \d+ of \d+: the ")
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
        page = self.html.encode("utf-8")
        write_atomically(path, lambda f: f.write(page))  # never a half-written page
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
    forward: bool = False,
) -> Steps:
    """The backward pass from `root` as a page to step through (→ / ← or the buttons).

    Drawn as `viz.draw(root, ...)` draws it after `root.backward(grad)`; a collapsed layer is
    one step. `forward=True` first computes the values left to right, op by op (the book's
    Fig. 5-1 before Fig. 5-6). Nothing is stored in `.grad`.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"steps: expected a Tensor, got {type(root).__name__}")
    with np.errstate(all="ignore"):  # the replayed pass overflows where backward did: inf, shown
        recorded = backward_steps(root, grad)
        graph = build(
            [root], groups=groups, collapse=collapse, max_nodes=max_nodes,
            grads=Gradients.recorded(recorded),
        )  # fmt: skip
    source = emit(graph, "book", None, legend=True, ids=True)  # the title heads the page
    svg = _inline_svg(render(source, "svg").decode("utf-8"))
    frames, reveal = _plan(graph, recorded, forward)
    found = _SIZE.search(svg)
    size = (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)
    # fitted to the window, but never shrunk below READABLE of its size (then it scrolls)
    narrowest = round(size[0] * 96 / 72 * READABLE)
    svg = svg.replace("<svg ", f'<svg style="min-width: {narrowest}px" ', 1)
    return Steps(_page(svg, frames, reveal, title), frames, size)


def _plan(
    graph: Graph, recorded: Sequence[Step], forward: bool
) -> tuple[list[Frame], list[tuple[str, str, int]]]:
    """The frames, and for each label (`value` or `grad` text of an SVG id) the frame where it
    first shows. With `forward`, the ops first compute their values left to right."""
    assert graph.context is not None
    keys = {n.key for n in graph.nodes}
    layers = {n.key: n.label for n in graph.nodes if n.kind == "group"}
    ahead: list[Frame] = []
    reveal: list[tuple[str, str, int]] = []
    if forward:
        order = [
            t for t in walk([graph.outputs[0].tensor]) if t.op is not None and t.id in graph.unit_of
        ]  # ops cut off behind a stub are not shown computing
        computed = _frames_of([graph.unit_of[t.id] for t in order], layers)
        made = forward_captions(order, graph.context)
        made_in: dict[str, int] = {}
        leaving: dict[str, list[str]] = {}  # the arrows carrying each node's value onwards
        for k, edge in enumerate(graph.edges):
            label, arrows = edge_ids(graph, k)
            leaving.setdefault(edge.tail, []).extend([*arrows, *([label] if label else [])])
        for k, out in enumerate(graph.outputs):
            leaving.setdefault(out.key, []).extend(
                [svg_id(f"{out.key}_o{k}"), svg_id(f"o{k}"), svg_id(f"o{k}_out{k}")]
            )
        for number, (key, members) in enumerate(computed, 1):
            texts = [made[k] for k in members]
            renumber = len(computed) != len(order)
            out = leaving.get(key or "", []) + leaving.get(f"{key}s", [])
            ahead.append(_frame(number, len(computed), key, texts, layers, keys, out, renumber))
            if key is not None:
                made_in.setdefault(key, number)
        for k, edge in enumerate(graph.edges):
            label, _ = edge_ids(graph, k)
            at = made_in.get(edge.tail, made_in.get(edge.tail[:-1], 0))  # n5s: softmax of n5
            if label is not None and at:
                reveal.append((label, "value", at))
        for k, out in enumerate(graph.outputs):
            reveal.append((svg_id(f"o{k}"), "value", made_in.get(out.key, 0)))
    offset = len(ahead)
    context = _complete(graph, recorded)
    captions = step_captions(recorded, context, "Backward step" if forward else "Step")
    groups = _frames_of([graph.unit_of.get(step.node.id) for step in recorded], layers)
    frame_of = {recorded[k].node.id: offset + n for n, (_, ks) in enumerate(groups, 1) for k in ks}
    incoming: dict[int, list[str]] = {}
    for k, edge in enumerate(graph.edges):
        label, arrows = edge_ids(graph, k)
        heads = {frame_of.get(h.id) for h, _ in edge.targets}
        if not heads or None in heads:
            continue
        at = max(h for h in heads if h is not None)
        incoming.setdefault(at, []).extend([*arrows, *([label] if label else [])])
        if label is not None and edge.grad is not None:
            reveal.append((label, "grad", at))
    last_arrival: dict[int, int] = {}
    for step in recorded:
        for sent in step.sent:
            last_arrival[sent.input.id] = frame_of[step.node.id]
    for node in graph.nodes:
        if node.total is not None and node.tensor is not None and node.tensor.id in last_arrival:
            reveal.append((svg_id(node.key), "grad", last_arrival[node.tensor.id]))
    for number, (key, _) in enumerate(groups, 1):
        if key in layers:  # a collapsed layer's backward rules, written when it runs
            reveal.append((svg_id(key), "grad", offset + number))
    if recorded:
        reveal += [(svg_id(f"o{k}"), "grad", offset + 1) for k in range(len(graph.outputs))]
    frames = [Frame(_start_caption(len(ahead), len(groups)), (), ()), *ahead]
    for number, (key, members) in enumerate(groups, 1):
        renumber = len(groups) != len(recorded)
        texts = [captions[k] for k in members]
        arrows = incoming.get(offset + number, [])
        frames.append(_frame(number, len(groups), key, texts, layers, keys, arrows, renumber,
                             "Backward step" if forward else "Step"))  # fmt: skip
    return frames, reveal


def _complete(graph: Graph, recorded: Sequence[Step]) -> Context:
    """The drawing's names, and for ops cut off behind a ⋯ stub (a big graph whose walk
    stopped early) names of their own, u1, u2, ..., that cannot be mistaken for the picture's."""
    context = graph.context
    assert context is not None
    named = context.names
    if all(s.node.id in named and all(x.input.id in named for x in s.sent) for s in recorded):
        return context
    full = context_for([graph.outputs[0].tensor], recorded, auto="u")
    return Context(ChainMap(dict(named), dict(full.names)), full.uses, context.loss, context.seeded)


def _frames_of(
    keys: Sequence[str | None], layers: Mapping[str, str]
) -> list[tuple[str | None, list[int]]]:
    """Runs of the same collapsed layer, or of ops not drawn (behind a ⋯ stub), make one frame;
    every other op is a frame of its own."""
    frames: list[tuple[str | None, list[int]]] = []
    for k, key in enumerate(keys):
        if frames and frames[-1][0] == key and (key is None or key in layers):
            frames[-1][1].append(k)
        else:
            frames.append((key, [k]))
    return frames


def _frame(
    number: int,
    count: int,
    key: str | None,
    texts: Sequence[str],
    layers: Mapping[str, str],
    keys: set[str],
    arrows: Sequence[str],
    renumber: bool,
    prefix: str = "Forward step",
) -> Frame:
    current = []
    if key is not None:
        current.append(svg_id(key))
        if f"{key}s" in keys:  # the softmax half of a Softmax-with-Loss drawn as two
            current.append(svg_id(f"{key}s"))
    text = "\n\n".join(texts)
    layer = layers.get(key or "")
    if renumber and key is not None and not layer:  # one op: only its number changes
        text = _STEP_PREFIX.sub(f"{prefix} {number} of {count}: the ", texts[0], count=1)
    elif renumber:  # numbered by frame, each op's paragraph under it
        ops = [_STEP_PREFIX.sub("The ", t, count=1) for t in texts]
        if key is None and len(ops) > HIDDEN_SHOWN:  # a big graph: the page stays small
            more = len(ops) - HIDDEN_SHOWN
            ops = [*ops[:HIDDEN_SHOWN], f"… and {more} more (autograd.explain(root) prints all)."]
        many = f"{len(texts)} ops, in the engine's order"
        if key is None:
            head = f"{len(texts)} op{'s' if len(texts) > 1 else ''} behind the ⋯ stubs, not drawn"
        else:
            head = f"the {layer} layer ({'one op' if len(texts) == 1 else many})"
        text = f"{prefix} {number} of {count}: {head}.\n\n" + "\n\n".join(ops)
    return Frame(text, tuple(current), tuple(dict.fromkeys(arrows)))


def _start_caption(forward: int, backward: int) -> str:
    if forward:
        return (
            f"Step 0: only the inputs are known. Press → (or Next) to compute the graph left to "
            f"right ({forward} forward steps), then to run backward from the output on the right "
            f"({backward} steps)."
        )
    if backward == 0:
        return "Nothing to step through: the output is an input itself (a leaf)."
    return (
        f"Step 0 of {backward}: the forward pass is done; each arrow carries its value (black).\n"
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
  border-left: 4px solid GRADCOLOR; padding: 8px 12px; margin: 0 0 10px; min-height: 5.8em; }
#figure { overflow: auto; }
#figure svg { max-width: 100%; height: auto; }
.sg-hidden { visibility: hidden; }
.sg-new { font-weight: bold; }
.sg-new[fill="GRADCOLOR"] { paint-order: stroke; stroke: #fff1a8; stroke-width: 4px; }
.sg-current ellipse, .sg-current polygon, .sg-current path { stroke: #ff8c00; stroke-width: 3.5; }
.sg-current text { font-weight: bold; }
.sg-active path, .sg-active polygon { stroke: #ff8c00; stroke-width: 2.5; }
.sg-active polygon { fill: #ff8c00; }
"""

_SCRIPT = """
(function () {
  var plan = JSON.parse(document.getElementById("plan").textContent);
  var last = plan.frames.length - 1, step = 0;
  function texts(id, selector) {
    var g = document.getElementById(id);
    return g ? g.querySelectorAll(selector) : [];
  }
  function mark(ids, name, on) {
    ids.forEach(function (id) {
      var g = document.getElementById(id);
      if (g) { g.classList.toggle(name, on); }
    });
  }
  function bringIntoView(ids) {
    // a figure larger than the window scrolls to what this step writes: the node that runs
    // and its new labels, centred; if both do not fit, the labels (from their left)
    var nodes = [], labels = [];
    ids.forEach(function (id) {
      var g = document.getElementById(id);
      if (g) { nodes.push(g.getBoundingClientRect()); }
    });
    if (!nodes.length) { return; }
    document.querySelectorAll("#figure .sg-new").forEach(function (t) {
      labels.push(t.getBoundingClientRect());
    });
    function span(boxes, lo, hi) {
      return [Math.min.apply(null, boxes.map(function (b) { return b[lo]; })),
              Math.max.apply(null, boxes.map(function (b) { return b[hi]; }))];
    }
    function shift(from, to, start, size) {
      return to - from <= size ? (from + to - size) / 2 - start : from - start - 8;
    }
    var figure = document.getElementById("figure"), view = figure.getBoundingClientRect();
    var boxes = nodes.concat(labels), x = span(boxes, "left", "right");
    if (x[1] - x[0] > figure.clientWidth && labels.length) {
      boxes = labels;
      x = span(boxes, "left", "right");
    }
    var y = span(boxes, "top", "bottom");
    figure.scrollLeft += shift(x[0], x[1], view.left, figure.clientWidth);
    if (y[0] < 0) {  // as little as will do: the caption above stays in sight if it can
      window.scrollBy(0, y[0] - 8);
    } else if (y[1] > window.innerHeight) {
      window.scrollBy(0, Math.min(y[1] - window.innerHeight + 8, y[0] - 8));
    }
  }
  function show(k) {
    step = Math.max(0, Math.min(last, k));
    plan.reveal.forEach(function (item) {
      texts(item[0], plan.selectors[item[1]]).forEach(function (t) {
        t.classList.toggle("sg-hidden", item[2] > step);
        t.classList.toggle("sg-new", item[2] === step);
      });
    });
    plan.frames.forEach(function (f) {  // a node may be current in a forward and a backward step
      mark(f.current, "sg-current", false);
      mark(f.active, "sg-active", false);
    });
    mark(plan.frames[step].current, "sg-current", true);
    mark(plan.frames[step].active, "sg-active", true);
    bringIntoView(plan.frames[step].current);
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
    svg: str, frames: Sequence[Frame], reveal: Sequence[tuple[str, str, int]], title: str | None
) -> str:
    plan = {
        "selectors": {  # black text is a forward value; red and blue come with backward
            "value": "text:not([fill])",
            "grad": f'text[fill="{GRAD}"], text[fill="{LOCAL}"]',
        },
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
