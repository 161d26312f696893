"""DOT text for a drawing model: the book's picture (`book`) or one box per value (`nodes`).

Written as plain text, not through a Graphviz binding, so `.source` works without any renderer
and is byte-identical from run to run (golden tests compare it). Every label is an HTML-like
label, escaped here and nowhere else (control characters are written out as `\\x1b`: Graphviz
rejects them).

In the book's style an edge is drawn through a small label node: a table whose rule (<HR/>)
sits under the value cell, entered at the cell's bottom-left corner and left at its
bottom-right, so the rule continues the arrow with the forward value above it and the gradient
(red, with the chain rule that made it) below, as in the book's figures. Graphviz's own edge
labels sit beside a line, never on both sides of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from typing import Literal

import numpy as np

from autograd import Tensor
from viz.format import shape_dtype, shape_text, shown, values
from viz.graph import Edge, Graph, Node, Output

Style = Literal["book", "nodes"]
STYLES: tuple[Style, ...] = ("book", "nodes")

FONT = "Helvetica"
GRAD = "#d62728"  # the book prints gradients in red
LOCAL = "#1f5fbf"  # local derivatives: blue, and smaller
MUTED = "#666666"
LOCAL_SIZE = 10
SMALL = 11
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def html(text: str) -> str:
    """Text for an HTML-like label: escaped, line breaks kept, control characters spelled."""
    text = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return "<BR/>".join(escape(line, quote=False) for line in text.split("\n"))


def value_lines(t: Tensor) -> list[str]:
    """A scalar as its number; a tensor as shape, dtype and values (or their summary)."""
    data = np.asarray(t.data)
    if data.ndim == 0:
        return [shown(data)]
    return [shape_dtype(data), *values(data).split("\n")]


def emit(
    graph: Graph,
    style: Style,
    title: str | None = None,
    legend: bool = True,
    ids: bool = False,
) -> str:
    """The DOT source for `graph`; with `ids`, every node and arrow gets a stable SVG id
    (`sg_` + its DOT name, `sg_tail_head` for arrows) for a page's script to find it."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}; got {style!r}")
    writer = _Book(graph) if style == "book" else _Nodes(graph)
    return writer.source(title, legend, ids)


_NODE_STATEMENT = re.compile(r"^(\w+) \[")
_EDGE_STATEMENT = re.compile(r"^(\w+)(?::\w+)* -> (\w+)((?::\w+)*)(?: \[(.*)\])?;$")


def edge_ids(graph: Graph, k: int) -> tuple[str | None, list[str]]:
    """The SVG ids the book style gives `graph.edges[k]`: its label node (None for a number's
    plain arrow, whose label is the number itself) and its arrows."""
    edge = graph.edges[k]
    tail = next(n for n in graph.nodes if n.key == edge.tail)
    if _is_number(tail):
        return None, [svg_id(f"{edge.tail}_{edge.head}")]
    label = f"e{k}"
    return svg_id(label), [svg_id(f"{edge.tail}_{label}"), svg_id(f"{label}_{edge.head}")]


def _is_number(node: Node) -> bool:
    """A number's label node: its arrow needs no label of its own (the book style)."""
    return node.kind == "const" and node.tensor is not None and node.tensor.size == 1


def svg_id(key: str) -> str:
    """The SVG id of the DOT node `key` (and `svg_id(f"{tail}_{head}")` for an arrow)."""
    return f"sg_{key}"


def _with_id(statement: str) -> str:
    """`n0 [shape=...]` → `n0 [id="sg_n0", shape=...]`; arrows likewise with `sg_tail_head`."""
    edge = _EDGE_STATEMENT.match(statement)
    if edge:
        tail, head, port, attrs = edge.groups()
        rest = f", {attrs}" if attrs else ""
        return (
            f'{statement.split(" -> ")[0]} -> {head}{port} [id="{svg_id(f"{tail}_{head}")}"{rest}];'
        )
    return _NODE_STATEMENT.sub(lambda m: f'{m.group(1)} [id="{svg_id(m.group(1))}", ', statement)


class _Writer:
    """Shared skeleton: header, caption, clusters; subclasses say how nodes and edges look."""

    graph_attrs: str = ""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.clusters: dict[str | None, list[str]] = {None: []}
        self.edges: list[str] = []
        self.has_grad = any(e.grad is not None for e in graph.edges)
        self.has_local = any(e.local is not None for e in graph.edges)

    def source(self, title: str | None, legend: bool, ids: bool = False) -> str:
        for node in self.graph.nodes:
            self.node(node)
        for k, edge in enumerate(self.graph.edges):
            self.edge(k, edge)
        for k, out in enumerate(self.graph.outputs):
            self.output(k, out)
        key = self.legend() if legend else None
        if ids:
            self.clusters = {g: [_with_id(s) for s in body] for g, body in self.clusters.items()}
            self.edges = [_with_id(s) for s in self.edges]
        lines = [
            "digraph scratchgrad {",
            f'  graph [{self.graph_attrs}, fontname="{FONT}"'
            f"{_caption(title, self.graph.notes, key)}];",
            f'  node [fontname="{FONT}", fontsize=14];',
            f'  edge [fontname="{FONT}", arrowsize=0.7];',
        ]
        lines += ["  " + s for s in self.clusters[None]]
        for k, (name, body) in enumerate((n, b) for n, b in self.clusters.items() if n):
            lines.append(f"  subgraph cluster_{k} {{")
            lines.append(
                f"    label=<<B>{html(self.graph.clusters.get(name, name))}</B>>; "
                f'labelloc=t; labeljust=r; style="rounded,dashed"; color="{MUTED}"; '
                'fontcolor="#444444"; fontsize=12; margin=12;'
            )
            lines += ["    " + s for s in body]
            lines.append("  }")
        lines += ["  " + s for s in self.edges]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def legend(self) -> str | None:
        return None

    def add(self, statement: str, group: str | None = None) -> None:
        self.clusters.setdefault(group, []).append(statement)

    def node(self, node: Node) -> None:
        if node.kind == "stub":
            self.add(
                f'{node.key} [shape=plaintext, fontcolor="{MUTED}", fontsize={SMALL}, '
                f"label=<<I>{html(node.label)}</I>>];"
            )
        elif node.kind == "const":
            label = _const_label(node, with_shape=isinstance(self, _Nodes))
            self.add(
                f'{node.key} [shape=plaintext, fontcolor="{MUTED}", label=<{label}>];', node.group
            )
        else:
            self.value_node(node)

    def value_node(self, node: Node) -> None:
        raise NotImplementedError

    def edge(self, k: int, edge: Edge) -> None:
        raise NotImplementedError

    def output(self, k: int, out: Output) -> None:
        raise NotImplementedError


class _Book(_Writer):
    """Fig. 5-16 and friends: ops as circles, numbers on the arrows, gradients under them."""

    # ordering=in: an op's inputs top to bottom as in the code (orange above orange_num)
    graph_attrs = (
        "rankdir=LR, nodesep=0.3, ranksep=0.25, splines=polyline, forcelabels=true, ordering=in"
    )

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph)
        self.numbers = {n.key for n in graph.nodes if _is_number(n)}

    def legend(self) -> str | None:
        parts = ["black: forward value"]
        if self.has_grad:
            parts.append(f'<FONT COLOR="{GRAD}">red: ∂{html(self.graph.loss)}/∂· (gradient)</FONT>')
        if self.has_local:
            parts.append(f'<FONT COLOR="{LOCAL}">blue: local derivative</FONT>')
        return f'<FONT POINT-SIZE="{SMALL}" COLOR="#333333">{"   ".join(parts)}</FONT>'

    def value_node(self, node: Node) -> None:
        if node.kind == "op":
            xlabel = ""
            if node.total is not None:
                xlabel = f", xlabel=<{_red_block(node.total.text, node.total.grad)}>"
            self.add(f"{node.key} [{_circle(node.label)}{_outline(node)}{xlabel}];", node.group)
        elif node.kind == "input":
            label = html(node.label)
            if node.total is not None:
                label = (
                    '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0"><TR><TD>'
                    f"{label}</TD></TR><TR><TD>{_red_block(node.total.text, node.total.grad)}"
                    "</TD></TR></TABLE>"
                )
            self.add(f"{node.key} [shape=plaintext, label=<{label}>];", node.group)
        else:  # a collapsed layer
            self.add(f"{node.key} [{_layer_box(node)}{_outline(node)}];")

    def edge(self, k: int, edge: Edge) -> None:
        if edge.tail in self.numbers:  # the label already says it: a plain arrow
            self.edges.append(f"{edge.tail} -> {edge.head};")
            return
        lines = value_lines(edge.tensor)
        if edge.name is not None:
            lines[0] = f"{edge.name} = {lines[0]}"
        if edge.count > 1:
            lines[0] += f"   (×{edge.count} arrows)"
        self._through_label(f"e{k}", edge, lines)

    def output(self, k: int, out: Output) -> None:
        self.add(f"out{k} [shape=plaintext, label=<{html(out.name)}>];")
        edge = Edge(out.key, f"out{k}", out.tensor, None, None, out.grad)
        self._through_label(f"o{k}", edge, value_lines(out.tensor))

    def _through_label(self, key: str, edge: Edge, lines: list[str]) -> None:
        size = "" if len(lines) == 1 else f' POINT-SIZE="{SMALL + 1}"'
        rows = [
            f'<TR><TD PORT="v" CELLPADDING="2"><FONT{size}>{html(chr(10).join(lines))}</FONT>'
            "</TD></TR><HR/>"
        ]
        if edge.grad is not None:
            rows.append(f'<TR><TD CELLPADDING="2">{_red_block(edge.explain, edge.grad)}</TD></TR>')
        if edge.local is not None:
            rows.append(
                f'<TR><TD><FONT POINT-SIZE="{LOCAL_SIZE}" COLOR="{LOCAL}">{html(edge.local)}'
                "</FONT></TD></TR>"
            )
        if len(rows) == 1:
            rows.append('<TR><TD CELLPADDING="0"></TD></TR>')  # a rule needs a row below it
        table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>"
        self.add(f"{key} [shape=plaintext, margin=0, label=<{table}>];", edge.group)
        self.edges.append(f"{edge.tail} -> {key}:v:sw [arrowhead=none];")
        self.edges.append(f"{key}:v:se -> {edge.head};")


def _red_block(explain: str | None, grad: np.ndarray) -> str:
    """The gradient in red: for a scalar the chain rule alone says it (`1.1 × 2 = 2.2`); for a
    tensor the rule, then the gradient's shape and its values."""
    grad = np.asarray(grad)
    if grad.ndim == 0:
        text = explain if explain is not None else shown(grad)
        if explain is not None and not explain.endswith(f"= {shown(grad)}"):
            text = f"{explain} = {shown(grad)}"
        return f'<FONT COLOR="{GRAD}">{html(text)}</FONT>'
    lines = [explain] if explain else []
    lines += [f"{shape_text(grad.shape)}", *values(grad).split("\n")]
    return f'<FONT COLOR="{GRAD}" POINT-SIZE="{SMALL + 1}">{html(chr(10).join(lines))}</FONT>'


def _outline(node: Node) -> str:
    """A thick red outline on the node where `detect_anomaly` found NaN/Inf (else nothing)."""
    return f', color="{GRAD}", penwidth=3' if node.anomaly else ""


def _layer_box(node: Node) -> str:
    ops = f"{node.count} op" + ("" if node.count == 1 else "s")
    rules = "".join(
        f'<BR/><FONT POINT-SIZE="{LOCAL_SIZE}" COLOR="{GRAD if line[0] == "∂" else "#333333"}">'
        f"{html(line)}</FONT>"
        for line in node.lines
    )
    return (
        f'shape=box, style="rounded", color="{MUTED}", label=<<B>{html(node.label)}</B>'
        f'<BR/><FONT POINT-SIZE="{SMALL}" COLOR="{MUTED}">{ops}</FONT>{rules}>'
    )


class _Nodes(_Writer):
    """micrograd's layout done right: a box per value, a small circle per op, and the local
    derivative on each edge into an op."""

    graph_attrs = "rankdir=LR, nodesep=0.25, ranksep=0.35"

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph)
        self.ops = {n.key for n in graph.nodes if n.kind == "op"}  # drawn as circle + box

    def value_node(self, node: Node) -> None:
        rows = [f"<B>{html(node.title)}</B>"] if node.title else []
        if node.kind == "group":
            ops = f"{node.count} op" + ("" if node.count == 1 else "s")
            rows.append(f'<FONT POINT-SIZE="{SMALL}" COLOR="{MUTED}">{ops}</FONT>')
            rows += [f'<FONT POINT-SIZE="{LOCAL_SIZE}">{html(line)}</FONT>' for line in node.lines]
        if node.tensor is not None:
            rows += _value_rows(node.tensor)
        body = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
        style = ' BGCOLOR="#f4f4f4"' if node.kind == "group" else ""
        if node.anomaly:
            style += f' COLOR="{GRAD}"'  # where detect_anomaly found NaN/Inf
        box = (
            '<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'STYLE="rounded"{style}>'
        )
        target = node.key if node.kind != "op" else f"{node.key}_v"
        self.add(f"{target} [shape=plaintext, margin=0, label=<{box}{body}</TABLE>>];", node.group)
        if node.kind == "op":
            circle = _circle(node.label, small=True)
            self.add(
                f'{node.key} [{circle}, style=filled, fillcolor="#eef3fa"{_outline(node)}];',
                node.group,
            )
            self.edges.append(f"{node.key} -> {node.key}_v;")

    def edge(self, k: int, edge: Edge) -> None:
        tail = f"{edge.tail}_v" if edge.tail in self.ops else edge.tail
        text = [edge.local] if edge.local is not None else []
        if edge.count > 1:
            text.append(f"×{edge.count} arrows")
        label = ""
        if text:
            label = (
                f' [label=<<FONT POINT-SIZE="{LOCAL_SIZE}" COLOR="{LOCAL}">'
                f"{html(chr(10).join(text))}</FONT>>]"
            )
        self.edges.append(f"{tail} -> {edge.head}{label};")

    def output(self, k: int, out: Output) -> None:
        pass  # the root's own box is the output


def _value_rows(t: Tensor) -> list[str]:
    data = np.asarray(t.data)
    rows = [f"data {html(values(data))}"]
    if t.grad is not None:
        rows.append(f'<FONT COLOR="{GRAD}">grad {html(values(t.grad.data))}</FONT>')
    if data.ndim > 0:
        rows.append(f'<FONT POINT-SIZE="{SMALL}" COLOR="{MUTED}">{html(shape_dtype(data))}</FONT>')
    return rows


def _const_label(node: Node, with_shape: bool) -> str:
    """A constant's name (`2`, `t`, `const`); boxes without arrows labels add its shape."""
    assert node.tensor is not None
    if node.tensor.size == 1 or not with_shape:
        return html(node.label)
    return html(f"{node.label}\n{shape_dtype(np.asarray(node.tensor.data))}")


def _circle(symbol: str, small: bool = False) -> str:
    """A circle that fits its symbol (`×`, `exp`, `**2`, `dot`); the book's layers (Softmax,
    Cross Entropy Error) as rounded boxes."""
    label = f"label=<{html(symbol)}>"
    if len(symbol) <= 4:
        width = 0.38 if small else 0.5
        size = 12 if small else (14 if len(symbol) <= 3 else 12)
        return f"shape=circle, width={width}, fixedsize=true, fontsize={size}, {label}"
    return f'shape=box, style="rounded", margin="0.1,0.05", fontsize=12, {label}'


def _caption(title: str | None, notes: Iterable[str], legend: str | None) -> str:
    parts = [f"<B>{html(title)}</B>"] if title else []
    parts += [f'<FONT POINT-SIZE="{SMALL}" COLOR="#b35900">{html(n)}</FONT>' for n in notes]
    if legend:
        parts.append(legend)
    if not parts:
        return ""
    if len(parts) > 1:  # one left-aligned row each: lines split by <BR/> were centred, the
        # 11 pt legend touching the 13 pt title's descenders
        rows = "".join(f'<TR><TD ALIGN="LEFT">{part}</TD></TR>' for part in parts)
        parts = [f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>']
    return f", labelloc=t, labeljust=l, fontsize=13, label=<{parts[0]}>"
